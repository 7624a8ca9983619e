"""Views for the other commands: validate, kpis (--list), health, explain, backtest, trend.

Each takes what the CLI computed and a format; terminal tables reuse the
report's terminal helpers, JSON goes through the same stable dumper, and
Markdown/CSV reuse the tabular helpers, so numbers look the same everywhere.
"""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text

from cs_metrics.errors import UsageError
from cs_metrics.render import formatting as F
from cs_metrics.render.json_ import dumps
from cs_metrics.render.tabular import (
    HEALTH_COLUMNS,
    health_markdown,
    kpi_markdown,
    md,
    md_table,
    top_driver,
    write_csv,
)
from cs_metrics.render.terminal import (
    band_style,
    console,
    export,
    kpi_table,
    new_table,
    score_change_cell,
)
from cs_metrics.results import clean_tree


def _check(fmt: str, allowed: tuple[str, ...], command: str) -> str:
    f = (fmt or "table").lower()
    if f not in allowed:
        raise UsageError(
            f"csm {command}: unknown format {fmt!r}: expected one of {', '.join(allowed)}"
        )
    return f


def _title(text: str, color: bool) -> Text:
    return Text(text, style="bold" if color else "")


# ------------------------------------------------------------------ csm validate
def render_data_quality(bundle: Any, fmt: str, *, color: bool = False, examples: int = 3) -> str:
    """Datasets (files, rows read/used, columns canonical ← header), ignored files, issues by code."""
    from cs_metrics.report import data_quality_of

    f = _check(fmt, ("table", "json"), "validate")
    dq = data_quality_of(bundle)
    if f == "json":
        return dumps(clean_tree(bundle.data_quality()))
    con = console(color)
    t = new_table(color, "Datasets")
    t.add_column("Dataset")
    t.add_column("Files (matched by)", overflow="fold", max_width=48)
    t.add_column("Rows read", justify="right")
    t.add_column("Rows used", justify="right")
    t.add_column("Set aside", justify="right")
    for name, d in dq["datasets"].items():
        aside = int(d.get("rows_read", 0)) - int(d.get("rows_used", 0))
        how = d.get("matched_by") or {}
        t.add_row(
            name,
            ", ".join(f"{f} ({how[f]})" if how.get(f) else f for f in d.get("files") or []),
            F.count(d.get("rows_read")),
            F.count(d.get("rows_used")),
            Text(F.count(aside), style="yellow" if color and aside else ""),
        )
    if not dq["datasets"]:
        con.print("No dataset was recognised.")
    else:
        con.print(t)
    for name, d in dq["datasets"].items():
        cols = new_table(color, f"{name}: columns")
        cols.add_column("Canonical")
        cols.add_column("← header in the file", overflow="fold")
        cols.add_column("Also matched", overflow="fold", style="dim")
        also = d.get("also_matched") or {}
        from_config = set(d.get("columns_from_config") or [])
        for canon, header in (d.get("columns") or {}).items():
            shown = f"{header} (config)" if canon in from_config else str(header)
            cols.add_row(canon, Text(shown), Text(", ".join(also.get(canon, []))))
        con.print()
        con.print(cols)
    if dq.get("ignored_files"):
        con.print()
        ig = new_table(color, "Ignored files")
        ig.add_column("File", overflow="fold")
        ig.add_column("Why", overflow="fold")
        for item in dq["ignored_files"]:
            ig.add_row(Text(str(item.get("file"))), Text(str(item.get("reason"))))
        con.print(ig)
    con.print()
    _, kinds = F.issue_summary(dq)
    if not kinds:
        con.print(_title("No data-quality issues.", color))
        return export(con)
    by_code: dict[str, list[dict[str, Any]]] = {}
    for i in dq["issues"]:
        by_code.setdefault(i.get("code") or "?", []).append(i)
    it = new_table(color, "Issues")
    it.add_column("Issue")
    it.add_column("Count", justify="right")
    it.add_column("First rows (file, row, column: value)", overflow="fold")
    for code, n in kinds:
        items = by_code.get(code, [])
        lines = []
        for i in items[:examples]:
            where = ", ".join(
                x
                for x in (
                    i.get("file"),
                    f"row {i['row']}" if i.get("row") is not None else None,
                    f"'{i['column']}'" if i.get("column") else None,
                )
                if x
            )
            val = f": {i['value']!r}" if i.get("value") is not None else ""
            lines.append(f"{where}{val}" if where or val else str(i.get("message")))
        if items:
            lines.append(f"  {items[0].get('message')}")
        level = items[0].get("level") if items else "warning"
        style = {"error": "bold red", "warning": "yellow"}.get(str(level), "") if color else ""
        it.add_row(Text(code, style=style), F.count(n), Text("\n".join(lines)), end_section=True)
    con.print(it)
    con.print(
        Text(
            F.quality_line(dq).replace(" — details: csm validate", "."),
            style="dim" if color else "",
        ),
        soft_wrap=True,
    )
    return export(con)


