"""Revenue KPIs from billing (SPEC §3 "Revenue", R11, R16–R26, R36).

One normalisation (`normalise_billing`) turns any billing row — invoice line,
subscription row, MRR export — into a service period with a monthly amount in
the base currency. MRR on any day is then read off a per-account step
function (+monthly at start, −monthly at end), so MRR on a handful of days for
every account is one `searchsorted`, not a loop. See docs/revenue.md for the
choices made where SPEC is silent.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from cs_metrics.errors import ConfigError, InputError, Issue
from cs_metrics.metrics.accounts import account_index, accounts_number
from cs_metrics.metrics.registry import Context, Result, account_metric, kpi
from cs_metrics.timeframe import month_ends

DAYS_PER_MONTH = 30.4375  # mean Gregorian month (365.2425 / 12)
REL_TOL = 1e-9  # R22: equal when |a − b| < 1e-9 × max(1, |a|)

# R18, plus spelling variants of trial used by Chargebee/Recurly (in_trial) and UK English.
NOT_RECURRING_STATUS = frozenset(
    {
        "void",
        "voided",
        "draft",
        "deleted",
        "refunded",
        "trial",
        "trialing",
        "trialling",
        "in_trial",
        "intrial",
        "in trial",
    }
)
VOID_STATUS = frozenset({"void", "voided", "draft", "deleted"})  # R24/R25 exclusions
PAID_STATUS = frozenset({"paid", "succeeded", "refunded", "partially_refunded"})
# kinds with punctuation/space removed (one_time, one-off, "one off" → onetime/oneoff)
ONE_OFF_KINDS = frozenset(
    {
        "onetime",
        "oneoff",
        "once",
        "setup",
        "setupfee",
        "single",
        "nonrecurring",
        "onetimecharge",
        "oneoffcharge",
        "onetimefee",
    }
)
_INTERVAL_WORDS: dict[str, tuple[str, float]] = {
    "day": ("D", 1),
    "days": ("D", 1),
    "daily": ("D", 1),
    "week": ("D", 7),
    "weeks": ("D", 7),
    "weekly": ("D", 7),
    "fortnight": ("D", 14),
    "fortnightly": ("D", 14),
    "biweekly": ("D", 14),
    "month": ("M", 1),
    "months": ("M", 1),
    "monthly": ("M", 1),
    "mo": ("M", 1),
    "quarter": ("M", 3),
    "quarters": ("M", 3),
    "quarterly": ("M", 3),
    "semiannual": ("M", 6),
    "semiannually": ("M", 6),
    "halfyear": ("M", 6),
    "halfyearly": ("M", 6),
    "year": ("M", 12),
    "years": ("M", 12),
    "yearly": ("M", 12),
    "annual": ("M", 12),
    "annually": ("M", 12),
    "yr": ("M", 12),
}
_INTERVAL_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)?\s*([a-z\- ]*?)\s*$")

NORMAL_COLUMNS = (
    "account_id",
    "start",
    "end",
    "monthly",
    "recurring",
    "amount_base",
    "issued_at",
    "due_at",
    "paid_at",
    "status",
    "invoice_id",
    "void",
)


# --------------------------------------------------------------------------
# normalisation


def _parse_interval(value: str) -> tuple[str, float] | None:
    """'monthly' → ('M', 1); '12' → ('M', 12); '2 weeks' → ('D', 14); unknown → None."""
    m = _INTERVAL_RE.match(str(value).lower())
    if not m:
        return None
    num, word = m.group(1), re.sub(r"[\s\-]", "", m.group(2) or "")
    if not word:
        return ("M", float(num)) if num else None
    unit = _INTERVAL_WORDS.get(word)
    if unit is None:
        return None
    return unit[0], unit[1] * (float(num) if num else 1.0)


def _interval_columns(interval: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Per row: (unit 0 none / 1 months / 2 days, count), parsed once per distinct value."""
    codes, uniques = pd.factorize(interval, use_na_sentinel=True)
    unit_u = np.zeros(len(uniques) + 1, dtype="int8")
    n_u = np.full(len(uniques) + 1, np.nan)
    for i, u in enumerate(uniques):
        p = _parse_interval(u)
        if p is not None and p[1] > 0:
            unit_u[i], n_u[i] = (1 if p[0] == "M" else 2), p[1]
    idx = np.where(codes < 0, len(uniques), codes)
    return unit_u[idx], n_u[idx]


def _text_codes(s: pd.Series, normalise) -> tuple[np.ndarray, pd.Index]:
    """Factorize a text column and normalise its distinct values only (fast on 1M rows)."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    norm = pd.Index([normalise(str(u)) for u in uniques], dtype="str")
    return codes, norm


def _in_set(codes: np.ndarray, values: pd.Index, wanted: frozenset[str]) -> np.ndarray:
    hit = np.append(values.isin(list(wanted)), False)
    return hit[np.where(codes < 0, len(values), codes)]


_DIM = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype="int64")


def _civil(z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Days since 1970-01-01 → (year, month 1–12, day) in integer arithmetic (H. Hinnant)."""
    z = z + 719468
    era = np.floor_divide(z, 146097)
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = np.where(mp < 10, mp + 3, mp - 9)
    return yoe + era * 400 + (m <= 2), m, d


