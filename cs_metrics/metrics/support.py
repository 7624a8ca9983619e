"""Support (ticket) KPIs of SPEC §3 and their per-account forms (health inputs).

Rules pinned here (docs/support.md has the long form):
- R30 state from timestamps: resolved = resolved_at, else closed_at; the
  export-time status only when the dataset has neither column.
- R31 answered = answered at any time in the data (R14: never cut at R).
- R8 first response = first_response_at − created_at, else the calendar
  first_response_minutes; the business-minutes column feeds only the
  business-hours KPIs.
- Durations are hours; a negative one is left out (the loader already nulls it).

How it stays fast on millions of tickets: the window-independent numbers
(timestamps as int64, durations) are computed once per tickets frame and kept
in ``ctx.shared`` (W, P, trend windows and every KPI reuse them); each window
then keeps the *positions* of its rows (created in W, resolved in W), and
everything else — breakdowns (one groupby per column), ratings, priorities,
business hours, per-account sums — runs on those few rows only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cs_metrics.errors import ConfigError, Issue
from cs_metrics.metrics.accounts import accounts_number
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
_NEVER = np.iinfo("int64").max  # "not resolved": later than any day
_NS_PER_HOUR = 3_600_000_000_000


# ---------------------------------------------------------------------------
# window-independent preparation (cached per tickets frame)


@dataclass
class Prep:
    df: pd.DataFrame
    created: np.ndarray  # int64 ns (naive UTC)
    resolved: np.ndarray | None  # int64 ns of resolved_at else closed_at, _NEVER if not; None = no columns
    ended: np.ndarray | None  # earliest of resolved_at / closed_at (_NEVER if neither): "resolved or closed"
    closed_status: np.ndarray | None  # status says resolved/closed (status-only data), else None
    has_fr: bool  # any first-response column
    fr_stamped: np.ndarray  # first_response_at present (answered, even if its duration was nulled)
    fr_hours: np.ndarray  # calendar hours to first response (R8), NaN = unanswered / unknown
    res_hours: np.ndarray  # hours created → resolved, NaN when not resolved


def _ns(s: pd.Series) -> np.ndarray:
    """Datetime Series → int64 ns with NaT kept as NaT's int (checked via isnat)."""
    return pd.to_datetime(s).astype("datetime64[ns]").to_numpy().view("int64")


def _nat(x: np.ndarray) -> np.ndarray:
    return x == np.iinfo("int64").min


def _hours(later: np.ndarray, earlier: np.ndarray, later_missing: np.ndarray) -> np.ndarray:
    h = (later - earlier) / _NS_PER_HOUR
    h[later_missing | _nat(earlier) | (h < 0)] = np.nan
    return h


def _num(df: pd.DataFrame, col: str, pos: np.ndarray | None = None) -> np.ndarray:
    s = df[col] if pos is None else df[col].iloc[pos]
    return np.array(pd.to_numeric(s, errors="coerce").to_numpy(dtype="float64", na_value=np.nan))


def _shared(ctx: Context, name: str, df: pd.DataFrame, fn: Callable[[], Any]) -> Any:
    """Run-wide cache keyed by frame identity (grouped frames are distinct objects)."""
    key = (f"support.{name}", id(df))
    hit = ctx.shared.get(key)
    if hit is not None and hit[0] is df:
        return hit[1]
    val = fn()
    ctx.shared[key] = (df, val)
    return val