# ------------------------------------------------------------------ csm kpis --list
def render_catalogue(fmt: str, *, color: bool = False) -> str:
    from cs_metrics.metrics.registry import catalogue

    f = _check(fmt, ("table", "json", "md"), "kpis --list")
    kpis = catalogue()
    if f == "json":
        return dumps(
            {
                "kpis": [
                    {
                        "id": k.id,
                        "label": k.label,
                        "category": k.category,
                        "unit": k.unit,
                        "better": k.better,
                        "needs": list(k.needs),
                        "description": k.description,
                    }
                    for k in kpis
                ]
            }
        )
    groups: dict[str, list[Any]] = {}
    for k in kpis:
        groups.setdefault(k.category, []).append(k)
    order = [c for c in F.CATEGORY_ORDER if c in groups] + sorted(
        c for c in groups if c not in F.CATEGORY_ORDER
    )
    if f == "md":
        rows = [
            [
                f"`{k.id}`",
                md(k.label),
                md(F.category_label(k.category)),
                md(k.unit),
                md(k.better),
                md(k.description),
            ]
            for c in order
            for k in groups[c]
        ]
        return (
            "\n".join(md_table(["id", "KPI", "Category", "Unit", "Better", "Definition"], rows))
            + "\n"
        )
    con = console(color)
    t = new_table(color)
    t.add_column("id", no_wrap=True, style="cyan" if color else "")
    t.add_column("KPI", max_width=30)
    t.add_column("Unit", no_wrap=True)
    t.add_column("Better", no_wrap=True)
    t.add_column("Definition", overflow="fold")
    for ci, c in enumerate(order):
        t.add_row(Text(F.category_label(c).upper(), style="bold" if color else ""), "", "", "", "")
        for i, k in enumerate(groups[c]):
            t.add_row(
                k.id,
                k.label,
                k.unit,
                k.better,
                k.description,
                end_section=i == len(groups[c]) - 1 and ci < len(order) - 1,
            )
    con.print(t)
    return export(con)


# ------------------------------------------------------------------ csm kpis
def _currency(analysis: Any) -> str:
    return str(analysis.config.get("currency", {}).get("base", "USD"))


def render_kpis(analysis: Any, fmt: str, *, color: bool = False) -> str:
    f = _check(fmt, ("table", "json", "md", "csv"), "kpis")
    cur = _currency(analysis)
    table = analysis.kpis
    if f == "json":
        out: dict[str, Any] = {
            "as_of": analysis.as_of.date().isoformat(),
            "window": analysis.window.to_dict(),
            "previous_window": analysis.previous_window.to_dict(),
            "currency": cur,
            "kpis": [k.to_dict() for k in table.kpis],
        }
        if table.by:
            out["groups"] = {
                "by": table.by,
                "values": {
                    str(v): {"kpis": [k.to_dict() for k in ks]} for v, ks in table.groups.items()
                },
            }
        return dumps(clean_tree(out))
    if f in ("md", "csv"):
        from cs_metrics.report import build_report

        rep = build_report(analysis, trend=False)
        if f == "csv":
            from cs_metrics.render.tabular import render_csv

            return render_csv(rep, "kpis")
        lines = kpi_markdown(table.kpis, cur)
        for v, ks in table.groups.items():
            lines += [f"## {md(table.by)}: {md(v)}", ""] + kpi_markdown(ks, cur)
        return "\n".join(lines).rstrip() + "\n"
    con = console(color)
    w = analysis.window
    con.print(
        _title(
            f"KPIs as of {analysis.as_of.date()}  (window {w.start.date()} → {w.end.date()}, "
            f"money in {cur})",
            color,
        )
    )
    con.print(kpi_table(table.kpis, cur, color, width=con.width))
    for v, ks in table.groups.items():
        con.print()
        con.print(kpi_table(ks, cur, color, title=f"{table.by} = {v}", width=con.width))
    return export(con)


