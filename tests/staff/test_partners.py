"""Organisers see what each partner's embedded form brought, on the dashboard and the
partners page, with the snippet to paste."""

from statements.models import Partner, Signature
from tests.factories import SignatureFactory


def _signatures(statement):
    union = Partner.objects.create(
        name="Metalworkers' Union", code="metal-kz", origins="https://metal.example.kz"
    )
    SignatureFactory.create_batch(3, statement=statement, referrer=union)
    SignatureFactory(statement=statement, referrer=union, state=Signature.State.PENDING)
    SignatureFactory(statement=statement, referrer=union, state=Signature.State.REJECTED)
    SignatureFactory.create_batch(2, statement=statement)
    return union


def test_dashboard_counts_signatures_per_referrer(moderator_client, statement):
    _signatures(statement)
    response = moderator_client.get("/staff/")
    assert response.status_code == 200
    rows = [r for r in response.context["referrers"]]
    assert [(r.code, r.counted, r.pending, r.total) for r in rows] == [("metal-kz", 3, 1, 5)]
    assert "metal-kz" in response.text


def test_partners_page_gives_the_snippet_in_each_language(organiser_client, statement):
    _signatures(statement)
    response = organiser_client.get("/staff/partners/")
    assert response.status_code == 200
    page = response.text
    assert "https://metal.example.kz" in page
    for language in ("es", "en", "ru", "kk"):
        url = f"/{language}/embed/{statement.slug}/?ref=metal-kz"
        assert f"&lt;iframe src=&quot;http://testserver{url}" in page or url in page


def test_moderators_do_not_manage_partners(moderator_client, statement):
    assert moderator_client.get("/staff/partners/").status_code == 403


def test_each_snippet_names_the_statement_in_its_language(organiser_client, statement):
    from django.utils.html import escape

    from statements.partners.views import snippet

    _signatures(statement)
    page = organiser_client.get("/staff/partners/").text
    kazakh = statement.translations.get(language="kk").title
    assert escape(f'title="{kazakh}"') in page  # shown as text, to be copied
    assert "<iframe" not in page
    # A quote in a title cannot end the attribute early.
    pasted = snippet(url="https://p.example/kk/embed/s/?ref=a&b", title='The "Union" <b>')
    assert 'title="The &quot;Union&quot; &lt;b&gt;"' in pasted
    assert 'src="https://p.example/kk/embed/s/?ref=a&amp;b"' in pasted
    assert not hasattr(pasted, "__html__")  # text for the page to escape, not markup