def _window_cached(ctx: Context, name: str, df: pd.DataFrame, fn: Callable[[], Any]) -> Any:
    """Per-window cache (ctx.cache belongs to one computation; keyed by window too)."""
    key = (f"support.{name}", id(df), ctx.window)
    hit = ctx.cache.get(key)
    if hit is not None and hit[0] is df:
        return hit[1]
    val = fn()
    ctx.cache[key] = (df, val)
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
    n = len(df)
    created = _ns(df["created_at"])
    resolved = ended = None
    for col in ("resolved_at", "closed_at"):
        if col in df.columns:
            ts = _ns(df[col])
            resolved = ts if resolved is None else np.where(_nat(resolved), ts, resolved)
            ts = np.where(_nat(ts), _NEVER, ts)
            ended = ts if ended is None else np.minimum(ended, ts)
    closed_status = None
    if resolved is None and "status" in df.columns:
        closed_status = df["status"].isin(CLOSED_STATUSES).to_numpy(dtype=bool, na_value=False)
    fr = np.full(n, np.nan)
    stamped = np.zeros(n, bool)
    has_fr = False
    if "first_response_at" in df.columns:
        has_fr = True
        at = _ns(df["first_response_at"])
        stamped = ~_nat(at)
        fr = _hours(at, created, ~stamped)
    if "first_response_minutes" in df.columns:
        has_fr = True
        mins = _num(df, "first_response_minutes")
        mins[mins < 0] = np.nan
        fr = np.where(stamped, fr, mins / 60.0)
    if resolved is not None:
        missing = _nat(resolved)
        res_hours = _hours(resolved, created, missing)
        resolved = np.where(missing, _NEVER, resolved)
    else:
        res_hours = np.full(n, np.nan)
    return Prep(df, created, resolved, ended, closed_status, has_fr, stamped, fr, res_hours)


# ---------------------------------------------------------------------------
# per-window masks and row positions


@dataclass
class Masks:
    created_in: np.ndarray  # created on a day of W
    created_pos: np.ndarray  # its row positions
    created_by_r: np.ndarray  # created on or before R
    resolved_in: np.ndarray | None  # resolved on a day of W (None: no timestamps)
    resolved_pos: np.ndarray | None
    resolved_by_r: np.ndarray | None  # resolved (resolved_at, else closed_at) on or before R
    ended_by_r: np.ndarray | None  # resolved *or* closed on or before R: not open on R (R30)


def masks(ctx: Context) -> Masks:
    p = prep(ctx)

    def build() -> Masks:
        w = ctx.window
        lo, hi = pd.Timestamp(w.start).value, pd.Timestamp(w.end_exclusive).value
        created_in = (p.created >= lo) & (p.created < hi)
        created_by_r = (p.created < hi) & ~_nat(p.created)  # the loader never leaves it missing
        if p.resolved is not None:
            resolved_in = (p.resolved >= lo) & (p.resolved < hi)
            resolved_pos = np.flatnonzero(resolved_in)
            resolved_by_r = p.resolved < hi
            ended_by_r = p.ended < hi
        else:
            resolved_in = resolved_pos = None
            resolved_by_r = ended_by_r = p.closed_status  # export-time status (R30), None if no status
        return Masks(created_in, np.flatnonzero(created_in), created_by_r, resolved_in,
                     resolved_pos, resolved_by_r, ended_by_r)

    return _window_cached(ctx, "masks", p.df, build)


# ---------------------------------------------------------------------------
# helpers