# ------------------------------------------------------------------ csm health
def filter_accounts(
    health: dict[str, Any], band: str | None, top: int | None
) -> list[dict[str, Any]]:
    accounts = list(health.get("accounts") or [])
    if band is not None:
        names = set((health.get("summary") or {}).get("bands") or {})
        key = band.strip().lower().replace(" ", "_").replace("-", "_")
        if names and key not in names:
            raise UsageError(f"--band {band!r}: expected one of {', '.join(sorted(names))}")
        accounts = [a for a in accounts if a.get("band") == key]
    if top is not None:
        accounts = accounts[: max(int(top), 0)]
    return accounts


def _by_groups(
    analysis: Any, by: str, accounts: list[dict[str, Any]]
) -> tuple[list[str], dict[str, dict]]:
    """Band counts and ARR per value of an accounts column, in band order."""
    frame = analysis.bundle.frame("accounts")
    if frame is None or by not in frame.columns:
        cols = ", ".join(str(c) for c in (frame.columns if frame is not None else []))
        raise UsageError(f"--by {by!r}: no such accounts column (columns: {cols})")
    group_of = dict(
        zip(
            frame["account_id"].astype(str),
            frame[by].astype("object").where(frame[by].notna(), None),
        )
    )
    bands = list(((analysis.health or {}).get("summary") or {}).get("bands") or {})
    out: dict[str, dict[str, Any]] = {}
    for a in accounts:
        g = group_of.get(str(a.get("account_id")))
        key = "(blank)" if g is None else str(g)
        row = out.setdefault(
            key,
            {
                "accounts": 0,
                "scores": [],
                "arr_at_risk": 0.0,
                **{b: 0 for b in bands},
                "not_scored": 0,
            },
        )
        row["accounts"] += 1
        b = a.get("band")
        if b in bands:
            row[b] += 1
        else:
            row["not_scored"] += 1
        if a.get("score") is not None:
            row["scores"].append(a["score"])
        if bands and b == bands[-1] and F.is_number(a.get("arr")):
            row["arr_at_risk"] += a["arr"]
    for row in out.values():
        s = row.pop("scores")
        row["score_avg"] = sum(s) / len(s) if s else None
    return bands, dict(sorted(out.items()))