def _days_from_civil(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    y = y - (m <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    doy = (153 * ((m + 9) % 12) + 2) // 5 + d - 1
    return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468


def add_months(days: np.ndarray, k: np.ndarray, _dedupe: bool = True) -> np.ndarray:
    """datetime64[D] + k whole months, clipping the day (31 Jan + 1 month = 28 Feb)."""
    days = np.asarray(days, dtype="datetime64[D]")
    k = np.broadcast_to(np.asarray(k, dtype="float64"), days.shape)
    ok = ~np.isnat(days) & np.isfinite(k)
    z = np.where(ok, days, np.datetime64("2000-01-01", "D")).astype("int64")
    kk = np.where(ok, k, 0).astype("int64")
    if _dedupe and z.size > 4096 and np.abs(kk).max() < 1 << 20:
        # billing periods repeat a lot: compute once per distinct (day, k)
        codes, uniq = pd.factorize(z.ravel() * (1 << 21) + (kk.ravel() + (1 << 20)))
        z_u = np.floor_divide(uniq, 1 << 21)
        k_u = uniq - z_u * (1 << 21) - (1 << 20)
        out = add_months(z_u.astype("datetime64[D]"), k_u.astype("float64"), False)[codes].reshape(
            z.shape
        )
        return np.where(ok, out, np.datetime64("NaT", "D"))
    y, m, d = _civil(z)
    total = y * 12 + (m - 1) + kk
    ny, nm = np.floor_divide(total, 12), np.mod(total, 12) + 1
    leap = ((ny % 4 == 0) & (ny % 100 != 0)) | (ny % 400 == 0)
    dim = _DIM[nm - 1] + ((nm == 2) & leap)
    out = _days_from_civil(ny, nm, np.minimum(d, dim)).astype("datetime64[D]")
    return np.where(ok, out, np.datetime64("NaT", "D"))


def _to_days(s: pd.Series | None, n: int) -> np.ndarray:
    """A datetime column truncated to its date (R17) as datetime64[D]; absent → NaT."""
    if s is None:
        return np.full(n, np.datetime64("NaT", "D"))
    return pd.to_datetime(s).to_numpy(dtype="datetime64[D]")


def _conversion_rates(billing: pd.DataFrame, config: dict[str, Any]) -> np.ndarray:
    """R23: units of base per one unit of each row's currency; unknown code → InputError."""
    cur_cfg = config.get("currency") or {}
    base = str(cur_cfg.get("base") or "USD").strip().upper()
    if "currency" not in billing.columns:
        return np.ones(len(billing))
    rates: dict[str, float] = {base: 1.0}
    for code, rate in (cur_cfg.get("rates") or {}).items():
        key = str(code).strip().upper()
        try:
            r = float(rate)
        except (TypeError, ValueError):
            r = float("nan")
        if not np.isfinite(r) or r <= 0:
            raise ConfigError(
                f"currency.rates.{key}: expected a positive number, found {rate!r}",
                [
                    Issue(
                        "bad-config-value",
                        f"expected a positive number, found {rate!r}",
                        level="error",
                        key=f"currency.rates.{key}",
                    )
                ],
            )
        if key != base:
            rates[key] = r
    codes, raw = pd.factorize(billing["currency"], use_na_sentinel=True)
    uniques = [str(u).strip().upper() or base for u in raw] + [base]  # last: blank cell → base
    codes = np.where(codes < 0, len(raw), codes)
    unknown = sorted({u for u in uniques if u not in rates})
    if unknown:
        counts = np.bincount(codes, minlength=len(uniques))
        rows = {u: int(sum(c for v, c in zip(uniques, counts) if v == u)) for u in unknown}
        issues = [
            Issue(
                "unknown-currency",
                f"unknown currency {u!r} ({rows[u]} billing rows): add its rate as "
                f"config key currency.rates.{u} (units of {base} per 1 {u})",
                level="error",
                dataset="billing",
                column="currency",
                value=u,
                key=f"currency.rates.{u}",
            )
            for u in unknown
        ]
        raise InputError(
            "billing has currencies without a conversion rate: "
            + ", ".join(f"{u} (add config key currency.rates.{u})" for u in unknown),
            issues,
        )
    return np.array([rates[u] for u in uniques], dtype="float64")[codes]


def normalise_billing(
    billing: pd.DataFrame, flags: set[str] | frozenset[str], config: dict
) -> pd.DataFrame:
    """Any billing row → service period [start, end) with a monthly amount in base currency.

    Columns: account_id, start, end (exclusive; NaT = open-ended), monthly,
    recurring, amount_base, issued_at, due_at, paid_at, status, invoice_id,
    void. Nothing is rounded. The frame may share memory with `billing`: treat it as
    read-only.
    """
    n = len(billing)
    flags = set(flags or ())

    def col(name: str) -> pd.Series | None:
        return billing[name] if name in billing.columns else None

    # R2: tax-inclusive amounts lose their tax; per-unit amounts × quantity.
    amount = pd.to_numeric(billing["amount"], errors="coerce").astype("float64").to_numpy()
    if "per_unit" in flags and "quantity" in billing.columns:
        qty = pd.to_numeric(billing["quantity"], errors="coerce").astype("float64").to_numpy()
        amount = amount * np.where(np.isnan(qty), 1.0, qty)
    if "tax_inclusive" in flags and "tax" in billing.columns:
        tax = pd.to_numeric(billing["tax"], errors="coerce").astype("float64").to_numpy()
        amount = amount - np.where(np.isnan(tax), 0.0, tax)
    amount_base = amount * _conversion_rates(billing, config)

    issued = _to_days(col("issued_at"), n)
    start = _to_days(col("period_start"), n)
    end = _to_days(col("period_end"), n)
    ended = _to_days(col("ended_at"), n)
    if "interval" in billing.columns:
        unit, count = _interval_columns(billing["interval"])
    else:
        unit, count = np.zeros(n, dtype="int8"), np.full(n, np.nan)
    has_interval = unit != 0

    # R20 applies to ends read from the file, not to ends computed from an interval.
    given_end = ~np.isnat(end)
    # R19: start, no end, no issue date → a subscription, active until ended_at or forever.
    subscription = ~np.isnat(start) & np.isnat(end) & np.isnat(issued)
    end = np.where(subscription, ended, end)
    # An invoice without a period start (but with an end or an interval) starts when issued;
    # without an end it lasts one interval.
    no_start = np.isnat(start) & (has_interval | given_end) & ~np.isnat(issued)
    start = np.where(no_start, issued, start)
    from_interval = np.isnat(end) & ~subscription & ~np.isnat(start) & has_interval
    by_month = from_interval & (unit == 1) & (np.mod(np.nan_to_num(count), 1) == 0)
    by_days = from_interval & ~by_month
    interval_days = np.where(unit == 1, count * DAYS_PER_MONTH, count)
    end = np.where(by_month, add_months(start, count), end)
    end = np.where(
        by_days,
        start + np.rint(np.nan_to_num(interval_days)).astype("int64").astype("timedelta64[D]"),
        end,
    )

    # R20: an end one day short of start + k whole months is inclusive → extend by a day.
    both = given_end & ~np.isnat(start)
    e1 = end + np.timedelta64(1, "D")
    k = np.where(
        both,
        (e1.astype("datetime64[M]") - start.astype("datetime64[M]")).astype("int64"),
        0,
    )
    inclusive = both & (k >= 1) & (add_months(start, np.where(k >= 1, k, 0)) == e1)
    end = np.where(inclusive, e1, end)

    # Monthly amount: interval if given, else round(days / 30.4375) (half up), at least 1.
    days = (end - start).astype("timedelta64[D]").astype("float64")  # NaT → nan
    months_from_days = np.maximum(
        1.0, np.floor(np.nan_to_num(days, nan=DAYS_PER_MONTH) / DAYS_PER_MONTH + 0.5)
    )
    # A subscription export (it has a cancel/end column, and the row no invoice date) spans
    # the subscription's whole life, not one billing cycle: without an interval its amount
    # is taken as monthly rather than spread over the whole span (docs/revenue.md).
    if "ended_at" in billing.columns:
        months_from_days = np.where(np.isnat(issued), 1.0, months_from_days)
    months = np.where(
        has_interval, np.where(unit == 1, count, count / DAYS_PER_MONTH), months_from_days
    )
    monthly = amount_base if "monthly" in flags else amount_base / months

    if "status" in billing.columns:
        st_codes, st_values = _text_codes(billing["status"], lambda v: v.strip().lower())
        bad_status = _in_set(st_codes, st_values, NOT_RECURRING_STATUS)
        void = _in_set(st_codes, st_values, VOID_STATUS)
        status = pd.array(np.append(st_values.to_numpy(), None), dtype="str")[
            np.where(st_codes < 0, len(st_values), st_codes)
        ]
    else:
        bad_status = void = np.zeros(n, dtype=bool)
        status = pd.array([None] * n, dtype="str")
    if "kind" in billing.columns:
        k_codes, k_values = _text_codes(
            billing["kind"], lambda v: re.sub(r"[\s_\-]", "", v.lower())
        )
        one_off = _in_set(k_codes, k_values, ONE_OFF_KINDS)
    else:
        one_off = np.zeros(n, dtype=bool)
    has_period = ~np.isnat(start) & (~np.isnat(end) | subscription)
    empty_period = ~np.isnat(end) & ~np.isnat(start) & (end <= start)
    recurring = has_period & ~empty_period & ~one_off & ~bad_status & np.isfinite(monthly)

    out = pd.DataFrame(
        {
            "account_id": billing["account_id"].astype("str").array,
            "start": start.astype("datetime64[s]"),
            "end": end.astype("datetime64[s]"),
            "monthly": np.where(recurring, monthly, 0.0).astype("float64"),
            "recurring": recurring,
            "amount_base": amount_base.astype("float64"),
            "issued_at": _dt_or_nat(col("issued_at"), n),
            "due_at": _dt_or_nat(col("due_at"), n),
            "paid_at": _dt_or_nat(col("paid_at"), n),
            "status": status,
            "invoice_id": (
                billing["invoice_id"].astype("str").array
                if "invoice_id" in billing.columns
                else pd.array([pd.NA] * n, dtype="str")
            ),
            "void": void,
        },
        index=pd.RangeIndex(n),
        copy=False,  # no block consolidation: ~0.3 s saved on 1M rows
    )
    return out


def _dt_or_nat(s: pd.Series | None, n: int) -> np.ndarray:
    if s is None:
        return np.full(n, np.datetime64("NaT", "ns"))
    return pd.to_datetime(s).to_numpy()  # keep the loader's unit: no 1M-row conversion


# --------------------------------------------------------------------------
# step function and MRR on days


def _billing_flags(ctx: Context) -> set[str]:
    ds = ctx.bundle.datasets.get("billing") if ctx.bundle is not None else None
    return set(ds.meta.get("amount_flags") or ()) if ds is not None else set()


def _shared_get(ctx: Context, name: str, frame: pd.DataFrame, build) -> Any:
    """Per-run cache keyed on the frame object (W, P and trend reuse it; groups don't collide)."""
    key = (name, id(frame))
    hit = ctx.shared.get(key)
    if hit is not None and hit[0] is frame:
        return hit[1]
    value = build()
    ctx.shared[key] = (frame, value)
    return value


def normalised(ctx: Context) -> pd.DataFrame:
    """The normalised billing rows of ctx (cached per run)."""
    return _normalised_of(ctx, ctx.frames["billing"])


def _normalised_of(ctx: Context, billing: pd.DataFrame) -> pd.DataFrame:
    def build() -> pd.DataFrame:
        try:
            return normalise_billing(billing, _billing_flags(ctx), ctx.config)
        except InputError as e:  # name the billing file(s) in the unknown-currency issues
            ds = ctx.bundle.datasets.get("billing") if ctx.bundle is not None else None
            if ds is not None and ds.files:
                for issue in e.issues:
                    if issue.file is None:
                        issue.file = ", ".join(ds.files)
            raise

    return _shared_get(ctx, "revenue.normalised", billing, build)


NO_RECURRING = (
    "billing has no recurring rows (a row needs a service period or an interval, and must "
    "not be one-off, void, draft, deleted, refunded or a trial)"
)


def no_recurring_reason(ctx: Context) -> str | None:
    """Why billing cannot give MRR at all, else None.

    Judged on the whole billing dataset, not the `--by` group's slice: a group
    without recurring rows really has MRR 0, a dataset without any (invoices
    with no service periods) cannot tell MRR, and 0 would be a fake number.
    """
    if not ctx.has("billing"):
        return "needs billing, which the loaded data does not have"
    full = ctx.bundle.frame("billing") if ctx.bundle is not None else None
    if full is None:
        full = ctx.frames["billing"]
    has_any = _shared_get(
        ctx,
        "revenue.any_recurring",
        full,
        lambda: bool(_normalised_of(ctx, full)["recurring"].any()),
    )
    return None if has_any else NO_RECURRING


def _billing_mrr(ctx: Context) -> bool:
    return ctx.has("billing") and no_recurring_reason(ctx) is None


class Steps:
    """Per-account MRR step function.

    `keys` = account code << 32 | day offset, sorted; `level[i]` = the account's
    MRR from that day until its next event. `first_pos_me[code]` = first
    calendar month-end (as day offset) with MRR > 0 (R22), or a huge value.
    """

    SHIFT = 32
    OFFSET = 1 << 30  # days since epoch can be negative

    def __init__(self, norm: pd.DataFrame) -> None:
        codes, accounts = pd.factorize(norm["account_id"], use_na_sentinel=True)
        self.accounts = pd.Index(accounts, name="account_id")
        rec = norm["recurring"].to_numpy() & (codes >= 0) & (norm["monthly"].to_numpy() != 0)
        c = codes[rec].astype("int64")
        m = norm["monthly"].to_numpy()[rec]
        s = norm["start"].to_numpy()[rec].astype("datetime64[D]").astype("int64")
        e_dt = norm["end"].to_numpy()[rec].astype("datetime64[D]")
        has_end = ~np.isnat(e_dt)
        e = e_dt[has_end].astype("int64")
        acc = np.concatenate([c, c[has_end]])
        day = np.concatenate([s, e])
        delta = np.concatenate([m, -m[has_end]])
        keys = (acc << self.SHIFT) | (day + self.OFFSET)
        order = np.argsort(keys)  # ties are summed, so order among equal keys is irrelevant
        keys, delta = keys[order], delta[order]
        # one event per (account, day); keys are sorted, so boundaries are where they change
        first = (
            np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
            if len(keys)
            else np.array([], dtype="int64")
        )
        uniq = keys[first]
        summed = np.add.reduceat(delta, first) if len(delta) else delta
        absd = np.add.reduceat(np.abs(delta), first) if len(delta) else delta
        acc_u = uniq >> self.SHIFT
        # cumulative sum restarted per account
        total = np.cumsum(summed)
        total_abs = np.cumsum(absd)
        starts = (
            np.r_[0, np.flatnonzero(np.diff(acc_u)) + 1] if len(acc_u) else np.array([], dtype=int)
        )
        base = np.zeros(len(acc_u))
        base_abs = np.zeros(len(acc_u))
        if len(acc_u):
            prev_tot = np.r_[0.0, total][starts]
            prev_abs = np.r_[0.0, total_abs][starts]
            seg = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(acc_u)]))
            base, base_abs = prev_tot[seg], prev_abs[seg]
        level = total - base
        scale = total_abs - base_abs
        # float drift from +x … −x: snap to exactly 0 (R22 tolerance on the running magnitude)
        level[np.abs(level) < REL_TOL * np.maximum(1.0, scale)] = 0.0
        self.keys, self.acc, self.level = uniq, acc_u, level
        self.days = (uniq & ((1 << self.SHIFT) - 1)) - self.OFFSET
        # R22: MRR at a month-end = level of the last event in that month; first positive one.
        me = (
            (self.days.astype("datetime64[D]").astype("datetime64[M]") + 1).astype("datetime64[D]")
            - np.timedelta64(1, "D")
        ).astype("int64")
        month_key = (acc_u << self.SHIFT) | (me + self.OFFSET)
        last_in_month = (
            np.r_[month_key[1:] != month_key[:-1], True]
            if len(month_key)
            else month_key.astype(bool)
        )
        pos = last_in_month & (level > REL_TOL)
        big = np.iinfo("int64").max
        first_pos = np.full(len(self.accounts), big, dtype="int64")
        np.minimum.at(first_pos, acc_u[pos], me[pos])
        self.first_pos_me = first_pos

    def at(self, days: list[pd.Timestamp]) -> np.ndarray:
        """MRR of every account (rows, in `accounts` order) on each day (columns)."""
        n = len(self.accounts)
        d = np.array([pd.Timestamp(x).to_datetime64() for x in days], dtype="datetime64[D]").astype(
            "int64"
        )
        if n == 0 or len(self.keys) == 0:
            return np.zeros((n, len(d)))
        q = (np.arange(n, dtype="int64")[:, None] << self.SHIFT) | (d[None, :] + self.OFFSET)
        idx = np.searchsorted(self.keys, q.ravel(), side="right") - 1
        safe = np.maximum(idx, 0)
        ok = (idx >= 0) & (self.acc[safe] == np.repeat(np.arange(n), len(d)))
        return np.where(ok, self.level[safe], 0.0).reshape(n, len(d))


