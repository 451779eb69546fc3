"""The staff page for partners: what each one brought, and the snippet to paste."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import get_language_info
from django.views.decorators.http import require_GET

from accounts.access import staff_required
from statements.languages import site_languages
from statements.models import Statement
from statements.partners.models import Partner
from statements.partners.selectors import signatures_by_referrer

EMBED_HEIGHT = 760


def embed_url(*, statement: Statement, language: str, code: str) -> str:
    """The embedded form's absolute address (from SITE_URL) in a language, with the code."""
    with translation.override(language):
        path = reverse("statements:embed", kwargs={"slug": statement.slug})
    return f"{settings.SITE_URL}{path}?ref={code}"


def snippet(*, url: str, title: str) -> str:
    """What a partner pastes into its page. The style is the partner page's, not ours; the
    frame's title (what a screen reader announces for it) is the statement's, in the form's
    language."""
    # Plain text, not marked safe: the page shows it escaped, in a textarea.
    return (
        f'<iframe src="{escape(url)}" title="{escape(title)}" width="100%" '
        f'height="{EMBED_HEIGHT}" style="border:0;max-width:32rem" loading="lazy"></iframe>'
    )


@staff_required("statements.view_partner")
@require_GET
def partner_list(request: HttpRequest) -> HttpResponse:
    statements = list(Statement.objects.all())
    chosen = next((s for s in statements if str(s.pk) == request.GET.get("statement")), None)
    statement = chosen or (statements[0] if statements else None)
    counts = {row.code: row for row in signatures_by_referrer(statement.pk if statement else None)}
    languages = [(code, get_language_info(code)["name_local"]) for code in site_languages()]
    titles = dict(statement.translations.values_list("language", "title")) if statement else {}
    partners = []
    for partner in Partner.objects.all():
        snippets = []
        if statement is not None:
            for code, name in languages:
                url = embed_url(statement=statement, language=code, code=partner.code)
                title = titles.get(code) or titles.get(statement.original_language) or ""
                snippets.append((code, name, snippet(url=url, title=title or statement.slug)))
        partners.append((partner, counts.get(partner.code), snippets))
    context = {
        "statements": statements,
        "statement": statement,
        "partners": partners,
        "can_edit": request.user.has_perm("statements.change_partner"),
    }
    return render(request, "staff/partners.html", context)
