"""Signing on a phone (390 × 844, Debian's chromium), as a person does it: the count and the
way to the form are on the first screen while the statement stays whole; a submit with
mistakes lands on the form with the summary focused and everything kept, with JavaScript and
without; the comment's limit is said and counted before it bites; the thanks page names the
address and sends the email again; a confirmation link opened twice says so; and the statement
page stops asking the browser that confirmed. Every page is free of console errors and CSP
violations, and axe-core finds nothing serious on it."""

import json
import re

import pytest
from playwright.sync_api import expect

from statements import selectors
from statements.content import load_all
from statements.models import Signature, Statement
from tests.e2e.test_journey import AXE, Watcher, _link
from tests.factories import OrganisationFactory, SignatureFactory

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
LOCALES = {"en": "en-GB", "ru": "ru-RU"}


@pytest.fixture
def smtp_mail(smtp_sink, settings):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": smtp_sink.port, "timeout": 5},
        }
    }
    return smtp_sink


@pytest.fixture
def phone(browser, live_server, settings):
    """A phone's browser, with or without JavaScript."""
    if not AXE.exists():
        pytest.skip("axe-core is not installed: run `make install` with npm available")
    settings.SITE_URL = live_server.url
    load_all()
    contexts = []

    def open_phone(language: str = "en", *, javascript: bool = True):
        context = browser.new_context(
            base_url=live_server.url,
            locale=LOCALES[language],
            viewport=PHONE,
            is_mobile=True,
            has_touch=True,
            java_script_enabled=javascript,
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(20000)
        return page, Watcher(page)

    yield open_phone
    for context in contexts:
        context.close()


def _on_first_screen(locator) -> None:
    expect(locator).to_be_visible()
    box = locator.bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], box


def _clean(*watchers: Watcher) -> None:
    problems = [p for w in watchers for p in w.errors]
    # The answer to a form with mistakes is a 400, which chromium reports on the console.
    problems = [p for p in problems if "status of 400" not in p]
    assert problems == [], json.dumps(problems, indent=1)
    violations = [v for w in watchers for v in w.violations]
    assert violations == [], json.dumps(violations, indent=1)


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_first_screen_invites_signing_and_the_statement_stays_whole(phone, language):
    statement = Statement.objects.get(slug="kazakhstan-2022")
    SignatureFactory.create_batch(3, statement=statement)
    OrganisationFactory(statement=statement)
    page, watcher = phone(language)
    watcher.visit(f"/{language}/")

    cta = page.locator(".sign-cta")
    _on_first_screen(cta.locator('[data-count="total"]'))
    assert cta.locator('[data-count="total"]').inner_text() == "4"
    link = cta.get_by_role("link")
    _on_first_screen(link)

    # Every paragraph and demand of the statement is on the page, none folded away.
    st = selectors.statement_text_cached(statement, language)
    article = page.locator("article.statement")
    text = " ".join(article.inner_text().split())
    for part in [*st.text.paragraphs, *st.demands]:
        assert " ".join(str(part).split()) in text, str(part)[:40]
    assert article.locator("details").count() == 0
    shown = article.locator(":scope > p, .demands li").evaluate_all(
        "nodes => nodes.map(n => n.checkVisibility())"
    )
    assert len(shown) >= len(st.text.paragraphs) + len(st.demands) and all(shown)

    # The call to action jumps to the form.
    link.tap()
    expect(page).to_have_url(re.compile(r"#sign$"))
    _on_first_screen(page.locator("#sign-title"))
    watcher.audit()
    _clean(watcher)


