"""How well scores as of a past date predicted the accounts that churned after it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cs_metrics.health.explain import _band_stats  # band order and colours
from cs_metrics.health.model import HealthModel
from cs_metrics.health.scoring import HealthScores
from cs_metrics.results import clean_number


def roc_auc(score: np.ndarray, churned: np.ndarray) -> float | None:
    """Mann–Whitney AUC with ties counted half; a low score predicts churn.

    = P(score of a churned account < score of a retained one) + ½ P(equal).
    None when either class is empty.
    """
    n_c = int(churned.sum())
    n_r = int((~churned).sum())
    if n_c == 0 or n_r == 0:
        return None
    ranks = pd.Series(score).rank(method="average").to_numpy()
    u = ranks[~churned].sum() - n_r * (n_r + 1) / 2.0  # retained scoring above churned
    return float(u / (n_r * n_c))


def backtest(scores: HealthScores, churned: pd.Series, arr: pd.Series, model: HealthModel) -> dict[str, Any]:
    """AUC, churn rate per band and ARR per band. Accounts not scored are excluded and counted."""
    t = scores.table
    ch = churned.reindex(t.index).fillna(False).astype(bool).to_numpy()
    a = pd.to_numeric(arr, errors="coerce").reindex(t.index).to_numpy(dtype=float) if arr is not None \
        else np.full(len(t), np.nan)
    s = t["score"].to_numpy(dtype=float)
    scored = ~np.isnan(s)
    auc = roc_auc(s[scored], ch[scored])
    bands = []
    for name, st in _band_stats(scores, pd.Series(a, index=t.index)).items():
        m = (t["band"] == name).fillna(False).to_numpy(dtype=bool)
        n, c = int(m.sum()), int((m & ch).sum())
        bands.append({
            "band": name, "color": st["color"], "min": st["min"], "accounts": n, "churned": c,
            "churn_rate": c / n if n else None,
            "arr": float(np.nansum(a[m])), "arr_churned": float(np.nansum(a[m & ch])),
        })
    lowest = (t["band_rank"] == 0).fillna(False).to_numpy(dtype=bool)
    n_s = int(scored.sum())
    return clean_tree({
        "auc": auc,
        "auc_unavailable_reason": None if auc is not None else "needs at least one churned and one retained scored account",
        "n": n_s,
        "churned": int(ch[scored].sum()),
        "churn_rate": float(ch[scored].mean()) if n_s else None,
        "not_scored": int((~scored).sum()),
        "not_scored_churned": int((~scored & ch).sum()),
        "arr_at_risk": float(np.nansum(a[lowest])),
        "arr_at_risk_churned": float(np.nansum(a[lowest & ch])),
        "bands": bands,
    })


def clean_tree(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: clean_tree(v) for k, v in x.items()}
    if isinstance(x, list):
        return [clean_tree(v) for v in x]
    return clean_number(x)
