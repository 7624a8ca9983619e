"""A formatted Excel workbook: Summary, KPIs, Health, Drivers, Data quality.

Numbers stay numbers (unrounded) with a number format per unit (currency,
percent, hours...); headers are styled, the header row is frozen and has an
autofilter; bands are coloured by conditional formats and scores by a colour
scale. Every text cell is neutralised: a name like `=HYPERLINK(...)` must
never become a formula. Written with openpyxl's write-only mode through the
small interface in `xlsx_writer` (styles built once, rows streamed); the
tests read it back with openpyxl.
"""

from __future__ import annotations

from typing import Any

from cs_metrics.render import formatting as F
from cs_metrics.render.files import neutralise
from cs_metrics.render.xlsx_writer import Cell, SheetWriter, Style, Workbook, col_letter

HEADER = Style(bold=True, color="FFFFFF", fill="334E68")
TITLE = Style(bold=True, size=14)
BOLD = Style(bold=True)
BAND_FILLS = {
    "green": "C6EFCE",
    "yellow": "FFEB9C",
    "red": "FFC7CE",
    "orange": "F8CBAD",
    "amber": "FFEB9C",
    "blue": "BDD7EE",
    "grey": "E7E6E6",
    "gray": "E7E6E6",
}
BAND_FONTS = {
    "green": "006100",
    "yellow": "9C5700",
    "red": "9C0006",
    "orange": "833C0B",
    "amber": "9C5700",
    "blue": "1F4E78",
    "grey": "3A3838",
    "gray": "3A3838",
}
INT = Style("#,##0")
ONE = Style("0.0")
SIGNED = Style("+0.0;-0.0;0.0")


def number_format(unit: str | None, currency: str) -> str:
    cur = str(currency).replace('"', "")
    return {
        "currency": f'#,##0.00 "{cur}";-#,##0.00 "{cur}"',
        "ratio": "0.0%",
        "count": "#,##0.##",
        "hours": '0.0 "h"',
        "days": '0.0 "d"',
        "months": '0.0 "mo"',
        "minutes": '0.0 "min"',
    }.get(unit or "", "0.0")


def _t(x: Any) -> Any:
    """Text cells neutralised; numbers, booleans and None untouched."""
    if x is None or isinstance(x, (bool, int, float)):
        return x
    return neutralise(str(x))


def table(
    wb: Workbook, name: str, columns: list[tuple[str, float, Style | None]]
) -> tuple[SheetWriter, list]:
    sh = wb.add_sheet(name, [w for _, w, _ in columns], freeze_header=True)
    sh.append([c for c, _, _ in columns], [HEADER] * len(columns))
    sh.autofilter()
    return sh, [s for _, _, s in columns]


def _col_range(sh: SheetWriter, col: int) -> str:
    letter = col_letter(col)
    return f"{letter}2:{letter}{max(sh.n_rows, 2)}"


def _summary(wb: Workbook, report: Any) -> None:
    sh = wb.add_sheet("Summary", [28, 22, 22, 40])
    w, p = report.window, report.previous_window
    sh.append([f"Customer success report — {report.as_of}"], [TITLE])
    sh.append([])
    for label, v in (
        ("As of", report.as_of),
        ("Window", f"{w.get('start')} to {w.get('end')} ({w.get('period')})"),
        ("Previous window", f"{p.get('start')} to {p.get('end')}"),
        ("Currency", report.currency),
        ("Generated (UTC)", report.generated_at),
        ("Config hash", report.config_hash or ""),
    ):
        sh.append([label, _t(v)], [BOLD, None])
    sh.append([])
    sh.append(["Inputs", "Rows read", "Rows used", "Files"], [BOLD] * 4)
    for name, d in report.inputs.items():
        sh.append(
            [_t(name), d.get("rows_read"), d.get("rows_used"), _t(", ".join(d.get("files") or []))],
            [None, INT, INT, None],
        )
    h = report.health
    if h:
        s = h.get("summary") or {}
        money = Style(number_format("currency", report.currency))
        sh.append([])
        sh.append(["Health band", "Accounts", "ARR"], [BOLD] * 3)
        for name, b in (s.get("bands") or {}).items():
            col = str(b.get("color") or "").lower()
            st = (
                Style(bold=True, color=BAND_FONTS[col], fill=BAND_FILLS[col])
                if col in BAND_FILLS
                else None
            )
            sh.append([_t(F.band_label(name)), b.get("accounts"), b.get("arr")], [st, INT, money])
        if s.get("not_scored"):
            sh.append(["not scored", s.get("not_scored")], [None, INT])
        sh.append(["Average score", s.get("score_avg")], [BOLD, ONE])
        sh.append(["Previous average", s.get("previous_score_avg")], [BOLD, ONE])
        sh.append(["ARR at risk", s.get("arr_at_risk")], [BOLD, money])
    sh.append([])
    sh.append([_t(F.quality_line(report.data_quality or {}))])
    for n in report.notes:
        sh.append([_t(f"Note: {n}")])


