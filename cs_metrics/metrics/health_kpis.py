"""Health KPIs (SPEC §3 "Health"): declared here, computed by the health model.

They join the KPI table after scoring (`health.health_kpis`), so the engine
skips them (`external=True`); declaring them here keeps one catalogue, one
label and one definition per KPI id.
"""

from __future__ import annotations

from cs_metrics.metrics.registry import Context, Result, kpi


def _by_health_model(ctx: Context) -> Result:  # pragma: no cover - never called by the engine
    return Result.unavailable("computed by the health model")


def _declare(id: str, label: str, unit: str, better: str, description: str) -> None:
    kpi(id, label=label, category="health", unit=unit, better=better, description=description,
        needs=("accounts",), external=True)(_by_health_model)


_declare("health_score_avg", "Health score (average)", "score", "higher",
         "Mean health score (0–100) over the accounts that could be scored.")
_declare("accounts_healthy", "Accounts healthy", "count", "higher",
         "Accounts in the healthy band (default: score ≥ 70).")
_declare("accounts_neutral", "Accounts neutral", "count", "none",
         "Accounts in the neutral band (default: 40 ≤ score < 70).")
_declare("accounts_at_risk", "Accounts at risk", "count", "lower",
         "Accounts in the at-risk band (default: score < 40).")
_declare("arr_at_risk", "ARR at risk", "currency", "lower",
         "Σ ARR of the accounts in the lowest band (R36: 12 × MRR on R, else accounts.arr).")
