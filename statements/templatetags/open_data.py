"""{% statement_history statement %}: the chart of signatures over time and the table by
country on the statement page, from the hourly history (statements/opendata/)."""

from django import template
from django_countries import countries

from statements.opendata.charts import line_chart
from statements.opendata.selectors import history_summary

register = template.Library()


@register.inclusion_tag("statements/_history.html")
def statement_history(statement) -> dict:
    summary = history_summary(statement)
    rows = [
        {
            "code": code,
            "name": countries.name(code) or code,
            "individuals": individuals,
            "organisations": organisations,
            "total": individuals + organisations,
        }
        for code, individuals, organisations in summary.countries
    ]
    return {
        "statement": statement,
        "chart": line_chart(summary.points, hourly=summary.hourly),
        "hourly": summary.hourly,
        "countries": rows,
    }