def render_health(
    analysis: Any,
    fmt: str,
    *,
    band: str | None = None,
    top: int | None = None,
    by: str | None = None,
    color: bool = False,
) -> str:
    f = _check(fmt, ("table", "json", "csv", "md"), "health")
    health = analysis.health or {"summary": {}, "accounts": []}
    cur = _currency(analysis)
    accounts = filter_accounts(health, band, top)
    if by:
        bands, groups = _by_groups(analysis, by, filter_accounts(health, band, None))
        if f == "json":
            return dumps(clean_tree({"by": by, "groups": groups}))
        cols = [by, "accounts", *bands, "not_scored", "score_avg", "arr_at_risk"]
        rows = [
            [
                g,
                r["accounts"],
                *[r[b] for b in bands],
                r["not_scored"],
                r["score_avg"],
                r["arr_at_risk"],
            ]
            for g, r in groups.items()
        ]
        if f == "csv":
            return write_csv(cols, rows)
        if f == "md":
            body = [
                [md(r[0]), *[F.count(x) for x in r[1:-2]], F.score(r[-2]), F.money(r[-1], cur)]
                for r in rows
            ]
            return (
                "\n".join(md_table([md(c) for c in cols], body, "l" + "r" * (len(cols) - 1))) + "\n"
            )
        con = console(color)
        t = new_table(color, f"Health bands by {by}")
        t.add_column(by, max_width=30, overflow="ellipsis")
        t.add_column("Accounts", justify="right")
        band_colors = {
            n: b.get("color") for n, b in (health.get("summary") or {}).get("bands", {}).items()
        }
        for b in bands:
            t.add_column(
                Text(F.band_label(b), style=band_style(band_colors.get(b)) if color else ""),
                justify="right",
            )
        t.add_column("Not scored", justify="right")
        t.add_column("Avg score", justify="right")
        t.add_column("ARR at risk", justify="right")
        for r in rows:
            t.add_row(
                Text(str(r[0])), *[F.count(x) for x in r[1:-2]], F.score(r[-2]), F.money(r[-1], cur)
            )
        con.print(t)
        return export(con)
    if f == "json":
        return dumps(clean_tree({"summary": health.get("summary"), "accounts": accounts}))
    if f == "csv":
        rows = [[i + 1, *[a.get(c) for c in HEALTH_COLUMNS[1:]]] for i, a in enumerate(accounts)]
        return write_csv(list(HEALTH_COLUMNS), rows)
    if f == "md":
        lines = health_markdown(
            {"summary": health.get("summary"), "accounts": accounts}, cur, top=None
        )
        return "\n".join(lines).rstrip() + "\n"
    con = console(color)
    s = health.get("summary") or {}
    con.print(
        _title(
            f"Health as of {analysis.as_of.date()}: {F.count(s.get('scored'))} of "
            f"{F.count(s.get('accounts'))} accounts scored, average {F.score(s.get('score_avg'))}, "
            f"ARR at risk {F.money(s.get('arr_at_risk'), cur)}",
            color,
        )
    )
    t = new_table(color)
    id_w = min(14, max([len(str(a.get("account_id"))) for a in accounts] + [7]))
    t.add_column("#", justify="right", no_wrap=True, min_width=len(str(len(accounts))))
    t.add_column("Account", no_wrap=True, min_width=id_w, max_width=14, overflow="ellipsis")
    t.add_column("Name", no_wrap=True, max_width=24, overflow="ellipsis")
    t.add_column("Score", justify="right", min_width=5, no_wrap=True)
    t.add_column("Band", no_wrap=True, min_width=7)
    t.add_column("Change", justify="right", min_width=6, no_wrap=True)
    t.add_column("ARR", justify="right", no_wrap=True)
    t.add_column("Top negative driver", no_wrap=True, overflow="ellipsis", max_width=34)
    for i, a in enumerate(accounts, start=1):
        t.add_row(
            str(i),
            Text(str(a.get("account_id"))),
            Text(str(a.get("name") or "")),
            F.score(a.get("score")),
            Text(
                F.band_label(a.get("band")), style=band_style(a.get("band_color")) if color else ""
            ),
            score_change_cell(a.get("change"), color),
            F.money(a.get("arr"), cur),
            Text(top_driver(a)),
        )
    con.print(t)
    if not accounts:
        con.print("No account matches.")
    return export(con)


