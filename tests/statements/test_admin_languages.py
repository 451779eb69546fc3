"""An organiser adds German in the admin, as they would in a browser: the statement's text on
the statement's page, then each demand's text on the demand's page. With no code change,
German is then offered in the language links, the hreflang alternates and the sitemap, the
page reads in German, and our interface strings fall back to English."""

import html
import re
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse

from accounts.roles import sync_roles
from statements import selectors
from statements.models import Demand, DemandTranslation, StatementTranslation
from tests.accounts.helpers import make_user

GERMAN_DEMANDS = [
    "Sofortige Freilassung aller politischen Gefangenen.",
    "Schluss mit der Repression.",
    "Abzug der ausländischen Truppen.",
    "Volle gewerkschaftliche Freiheiten.",
    "Lohnerhöhungen und Preisstopp.",
]


class _FormFields(HTMLParser):
    """The name=value pairs a browser would send for the form with this id: text fields and
    hidden ones, ticked boxes, selected options, textareas (the admin's templates for new
    inline rows, named `__prefix__`, are left out, as the admin's script leaves them)."""

    def __init__(self, form_id: str):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.fields: dict[str, str] = {}
        self._select: str | None = None
        self._first_option: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("id") == self.form_id:
            self.inside = True
        if not self.inside or "__prefix__" in (a.get("name") or ""):
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in {"checkbox", "radio"}:
                if "checked" in a:
                    self.fields[name] = a.get("value", "on")
            elif kind not in {"submit", "button", "file", "image", "reset"}:
                self.fields[name] = a.get("value") or ""
        elif tag == "select" and name:
            self._select, self._first_option = name, None
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if self._first_option is None:
                self._first_option = value
                self.fields.setdefault(self._select, value)
            if "selected" in a:
                self.fields[self._select] = value
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields[name] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] += data


def _change_form(client: Client, url: str, form_id: str) -> dict[str, str]:
    page = client.get(url)
    assert page.status_code == 200
    parser = _FormFields(form_id)
    parser.feed(page.content.decode())
    assert parser.fields, f"no form #{form_id} on {url}"
    # A textarea's first newline belongs to the markup, not to the text.
    return {k: v.removeprefix("\n") if k.endswith("body") else v for k, v in parser.fields.items()}


def _save(client: Client, url: str, fields: dict[str, str]) -> None:
    response = client.post(url, {**fields, "_save": "Save"})
    errors = re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', response.content.decode())
    assert response.status_code == 302, errors


@pytest.fixture
def organiser_admin(db, settings):
    sync_roles()
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    organiser = make_user("organiser-admin@example.net", role="organiser")
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(organiser)
    return client


def _add_german(client: Client, statement) -> None:
    url = reverse("admin:statements_statement_change", args=[statement.pk])
    fields = _change_form(client, url, "statement_form")
    row = int(fields["translations-TOTAL_FORMS"])  # the admin's "Add another statement text"
    fields["translations-TOTAL_FORMS"] = str(row + 1)
    fields.update(
        {
            f"translations-{row}-statement": str(statement.pk),
            f"translations-{row}-id": "",
            f"translations-{row}-language": "de",
            f"translations-{row}-translation_note": ("Übersetzung des spanischen Originals."),
            f"translations-{row}-title": "Schluss mit der Repression gegen das Volk Kasachstans",
            f"translations-{row}-body": "Erster Absatz.\r\n\r\nZweiter Absatz.",
            f"translations-{row}-slogans": "",
            f"translations-{row}-demands_intro": "Wir fordern:",
            f"translations-{row}-signed_by": "Internationale Sozialistische Liga",
            f"translations-{row}-date_line": "7. Januar 2022",
        }
    )
    _save(client, url, fields)
    for demand, text in zip(
        Demand.objects.filter(statement=statement).order_by("position"),
        GERMAN_DEMANDS,
        strict=True,
    ):
        url = reverse("admin:statements_demand_change", args=[demand.pk])
        fields = _change_form(client, url, "demand_form")
        row = int(fields["translations-INITIAL_FORMS"])  # the empty row the page offers
        assert int(fields["translations-TOTAL_FORMS"]) == row + 1
        fields[f"translations-{row}-language"] = "de"
        fields[f"translations-{row}-text"] = text
        _save(client, url, fields)


def _offered(body: str) -> list[str]:
    switcher = re.search(r'<ul class="language-switcher"[^>]*>(.*?)</ul>', body, re.S).group(1)
    return re.findall(r'hreflang="([\w-]+)"', switcher)


