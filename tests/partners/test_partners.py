"""Partners: the origins organisers list, and which of them may frame the form."""

import pytest
from django.core.exceptions import ValidationError

from statements import selectors
from statements.models import Partner
from statements.partners.models import origin_of
from statements.partners.selectors import active_partner, frame_ancestors


@pytest.fixture(autouse=True)
def _fresh_memo():
    selectors._memo.clear()
    yield
    selectors._memo.clear()


@pytest.mark.parametrize(
    ("typed", "origin"),
    [
        ("https://union.example.org", "https://union.example.org"),
        ("https://Union.Example.org/", "https://union.example.org"),
        ("  http://127.0.0.1:8123  ", "http://127.0.0.1:8123"),
    ],
)
def test_origins_are_normalised(typed, origin):
    assert origin_of(typed) == origin


@pytest.mark.parametrize(
    "typed",
    [
        "union.example.org",
        "javascript:alert(1)",
        "https://union.example.org/petition",
        "https://union.example.org/?a=b",
        "https://user:pass@union.example.org",
        "https://a.example; script-src *",
        "*",
        "'self'",
    ],
)
def test_anything_but_an_origin_is_refused(typed, db):
    with pytest.raises(ValueError):
        origin_of(typed)
    partner = Partner(name="Union", code="union", origins=f"https://ok.example.org\n{typed}")
    with pytest.raises(ValidationError) as caught:
        partner.full_clean()
    assert "origins" in caught.value.message_dict


def test_only_active_partners_may_frame(db):
    Partner.objects.create(
        name="Union", code="union", origins="https://union.example.org\nhttps://union.example.kz"
    )
    Partner.objects.create(
        name="Old friends", code="old", origins="https://old.example.org", active=False
    )
    assert frame_ancestors() == ["https://union.example.org", "https://union.example.kz"]
    assert active_partner("union")[1] == "union"
    assert active_partner("old") is None
    assert active_partner("nobody") is None
    assert active_partner("") is None
