"""Support (ticket) KPIs of SPEC §3 and their per-account forms (health inputs).

Rules pinned here (docs/support.md has the long form):
- R30 state from timestamps: resolved = resolved_at, else closed_at; the
  export-time status only when the dataset has neither column.
- R31 answered = answered at any time in the data (R14: never cut at R).
- R8 first response = first_response_at − created_at, else the calendar
  first_response_minutes; the business-minutes column feeds only the
  business-hours KPIs.
- Durations are hours; a negative one is left out (the loader already nulls it).
- Breakdowns by channel / priority / type are one groupby each.

Everything window-independent (durations, resolution time, business minutes)
is computed once per tickets frame and kept in ``ctx.shared``, so W, P and
every KPI reuse it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd

from cs_metrics.errors import ConfigError, Issue
from cs_metrics.metrics.business_hours import BusinessCalendar
from cs_metrics.metrics.registry import Context, Result, account_metric, kpi

# Export-time statuses that mean "no longer open" (used only without timestamps, R30).
CLOSED_STATUSES = frozenset(
    {"solved", "resolved", "closed", "done", "completed", "complete", "abandoned"}
)
ABANDONED_STATUS = "abandoned"
BREAKDOWNS = (("by_channel", "channel"), ("by_priority", "priority"), ("by_type", "type"))
BLANK = "(blank)"
NO_BH = "needs support.business_hours in the config"
_H = np.timedelta64(1, "h")


# ---------------------------------------------------------------------------
# window-independent preparation (cached per tickets frame)


@dataclass
class Prep:
    df: pd.DataFrame
    created: pd.Series
    resolved_ts: pd.Series | None  # resolved_at else closed_at; None = no such columns
    closed_status: pd.Series | None  # status says resolved/closed (status-only data)
    has_fr: bool  # any first-response column
    fr_hours: pd.Series  # calendar hours to first response (R8), NaN = unanswered / unknown
    res_hours: pd.Series  # hours created → resolved, NaN when not resolved


def _hours(later: pd.Series, earlier: pd.Series) -> pd.Series:
    h = (later - earlier) / pd.Timedelta(hours=1)
    h = h.astype("float64")
    return h.where(h >= 0)


def _num(df: pd.DataFrame, col: str) -> pd.Series:
    return pd.to_numeric(df[col], errors="coerce").astype("float64")


def _shared(ctx: Context, name: str, df: pd.DataFrame, fn: Callable[[], Any]) -> Any:
    """Cache keyed by frame identity (grouped frames are distinct objects)."""
    key = (f"support.{name}", id(df))
    hit = ctx.shared.get(key)
    if hit is not None and hit[0] is df:
        return hit[1]
    val = fn()
    ctx.shared[key] = (df, val)
    return val


def _tickets(ctx: Context) -> pd.DataFrame:
    df = ctx.frames.get("tickets")
    if df is None:
        return pd.DataFrame({"ticket_id": pd.Series([], dtype="str"),
                             "created_at": pd.Series([], dtype="datetime64[us]")})
    return df


def prep(ctx: Context) -> Prep:
    df = _tickets(ctx)
    return _shared(ctx, "prep", df, lambda: _prep(df))


def _prep(df: pd.DataFrame) -> Prep:
    created = pd.to_datetime(df["created_at"])
    resolved_ts = None
    for col in ("resolved_at", "closed_at"):
        if col in df.columns:
            ts = pd.to_datetime(df[col])
            resolved_ts = ts if resolved_ts is None else resolved_ts.fillna(ts)
    closed_status = None
    if resolved_ts is None and "status" in df.columns:
        closed_status = df["status"].isin(CLOSED_STATUSES).fillna(False).astype(bool)
    fr = pd.Series(np.nan, index=df.index, dtype="float64")
    has_fr = False
    if "first_response_at" in df.columns:
        has_fr = True
        fr = _hours(pd.to_datetime(df["first_response_at"]), created)
        present = df["first_response_at"].notna()
    else:
        present = pd.Series(False, index=df.index)
    if "first_response_minutes" in df.columns:
        has_fr = True
        mins = _num(df, "first_response_minutes") / 60.0
        fr = fr.where(present, mins.where(mins >= 0))
    res = _hours(resolved_ts, created) if resolved_ts is not None else pd.Series(
        np.nan, index=df.index, dtype="float64")
    return Prep(df, created, resolved_ts, closed_status, has_fr, fr, res)


# ---------------------------------------------------------------------------
# per-window masks (cached per computation)


@dataclass
class Masks:
    created_in: pd.Series  # created on a day of W
    created_by_r: pd.Series  # created on or before R
    resolved_in: pd.Series | None  # resolved on a day of W (None: no timestamps)
    resolved_by_r: pd.Series | None  # state on R: resolved/closed on or before R


def masks(ctx: Context) -> Masks:
    p = prep(ctx)
    key = ("support.masks", id(p.df), ctx.window)
    hit = ctx.cache.get(key)
    if hit is not None and hit[0] is p.df:
        return hit[1]
    w = ctx.window
    created_in = w.contains(p.created)
    created_by_r = p.created < w.end_exclusive
    if p.resolved_ts is not None:
        resolved_in = w.contains(p.resolved_ts).fillna(False).astype(bool)
        resolved_by_r = (p.resolved_ts < w.end_exclusive).fillna(False).astype(bool)
    else:
        resolved_in = None
        resolved_by_r = p.closed_status  # export-time status (R30), None if no status
    m = Masks(created_in, created_by_r, resolved_in, resolved_by_r)
    ctx.cache[key] = (p.df, m)
    return m


# ---------------------------------------------------------------------------
# helpers


def _count(mask: pd.Series) -> int:
    return int(np.count_nonzero(mask.to_numpy(dtype=bool, na_value=False)))


def _breakdowns(df: pd.DataFrame, base: pd.Series, values: pd.Series, how: str) -> dict[str, Any]:
    """extra["by_channel"|"by_priority"|"by_type"] over the rows in `base`.

    how = "count" (rows), "mean" (of values, NaN skipped; a share when values
    are 0/1), "median". A group whose values are all NaN is None.
    """
    extra: dict[str, Any] = {}
    for name, col in BREAKDOWNS:
        if col not in df.columns:
            continue
        keys = df.loc[base, col].astype("str").fillna(BLANK)
        keys = keys.where(keys.str.strip() != "", BLANK)
        if how == "count":
            agg = keys.value_counts().sort_index()
            extra[name] = {str(k): int(v) for k, v in agg.items()}
            continue
        v = values[base]
        agg = v.groupby(keys, sort=True).agg(how)
        extra[name] = {str(k): (None if pd.isna(x) else float(x)) for k, x in agg.items()}
    return extra


def _stat(values: pd.Series, how: str, empty: str) -> Result:
    v = values.dropna()
    if v.empty:
        return Result.unavailable(empty, n=0)
    return Result(float(v.mean() if how == "mean" else v.median()), n=int(len(v)))


def _no_resolution(p: Prep) -> str | None:
    if p.resolved_ts is None:
        return ("needs tickets.resolved_at or tickets.closed_at "
                "(the export-time status does not say when a ticket was resolved)")
    return None


# ---------------------------------------------------------------------------
# KPIs

NEED_T = ("tickets",)
NEED_FR = ("tickets.first_response_at|tickets.first_response_minutes",)
NEED_RES = ("tickets.resolved_at|tickets.closed_at",)


@kpi("tickets", label="Tickets", category="support", unit="count", better="none",
     description="Tickets created in the window (orphans included).", needs=NEED_T)
def k_tickets(ctx: Context) -> Result:
    p, m = prep(ctx), masks(ctx)
    n = _count(m.created_in)
    return Result(float(n), n=n, extra=_breakdowns(p.df, m.created_in, p.created, "count"))


def active_accounts(ctx: Context) -> tuple[int | None, str]:
    """R32 denominator: paying accounts on R, or all accounts without billing."""
    if ctx.frames.get("billing") is not None:
        # imported lazily: revenue owns MRR (and the R22 "MRR > 0" tolerance)
        try:
            from cs_metrics.metrics.revenue import company_mrr
        except ImportError:
            company_mrr = None
        if company_mrr is not None:
            _, paying, _ = company_mrr(ctx)
            return int(paying), "paying accounts on R"
    acc = ctx.frames.get("accounts")
    if acc is None or "account_id" not in acc.columns:
        return None, "needs accounts or billing to count active accounts"
    return int(acc["account_id"].dropna().nunique()), "accounts"


@kpi("tickets_per_account", label="Tickets per account", category="support", unit="ratio",
     better="lower", needs=NEED_T,
     description="Tickets created in the window (orphans included) / active accounts "
                 "(paying accounts on R, or all accounts when there is no billing).")
def k_tickets_per_account(ctx: Context) -> Result:
    m = masks(ctx)
    denom, what = active_accounts(ctx)
    if denom is None:
        return Result.unavailable(what)
    if denom == 0:
        return Result.unavailable(f"no active accounts ({what}) on R", n=0)
    return Result(_count(m.created_in) / denom, n=denom, extra={"denominator": what})


@kpi("open_tickets", label="Open tickets", category="support", unit="count", better="lower",
     needs=("tickets.resolved_at|tickets.closed_at|tickets.status",),
     description="Tickets created on or before R and not resolved or closed by R "
                 "(export-time status only when there are no timestamps).")
def k_open_tickets(ctx: Context) -> Result:
    m = masks(ctx)
    if m.resolved_by_r is None:
        return Result.unavailable("needs tickets.resolved_at, closed_at or status")
    n = _count(m.created_by_r & ~m.resolved_by_r)
    return Result(float(n), n=n)


def _first_response(ctx: Context, how: str) -> Result:
    p, m = prep(ctx), masks(ctx)
    if not p.has_fr:
        return Result.unavailable("needs tickets.first_response_at or first_response_minutes")
    r = _stat(p.fr_hours[m.created_in], how, "no ticket created in the window was answered")
    if how == "median":
        r.extra = _breakdowns(p.df, m.created_in, p.fr_hours, "median")
    return r


@kpi("first_response_hours_avg", label="First response (avg hours)", category="support",
     unit="hours", better="lower", needs=NEED_FR,
     description="Mean hours from creation to first response, tickets created in the "
                 "window and answered at any time.")
def k_fr_avg(ctx: Context) -> Result:
    return _first_response(ctx, "mean")


@kpi("first_response_hours_median", label="First response (median hours)",
     category="support", unit="hours", better="lower", needs=NEED_FR,
     description="Median hours to first response, tickets created in the window and answered.")
def k_fr_median(ctx: Context) -> Result:
    return _first_response(ctx, "median")


def _resolution(ctx: Context, how: str) -> Result:
    p, m = prep(ctx), masks(ctx)
    if (why := _no_resolution(p)) is not None:
        return Result.unavailable(why)
    r = _stat(p.res_hours[m.resolved_in], how, "no ticket was resolved in the window")
    if how == "median":
        r.extra = _breakdowns(p.df, m.resolved_in, p.res_hours, "median")
    return r


@kpi("resolution_hours_avg", label="Resolution time (avg hours)", category="support",
     unit="hours", better="lower", needs=NEED_RES,
     description="Mean hours from creation to resolution, tickets resolved in the window.")
def k_res_avg(ctx: Context) -> Result:
    return _resolution(ctx, "mean")


@kpi("resolution_hours_median", label="Resolution time (median hours)", category="support",
     unit="hours", better="lower", needs=NEED_RES,
     description="Median hours from creation to resolution, tickets resolved in the window.")
def k_res_median(ctx: Context) -> Result:
    return _resolution(ctx, "median")


@kpi("resolved_tickets", label="Resolved tickets", category="support", unit="count",
     better="higher", needs=NEED_RES,
     description="Tickets resolved (else closed) in the window.")
def k_resolved(ctx: Context) -> Result:
    p, m = prep(ctx), masks(ctx)
    if (why := _no_resolution(p)) is not None:
        return Result.unavailable(why)
    n = _count(m.resolved_in)
    return Result(float(n), n=n)


@kpi("resolution_rate", label="Resolution rate", category="support", unit="ratio",
     better="higher", needs=("tickets.resolved_at|tickets.closed_at|tickets.status",),
     description="Tickets created in the window and resolved by R / tickets created in the window.")
def k_resolution_rate(ctx: Context) -> Result:
    p, m = prep(ctx), masks(ctx)
    if m.resolved_by_r is None:
        return Result.unavailable("needs tickets.resolved_at, closed_at or status")
    n = _count(m.created_in)
    if n == 0:
        return Result.unavailable("no tickets created in the window", n=0)
    hit = m.resolved_by_r.astype("float64")
    return Result(_count(m.created_in & m.resolved_by_r) / n, n=n,
                  extra=_breakdowns(p.df, m.created_in, hit, "mean"))


@kpi("first_contact_resolution_rate", label="First contact resolution", category="support",
     unit="ratio", better="higher", needs=NEED_RES + ("tickets.agent_replies",),
     description="Tickets resolved in the window with at most one agent reply and no "
                 "reopen / resolved in the window with a known reply count (one-touch rule).")
def k_fcr(ctx: Context) -> Result:
    p, m = prep(ctx), masks(ctx)
    if (why := _no_resolution(p)) is not None:
        return Result.unavailable(why)
    if "agent_replies" not in p.df.columns:
        return Result.unavailable("needs tickets.agent_replies")
    replies = _num(p.df, "agent_replies")
    reopens = _num(p.df, "reopens").fillna(0) if "reopens" in p.df.columns else 0.0
    base = m.resolved_in & replies.notna()
    n = _count(base)
    if n == 0:
        return Result.unavailable("no ticket resolved in the window has a reply count", n=0)
    one_touch = base & (replies <= 1) & (reopens <= 0)
    return Result(_count(one_touch) / n, n=n)


def escalated(df: pd.DataFrame) -> pd.Series | None:
    """Escalation flag (the loader already folds the Tags rule R9 into it)."""
    if "escalated" in df.columns:
        return df["escalated"].astype("boolean").fillna(False).astype(bool)
    if "tags" in df.columns:  # a frame built without the loader: apply R9 here
        tags = df["tags"].astype("str").str.lower()
        return tags.str.contains(r"(?:^|[\s,])escalat(?:ed|ion)(?:$|[\s,])", regex=True) \
            .fillna(False).astype(bool)
    return None


@kpi("escalation_rate", label="Escalation rate", category="support", unit="ratio",
     better="lower", needs=("tickets.escalated|tickets.tags",),
     description="Tickets created in the window and escalated / tickets created in the window.")
def k_escalation_rate(ctx: Context) -> Result:
    p, m = prep(ctx), masks(ctx)
    esc = _shared(ctx, "escalated", p.df, lambda: escalated(p.df))
    if esc is None:
        return Result.unavailable("needs tickets.escalated or tickets.tags")
    n = _count(m.created_in)
    if n == 0:
        return Result.unavailable("no tickets created in the window", n=0)
    return Result(_count(m.created_in & esc) / n, n=n,
                  extra=_breakdowns(p.df, m.created_in, esc.astype("float64"), "mean"))


def abandoned(ctx: Context) -> pd.Series | None:
    """R30: flag, or status abandoned, or resolved/closed on or before R with no
    first response and 0 (or unknown) agent replies. None when nothing of that
    can be evaluated."""
    p, m = prep(ctx), masks(ctx)
    df = p.df
    out = pd.Series(False, index=df.index)
    known = False
    if "abandoned" in df.columns:
        known = True
        out |= df["abandoned"].astype("boolean").fillna(False).astype(bool)
    if "status" in df.columns:
        known = True
        out |= (df["status"] == ABANDONED_STATUS).fillna(False).astype(bool)
    has_replies = "agent_replies" in df.columns
    if m.resolved_by_r is not None and (p.has_fr or has_replies):
        known = True
        replies = _num(df, "agent_replies") if has_replies else None
        if p.has_fr:
            silent = p.fr_hours.isna()
            if "first_response_at" in df.columns:  # a nulled negative duration is not silence
                silent &= df["first_response_at"].isna()
            if replies is not None:
                silent &= replies.isna() | (replies == 0)
        else:
            silent = replies == 0
        out |= m.resolved_by_r & silent.fillna(False).astype(bool)
    return out if known else None


@kpi("abandonment_rate", label="Abandonment rate", category="support", unit="ratio",
     better="lower",
     needs=("tickets.abandoned|tickets.status|tickets.resolved_at|tickets.closed_at",),
     description="Tickets created in the window and abandoned (flag, status abandoned, or "
                 "closed by R without any response) / tickets created in the window.")
def k_abandonment_rate(ctx: Context) -> Result:
    m = masks(ctx)
    ab = abandoned(ctx)
    if ab is None:
        return Result.unavailable("needs tickets.abandoned, status, or resolution timestamps "
                                  "with first-response data or agent_replies")
    n = _count(m.created_in)
    if n == 0:
        return Result.unavailable("no tickets created in the window", n=0)
    return Result(_count(m.created_in & ab) / n, n=n)


@kpi("hold_hours_avg", label="Hold time (avg hours)", category="support", unit="hours",
     better="lower", needs=("tickets.hold_minutes",),
     description="Mean hold time of tickets created in the window (zeros included).")
def k_hold(ctx: Context) -> Result:
    p, m = prep(ctx), masks(ctx)
    if "hold_minutes" not in p.df.columns:
        return Result.unavailable("needs tickets.hold_minutes")
    hold = _num(p.df, "hold_minutes")
    return _stat((hold.where(hold >= 0) / 60.0)[m.created_in], "mean",
                 "no ticket created in the window has a hold time")


@kpi("tickets_per_agent", label="Tickets per agent", category="support", unit="ratio",
     better="none", needs=NEED_RES + ("tickets.agent",),
     description="Tickets resolved in the window / distinct non-blank agents who resolved them.")
def k_tickets_per_agent(ctx: Context) -> Result:
    p, m = prep(ctx), masks(ctx)
    if (why := _no_resolution(p)) is not None:
        return Result.unavailable(why)
    if "agent" not in p.df.columns:
        return Result.unavailable("needs tickets.agent")
    agents = p.df.loc[m.resolved_in, "agent"].astype("str").str.strip()
    k = int(agents[agents.notna() & (agents != "")].nunique())
    if k == 0:
        return Result.unavailable("no ticket resolved in the window names an agent", n=0)
    return Result(_count(m.resolved_in) / k, n=k)


def satisfied(df: pd.DataFrame) -> pd.Series:
    """1.0 satisfied, 0.0 not, NaN not rated: 'good' / 'bad', or ≥ 4 on 1–5."""
    s = df["satisfaction"].astype("str").str.strip().str.lower()
    num = pd.to_numeric(s, errors="coerce")
    out = pd.Series(np.nan, index=df.index, dtype="float64")
    out = out.mask(s == "good", 1.0).mask(s == "bad", 0.0)
    on_scale = num.between(1, 5)
    return out.mask(on_scale, (num >= 4).astype("float64"))


@kpi("ticket_csat", label="Ticket CSAT", category="support", unit="ratio", better="higher",
     needs=NEED_RES + ("tickets.satisfaction",),
     description="Tickets resolved in the window with a rating: satisfied (good, or ≥ 4 "
                 "on 1–5) / rated.")
def k_ticket_csat(ctx: Context) -> Result:
    p, m = prep(ctx), masks(ctx)
    if (why := _no_resolution(p)) is not None:
        return Result.unavailable(why)
    if "satisfaction" not in p.df.columns:
        return Result.unavailable("needs tickets.satisfaction")
    sat = _shared(ctx, "satisfied", p.df, lambda: satisfied(p.df))
    r = _stat(sat[m.resolved_in], "mean", "no ticket resolved in the window was rated")
    r.extra = _breakdowns(p.df, m.resolved_in, sat, "mean")
    return r


# ---------------------------------------------------------------------------
# business hours and SLA


def calendar(ctx: Context) -> BusinessCalendar | None:
    cfg = (ctx.config.get("support") or {}).get("business_hours")
    key = ("support.calendar", repr(cfg))
    if key not in ctx.shared:
        ctx.shared[key] = BusinessCalendar.from_config(cfg)
    return ctx.shared[key]


def business_fr_hours(ctx: Context) -> pd.Series | None:
    """Business hours to first response: the schedule applied to first_response_at,
    else the export's own business-minutes column (R8). None when neither exists."""
    p, cal = prep(ctx), calendar(ctx)
    df = p.df
    has_col = "first_response_business_minutes" in df.columns
    if cal is None and not has_col:
        return None

    def build() -> pd.Series:
        out = pd.Series(np.nan, index=df.index, dtype="float64")
        present = pd.Series(False, index=df.index)
        if cal is not None and "first_response_at" in df.columns:
            present = df["first_response_at"].notna()
            out = cal.business_minutes(p.created, pd.to_datetime(df["first_response_at"])) / 60.0
        if has_col:
            col = _num(df, "first_response_business_minutes")
            out = out.where(present, col.where(col >= 0) / 60.0)
        return out

    return _shared(ctx, f"bfr.{cal!r}", df, build)


