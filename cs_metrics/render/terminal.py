"""The terminal view of a report (rich), readable in 120 columns.

With `color=False` (cron, pipes, NO_COLOR) the console writes no ANSI codes,
uses ASCII table borders and a fixed width (COLUMNS or 120), so the text is
the same on every machine and diffable (the golden file is this output).
"""

from __future__ import annotations

import io
import os
import shutil
from typing import Any

from rich import box
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from cs_metrics.render import formatting as F

DEFAULT_WIDTH = 120
BAND_STYLES = {
    "green": "bold green",
    "yellow": "bold yellow",
    "red": "bold red",
    "orange": "bold dark_orange",
    "amber": "bold yellow",
    "blue": "bold blue",
    "grey": "dim",
    "gray": "dim",
}


def width_for(color: bool) -> int:
    env = os.environ.get("COLUMNS", "")
    if env.isdigit() and int(env) >= 60:
        return int(env)
    if color:
        return max(80, shutil.get_terminal_size((DEFAULT_WIDTH, 40)).columns)
    return DEFAULT_WIDTH


def console(color: bool, width: int | None = None) -> Console:
    """A console writing into a buffer: colour only when asked, never terminal tricks otherwise."""
    w = width or width_for(color)
    if color:
        return Console(
            file=io.StringIO(),
            force_terminal=True,
            color_system="truecolor",
            width=w,
            highlight=False,
            emoji=False,
            legacy_windows=False,
        )
    return Console(
        file=io.StringIO(),
        force_terminal=False,
        no_color=True,
        color_system=None,
        width=w,
        highlight=False,
        emoji=False,
        legacy_windows=False,
        force_jupyter=False,
    )


def table_box(color: bool) -> box.Box:
    return box.SIMPLE_HEAD if color else box.ASCII2


def new_table(color: bool, title: str | None = None) -> Table:
    """The house table: left-aligned title, no outer edge, ASCII rules without colour."""
    return Table(
        box=table_box(color),
        title=title,
        title_justify="left",
        show_edge=False,
        pad_edge=False,
        header_style="bold" if color else "",
    )


def export(con: Console) -> str:
    out = con.file.getvalue()  # type: ignore[attr-defined]
    lines = [ln.rstrip() for ln in out.splitlines()]
    return "\n".join(lines).rstrip() + "\n"


def band_style(color: str | None) -> str:
    return BAND_STYLES.get(str(color or "").lower(), "bold")


def score_change_cell(ch: Any, color: bool) -> Text:
    """A health score change: green up, red down, dim when flat (plain without colour)."""
    style = "" if not color or not F.is_number(ch) else "green" if ch > 0 else "red" if ch < 0 else "dim"
    return Text(F.signed(ch), style=style)


def change_cell(k: Any, currency: str) -> Text:
    c = F.change(k.change, k.unit, currency)
    if not c:
        return Text("")
    style = {"better": "green", "worse": "red"}.get(k.direction or "", "dim")
    return Text(f"{F.arrow(k)} {c}", style=style)


