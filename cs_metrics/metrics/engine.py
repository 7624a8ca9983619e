"""The KPI engine: registry + Bundle + windows → KPITable, per group, per period.

Each KPI is computed for W and for P with the same definition (R14): only
the window, and so R, changes. Frames are never cut at R: a ticket created in
P and answered after P counts as answered.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from cs_metrics.bundle import Bundle
from cs_metrics.metrics.registry import (
    ACCOUNT_METRICS,
    KPI,
    Context,
    Result,
    all_kpis,
    load_domains,
    unmet_need,
)
from cs_metrics.results import KPITable, KPIValue
from cs_metrics.timeframe import Window, previous_window, trend_windows, window_for

BLANK_GROUP = "(blank)"


def _frames(bundle: Bundle) -> dict[str, pd.DataFrame]:
    return {name: ds.frame for name, ds in bundle.datasets.items()}


def _datasets_of(k: KPI, bundle: Bundle) -> set[str]:
    """Datasets that feed a KPI: for alternatives ("billing|accounts.mrr") only the
    first one the data has, since that is the one the KPI uses (R35 set_aside)."""
    out = set()
    for need in k.needs:
        options = need.split("|")
        for opt in options:
            ds, _, col = opt.partition(".")
            d = bundle.datasets.get(ds)
            if d is not None and (not col or col in d.frame.columns):
                out.add(ds)
                break
        else:
            out.add(options[0].partition(".")[0])
    return out


def evaluate(k: KPI, ctx: Context) -> Result:
    """One KPI in one context: unavailable when inputs are missing, else compute."""
    reason = k.missing_inputs(ctx)
    if reason is not None:
        return Result.unavailable(reason)
    res = k.compute(ctx)
    if res.value is not None and pd.isna(res.value):
        return Result(None, res.n, res.unavailable_reason or "no data in the window", res.extra)
    if res.value is None and not res.unavailable_reason:
        res.unavailable_reason = "no data in the window"
    return res


def compute_window(
    bundle: Bundle,
    config: dict[str, Any],
    window: Window,
    *,
    frames: dict[str, pd.DataFrame] | None = None,
    group_accounts: pd.Index | None = None,
    shared: dict[str, Any] | None = None,
    kpis: list[KPI] | None = None,
) -> dict[str, Result]:
    """Every KPI for one window (W or P). Returns id → Result."""
    ctx = Context(
        bundle=bundle,
        config=config,
        window=window,
        frames=frames if frames is not None else _frames(bundle),
        group_accounts=group_accounts,
        shared=shared if shared is not None else {},
    )
    return {k.id: evaluate(k, ctx) for k in (kpis or all_kpis(bundle, config))}


def _values(
    kpis: list[KPI], cur: dict[str, Result], prev: dict[str, Result], bundle: Bundle
) -> list[KPIValue]:
    out = []
    for k in kpis:
        r, p = cur[k.id], prev.get(k.id)
        out.append(
            KPIValue(
                id=k.id,
                label=k.label,
                category=k.category,
                # a result may refine a config-dependent unit or direction
                # (csat with method mean is a score; ces may be lower-is-better)
                unit=r.extra.get("unit", k.unit),
                better=r.extra.get("better", k.better),
                value=r.value,
                previous=None if p is None else p.value,
                n=r.n,
                set_aside=sum(bundle.set_aside(d) for d in _datasets_of(k, bundle)),
                unavailable_reason=r.unavailable_reason,
                extra=r.extra,
                description=k.description,
            )
        )
    return out


def group_frames(
    bundle: Bundle, by: str
) -> dict[str, tuple[pd.Index, dict[str, pd.DataFrame]]]:
    """Split every frame by an accounts column: group value → (account ids, frames).

    Orphan rows (no account) belong to no group. Accounts with a blank value
    form the group "(blank)".
    """
    from cs_metrics.errors import UsageError

    accounts = bundle.frame("accounts")
    if accounts is None:
        raise UsageError(f"--by {by} needs an accounts dataset")
    if by not in accounts.columns:
        cols = ", ".join(map(str, accounts.columns))
        raise UsageError(f"--by {by!r}: no such accounts column. Columns: {cols}")
    key = accounts[by].astype("string").fillna(BLANK_GROUP)
    key = key.where(key.str.strip() != "", BLANK_GROUP)
    out: dict[str, tuple[pd.Index, dict[str, pd.DataFrame]]] = {}
    all_frames = _frames(bundle)
    # one vectorised lookup per dataset, then cheap boolean masks per group
    account_group = pd.Series(key.to_numpy(), index=accounts["account_id"].to_numpy())
    row_groups = {
        name: df["account_id"].map(account_group)
        for name, df in all_frames.items()
        if name != "accounts" and "account_id" in df.columns
    }
    for value in sorted(key.unique(), key=str):
        mask = key == value
        ids = pd.Index(accounts.loc[mask, "account_id"])
        frames = {"accounts": accounts.loc[mask]}
        for name, df in all_frames.items():
            if name == "accounts":
                continue
            frames[name] = df.loc[(row_groups[name] == value).fillna(False)] if name in row_groups else df
        out[str(value)] = (ids, frames)
    return out


def compute_table(
    bundle: Bundle,
    config: dict[str, Any],
    window: Window,
    *,
    by: str | None = None,
    shared: dict[str, Any] | None = None,
) -> KPITable:
    """The KPI table for W with P's values as `previous`, optionally per group."""
    load_domains()
    shared = shared if shared is not None else {}
    prev_w = previous_window(window)
    kpis = all_kpis(bundle, config)
    cur = compute_window(bundle, config, window, shared=shared, kpis=kpis)
    prev = compute_window(bundle, config, prev_w, shared=shared, kpis=kpis)
    table = KPITable(_values(kpis, cur, prev, bundle), by=by)
    if by:
        for value, (ids, frames) in group_frames(bundle, by).items():
            gc = compute_window(bundle, config, window, frames=frames, group_accounts=ids,
                                shared=shared, kpis=kpis)
            gp = compute_window(bundle, config, prev_w, frames=frames, group_accounts=ids,
                                shared=shared, kpis=kpis)
            table.groups[value] = _values(kpis, gc, gp, bundle)
    return table


