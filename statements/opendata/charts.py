"""The public page's chart of signatures over time, drawn as SVG on the server.

Geometry only, like the staff dashboard's chart: the template writes <polyline>, <line> and
<text> elements with presentation attributes, since the Content-Security-Policy forbids
inline styles and scripts.
"""

from dataclasses import dataclass
from datetime import datetime

from django.utils.formats import date_format

from statements.charts import axis_fractions, nice_ceiling

MAX_POINTS = 400


@dataclass(frozen=True)
class Tick:
    y: float
    value: int


@dataclass(frozen=True)
class Label:
    x: float
    text: str
    anchor: str


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    line: str  # the polyline's points
    area: str  # the same, closed along the axis, for the shaded area
    ticks: list[Tick]
    labels: list[Label]
    total: int
    first: datetime
    last: datetime


def line_chart(
    points: list[tuple[datetime, int]], *, hourly: bool, width: int = 720, height: int = 240
) -> LineChart | None:
    """A running total over time; None when there is nothing to draw."""
    if not points:
        return None
    if len(points) > MAX_POINTS:
        step = -(-len(points) // MAX_POINTS)
        points = points[::step] + ([points[-1]] if (len(points) - 1) % step else [])
    left, right, top, bottom = 56, width - 12, 12, height - 30
    ceiling = nice_ceiling(max(points[-1][1], 1))
    start, end = points[0][0], points[-1][0]
    span = (end - start).total_seconds() or 1.0

    def x(moment: datetime) -> float:
        if len(points) == 1:
            return float(right)
        return round(left + (right - left) * (moment - start).total_seconds() / span, 2)

    def y(value: int) -> float:
        return round(bottom - (bottom - top) * value / ceiling, 2)

    coordinates = [(x(moment), y(value)) for moment, value in points]
    if len(coordinates) == 1:  # one point: a flat line from the axis start
        coordinates.insert(0, (float(left), coordinates[0][1]))
    line = " ".join(f"{cx},{cy}" for cx, cy in coordinates)
    area = f"{coordinates[0][0]},{bottom} {line} {coordinates[-1][0]},{bottom}"
    ticks = [
        Tick(y=y(round(ceiling * f)), value=round(ceiling * f)) for f in axis_fractions(ceiling)
    ]
    fmt = "j M, H:i" if hourly else "j M Y"
    labels = [Label(x=float(left), text=date_format(start, fmt), anchor="start")]
    if end != start:
        labels.append(Label(x=float(right), text=date_format(end, fmt), anchor="end"))
    return LineChart(
        width=width,
        height=height,
        left=left,
        right=right,
        top=top,
        bottom=bottom,
        line=line,
        area=area,
        ticks=ticks,
        labels=labels,
        total=points[-1][1],
        first=start,
        last=end,
    )
