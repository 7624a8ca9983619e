"""Adoption and engagement KPIs (SPEC §3, R11, R33, R34) and per-account forms.

Usage rows arrive linked (orphans already set aside, R6). The hot path works
on integer codes built once per usage frame and kept in `ctx.shared`, so W,
P and trend windows reuse them (account code, UTC day number); user ids are
hashed per window, only on the rows it reads. Distinct counts are hash
operations on int64 (account, user) and (day, account, user) keys, never
per-row Python.

R33: the company `active_users` (and the DAU of stickiness) counts distinct
user ids over non-orphan rows, so a user id seen under two accounts is one
user; license utilization sums each account's own distinct users over
accounts with seats, so there such a user counts under each account.

Without usage data the user counts fall back to the accounts snapshot
columns (R11: unchanged for P), and the result says so in
`extra["source"]`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cs_metrics.metrics.accounts import account_index, accounts_number, on_accounts
from cs_metrics.metrics.registry import Context, Result, account_metric, kpi

ACTIVE_DAYS = 30  # "active users" = distinct users with an event in the 30 days ending R
_DAY = pd.Timedelta(days=1)
_EPOCH = pd.Timestamp("1970-01-01")


@dataclass(frozen=True)
class UsageCodes:
    acc: np.ndarray  # int64 account code per row (-1 = missing)
    accounts: pd.Index  # account id of each code
    day: np.ndarray  # int64 UTC day number per row (NaT → very negative)
    count: np.ndarray  # float64 events per row (blank → 1)
    duration: np.ndarray | None  # float64 seconds per row, NaN when absent


@dataclass(frozen=True)
class WindowUsers:
    """User codes of the rows a window needs: W and the 30 days ending R."""

    rows: np.ndarray  # positions in the usage frame
    usr: np.ndarray  # int64 user code per such row (-1 = no user id)
    n_users: int

    @property
    def pair_base(self) -> int:
        """(account, user) pair key = account code × pair_base + user code."""
        return self.n_users + 1


def _day_number(ts: pd.Timestamp) -> int:
    return int((pd.Timestamp(ts).normalize() - _EPOCH) // _DAY)


def usage_codes(ctx: Context) -> UsageCodes | None:
    """Per-row integer codes of the usage frame, cached per frame object in
    `ctx.shared` so W, P and trend windows build them once."""
    df = ctx.frame("usage")
    if df is None:
        return None
    hit = ctx.shared.get("adoption.usage_codes")
    if hit is not None and hit[0] is df:
        return hit[1]
    acc, accounts = pd.factorize(df["account_id"], sort=False)
    day = df["timestamp"].to_numpy().astype("datetime64[D]").astype(np.int64)
    if "count" in df.columns:
        count = pd.to_numeric(df["count"], errors="coerce").astype("float64").fillna(1.0).to_numpy()
    else:
        count = np.ones(len(df))
    duration = None
    if "duration_seconds" in df.columns:
        duration = (
            pd.to_numeric(df["duration_seconds"], errors="coerce").astype("float64").to_numpy()
        )
    codes = UsageCodes(
        acc.astype(np.int64), pd.Index(accounts, name="account_id"), day, count, duration
    )
    ctx.shared["adoption.usage_codes"] = (df, codes)
    return codes


def _has_users(ctx: Context) -> bool:
    """Users come from usage when it has user ids and at least one row; an
    empty usage file says nothing, so the accounts snapshot is used instead.
    The whole dataset decides: a `--by` group whose accounts have no usage
    rows has 0 active users, not an unknown number."""
    if not ctx.has("usage", "user_id"):
        return False
    whole = ctx.bundle.frame("usage")
    return len(whole if whole is not None else ctx.frame("usage")) > 0


def _in_days(day: np.ndarray, first: pd.Timestamp, last: pd.Timestamp) -> np.ndarray:
    return (day >= _day_number(first)) & (day <= _day_number(last))


def _window_mask(ctx: Context, c: UsageCodes) -> np.ndarray:
    key = f"adoption.window_mask:{ctx.window.start}:{ctx.window.end}"
    return ctx.cached(key, lambda: _in_days(c.day, ctx.window.start, ctx.window.end))


def _window_users(ctx: Context, c: UsageCodes) -> WindowUsers:
    """User ids are hashed only for the rows this window reads (user ids have
    many distinct values; hashing a whole year of events would dominate)."""

    def build() -> WindowUsers:
        first = min(ctx.window.start, ctx.R - (ACTIVE_DAYS - 1) * _DAY)
        rows = np.flatnonzero(_in_days(c.day, first, ctx.R) & (c.acc >= 0))
        usr, users = pd.factorize(ctx.frame("usage")["user_id"].iloc[rows], sort=False)
        return WindowUsers(rows, usr.astype(np.int64), len(users))

    return ctx.cached(f"adoption.window_users:{ctx.window.start}:{ctx.R}", build)


def _active_pairs(ctx: Context, c: UsageCodes) -> tuple[np.ndarray, int]:
    """Distinct (account, user) pair keys active in the 30 days ending R, and the key base."""

    def build() -> tuple[np.ndarray, int]:
        wu = _window_users(ctx, c)
        m = _in_days(c.day[wu.rows], ctx.R - (ACTIVE_DAYS - 1) * _DAY, ctx.R) & (wu.usr >= 0)
        return pd.unique(c.acc[wu.rows][m] * wu.pair_base + wu.usr[m]), wu.pair_base

    return ctx.cached(f"adoption.active_pairs:{ctx.window.start}:{ctx.R}", build)


def _active_user_count(ctx: Context, c: UsageCodes) -> int:
    """R33: distinct user ids (any account, non-orphan rows) in the 30 days ending R."""
    pairs, base = _active_pairs(ctx, c)
    return len(pd.unique(pairs % base))


def _active_users_by_account(ctx: Context, c: UsageCodes) -> pd.Series:
    """Distinct users per account code in the 30 days ending R (all codes, zeros kept)."""
    pairs, base = _active_pairs(ctx, c)
    counts = np.bincount(pairs // base, minlength=len(c.accounts)).astype("float64")
    return pd.Series(counts, index=c.accounts)


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
        n = _active_user_count(ctx, usage_codes(ctx))
        return Result(float(n), n=n, extra={"source": "usage", "days": ACTIVE_DAYS})
    if not ctx.has("accounts", "active_users"):
        return Result.unavailable("the usage data has no rows", n=0)
    au = accounts_number(ctx, "active_users").dropna()
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
    seats = accounts_number(ctx, "seats")
    if _has_users(ctx):
        users = _active_users_by_account(ctx, usage_codes(ctx)).reindex(seats.index, fill_value=0.0)
        source = "usage"
    elif ctx.has("accounts", "active_users"):
        users = accounts_number(ctx, "active_users")
        source = "accounts.active_users"
    else:
        return Result.unavailable("the usage data has no rows", n=0)
    keep = (seats > 0) & users.notna()
    if not keep.any():
        return Result.unavailable(
            "no account with seats > 0"
            + ("" if source == "usage" else " and a known active_users"),
            n=0,
        )
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
    mau = _active_user_count(ctx, c)
    if mau == 0:
        return Result.unavailable("no active users in the 30 days ending R", n=0)
    wu = _window_users(ctx, c)
    day = c.day[wu.rows]
    m = _in_days(day, ctx.window.start, ctx.window.end) & (wu.usr >= 0)
    # DAU counts distinct user ids per day (R33), whatever account they were under
    user_days = len(pd.unique((day[m] - _day_number(ctx.window.start)) * wu.pair_base + wu.usr[m]))
    dau = user_days / ctx.window.days
    return Result(
        dau / mau, n=mau, extra={"mean_dau": dau, "active_users": mau, "days": ctx.window.days}
    )


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
    total = accounts_number(ctx, "goals_total")
    met = accounts_number(ctx, "goals_met")
    keep = (total > 0) & met.notna()
    if not keep.any():
        return Result.unavailable(
            "no account has goals (goals_total > 0 with goals_met known)", n=0
        )
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
    au = accounts_number(ctx, "active_users")
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
    seats = accounts_number(ctx, "seats")
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
    m = (c.day <= r) & (c.acc >= 0) & (c.day > np.iinfo(np.int64).min)  # NaT is the minimum
    last = pd.Series(c.day[m]).groupby(c.acc[m], sort=False).max()
    out = pd.Series(
        (r - last.to_numpy()).astype("float64"), index=c.accounts[last.index.to_numpy()]
    )
    return on_accounts(out, _index(ctx))