def steps(ctx: Context) -> Steps:
    billing = ctx.frames["billing"]
    return _shared_get(ctx, "revenue.steps", billing, lambda: Steps(normalised(ctx)))


def mrr_at_days(ctx: Context, days: list[pd.Timestamp]) -> pd.DataFrame:
    """MRR (base currency) of each account with billing rows on each day: accounts × days."""
    st = steps(ctx)
    days = [pd.Timestamp(x).normalize() for x in days]
    return pd.DataFrame(st.at(days), index=st.accounts, columns=pd.DatetimeIndex(days))


def mrr_on(ctx: Context, day: pd.Timestamp) -> pd.Series:
    """MRR of each account with billing rows on one day (missing account = 0)."""
    st = steps(ctx)
    return pd.Series(st.at([day])[:, 0], index=st.accounts, name="mrr", dtype="float64")


def _pos(x: np.ndarray) -> np.ndarray:
    """MRR > 0 with the R22 tolerance (x differs from 0 by more than 1e-9 × max(1, |x|))."""
    return x > REL_TOL * np.maximum(1.0, np.abs(x))


def _equal(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a - b) < REL_TOL * np.maximum(1.0, np.abs(a))


# --------------------------------------------------------------------------
# shared per-computation numbers


def _start_end(ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    """R21: MRR per account on the day before W and on R."""

    def build():
        grid = steps(ctx).at([ctx.window.day_before, ctx.R])
        return grid[:, 0], grid[:, 1]

    return ctx.cached("revenue.start_end", build)


def movements(ctx: Context) -> dict[str, tuple[float, int]]:
    """SPEC §3 MRR movements over W: kind → (sum, accounts contributing).

    Steps: the day before W, then each month-end in W and R (calendar periods),
    or just R (Nd, R16). 0→x is new unless the account had MRR > 0 at a
    calendar month-end before the step's end (reactivation, R22).
    """

    def build():
        st = steps(ctx)
        days = [ctx.window.day_before] + month_ends(ctx.window)
        grid = st.at(days)
        step_ends = np.array(
            [pd.Timestamp(d).to_datetime64() for d in days[1:]], dtype="datetime64[D]"
        ).astype("int64")
        x, y = grid[:, :-1], grid[:, 1:]
        xp, yp = _pos(x), _pos(y)
        same = _equal(x, y)
        opened = ~xp & yp
        # R22: any calendar month-end earlier than the step's end (for calendar periods
        # that is on or before its start; an Nd step can span month-ends, R16)
        had_before = st.first_pos_me[:, None] < step_ends[None, :]
        parts = {
            "new": np.where(opened & ~had_before, y, 0.0),
            "reactivation": np.where(opened & had_before, y, 0.0),
            "expansion": np.where(xp & yp & ~same & (y > x), y - x, 0.0),
            "contraction": np.where(xp & yp & ~same & (y < x), x - y, 0.0),
            "churned": np.where(xp & ~yp, x, 0.0),
        }
        return {k: (float(v.sum()), int((v != 0).any(axis=1).sum())) for k, v in parts.items()}

    return ctx.cached("revenue.movements", build)


def _accounts_snapshot_mrr(ctx: Context) -> pd.Series | None:
    """R11: per-account MRR from accounts.mrr (else arr / 12) when there is no billing."""
    acc = ctx.frames.get("accounts")
    if acc is None or not ({"mrr", "arr"} & set(acc.columns)):
        return None
    if "mrr" not in acc.columns:
        return accounts_number(ctx, "arr") / 12.0
    mrr = accounts_number(ctx, "mrr")
    return mrr.fillna(accounts_number(ctx, "arr") / 12.0) if "arr" in acc.columns else mrr


def company_mrr(ctx: Context) -> tuple[float, int, str]:
    """(Σ MRR on R, accounts with MRR > 0 on R, source 'billing' | 'accounts' | 'none').

    Source 'none' (billing without any recurring row, and no accounts mrr/arr or only
    blank cells): MRR is unknown (NaN) and paying accounts 0; `unknown_mrr_reason(ctx)`
    says why.
    """

    def build():
        if _billing_mrr(ctx):
            _, end = _start_end(ctx)
            return float(end.sum()), int(_pos(end).sum()), "billing"
        snap = _accounts_snapshot_mrr(ctx)
        if snap is None:  # billing without recurring rows, and no accounts snapshot
            return float("nan"), 0, "none"
        vals = snap.dropna().to_numpy()
        if len(vals) == 0:  # the column is there but every cell is blank: unknown, not 0
            return float("nan"), 0, "none"
        return float(vals.sum()), int(_pos(vals).sum()), "accounts"

    return ctx.cached("revenue.company_mrr", build)


BLANK_SNAPSHOT = "every accounts mrr/arr cell is blank"


def unknown_mrr_reason(ctx: Context) -> str:
    """Why company_mrr's source is 'none': no recurring billing rows, and no usable snapshot."""
    if ctx.has("billing"):
        return NO_RECURRING + (
            f"; {BLANK_SNAPSHOT}" if _accounts_snapshot_mrr(ctx) is not None else ""
        )
    return BLANK_SNAPSHOT


# --------------------------------------------------------------------------
# KPIs

_MRR_NEEDS = ("billing|accounts.mrr|accounts.arr",)


@kpi(
    "mrr",
    label="MRR",
    category="revenue",
    unit="currency",
    better="higher",
    description="Monthly recurring revenue on the report date, all accounts.",
    needs=_MRR_NEEDS,
)
def kpi_mrr(ctx: Context) -> Result:
    total, paying, source = company_mrr(ctx)
    if source == "none":
        return Result.unavailable(unknown_mrr_reason(ctx))
    return Result(total, paying, extra={"source": source})


@kpi(
    "arr",
    label="ARR",
    category="revenue",
    unit="currency",
    better="higher",
    description="Annual recurring revenue: 12 × MRR.",
    needs=_MRR_NEEDS,
)
def kpi_arr(ctx: Context) -> Result:
    total, paying, source = company_mrr(ctx)
    if source == "none":
        return Result.unavailable(unknown_mrr_reason(ctx))
    return Result(12.0 * total, paying, extra={"source": source})


@kpi(
    "paying_accounts",
    label="Paying accounts",
    category="revenue",
    unit="count",
    better="higher",
    description="Accounts with MRR above 0 on the report date.",
    needs=_MRR_NEEDS,
)
def kpi_paying_accounts(ctx: Context) -> Result:
    _, paying, source = company_mrr(ctx)
    if source == "none":
        return Result.unavailable(unknown_mrr_reason(ctx))
    return Result(float(paying), paying, extra={"source": source})


def arpa_result(ctx: Context) -> Result:
    total, paying, source = company_mrr(ctx)
    if source == "none":
        return Result.unavailable(unknown_mrr_reason(ctx))
    if paying == 0:
        return Result.unavailable("no paying accounts on the report date", 0)
    return Result(total / paying, paying)


@kpi(
    "arpa",
    label="ARPA",
    category="revenue",
    unit="currency",
    better="higher",
    description="Average revenue per paying account: MRR / paying accounts.",
    needs=_MRR_NEEDS,
)
def kpi_arpa(ctx: Context) -> Result:
    return arpa_result(ctx)


def _movement_kpi(kind: str):
    def compute(ctx: Context) -> Result:
        reason = no_recurring_reason(ctx)
        if reason:
            return Result.unavailable(reason)
        total, n = movements(ctx)[kind]
        return Result(total, n)

    return compute


for _kind, _label, _better, _desc in (
    ("new", "New MRR", "higher", "MRR from accounts paying for the first time in the period."),
    ("expansion", "Expansion MRR", "higher", "MRR increases of paying accounts (upgrades, seats)."),
    ("contraction", "Contraction MRR", "lower", "MRR decreases of accounts that still pay."),
    ("churned", "Churned MRR", "lower", "MRR lost from accounts that stopped paying."),
    (
        "reactivation",
        "Reactivation MRR",
        "higher",
        "MRR from returning accounts that had paid before.",
    ),
):
    kpi(
        f"{_kind}_mrr",
        label=_label,
        category="revenue",
        unit="currency",
        better=_better,
        description=_desc + " Summed over month-end steps.",
        needs=("billing",),
    )(_movement_kpi(_kind))


@kpi(
    "net_new_mrr",
    label="Net new MRR",
    category="revenue",
    unit="currency",
    better="higher",
    description="New + expansion + reactivation − contraction − churned MRR.",
    needs=("billing",),
)
def kpi_net_new_mrr(ctx: Context) -> Result:
    reason = no_recurring_reason(ctx)
    if reason:
        return Result.unavailable(reason)
    mv = movements(ctx)
    value = (
        mv["new"][0]
        + mv["expansion"][0]
        + mv["reactivation"][0]
        - mv["contraction"][0]
        - mv["churned"][0]
    )
    return Result(value, sum(v[1] for v in mv.values()))


def logo_churn_result(ctx: Context) -> Result:
    """Accounts paying the day before W and not on R / accounts paying the day before W."""
    reason = no_recurring_reason(ctx)
    if reason:
        return Result.unavailable(reason)
    start, end = _start_end(ctx)
    cohort = _pos(start)
    n = int(cohort.sum())
    if n == 0:
        return Result.unavailable("no account had MRR at the start of the period", 0)
    churned = int((cohort & ~_pos(end)).sum())
    return Result(churned / n, n, extra={"churned_accounts": churned})


@kpi(
    "logo_churn_rate",
    label="Logo churn rate",
    category="revenue",
    unit="ratio",
    better="lower",
    description="Share of accounts paying at the start of the period that pay nothing at its end.",
    needs=("billing",),
)
def kpi_logo_churn_rate(ctx: Context) -> Result:
    return logo_churn_result(ctx)


@kpi(
    "customer_retention_rate",
    label="Customer retention rate",
    category="revenue",
    unit="ratio",
    better="higher",
    description="1 − logo churn rate.",
    needs=("billing",),
)
def kpi_customer_retention_rate(ctx: Context) -> Result:
    r = logo_churn_result(ctx)
    return r if r.value is None else Result(1.0 - r.value, r.n, extra=dict(r.extra))


@kpi(
    "gross_revenue_churn_rate",
    label="Gross revenue churn rate",
    category="revenue",
    unit="ratio",
    better="lower",
    description="(Churned + contraction MRR) / MRR at the start of the period.",
    needs=("billing",),
)
def kpi_gross_revenue_churn_rate(ctx: Context) -> Result:
    reason = no_recurring_reason(ctx)
    if reason:
        return Result.unavailable(reason)
    start, _ = _start_end(ctx)
    base = float(start.sum())
    n = int(_pos(start).sum())
    if not _pos(np.array([base]))[0]:
        return Result.unavailable("no MRR at the start of the period", n)
    mv = movements(ctx)
    return Result((mv["churned"][0] + mv["contraction"][0]) / base, n)


def _cohort_ratio(ctx: Context, gross: bool) -> Result:
    reason = no_recurring_reason(ctx)
    if reason:
        return Result.unavailable(reason)
    start, end = _start_end(ctx)
    cohort = _pos(start)
    n = int(cohort.sum())
    if n == 0:
        return Result.unavailable("no account had MRR at the start of the period", 0)
    s, e = start[cohort], end[cohort]
    kept = np.minimum(e, s) if gross else e
    return Result(float(kept.sum() / s.sum()), n)


@kpi(
    "nrr",
    label="Net revenue retention",
    category="revenue",
    unit="ratio",
    better="higher",
    description="MRR at the end of the period of accounts paying at its start / their MRR at the start.",
    needs=("billing",),
)
def kpi_nrr(ctx: Context) -> Result:
    return _cohort_ratio(ctx, gross=False)


@kpi(
    "grr",
    label="Gross revenue retention",
    category="revenue",
    unit="ratio",
    better="higher",
    description="Like NRR, but each account's end MRR is capped at its start MRR (no expansion).",
    needs=("billing",),
)
def kpi_grr(ctx: Context) -> Result:
    return _cohort_ratio(ctx, gross=True)


@kpi(
    "quick_ratio",
    label="SaaS quick ratio",
    category="revenue",
    unit="number",
    better="higher",
    description="(New + expansion + reactivation MRR) / (churned + contraction MRR).",
    needs=("billing",),
)
def kpi_quick_ratio(ctx: Context) -> Result:
    reason = no_recurring_reason(ctx)
    if reason:
        return Result.unavailable(reason)
    mv = movements(ctx)
    lost = mv["churned"][0] + mv["contraction"][0]
    gained = mv["new"][0] + mv["expansion"][0] + mv["reactivation"][0]
    n = sum(v[1] for v in mv.values())
    if not lost > 0:
        return Result.unavailable("no churned or contraction MRR in the period", n)
    return Result(gained / lost, n)


def _transactions(ctx: Context) -> tuple[int, float | None]:
    """R24: invoices issued in W (not void/draft/deleted); lines of one invoice count once."""

    def build():
        nb = normalised(ctx)
        rows = nb[~nb["void"].to_numpy() & ctx.window.contains(nb["issued_at"]).to_numpy()]
        if rows.empty:
            return 0, None
        has_id = rows["invoice_id"].notna().to_numpy()
        per_invoice = rows.loc[has_id].groupby(["invoice_id"], sort=False)["amount_base"].sum()
        amounts = np.concatenate(
            [per_invoice.to_numpy(), rows.loc[~has_id, "amount_base"].to_numpy()]
        )
        return len(amounts), float(amounts.mean())

    return ctx.cached("revenue.transactions", build)


NO_ISSUE_DATES = "billing's issued_at column has no value in any row"


def _no_issue_dates(ctx: Context) -> bool:
    """issued_at is present but blank everywhere (judged on the whole dataset, like MRR)."""
    full = ctx.bundle.frame("billing") if ctx.bundle is not None else None
    if full is None or "issued_at" not in full.columns:
        full = ctx.frames["billing"]
    return _shared_get(
        ctx, "revenue.no_issue_dates", full, lambda: not bool(full["issued_at"].notna().any())
    )


@kpi(
    "transactions",
    label="Transactions",
    category="revenue",
    unit="count",
    better="higher",
    description="Invoices issued in the period (recurring and one-off, not void or draft).",
    needs=("billing.issued_at",),
)
def kpi_transactions(ctx: Context) -> Result:
    if _no_issue_dates(ctx):
        return Result.unavailable(NO_ISSUE_DATES)
    count, _ = _transactions(ctx)
    return Result(float(count), count)


@kpi(
    "avg_transaction_value",
    label="Average transaction value",
    category="revenue",
    unit="currency",
    better="higher",
    description="Mean amount (net, in base currency) of the invoices issued in the period.",
    needs=("billing.issued_at",),
)
def kpi_avg_transaction_value(ctx: Context) -> Result:
    if _no_issue_dates(ctx):
        return Result.unavailable(NO_ISSUE_DATES)
    count, mean = _transactions(ctx)
    if count == 0:
        return Result.unavailable("no invoices issued in the period", 0)
    return Result(mean, count)


# R26: due_at; and a paid date or a status, else no row can be told paid and every row due
# before R would read as "unpaid past due" (QuickBooks' invoice list: a fake 100 %).
_LATE_NEEDS = ("billing.due_at", "billing.paid_at|billing.status")


def _late_rows(ctx: Context) -> pd.DataFrame:
    """R25: rows due in W (dates compared, void/draft/deleted excluded) with a `late` flag."""

    def build():
        nb = normalised(ctx)
        due = nb["due_at"].dt.normalize()
        rows = nb.loc[
            ~nb["void"].to_numpy() & due.notna().to_numpy() & ctx.window.contains(due).to_numpy(),
            ["account_id", "due_at", "paid_at", "status"],
        ]
        due_d = rows["due_at"].dt.normalize()
        paid_d = rows["paid_at"].dt.normalize()
        paid_unknown_date = paid_d.isna() & rows["status"].isin(PAID_STATUS)
        late = (paid_d > due_d) | (paid_d.isna() & ~paid_unknown_date & (due_d < ctx.R))
        return pd.DataFrame({"account_id": rows["account_id"], "late": late.to_numpy(dtype=bool)})

    return ctx.cached("revenue.late_rows", build)


@kpi(
    "late_payment_rate",
    label="Late payment rate",
    category="revenue",
    unit="ratio",
    better="lower",
    description="Billing rows due in the period paid after the due date, or still unpaid past it / rows due.",
    needs=_LATE_NEEDS,
)
def kpi_late_payment_rate(ctx: Context) -> Result:
    rows = _late_rows(ctx)
    n = len(rows)
    if n == 0:
        return Result.unavailable("no billing rows due in the period", 0)
    late = int(rows["late"].sum())
    return Result(late / n, n, extra={"late_rows": late})


# --------------------------------------------------------------------------
# per-account metrics


def _account_index(ctx: Context, extra: pd.Index) -> pd.Index:
    """Every account when there is an accounts dataset, else `extra` (the billed accounts)."""
    return account_index(ctx) if ctx.has("accounts", "account_id") else extra


def _per_account(ctx: Context, values: np.ndarray, fill: float | None = 0.0) -> pd.Series:
    st = steps(ctx)
    s = pd.Series(values, index=st.accounts, dtype="float64")
    idx = _account_index(ctx, st.accounts)
    return s.reindex(idx, fill_value=fill if fill is not None else np.nan).rename_axis("account_id")


def _unknown_per_account(ctx: Context) -> pd.Series:
    """All-missing series (MRR cannot be known): the health model reweights, never scores 0."""
    idx = _account_index(ctx, steps(ctx).accounts if ctx.has("billing") else pd.Index([]))
    return pd.Series(np.nan, index=idx, dtype="float64").rename_axis("account_id")


def account_arr(ctx: Context) -> pd.Series:
    """R36: 12 × billing MRR on R, else accounts.arr, else 12 × accounts.mrr (float, by account_id)."""
    if _billing_mrr(ctx):
        _, end = _start_end(ctx)
        return _per_account(ctx, 12.0 * end)
    acc = ctx.frames.get("accounts")
    if acc is None:
        return pd.Series(dtype="float64", index=pd.Index([], name="account_id", dtype="str"))
    out = pd.Series(np.nan, index=account_index(ctx), dtype="float64")
    if "arr" in acc.columns:
        out = accounts_number(ctx, "arr")
    if "mrr" in acc.columns:
        out = out.fillna(12.0 * accounts_number(ctx, "mrr"))
    return out


@account_metric(
    "mrr",
    description="MRR on the report date (billing, else the accounts snapshot).",
    unit="currency",
    better="higher",
    needs=_MRR_NEEDS,
    windowed=False,
)
def account_mrr(ctx: Context) -> pd.Series:
    if _billing_mrr(ctx):
        _, end = _start_end(ctx)
        return _per_account(ctx, end)
    snap = _accounts_snapshot_mrr(ctx)
    return snap if snap is not None else _unknown_per_account(ctx)


@account_metric(
    "arr",
    description="ARR: 12 × MRR on the report date, else accounts.arr (R36).",
    unit="currency",
    better="higher",
    needs=_MRR_NEEDS,
    windowed=False,
)
def account_arr_metric(ctx: Context) -> pd.Series:
    return account_arr(ctx)


@account_metric(
    "mrr_change",
    description="MRR on the report date − MRR on the day before the period.",
    unit="currency",
    better="higher",
    needs=("billing",),
)
def account_mrr_change(ctx: Context) -> pd.Series:
    if not _billing_mrr(ctx):
        return _unknown_per_account(ctx)
    start, end = _start_end(ctx)
    return _per_account(ctx, end - start)


@account_metric(
    "mrr_change_pct",
    description="MRR change over the period / MRR the day before it (null from 0).",
    unit="ratio",
    better="higher",
    needs=("billing",),
)
def account_mrr_change_pct(ctx: Context) -> pd.Series:
    if not _billing_mrr(ctx):
        return _unknown_per_account(ctx)
    start, end = _start_end(ctx)
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(_pos(start), (end - start) / np.where(_pos(start), start, 1.0), np.nan)
    return _per_account(ctx, pct, fill=None)


@account_metric(
    "late_payments",
    description="Billing rows due in the period and paid late or unpaid past due.",
    unit="count",
    better="lower",
    needs=_LATE_NEEDS,
)
def account_late_payments(ctx: Context) -> pd.Series:
    rows = _late_rows(ctx)
    counts = rows.groupby("account_id", sort=False)["late"].sum().astype("float64")
    idx = _account_index(ctx, steps(ctx).accounts)
    return counts.reindex(idx, fill_value=0.0).rename_axis("account_id")


@account_metric(
    "late_payment_rate",
    description="Share of the account's rows due in the period that were late.",
    unit="ratio",
    better="lower",
    needs=_LATE_NEEDS,
)
def account_late_payment_rate(ctx: Context) -> pd.Series:
    rows = _late_rows(ctx)
    rate = rows.groupby("account_id", sort=False)["late"].mean().astype("float64")
    idx = _account_index(ctx, steps(ctx).accounts)
    return rate.reindex(idx).rename_axis("account_id")


@account_metric(
    "days_since_last_payment",
    description="Days from the last payment on or before the report date.",
    unit="days",
    better="lower",
    needs=("billing.paid_at",),
    windowed=False,
)
def account_days_since_last_payment(ctx: Context) -> pd.Series:
    nb = normalised(ctx)
    paid = nb.loc[
        ~nb["void"].to_numpy() & (nb["paid_at"] < ctx.window.end_exclusive).to_numpy(),
        ["account_id", "paid_at"],
    ]
    last = paid.groupby("account_id", sort=False)["paid_at"].max()
    days = ((ctx.R - last.dt.normalize()).dt.days).astype("float64")
    idx = _account_index(ctx, steps(ctx).accounts)
    return days.reindex(idx).rename_axis("account_id")