def business_res_hours(ctx: Context) -> pd.Series | None:
    p, cal = prep(ctx), calendar(ctx)
    if cal is None or p.resolved_ts is None:
        return None
    return _shared(ctx, f"bres.{cal!r}", p.df,
                   lambda: cal.business_minutes(p.created, p.resolved_ts) / 60.0)


def _bh_first_response(ctx: Context, how: str) -> Result:
    m = masks(ctx)
    h = business_fr_hours(ctx)
    if h is None:
        return Result.unavailable(NO_BH)
    if calendar(ctx) is None and h.notna().sum() == 0:
        return Result.unavailable(NO_BH)
    return _stat(h[m.created_in], how, "no ticket created in the window was answered")


def _bh_resolution(ctx: Context, how: str) -> Result:
    p, m = prep(ctx), masks(ctx)
    if calendar(ctx) is None:
        return Result.unavailable(NO_BH)
    if (why := _no_resolution(p)) is not None:
        return Result.unavailable(why)
    h = business_res_hours(ctx)
    return _stat(h[m.resolved_in], how, "no ticket was resolved in the window")


_BH_FR_NEEDS = ("tickets.first_response_at|tickets.first_response_business_minutes",)


@kpi("first_response_business_hours_avg", label="First response (avg business hours)",
     category="support", unit="hours", better="lower", needs=_BH_FR_NEEDS,
     description="As first_response_hours_avg, counting only time inside "
                 "support.business_hours (or the export's business-minutes column).")
