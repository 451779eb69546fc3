from django.urls import path

from statements import public_lists, views
from statements.opendata import views as opendata
from statements.opendata.views import allow_any_origin

app_name = "statements"

urlpatterns = [
    path("", views.statement_detail, name="home"),
    path("s/<slug:slug>/", views.statement_detail, name="detail"),
    path("s/<slug:slug>/sign/", views.sign, name="sign"),
    path("s/<slug:slug>/thanks/", views.thanks, name="thanks"),
    path("s/<slug:slug>/signatories/", views.signatories, name="signatories"),
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
    path(
        "api/statements/<slug:slug>/counts.json",
        allow_any_origin(views.counts_json),
        name="counts_json",
    ),
    path("api/statements/<slug:slug>/history.json", opendata.history_json, name="history_json"),
    path("api/statements/<slug:slug>/history.csv", opendata.history_csv, name="history_csv"),
    path("api/openapi.json", opendata.openapi, name="openapi"),
]
