"""Run by tests/ops/test_replica.py in a process of its own, with DATABASE_URL and
DATABASE_REPLICA_URL naming two different databases: the replica is a copy of the primary
taken a moment ago, so rows written since are on the primary only. Prints what each read saw,
as JSON, for the test to judge."""

import json
import re

import django

django.setup()

from django.db import connections, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from exports import services as exports  # noqa: E402
from exports.models import SignatoryExport  # noqa: E402
from exports.selectors import ExportFilters  # noqa: E402
from ops.routers import replica_reads  # noqa: E402
from statements.models import Signature, Statement  # noqa: E402
from tests.accounts.helpers import make_user  # noqa: E402

SIGNATURE_TABLE = "statements_signature"


def signature_queries(captured) -> int:
    return sum(SIGNATURE_TABLE in query["sql"] for query in captured.captured_queries)


def get(client: Client, path: str) -> dict:
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections["replica"]) as replica,
    ):
        response = client.get(path)
        body = b"".join(response) if response.streaming else response.content
    return {
        "status": response.status_code,
        "body": body.decode(),
        "primary": signature_queries(primary),
        "replica": signature_queries(replica),
    }


statement = Statement.objects.get()
seen = {}
visitor = Client(headers={"Accept-Language": "en"})
for name, path in {
    "list": f"/en/s/{statement.slug}/signatories/",
    "csv": f"/en/s/{statement.slug}/signatories.csv",
    "json": f"/en/s/{statement.slug}/signatories.json",
}.items():
    seen[name] = get(visitor, path)

organiser = make_user("organiser@example.org", role="organiser")
staff = Client(headers={"Accept-Language": "en"})
staff.force_login(organiser)
dashboard = get(staff, "/staff/")
dashboard["body"] = ""  # judged by its queries
seen["dashboard"] = dashboard

export = exports.export_request(
    statement=statement,
    requested_by=organiser,
    format="csv",
    filters=ExportFilters(email_language="en"),
)
export.refresh_from_db()
path = exports.export_path(export)
seen["export"] = {
    "state": export.state,
    "file": path.read_text(encoding="utf-8") if path.exists() else "",
    "on_replica": SignatoryExport.objects.using("replica").filter(pk=export.pk).exists(),
}

# A read that must see its own write stays on the primary.
with transaction.atomic(), replica_reads():
    written = Signature.objects.get(full_name="Written after the copy")
    written.city = "Karaganda"
    written.save()
    seen["own_write"] = Signature.objects.filter(pk=written.pk, city="Karaganda").exists()

# The public confirmation link of a row the replica has not seen yet works.
token_row = Signature.objects.get(full_name="Pending after the copy")
from statements import tokens  # noqa: E402

link = f"/en/confirm/{tokens.make_token(token_row, tokens.CONFIRM)}/"
seen["confirm_page"] = visitor.get(link).status_code
seen["confirm_post"] = visitor.post(link).status_code
token_row.refresh_from_db()
seen["confirmed_state"] = token_row.state
seen["replica_state"] = Signature.objects.using("replica").filter(pk=token_row.pk).exists()
seen["names"] = sorted(set(re.findall(r"(?:Before|Written|Pending) [a-z ]+copy", json.dumps(seen))))
print("PROBE " + json.dumps(seen))