def _kpis(wb: Workbook, report: Any) -> None:
    cur = report.currency
    grouped = bool(report.groups)
    cols: list[tuple[str, float, Style | None]] = [
        ("Category", 14, None),
        ("KPI", 34, None),
        ("Value", 16, None),
        ("Previous", 16, None),
        ("Change", 16, None),
        ("Better", 8, None),
        ("n", 10, INT),
        ("Rows set aside", 14, INT),
        ("Unavailable because", 50, None),
        ("Unit", 10, None),
        ("Id", 30, None),
    ]
    if grouped:
        cols.insert(0, (str(report.groups.get("by") or "group"), 18, None))
    sh, _ = table(wb, "KPIs", cols)

    def add(kpis: list[Any], group: str | None) -> None:
        for k in kpis:
            fmt = Style(number_format(k.unit, cur))
            vals = [
                F.category_label(k.category),
                _t(k.label),
                k.value,
                k.previous,
                k.change,
                k.better,
                k.n,
                k.set_aside,
                _t(k.unavailable_reason),
                k.unit,
                _t(k.id),
            ]
            styles: list[Style | None] = [
                None,
                None,
                fmt,
                fmt,
                fmt,
                None,
                INT,
                INT,
                None,
                None,
                None,
            ]
            if grouped:
                vals.insert(0, _t(group) if group is not None else "(all)")
                styles.insert(0, None)
            sh.append(vals, styles)

    add(report.kpis, None)
    if grouped:
        for v, g in report.groups.get("values", {}).items():
            add(g.get("kpis", []), str(v))
    off = 1 if grouped else 0
    chg, better = col_letter(5 + off), col_letter(6 + off)
    rng = _col_range(sh, 5 + off)
    good = wb.dxf(color="006100")
    bad = wb.dxf(color="9C0006")
    sh.rule_expression(
        rng, f'OR(AND({better}2="higher",{chg}2>0),AND({better}2="lower",{chg}2<0))', good
    )
    sh.rule_expression(
        rng, f'OR(AND({better}2="higher",{chg}2<0),AND({better}2="lower",{chg}2>0))', bad
    )


def _band_rules(wb: Workbook, sh: SheetWriter, col: int, report: Any) -> None:
    bands = ((report.health or {}).get("summary") or {}).get("bands") or {}
    letter = col_letter(col)
    for name, b in bands.items():
        color = str(b.get("color") or "").lower()
        if color not in BAND_FILLS:
            continue
        dxf = wb.dxf(fill=BAND_FILLS[color], color=BAND_FONTS[color], bold=True)
        safe = str(name).replace('"', '""')
        sh.rule_expression(_col_range(sh, col), f'{letter}2="{safe}"', dxf)


