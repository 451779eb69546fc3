"""The dashboard's chart of signatures per day, drawn as SVG on the server.

Days run down the page and bars across, each with its number printed at its end: every value
reads without hovering, and the chart stays legible on a phone however many days it shows
(a column chart of thirty days leaves a phone a few pixels per bar). The drawing is sized for
a phone's width and the page caps how wide it grows, so its text stays near the page's own.
The range starts at the first day with a signature in the window (a week at least), not at
thirty empty days before one bar.

Geometry only: the template turns it into <rect> and <text> elements with presentation
attributes, because the site's Content-Security-Policy forbids inline styles and scripts.
"""

from dataclasses import dataclass
from datetime import date

from django.utils.formats import date_format

from statements.charts import axis_fractions, nice_ceiling

WIDTH = 360
LABEL_WIDTH = 78
VALUE_ROOM = 40
ROW = 20
BAR = 13
TOP = 26
AXIS_ROOM = 38
MIN_DAYS = 7


@dataclass(frozen=True)
class Bar:
    y: float
    width: float
    day: date
    value: int
    label: str
    value_x: float
    text_y: float


@dataclass(frozen=True)
class Tick:
    x: float
    value: int


@dataclass(frozen=True)
class DayChart:
    width: int
    height: int
    left: int
    right: int
    top: int
    axis_y: int
    bar_height: int
    bars: list[Bar]
    ticks: list[Tick]
    total: int
    peak: int
    first: date
    last: date

    @property
    def label_x(self) -> int:
        return self.left - 6

    @property
    def axis_label_y(self) -> int:
        return self.axis_y + 30

    @property
    def tick_label_y(self) -> int:
        return self.axis_y + 14

    @property
    def middle(self) -> float:
        return (self.left + self.right) / 2


def trimmed(series: list[tuple[date, int]], *, min_days: int = MIN_DAYS) -> list[tuple[date, int]]:
    """The series from its first day with a signature, keeping at least `min_days` days."""
    first = next((i for i, (_day, n) in enumerate(series) if n), len(series))
    return series[min(first, max(len(series) - min_days, 0)) :]


def day_chart(series: list[tuple[date, int]]) -> DayChart | None:
    """The chart of `series` (days oldest first), or None if it has no signature at all."""
    series = trimmed(series)
    if not any(n for _day, n in series):
        return None
    left, right = LABEL_WIDTH, WIDTH - VALUE_ROOM
    plot = right - left
    peak = max(n for _day, n in series)
    ceiling = nice_ceiling(peak)
    bars = []
    for index, (day, value) in enumerate(series):
        y = TOP + index * ROW + (ROW - BAR) / 2
        width = round(plot * value / ceiling, 2)
        bars.append(
            Bar(
                y=round(y, 2),
                width=width,
                day=day,
                value=value,
                label=date_format(day, "D j M"),
                value_x=round(left + width + 4, 2),
                text_y=round(y + BAR - 2, 2),
            )
        )
    axis_y = TOP + len(series) * ROW + 4
    ticks = [
        Tick(x=round(left + plot * f, 2), value=round(ceiling * f)) for f in axis_fractions(ceiling)
    ]
    return DayChart(
        width=WIDTH,
        height=axis_y + AXIS_ROOM,
        left=left,
        right=right,
        top=TOP,
        axis_y=axis_y,
        bar_height=BAR,
        bars=bars,
        ticks=ticks,
        total=sum(n for _day, n in series),
        peak=peak,
        first=series[0][0],
        last=series[-1][0],
    )
