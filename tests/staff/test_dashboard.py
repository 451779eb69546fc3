"""The dashboard: counts per state and kind, the chart, countries and what is trending."""

import re
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from statements.models import Signature
from statements.staff.charts import bar_chart
from tests.factories import OrganisationFactory, SignatureFactory

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


def test_signatures_per_day_as_an_svg_chart(moderator_client, statement):
    now = timezone.now()
    SignatureFactory.create_batch(4, statement=statement, created_at=now)
    SignatureFactory(statement=statement, created_at=now - timedelta(days=2))
    body = moderator_client.get(reverse("staff:home")).content.decode()
    svg = re.search(r"<svg.*?</svg>", body, re.S).group(0)
    assert 'role="img"' in svg and "<title" in svg
    assert "style=" not in svg  # the CSP forbids inline styles: presentation attributes only
    heights = [float(h) for h in re.findall(r'<rect [^>]*height="([\d.]+)"', svg)]
    assert len(heights) == 30
    assert heights[-1] > heights[-3] > 0 and heights[-2] == 0


def test_chart_geometry():
    today = timezone.localdate()
    series = [(today - timedelta(days=2 - i), n) for i, n in enumerate([0, 5, 10])]
    chart = bar_chart(series, width=300, height=100)
    assert [bar.value for bar in chart.bars] == [0, 5, 10]
    tallest = chart.bars[-1]
    assert tallest.y + tallest.height == chart.bottom
    assert chart.bars[1].height * 2 == tallest.height
    assert chart.ticks[-1].value == 10 and chart.total == 15 and chart.peak == 10


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
