"""Error reports leave without personal data: checked on what the SDK would send, caught by a
transport of the test's own (no network)."""

import json
import os
import subprocess
import sys
from unittest import mock

import pytest
import sentry_sdk
from django.test import Client
from sentry_sdk.transport import Transport

from ops import sentry
from tests.conftest import ROOT
from tests.statements.test_signing import INDIVIDUAL, SIGN_URL

DSN = "https://public@sentry.invalid/1"


class Captured(Transport):
    def __init__(self, options=None):
        super().__init__(options)
        self.envelopes = []

    def capture_envelope(self, envelope):
        self.envelopes.append(envelope)

    def events(self) -> list[dict]:
        return [
            json.loads(item.get_bytes())
            for envelope in self.envelopes
            for item in envelope.items
            if item.type == "event"
        ]


@pytest.fixture
def reports():
    transport = Captured()
    sentry.init(DSN, environment="test", transport=transport)
    yield transport
    sentry_sdk.get_client().close()
    sentry_sdk.init()  # no DSN: reporting off again


def test_a_server_error_is_reported_without_personal_data(statement, reports):
    token_path = "/confirm/" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4:x_y-z/"
    visitor = Client(raise_request_exception=False, headers={"Cookie": "sessionid=secret"})
    failure = RuntimeError(f"could not store {INDIVIDUAL['individual-email']}")
    with mock.patch("statements.services.signature_create", side_effect=failure):
        response = visitor.post(SIGN_URL + "?next=" + token_path, INDIVIDUAL)
    assert response.status_code == 500
    sentry_sdk.flush()
    (event,) = reports.events()
    # The report is useful: what failed, where.
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    # The route when Sentry's resolver matched the language prefix (it resolves with the
    # language active when the request starts), else the path: both name the sign form.
    assert event["transaction"] in {"/en/s/{slug}/sign/", SIGN_URL}
    sent = json.dumps(event, ensure_ascii=False)
    for private in (
        INDIVIDUAL["individual-email"],
        INDIVIDUAL["individual-full_name"],
        INDIVIDUAL["individual-city"],
        "sessionid",
        "A1b2C3d4E5f6G7h8I9j0K1l2M3n4",
    ):
        assert private not in sent, private
    assert "data" not in event["request"] and "cookies" not in event["request"]
    assert "[email]" in event["exception"]["values"][-1]["value"]
    assert "user" not in event or not event["user"].get("ip_address")


def test_scrub_removes_tokens_and_emails_from_any_text():
    event = {
        "message": "mail to ana.p+x@example.org failed",
        "request": {"url": "https://site.example/withdraw/AbCdEfGhIjKlMnOpQrStUv:wx/", "data": "x"},
        "breadcrumbs": {"values": [{"message": "GET /staff/join/ZZZZZZZZZZZZZZZZZZZZZZZZ/"}]},
    }
    clean = sentry.scrub(event)
    assert clean["message"] == "mail to [email] failed"
    assert clean["request"] == {"url": "https://site.example/withdraw/[token]/"}
    assert clean["breadcrumbs"]["values"][0]["message"] == "GET /staff/join/[token]/"


def test_settings_turn_reporting_on_with_a_dsn():
    code = (
        "import django, sentry_sdk; django.setup(); c = sentry_sdk.get_client(); "
        "print(c.is_active(), c.options['send_default_pii'], c.options['max_request_body_size'])"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "petition.settings", "SENTRY_DSN": DSN}
    found = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert found.stdout.split() == ["True", "False", "never"], found.stderr
    env.pop("SENTRY_DSN")
    off = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert off.stdout.split()[0] == "False", off.stderr