# ------------------------------------------------------------------ csm explain
def render_explain(detail: dict[str, Any], fmt: str, *, color: bool = False) -> str:
    f = _check(fmt, ("table", "json"), "explain")
    if f == "json":
        return dumps(clean_tree(detail))
    con = console(color)
    head = Text()
    head.append(f"Account {detail.get('account_id')}", style="bold" if color else "")
    if detail.get("as_of"):
        head.append(f" as of {detail['as_of']}")
    head.append(f": score {F.score(detail.get('score'))}, band ")
    head.append(
        F.band_label(detail.get("band")),
        style=band_style(detail.get("band_color")) if color else "",
    )
    if F.is_number(detail.get("previous_score")):
        head.append(f" (previous {F.score(detail['previous_score'])})")
    extras = []
    if detail.get("profile"):
        extras.append(f"profile {detail['profile']}")
    if F.is_number(detail.get("coverage")):
        extras.append(f"coverage {100 * detail['coverage']:.0f}% of the weight")
    if detail.get("override"):
        extras.append(f"override: {detail['override']}")
    if extras:
        head.append("\n" + "; ".join(extras), style="dim" if color else "")
    if detail.get("not_scored_reason"):
        head.append(f"\nNot scored: {detail['not_scored_reason']}")
    con.print(head)
    t = new_table(color)
    t.add_column("Group / measure", max_width=34, overflow="ellipsis", no_wrap=True)
    t.add_column("Raw", justify="right", no_wrap=True)
    t.add_column("Score", justify="right")
    t.add_column("Weight", justify="right")
    t.add_column("Eff. weight", justify="right")
    t.add_column("Points", justify="right")
    t.add_column("Left out because", overflow="fold", style="dim")
    groups = detail.get("groups") or {}
    for gi, (gid, g) in enumerate(groups.items()):
        t.add_row(
            Text(str(g.get("label") or gid), style="bold" if color else ""),
            "",
            F.score(g.get("score")),
            F.raw(g.get("weight")),
            _pct(g.get("effective_weight")),
            "",
            Text(str(g.get("left_out_reason") or "")),
        )
        ms = list((g.get("measures") or {}).items())
        for mi, (mid, m) in enumerate(ms):
            note = m.get("left_out_reason") or ("imputed" if m.get("imputed") else "")
            t.add_row(
                "  " + str(m.get("label") or mid),
                F.raw(m.get("raw"), m.get('unit')),
                F.score(m.get("score")),
                F.raw(m.get("weight")),
                _pct(m.get("effective_weight")),
                F.signed(m.get("contribution")),
                Text(str(note)),
                end_section=mi == len(ms) - 1 and gi < len(groups) - 1,
            )
    con.print(t)
    drivers = detail.get("drivers") or {}
    for key, title, field in (
        ("down", "Pulling the score down", "impact"),
        ("up", "Holding it up", "contribution"),
    ):
        items = drivers.get(key) or []
        if items:
            con.print(_title(title, color))
            for d in items:
                con.print(
                    f"  {d.get('label') or d.get('measure')}: raw {F.raw(d.get('raw'), d.get('unit'))}, score "
                    f"{F.score(d.get('score'))}, {F.signed(d.get(field))} pts"
                )
    return export(con)


def _pct(x: Any) -> str:
    return f"{100 * x:.1f}%" if F.is_number(x) else ""


# ------------------------------------------------------------------ csm backtest
def render_backtest(result: dict[str, Any], fmt: str, *, color: bool = False) -> str:
    f = _check(fmt, ("table", "json"), "backtest")
    if f == "json":
        return dumps(clean_tree(result))
    cur = result.get("currency")
    con = console(color)
    auc = result.get("auc")
    head = Text()
    head.append(
        f"Backtest: scores as of {result.get('as_of')}, churn in the next {result.get('horizon_days')} days",
        style="bold" if color else "",
    )
    head.append(
        f"\nROC AUC {auc:.3f}"
        if F.is_number(auc)
        else f"\nROC AUC — ({result.get('auc_unavailable_reason') or 'unavailable'})"
    )
    if F.is_number(auc):
        head.append(
            "  (0.5 = no better than chance, 1.0 = perfect ranking)", style="dim" if color else ""
        )
    head.append(
        f"\n{F.count(result.get('n'))} scored accounts, {F.count(result.get('churned'))} churned"
        + (f" ({100 * result['churn_rate']:.1f}%)" if F.is_number(result.get("churn_rate")) else "")
    )
    if result.get("not_scored"):
        head.append(
            f"; {F.count(result['not_scored'])} not scored "
            f"({F.count(result.get('not_scored_churned'))} of them churned)"
        )
    con.print(head)
    t = new_table(color)
    t.add_column("Band")
    t.add_column("Accounts", justify="right")
    t.add_column("Churned", justify="right")
    t.add_column("Churn rate", justify="right")
    t.add_column("ARR", justify="right")
    t.add_column("ARR churned", justify="right")
    for b in result.get("bands") or []:
        rate = b.get("churn_rate")
        t.add_row(
            Text(F.band_label(b.get("band")), style=band_style(b.get("color")) if color else ""),
            F.count(b.get("accounts")),
            F.count(b.get("churned")),
            f"{100 * rate:.1f}%" if F.is_number(rate) else F.DASH,
            F.money(b.get("arr"), cur),
            F.money(b.get("arr_churned"), cur),
        )
    con.print(t)
    con.print(
        f"ARR at risk {F.money(result.get('arr_at_risk'), cur)}, of which churned "
        f"{F.money(result.get('arr_at_risk_churned'), cur)}"
    )
    return export(con)