def k_bfr_avg(ctx: Context) -> Result:
    return _bh_first_response(ctx, "mean")


@kpi("first_response_business_hours_median", label="First response (median business hours)",
     category="support", unit="hours", better="lower", needs=_BH_FR_NEEDS,
     description="As first_response_hours_median, in business hours.")
def k_bfr_median(ctx: Context) -> Result:
    return _bh_first_response(ctx, "median")


@kpi("resolution_business_hours_avg", label="Resolution time (avg business hours)",
     category="support", unit="hours", better="lower", needs=NEED_RES,
     description="As resolution_hours_avg, counting only time inside support.business_hours.")
def k_bres_avg(ctx: Context) -> Result:
    return _bh_resolution(ctx, "mean")


@kpi("resolution_business_hours_median", label="Resolution time (median business hours)",
     category="support", unit="hours", better="lower", needs=NEED_RES,
     description="As resolution_hours_median, in business hours.")
def k_bres_median(ctx: Context) -> Result:
    return _bh_resolution(ctx, "median")


SLA_KEYS = ("first_response_hours", "resolution_hours")


def sla_targets(ctx: Context) -> dict[str, dict[str, float]] | None:
    """`support.sla` → {priority: {first_response_hours, resolution_hours}}."""
    cfg = (ctx.config.get("support") or {}).get("sla")
    if cfg is None:
        return None
    if not isinstance(cfg, dict):
        raise _cfg_err("support.sla", f"expected priority → targets, got {cfg!r}")
    out: dict[str, dict[str, float]] = {}
    for prio, targets in cfg.items():
        key = f"support.sla.{prio}"
        if targets is None:
            continue
        if not isinstance(targets, dict):
            raise _cfg_err(key, f"expected {{first_response_hours: N, resolution_hours: N}}, "
                           f"got {targets!r}")
        t: dict[str, float] = {}
        for name, v in targets.items():
            if name not in SLA_KEYS:
                raise _cfg_err(f"{key}.{name}", f"unknown key; valid keys are {', '.join(SLA_KEYS)}")
            if v is None:
                continue
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
                raise _cfg_err(f"{key}.{name}", f"expected a number of hours ≥ 0, got {v!r}")
            t[name] = float(v)
        if t:
            out[str(prio).strip().lower()] = t
    return out


