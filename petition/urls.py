from django.contrib import admin
from django.urls import include, path

from ops import health, metrics
from statements.staff.admin_site import secure_admin
from statements.views import privacy

urlpatterns = [
    path("healthz", health.ready, name="healthz"),
    path("healthz/live", health.live, name="healthz_live"),
    path("healthz/ready", health.ready, name="healthz_ready"),
    path("metrics", metrics.metrics, name="metrics"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("privacy/", privacy, name="privacy"),
    path("accounts/", include("allauth.urls")),
    path("staff/", include("statements.staff.urls")),
    path("admin/", secure_admin(admin.site).urls),
    path("", include("statements.urls")),
]

handler500 = "statements.middleware.server_error"
