"""The dashboard's bar chart, drawn as SVG on the server.

Geometry only: the template turns it into <rect> and <text> elements with presentation
attributes, because the site's Content-Security-Policy forbids inline styles and scripts.
"""

from dataclasses import dataclass
from datetime import date

from django.utils.formats import date_format


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    day: date
    value: int


@dataclass(frozen=True)
class Tick:
    y: float
    value: int


@dataclass(frozen=True)
class Label:
    x: float
    text: str


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    left: int
    top: int
    bottom: float
    right: float
    tick_label_x: int
    label_y: float
    bars: list[Bar]
    ticks: list[Tick]
    labels: list[Label]
    total: int
    peak: int


def _nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5 × 10ⁿ at or above `value`, so the axis reads in round steps."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def bar_chart(series: list[tuple[date, int]], *, width: int = 720, height: int = 220) -> BarChart:
    left, top, right_margin, bottom_margin = 44, 12, 8, 28
    plot_width = width - left - right_margin
    plot_height = height - top - bottom_margin
    bottom = top + plot_height
    peak = max((value for _day, value in series), default=0)
    ceiling = _nice_ceiling(max(peak, 1))
    slot = plot_width / max(len(series), 1)
    gap = min(2.0, slot / 4)
    bars = []
    for index, (day, value) in enumerate(series):
        bar_height = plot_height * value / ceiling
        bars.append(
            Bar(
                x=round(left + index * slot + gap / 2, 2),
                y=round(bottom - bar_height, 2),
                width=round(slot - gap, 2),
                height=round(bar_height, 2),
                day=day,
                value=value,
            )
        )
    fractions = (0, 0.5, 1) if ceiling % 2 == 0 else (0, 1)
    ticks = [
        Tick(y=round(bottom - plot_height * fraction, 2), value=round(ceiling * fraction))
        for fraction in fractions
    ]
    # A date under the first bar and then every seventh: enough to read, never crowded.
    labels = [
        Label(x=round(left + index * slot + slot / 2, 2), text=date_format(day, "j M"))
        for index, (day, _value) in enumerate(series)
        if index % 7 == 0
    ]
    return BarChart(
        width=width,
        height=height,
        left=left,
        top=top,
        bottom=bottom,
        right=width - right_margin,
        tick_label_x=left - 6,
        label_y=bottom + 18,
        bars=bars,
        ticks=ticks,
        labels=labels,
        total=sum(value for _day, value in series),
        peak=peak,
    )