def _cfg_err(key: str, message: str) -> ConfigError:
    return ConfigError(f"{key}: {message}", [Issue("bad-config", message, level="error", key=key)])


@kpi("sla_breach_rate", label="SLA breach rate", category="support", unit="ratio",
     better="lower", needs=("tickets.priority",),
     description="Tickets created in the window with an SLA target for their priority whose "
                 "first response or resolution exceeded the target (still unanswered / "
                 "unresolved past it at the end of R counts) / those tickets. Business hours "
                 "when support.business_hours is set, else calendar hours.")
def k_sla_breach_rate(ctx: Context) -> Result:
    targets = sla_targets(ctx)
    if not targets:
        return Result.unavailable("needs support.sla targets per priority in the config")
    p, m = prep(ctx), masks(ctx)
    df = p.df
    if "priority" not in df.columns:
        return Result.unavailable("needs tickets.priority")
    cal = calendar(ctx)
    prio = df["priority"].astype("str").str.strip().str.lower()
    base = m.created_in & prio.notna()
    idx = base[base].index
    pr = prio[idx]
    fr_t = pr.map({k: v.get("first_response_hours", np.nan) for k, v in targets.items()}) \
        .astype("float64")
    res_t = pr.map({k: v.get("resolution_hours", np.nan) for k, v in targets.items()}) \
        .astype("float64")
    if not p.has_fr:
        fr_t[:] = np.nan
    if p.resolved_ts is None:
        res_t[:] = np.nan
    created = p.created[idx]
    cutoff = pd.Series(ctx.window.end_exclusive, index=idx)
    # an item still open at the end of R: its clock runs to the end of R
    if cal is None:
        open_clock = _hours(cutoff, created)
        fr_h, res_h = p.fr_hours[idx], p.res_hours[idx]
    else:
        open_clock = cal.business_minutes(created, cutoff) / 60.0
        bfr = business_fr_hours(ctx)
        fr_h = bfr[idx] if bfr is not None else pd.Series(np.nan, index=idx)
        bres = business_res_hours(ctx)
        res_h = bres[idx] if bres is not None else pd.Series(np.nan, index=idx)
    answered = p.fr_hours[idx].notna() | fr_h.notna()
    if "first_response_at" in df.columns:  # a nulled (negative) duration was still answered
        answered |= df.loc[idx, "first_response_at"].notna()
    resolved = p.resolved_ts[idx].notna() if p.resolved_ts is not None else \
        pd.Series(False, index=idx)
    # a target is judged only where its duration is known (or the item is still open)
    fr_eval = fr_t[idx].notna() & (~answered | fr_h.notna())
    res_eval = res_t[idx].notna() & (~resolved | res_h.notna())
    fr_breach = fr_eval & ((answered & (fr_h > fr_t[idx])) | (~answered & (open_clock > fr_t[idx])))
    res_breach = res_eval & ((resolved & (res_h > res_t[idx]))
                             | (~resolved & (open_clock > res_t[idx])))
    judged = fr_eval | res_eval
    idx = judged[judged].index
    n = len(idx)
    if n == 0:
        return Result.unavailable("no ticket created in the window has an SLA target", n=0)
    fr_breach = fr_breach[idx].fillna(False).astype(bool)
    res_breach = res_breach[idx].fillna(False).astype(bool)
    breach = fr_breach | res_breach
    extra = {
        "first_response_breaches": int(fr_breach.sum()),
        "resolution_breaches": int(res_breach.sum()),
        "hours": "business" if cal is not None else "calendar",
        "by_priority": {str(k): float(v) for k, v in
                        breach.astype("float64").groupby(pr[idx], sort=True).mean().items()},
    }
    return Result(_count(breach) / n, n=n, extra=extra)