def labels(ctx: Context, col: str, *, lower: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """A text column factorised once per frame: (codes per row, sorted labels).

    Labels are stripped (and lower-cased); blank and missing values get code
    -1. Text work happens on the distinct values only, never per row."""
    df = prep(ctx).df

    def build() -> tuple[np.ndarray, np.ndarray]:
        codes, uniq = pd.factorize(df[col])
        lab = pd.Series(np.asarray(uniq, dtype=object), dtype="str").str.strip()
        if lower:
            lab = lab.str.lower()
        lab = lab.where(lab != "")
        lab_codes, lab_uniq = pd.factorize(lab, sort=True)  # merges " a" / "a"
        codes = np.append(lab_codes, -1).astype("int64")[codes]  # -1 stays -1
        return codes, np.asarray(lab_uniq, dtype=object)

    return _shared(ctx, f"labels.{col}.{lower}", df, build)


def _per_label(values: list[Any], fill: Any) -> np.ndarray:
    """Per-label values with one extra slot for code -1, so `arr[codes]` works."""
    return np.array([*values, fill])


def _positions(ctx: Context, which: str) -> np.ndarray:
    m = masks(ctx)
    if which == "created":
        return m.created_pos
    if which == "resolved":
        return m.resolved_pos
    if which == "open":
        return _window_cached(ctx, "open_pos", prep(ctx).df,
                              lambda: np.flatnonzero(m.created_by_r & ~m.ended_by_r))
    raise ValueError(which)


def _breakdowns(ctx: Context, which: str, values: np.ndarray | None, how: str) -> dict[str, Any]:
    """extra["by_channel"|"by_priority"|"by_type"] over the window's `which` rows
    ("created" or "resolved").

    how = "count" (rows), "mean" (of `values`, aligned with those rows, NaN
    skipped; a share when values are 0/1) or "median". A group present among
    the rows whose values are all NaN is None. Blank values form "(blank)".
    """
    df = prep(ctx).df
    pos = _positions(ctx, which)
    extra: dict[str, Any] = {}
    for name, col in BREAKDOWNS:
        if col not in df.columns:
            continue
        all_codes, labs = labels(ctx, col)
        hit = np.flatnonzero(labs == BLANK)
        blank = int(hit[0]) if len(hit) else len(labs)
        names = labs if len(hit) else np.append(labs, BLANK)
        codes = all_codes[pos]
        codes = np.where(codes < 0, blank, codes)
        k = len(names)
        rows = np.bincount(codes, minlength=k)
        present = sorted(np.flatnonzero(rows), key=lambda i: str(names[i]))
        if how == "count":
            extra[name] = {str(names[i]): int(rows[i]) for i in present}
            continue
        known = ~np.isnan(values)
        if how == "mean":
            tot = np.bincount(codes[known], weights=values[known], minlength=k)
            cnt = np.bincount(codes[known], minlength=k)
            agg = {i: tot[i] / cnt[i] for i in present if cnt[i]}
        else:
            agg = pd.Series(values[known]).groupby(codes[known]).median().to_dict()
        extra[name] = {str(names[i]): (float(agg[i]) if i in agg else None) for i in present}
    return extra


def _stat(values: np.ndarray, how: str, empty: str) -> Result:
    v = values[~np.isnan(values)]
    if len(v) == 0:
        return Result.unavailable(empty, n=0)
    return Result(float(v.mean() if how == "mean" else np.median(v)), n=len(v))


def _no_resolution(p: Prep) -> str | None:
    if p.resolved is None:
        return ("needs tickets.resolved_at or tickets.closed_at "
                "(the export-time status does not say when a ticket was resolved)")
    return None


# ---------------------------------------------------------------------------
# KPIs

NEED_T = ("tickets",)
NEED_FR = ("tickets.first_response_at|tickets.first_response_minutes",)
NEED_RES = ("tickets.resolved_at|tickets.closed_at",)
NEED_STATE = ("tickets.resolved_at|tickets.closed_at|tickets.status",)


@kpi("tickets", label="Tickets", category="support", unit="count", better="none",
     description="Tickets created in the window (orphans included).", needs=NEED_T)
def k_tickets(ctx: Context) -> Result:
    m = masks(ctx)
    n = len(m.created_pos)
    return Result(float(n), n=n, extra=_breakdowns(ctx, "created", None, "count"))


def active_accounts(ctx: Context) -> tuple[int | None, str]:
    """R32 denominator: paying accounts on R, or all accounts without billing."""
    if ctx.frames.get("billing") is not None:
        # imported lazily: revenue owns MRR (and the R22 "MRR > 0" tolerance)
        try:
            from cs_metrics.metrics.revenue import company_mrr
        except ImportError:
            company_mrr = None
        if company_mrr is not None:
            _, paying, source = company_mrr(ctx)
            if source != "none":  # invoice-only billing has no MRR: fall back to accounts
                return int(paying), "paying accounts on R"
    acc = ctx.frames.get("accounts")
    if acc is None or "account_id" not in acc.columns:
        return None, "needs accounts or billing to count active accounts"
    return int(acc["account_id"].dropna().nunique()), "accounts"


@kpi("tickets_per_account", label="Tickets per account", category="support", unit="number",
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
    return Result(len(m.created_pos) / denom, n=denom, extra={"denominator": what})


@kpi("open_tickets", label="Open tickets", category="support", unit="count", better="lower",
     needs=NEED_STATE,
     description="Tickets created on or before R and not resolved or closed by R "
                 "(export-time status only when there are no timestamps).")
def k_open_tickets(ctx: Context) -> Result:
    m = masks(ctx)
    if m.resolved_by_r is None:
        return Result.unavailable("needs tickets.resolved_at, closed_at or status")
    n = int(np.count_nonzero(m.created_by_r & ~m.ended_by_r))
    return Result(float(n), n=n)


def _first_response(ctx: Context, how: str) -> Result:
    p, m = prep(ctx), masks(ctx)
    if not p.has_fr:
        return Result.unavailable("needs tickets.first_response_at or first_response_minutes")
    v = p.fr_hours[m.created_pos]
    r = _stat(v, how, "no ticket created in the window was answered")
    if how == "median":
        r.extra = _breakdowns(ctx, "created", v, "median")
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
    v = p.res_hours[m.resolved_pos]
    r = _stat(v, how, "no ticket was resolved in the window")
    if how == "median":
        r.extra = _breakdowns(ctx, "resolved", v, "median")
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
    n = len(m.resolved_pos)
    return Result(float(n), n=n)


@kpi("resolution_rate", label="Resolution rate", category="support", unit="ratio",
     better="higher", needs=NEED_STATE,
     description="Tickets created in the window and resolved by R / tickets created in the window.")
def k_resolution_rate(ctx: Context) -> Result:
    m = masks(ctx)
    if m.resolved_by_r is None:
        return Result.unavailable("needs tickets.resolved_at, closed_at or status")
    n = len(m.created_pos)
    if n == 0:
        return Result.unavailable("no tickets created in the window", n=0)
    hit = m.resolved_by_r[m.created_pos].astype("float64")
    return Result(float(hit.sum()) / n, n=n, extra=_breakdowns(ctx, "created", hit, "mean"))


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
    pos = m.resolved_pos
    replies = _num(p.df, "agent_replies", pos)
    reopens = np.nan_to_num(_num(p.df, "reopens", pos), nan=0.0) \
        if "reopens" in p.df.columns else np.zeros(len(pos))  # missing = not reopened (R26)
    known = ~np.isnan(replies)
    n = int(known.sum())
    if n == 0:
        return Result.unavailable("no ticket resolved in the window has a reply count", n=0)
    one_touch = known & (replies <= 1) & (reopens <= 0)  # 0 replies = one touch
    return Result(float(one_touch.sum()) / n, n=n)


def escalated(df: pd.DataFrame, pos: np.ndarray) -> np.ndarray | None:
    """Escalation flag at some rows (the loader folds the Tags rule R9 into it)."""
    if "escalated" in df.columns:
        return df["escalated"].iloc[pos].astype("boolean").to_numpy(dtype=bool, na_value=False)
    if "tags" in df.columns:  # a frame built without the loader: apply R9 here
        from cs_metrics.loading.normalize import ESCALATION_TAG

        hit = df["tags"].iloc[pos].astype("str").str.contains(ESCALATION_TAG, case=False, regex=True)
        return hit.to_numpy(dtype=bool, na_value=False)
    return None


@kpi("escalation_rate", label="Escalation rate", category="support", unit="ratio",
     better="lower", needs=("tickets.escalated|tickets.tags",),
     description="Tickets created in the window and escalated / tickets created in the window.")
def k_escalation_rate(ctx: Context) -> Result:
    p, m = prep(ctx), masks(ctx)
    esc = escalated(p.df, m.created_pos)
    if esc is None:
        return Result.unavailable("needs tickets.escalated or tickets.tags")
    n = len(m.created_pos)
    if n == 0:
        return Result.unavailable("no tickets created in the window", n=0)
    hit = esc.astype("float64")
    return Result(float(hit.sum()) / n, n=n, extra=_breakdowns(ctx, "created", hit, "mean"))


def abandoned(ctx: Context, pos: np.ndarray) -> np.ndarray | None:
    """R30 at some rows: flag, or status abandoned, or resolved/closed on or before R
    with no first response and 0 (or unknown) agent replies. None when nothing of
    that can be evaluated."""
    p, m = prep(ctx), masks(ctx)
    df = p.df
    out = np.zeros(len(pos), bool)
    known = False
    if "abandoned" in df.columns:
        known = True
        out |= df["abandoned"].iloc[pos].astype("boolean").to_numpy(dtype=bool, na_value=False)
    if "status" in df.columns:
        known = True
        codes, labs = labels(ctx, "status", lower=True)
        out |= _per_label([lb == ABANDONED_STATUS for lb in labs], False).astype(bool)[codes[pos]]
    has_replies = "agent_replies" in df.columns
    if m.ended_by_r is not None and (p.has_fr or has_replies):
        known = True
        replies = _num(df, "agent_replies", pos) if has_replies else None
        if p.has_fr:
            # no response at all: no duration and no stamp (a nulled negative one was a reply)
            silent = np.isnan(p.fr_hours[pos]) & ~p.fr_stamped[pos]
            if replies is not None:
                silent &= np.isnan(replies) | (replies == 0)
        else:
            silent = replies == 0
        out |= m.ended_by_r[pos] & silent
    return out if known else None


@kpi("abandonment_rate", label="Abandonment rate", category="support", unit="ratio",
     better="lower",
     needs=("tickets.abandoned|tickets.status|tickets.resolved_at|tickets.closed_at",),
     description="Tickets created in the window and abandoned (flag, status abandoned, or "
                 "closed by R without any response) / tickets created in the window.")
def k_abandonment_rate(ctx: Context) -> Result:
    m = masks(ctx)
    ab = abandoned(ctx, m.created_pos)
    if ab is None:
        return Result.unavailable("needs tickets.abandoned, status, or resolution timestamps "
                                  "with first-response data or agent_replies")
    n = len(m.created_pos)
    if n == 0:
        return Result.unavailable("no tickets created in the window", n=0)
    return Result(float(ab.sum()) / n, n=n)


@kpi("hold_hours_avg", label="Hold time (avg hours)", category="support", unit="hours",
     better="lower", needs=("tickets.hold_minutes",),
     description="Mean hold time of tickets created in the window (zeros included).")
def k_hold(ctx: Context) -> Result:
    p, m = prep(ctx), masks(ctx)
    if "hold_minutes" not in p.df.columns:
        return Result.unavailable("needs tickets.hold_minutes")
    hold = _num(p.df, "hold_minutes", m.created_pos)
    hold[hold < 0] = np.nan
    return _stat(hold / 60.0, "mean", "no ticket created in the window has a hold time")


@kpi("tickets_per_agent", label="Tickets per agent", category="support", unit="number",
     better="none", needs=NEED_RES + ("tickets.agent",),
     description="Tickets resolved in the window / distinct non-blank agents who resolved them.")
def k_tickets_per_agent(ctx: Context) -> Result:
    p, m = prep(ctx), masks(ctx)
    if (why := _no_resolution(p)) is not None:
        return Result.unavailable(why)
    if "agent" not in p.df.columns:
        return Result.unavailable("needs tickets.agent")
    codes = labels(ctx, "agent")[0][m.resolved_pos]
    k = int(np.count_nonzero(np.bincount(codes[codes >= 0])))  # blank agents do not count
    if k == 0:
        return Result.unavailable("no ticket resolved in the window names an agent", n=0)
    return Result(len(m.resolved_pos) / k, n=k)


def satisfied(ctx: Context, pos: np.ndarray) -> np.ndarray:
    """1.0 satisfied, 0.0 not, NaN not rated: 'good' / 'bad', or ≥ 4 on 1–5
    (decided once per distinct rating, then spread to the rows)."""
    codes, labs = labels(ctx, "satisfaction", lower=True)
    lab = pd.Series(labs, dtype="str")
    num = pd.to_numeric(lab, errors="coerce")
    per = pd.Series(np.nan, index=lab.index, dtype="float64")
    per = per.mask(lab == "good", 1.0).mask(lab == "bad", 0.0)
    per = per.mask(num.between(1, 5), (num >= 4).astype("float64"))
    return _per_label(per.tolist(), np.nan).astype("float64")[codes[pos]]


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
    sat = satisfied(ctx, m.resolved_pos)
    r = _stat(sat, "mean", "no ticket resolved in the window was rated")
    r.extra = _breakdowns(ctx, "resolved", sat, "mean")
    return r


# ---------------------------------------------------------------------------
# business hours and SLA


def calendar(ctx: Context) -> BusinessCalendar | None:
    cfg = (ctx.config.get("support") or {}).get("business_hours")
    key = ("support.calendar", repr(cfg))
    if key not in ctx.shared:
        ctx.shared[key] = BusinessCalendar.from_config(cfg)
    return ctx.shared[key]


@dataclass
class Schedule:
    """Business hours of the window's rows (NaN elsewhere), full frame length."""

    fr: np.ndarray  # created → first response (schedule, else the export's column)
    res: np.ndarray | None  # created → resolution (None: no schedule or no timestamps)
    to_end_of_r: np.ndarray | None  # created → end of R, for items still open (SLA)


def schedule(ctx: Context) -> Schedule | None:
    """Business-hours durations for the rows created or resolved in the window,
    in one pass over the schedule. None when there is neither a schedule nor an
    export business-minutes column."""
    p, m, cal = prep(ctx), masks(ctx), calendar(ctx)
    df = p.df
    has_col = "first_response_business_minutes" in df.columns
    if cal is None and not has_col:
        return None

    def build() -> Schedule:
        n = len(df)
        pos = m.created_pos if m.resolved_in is None else np.flatnonzero(m.created_in | m.resolved_in)
        fr = np.full(n, np.nan)
        res = to_end = None
        if cal is not None:
            created = pd.Series(p.created[pos].view("datetime64[ns]"))
            ends: dict[str, pd.Series] = {
                "end": pd.Series(np.full(len(pos), pd.Timestamp(ctx.window.end_exclusive).value)
                                 .view("datetime64[ns]"))}
            if "first_response_at" in df.columns:
                ends["fr"] = pd.to_datetime(df["first_response_at"].iloc[pos]).reset_index(drop=True)
            if p.resolved is not None:
                r = p.resolved[pos]
                ends["res"] = pd.Series(np.where(r == _NEVER, np.iinfo("int64").min, r)
                                        .view("datetime64[ns]"))
            got = dict(zip(ends, cal.business_minutes_many(created, *ends.values())))
            to_end = np.full(n, np.nan)
            to_end[pos] = got["end"].to_numpy() / 60.0
            if "fr" in got:
                fr[pos] = got["fr"].to_numpy() / 60.0
            if "res" in got:
                res = np.full(n, np.nan)
                res[pos] = got["res"].to_numpy() / 60.0
        if has_col:  # the help desk's own business minutes where there is no stamp (R8)
            col = _num(df, "first_response_business_minutes", pos)
            col[col < 0] = np.nan
            fr[pos] = np.where(p.fr_stamped[pos] & (cal is not None), fr[pos], col / 60.0)
        return Schedule(fr, res, to_end)

    return _window_cached(ctx, f"schedule.{cal!r}", df, build)


def _bh_first_response(ctx: Context, how: str) -> Result:
    m = masks(ctx)
    sch = schedule(ctx)
    if sch is None:
        return Result.unavailable(NO_BH)
    return _stat(sch.fr[m.created_pos], how, "no ticket created in the window was answered")


def _bh_resolution(ctx: Context, how: str) -> Result:
    p, m = prep(ctx), masks(ctx)
    if calendar(ctx) is None:
        return Result.unavailable(NO_BH)
    if (why := _no_resolution(p)) is not None:
        return Result.unavailable(why)
    return _stat(schedule(ctx).res[m.resolved_pos], how, "no ticket was resolved in the window")


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


def _cfg_err(key: str, message: str) -> ConfigError:
    return ConfigError(f"{key}: {message}", [Issue("bad-value", message, level="error", key=key)])


def sla_targets(ctx: Context) -> dict[str, dict[str, float]] | None:
    """`support.sla` → {priority (lower-case): {first_response_hours, resolution_hours}}."""
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
    pos = m.created_pos
    codes, labs = labels(ctx, "priority", lower=True)
    prio = codes[pos]
    fr_t = _per_label([targets.get(lb, {}).get("first_response_hours", np.nan) for lb in labs],
                      np.nan).astype("float64")[prio]
    res_t = _per_label([targets.get(lb, {}).get("resolution_hours", np.nan) for lb in labs],
                       np.nan).astype("float64")[prio]
    if not p.has_fr:
        fr_t = np.full(len(pos), np.nan)
    if p.resolved is None:
        res_t = np.full(len(pos), np.nan)
    if cal is None:  # calendar hours; an open item's clock runs to the end of R
        end_r = pd.Timestamp(ctx.window.end_exclusive).value
        open_clock = (end_r - p.created[pos]) / _NS_PER_HOUR
        fr_h, res_h = p.fr_hours[pos], p.res_hours[pos]
    else:
        sch = schedule(ctx)
        open_clock = sch.to_end_of_r[pos]
        fr_h = sch.fr[pos]
        res_h = sch.res[pos] if sch.res is not None else np.full(len(pos), np.nan)
    answered = ~np.isnan(p.fr_hours[pos]) | ~np.isnan(fr_h) | p.fr_stamped[pos]
    resolved = p.resolved[pos] != _NEVER if p.resolved is not None else np.zeros(len(pos), bool)
    # a target is judged where its duration is known, or the item is still open
    fr_eval = ~np.isnan(fr_t) & (~answered | ~np.isnan(fr_h))
    res_eval = ~np.isnan(res_t) & (~resolved | ~np.isnan(res_h))
    with np.errstate(invalid="ignore"):
        fr_breach = fr_eval & np.where(answered, fr_h > fr_t, open_clock > fr_t)
        res_breach = res_eval & np.where(resolved, res_h > res_t, open_clock > res_t)
    judged = fr_eval | res_eval
    n = int(judged.sum())
    if n == 0:
        return Result.unavailable("no ticket created in the window has an SLA target", n=0)
    breach = (fr_breach | res_breach)[judged]
    by_prio = pd.Series(breach.astype("float64")).groupby(labs[prio[judged]], sort=True).mean()
    extra = {
        "first_response_breaches": int(fr_breach.sum()),
        "resolution_breaches": int(res_breach.sum()),
        "hours": "business" if cal is not None else "calendar",
        "by_priority": {str(k): float(v) for k, v in by_prio.items()},
    }
    return Result(float(breach.sum()) / n, n=n, extra=extra)


# ---------------------------------------------------------------------------
# per-account metrics (health inputs)


def _account_codes(ctx: Context, which: str) -> tuple[np.ndarray, pd.Index]:
    """Account of each of the window's `which` rows as a code into an index of
    accounts (-1 = orphan). With an accounts dataset the index is every account
    (so counts give 0 to accounts without tickets), else the ids seen."""
    df = prep(ctx).df

    def build() -> tuple[np.ndarray, pd.Index]:
        ids = df["account_id"].iloc[_positions(ctx, which)].reset_index(drop=True)
        accounts = ctx.frames.get("accounts")
        if accounts is not None and "account_id" in accounts.columns:
            index = _shared(ctx, "account_index", accounts, lambda: pd.Index(
                accounts["account_id"].dropna().unique(), name="account_id").sort_values())
            # look up each distinct id once, not each row
            sub, uniq = pd.factorize(ids)
            where = index.get_indexer(pd.Index(uniq))
            if (where < 0).any():  # ids not in the accounts frame (no linking): keep them too
                index = index.append(pd.Index(uniq[where < 0], name="account_id"))
                where = index.get_indexer(pd.Index(uniq))
            codes = np.where(sub >= 0, np.append(where, -1)[sub], -1)
        else:
            codes, uniq = pd.factorize(ids, sort=True)
            index = pd.Index(uniq, name="account_id")
        return np.asarray(codes, dtype="int64"), index

    return _window_cached(ctx, f"accounts.{which}", df, build)


def _per_account_count(ctx: Context, which: str, name: str, mask: np.ndarray | None = None) -> pd.Series:
    """Count per account over the window's `which` rows (optionally masked)."""
    codes, index = _account_codes(ctx, which)
    if mask is not None:
        codes = codes[mask]
    counts = np.bincount(codes[codes >= 0], minlength=len(index)).astype("float64")
    return pd.Series(counts, index=index, name=name, dtype="float64")


def _per_account_mean(ctx: Context, which: str, values: np.ndarray, name: str) -> pd.Series:
    """Mean per account over the window's `which` rows with a value; accounts
    without one are absent (missing, not 0)."""
    codes, index = _account_codes(ctx, which)
    keep = (codes >= 0) & ~np.isnan(values)
    tot = np.bincount(codes[keep], weights=values[keep], minlength=len(index))
    cnt = np.bincount(codes[keep], minlength=len(index))
    has = cnt > 0
    return pd.Series(tot[has] / cnt[has], index=index[has], name=name, dtype="float64")


@account_metric("tickets", description="Tickets created in the window", unit="count",
                better="lower", needs=("tickets.account_id",))
def a_tickets(ctx: Context) -> pd.Series:
    return _per_account_count(ctx, "created", "tickets")


@account_metric("urgent_tickets", description="Tickets created in the window with a priority "
                "in support.urgent_priorities", unit="count", better="lower",
                needs=("tickets.account_id", "tickets.priority"))
def a_urgent_tickets(ctx: Context) -> pd.Series:
    m = masks(ctx)
    urgent = [str(u).strip().lower() for u in
              (ctx.config.get("support") or {}).get("urgent_priorities") or []]
    codes, labs = labels(ctx, "priority", lower=True)
    is_urgent = _per_label([lb in urgent for lb in labs], False).astype(bool)[codes[m.created_pos]]
    return _per_account_count(ctx, "created", "urgent_tickets", is_urgent)


@account_metric("open_tickets", description="Tickets open at the end of R", unit="count",
                better="lower", needs=("tickets.account_id",) + NEED_STATE)
def a_open_tickets(ctx: Context) -> pd.Series | None:
    m = masks(ctx)
    if m.resolved_by_r is None:
        return None
    return _per_account_count(ctx, "open", "open_tickets")


@account_metric("first_response_hours", description="Mean hours to first response, tickets "
                "created in the window and answered", unit="hours", better="lower",
                needs=("tickets.account_id",) + NEED_FR)
def a_first_response_hours(ctx: Context) -> pd.Series:
    p, m = prep(ctx), masks(ctx)
    return _per_account_mean(ctx, "created", p.fr_hours[m.created_pos], "first_response_hours")


@account_metric("resolution_hours", description="Mean hours to resolution, tickets resolved "
                "in the window", unit="hours", better="lower",
                needs=("tickets.account_id",) + NEED_RES)
def a_resolution_hours(ctx: Context) -> pd.Series | None:
    p, m = prep(ctx), masks(ctx)
    if m.resolved_pos is None:
        return None
    return _per_account_mean(ctx, "resolved", p.res_hours[m.resolved_pos], "resolution_hours")


@account_metric("escalated_tickets", description="Escalated tickets created in the window",
                unit="count", better="lower",
                needs=("tickets.account_id", "tickets.escalated|tickets.tags"))
def a_escalated_tickets(ctx: Context) -> pd.Series | None:
    p, m = prep(ctx), masks(ctx)
    esc = escalated(p.df, m.created_pos)
    if esc is None:
        return None
    return _per_account_count(ctx, "created", "escalated_tickets", esc)


@account_metric("ticket_csat", description="Satisfied / rated, tickets resolved in the window",
                unit="ratio", better="higher",
                needs=("tickets.account_id", "tickets.satisfaction") + NEED_RES)
def a_ticket_csat(ctx: Context) -> pd.Series | None:
    m = masks(ctx)
    if m.resolved_pos is None:
        return None
    return _per_account_mean(ctx, "resolved", satisfied(ctx, m.resolved_pos), "ticket_csat")


@account_metric("tickets_per_seat", description="Tickets created in the window / seats",
                unit="ratio", better="lower", needs=("tickets.account_id", "accounts.seats"))
def a_tickets_per_seat(ctx: Context) -> pd.Series | None:
    acc = ctx.frames.get("accounts")
    if acc is None or "seats" not in acc.columns:
        return None
    seats = accounts_number(ctx, "seats")
    seats = seats[seats > 0]
    seats = seats[~seats.index.duplicated()]
    counts = _per_account_count(ctx, "created", "tickets").reindex(seats.index)
    return (counts.fillna(0.0) / seats).rename("tickets_per_seat").astype("float64")