def test_a_phone_signer_corrects_mistakes_confirms_and_is_not_asked_again(
    phone, smtp_mail, live_server
):
    page, watcher = phone()
    watcher.visit("/en/")
    page.locator(".sign-cta").get_by_role("link").tap()

    # The comment's limit is said before typing, and counted while typing; nothing is cut.
    comment = page.get_by_label("Comment")
    expect(page.locator("#id_individual-comment_helptext")).to_contain_text("Up to 500 characters.")
    counter = page.locator("#id_individual-comment_counter")
    expect(counter).to_have_text("Characters left: 500")
    typed = {
        "Full name": "Ainur Bekova",
        "Email": "ainur@",  # a mistake
        "City": "Aktau",
        "Affiliation or occupation": "Oil workers' union",
    }
    for label, value in typed.items():
        page.get_by_label(label, exact=False).first.fill(value)
    page.get_by_label("Country").select_option("KZ")
    long_comment = "Solidarity with the oil workers of Zhanaozen and Aktau! " * 11  # 616
    comment.fill(long_comment)
    expect(counter).to_have_text("Characters over the limit: 116")
    assert len(comment.input_value()) == len(long_comment)
    page.get_by_label("Show my name on the public list").check()
    page.get_by_label("I have read the privacy notice").check()
    page.get_by_role("button", name="Sign", exact=True).tap()

    # Back at the form: the summary has the focus, on the screen, and nothing typed is lost.
    expect(page).to_have_url(re.compile(r"/sign/#sign-problem$"))
    summary = page.locator("#sign-problem")
    expect(summary).to_be_focused()
    _on_first_screen(summary.locator("h3"))
    expect(summary).to_contain_text("Email: Enter a valid email address.")
    expect(summary).to_contain_text("Comment: Ensure this value has at most 500 characters")
    watcher.audit()
    for label, value in typed.items():
        assert page.get_by_label(label, exact=False).first.input_value() == value
    assert page.get_by_label("Country").input_value() == "KZ"
    assert comment.input_value() == long_comment
    expect(page.get_by_label("Show my name on the public list")).to_be_checked()
    expect(page.get_by_label("I have read the privacy notice")).to_be_checked()

    # A summary link takes the focus to its field.
    summary.get_by_role("link", name=re.compile("^Email")).tap()
    expect(page.get_by_label("Email").first).to_be_focused()
    page.get_by_label("Email").first.fill("ainur@example.org")
    comment.fill(long_comment[:480])
    expect(counter).to_have_text("Characters left: 20")
    page.get_by_role("button", name="Sign", exact=True).tap()

    # The thanks page names the address, says what to do, and sends the email again.
    page.wait_for_url(re.compile(r"/thanks/\?t="))
    expect(page.locator(".sent-to")).to_have_text("ainur@example.org")
    expect(page.get_by_role("heading", name="If the email does not arrive")).to_be_visible()
    watcher.audit()
    smtp_mail.wait_for(1)
    page.get_by_role("button", name="Send the email again").tap()
    expect(page.locator(".sent-again")).to_have_text(
        "We are sending the email again to ainur@example.org."
    )
    watcher.audit()
    smtp_mail.wait_for(2)
    assert [m["To"] for m in smtp_mail.messages] == ["ainur@example.org"] * 2

    # Confirming; the same link opened again says it was used.
    confirm = _link(smtp_mail, "ainur@example.org", "confirm")
    watcher.visit(confirm)
    page.get_by_role("button", name="Confirm my signature").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
    assert Signature.objects.get().state == Signature.State.CONFIRMED
    watcher.visit(confirm)
    expect(page.get_by_role("heading", level=1)).to_have_text("Already confirmed")
    expect(page.locator(".already")).to_contain_text("This link was used before")

    # The statement page no longer asks this browser to sign; the form is one tap away.
    watcher.visit("/en/")
    cta = page.locator(".sign-cta")
    expect(cta.get_by_role("link", name="Sign the statement")).to_be_hidden()
    _on_first_screen(cta.get_by_text("You have signed it. Thank you!"))
    expect(page.locator("form[action*='/sign/']")).to_be_hidden()
    expect(page.get_by_role("heading", name="You have signed")).to_be_visible()
    expect(page.get_by_role("heading", name="Share the statement")).to_be_visible()
    page.get_by_role("button", name=re.compile("^Sign again")).tap()
    expect(page.locator("form[action*='/sign/']")).to_be_visible()
    expect(page.get_by_label("Full name")).to_be_focused()
    watcher.audit()
    # A link to the organisation form still opens it: this browser signed as a person.
    watcher.visit("/en/?as=organisation")
    expect(page.get_by_label("Organisation name")).to_be_visible()
    _clean(watcher)


def test_without_javascript_a_submit_with_mistakes_still_lands_on_the_summary(phone):
    # (axe-core is a script itself: the pages are audited with JavaScript, above.)
    page, watcher = phone(javascript=False)
    page.goto("/en/")
    # The limit is said; the counter, which needs the script, stays out of the way.
    expect(page.locator("#id_individual-comment_helptext")).to_contain_text("Up to 500 characters.")
    expect(page.locator("#id_individual-comment_counter")).to_be_hidden()
    page.get_by_label("Full name").fill("Ainur Bekova")
    page.get_by_label("Email").first.fill("ainur@example.org")
    page.get_by_label("Comment").fill("Solidarity!")
    page.get_by_role("button", name="Sign", exact=True).click()

    # The form's address brings the browser to the summary, which can take the focus.
    expect(page).to_have_url(re.compile(r"#sign-problem$"))
    summary = page.locator("#sign-problem")
    _on_first_screen(summary.locator("h3"))
    assert summary.get_attribute("tabindex") == "-1"
    expect(summary).to_contain_text("Country: This field is required.")
    expect(summary).to_contain_text("Please agree to the privacy notice to sign.")
    assert page.get_by_label("Full name").input_value() == "Ainur Bekova"
    assert page.get_by_label("Comment").input_value() == "Solidarity!"
    _clean(watcher)
