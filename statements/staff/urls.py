from django.urls import include, path

from accounts import views as accounts
from statements.paper import views as paper
from statements.partners import views as partners
from statements.staff.views import (
    audit_log,
    dashboard,
    invalidation,
    moderation,
    signing,
)
from statements.updates import views as updates

app_name = "staff"

urlpatterns = [
    path("", dashboard.dashboard, name="home"),
    path("queue/", moderation.queue, name="queue"),
    path("queue/decide/", moderation.queue_decide, name="queue_decide"),
    path("signatures/<int:pk>/", moderation.signature_detail, name="signature"),
    path("signatures/<int:pk>/decide/", moderation.signature_decide, name="signature_decide"),
    path("signatures/<int:pk>/release/", moderation.signature_release, name="signature_release"),
    path("statements/", signing.statement_list, name="statements"),
    path("statements/<int:pk>/signing/", signing.statement_signing, name="statement_signing"),
    # Staff accounts: their views live in accounts/.
    path("invitations/", accounts.invitations, name="invitations"),
    path("invitations/<int:pk>/revoke/", accounts.invitation_revoke, name="invitation_revoke"),
    # Public: the invited person has no account yet; the token is the credential.
    path("join/<str:token>/", accounts.join, name="join"),
    path("invalidations/", invalidation.invalidations, name="invalidations"),
    path("invalidations/<int:pk>/", invalidation.invalidation_detail, name="invalidation"),
    path("invalidations/<int:pk>/run/", invalidation.invalidation_run, name="invalidation_run"),
    path(
        "invalidations/<int:pk>/cancel/",
        invalidation.invalidation_cancel,
        name="invalidation_cancel",
    ),
    path(
        "invalidations/<int:pk>/revert/",
        invalidation.invalidation_revert,
        name="invalidation_revert",
    ),
    path("audit/", audit_log.audit_log, name="audit"),
    path("paper/", paper.paper_imports, name="paper"),
    path("paper/<int:pk>/", paper.paper_import_detail, name="paper_import"),
    path("paper/<int:pk>/undo/", paper.paper_import_undo, name="paper_import_undo"),
    path("partners/", partners.partner_list, name="partners"),
    path("updates/", updates.update_list, name="updates"),
    path("updates/<int:pk>/", updates.update_detail, name="update"),
    path("updates/<int:pk>/send/", updates.update_send, name="update_send"),
    # Signatory exports (organisers only); their views live in exports/.
    path("exports/", include("exports.urls")),
]
