"""Per-account metrics read from accounts snapshot columns (health-score inputs).

These are snapshots on R: they use no event window, only R itself (days to
renewal, tenure). Every series is float, indexed by the accounts frame's
``account_id``; a value that is unknown is missing (NaN), never 0, so the
health model can reweight (SPEC §4 "Missing data").

`account_index` and `on_accounts` are also the helpers the survey and
adoption modules use to put their per-account series on the same index;
`accounts_number` reads a numeric accounts column.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cs_metrics.metrics.registry import Context, account_metric

_DAY = pd.Timedelta(days=1)

# csm_sentiment words → 0–100 (traffic-light ratings, as Gainsight's CSM
# sentiment uses them). Anything else that is not a number is unknown.
SENTIMENT_WORDS: dict[str, float] = {
    "green": 100.0,
    "yellow": 50.0,
    "amber": 50.0,
    "red": 0.0,
}


def account_index(ctx: Context, *frames: pd.DataFrame | None) -> pd.Index:
    """The accounts of this computation: the accounts frame's ids, else the
    distinct non-missing account ids of the given event frames (no accounts
    dataset ⇒ references are used as ids, R6)."""
    acc = ctx.frame("accounts")
    if acc is not None and "account_id" in acc.columns:
        return pd.Index(acc["account_id"], name="account_id")
    parts = [
        f["account_id"].dropna() for f in frames if f is not None and "account_id" in f.columns
    ]
    if not parts:
        return pd.Index([], dtype="str", name="account_id")
    ids = pd.concat(parts, ignore_index=True).drop_duplicates()
    return pd.Index(ids, name="account_id")


def on_accounts(values: pd.Series, index: pd.Index, fill: float | None = None) -> pd.Series:
    """Reindex a per-account series onto `index` as float; absent accounts get
    `fill` (a real 0 for counts) or stay missing."""
    out = values.astype("float64").reindex(index)
    if fill is not None:
        out = out.fillna(fill)
    out.index.name = "account_id"
    return out


def _accounts(ctx: Context) -> pd.DataFrame:
    acc = ctx.frame("accounts")
    assert acc is not None  # the engine checks `needs` first
    return acc


def _column(ctx: Context, col: str) -> pd.Series:
    acc = _accounts(ctx)
    s = pd.Series(acc[col].to_numpy(), index=pd.Index(acc["account_id"], name="account_id"))
    return s


def accounts_number(ctx: Context, col: str) -> pd.Series:
    """An accounts column as float by account_id; text that is not a number is missing."""
    return pd.to_numeric(_column(ctx, col), errors="coerce").astype("float64")


def _days_between(later: pd.Series, earlier: pd.Timestamp) -> pd.Series:
    """Whole calendar days from the day `earlier` to each date of `later`."""
    return ((pd.to_datetime(later).dt.normalize() - earlier.normalize()) / _DAY).astype("float64")


def sentiment_score(raw: pd.Series) -> pd.Series:
    """CSM sentiment → 0–100: red 0 / yellow 50 / green 100; a 1–5 rating →
    (x−1)/4×100; a 0–10 rating → 10x; anything else → missing.

    Numbers are read on one scale per column, decided from its values: 0–10
    when any rating is 0 or above 5, else 1–5 (so a column of 1s–5s is read
    as 1–5). Ratings off both scales are missing.
    """
    text = raw.astype("str").str.strip().str.lower()
    out = text.map(SENTIMENT_WORDS).astype("float64")
    num = pd.to_numeric(text, errors="coerce").astype("float64")
    on_ten = num.between(0, 10)
    ten_scale = bool((num[on_ten] < 1).any() or (num[on_ten] > 5).any())
    if ten_scale:
        scored = (num * 10.0).where(on_ten)
    else:
        scored = ((num - 1.0) / 4.0 * 100.0).where(num.between(1, 5))
    return out.fillna(scored)


@account_metric(
    "csm_sentiment",
    description="CSM's sentiment on 0–100: red 0, yellow 50, green 100; 1–5 → (x−1)/4×100; 0–10 → 10x",
    unit="score",
    better="higher",
    needs=("accounts.csm_sentiment",),
    windowed=False,
)
def csm_sentiment(ctx: Context) -> pd.Series:
    s = _column(ctx, "csm_sentiment")
    return on_accounts(sentiment_score(pd.Series(s.to_numpy(), index=s.index)), s.index)


@account_metric(
    "advocate",
    description="1 when the account is an advocate (reference, case study, review), 0 when not",
    unit="score",
    better="higher",
    needs=("accounts.advocate",),
    windowed=False,
)
def advocate(ctx: Context) -> pd.Series:
    s = _column(ctx, "advocate").astype("boolean")
    out = pd.Series(np.where(s.isna(), np.nan, s.fillna(False).astype("float64")), index=s.index)
    return on_accounts(out, s.index)


@account_metric(
    "goals_met_ratio",
    description="goals_met / goals_total; missing when the account has no goals",
    unit="ratio",
    better="higher",
    needs=("accounts.goals_total", "accounts.goals_met"),
    windowed=False,
)
def goals_met_ratio(ctx: Context) -> pd.Series:
    total = accounts_number(ctx, "goals_total")
    met = accounts_number(ctx, "goals_met")
    return on_accounts((met / total).where(total > 0), total.index)


@account_metric(
    "days_to_renewal",
    description="calendar days from R to renewal_date (negative when the date has passed)",
    unit="days",
    better="none",
    needs=("accounts.renewal_date",),
    windowed=False,
)
def days_to_renewal(ctx: Context) -> pd.Series:
    d = _column(ctx, "renewal_date")
    return on_accounts(_days_between(pd.Series(pd.to_datetime(d), index=d.index), ctx.R), d.index)


@account_metric(
    "tenure_days",
    description="calendar days from created_at to R; missing for accounts created after R",
    unit="days",
    better="none",
    needs=("accounts.created_at",),
    windowed=False,
)
def tenure_days(ctx: Context) -> pd.Series:
    c = _column(ctx, "created_at")
    created = pd.Series(pd.to_datetime(c), index=c.index).dt.normalize()
    days = ((ctx.R.normalize() - created) / _DAY).astype("float64")
    return on_accounts(days.where(days >= 0), c.index)


@account_metric(
    "seats",
    description="licenses bought (snapshot column)",
    unit="count",
    better="none",
    needs=("accounts.seats",),
    windowed=False,
)
def seats(ctx: Context) -> pd.Series:
    s = accounts_number(ctx, "seats")
    return on_accounts(s, s.index)
