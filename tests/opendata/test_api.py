"""The public read API: its OpenAPI document is valid and the answers match it; CORS on the
read endpoints only."""

import json

import pytest
from django.urls import reverse
from jsonschema.validators import Draft202012Validator
from openapi_spec_validator import validate

from statements.opendata.services import history_refresh
from tests.factories import OrganisationFactory, SignatureFactory


@pytest.fixture
def document(client, db):
    response = client.get(reverse("api:openapi"))
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "public" in response["Cache-Control"]
    return response.json()


def test_openapi_document_is_valid(document, settings):
    validate(document)
    assert document["servers"] == [{"url": settings.SITE_URL}]


def _schema(document: dict, path: str) -> dict:
    """The 200 response's JSON schema, with the document's components to resolve refs."""
    content = document["paths"][path]["get"]["responses"]["200"]["content"]
    return {**content["application/json"]["schema"], "components": document["components"]}


@pytest.mark.parametrize(
    "path",
    [
        "/api/statements/{slug}/counts.json",
        "/{language}/s/{slug}/signatories.json",
        "/api/statements/{slug}/history.json",
    ],
)
def test_answers_match_the_document(client, statement, document, path):
    SignatureFactory(statement=statement)
    OrganisationFactory(statement=statement)
    history_refresh(statement_id=statement.pk)
    response = client.get(_address(path, statement))
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    body = b"".join(response) if response.streaming else response.content
    Draft202012Validator(_schema(document, path)).validate(json.loads(body))


def _address(path: str, statement) -> str:
    return path.replace("{slug}", statement.slug).replace("{language}", "en")


def test_every_documented_path_answers(client, statement, document):
    """Every read endpoint answers any origin, and tells a CDN it may keep and revalidate
    one copy for everyone."""
    for path in document["paths"]:
        response = client.get(_address(path, statement))
        assert response.status_code == 200, path
        assert response["Access-Control-Allow-Origin"] == "*", path
        control = {part.strip().split("=")[0] for part in response["Cache-Control"].split(",")}
        assert {"public", "max-age", "s-maxage", "stale-while-revalidate"} <= control, path
        assert "private" not in control and "no-store" not in control, path
        assert response.has_header("ETag"), path
        assert not response.cookies, path
        assert "Cookie" not in response.get("Vary", ""), path


def test_pages_and_forms_allow_no_other_origin(client, statement):
    for path in ("/", reverse("statements:signatories", kwargs={"slug": statement.slug})):
        assert "Access-Control-Allow-Origin" not in client.get(path)
    response = client.post(reverse("statements:sign", kwargs={"slug": statement.slug}), {})
    assert "Access-Control-Allow-Origin" not in response