# ---------------------------------------------------------------------------
# per-account metrics (health inputs)


def _linked(ctx: Context) -> tuple[Prep, Masks, pd.Series] | None:
    p = prep(ctx)
    if "account_id" not in p.df.columns:
        return None
    return p, masks(ctx), p.df["account_id"]


def _per_account_count(ctx: Context, mask: pd.Series, name: str) -> pd.Series:
    """Count per account; every known account without a row gets 0 (not missing)."""
    p = prep(ctx)
    acc_col = p.df["account_id"]
    keep = mask & acc_col.notna()
    counts = acc_col[keep].value_counts().astype("float64")
    accounts = ctx.frames.get("accounts")
    if accounts is not None and "account_id" in accounts.columns:
        ids = pd.Index(accounts["account_id"].dropna().unique()).union(counts.index)
        counts = counts.reindex(ids, fill_value=0.0)
    counts.index.name = "account_id"
    return counts.rename(name).astype("float64")


def _per_account_mean(ctx: Context, values: pd.Series, mask: pd.Series, name: str) -> pd.Series:
    acc_col = prep(ctx).df["account_id"]
    keep = mask & acc_col.notna() & values.notna()
    s = values[keep].groupby(acc_col[keep]).mean().astype("float64")
    s.index.name = "account_id"
    return s.rename(name)


