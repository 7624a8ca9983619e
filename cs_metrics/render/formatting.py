"""Number formatting for people: the one place values are rounded.

The Report keeps every number unrounded; each renderer meant for reading
(terminal, Markdown, HTML) calls these. Money: thousands separators and the
currency code; ratios: percent with 1 decimal (changes in percentage points);
hours/days/months/minutes: 1 decimal and the unit; NPS and scores: 1
decimal; counts: integers. Unavailable → "—".
"""

from __future__ import annotations

import math
from typing import Any

DASH = "—"
UP, DOWN, FLAT = "▲", "▼", "="

CATEGORY_LABELS = {
    "revenue": "Revenue",
    "value": "Customer value",
    "surveys": "Surveys",
    "support": "Support",
    "adoption": "Adoption",
    "health": "Health",
}
CATEGORY_ORDER = tuple(CATEGORY_LABELS)

_SUFFIX = {"hours": " h", "days": " d", "months": " mo", "minutes": " min"}


def is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def money(x: Any, currency: str | None = None, *, signed: bool = False) -> str:
    """USD 1,234,567; cents only below 100, where they are a visible share of the amount."""
    if not is_number(x):
        return DASH
    decimals = 2 if 0 < abs(x) < 100 else 0
    body = f"{abs(x):,.{decimals}f}"
    sign = "-" if x < 0 and round(abs(x), decimals) != 0 else ("+" if signed and x > 0 else "")
    code = f"{currency} " if currency else ""
    return f"{sign}{code}{body}"


def count(x: Any, *, signed: bool = False) -> str:
    if not is_number(x):
        return DASH
    plus = "+" if signed else ""
    if float(x).is_integer():
        return f"{int(x):{plus},d}"
    return f"{x:{plus},.2f}"


def value(x: Any, unit: str, currency: str | None = None) -> str:
    """A KPI value in its unit, rounded for display."""
    if not is_number(x):
        return DASH
    if unit == "currency":
        return money(x, currency)
    if unit == "ratio":
        return f"{100 * x:,.1f}%"
    if unit == "count":
        return count(x)
    if unit == "number":
        return f"{x:,.2f}"
    return f"{x:,.1f}{_SUFFIX.get(unit, '')}"


def change(x: Any, unit: str, currency: str | None = None) -> str:
    """A signed change: ratios in percentage points, money with its code; no change → '0'."""
    if not is_number(x):
        return ""
    if abs(x) < 1e-12:
        x = 0.0
    if unit == "currency":
        return money(x, currency, signed=True)
    if unit == "ratio":
        pp = f"{100 * x:+,.1f}"
        return f"{'0.0' if pp in ('+0.0', '-0.0') else pp} pp"
    if unit == "count":
        return count(x, signed=True) if x else "0"
    if unit == "number":
        text = f"{x:+,.2f}"
        return "0.00" if text in ("+0.00", "-0.00") else text
    text = f"{x:+,.1f}"
    if text in ("+0.0", "-0.0"):
        text = "0.0"
    return f"{text}{_SUFFIX.get(unit, '')}"


def arrow(kpi: Any) -> str:
    """▲/▼ by the sign of the change ('=' when equal, '' when unknown)."""
    c = kpi.change
    if not is_number(c):
        return ""
    if abs(c) < 1e-12:
        return FLAT
    return UP if c > 0 else DOWN


def score(x: Any) -> str:
    return f"{x:.1f}" if is_number(x) else DASH


def signed(x: Any, decimals: int = 1) -> str:
    return f"{x:+.{decimals}f}" if is_number(x) else ""


def raw(x: Any, unit: str | None = None) -> str:
    """A raw measure value: in its metric's unit when known (25.0%, USD 1,200, 3.5 h),
    else as found (numbers to 4 significant digits)."""
    if x is None:
        return DASH
    if isinstance(x, bool):
        return "yes" if x else "no"
    if is_number(x) and unit in ("ratio", "currency", "hours", "days", "minutes", "months"):
        return value(x, unit)
    if is_number(x):
        if float(x).is_integer():
            return f"{int(x):,d}"
        return f"{x:,.4g}" if abs(x) < 1e4 else f"{x:,.0f}"
    if isinstance(x, float):
        return DASH
    return str(x)


def margin_of_error(kpi: Any) -> float | None:
    """The 95% margin of error a KPI value carries (NPS sets one), for a note beside it."""
    moe = (kpi.extra or {}).get("margin_of_error") if kpi.value is not None else None
    return float(moe) if is_number(moe) else None


def band_label(name: Any) -> str:
    if name is None:
        return "not scored"
    return str(name).replace("_", " ")


def kpis_by_category(kpis: list[Any]) -> list[tuple[str, list[Any]]]:
    """KPIs grouped by category in the catalogue's order (unknown categories last)."""
    groups: dict[str, list[Any]] = {}
    for k in kpis:
        groups.setdefault(k.category, []).append(k)
    order = [c for c in CATEGORY_ORDER if c in groups] + sorted(
        c for c in groups if c not in CATEGORY_ORDER
    )
    return [(c, groups[c]) for c in order]


def category_label(cat: str) -> str:
    return CATEGORY_LABELS.get(cat, cat.replace("_", " ").capitalize())


def issue_counts(data_quality: dict[str, Any]) -> dict[str, int]:
    """Issues per code. The loader lists at most a few hundred issues per kind, so the exact
    counts (`issue_counts`: dataset → code → n) win over counting the list."""
    listed: dict[str, int] = {}
    for i in data_quality.get("issues") or []:
        code = i.get("code") or "?"
        listed[code] = listed.get(code, 0) + 1
    exact: dict[str, int] = {}
    for per_code in (data_quality.get("issue_counts") or {}).values():
        for code, n in (per_code or {}).items():
            exact[code] = exact.get(code, 0) + int(n)
    return {c: max(listed.get(c, 0), exact.get(c, 0)) for c in set(listed) | set(exact)}


def issue_summary(data_quality: dict[str, Any]) -> tuple[int, list[tuple[str, int]]]:
    """(rows set aside over all datasets, [(issue code, count)] most frequent first)."""
    aside = sum(
        max(0, int(d.get("rows_read", 0)) - int(d.get("rows_used", 0)))
        for d in (data_quality.get("datasets") or {}).values()
    )
    counts = issue_counts(data_quality)
    return aside, sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def quality_line(data_quality: dict[str, Any]) -> str:
    """'Data quality: 3 rows set aside, 4 issues (bad-date 2, …) — details: csm validate'."""
    aside, kinds = issue_summary(data_quality)
    n_issues = sum(c for _, c in kinds)
    if not kinds and not aside:
        return "Data quality: no issues found."
    rows = f"{aside:,} row{'s' if aside != 1 else ''} set aside"
    issues = f"{n_issues:,} issue{'s' if n_issues != 1 else ''}"
    top = ", ".join(f"{code} {c:,}" for code, c in kinds[:3]) + (", …" if len(kinds) > 3 else "")
    detail = f", {issues} ({top})" if kinds else ""
    return f"Data quality: {rows}{detail} — details: csm validate"
