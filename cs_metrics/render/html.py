"""A self-contained HTML page: KPI tables, inline SVG charts, at-risk accounts,
data quality. No scripts, no fonts or images from the network: the file can be
mailed or archived and still open years later. Every piece of data goes
through `esc()` (html.escape with quotes), including ids, names, labels,
reasons and issue values.
"""

from __future__ import annotations

import html
from typing import Any

from cs_metrics.render import formatting as F
from cs_metrics.render.tabular import top_driver

PALETTE = {
    "green": "#2e9d5b",
    "yellow": "#e3a008",
    "red": "#d64545",
    "orange": "#ec7a1c",
    "amber": "#e3a008",
    "blue": "#3b6fd8",
    "grey": "#8a94a6",
    "gray": "#8a94a6",
}
MOVEMENT_COLORS = {
    "new_mrr": "#2e9d5b",
    "expansion_mrr": "#7cc793",
    "reactivation_mrr": "#3b6fd8",
    "contraction_mrr": "#f0a04b",
    "churned_mrr": "#d64545",
}
MOVEMENT_LABELS = {
    "new_mrr": "New",
    "expansion_mrr": "Expansion",
    "reactivation_mrr": "Reactivation",
    "contraction_mrr": "Contraction",
    "churned_mrr": "Churned",
}

CSS = """
*{box-sizing:border-box}body{font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;
color:#1f2933;background:#f5f7fa;margin:0;padding:24px 32px;font-size:14px;line-height:1.4}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 10px;padding-bottom:4px;border-bottom:2px solid #e4e7eb}
h3{font-size:14px;margin:16px 0 6px;color:#52606d;text-transform:uppercase;letter-spacing:.04em}
.meta{color:#52606d;margin:0 0 2px}.cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}
.card{background:#fff;border:1px solid #e4e7eb;border-radius:8px;padding:10px 14px;min-width:150px}
.card .l{color:#52606d;font-size:12px}.card .v{font-size:20px;font-weight:600}.card .c{font-size:12px}
table{border-collapse:collapse;background:#fff;border:1px solid #e4e7eb;border-radius:6px;width:100%;margin-bottom:8px}
th,td{padding:5px 10px;border-bottom:1px solid #eef0f3;text-align:left;vertical-align:top}
th{background:#f0f3f7;font-weight:600;font-size:12px;color:#3e4c59}td.n,th.n{text-align:right;white-space:nowrap;
font-variant-numeric:tabular-nums}.better{color:#1d7a45}.worse{color:#c23030}.same,.na,.note{color:#7b8794}
.note{font-size:12px}.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:16px}
.panel{background:#fff;border:1px solid #e4e7eb;border-radius:8px;padding:12px 14px}
.band{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-size:12px;font-weight:600}
.legend span{display:inline-block;margin-right:12px;font-size:12px}.legend i{display:inline-block;width:10px;
height:10px;margin-right:4px;border-radius:2px}svg text{font-family:inherit;font-size:11px;fill:#52606d}
footer{margin-top:28px;color:#7b8794;font-size:12px}
td:first-child{min-width:150px}.note{max-width:200px;overflow-wrap:anywhere}.grid>*{min-width:0;overflow-x:auto}
"""


def esc(x: Any) -> str:
    return html.escape("" if x is None else str(x), quote=True)


def color_of(name: Any) -> str:
    return PALETTE.get(str(name or "").lower(), "#8a94a6")


# ------------------------------------------------------------------ charts
def _nice_max(v: float) -> float:
    if v <= 0:
        return 1.0
    import math

    mag = 10 ** math.floor(math.log10(v))
    for m in (1, 2, 2.5, 5, 10):
        if v <= m * mag:
            return m * mag
    return 10 * mag


def _short_money(x: float) -> str:
    a = abs(x)
    s = f"{a / 1e6:.1f}M" if a >= 1e6 else f"{a / 1e3:.3g}k" if a >= 1e3 else f"{a:.0f}"
    return ("-" if x < 0 else "") + s