@account_metric("tickets", description="Tickets created in the window", unit="count",
                better="lower", needs=("tickets.account_id",))
def a_tickets(ctx: Context) -> pd.Series:
    return _per_account_count(ctx, masks(ctx).created_in, "tickets")


@account_metric("urgent_tickets", description="Tickets created in the window with a priority "
                "in support.urgent_priorities", unit="count", better="lower",
                needs=("tickets.account_id", "tickets.priority"))
def a_urgent_tickets(ctx: Context) -> pd.Series:
    p, m = prep(ctx), masks(ctx)
    urgent = (ctx.config.get("support") or {}).get("urgent_priorities") or []
    urgent = [str(u).strip().lower() for u in urgent]
    is_urgent = p.df["priority"].astype("str").str.strip().str.lower().isin(urgent)
    return _per_account_count(ctx, m.created_in & is_urgent.fillna(False).astype(bool),
                              "urgent_tickets")


@account_metric("open_tickets", description="Tickets open at the end of R", unit="count",
                better="lower",
                needs=("tickets.account_id", "tickets.resolved_at|tickets.closed_at|tickets.status"))
def a_open_tickets(ctx: Context) -> pd.Series | None:
    m = masks(ctx)
    if m.resolved_by_r is None:
        return None
    return _per_account_count(ctx, m.created_by_r & ~m.resolved_by_r, "open_tickets")