def kpi_table(
    kpis: list[Any],
    currency: str,
    color: bool,
    *,
    title: str | None = None,
    width: int = DEFAULT_WIDTH,
) -> Table:
    """One table, categories as sections: KPI | Value | Previous | Change | n | Note.

    Number columns get their full width (min_width from the cells); only the
    label and the note are shortened when the terminal is narrow.
    """
    cats = F.kpis_by_category(kpis)
    rows: list[tuple[Any, ...]] = []
    for ci, (cat, ks) in enumerate(cats):
        rows.append(
            (
                Text(F.category_label(cat).upper(), style="bold cyan" if color else ""),
                "",
                "",
                Text(""),
                "",
                "",
                False,
            )
        )
        for i, k in enumerate(ks):
            note = k.unavailable_reason or ""
            if (moe := F.margin_of_error(k)) is not None:
                note = note or f"±{moe:.1f} (95% margin of error)"
            last = i == len(ks) - 1 and ci < len(cats) - 1
            rows.append(
                (
                    "  " + k.label,
                    F.value(k.value, k.unit, currency),
                    F.value(k.previous, k.unit, currency),
                    change_cell(k, currency),
                    F.count(k.n) if k.n is not None else "",
                    note,
                    last,
                )
            )
    show_n = any(r[4] for r in rows)
    widths = [
        max([len(str(r[j])) for r in rows] + [len(h)])
        for j, h in ((1, "Value"), (2, "Previous"), (3, "Change"), (4, "n"))
    ]
    t = new_table(color, title)
    label_w = min(32, max([len(str(r[0])) for r in rows] + [3]))
    t.add_column("KPI", no_wrap=True, min_width=label_w, max_width=32, overflow="ellipsis")
    t.add_column("Value", justify="right", no_wrap=True, min_width=widths[0])
    t.add_column("Previous", justify="right", no_wrap=True, min_width=widths[1])
    t.add_column("Change", justify="right", no_wrap=True, min_width=widths[2])
    if show_n:
        t.add_column("n", justify="right", no_wrap=True, min_width=widths[3])
    used = label_w + sum(widths[:3]) + (widths[3] if show_n else 0) + 3 * (4 if show_n else 3) + 3
    t.add_column(
        "Note", no_wrap=True, overflow="ellipsis", style="dim", max_width=max(10, width - used)
    )
    for *cells, last in rows:
        if not show_n:
            del cells[4]
        t.add_row(*cells, end_section=last)
    return t


def header_panel(report: Any, color: bool) -> Panel | Text:
    w, p = report.window, report.previous_window
    lines = Text()
    lines.append("As of ", style="dim")
    lines.append(str(report.as_of), style="bold")
    lines.append(f"   window {w.get('start')} → {w.get('end')} ({w.get('period')})", style="")
    lines.append(f"   vs {p.get('start')} → {p.get('end')}", style="dim")
    lines.append(f"   money in {report.currency}")
    if report.inputs:
        lines.append("\nInputs: ", style="dim")
        lines.append(
            "  ".join(
                f"{name} {F.count(d.get('rows_used'))}"
                + (
                    f" ({F.count(d.get('rows_read', 0) - d.get('rows_used', 0))} set aside)"
                    if d.get("rows_read", 0) > d.get("rows_used", 0)
                    else ""
                )
                for name, d in report.inputs.items()
            )
            + " rows"
        )
    title = "csm report"
    if color:
        return Panel(lines, title=title, title_align="left", box=box.ROUNDED, expand=True)
    return Text(f"== {title} ==\n") + lines


def health_section(report: Any, color: bool, *, top: int = 10) -> list[Any]:
    h = report.health
    if not h:
        return [Text("Health: no scores (health scores need an accounts dataset).", style="dim")]
    cur = report.currency
    s = h.get("summary") or {}
    bands = new_table(color, "Health")
    bands.add_column("Band")
    bands.add_column("Accounts", justify="right")
    bands.add_column("ARR", justify="right")
    for name, b in (s.get("bands") or {}).items():
        bands.add_row(
            Text(F.band_label(name), style=band_style(b.get("color")) if color else ""),
            F.count(b.get("accounts")),
            F.money(b.get("arr"), cur),
        )
    if s.get("not_scored"):
        bands.add_row(Text("not scored", style="dim"), F.count(s.get("not_scored")), "")
    summary = Text()
    summary.append(f"Average score {F.score(s.get('score_avg'))}")
    if F.is_number(s.get("previous_score_avg")):
        summary.append(f" (previous {F.score(s.get('previous_score_avg'))})", style="dim")
    summary.append(f"\nARR at risk {F.money(s.get('arr_at_risk'), cur)}")
    if s.get("overrides"):
        summary.append(f"\n{s['overrides']} CSM override(s) applied", style="dim")

    from cs_metrics.render.tabular import top_driver

    accounts = [a for a in (h.get("accounts") or []) if a.get("score") is not None]
    lowest = _lowest_band(s)
    risky = [a for a in accounts if a.get("band") == lowest][:top] or accounts[: min(top, 5)]
    at_risk = new_table(color, f"Top at-risk accounts ({len(risky)} shown)")
    at_risk.add_column("Account", no_wrap=True, max_width=16, overflow="ellipsis")
    at_risk.add_column("Name", no_wrap=True, max_width=30, overflow="ellipsis")
    at_risk.add_column("Score", justify="right")
    at_risk.add_column("Band", no_wrap=True)
    at_risk.add_column("Change", justify="right")
    at_risk.add_column("ARR", justify="right", no_wrap=True)
    at_risk.add_column("Top negative driver", no_wrap=True, overflow="ellipsis")
    for a in risky:
        at_risk.add_row(
            str(a.get("account_id") or ""),
            Text(str(a.get("name") or "")),
            F.score(a.get("score")),
            Text(
                F.band_label(a.get("band")), style=band_style(a.get("band_color")) if color else ""
            ),
            score_change_cell(a.get("change"), color),
            F.money(a.get("arr"), cur),
            Text(top_driver(a)),
        )
    return [bands, summary, Text(""), at_risk] if risky else [bands, summary]


