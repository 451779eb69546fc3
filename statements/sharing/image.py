"""The picture a shared link shows: an Open Graph image per statement and language.

1200×630 pixels (the size Facebook, X, Telegram and VK crop the least), the statement's
title and the current count, drawn with Pillow in DejaVu Sans, which covers Latin and
Cyrillic (Kazakh letters included). It is drawn at most once per OG_IMAGE_SECONDS per
statement and language, whatever the traffic: the PNG bytes are kept in the cache, so
crawlers that fetch it for every share cost one cache read.
"""

import io
import logging
import textwrap
from functools import cache as memoise
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from PIL import Image, ImageDraw, ImageFont

logger = logging.getLogger(__name__)

WIDTH, HEIGHT = 1200, 630
MARGIN = 72
BACKGROUND = (122, 17, 17)
INK = (255, 255, 255)
MUTED = (255, 214, 214)
FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/TTF"),
    Path("/usr/share/fonts/dejavu-sans-fonts"),
    Path("/usr/local/share/fonts"),
)


@memoise
def _font_path(name: str) -> str:
    for folder in FONT_DIRS:
        if (folder / name).exists():
            return str(folder / name)
    raise FileNotFoundError(f"{name}: install fonts-dejavu-core")


@memoise
def _font(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(_font_path(name), size)


def _wrapped(draw: ImageDraw.ImageDraw, text: str, font, width: int, max_lines: int) -> list[str]:
    """The text in lines no wider than `width` pixels, at most `max_lines` (the last one
    ending in an ellipsis if the text goes on)."""
    average = max(1, int(draw.textlength("x" * 20, font=font) / 20))
    columns = max(8, width // average)
    while True:
        lines = textwrap.wrap(text, columns) or [""]
        if all(draw.textlength(line, font=font) <= width for line in lines) or columns <= 8:
            break
        columns -= 2
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1].rstrip(" ,.;:") + "…"
    return lines


def render_png(*, title: str, count_line: str, site_name: str) -> bytes:
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    small = _font("DejaVuSans.ttf", 34)
    draw.text((MARGIN, MARGIN), site_name, font=small, fill=MUTED)
    y = MARGIN + 70
    for size, max_lines in ((62, 4), (52, 5), (44, 6)):
        title_font = _font("DejaVuSans-Bold.ttf", size)
        lines = _wrapped(draw, title, title_font, WIDTH - 2 * MARGIN, max_lines)
        if len(lines) < max_lines or size == 44:
            break
    for line in lines:
        draw.text((MARGIN, y), line, font=title_font, fill=INK)
        y += int(size * 1.22)
    count_font = _font("DejaVuSans-Bold.ttf", 48)
    draw.rectangle((0, HEIGHT - 130, WIDTH, HEIGHT), fill=(90, 10, 10))
    draw.text((MARGIN, HEIGHT - 100), count_line, font=count_font, fill=INK)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def cached_png(*, key: str, build) -> bytes:
    """The image under `key`, drawn by `build()` if the cache has none (or is down)."""
    try:
        data = cache.get(key)
    except Exception:
        logger.warning("cache unavailable; drawing the share image anew")
        data = None
    if data is None:
        data = build()
        try:
            cache.set(key, data, settings.OG_IMAGE_SECONDS)
        except Exception:
            logger.warning("cache unavailable; share image not kept")
    return data
