"""The Open Graph image of a statement in the page's language (see image.py)."""

import hashlib

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import formats
from django.utils.cache import patch_cache_control
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from statements import counters, selectors
from statements.models import Signature
from statements.sharing.image import cached_png, render_png

Kind = Signature.Kind


def count_line(total: int) -> str:
    number = formats.number_format(total, force_grouping=True)
    return ngettext("%(count)s signature", "%(count)s signatures", total) % {"count": number}


@require_safe
def share_image(request: HttpRequest, slug: str) -> HttpResponse:
    statement = selectors.statement_get_cached(slug)
    language = get_language()

    def build() -> bytes:
        counts = counters.get_counts(statement.pk)
        st = selectors.statement_text_cached(statement, language)
        return render_png(
            title=st.text.title,
            count_line=count_line(counts[Kind.INDIVIDUAL] + counts[Kind.ORGANISATION]),
            site_name=_("Solidarity petition"),
        )

    data = cached_png(key=f"share-image:{statement.pk}:{language}", build=build)
    response = HttpResponse(data, content_type="image/png")
    # Crawlers fetch it once per share: the same picture for everyone, for a few minutes.
    patch_cache_control(
        response,
        public=True,
        max_age=settings.OG_IMAGE_SECONDS,
        s_maxage=settings.OG_IMAGE_SECONDS,
    )
    response["ETag"] = '"' + hashlib.md5(data, usedforsecurity=False).hexdigest() + '"'
    return response
