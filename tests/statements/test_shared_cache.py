"""Identical bytes for every anonymous visitor: every public GET, walked from the URL
configuration itself (a public page added later is walked too), carries no cookie and no
`Vary: Cookie`; the shared pages say `public` with the lifetimes that keep counts ~10 s
fresh, answer 304 to a revalidation and HEAD like GET; error answers are never cached."""

import re

import pytest
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import URLPattern, get_resolver, resolve, reverse
from django.utils import translation

from statements import tokens
from statements.caching import SharedCacheMiddleware, shared
from statements.urls import api_urlpatterns
from statements.urls import urlpatterns as public_urlpatterns
from tests.factories import OrganisationFactory, SignatureFactory
from tests.statements.test_signing import INDIVIDUAL, SIGN_URL

LANGUAGES = ("es", "en", "ru", "kk")
# The pages whose answers are personal to a link (confirm, withdraw, the stop of updates) or
# that only redirect (the sign addresses, asked for with GET).
NOT_SHARED = {
    "statements:confirm",
    "statements:withdraw",
    "statements:unsubscribe",
    "statements:sign",
    "statements:embed_sign",
}
TOP_LEVEL = {"robots_txt", "sitemap"}


def _public_addresses(statement) -> list[tuple[str, str]]:
    """(view name, address) for every GET the URL configuration offers the public: every
    page under every language, the API, robots.txt and the sitemap."""
    signature = SignatureFactory(statement=statement, state="pending")
    samples = {"slug": statement.slug}
    found = []
    for namespace, patterns, languages in (
        ("statements", public_urlpatterns, LANGUAGES),
        ("api", api_urlpatterns, (None,)),
    ):
        for pattern in patterns:
            assert isinstance(pattern, URLPattern)
            name = f"{namespace}:{pattern.name}"
            kwargs = {key: samples.get(key) for key in pattern.pattern.converters}
            if "token" in kwargs:
                kwargs["token"] = tokens.make_token(signature, pattern.name)
            for language in languages:
                with translation.override(language):
                    found.append((name, reverse(name, kwargs=kwargs)))
    top = {p.name for p in get_resolver().url_patterns if isinstance(p, URLPattern)}
    assert top >= TOP_LEVEL
    found += [(name, reverse(name)) for name in sorted(TOP_LEVEL)]
    return found


@pytest.fixture
def listed(statement):
    SignatureFactory.create_batch(3, statement=statement)
    OrganisationFactory(statement=statement, organisation_name="Visible Union")


