from django.urls import include, path

from statements.paper import views as paper
from statements.staff import views

app_name = "staff"

urlpatterns = [
    path("", views.dashboard, name="home"),
    path("queue/", views.queue, name="queue"),
    path("queue/decide/", views.queue_decide, name="queue_decide"),
    path("signatures/<int:pk>/", views.signature_detail, name="signature"),
    path("signatures/<int:pk>/decide/", views.signature_decide, name="signature_decide"),
    path("signatures/<int:pk>/release/", views.signature_release, name="signature_release"),
    path("statements/", views.statement_list, name="statements"),
    path("statements/<int:pk>/signing/", views.statement_signing, name="statement_signing"),
    path("invitations/", views.invitations, name="invitations"),
    path("invitations/<int:pk>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    # Public: the invited person has no account yet; the token is the credential.
    path("join/<str:token>/", views.join, name="join"),
    path("invalidations/", views.invalidations, name="invalidations"),
    path("invalidations/<int:pk>/", views.invalidation_detail, name="invalidation"),
    path("invalidations/<int:pk>/run/", views.invalidation_run, name="invalidation_run"),
    path("invalidations/<int:pk>/cancel/", views.invalidation_cancel, name="invalidation_cancel"),
    path("invalidations/<int:pk>/revert/", views.invalidation_revert, name="invalidation_revert"),
    path("audit/", views.audit_log, name="audit"),
    path("paper/", paper.paper_imports, name="paper"),
    path("paper/<int:pk>/", paper.paper_import_detail, name="paper_import"),
    path("paper/<int:pk>/undo/", paper.paper_import_undo, name="paper_import_undo"),
    # Signatory exports (organisers only); their views live in exports/.
    path("exports/", include("exports.urls")),
]
