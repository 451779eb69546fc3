"""Random input against every public form and endpoint: never a server error, and a refused
input leaves the database as it was."""

from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from statements.models import Signature
from tests.statements.test_signing import INDIVIDUAL, ORGANISATION, SIGN_URL

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

text = st.text(max_size=300) | st.sampled_from(["", " ", "\x00", "=cmd|' /C calc'!A0", "on"])


@pytest.fixture
def open_limits(settings):
    settings.SIGN_RATE_IP_BURST = settings.SIGN_RATE_IP_SUSTAINED = "100000/m"
    settings.SIGN_RATE_EMAIL = "100000/m"
    settings.SIGNATORIES_SEARCH_RATE = "100000/m"


def _check(client, data):
    before = Signature.objects.count()
    response = client.post(SIGN_URL, data)
    assert response.status_code in {302, 400}, response.status_code
    if response.status_code != 302:
        assert Signature.objects.count() == before


@FUZZ
@given(data=st.fixed_dictionaries({}, optional={key: text for key in INDIVIDUAL}))
def test_individual_form_never_fails(client, statement, open_limits, data):
    _check(client, data)


@FUZZ
@given(data=st.fixed_dictionaries({}, optional={key: text for key in ORGANISATION}))
def test_organisation_form_never_fails(client, statement, open_limits, data):
    _check(client, {"kind": "organisation", **data})


@FUZZ
@given(field=st.sampled_from(sorted(INDIVIDUAL)), value=text)
def test_one_bad_field_in_an_otherwise_valid_form(client, statement, open_limits, field, value):
    data = {**INDIVIDUAL, field: value, "individual-email": "fuzz@example.org"}
    _check(client, data)


@FUZZ
@given(
    body=st.binary(max_size=2000),
    content_type=st.sampled_from(
        ["application/x-www-form-urlencoded", "multipart/form-data; boundary=xx", "text/plain"]
    ),
)
def test_raw_bodies_never_fail(client, statement, open_limits, body, content_type):
    before = Signature.objects.count()
    response = client.generic("POST", SIGN_URL, body, content_type=content_type)
    if content_type == "text/plain" and body:
        assert response.status_code == 415  # not a form: refused before it is read
    else:
        assert response.status_code in {302, 400}
    assert Signature.objects.count() == before


@FUZZ
@given(token=st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=120))
def test_link_tokens_never_fail(client, statement, token):
    token = quote(token, safe="") or "x"
    for action in ("confirm", "withdraw"):
        for method in (client.get, client.post):
            response = method(f"/en/{action}/{token}/")
            assert response.status_code in {404, 410}


@FUZZ
@given(params=st.dictionaries(st.sampled_from(["q", "page", "org_page", "as"]), text))
def test_query_strings_never_fail(client, statement, open_limits, params):
    for path in (
        "/en/",
        "/en/s/kazakhstan-2022/signatories/",
        "/api/statements/kazakhstan-2022/counts.json",
    ):
        assert client.get(path, params).status_code == 200


@FUZZ
@given(language=text, next_url=text)
def test_language_switch_never_fails(client, statement, language, next_url):
    response = client.post("/i18n/setlang/", {"language": language, "next": next_url})
    assert response.status_code in {200, 302, 400}
