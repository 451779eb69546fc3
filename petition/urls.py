from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

from ops import health, metrics
from statements.staff.admin_site import secure_admin

urlpatterns = [
    path("healthz", health.ready, name="healthz"),
    path("healthz/live", health.live, name="healthz_live"),
    path("healthz/ready", health.ready, name="healthz_ready"),
    path("metrics", metrics.metrics, name="metrics"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("privacy/", TemplateView.as_view(template_name="privacy.html"), name="privacy"),
    path("accounts/", include("allauth.urls")),
    path("staff/", include("statements.staff.urls")),
    path("admin/", secure_admin(admin.site).urls),
    path("", include("statements.urls")),
]

handler500 = "statements.middleware.server_error"
