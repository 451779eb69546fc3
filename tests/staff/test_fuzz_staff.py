"""Odd query and form values on every staff URL, as each staff role: never a server error.

The URLs come from the URLconf (a new staff page is fuzzed without anyone listing it), with
the ids of real rows so that the views run past their lookups, and with an unknown id too.
"""

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.urls.converters import UUIDConverter
from django.utils import timezone

from accounts.models import StaffInvitation
from exports.models import SignatoryExport
from statements.models import InvalidationRun
from statements.staff.selectors import InvalidationConditions
from statements.staff.services.invalidation import invalidation_prepare
from tests.staff.test_access import PUBLIC_URLS, _walk

# Every parameter name the staff area reads, and a few it does not.
PARAMETERS = (
    "action",
    "page",
    "single",
    "statement",
    "state",
    "kind",
    "country",
    "q",
    "created_from",
    "created_to",
    "ip_hash",
    "select",
    "email_domain",
    "reason",
    "selected",
    "signing_open",
    "role",
    "email",
    "next",
    "format",
    "kinds",
    "states",
    "bom",
    "language",
    "file",
    "unexpected",
)
ODD_VALUES = (
    "\x00",
    "²",
    "٣",
    "-1",
    "0",
    "9" * 40,
    "1e309",
    "NaN",
    "' OR '1'='1",
    "<script>x</script>",
    "é" * 300,
    "../../etc/passwd",
    "\u202e",
    "",
)
# What a staff URL may answer: never a 5xx.
EXPECTED = {200, 302, 400, 403, 404, 405, 410}


@pytest.fixture
def rows(statement, pending_org, organiser):
    run = invalidation_prepare(conditions=InvalidationConditions(country="KZ"), actor=organiser)
    invitation = StaffInvitation.objects.create(
        email="fuzz@example.net",
        role="moderator",
        token_hash="0" * 64,
        invited_by=organiser,
        expires_at=timezone.now() + timedelta(days=1),
    )
    export = SignatoryExport.objects.create(
        statement=statement,
        requested_by=organiser,
        format="csv",
        expires_at=timezone.now() + timedelta(days=1),
    )
    return {
        "signature": pending_org.pk,
        "statement": statement.pk,
        "invitation": invitation.pk,
        "invalidation": run.pk,
        "export": export.pk,
    }


def _paths(rows) -> list[tuple[str, str]]:
    from django.urls import get_resolver

    _prefix, resolver = get_resolver().namespace_dict["staff"]
    paths = []
    for name, pattern in _walk(resolver.url_patterns, "staff"):
        if name in PUBLIC_URLS:
            continue
        converters = getattr(pattern.pattern, "converters", {})
        if not converters:
            paths.append((name, reverse(name)))
            continue
        ((key, converter),) = converters.items()
        if isinstance(converter, UUIDConverter):
            values = {rows["export"], uuid.uuid4()}
        else:
            real = next((pk for part, pk in rows.items() if part in name), 999999)
            values = {real, 999999}
        for value in values:
            paths.append((name, reverse(name, kwargs={key: value})))
    return paths


@pytest.mark.parametrize("role", ["moderator", "organiser"])
def test_odd_values_on_every_staff_url_never_answer_a_server_error(
    client, role, moderator, organiser, rows
):
    client.force_login(moderator if role == "moderator" else organiser)
    client.raise_request_exception = False
    wrong = []
    for name, path in _paths(rows):
        for value in ODD_VALUES:
            data = {parameter: value for parameter in PARAMETERS}
            for method in ("get", "post"):
                response = getattr(client, method)(path, data)
                if response.status_code >= 500 or response.status_code not in EXPECTED:
                    wrong.append((name, method.upper(), repr(value), response.status_code))
    assert wrong == []


def test_the_audit_filter_and_the_queue_button_refuse_odd_values_with_a_4xx_or_a_message(
    client, organiser, pending_org
):
    client.force_login(organiser)
    assert client.get(reverse("staff:audit"), {"action": "\x00"}).status_code == 400
    response = client.post(reverse("staff:queue_decide"), {"single": "²"}, follow=True)
    assert response.status_code == 200
    assert "Invalid selection." in response.content.decode()
    pending_org.refresh_from_db()
    assert pending_org.state == "awaiting_moderation"
    assert not InvalidationRun.objects.exists()