def compute_trend(
    bundle: Bundle,
    config: dict[str, Any],
    as_of: pd.Timestamp,
    period: str,
    periods: int,
    *,
    kpi_ids: list[str] | None = None,
    shared: dict[str, Any] | None = None,
) -> list[tuple[Window, list[KPIValue]]]:
    """The KPI table for each of the last N periods, oldest first.

    The data is loaded once; caches in `shared` (normalised billing, MRR
    step functions) are reused across windows. `kpi_ids` limits the work to
    the KPIs a chart needs.
    """
    load_domains()
    shared = shared if shared is not None else {}
    kpis = all_kpis(bundle, config)
    if kpi_ids is not None:
        from cs_metrics.errors import UsageError

        unknown = sorted(set(kpi_ids) - {k.id for k in kpis})
        if unknown:
            raise UsageError(f"unknown KPI id(s): {', '.join(unknown)}; `csm kpis --list` shows the ids")
        kpis = [k for k in kpis if k.id in set(kpi_ids)]
    wins = trend_windows(as_of, period, periods)
    results = [compute_window(bundle, config, w, shared=shared, kpis=kpis) for w in wins]
    before = compute_window(bundle, config, previous_window(wins[0]), shared=shared, kpis=kpis)
    out = []
    for i, w in enumerate(wins):
        prev = results[i - 1] if i else before
        out.append((w, _values(kpis, results[i], prev, bundle)))
    return out


def account_frame(
    bundle: Bundle,
    config: dict[str, Any],
    window: Window,
    *,
    metrics: list[str] | None = None,
    shared: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Per-account metrics for one window, indexed by account_id (health input).

    Metrics whose inputs are missing are simply absent columns; accounts
    without a value are NaN (the health model treats that as missing data).
    """
    load_domains()
    accounts = bundle.frame("accounts")
    index = pd.Index(accounts["account_id"] if accounts is not None else [], name="account_id")
    ctx = Context(bundle, config, window, _frames(bundle), shared=shared if shared is not None else {})
    cols: dict[str, pd.Series] = {}
    for name, m in ACCOUNT_METRICS.items():
        if metrics is not None and name not in metrics:
            continue
        if unmet_need(ctx, m.needs) is not None:
            continue
        s = m.compute(ctx)
        if s is None:
            continue
        cols[name] = pd.to_numeric(s, errors="coerce").astype("float64")
    frame = pd.DataFrame({name: s.reindex(index) for name, s in cols.items()}, index=index)
    return frame


def window_ending(R: pd.Timestamp, spec: str | None, report_window: Window) -> Window:
    """The window a health measure asks for: None = the report window, 'Nd' = N days ending R."""
    if spec is None:
        return report_window
    return window_for(R, spec)
