"""Every staff URL, for every role: who gets in, who is refused, and the second factor."""

import uuid
from html.parser import HTMLParser

import pytest
from django.urls import URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter, UUIDConverter

from accounts.models import StaffInvitation, StaffRole
from statements.models import InvalidationRun
from statements.staff.selectors import InvalidationConditions
from statements.staff.services.invalidation import invalidation_prepare
from tests.accounts.helpers import make_user
from tests.factories import SignatureFactory

# Staff URLs a moderator may open; every other one is for organisers only, so a new page is
# closed to moderators until someone decides otherwise here.
MODERATOR_URLS = {
    "staff:home",
    "staff:queue",
    "staff:queue_decide",
    "staff:signature",
    "staff:signature_decide",
    "staff:signature_release",
}
# The invitation page: the person invited has no account yet; the token is the credential.
PUBLIC_URLS = {"staff:join"}


def _walk(patterns, namespace):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}:{pattern.namespace}" if pattern.namespace else namespace
            yield from _walk(pattern.url_patterns, inner)
        elif pattern.name:
            yield f"{namespace}:{pattern.name}", pattern


def _sample(converter):
    if isinstance(converter, IntConverter):
        return 999999
    if isinstance(converter, UUIDConverter):
        return uuid.uuid4()
    return "sample"


def staff_urls() -> list[tuple[str, str]]:
    """(name, path) for every URL in the "staff" namespace, exports included."""
    _prefix, resolver = get_resolver().namespace_dict["staff"]
    urls = []
    for name, pattern in _walk(resolver.url_patterns, "staff"):
        converters = getattr(pattern.pattern, "converters", {})
        kwargs = {key: _sample(converter) for key, converter in converters.items()}
        urls.append((name, reverse(name, kwargs=kwargs)))
    return urls


def test_the_walk_finds_the_staff_pages():
    names = {name for name, _path in staff_urls()}
    assert MODERATOR_URLS | PUBLIC_URLS | {"staff:invalidations", "staff:invitations"} <= names


def _refused(response) -> bool:
    return response.status_code == 403


def _sent_to_login(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(reverse("account_login"))


def _let_in(response) -> bool:
    # A fake id gives 404 and a GET on a POST-only view 405: the door itself was open.
    return response.status_code in {200, 404, 405}


@pytest.mark.parametrize("role", ["anonymous", "outsider", "moderator", "organiser"])
def test_every_staff_url_for_every_role(client, role, outsider, moderator, organiser):
    user = {"outsider": outsider, "moderator": moderator, "organiser": organiser}.get(role)
    if user:
        client.force_login(user)
    wrong = []
    for name, path in staff_urls():
        if name in PUBLIC_URLS:
            continue
        allowed = role == "organiser" or (role == "moderator" and name in MODERATOR_URLS)
        for method in ("get", "post"):
            response = getattr(client, method)(path)
            if role == "anonymous":
                ok = _sent_to_login(response)
            elif allowed:
                ok = method == "post" or _let_in(response)
            else:
                ok = _refused(response)
            if not ok:
                wrong.append((name, method.upper(), response.status_code))
    assert wrong == []


def test_refusals_change_nothing(client, moderator, statement):
    """A moderator posting to organiser-only actions is refused before anything happens."""
    client.force_login(moderator)
    run = invalidation_prepare(conditions=InvalidationConditions(country="KZ"), actor=None)
    assert client.post(reverse("staff:invalidation_run", args=[run.pk])).status_code == 403
    assert (
        client.post(
            reverse("staff:statement_signing", args=[statement.pk]), {"signing_open": "0"}
        ).status_code
        == 403
    )
    assert (
        client.post(
            reverse("staff:invitations"), {"email": "x@example.net", "role": "organiser"}
        ).status_code
        == 403
    )
    run.refresh_from_db()
    statement.refresh_from_db()
    assert run.state == InvalidationRun.State.DRAFT
    assert statement.signing_open is True
    assert not StaffInvitation.objects.exists()


# --- The second factor ------------------------------------------------------------------------


@pytest.mark.parametrize("role", [StaffRole.MODERATOR, StaffRole.ORGANISER])
def test_staff_without_totp_must_enrol_before_any_staff_page(client, role):
    user = make_user(f"new-{role}@example.net", role=role, totp=False)
    client.force_login(user)
    enrol = reverse("mfa_activate_totp")
    for name, path in staff_urls():
        if name in PUBLIC_URLS:
            continue
        response = client.get(path)
        assert response.status_code == 302 and response["Location"] == enrol, name


# --- What the pages are made of ---------------------------------------------------------------


class _PageAudit(HTMLParser):
    """Collects what CSP would block and form controls without a label."""

    def __init__(self):
        super().__init__()
        self.inline_styles = []
        self.inline_scripts = 0
        self.label_targets = set()
        self.controls = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "style" in attrs or tag == "style":
            self.inline_styles.append(tag)
        if any(name.startswith("on") for name in attrs):
            self.inline_scripts += 1
        if tag == "script" and "src" not in attrs and attrs.get("type") != "application/json":
            self.inline_scripts += 1
        if tag == "label" and attrs.get("for"):
            self.label_targets.add(attrs["for"])
        if tag in {"input", "select", "textarea"}:
            if attrs.get("type") in {"hidden", "submit", "button"}:
                return
            self.controls.append((tag, attrs.get("id"), attrs.get("aria-label")))


def _audit(html: str) -> _PageAudit:
    parser = _PageAudit()
    parser.feed(html)
    return parser


def test_staff_pages_are_csp_safe_and_labelled(organiser_client, organiser, statement):
    signature = SignatureFactory(statement=statement)
    run = invalidation_prepare(conditions=InvalidationConditions(country="KZ"), actor=organiser)
    pages = [
        reverse("staff:home"),
        reverse("staff:queue") + "?state=any",
        reverse("staff:signature", args=[signature.pk]),
        reverse("staff:statements"),
        reverse("staff:invitations"),
        reverse("staff:invalidations"),
        reverse("staff:invalidation", args=[run.pk]),
        reverse("staff:audit"),
        reverse("mfa_index"),
        reverse("account_change_password"),
    ]
    for path in pages:
        response = organiser_client.get(path)
        assert response.status_code == 200, path
        if path.startswith("/staff/"):
            # Personal data: no browser or proxy cache may keep these pages.
            assert "no-store" in response["Cache-Control"], path
        page = _audit(response.content.decode())
        assert page.inline_styles == [], path
        assert page.inline_scripts == 0, path
        unlabelled = [
            control
            for control in page.controls
            if control[2] is None and control[1] not in page.label_targets
        ]
        assert unlabelled == [], (path, unlabelled)
        assert 'class="staff-nav"' in response.content.decode(), path


def test_sign_in_page_uses_the_site_layout_and_offers_no_sign_up(client):
    response = client.get(reverse("account_login"))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'class="site-header"' in body and "css/site.css" in body
    assert reverse("account_signup") not in body
    page = _audit(body)
    assert page.inline_styles == [] and page.inline_scripts == 0
    signup = client.get(reverse("account_signup"))
    assert b'name="password2"' not in signup.content
