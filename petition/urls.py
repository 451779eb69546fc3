from django.contrib import admin
from django.urls import include, path

from statements.staff.admin_site import secure_admin
from statements.views import healthz, privacy

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("privacy/", privacy, name="privacy"),
    path("accounts/", include("allauth.urls")),
    path("staff/", include("statements.staff.urls")),
    path("admin/", secure_admin(admin.site).urls),
    path("", include("statements.urls")),
]

handler500 = "statements.middleware.server_error"
