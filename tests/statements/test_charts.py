"""The value axis both SVG charts share (statements/charts.py)."""

from datetime import UTC, date, datetime, timedelta

import pytest

from statements.charts import axis_fractions, nice_ceiling
from statements.opendata.charts import line_chart
from statements.staff.charts import day_chart


@pytest.mark.parametrize(
    ("value", "ceiling"), [(0, 1), (1, 1), (2, 2), (3, 5), (6, 10), (11, 20), (999, 1000)]
)
def test_the_ceiling_is_the_next_round_step(value, ceiling):
    assert nice_ceiling(value) == ceiling


def test_the_middle_is_marked_only_where_it_is_a_whole_number():
    assert axis_fractions(1) == (0, 1)
    assert axis_fractions(5) == (0, 1)
    assert axis_fractions(20) == (0, 0.5, 1)


@pytest.mark.parametrize(("peak", "values"), [(3, [0, 5]), (7, [0, 5, 10])])
def test_both_charts_mark_the_same_axis(peak, values):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    line = line_chart([(start, 1), (start + timedelta(days=1), peak)], hourly=False)
    bars = day_chart([(date(2026, 1, 1), 1), (date(2026, 1, 2), peak)])
    assert [tick.value for tick in line.ticks] == values
    assert [tick.value for tick in bars.ticks] == values
