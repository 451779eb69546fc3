from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from accounts.admin_site import secure_admin
from ops import health, metrics
from statements.seo import robots_txt, sitemap
from statements.urls import api_urlpatterns

urlpatterns = [
    path("healthz", health.ready, name="healthz"),
    path("healthz/live", health.live, name="healthz_live"),
    path("healthz/ready", health.ready, name="healthz_ready"),
    path("metrics", metrics.metrics, name="metrics"),
    path("robots.txt", robots_txt, name="robots_txt"),
    path("sitemap.xml", sitemap, name="sitemap"),
    path("api/", include((api_urlpatterns, "api"))),
    # The language form of the pages that have no language in their address (staff, sign-in).
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("allauth.urls")),
    path("staff/", include("statements.staff.urls")),
    path("admin/", secure_admin(admin.site).urls),
]
# Every public page under its language. `/` and the addresses without one (those of earlier
# emails and shared links among them) are redirected by LocaleMiddleware to the visitor's
# language: the language cookie, then Accept-Language, then LANGUAGE_CODE (the original).
urlpatterns += i18n_patterns(path("", include("statements.urls")))

handler500 = "statements.middleware.server_error"
