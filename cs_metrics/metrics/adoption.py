"""Adoption and engagement KPIs (SPEC §3, R11, R33, R34) and per-account forms.

Usage rows arrive linked (orphans already set aside, R6). The hot path works
on integer codes built once per usage frame and kept in `ctx.shared`, so W,
P and trend windows reuse them: account code, (account, user) pair code and
the event's UTC day number. Distinct counts are then bit-array or hash
operations on int64, never per-row Python.

A user is identified within its account: the same user id under two
accounts counts twice. That keeps the company figure equal to the sum of the
per-account figures that license utilization divides by seats.

Without usage data the user counts fall back to the accounts snapshot
columns (R11: unchanged for P), and the result says so in
`extra["source"]`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cs_metrics.metrics.accounts import account_index, on_accounts
from cs_metrics.metrics.registry import Context, Result, account_metric, kpi

ACTIVE_DAYS = 30  # "active users" = distinct users with an event in the 30 days ending R
_DAY = pd.Timedelta(days=1)
_EPOCH = pd.Timestamp("1970-01-01")


@dataclass(frozen=True)
class UsageCodes:
    acc: np.ndarray  # int64 account code per row (-1 = missing)
    accounts: pd.Index  # account id of each code
    pair: np.ndarray  # int64 (account, user) code per row (-1 = no user id)
    pair_acc: np.ndarray  # account code of each pair code
    day: np.ndarray  # int64 UTC day number per row (NaT → very negative)
    count: np.ndarray  # float64 events per row (blank → 1)
    duration: np.ndarray | None  # float64 seconds per row, NaN when absent


def _day_number(ts: pd.Timestamp) -> int:
    return int((pd.Timestamp(ts).normalize() - _EPOCH) // _DAY)


def usage_codes(ctx: Context) -> UsageCodes | None:
    """Integer codes of the usage frame, cached per frame object across windows."""
    df = ctx.frame("usage")
    if df is None:
        return None
    hit = ctx.shared.get("adoption.usage_codes")
    if hit is not None and hit[0] is df:
        return hit[1]
    acc, accounts = pd.factorize(df["account_id"], sort=False)
    acc = acc.astype(np.int64)
    if "user_id" in df.columns:
        usr, users = pd.factorize(df["user_id"], sort=False)
        raw = acc * (len(users) + 1) + usr
        valid = (usr >= 0) & (acc >= 0)
        pair = np.full(len(df), -1, dtype=np.int64)
        codes, pair_keys = pd.factorize(raw[valid], sort=False)
        pair[valid] = codes
        pair_acc = (pair_keys // (len(users) + 1)).astype(np.int64)
    else:
        pair = np.full(len(df), -1, dtype=np.int64)
        pair_acc = np.zeros(0, dtype=np.int64)
    day = df["timestamp"].to_numpy().astype("datetime64[D]").astype(np.int64)
    if "count" in df.columns:
        count = pd.to_numeric(df["count"], errors="coerce").astype("float64").fillna(1.0).to_numpy()
    else:
        count = np.ones(len(df))
    duration = None
    if "duration_seconds" in df.columns:
        duration = pd.to_numeric(df["duration_seconds"], errors="coerce").astype("float64").to_numpy()
    codes = UsageCodes(acc, pd.Index(accounts, name="account_id"), pair, pair_acc, day, count, duration)
    ctx.shared["adoption.usage_codes"] = (df, codes)
    return codes


def _has_users(ctx: Context) -> bool:
    """Users come from usage when it has user ids and at least one row; an
    empty usage file says nothing, so the accounts snapshot is used instead."""
    return ctx.has("usage", "user_id") and len(ctx.frame("usage")) > 0


def _in_days(c: UsageCodes, first: pd.Timestamp, last: pd.Timestamp) -> np.ndarray:
    return (c.day >= _day_number(first)) & (c.day <= _day_number(last))


def _window_mask(ctx: Context, c: UsageCodes) -> np.ndarray:
    return _in_days(c, ctx.window.start, ctx.window.end)


def _active_pairs(ctx: Context, c: UsageCodes) -> np.ndarray:
    """Boolean per pair code: the user had an event in the 30 days ending R."""

    def build() -> np.ndarray:
        m = _in_days(c, ctx.R - (ACTIVE_DAYS - 1) * _DAY, ctx.R) & (c.pair >= 0)
        seen = np.zeros(len(c.pair_acc), dtype=bool)
        seen[c.pair[m]] = True
        return seen

    return ctx.cached(f"adoption.active_pairs:{ctx.R}", build)


def _active_users_by_account(ctx: Context, c: UsageCodes) -> pd.Series:
    """Distinct users per account code in the 30 days ending R (all codes, zeros kept)."""
    seen = _active_pairs(ctx, c)
    counts = np.bincount(c.pair_acc[seen], minlength=len(c.accounts)).astype("float64")
    return pd.Series(counts, index=c.accounts)


def _accounts_num(ctx: Context, col: str) -> pd.Series:
    acc = ctx.frame("accounts")
    assert acc is not None
    return pd.Series(
        pd.to_numeric(acc[col], errors="coerce").astype("float64").to_numpy(),
        index=pd.Index(acc["account_id"], name="account_id"),
    )


# ---------------------------------------------------------------- company KPIs

@kpi(
    "active_users",
    label="Active users (30 days)",
    category="adoption",
    unit="count",
    better="higher",
    description="distinct users with a usage event in the 30 days ending R; without usage "
    "user ids, Σ accounts.active_users (snapshot, R11)",
    needs=("usage.user_id|accounts.active_users",),
)
def active_users(ctx: Context) -> Result:
    if _has_users(ctx):
        c = usage_codes(ctx)
        n = int(_active_pairs(ctx, c).sum())
        return Result(float(n), n=n, extra={"source": "usage", "days": ACTIVE_DAYS})
    if not ctx.has("accounts", "active_users"):
        return Result.unavailable("the usage data has no rows", n=0)
    au = _accounts_num(ctx, "active_users").dropna()
    if au.empty:
        return Result.unavailable("accounts.active_users is blank for every account", n=0)
    return Result(float(au.sum()), n=len(au), extra={"source": "accounts.active_users"})


@kpi(
    "license_utilization",
    label="License utilization",
    category="adoption",
    unit="ratio",
    better="higher",
    description="Σ distinct active users (30 days ending R) / Σ seats, over accounts with "
    "seats > 0 (R33); without usage user ids, from accounts.active_users",
    needs=("accounts.seats", "usage.user_id|accounts.active_users"),
)
def license_utilization(ctx: Context) -> Result:
    seats = _accounts_num(ctx, "seats")
    if _has_users(ctx):
        users = _active_users_by_account(ctx, usage_codes(ctx)).reindex(seats.index, fill_value=0.0)
        source = "usage"
    elif ctx.has("accounts", "active_users"):
        users = _accounts_num(ctx, "active_users")
        source = "accounts.active_users"
    else:
        return Result.unavailable("the usage data has no rows", n=0)
    keep = (seats > 0) & users.notna()
    if not keep.any():
        return Result.unavailable("no account with seats > 0" + ("" if source == "usage" else
                                  " and a known active_users"), n=0)
    u, s = float(users[keep].sum()), float(seats[keep].sum())
    return Result(u / s, n=int(keep.sum()), extra={"source": source, "active_users": u, "seats": s})


@kpi(
    "stickiness",
    label="Stickiness (DAU / MAU)",
    category="adoption",
    unit="ratio",
    better="higher",
    description="mean daily active users over every day of W (days without events count 0) "
    "/ active users in the 30 days ending R (R33)",
    needs=("usage.user_id",),
)
def stickiness(ctx: Context) -> Result:
    c = usage_codes(ctx)
    mau = int(_active_pairs(ctx, c).sum())
    if mau == 0:
        return Result.unavailable("no active users in the 30 days ending R", n=0)
    m = _window_mask(ctx, c) & (c.pair >= 0)
    start = _day_number(ctx.window.start)
    combo = (c.day[m] - start) * max(len(c.pair_acc), 1) + c.pair[m]
    user_days = len(pd.unique(combo))
    dau = user_days / ctx.window.days
    return Result(dau / mau, n=mau, extra={"mean_dau": dau, "active_users": mau, "days": ctx.window.days})


@kpi(
    "avg_session_minutes",
    label="Average session length",
    category="adoption",
    unit="minutes",
    better="higher",
    description="mean duration of usage rows in W that carry one (zeros included), in minutes",
    needs=("usage.duration_seconds",),
)
def avg_session_minutes(ctx: Context) -> Result:
    c = usage_codes(ctx)
    d = c.duration[_window_mask(ctx, c)]
    d = d[~np.isnan(d)]
    if len(d) == 0:
        return Result.unavailable("no usage row with a duration in the window", n=0)
    return Result(float(d.mean()) / 60.0, n=len(d))


def _active_days_by_account(ctx: Context, c: UsageCodes) -> pd.Series:
    """Distinct days with a usage row in W per account code (zeros kept)."""

    def build() -> pd.Series:
        m = _window_mask(ctx, c) & (c.acc >= 0)
        start = _day_number(ctx.window.start)
        combo = c.acc[m] * ctx.window.days + (c.day[m] - start)
        u = pd.unique(combo)
        days = np.bincount(u // ctx.window.days, minlength=len(c.accounts)).astype("float64")
        return pd.Series(days, index=c.accounts)

    return ctx.cached(f"adoption.active_days:{ctx.window.start}:{ctx.window.end}", build)


@kpi(
    "active_days_per_account",
    label="Active days per account",
    category="adoption",
    unit="days",
    better="higher",
    description="mean number of distinct days with usage in W, over accounts with a usage row in W",
    needs=("usage",),
)
def active_days_per_account(ctx: Context) -> Result:
    days = _active_days_by_account(ctx, usage_codes(ctx))
    active = days[days > 0]
    if active.empty:
        return Result.unavailable("no account has usage in the window", n=0)
    return Result(float(active.mean()), n=len(active))


def _milestone_days(ctx: Context, col: str) -> Result:
    """R34: mean fractional days created_at → milestone over accounts whose milestone is in W."""
    acc = ctx.frame("accounts")
    in_w = ctx.window.contains(acc[col]) & acc["created_at"].notna()
    d = ((acc.loc[in_w, col] - acc.loc[in_w, "created_at"]) / _DAY).astype("float64")
    negative = int((d < 0).sum())
    d = d[d >= 0]
    extra = {"excluded_negative": negative} if negative else {}
    if d.empty:
        what = "onboarded" if col == "onboarded_at" else "reaching first value"
        return Result(None, 0, f"no account {what} in the window with a valid created_at", extra)
    return Result(float(d.mean()), n=len(d), extra=extra)


@kpi(
    "time_to_onboard_days",
    label="Time to onboard",
    category="adoption",
    unit="days",
    better="lower",
    description="mean onboarded_at − created_at in fractional days over accounts onboarded in W "
    "(negative values left out, R34)",
    needs=("accounts.onboarded_at", "accounts.created_at"),
)
def time_to_onboard_days(ctx: Context) -> Result:
    return _milestone_days(ctx, "onboarded_at")


@kpi(
    "time_to_value_days",
    label="Time to value",
    category="adoption",
    unit="days",
    better="lower",
    description="mean first_value_at − created_at in fractional days over accounts reaching "
    "value in W (negative values left out, R34)",
    needs=("accounts.first_value_at", "accounts.created_at"),
)
def time_to_value_days(ctx: Context) -> Result:
    return _milestone_days(ctx, "first_value_at")


@kpi(
    "goals_met_rate",
    label="Goals met",
    category="adoption",
    unit="ratio",
    better="higher",
    description="Σ goals_met / Σ goals_total over accounts with goals_total > 0 and a known "
    "goals_met (snapshot)",
    needs=("accounts.goals_total", "accounts.goals_met"),
)
def goals_met_rate(ctx: Context) -> Result:
    total = _accounts_num(ctx, "goals_total")
    met = _accounts_num(ctx, "goals_met")
    keep = (total > 0) & met.notna()
    if not keep.any():
        return Result.unavailable("no account has goals (goals_total > 0 with goals_met known)", n=0)
    gm, gt = float(met[keep].sum()), float(total[keep].sum())
    return Result(gm / gt, n=int(keep.sum()), extra={"goals_met": gm, "goals_total": gt})


@kpi(
    "advocate_rate",
    label="Advocates",
    category="adoption",
    unit="ratio",
    better="higher",
    description="accounts flagged advocate / accounts with the flag known (snapshot)",
    needs=("accounts.advocate",),
)
def advocate_rate(ctx: Context) -> Result:
    flag = ctx.frame("accounts")["advocate"].astype("boolean")
    known = flag.dropna()
    if known.empty:
        return Result.unavailable("the advocate flag is blank for every account", n=0)
    adv = int(known.sum())
    return Result(adv / len(known), n=len(known), extra={"advocates": adv})


# ---------------------------------------------------------------- per account

def _index(ctx: Context) -> pd.Index:
    return account_index(ctx, ctx.frame("usage"))


@account_metric(
    "active_users",
    description="distinct users with a usage event in the 30 days ending R (else accounts.active_users)",
    unit="count",
    better="higher",
    needs=("usage.user_id|accounts.active_users",),
    windowed=False,
)
def account_active_users(ctx: Context) -> pd.Series:
    if _has_users(ctx):
        return on_accounts(_active_users_by_account(ctx, usage_codes(ctx)), _index(ctx), fill=0.0)
    if not ctx.has("accounts", "active_users"):  # usage without rows: unknown, not 0
        return on_accounts(pd.Series(dtype="float64"), _index(ctx))
    au = _accounts_num(ctx, "active_users")
    return on_accounts(au, au.index)


@account_metric(
    "license_utilization",
    description="active users (30 days ending R) / seats; missing when seats is not > 0",
    unit="ratio",
    better="higher",
    needs=("accounts.seats", "usage.user_id|accounts.active_users"),
    windowed=False,
)
def account_license_utilization(ctx: Context) -> pd.Series:
    seats = _accounts_num(ctx, "seats")
    users = account_active_users(ctx).reindex(seats.index)
    if _has_users(ctx):
        users = users.fillna(0.0)
    return on_accounts((users / seats).where(seats > 0), seats.index)


@account_metric(
    "active_days",
    description="distinct days with usage in W",
    unit="days",
    better="higher",
    needs=("usage",),
)
def account_active_days(ctx: Context) -> pd.Series:
    return on_accounts(_active_days_by_account(ctx, usage_codes(ctx)), _index(ctx), fill=0.0)


@account_metric(
    "usage_events",
    description="Σ usage count (events) in W",
    unit="count",
    better="higher",
    needs=("usage",),
)
def account_usage_events(ctx: Context) -> pd.Series:
    c = usage_codes(ctx)
    m = _window_mask(ctx, c) & (c.acc >= 0)
    ev = np.bincount(c.acc[m], weights=c.count[m], minlength=len(c.accounts))
    return on_accounts(pd.Series(ev, index=c.accounts), _index(ctx), fill=0.0)


@account_metric(
    "days_since_last_activity",
    description="days from the account's last usage day on or before R to R; missing when it has none",
    unit="days",
    better="lower",
    needs=("usage",),
    windowed=False,
)
def days_since_last_activity(ctx: Context) -> pd.Series:
    c = usage_codes(ctx)
    r = _day_number(ctx.R)
    m = (c.day <= r) & (c.acc >= 0) & (c.day > np.iinfo(np.int64).min)
    last = np.full(len(c.accounts), np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(last, c.acc[m], c.day[m])
    out = np.where(last == np.iinfo(np.int64).min, np.nan, (r - last).astype("float64"))
    return on_accounts(pd.Series(out, index=c.accounts), _index(ctx))