@account_metric("first_response_hours", description="Mean hours to first response, tickets "
                "created in the window and answered", unit="hours", better="lower",
                needs=("tickets.account_id",) + NEED_FR)
def a_first_response_hours(ctx: Context) -> pd.Series:
    p, m = prep(ctx), masks(ctx)
    return _per_account_mean(ctx, p.fr_hours, m.created_in, "first_response_hours")


@account_metric("resolution_hours", description="Mean hours to resolution, tickets resolved "
                "in the window", unit="hours", better="lower",
                needs=("tickets.account_id",) + NEED_RES)
def a_resolution_hours(ctx: Context) -> pd.Series | None:
    p, m = prep(ctx), masks(ctx)
    if m.resolved_in is None:
        return None
    return _per_account_mean(ctx, p.res_hours, m.resolved_in, "resolution_hours")


@account_metric("escalated_tickets", description="Escalated tickets created in the window",
                unit="count", better="lower",
                needs=("tickets.account_id", "tickets.escalated|tickets.tags"))
def a_escalated_tickets(ctx: Context) -> pd.Series | None:
    p, m = prep(ctx), masks(ctx)
    esc = _shared(ctx, "escalated", p.df, lambda: escalated(p.df))
    if esc is None:
        return None
    return _per_account_count(ctx, m.created_in & esc, "escalated_tickets")