def _lowest_band(summary: dict[str, Any]) -> str | None:
    bands = summary.get("bands") or {}
    if not bands:
        return None
    return min(
        bands.items(), key=lambda kv: kv[1].get("min") if F.is_number(kv[1].get("min")) else 0
    )[0]


def render_report(report: Any, *, color: bool = False, width: int | None = None) -> str:
    con = console(color, width)
    con.print(header_panel(report, color))
    con.print()
    con.print(kpi_table(report.kpis, report.currency, color, width=con.width))
    if report.groups:
        con.print()
        for i, t in enumerate(groups_table(report, color, con.width)):
            if i:
                con.print()
            con.print(t)
    con.print()
    for part in health_section(report, color):
        con.print(part)
    con.print()
    con.print(
        Text(F.quality_line(report.data_quality or {}), style="dim" if color else ""),
        soft_wrap=True,
    )
    for note in report.notes:
        con.print(Text(f"Note: {note}", style="dim" if color else ""), soft_wrap=True)
    return export(con)


def groups_table(report: Any, color: bool, width: int = DEFAULT_WIDTH) -> list[Table]:
    """KPIs × group values (only KPIs available in some group), split into as many
    tables as it takes to show every number in full within `width` columns."""
    cur = report.currency
    values = list(report.groups.get("values", {}).items())
    order: list[str] = []
    meta: dict[str, Any] = {}
    for _, g in values:
        for k in g.get("kpis", []):
            if k.id not in meta:
                order.append(k.id)
                meta[k.id] = k
    cells: dict[str, list[str]] = {}
    for kid in order:
        row, any_value = [], False
        for _, g in values:
            k = next((x for x in g.get("kpis", []) if x.id == kid), None)
            row.append(F.value(k.value, k.unit, cur) if k is not None else F.DASH)
            any_value |= k is not None and k.value is not None
        if any_value:
            cells[kid] = row
    label_w = min(30, max([len(meta[k].label) for k in cells] + [3]))
    col_w = [
        max([len(str(v))] + [len(r[j]) for r in cells.values()]) for j, (v, _) in enumerate(values)
    ]
    chunks: list[list[int]] = [[]]
    used = label_w
    for j, w in enumerate(col_w):
        w = min(w, 24)
        if chunks[-1] and used + 3 + w > width:
            chunks.append([])
            used = label_w
        chunks[-1].append(j)
        used += 3 + w
    tables = []
    for ci, chunk in enumerate(chunks):
        title = f"KPIs by {report.groups.get('by')}" + (
            f" ({ci + 1}/{len(chunks)})" if len(chunks) > 1 else ""
        )
        t = new_table(color, title)
        t.add_column("KPI", no_wrap=True, min_width=label_w, max_width=30, overflow="ellipsis")
        for j in chunk:
            t.add_column(
                str(values[j][0]),
                justify="right",
                no_wrap=True,
                min_width=min(col_w[j], 24),
                max_width=24,
                overflow="ellipsis",
            )
        for kid, row in cells.items():
            t.add_row(meta[kid].label, *[row[j] for j in chunk])
        tables.append(t)
    return tables