def movements_svg(trend: dict[str, Any]) -> str:
    """Stacked bars per month: gains above zero, losses below, net new as a dot line."""
    wins = trend.get("windows") or []
    ser = trend.get("series") or {}
    if not wins or not any(
        any(F.is_number(v) and v for v in ser.get(k) or []) for k in MOVEMENT_COLORS
    ):
        return '<p class="na">No MRR movements: the report has no billing history.</p>'
    n = len(wins)
    ups = ("new_mrr", "expansion_mrr", "reactivation_mrr")
    downs = ("contraction_mrr", "churned_mrr")

    def val(k: str, i: int) -> float:
        v = (ser.get(k) or [None] * n)[i]
        return float(v) if F.is_number(v) else 0.0

    top = _nice_max(max(sum(val(k, i) for k in ups) for i in range(n)))
    bot = _nice_max(max(sum(val(k, i) for k in downs) for i in range(n)))
    W, H, left, pad = 640, 260, 56, 24
    plot_h = H - 2 * pad
    scale = plot_h / (top + bot)
    zero = pad + top * scale
    bw = (W - left - 10) / n
    parts = [
        f'<svg viewBox="0 0 {W} {H}" width="100%" role="img" aria-label="MRR movements per month">'
    ]
    for y_val in (top, top / 2, 0, -bot / 2, -bot):
        y = zero - y_val * scale
        parts.append(
            f'<line x1="{left}" x2="{W - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e4e7eb"/>'
        )
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{esc(_short_money(y_val))}</text>'
        )
    for i, w in enumerate(wins):
        x = left + i * bw + bw * 0.15
        y = zero
        for k in ups:
            h = val(k, i) * scale
            if h > 0:
                y -= h
                parts.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{bw * 0.7:.1f}" height="{h:.1f}" '
                    f'fill="{MOVEMENT_COLORS[k]}"><title>{esc(MOVEMENT_LABELS[k])} '
                    f"{esc(w.get('start', '')[:7])}: {esc(F.money(val(k, i)))}</title></rect>"
                )
        y = zero
        for k in downs:
            h = val(k, i) * scale
            if h > 0:
                parts.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{bw * 0.7:.1f}" height="{h:.1f}" '
                    f'fill="{MOVEMENT_COLORS[k]}"><title>{esc(MOVEMENT_LABELS[k])} '
                    f"{esc(w.get('start', '')[:7])}: {esc(F.money(val(k, i)))}</title></rect>"
                )
                y += h
        parts.append(
            f'<text x="{x + bw * 0.35:.1f}" y="{H - 6}" text-anchor="middle">'
            f"{esc(_month_label(w))}</text>"
        )
    net = ser.get("net_new_mrr") or []
    pts = [
        (left + i * bw + bw / 2, zero - float(v) * scale)
        for i, v in enumerate(net)
        if F.is_number(v)
    ]
    if len(pts) > 1:
        parts.append(
            '<polyline fill="none" stroke="#1f2933" stroke-width="1.5" points="'
            + " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
            + '"/>'
        )
    parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="#1f2933"/>' for x, y in pts]
    parts.append(
        f'<line x1="{left}" x2="{W - 10}" y1="{zero:.1f}" y2="{zero:.1f}" stroke="#9aa5b1"/>'
    )
    parts.append("</svg>")
    legend = "".join(
        f'<span><i style="background:{c}"></i>{esc(MOVEMENT_LABELS[k])}</span>'
        for k, c in MOVEMENT_COLORS.items()
    )
    legend += '<span><i style="background:#1f2933;height:2px"></i>Net new</span>'
    return "".join(parts) + f'<div class="legend">{legend}</div>'


def _month_label(w: dict[str, Any]) -> str:
    import calendar

    s = str(w.get("start", ""))
    try:
        return calendar.month_abbr[int(s[5:7])] + (f" {s[2:4]}" if s[5:7] == "01" else "")
    except (ValueError, IndexError):
        return s


