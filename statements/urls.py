"""Public URLs. The pages live under their language (`/es/…`, `/en/…`, `/ru/…`: see
petition/urls.py); the read API, which says the same in every language, does not."""

from django.urls import path

from statements import public_lists, views
from statements.opendata import views as opendata
from statements.opendata.views import allow_any_origin
from statements.partners import embed
from statements.sharing.views import share_image
from statements.updates.public import unsubscribe

app_name = "statements"

urlpatterns = [
    path("", views.statement_detail, name="home"),
    path("s/<slug:slug>/", views.statement_detail, name="detail"),
    path("s/<slug:slug>/sign/", views.sign, name="sign"),
    path("s/<slug:slug>/thanks/", views.thanks_page, name="thanks"),
    path("s/<slug:slug>/signatories/", views.signatories, name="signatories"),
    path("s/<slug:slug>/share.png", share_image, name="share_image"),
    # The sign form that partner sites frame (statements/partners/embed.py).
    path("embed/<slug:slug>/", embed.embed, name="embed"),
    path("embed/<slug:slug>/sign/", embed.embed_sign, name="embed_sign"),
    path("embed/<slug:slug>/thanks/", embed.embed_thanks, name="embed_thanks"),
    path(
        "s/<slug:slug>/signatories.csv",
        allow_any_origin(public_lists.signatories_csv),
        name="signatories_csv",
    ),
    path(
        "s/<slug:slug>/signatories.json",
        allow_any_origin(public_lists.signatories_json),
        name="signatories_json",
    ),
    path("confirm/<str:token>/", views.confirm, name="confirm"),
    path("withdraw/<str:token>/", views.withdraw, name="withdraw"),
    path("updates/stop/<str:token>/", unsubscribe, name="unsubscribe"),
    path("privacy/", views.privacy, name="privacy"),
]

# Included under /api/ in the "api" namespace.
api_urlpatterns = [
    path(
        "statements/<slug:slug>/counts.json",
        allow_any_origin(views.counts_json),
        name="counts_json",
    ),
    path("statements/<slug:slug>/history.json", opendata.history_json, name="history_json"),
    path("statements/<slug:slug>/history.csv", opendata.history_csv, name="history_csv"),
    path("openapi.json", opendata.openapi, name="openapi"),
]
