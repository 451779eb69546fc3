"""Public URLs. The pages live under their language (`/es/…`, `/en/…`, `/ru/…`: see
petition/urls.py); the API, which says the same in every language, does not."""

from django.urls import path

from statements import views
from statements.exports import public

app_name = "statements"

urlpatterns = [
    path("", views.statement_detail, name="home"),
    path("s/<slug:slug>/", views.statement_detail, name="detail"),
    path("s/<slug:slug>/sign/", views.sign, name="sign"),
    path("s/<slug:slug>/thanks/", views.thanks, name="thanks"),
    path("s/<slug:slug>/signatories/", views.signatories, name="signatories"),
    path("s/<slug:slug>/signatories.csv", public.signatories_csv, name="signatories_csv"),
    path("s/<slug:slug>/signatories.json", public.signatories_json, name="signatories_json"),
    path("confirm/<str:token>/", views.confirm, name="confirm"),
    path("withdraw/<str:token>/", views.withdraw, name="withdraw"),
    path("privacy/", views.privacy, name="privacy"),
]

api_urlpatterns = [
    path("statements/<slug:slug>/counts.json", views.counts_json, name="counts_json"),
]
