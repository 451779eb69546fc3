"""What search engines read: robots.txt and the sitemap, every page in every language.

Absolute addresses come from SITE_URL, never from the request's Host."""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps.views import sitemap as sitemap_view
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from statements import languages
from statements.caching import shared
from statements.models import Statement


class _PublicSitemap(Sitemap):
    # Each page once per language, with its hreflang alternates and the original as x-default.
    i18n = True
    alternates = True
    x_default = True

    @property
    def languages(self) -> list[str]:
        """The languages the site offers, not every one Django knows."""
        return languages.site_languages()

    def get_protocol(self, protocol=None) -> str:
        return urlsplit(settings.SITE_URL).scheme

    def get_domain(self, site=None) -> str:
        return urlsplit(settings.SITE_URL).netloc


class StatementSitemap(_PublicSitemap):
    changefreq = "hourly"
    priority = 1.0

    def items(self):
        return list(Statement.objects.order_by("pk"))

    def location(self, item: Statement) -> str:
        return reverse("statements:detail", kwargs={"slug": item.slug})


class SignatoriesSitemap(StatementSitemap):
    priority = 0.5

    def location(self, item: Statement) -> str:
        return reverse("statements:signatories", kwargs={"slug": item.slug})


class PagesSitemap(_PublicSitemap):
    changefreq = "monthly"
    priority = 0.2

    def items(self):
        return ["statements:privacy"]

    def location(self, item: str) -> str:
        return reverse(item)


SITEMAPS = {
    "statements": StatementSitemap,
    "signatories": SignatoriesSitemap,
    "pages": PagesSitemap,
}


@shared(by_language=False)
@require_safe
def sitemap(request: HttpRequest) -> HttpResponse:
    return sitemap_view(request, sitemaps=SITEMAPS)


@shared(by_language=False)
@require_safe
def robots_txt(request: HttpRequest) -> HttpResponse:
    return render(request, "robots.txt", content_type="text/plain; charset=utf-8")
