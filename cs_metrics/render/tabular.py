"""CSV (one table: kpis | health | issues) and Markdown (the whole report).

CSV is for spreadsheets and scripts: numbers unrounded, text cells guarded
against formula injection. Markdown is for people (wiki pages, tickets):
rounded values, every text cell escaped so a hostile account name cannot
inject HTML or break the table.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from cs_metrics.render import formatting as F
from cs_metrics.render.files import neutralise

KPI_COLUMNS = [
    "id",
    "label",
    "category",
    "unit",
    "value",
    "previous",
    "change",
    "better",
    "direction",
    "n",
    "set_aside",
    "unavailable_reason",
]
HEALTH_COLUMNS = [
    "rank",
    "account_id",
    "name",
    "score",
    "band",
    "previous_score",
    "change",
    "arr",
    "coverage",
    "profile",
    "override",
    "top_negative",
    "top_positive",
    "not_scored_reason",
]
ISSUE_COLUMNS = ["code", "level", "dataset", "file", "row", "column", "value", "message"]


# ------------------------------------------------------------------ CSV
def _cell(x: Any) -> Any:
    """Numbers as full-precision numbers, text neutralised, None as empty."""
    if x is None:
        return ""
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, float):
        return repr(x) if F.is_number(x) else ""
    if isinstance(x, int):
        return x
    return neutralise(str(x))


def kpi_rows(report: Any) -> tuple[list[str], list[list[Any]]]:
    cols = list(KPI_COLUMNS)
    grouped = bool(report.groups)
    if grouped:
        cols = ["group", *cols]
    rows = []

    def add(kpis: list[Any], group: str | None) -> None:
        for k in kpis:
            d = k.to_dict()
            d["direction"] = k.direction
            row = [d[c] for c in KPI_COLUMNS]
            rows.append([group, *row] if grouped else row)

    add(report.kpis, "" if grouped else None)
    if grouped:
        for value, g in report.groups.get("values", {}).items():
            add(g.get("kpis", []), str(value))
    return cols, rows


def health_rows(report: Any) -> tuple[list[str], list[list[Any]]]:
    accounts = (report.health or {}).get("accounts") or []
    rows = [[i + 1, *[a.get(c) for c in HEALTH_COLUMNS[1:]]] for i, a in enumerate(accounts)]
    return list(HEALTH_COLUMNS), rows


def issue_rows(report: Any) -> tuple[list[str], list[list[Any]]]:
    issues = (report.data_quality or {}).get("issues") or []
    return list(ISSUE_COLUMNS), [[i.get(c) for c in ISSUE_COLUMNS] for i in issues]


TABLES = {"kpis": kpi_rows, "health": health_rows, "issues": issue_rows}


def write_csv(cols: list[str], rows: list[list[Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    w.writerows([_cell(x) for x in r] for r in rows)
    return buf.getvalue()


def render_csv(report: Any, table: str = "kpis") -> str:
    cols, rows = TABLES[table](report)
    return write_csv(cols, rows)


# ------------------------------------------------------------------ Markdown
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|<>#])")


def md(text: Any) -> str:
    """Escape one table cell: Markdown punctuation, HTML angle brackets, line breaks."""
    if text is None:
        return ""
    s = str(text).replace("&", "&amp;").replace("\r", " ").replace("\n", " ")
    s = _MD_SPECIAL.sub(lambda m: {"<": "&lt;", ">": "&gt;"}.get(m.group(1), "\\" + m.group(1)), s)
    return s


def md_table(header: list[str], rows: list[list[str]], align: str | None = None) -> list[str]:
    align = align or "l" * len(header)
    sep = ["---:" if a == "r" else "---" for a in align]
    out = ["| " + " | ".join(header) + " |", "| " + " | ".join(sep) + " |"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def _change_text(k: Any, cur: str) -> str:
    c = F.change(k.change, k.unit, cur)
    if not c:
        return ""
    mark = {"better": " (better)", "worse": " (worse)"}.get(k.direction or "", "")
    return f"{F.arrow(k)} {c}{mark}"


def kpi_markdown(kpis: list[Any], currency: str) -> list[str]:
    out: list[str] = []
    for cat, ks in F.kpis_by_category(kpis):
        out += [f"### {md(F.category_label(cat))}", ""]
        rows = []
        for k in ks:
            note = k.unavailable_reason or ""
            if k.set_aside:
                note = (note + "; " if note else "") + f"{k.set_aside:,} rows set aside"
            rows.append(
                [
                    md(k.label),
                    F.value(k.value, k.unit, currency),
                    F.value(k.previous, k.unit, currency),
                    _change_text(k, currency),
                    F.count(k.n) if k.n is not None else "",
                    md(note),
                ]
            )
        out += md_table(["KPI", "Value", "Previous", "Change", "n", "Note"], rows, "lrrrrl")
        out.append("")
    return out


def health_markdown(
    health: dict[str, Any] | None, currency: str, top: int | None = 20
) -> list[str]:
    if not health:
        return ["_No health scores: they need an accounts dataset._", ""]
    s = health.get("summary") or {}
    out = [
        (
            f"Accounts: {F.count(s.get('accounts'))}, scored {F.count(s.get('scored'))}, "
            f"average score {F.score(s.get('score_avg'))} (previous {F.score(s.get('previous_score_avg'))}); "
            f"ARR at risk {F.money(s.get('arr_at_risk'), currency)}."
        ),
        "",
    ]
    rows = [
        [md(F.band_label(name)), F.count(b.get("accounts")), F.money(b.get("arr"), currency)]
        for name, b in (s.get("bands") or {}).items()
    ]
    out += md_table(["Band", "Accounts", "ARR"], rows, "lrr") + [""]
    accounts = health.get("accounts") or []
    shown = accounts if top is None else accounts[:top]
    if shown:
        out += [
            f"#### {'Accounts by risk' if top is None else f'Riskiest {len(shown)} accounts'}",
            "",
        ]
        rows = [
            [
                md(a.get("account_id")),
                md(a.get("name")),
                F.score(a.get("score")),
                md(F.band_label(a.get("band"))),
                F.signed(a.get("change")),
                F.money(a.get("arr"), currency),
                md(top_driver(a)),
            ]
            for a in shown
        ]
        out += md_table(
            ["Account", "Name", "Score", "Band", "Change", "ARR", "Top negative driver"],
            rows,
            "llrlrrl",
        ) + [""]
    return out


def top_driver(account: dict[str, Any]) -> str:
    """'Label (raw value, −12.3 pts)' for the measure that cost the account the most points."""
    for d in account.get("drivers") or []:
        if d.get("direction") == "down":
            pts = d.get("impact")
            return (
                f"{d.get('label') or d.get('measure')} ({F.raw(d.get('raw'), d.get('unit'))}, {F.signed(pts)} pts)"
            )
    if account.get("not_scored_reason"):
        return str(account["not_scored_reason"])
    return str(account.get("top_negative") or "")


def quality_markdown(dq: dict[str, Any]) -> list[str]:
    out = [F.quality_line(dq), ""]
    ds = dq.get("datasets") or {}
    if ds:
        rows = [
            [
                md(name),
                md(", ".join(d.get("files") or [])),
                F.count(d.get("rows_read")),
                F.count(d.get("rows_used")),
            ]
            for name, d in ds.items()
        ]
        out += md_table(["Dataset", "Files", "Rows read", "Rows used"], rows, "llrr") + [""]
    _, kinds = F.issue_summary(dq)
    if kinds:
        out += md_table(["Issue", "Count"], [[md(c), F.count(n)] for c, n in kinds], "lr") + [""]
    return out


def render_markdown(report: Any) -> str:
    cur = report.currency
    w, p = report.window, report.previous_window
    out = [
        f"# Customer success report — {md(report.as_of)}",
        "",
        (
            f"Window {md(w.get('start'))} to {md(w.get('end'))} ({md(w.get('period'))}), compared with "
            f"{md(p.get('start'))} to {md(p.get('end'))}. Money in {md(cur)}."
        ),
        "",
    ]
    if report.inputs:
        out.append(
            "Inputs: "
            + "; ".join(
                f"{md(n)} ({F.count(d.get('rows_used'))} of {F.count(d.get('rows_read'))} rows)"
                for n, d in report.inputs.items()
            )
            + "."
        )
        out.append("")
    out += ["## KPIs", ""] + kpi_markdown(report.kpis, cur)
    if report.groups:
        out += [f"## KPIs by {md(report.groups.get('by'))}", ""]
        for value, g in report.groups.get("values", {}).items():
            out += [f"### {md(value)}", ""]
            rows = [
                [
                    md(k.label),
                    F.value(k.value, k.unit, cur),
                    F.value(k.previous, k.unit, cur),
                    _change_text(k, cur),
                ]
                for k in g.get("kpis", [])
                if k.value is not None
            ]
            out += md_table(["KPI", "Value", "Previous", "Change"], rows, "lrrr") + [""]
    out += ["## Health", ""] + health_markdown(report.health, cur)
    out += ["## Data quality", ""] + quality_markdown(report.data_quality or {})
    footer = f"_Generated {md(report.generated_at)}"
    if report.config_hash:
        footer += f", config {md(str(report.config_hash)[:12])}"
    out.append(footer + "._")
    return "\n".join(out).rstrip() + "\n"