@account_metric("ticket_csat", description="Satisfied / rated, tickets resolved in the window",
                unit="ratio", better="higher",
                needs=("tickets.account_id", "tickets.satisfaction") + NEED_RES)
def a_ticket_csat(ctx: Context) -> pd.Series | None:
    p, m = prep(ctx), masks(ctx)
    if m.resolved_in is None:
        return None
    sat = _shared(ctx, "satisfied", p.df, lambda: satisfied(p.df))
    return _per_account_mean(ctx, sat, m.resolved_in, "ticket_csat")


@account_metric("tickets_per_seat", description="Tickets created in the window / seats",
                unit="ratio", better="lower", needs=("tickets.account_id", "accounts.seats"))
def a_tickets_per_seat(ctx: Context) -> pd.Series | None:
    acc = ctx.frames.get("accounts")
    if acc is None or "seats" not in acc.columns:
        return None
    seats = pd.Series(pd.to_numeric(acc["seats"], errors="coerce").to_numpy(dtype="float64"),
                      index=pd.Index(acc["account_id"], name="account_id"))
    seats = seats[seats > 0]
    seats = seats[~seats.index.duplicated()]
    counts = _per_account_count(ctx, masks(ctx).created_in, "tickets").reindex(seats.index)
    return (counts.fillna(0.0) / seats).rename("tickets_per_seat").astype("float64")
