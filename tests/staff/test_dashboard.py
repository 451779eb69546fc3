"""The dashboard: counts per state and kind, the chart, countries and what is trending."""

import re
from datetime import timedelta
from itertools import pairwise

from django.urls import reverse
from django.utils import timezone

from statements.models import Signature
from statements.staff.charts import day_chart, trimmed
from tests.factories import OrganisationFactory, SignatureFactory
from tests.outbox.test_watching import backlog

State = Signature.State


def test_counts_per_state_and_kind(moderator_client, statement):
    SignatureFactory.create_batch(3, statement=statement, state=State.CONFIRMED)
    SignatureFactory(statement=statement, state=State.PENDING)
    OrganisationFactory.create_batch(2, statement=statement, state=State.AWAITING_MODERATION)
    response = moderator_client.get(reverse("staff:home"))
    rows = {row.state: row for row in response.context["state_rows"]}
    assert (rows[State.CONFIRMED].individuals, rows[State.CONFIRMED].organisations) == (3, 0)
    assert rows[State.PENDING].individuals == 1
    assert rows[State.AWAITING_MODERATION].organisations == 2
    assert rows[State.FRAUDULENT].total == 0


def _svg(body: str) -> str:
    return re.search(r"<svg.*?</svg>", body, re.S).group(0)


def test_signatures_per_day_as_an_svg_chart(moderator_client, statement):
    now = timezone.now()
    SignatureFactory.create_batch(4, statement=statement, created_at=now)
    SignatureFactory(statement=statement, created_at=now - timedelta(days=2))
    SignatureFactory.create_batch(3, statement=statement, created_at=now - timedelta(days=12))
    body = moderator_client.get(reverse("staff:home")).content.decode()
    svg = _svg(body)
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    assert "style=" not in svg  # the CSP forbids inline styles: presentation attributes only
    # From the first day with a signature to today: 13 days, not 30.
    widths = [float(w) for w in re.findall(r'<rect [^>]*width="([\d.]+)"', svg)]
    assert len(widths) == 13
    assert widths[-1] > widths[0] > widths[-3] > 0 and widths[-2] == widths[1] == 0
    # Each value is printed beside its bar, and the axes say what they show.
    values = re.findall(r'font-weight="700" fill="#1a1a1a">(\d+)</text>', svg)
    assert values == ["3", *["0"] * 9, "1", "0", "4"]
    assert ">Day</text>" in svg and ">Signatures</text>" in svg
    assert "Signatures received that day (UTC)" in svg
    assert "8 signatures in 13 days" in svg


def test_a_short_history_still_shows_a_week(moderator_client, statement):
    SignatureFactory.create_batch(2, statement=statement)
    svg = _svg(moderator_client.get(reverse("staff:home")).content.decode())
    assert len(re.findall(r"<rect ", svg)) == 7


def test_no_signatures_no_empty_chart(moderator_client, statement):
    SignatureFactory(statement=statement, created_at=timezone.now() - timedelta(days=45))
    body = moderator_client.get(reverse("staff:home")).content.decode()
    assert "<svg" not in body and "No signatures in the last 30 days." in body


def test_chart_geometry():
    today = timezone.localdate()
    series = [(today - timedelta(days=9 - i), n) for i, n in enumerate([0] * 7 + [0, 5, 10])]
    assert trimmed(series) == series[3:]
    chart = day_chart(series)
    assert [bar.value for bar in chart.bars] == [0, 0, 0, 0, 0, 5, 10]
    longest = chart.bars[-1]
    assert longest.width == chart.right - chart.left
    assert chart.bars[-2].width * 2 == longest.width
    assert [t.value for t in chart.ticks] == [0, 5, 10]
    assert chart.total == 15 and chart.peak == 10
    # Rows never overlap, and the axis sits below the last one.
    ys = [bar.y for bar in chart.bars]
    assert all(b - a >= chart.bar_height for a, b in pairwise(ys))
    assert chart.axis_y > ys[-1] + chart.bar_height
    assert day_chart([(today, 0)] * 10) is None


def test_top_countries_count_public_signatures(moderator_client, statement):
    SignatureFactory.create_batch(3, statement=statement, country="AR")
    SignatureFactory(statement=statement, country="KZ")
    SignatureFactory.create_batch(5, statement=statement, country="BR", state=State.PENDING)
    response = moderator_client.get(reverse("staff:home"))
    assert [(code, n) for _name, code, n in response.context["top_countries"]] == [
        ("AR", 3),
        ("KZ", 1),
    ]


def test_domains_and_ip_hashes_trending_in_the_last_hour(organiser_client, statement):
    now = timezone.now()
    for n in range(4):
        SignatureFactory(statement=statement, email=f"bot{n}@burst.example", ip_hash="f00d")
    SignatureFactory(
        statement=statement, email="x@burst.example", created_at=now - timedelta(hours=3)
    )
    SignatureFactory(statement=statement, email="one@calm.example", ip_hash="0a0a")
    response = organiser_client.get(reverse("staff:home"))
    assert response.context["domains"] == [("burst.example", 4), ("calm.example", 1)]
    assert response.context["ip_hashes"][0] == ("f00d", 4)
    body = response.content.decode()
    assert reverse("staff:invalidations") + "?email_domain=burst.example" in body
    assert reverse("staff:queue") + "?state=any&amp;ip_hash=f00d" in body


def test_moderators_see_no_invalidation_links(moderator_client, statement):
    SignatureFactory(statement=statement, email="a@burst.example")
    body = moderator_client.get(reverse("staff:home")).content.decode()
    assert reverse("staff:invalidations") not in body


def test_the_dashboard_shows_the_backlog_and_what_was_refused(moderator_client, statement):
    refused = backlog(statement)
    response = moderator_client.get(reverse("staff:home"))
    body = response.content.decode()
    assert "3 emails waiting to be sent" in body
    assert "the oldest for 12\xa0minutes" in body
    assert "1 email refused by the mail server or given up on" in body
    assert "recipient refused (550)" in body
    assert reverse("staff:signature", args=[refused.signature_id]) in body


def test_trending_domains_and_addresses_since_a_moment_most_first(statement):
    from statements.staff import selectors

    for n, (domain, ip_hash) in enumerate(
        [("b.example", "h2"), ("b.example", "h2"), ("a.example", "h1"), ("c.example", "h3")]
    ):
        SignatureFactory(statement=statement, email=f"p{n}@{domain}", ip_hash=ip_hash)
    old = SignatureFactory(statement=statement, email="old@c.example", ip_hash="h3")
    Signature.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))
    since = timezone.now() - timedelta(days=1)
    assert selectors.trending_domains(since=since, limit=2) == [("b.example", 2), ("a.example", 1)]
    assert selectors.trending_ip_hashes(since=since) == [("h2", 2), ("h1", 1), ("h3", 1)]