def line_svg(trend: dict[str, Any], key: str, label: str, lo: float = -100, hi: float = 100) -> str:
    wins = trend.get("windows") or []
    vals = (trend.get("series") or {}).get(key) or []
    known = [v for v in vals if F.is_number(v)]
    if not known:
        return f'<p class="na">No {esc(label)} values in the last {len(wins)} months.</p>'
    lo = min(lo, min(known))
    hi = max(hi, max(known))
    if key == "nps":  # zoom to the data, keep round bounds
        lo = max(-100.0, (min(known) // 20) * 20 - 20)
        hi = min(100.0, (max(known) // 20) * 20 + 20)
    W, H, left, pad = 640, 220, 40, 20
    n = max(len(wins), 1)
    bw = (W - left - 10) / n
    sy = (H - 2 * pad) / (hi - lo or 1)
    parts = [
        f'<svg viewBox="0 0 {W} {H}" width="100%" role="img" aria-label="{esc(label)} per month">'
    ]
    steps = max(1, round((hi - lo) / 20)) if key == "nps" else 4
    for j in range(steps + 1):
        v = lo + (hi - lo) * j / steps
        y = H - pad - (v - lo) * sy
        parts.append(
            f'<line x1="{left}" x2="{W - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e4e7eb"/>'
        )
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{v:.0f}</text>')
    segs: list[list[tuple[float, float, float]]] = [[]]
    for i, v in enumerate(vals):
        if F.is_number(v):
            segs[-1].append((left + i * bw + bw / 2, H - pad - (float(v) - lo) * sy, float(v)))
        elif segs[-1]:
            segs.append([])
    for seg in segs:
        if len(seg) > 1:
            parts.append(
                '<polyline fill="none" stroke="#3b6fd8" stroke-width="2" points="'
                + " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in seg)
                + '"/>'
            )
        for x, y, v in seg:
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#3b6fd8"><title>{v:.1f}</title></circle>'
            )
    for i, w in enumerate(wins):
        parts.append(
            f'<text x="{left + i * bw + bw / 2:.1f}" y="{H - 4}" text-anchor="middle">'
            f"{esc(_month_label(w))}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def hbar_svg(items: list[tuple[str, float, str, str]], title: str) -> str:
    """Horizontal bars: (label, value, colour, value text)."""
    if not items:
        return ""
    W, row = 420, 30
    H = row * len(items) + 10
    mx = max((v for _, v, _, _ in items), default=0) or 1
    left, right = 90, 110
    parts = [f'<svg viewBox="0 0 {W} {H}" width="100%" role="img" aria-label="{esc(title)}">']
    for i, (lab, v, col, txt) in enumerate(items):
        y = 5 + i * row
        w = (W - left - right) * (v / mx if mx else 0)
        parts.append(f'<text x="{left - 8}" y="{y + 18}" text-anchor="end">{esc(lab)}</text>')
        parts.append(
            f'<rect x="{left}" y="{y + 4}" width="{max(w, 1):.1f}" height="20" rx="3" fill="{col}"/>'
        )
        parts.append(f'<text x="{left + w + 6:.1f}" y="{y + 18}">{esc(txt)}</text>')
    parts.append("</svg>")
    return "".join(parts)


# ------------------------------------------------------------------ sections
def _change_td(k: Any, cur: str) -> str:
    c = F.change(k.change, k.unit, cur)
    if not c:
        return '<td class="n"></td>'
    cls = k.direction or "same"
    return f'<td class="n {esc(cls)}">{esc(F.arrow(k))} {esc(c)}</td>'


def kpi_tables(kpis: list[Any], cur: str) -> str:
    out = ['<div class="grid">']
    for cat, ks in F.kpis_by_category(kpis):
        rows = []
        for k in ks:
            note = k.unavailable_reason or ""
            if (moe := F.margin_of_error(k)) is not None:
                note = f"±{moe:.1f} at 95%"
            rows.append(
                f'<tr><td title="{esc(k.description or k.id)}">{esc(k.label)}</td>'
                f'<td class="n">{esc(F.value(k.value, k.unit, cur))}</td>'
                f'<td class="n">{esc(F.value(k.previous, k.unit, cur))}</td>{_change_td(k, cur)}'
                f'<td class="n">{esc(F.count(k.n) if k.n is not None else "")}</td>'
                f'<td class="note">{esc(note)}</td></tr>'
            )
        out.append(
            f"<div><h3>{esc(F.category_label(cat))}</h3><table><thead><tr><th>KPI</th>"
            '<th class="n">Value</th><th class="n">Previous</th><th class="n">Change</th><th class="n">n</th>'
            f"<th>Note</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
        )
    out.append("</div>")
    return "".join(out)


def cards(report: Any) -> str:
    cur = report.currency
    picks = ["mrr", "nrr", "logo_churn_rate", "nps", "health_score_avg", "arr_at_risk"]
    out = []
    for kid in picks:
        k = report.kpi(kid)
        if k is None:
            continue
        c = F.change(k.change, k.unit, cur)
        cls = k.direction or "same"
        out.append(
            f'<div class="card"><div class="l">{esc(k.label)}</div>'
            f'<div class="v">{esc(F.value(k.value, k.unit, cur))}</div>'
            f'<div class="c {esc(cls)}">{esc(F.arrow(k) + " " + c if c else "")}</div></div>'
        )
    return f'<div class="cards">{"".join(out)}</div>' if out else ""


def health_html(report: Any, top: int = 15) -> str:
    h = report.health
    cur = report.currency
    if not h:
        return '<p class="na">No health scores: they need an accounts dataset.</p>'
    s = h.get("summary") or {}
    bands = s.get("bands") or {}
    counts = [
        (
            F.band_label(n),
            float(b.get("accounts") or 0),
            color_of(b.get("color")),
            F.count(b.get("accounts")),
        )
        for n, b in bands.items()
    ]
    arrs = [
        (
            F.band_label(n),
            float(b.get("arr") or 0),
            color_of(b.get("color")),
            F.money(b.get("arr"), cur),
        )
        for n, b in bands.items()
    ]
    charts = (
        f'<div class="grid"><div class="panel"><h3>Accounts by band</h3>{hbar_svg(counts, "Accounts by band")}'
        f'</div><div class="panel"><h3>ARR by band</h3>{hbar_svg(arrs, "ARR by band")}</div></div>'
    )
    summary = (
        f"<p>{esc(F.count(s.get('accounts')))} accounts, {esc(F.count(s.get('scored')))} scored; "
        f"average score <b>{esc(F.score(s.get('score_avg')))}</b> "
        f"(previous {esc(F.score(s.get('previous_score_avg')))}); ARR at risk "
        f"<b>{esc(F.money(s.get('arr_at_risk'), cur))}</b>.</p>"
    )
    lowest = min(bands.items(), key=lambda kv: kv[1].get("min") or 0)[0] if bands else None
    accounts = [a for a in (h.get("accounts") or []) if a.get("score") is not None]
    risky = [a for a in accounts if a.get("band") == lowest][:top]
    rows = []
    for a in risky:
        drivers = [d for d in (a.get("drivers") or []) if d.get("direction") == "down"]
        dtxt = "<br>".join(
            f'{esc(d.get("label") or d.get("measure"))} <span class="note">({esc(F.raw(d.get("raw"), d.get("unit")))}, '
            f"{esc(F.signed(d.get('impact')))} pts)</span>"
            for d in drivers[:3]
        ) or esc(top_driver(a))
        ch = a.get("change")
        cls = (
            "better"
            if F.is_number(ch) and ch > 0
            else "worse"
            if F.is_number(ch) and ch < 0
            else "same"
        )
        rows.append(
            f"<tr><td>{esc(a.get('account_id'))}</td><td>{esc(a.get('name'))}</td>"
            f'<td class="n">{esc(F.score(a.get("score")))}</td>'
            f'<td><span class="band" style="background:{color_of(a.get("band_color"))}">'
            f"{esc(F.band_label(a.get('band')))}</span></td>"
            f'<td class="n {cls}">{esc(F.signed(ch))}</td><td class="n">{esc(F.money(a.get("arr"), cur))}</td>'
            f"<td>{dtxt}</td></tr>"
        )
    table = "<h3>At-risk accounts</h3>" + (
        '<table><thead><tr><th>Account</th><th>Name</th><th class="n">Score</th><th>Band</th>'
        '<th class="n">Change</th><th class="n">ARR</th><th>What pulls the score down</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
        if rows
        else '<p class="na">No account in the lowest band.</p>'
    )
    more = len([a for a in accounts if a.get("band") == lowest]) - len(risky)
    if more > 0:
        table += f'<p class="note">…and {more:,} more; csm health --band {esc(lowest)} lists them all.</p>'
    return summary + charts + table


def quality_html(dq: dict[str, Any], limit: int = 20) -> str:
    out = [f"<p>{esc(F.quality_line(dq))}</p>"]
    ds = dq.get("datasets") or {}
    if ds:
        rows = "".join(
            f"<tr><td>{esc(n)}</td><td>{esc(', '.join(d.get('files') or []))}</td>"
            f'<td class="n">{esc(F.count(d.get("rows_read")))}</td>'
            f'<td class="n">{esc(F.count(d.get("rows_used")))}</td></tr>'
            for n, d in ds.items()
        )
        out.append(
            '<table><thead><tr><th>Dataset</th><th>Files</th><th class="n">Rows read</th>'
            f'<th class="n">Rows used</th></tr></thead><tbody>{rows}</tbody></table>'
        )
    issues = dq.get("issues") or []
    _, kinds = F.issue_summary(dq)
    if kinds:
        first: dict[str, dict[str, Any]] = {}
        for i in issues:
            first.setdefault(i.get("code") or "?", i)
        rows = "".join(
            f'<tr><td>{esc(code)}</td><td class="n">{esc(F.count(c))}</td>'
            f"<td>{esc(_where(first[code]))}</td><td>{esc(first[code].get('value'))}</td>"
            f'<td class="note">{esc(first[code].get("message"))}</td></tr>'
            for code, c in kinds[:limit]
        )
        out.append(
            '<table><thead><tr><th>Issue</th><th class="n">Count</th><th>First at</th><th>Value</th>'
            f"<th>Message</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    ignored = dq.get("ignored_files") or []
    if ignored:
        out.append(
            '<p class="note">Ignored files: '
            + "; ".join(f"{esc(f.get('file'))} ({esc(f.get('reason'))})" for f in ignored)
            + "</p>"
        )
    return "".join(out)


def _where(i: dict[str, Any]) -> str:
    parts = [str(i["file"])] if i.get("file") else []
    if i.get("row") is not None:
        parts.append(f"row {i['row']}")
    if i.get("column"):
        parts.append(f"column '{i['column']}'")
    return ", ".join(parts)


def groups_html(report: Any) -> str:
    if not report.groups:
        return ""
    cur = report.currency
    values = report.groups.get("values", {})
    order: list[str] = []
    meta: dict[str, Any] = {}
    cells: dict[tuple[str, str], Any] = {}
    for v, g in values.items():
        for k in g.get("kpis", []):
            if k.id not in meta:
                order.append(k.id)
                meta[k.id] = k
            cells[(k.id, v)] = k
    head = "".join(f'<th class="n">{esc(v)}</th>' for v in values)
    rows = []
    for kid in order:
        if not any(
            cells.get((kid, v)) is not None and cells[(kid, v)].value is not None for v in values
        ):
            continue
        tds = "".join(
            f'<td class="n">{esc(F.value(cells[(kid, v)].value, cells[(kid, v)].unit, cur))}</td>'
            if (kid, v) in cells
            else f'<td class="n">{F.DASH}</td>'
            for v in values
        )
        rows.append(f"<tr><td>{esc(meta[kid].label)}</td>{tds}</tr>")
    return (
        f"<h2>KPIs by {esc(report.groups.get('by'))}</h2><table><thead><tr><th>KPI</th>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def render_html(report: Any) -> str:
    cur = report.currency
    w, p = report.window, report.previous_window
    trend = report.get_trend() if hasattr(report, "get_trend") else None
    charts = ""
    if trend:
        n = len(trend.get("windows") or [])
        charts = (
            f'<h2>Trends (last {n} months)</h2><div class="grid">'
            f'<div class="panel"><h3>MRR movements</h3>{movements_svg(trend)}</div>'
            f'<div class="panel"><h3>NPS</h3>{line_svg(trend, "nps", "NPS")}</div></div>'
        )
    inputs = "; ".join(
        f"{esc(n)}: {esc(F.count(d.get('rows_used')))} rows"
        f" ({esc(', '.join(d.get('files') or []))})"
        for n, d in report.inputs.items()
    )
    notes = "".join(f'<p class="note">Note: {esc(n)}</p>' for n in report.notes)
    title = f"Customer success report — {report.as_of}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>{esc(title)}</title><style>{CSS}</style></head><body>
<h1>{esc(title)}</h1>
<p class="meta">Window {esc(w.get("start"))} – {esc(w.get("end"))} ({esc(w.get("period"))}), compared with
{esc(p.get("start"))} – {esc(p.get("end"))}. Money in {esc(cur)}.</p>
<p class="meta">Inputs: {inputs or "—"}</p>
{cards(report)}
{charts}
<h2>Health</h2>{health_html(report)}
<h2>KPIs</h2>{kpi_tables(report.kpis, cur)}
{groups_html(report)}
<h2>Data quality</h2>{quality_html(report.data_quality or {})}
{notes}
<footer>Generated by csm at {esc(report.generated_at)}{f" · config {esc(str(report.config_hash)[:12])}" if report.config_hash else ""}.
</footer></body></html>
"""
