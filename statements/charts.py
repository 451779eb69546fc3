"""What the site's SVG charts share: a value axis that reads in round steps.

The public page's line chart (statements/opendata/charts.py) and the staff dashboard's bars
(statements/staff/charts.py) draw different shapes, each as geometry for a template; both
scale to a round ceiling and mark the axis at 0, the middle and the ceiling.
"""


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5 × 10ⁿ at or above `value`, so the axis reads in round steps."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def axis_fractions(ceiling: int) -> tuple[float, ...]:
    """Where the axis is marked, as fractions of `ceiling`: the middle only where it is a whole
    number."""
    return (0, 0.5, 1) if ceiling % 2 == 0 else (0, 1)