def test_german_added_in_the_admin_is_offered_everywhere(
    organiser_admin, statement, client, settings
):
    settings.SITE_URL = "https://petition.example.org"
    before = client.get("/en/").content.decode()
    assert _offered(before) == ["es", "en", "ru", "kk"]
    assert client.get("/de/").status_code == 404

    _add_german(organiser_admin, statement)
    assert StatementTranslation.objects.filter(statement=statement, language="de").exists()
    assert DemandTranslation.objects.filter(language="de").count() == 5
    selectors.forget()  # what each process does once PAGE_CACHE_SECONDS have passed

    # The language links of every page, and its hreflang alternates.
    english = client.get("/en/").content.decode()
    assert _offered(english) == ["es", "en", "ru", "kk", "de"]
    assert 'href="/de/s/kazakhstan-2022/" hreflang="de" lang="de"' in english
    assert (
        '<link rel="alternate" hreflang="de" '
        'href="https://petition.example.org/de/s/kazakhstan-2022/">' in english
    )
    # The sitemap.
    sitemap = client.get("/sitemap.xml").content.decode()
    for path in ("/de/s/kazakhstan-2022/", "/de/s/kazakhstan-2022/signatories/", "/de/privacy/"):
        assert f"<loc>https://petition.example.org{path}</loc>" in sitemap, path

    # The German page: the organiser's texts, and English wherever our catalogues have no
    # German (Django's own German messages are Django's).
    german = html.unescape(client.get("/de/").content.decode())
    assert '<html lang="de"' in german
    assert "Schluss mit der Repression gegen das Volk Kasachstans" in german
    assert "Übersetzung des spanischen Originals." in german
    demands = re.search(r'<section class="demands".*?<ol>(.*?)</ol>', german, re.S).group(1)
    assert re.findall(r"<li>(.*?)</li>", demands) == GERMAN_DEMANDS
    assert "Sign the statement" in german and "Firmar la declaración" not in german
    assert _offered(german) == ["es", "en", "ru", "kk", "de"]
    # A German browser now gets German at the root.
    root = client.get("/", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9", follow=True)
    assert root.redirect_chain[-1][0] == "/de/"


def test_demands_added_after_the_text_reach_a_page_already_seen(organiser_admin, statement, client):
    """The organiser saves the German text, someone opens the German page, and only then
    are the demands translated: the page shows them once the processes' reads expire, not
    an hour later."""
    url = reverse("admin:statements_statement_change", args=[statement.pk])
    fields = _change_form(organiser_admin, url, "statement_form")
    row = int(fields["translations-TOTAL_FORMS"])
    fields["translations-TOTAL_FORMS"] = str(row + 1)
    fields.update(
        {
            f"translations-{row}-statement": str(statement.pk),
            f"translations-{row}-language": "de",
            f"translations-{row}-title": "Deutscher Titel",
            f"translations-{row}-body": "Ein Absatz.",
            f"translations-{row}-demands_intro": "Wir fordern:",
        }
    )
    _save(organiser_admin, url, fields)
    selectors.forget()
    first = html.unescape(client.get("/de/").content.decode())
    assert "Deutscher Titel" in first
    # Until they are translated, the demands read in the original rather than not at all.
    original = list(
        DemandTranslation.objects.filter(demand__statement=statement, language="es")
        .order_by("demand__position")
        .values_list("text", flat=True)
    )
    listed = re.search(r'<section class="demands".*?<ol>(.*?)</ol>', first, re.S).group(1)
    assert re.findall(r'<li lang="es">(.*?)</li>', listed) == original

    demand = Demand.objects.filter(statement=statement).order_by("position").first()
    url = reverse("admin:statements_demand_change", args=[demand.pk])
    fields = _change_form(organiser_admin, url, "demand_form")
    row = int(fields["translations-INITIAL_FORMS"])
    fields[f"translations-{row}-language"] = "de"
    fields[f"translations-{row}-text"] = GERMAN_DEMANDS[0]
    _save(organiser_admin, url, fields)
    selectors.forget()
    later = html.unescape(client.get("/de/").content.decode())
    listed = re.search(r'<section class="demands".*?<ol>(.*?)</ol>', later, re.S).group(1)
    assert re.findall(r"<li>(.*?)</li>", listed) == [GERMAN_DEMANDS[0]]
    assert re.findall(r'<li lang="es">(.*?)</li>', listed) == original[1:]
