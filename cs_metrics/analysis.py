"""compute + score: from a loaded Bundle to everything a report shows.

`analyse()` is the library entry point behind `csm report`, `csm kpis`,
`csm health` and `csm explain`; `run_backtest()` is behind `csm backtest`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from cs_metrics.bundle import Bundle
from cs_metrics.errors import Issue, UsageError
from cs_metrics.metrics.engine import account_frame, compute_table, window_ending
from cs_metrics.metrics.registry import Context
from cs_metrics.results import KPITable, KPIValue
from cs_metrics.timeframe import (
    Window,
    default_as_of,
    latest_event,
    parse_period,
    previous_window,
    to_day,
    window_for,
)


@dataclass
class Analysis:
    as_of: pd.Timestamp
    window: Window
    previous_window: Window
    config: dict[str, Any]
    config_hash: str
    bundle: Bundle
    kpis: KPITable
    health: dict[str, Any] | None = None  # SPEC §5 "health" object
    scores: Any = None  # health.HealthScores for W
    previous_scores: Any = None  # for P
    model: Any = None
    arr: pd.Series | None = None  # per account (R36)
    issues: list[Issue] = field(default_factory=list)  # health-stage issues (overrides...)


def resolve_as_of(bundle: Bundle, as_of: str | date | None, today: date | None = None) -> pd.Timestamp:
    """--as-of DATE | today | None (latest event in the data, clamped to today)."""
    if as_of is None:
        return default_as_of(latest_event(bundle), today)
    return to_day(as_of, today)


def active_accounts(accounts: pd.DataFrame, R: pd.Timestamp) -> pd.Series:
    """Accounts that are customers on R: created on or before R, not churned on or before R."""
    keep = pd.Series(True, index=accounts.index)
    end = R + pd.Timedelta(days=1)
    if "created_at" in accounts.columns:
        keep &= ~(accounts["created_at"] >= end).fillna(False)
    if "churned_at" in accounts.columns:
        keep &= ~(accounts["churned_at"] < end).fillna(False)
    return keep


def account_arr(bundle: Bundle, config: dict[str, Any], window: Window, shared: dict) -> pd.Series:
    """R36: 12 × billing MRR on R, else accounts.arr, else 12 × accounts.mrr."""
    accounts = bundle.frame("accounts")
    idx = pd.Index(accounts["account_id"] if accounts is not None else [], name="account_id")
    try:
        from cs_metrics.metrics.revenue import account_arr as _arr
    except ImportError:  # pragma: no cover - revenue module always ships
        _arr = None
    if _arr is not None:
        ctx = Context(bundle, config, window, {n: d.frame for n, d in bundle.datasets.items()},
                      shared=shared)
        s = _arr(ctx)
        if s is not None:
            return pd.to_numeric(s, errors="coerce").reindex(idx)
    return pd.Series(float("nan"), index=idx)


def _score(bundle, config, model, window: Window, shared, overrides):
    from cs_metrics import health

    accounts = bundle.frame("accounts")
    wanted: dict[str | None, set[str]] = {}
    for metric, win in health.required_metrics(model):
        wanted.setdefault(win, set()).add(metric)
    wanted.setdefault(None, set())
    frames = {
        win: account_frame(bundle, config, window_ending(window.end, win, window),
                           metrics=sorted(ms), shared=shared)
        for win, ms in wanted.items()
    }
    active = accounts.loc[active_accounts(accounts, window.end)]
    ids = pd.Index(active["account_id"])
    frames = {k: v.reindex(ids) for k, v in frames.items()}
    return health.score(frames, active, model, as_of=window.end, overrides=overrides)


def analyse(
    bundle: Bundle,
    config: dict[str, Any],
    *,
    as_of: str | date | pd.Timestamp | None = None,
    period: str = "month",
    by: str | None = None,
    overrides_path: Path | None = None,
    history_dir: Path | None = None,
    today: date | None = None,
    with_health: bool = True,
) -> Analysis:
    """KPI table for W (with P), health scores for W and P, and the health KPIs."""
    from cs_metrics.config import config_hash

    period = parse_period(period)
    R = as_of if isinstance(as_of, pd.Timestamp) else resolve_as_of(bundle, as_of, today)
    W = window_for(R, period)
    P = previous_window(W)
    shared: dict[str, Any] = {}
    table = compute_table(bundle, config, W, by=by, shared=shared)
    result = Analysis(R, W, P, config, config_hash(config), bundle, table)
    if not with_health or not bundle.has("accounts"):
        reason = ("needs accounts, which the loaded data does not have" if with_health
                  else "health scores were not computed")
        table.kpis.extend(_unavailable_health_kpis(reason))
        return result

    from cs_metrics import health

    model = health.build_model(config)
    overrides = _overrides(model, overrides_path)
    arr = account_arr(bundle, config, W, shared)
    cur = _score(bundle, config, model, W, shared, overrides)
    prev = _score(bundle, config, model, P, shared, overrides)
    accounts = bundle.frame("accounts")
    names = (
        pd.Series(accounts["name"].to_numpy(), index=accounts["account_id"].to_numpy())
        if "name" in accounts.columns
        else pd.Series(dtype="string")
    )
    result.model = model
    result.scores, result.previous_scores, result.arr = cur, prev, arr
    result.health = health.health_result(cur, prev, arr, names, model)
    arr_prev = account_arr(bundle, config, P, shared)
    table.kpis.extend(health.health_kpis(cur, prev, arr, model, arr_previous=arr_prev))
    result.issues.extend(getattr(cur, "issues", []) or [])
    if history_dir is not None:
        health.append_history(Path(history_dir), R, result.config_hash, cur)
    return result


def _unavailable_health_kpis(reason: str) -> list[KPIValue]:
    """The health KPIs, each null with the reason (SPEC §1: unavailable, never 0)."""
    from cs_metrics.metrics.registry import all_kpis

    return [KPIValue(k.id, k.label, k.category, k.unit, k.better, None, None,
                     unavailable_reason=reason, description=k.description)
            for k in all_kpis(external=True) if k.external and k.category == "health"]


def _overrides(model, path: Path | None):
    """--overrides FILE, else `health.overrides.file` of the config (relative to the working dir)."""
    from cs_metrics import health

    path = path or (Path(model.override_file) if model.override_file else None)
    return health.load_overrides(Path(path)) if path else None


def run_backtest(
    bundle: Bundle,
    config: dict[str, Any],
    *,
    as_of: str | date,
    horizon: str = "90d",
    period: str = "month",
    overrides_path: Path | None = None,
) -> dict[str, Any]:
    """Scores as of DATE, then who churned in the horizon after it (SPEC §4)."""
    from cs_metrics import health

    if not bundle.has("accounts"):
        raise UsageError("backtest needs an accounts dataset")
    h = parse_period(horizon)
    if not h.endswith("d"):
        raise UsageError(f"--horizon {horizon!r}: expected a number of days like 90d")
    days = int(h[:-1])
    R = to_day(as_of)
    W = window_for(R, parse_period(period))
    model = health.build_model(config)
    overrides = _overrides(model, overrides_path)
    shared: dict[str, Any] = {}
    scores = _score(bundle, config, model, W, shared, overrides)
    churned = churned_between(bundle, config, R, R + pd.Timedelta(days=days), shared)
    arr = account_arr(bundle, config, W, shared)
    ids = scores.table.index
    out = health.backtest(scores, churned.reindex(ids).fillna(False).astype(bool), arr.reindex(ids), model)
    out = {"as_of": R.date().isoformat(), "horizon_days": days, **out}
    return out


def churned_between(
    bundle: Bundle, config: dict[str, Any], start: pd.Timestamp, end: pd.Timestamp, shared: dict
) -> pd.Series:
    """Accounts that churned in (start, end]: accounts.churned_at when the column
    exists, else MRR > 0 on `start` and MRR = 0 on `end` (billing)."""
    accounts = bundle.frame("accounts")
    ids = accounts["account_id"].to_numpy()
    if "churned_at" in accounts.columns:
        c = accounts["churned_at"]
        hit = (c > start) & (c < end + pd.Timedelta(days=1))
        return pd.Series(hit.fillna(False).to_numpy(), index=ids)
    if bundle.has("billing"):
        from cs_metrics.metrics.revenue import mrr_on

        frames = {n: d.frame for n, d in bundle.datasets.items()}
        ctx = Context(bundle, config, window_for(end, "month"), frames, shared=shared)
        before = mrr_on(ctx, start).reindex(ids).fillna(0.0)
        after = mrr_on(ctx, end).reindex(ids).fillna(0.0)
        return pd.Series(((before > 0) & (after <= 0)).to_numpy(), index=ids)
    raise UsageError("backtest needs accounts.churned_at or billing data to know who churned")
