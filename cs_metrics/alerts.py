"""--fail-on rules: `KPI OP NUMBER`, e.g. `accounts_at_risk > 5`, `nrr < 0.95`.

A rule may also test the previous value or the change: `nrr.change < -0.05`.
Rules are parsed before any data is loaded, so a typo is a usage error
(exit 2) and not a silent pass. A rule on a KPI that is unavailable does not
match (there is no number to compare), and says so on stderr.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from typing import Any, Callable

from cs_metrics.errors import UsageError, did_you_mean

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    "<": operator.lt,
}
_RULE = re.compile(
    r"^\s*(?P<kpi>[a-z_][a-z0-9_]*)(?:\.(?P<field>value|previous|change))?\s*"
    r"(?P<op>>=|<=|==|!=|>|<)\s*(?P<num>[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?)\s*(?P<pct>%)?\s*$",
    re.I,
)


@dataclass(frozen=True)
class Rule:
    text: str
    kpi: str
    field: str  # value | previous | change
    op: str
    threshold: float

    def matches(self, x: float) -> bool:
        return _OPS[self.op](x, self.threshold)


def parse_rules(texts: list[str]) -> list[Rule]:
    """Parse every rule; all problems in one UsageError (exit 2)."""
    rules, bad = [], []
    for t in texts:
        for part in (p for p in t.split(";") if p.strip()):
            m = _RULE.match(part)
            if not m:
                bad.append(part.strip())
                continue
            num = float(m.group("num")) / (100 if m.group("pct") else 1)
            rules.append(Rule(part.strip(), m.group("kpi").lower(),
                              (m.group("field") or "value").lower(), m.group("op"), num))
    if bad:
        raise UsageError(
            "cannot read --fail-on rule(s): "
            + "; ".join(repr(b) for b in bad)
            + ". Expected KPI OP NUMBER, e.g. 'accounts_at_risk > 5' or 'nrr.change < -0.05'"
        )
    return rules


def evaluate_rules(rules: list[Rule], report: Any, warn: Callable[[str], None] | None = None) -> list[str]:
    """The rules that match, as human sentences. Unknown KPI ids are a usage error."""
    if not rules:
        return []
    values = {k.id: k for k in report.kpis}
    unknown = [r for r in rules if r.kpi not in values]
    if unknown:
        msgs = [f"{r.kpi!r}{did_you_mean(r.kpi, list(values))}" for r in unknown]
        raise UsageError("--fail-on names unknown KPI " + ", ".join(msgs)
                         + "; `csm kpis --list` shows the ids")
    hits = []
    for r in rules:
        k = values[r.kpi]
        x = {"value": k.value, "previous": k.previous, "change": k.change}[r.field]
        if x is None:
            if warn:
                warn(f"rule {r.text!r} not evaluated: {r.kpi} is unavailable"
                     + (f" ({k.unavailable_reason})" if k.unavailable_reason else ""))
            continue
        if r.matches(float(x)):
            hits.append(f"{r.text} (it is {x:g})")
    return hits
