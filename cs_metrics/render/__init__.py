"""Renderers: one Report in, table | json | csv | md | html | xlsx out.

Each format lives in its own module and is imported only when used, so
`csm report --format json` never imports openpyxl or rich.
"""

from __future__ import annotations

from typing import Any

FORMATS = ("table", "json", "csv", "md", "html", "xlsx")
CSV_TABLES = ("kpis", "health", "issues")


def render(report: Any, fmt: str, *, table: str = "kpis", color: bool = False) -> str | bytes:
    """Render `report` as `fmt`; xlsx returns bytes, everything else text."""
    from cs_metrics.errors import UsageError

    fmt = (fmt or "table").lower()
    if fmt == "table":
        from cs_metrics.render.terminal import render_report

        return render_report(report, color=color)
    if fmt == "json":
        from cs_metrics.render.json_ import render_json

        return render_json(report)
    if fmt == "csv":
        from cs_metrics.render.tabular import render_csv

        if table not in CSV_TABLES:
            raise UsageError(f"unknown --table {table!r}: expected one of {', '.join(CSV_TABLES)}")
        return render_csv(report, table)
    if fmt == "md":
        from cs_metrics.render.tabular import render_markdown

        return render_markdown(report)
    if fmt == "html":
        from cs_metrics.render.html import render_html

        return render_html(report)
    if fmt == "xlsx":
        from cs_metrics.render.xlsx import render_xlsx

        return render_xlsx(report)
    raise UsageError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")