def _body(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def test_every_public_get_is_the_same_for_every_visitor(statement, listed, django_user_model):
    addresses = _public_addresses(statement)
    assert len(addresses) > 30
    newcomer = Client()
    regular = Client(
        headers={"Accept-Language": "ru-RU,ru;q=0.9"},
        HTTP_COOKIE=f"django_language=en; csrftoken={'a' * 32}; _ga=GA1.2.3",
    )
    staff = Client()
    staff.force_login(django_user_model.objects.create_user("mod@example.org", "x"))
    for name, address in addresses:
        first, second, third = newcomer.get(address), regular.get(address), staff.get(address)
        for response in (first, second, third):
            assert response.status_code in {200, 302}, (address, response.status_code)
            assert not response.cookies, (address, response.cookies)
            assert "Set-Cookie" not in response, address
            assert "cookie" not in response.get("Vary", "").lower(), address
        body = _body(first)
        assert b"csrfmiddlewaretoken" not in body, address
        assert body == _body(second) == _body(third), address
        if name in NOT_SHARED:
            assert "public" not in first.get("Cache-Control", ""), address
            continue
        assert first.status_code == 200, address
        control = {part.strip() for part in first["Cache-Control"].split(",")}
        if not getattr(resolve(address).func, "shared_cache", None):
            # The open-data files keep their own, longer lifetimes (statements/opendata/).
            assert "public" in control and any(c.startswith("s-maxage=") for c in control)
            continue
        assert control == {
            "public",
            "max-age=5",
            "s-maxage=5",
            "stale-while-revalidate=3",
            "stale-if-error=86400",
        }, address
        assert first["ETag"] == second["ETag"], address
        assert first["Last-Modified"], address
        assert "Accept-Language" not in first.get("Vary", ""), address


@pytest.mark.parametrize(
    "address",
    [
        "/en/",
        "/ru/s/kazakhstan-2022/signatories/",
        "/api/statements/kazakhstan-2022/counts.json",
        "/es/s/kazakhstan-2022/signatories.json",
        "/sitemap.xml",
    ],
)
def test_revalidation_answers_304_and_head_answers_like_get(client, statement, listed, address):
    full = client.get(address)
    assert full.status_code == 200
    by_etag = client.get(address, HTTP_IF_NONE_MATCH=full["ETag"])
    assert by_etag.status_code == 304 and _body(by_etag) == b""
    assert by_etag["Cache-Control"] == full["Cache-Control"]
    by_date = client.get(address, HTTP_IF_MODIFIED_SINCE=full["Last-Modified"])
    assert by_date.status_code == 304
    assert client.get(address, HTTP_IF_NONE_MATCH='"something-else"').status_code == 200
    head = client.head(address)
    assert head.status_code == 200 and _body(head) == b""
    assert head["ETag"] == full["ETag"] and head["Cache-Control"] == full["Cache-Control"]


def test_last_modified_is_when_the_bytes_were_first_served(client, statement, listed):
    first = client.get("/en/")
    assert client.get("/en/")["Last-Modified"] == first["Last-Modified"]
    SignatureFactory(statement=statement)
    from statements import counters

    counters.refresh(statement.pk)
    changed = client.get("/en/")
    assert changed["ETag"] != first["ETag"]
    assert changed.has_header("Last-Modified")


def test_a_form_with_errors_is_never_cached(client, statement):
    response = client.post(SIGN_URL, {**INDIVIDUAL, "individual-email": "nope"})
    assert response.status_code == 400
    assert "no-store" in response["Cache-Control"] and "public" not in response["Cache-Control"]
    assert "csrfmiddlewaretoken" not in response.content.decode()
    assert not response.cookies


def test_a_429_is_never_cached(client, statement, settings):
    settings.SIGN_RATE_IP_BURST = "1/m"
    client.post(SIGN_URL, INDIVIDUAL)
    refused = client.post(SIGN_URL, {**INDIVIDUAL, "individual-email": "other@example.org"})
    assert refused.status_code == 429
    assert "no-store" in refused["Cache-Control"]
    settings.SIGNATORIES_SEARCH_RATE = "1/m"
    listing = "/en/s/kazakhstan-2022/signatories/"
    assert client.get(listing, {"q": "first"}).status_code == 200
    searched = client.get(listing, {"q": "second"})
    assert searched.status_code == 429
    assert "Too many searches" in searched.content.decode()
    assert "no-store" in searched["Cache-Control"]


def test_a_stale_session_cookie_makes_the_answer_private(statement):
    """Django drops a session cookie it no longer knows, on whatever page: that answer is
    personal, so it is not shared (a cache in front serves its shared copy all the same)."""
    response = Client(HTTP_COOKIE="sessionid=expired").get("/en/")
    assert response.cookies["sessionid"].value == ""
    assert "no-store" in response["Cache-Control"] and "public" not in response["Cache-Control"]


def test_not_found_under_a_shared_page_is_never_cached(client, statement):
    response = client.get("/en/s/no-such-statement/")
    assert response.status_code == 404
    assert "no-store" in response["Cache-Control"]


def test_a_shared_page_that_sets_a_cookie_is_made_private(caplog):
    """Whatever middleware or view makes a shared page personal, it is not shared."""

    @shared
    def view(request):
        return HttpResponse("page")

    def respond(request):
        response = view(request)
        response.set_cookie("csrftoken", "per-visitor")
        return response

    middleware = SharedCacheMiddleware(respond)
    request = RequestFactory().get("/en/")
    request.resolver_match = None
    middleware.process_view(request, view, (), {})
    response = middleware(request)
    assert "public" not in response["Cache-Control"]
    assert "no-store" in response["Cache-Control"]
    assert "answered with a cookie or Vary: Cookie" in caplog.text


def test_the_statement_page_carries_no_token_and_needs_no_cookie(client, statement):
    body = client.get("/en/").content.decode()
    form = re.search(r'<form method="post" action="([^"]+)"', body)
    # A submit with a problem lands on it (statements/_sign_problem.html).
    assert form.group(1) == "/en/s/kazakhstan-2022/sign/#sign-problem"
    assert "csrfmiddlewaretoken" not in body