def _health(wb: Workbook, report: Any) -> None:
    money = Style(number_format("currency", report.currency))
    accounts = (report.health or {}).get("accounts") or []
    sh, styles = table(
        wb,
        "Health",
        [
            ("Rank", 7, INT),
            ("Account", 14, None),
            ("Name", 32, None),
            ("Score", 9, ONE),
            ("Band", 11, None),
            ("Previous score", 10, ONE),
            ("Change", 9, SIGNED),
            ("ARR", 18, money),
            ("Coverage", 10, Style("0%")),
            ("Profile", 12, None),
            ("Override", 14, None),
            ("Top negative driver", 26, None),
            ("Top positive driver", 26, None),
            ("Not scored because", 40, None),
        ],
    )
    for i, a in enumerate(accounts, start=1):
        sh.append(
            [
                i,
                _t(a.get("account_id")),
                _t(a.get("name")),
                a.get("score"),
                _t(a.get("band")),
                a.get("previous_score"),
                a.get("change"),
                a.get("arr"),
                a.get("coverage"),
                _t(a.get("profile")),
                _t(a.get("override")),
                _t(_label_of(a, a.get("top_negative"))),
                _t(_label_of(a, a.get("top_positive"))),
                _t(a.get("not_scored_reason")),
            ],
            styles,
        )
    _band_rules(wb, sh, 5, report)
    if accounts:
        sh.rule_color_scale(_col_range(sh, 4), [(0, "F8696B"), (50, "FFEB84"), (100, "63BE7B")])


def _label_of(account: dict[str, Any], measure: Any) -> Any:
    if measure is None:
        return None
    for d in account.get("drivers") or []:
        if d.get("measure") == measure:
            return d.get("label") or measure
    return measure


def _drivers(wb: Workbook, report: Any) -> None:
    accounts = (report.health or {}).get("accounts") or []
    sh, styles = table(
        wb,
        "Drivers",
        [
            ("Account", 14, None),
            ("Name", 32, None),
            ("Band", 11, None),
            ("Direction", 10, None),
            ("Measure", 26, None),
            ("Group", 20, None),
            ("Raw value", 14, Style("#,##0.####")),
            ("Measure score", 13, ONE),
            ("Effective weight", 15, Style("0.0%")),
            ("Points", 10, SIGNED),
        ],
    )
    for a in accounts:
        aid, name, band = _t(a.get("account_id")), _t(a.get("name")), _t(a.get("band"))
        for d in a.get("drivers") or []:
            pts = d.get("impact") if d.get("direction") == "down" else d.get("contribution")
            sh.append(
                [
                    aid,
                    name,
                    band,
                    _t(d.get("direction")),
                    _t(d.get("label") or d.get("measure")),
                    _t(d.get("group")),
                    _t(d.get("raw")),
                    d.get("score"),
                    d.get("effective_weight"),
                    pts,
                ],
                styles,
            )
    _band_rules(wb, sh, 3, report)


def _quality(wb: Workbook, report: Any) -> None:
    dq = report.data_quality or {}
    sh, styles = table(
        wb,
        "Data quality",
        [
            ("Code", 22, None),
            ("Level", 9, None),
            ("Dataset", 11, None),
            ("File", 24, None),
            ("Row", 8, None),
            ("Column", 22, None),
            ("Value", 28, None),
            ("Message", 70, None),
        ],
    )
    for i in dq.get("issues") or []:
        sh.append(
            [
                _t(i.get(c))
                for c in ("code", "level", "dataset", "file", "row", "column", "value", "message")
            ],
            styles,
        )
    for f in dq.get("ignored_files") or []:
        sh.append(
            [
                "ignored-file",
                "info",
                None,
                _t(f.get("file")),
                None,
                None,
                None,
                _t(f.get("reason")),
            ],
            styles,
        )


def render_xlsx(report: Any) -> bytes:
    wb = Workbook()
    _summary(wb, report)
    _kpis(wb, report)
    _health(wb, report)
    _drivers(wb, report)
    _quality(wb, report)
    return wb.to_bytes()


__all__ = ["Cell", "number_format", "render_xlsx"]
