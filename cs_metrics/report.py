"""The Report: one object that every renderer reads (SPEC §5).

`build_report(analysis)` assembles it from an `analysis.Analysis`; renderers
never go back to the Bundle or the config, so a hand-built Report (tests,
other programs) renders exactly like a computed one. Values stay unrounded
here; rounding happens only in `render/formatting.py`.

The chart series (`trend`) are the only part that costs extra computation
(twelve more KPI windows), so build_report stores a thunk and the renderers
that draw charts (HTML, XLSX) call `Report.get_trend()`. The JSON form leaves
`trend` out: `csm trend --format json` is the command for series.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cs_metrics.results import KPIValue, clean_tree

SCHEMA_VERSION = 1

# KPIs behind the HTML/XLSX charts: MRR movements per month and NPS per month.
MOVEMENT_KPIS = (
    "new_mrr",
    "expansion_mrr",
    "reactivation_mrr",
    "contraction_mrr",
    "churned_mrr",
    "net_new_mrr",
)
TREND_KPIS = (*MOVEMENT_KPIS, "mrr", "nps")
TREND_PERIODS = 12


@dataclass
class Report:
    as_of: str  # ISO date
    window: dict[str, str]  # Window.to_dict()
    previous_window: dict[str, str]
    currency: str
    kpis: list[KPIValue]
    generated_at: str = ""  # ISO UTC; injectable so golden files are stable
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)  # dataset -> files, rows
    config_hash: str | None = None
    groups: dict[str, Any] | None = None  # {"by": col, "values": {value: {"kpis": [KPIValue]}}}
    health: dict[str, Any] | None = None  # SPEC §5 health object
    data_quality: dict[str, Any] = field(
        default_factory=lambda: {"datasets": {}, "ignored_files": [], "issues": []}
    )
    trend: dict[str, Any] | Callable[[], dict[str, Any] | None] | None = None
    notes: list[str] = field(default_factory=list)
    schema_version: int = SCHEMA_VERSION

    def kpi(self, kpi_id: str) -> KPIValue | None:
        return next((k for k in self.kpis if k.id == kpi_id), None)

    def get_trend(self) -> dict[str, Any] | None:
        """The chart series, computed on first use (None when unavailable)."""
        if callable(self.trend):
            try:
                self.trend = self.trend()
            except Exception as e:  # noqa: BLE001 - charts are optional, the report is not
                self.notes.append(
                    f"charts left out: trend could not be computed ({type(e).__name__}: {e})"
                )
                self.trend = None
        return self.trend

    def to_dict(self) -> dict[str, Any]:
        """SPEC §5 JSON, keys in a fixed order, NaN → null."""
        return self.to_dict_lazy(clean_big=True)

    def to_dict_lazy(self, *, clean_big: bool = False) -> dict[str, Any]:
        """to_dict(), but with `clean_big=False` the two big lists (health.accounts,
        data_quality.issues) are left as they are: the JSON renderer cleans an item only
        when the fast encoder meets a NaN or a numpy value in it (50,000 accounts)."""
        groups = None
        if self.groups:
            groups = {
                "by": self.groups.get("by"),
                "values": {
                    str(v): {"kpis": [_kpi_dict(k) for k in g.get("kpis", [])]}
                    for v, g in self.groups.get("values", {}).items()
                },
            }
        health, dq = self.health, self.data_quality
        big: dict[str, list[Any]] = {}
        if not clean_big:
            if isinstance(health, dict) and isinstance(health.get("accounts"), list):
                big["accounts"] = health["accounts"]
                health = {**health, "accounts": []}
            if isinstance(dq, dict) and isinstance(dq.get("issues"), list):
                big["issues"] = dq["issues"]
                dq = {**dq, "issues": []}
        out = clean_tree(
            {
                "schema_version": self.schema_version,
                "generated_at": self.generated_at,
                "as_of": self.as_of,
                "window": dict(self.window),
                "previous_window": dict(self.previous_window),
                "currency": self.currency,
                "config_hash": self.config_hash,
                "inputs": self.inputs,
                "kpis": [_kpi_dict(k) for k in self.kpis],
                "groups": groups,
                "health": health,
                "data_quality": dq,
                "notes": list(self.notes),
            }
        )
        if "accounts" in big:
            out["health"]["accounts"] = big["accounts"]
        if "issues" in big:
            out["data_quality"]["issues"] = big["issues"]
        return out


def _kpi_dict(k: KPIValue | dict[str, Any]) -> dict[str, Any]:
    return k.to_dict() if isinstance(k, KPIValue) else dict(k)


def data_quality_of(bundle: Any, extra_issues: list[Any] = ()) -> dict[str, Any]:
    """bundle.data_quality() + later-stage issues + exact issue counts per dataset and code
    (`issue_counts`; the `issues` list is capped per kind by the loader)."""
    dq = bundle.data_quality()
    dq["issues"] = list(dq.get("issues", [])) + [i.to_dict() for i in extra_issues]
    counts: dict[str, dict[str, int]] = {}
    for name, ds in bundle.datasets.items():
        c = (getattr(ds, "meta", None) or {}).get("issue_counts")
        if c:
            counts[name] = {str(k): int(v) for k, v in c.items()}
    for i in extra_issues:
        per = counts.setdefault(i.dataset or "other", {})
        per[i.code] = per.get(i.code, 0) + 1
    dq["issue_counts"] = counts
    return dq


def now_utc() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def build_report(
    analysis: Any, *, trend: bool = True, generated_at: datetime | None = None
) -> Report:
    """Assemble the Report from an Analysis (see analysis.py)."""
    bundle = analysis.bundle
    inputs = {
        name: {
            "files": list(ds.files),
            "rows_read": int(ds.rows_read),
            "rows_used": int(ds.rows_used),
        }
        for name, ds in sorted(bundle.datasets.items())
    }
    dq = data_quality_of(bundle, analysis.issues or [])
    table = analysis.kpis
    groups = None
    if table.by:
        groups = {
            "by": table.by,
            "values": {str(v): {"kpis": list(ks)} for v, ks in table.groups.items()},
        }
    if generated_at is None:
        gen = now_utc()
    else:
        g = generated_at if generated_at.tzinfo else generated_at.replace(tzinfo=UTC)
        gen = g.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    currency = str(analysis.config.get("currency", {}).get("base", "USD"))
    rep = Report(
        as_of=analysis.as_of.date().isoformat(),
        window=analysis.window.to_dict(),
        previous_window=analysis.previous_window.to_dict(),
        currency=currency,
        kpis=list(table.kpis),
        generated_at=gen,
        inputs=inputs,
        config_hash=analysis.config_hash,
        groups=groups,
        health=analysis.health,
        data_quality=dq,
    )
    if trend:
        rep.trend = lambda: compute_chart_series(analysis)
    return rep


def compute_chart_series(analysis: Any, periods: int = TREND_PERIODS) -> dict[str, Any] | None:
    """Month-by-month MRR movements, MRR and NPS for the last `periods` months."""
    from cs_metrics.metrics.engine import compute_trend
    from cs_metrics.metrics.registry import all_kpis

    known = {k.id for k in all_kpis(analysis.bundle, analysis.config)}
    ids = [k for k in TREND_KPIS if k in known]
    if not ids:
        return None
    series = compute_trend(
        analysis.bundle, analysis.config, analysis.as_of, "month", periods, kpi_ids=ids
    )
    return trend_dict(series, ids)


def trend_dict(
    series: list[tuple[Any, list[KPIValue]]], ids: list[str] | tuple[str, ...] = TREND_KPIS
) -> dict[str, Any]:
    """[(Window, [KPIValue])] → {"windows": [...], "series": {kpi_id: [value per window]}}."""
    out: dict[str, Any] = {"windows": [w.to_dict() for w, _ in series], "series": {}}
    for kid in ids:
        vals = []
        for _, kpis in series:
            k = next((x for x in kpis if x.id == kid), None)
            vals.append(None if k is None else k.value)
        out["series"][kid] = vals
    return clean_tree(out)


def report_from_dict(d: dict[str, Any]) -> Report:
    """Rebuild a Report from its JSON form (re-render a saved report, test fixtures)."""

    def kv(x: dict[str, Any]) -> KPIValue:
        return KPIValue(
            id=x["id"],
            label=x.get("label", x["id"]),
            category=x.get("category", ""),
            unit=x.get("unit", "count"),
            better=x.get("better", "none"),
            value=x.get("value"),
            previous=x.get("previous"),
            n=x.get("n"),
            set_aside=int(x.get("set_aside") or 0),
            unavailable_reason=x.get("unavailable_reason"),
            extra=dict(x.get("extra") or {}),
            description=x.get("description", ""),
        )

    groups = d.get("groups")
    if groups:
        groups = {
            "by": groups.get("by"),
            "values": {
                v: {"kpis": [kv(k) for k in g.get("kpis", [])]}
                for v, g in (groups.get("values") or {}).items()
            },
        }
    return Report(
        as_of=d["as_of"],
        window=d["window"],
        previous_window=d["previous_window"],
        currency=d.get("currency", "USD"),
        kpis=[kv(k) for k in d.get("kpis", [])],
        generated_at=d.get("generated_at", ""),
        inputs=d.get("inputs") or {},
        config_hash=d.get("config_hash"),
        groups=groups,
        health=d.get("health"),
        data_quality=d.get("data_quality") or {"datasets": {}, "ignored_files": [], "issues": []},
        trend=d.get("trend"),
        notes=list(d.get("notes") or []),
        schema_version=int(d.get("schema_version", SCHEMA_VERSION)),
    )