# ------------------------------------------------------------------ csm trend
KEY_TREND_KPIS = (
    "mrr",
    "new_mrr",
    "expansion_mrr",
    "contraction_mrr",
    "churned_mrr",
    "net_new_mrr",
    "nrr",
    "logo_churn_rate",
    "nps",
    "csat",
    "tickets",
    "first_response_hours_median",
    "active_users",
    "license_utilization",
)


def _period_label(w: Any) -> str:
    if w.period == "month":
        return w.start.strftime("%b %y")
    if w.period == "quarter":
        return f"{w.start.year}-Q{(w.start.month - 1) // 3 + 1}"
    if w.period == "year":
        return str(w.start.year)
    return w.end.strftime("%Y-%m-%d")


def render_trend(
    series: list[tuple[Any, list[Any]]],
    fmt: str,
    *,
    currency: str,
    color: bool = False,
    all_kpis: bool = False,
) -> str:
    """KPI × period. The table shows the key KPIs that have a value in some period
    (all of them when the caller asked for specific ids); JSON and CSV carry every KPI."""
    f = _check(fmt, ("table", "json", "csv"), "trend")
    if f == "json":
        return dumps(
            clean_tree(
                {
                    "currency": currency,
                    "periods": [
                        {"window": w.to_dict(), "kpis": [k.to_dict() for k in ks]}
                        for w, ks in series
                    ],
                }
            )
        )
    if f == "csv":
        cols = [
            "period_start",
            "period_end",
            "id",
            "label",
            "category",
            "unit",
            "value",
            "previous",
            "change",
            "n",
            "unavailable_reason",
        ]
        rows = [
            [
                w.start.date().isoformat(),
                w.end.date().isoformat(),
                k.id,
                k.label,
                k.category,
                k.unit,
                k.value,
                k.previous,
                k.change,
                k.n,
                k.unavailable_reason,
            ]
            for w, ks in series
            for k in ks
        ]
        return write_csv(cols, rows)
    order: list[str] = []
    meta: dict[str, Any] = {}
    values: dict[tuple[str, int], Any] = {}
    for i, (_, ks) in enumerate(series):
        for k in ks:
            if k.id not in meta:
                order.append(k.id)
                meta[k.id] = k
            values[(k.id, i)] = k.value
    available = [
        kid for kid in order if any(F.is_number(values.get((kid, i))) for i in range(len(series)))
    ]
    few = len(order) <= len(KEY_TREND_KPIS)
    shown = available if (all_kpis or few) else [k for k in KEY_TREND_KPIS if k in available]
    con = console(color)
    con.print(_title(f"Trend over {len(series)} periods (money in {currency})", color))
    # no column rules: twelve periods must fit in 120 columns
    t = Table(
        box=None,
        show_edge=False,
        pad_edge=False,
        padding=(0, 1),
        header_style="bold" if color else "",
    )
    t.add_column("KPI", no_wrap=True, max_width=22, overflow="ellipsis")
    for w, _ in series:
        t.add_column(_period_label(w), justify="right", no_wrap=True)
    for kid in shown:
        k = meta[kid]
        cells = [_compact(values.get((kid, i)), k.unit) for i in range(len(series))]
        t.add_row(k.label, *cells)
    con.print(t)
    hidden = len(available) - len(shown)
    if hidden > 0:
        con.print(
            Text(
                f"{hidden} more KPIs: pick them with --kpi ID, or use --format json/csv for all.",
                style="dim" if color else "",
            )
        )
    return export(con)


def _compact(x: Any, unit: str) -> str:
    """Short cells for wide period tables: 351.6k, 97.3%, 41.3."""
    if not F.is_number(x):
        return F.DASH
    if unit == "currency":
        a = abs(x)
        s = f"{a / 1e6:.2f}M" if a >= 1e6 else f"{a / 1e3:.1f}k" if a >= 1e3 else f"{a:.0f}"
        return ("-" if x < 0 else "") + s
    if unit == "ratio":
        return f"{100 * x:.1f}%"
    if unit == "count":
        return F.count(x)
    return f"{x:.1f}"
