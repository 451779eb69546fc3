"""Export URLs, included under /staff/exports/ in the "staff" namespace."""

from django.urls import path

from exports import views

urlpatterns = [
    path("", views.exports, name="exports"),
    path("<uuid:export_id>/", views.export_detail, name="export_detail"),
    path("<uuid:export_id>/progress.json", views.export_progress, name="export_progress"),
    path("<uuid:export_id>/download/", views.export_download, name="export_download"),
]
