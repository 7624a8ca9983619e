"""Health scores: one 0–100 score and band per account from the `health:` config.

model.py (config → HealthModel, semantic checks), rules.py (scoring rules),
scoring.py (vectorised scoring, reweighting, coverage, bands, profiles),
overrides.py, explain.py (breakdowns, SPEC §5 object, health KPIs),
backtest.py, history.py. See docs/health.md.
"""

from cs_metrics.health.backtest import backtest, roc_auc
from cs_metrics.health.explain import explain, health_kpis, health_result, health_summary_by
from cs_metrics.health.history import append_history
from cs_metrics.health.model import (
    Band,
    Group,
    HealthModel,
    Measure,
    Profile,
    Variant,
    build_model,
    known_metrics,
    required_metrics,
)
from cs_metrics.health.overrides import load_overrides
from cs_metrics.health.scoring import HealthScores, band_of, score

__all__ = [
    "Band", "Group", "HealthModel", "HealthScores", "Measure", "Profile", "Variant", "append_history",
    "backtest", "band_of", "build_model", "explain", "health_kpis", "health_result", "health_summary_by", "known_metrics",
    "load_overrides", "required_metrics", "roc_auc", "score",
]
