"""Time windows of SPEC §2: as_of, the reporting window W and the previous window P.

All dates are naive pandas Timestamps at midnight (UTC dates). A window's
`end` is inclusive (a day); `end_exclusive` is the midnight after it, which is
what timestamp comparisons use: ``start <= ts < end_exclusive``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import pandas as pd

from cs_metrics.errors import UsageError

CALENDAR_PERIODS = ("month", "quarter", "year")
_ND = re.compile(r"^\s*(\d+)\s*d\s*$", re.I)

# Event columns per dataset: they define the default as_of (SPEC §2) and are
# the only columns checked for "in the future" (R5).
EVENT_COLUMNS: dict[str, tuple[str, ...]] = {
    "tickets": ("created_at", "first_response_at", "resolved_at", "closed_at"),
    "surveys": ("submitted_at", "sent_at"),
    "billing": ("issued_at", "paid_at"),
    "usage": ("timestamp",),
    "accounts": ("created_at", "churned_at", "onboarded_at", "first_value_at"),
}


@dataclass(frozen=True)
class Window:
    start: pd.Timestamp
    end: pd.Timestamp  # inclusive day
    period: str  # month | quarter | year | Nd

    @property
    def end_exclusive(self) -> pd.Timestamp:
        return self.end + pd.Timedelta(days=1)

    @property
    def day_before(self) -> pd.Timestamp:
        """The day before W: 'MRR at the start of W' is MRR on this day (R21)."""
        return self.start - pd.Timedelta(days=1)

    @property
    def days(self) -> int:
        return int((self.end - self.start).days) + 1

    def contains(self, ts: pd.Series) -> pd.Series:
        """Vectorised: which timestamps fall on a day inside the window."""
        return (ts >= self.start) & (ts < self.end_exclusive)

    def to_dict(self) -> dict[str, str]:
        return {
            "start": self.start.date().isoformat(),
            "end": self.end.date().isoformat(),
            "period": self.period,
        }


def parse_period(period: str) -> str:
    """Validate a --period value; returns 'month'|'quarter'|'year'|'<N>d'."""
    p = str(period).strip().lower()
    if p in CALENDAR_PERIODS:
        return p
    m = _ND.match(p)
    if m and int(m.group(1)) > 0:
        return f"{int(m.group(1))}d"
    raise UsageError(
        f"invalid period {period!r}: expected month, quarter, year or a number of days like 30d"
    )


def to_day(value: str | date | pd.Timestamp, today: date | None = None) -> pd.Timestamp:
    """Parse --as-of: an ISO date or 'today'."""
    if isinstance(value, str):
        v = value.strip().lower()
        if v == "today":
            return pd.Timestamp(today or date.today())
        try:
            ts = pd.Timestamp(v)
        except (ValueError, TypeError):
            raise UsageError(f"invalid --as-of {value!r}: expected YYYY-MM-DD or 'today'") from None
        if ts is pd.NaT:
            raise UsageError(f"invalid --as-of {value!r}: expected YYYY-MM-DD or 'today'")
        return ts.tz_localize(None).normalize() if ts.tzinfo else ts.normalize()
    return pd.Timestamp(value).normalize()


def _period_start(day: pd.Timestamp, period: str) -> pd.Timestamp:
    if period == "month":
        return day.replace(day=1)
    if period == "quarter":
        return day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)
    if period == "year":
        return day.replace(month=1, day=1)
    raise ValueError(period)


def window_for(as_of: pd.Timestamp, period: str) -> Window:
    """W: the calendar period containing as_of, from its first day to as_of (or N days)."""
    as_of = pd.Timestamp(as_of).normalize()
    period = parse_period(period)
    if period in CALENDAR_PERIODS:
        return Window(_period_start(as_of, period), as_of, period)
    n = int(period[:-1])
    return Window(as_of - pd.Timedelta(days=n - 1), as_of, period)


def previous_window(w: Window) -> Window:
    """P: the whole calendar period before W (Nd: the N days before)."""
    if w.period in CALENDAR_PERIODS:
        end = w.start - pd.Timedelta(days=1)
        return Window(_period_start(end, w.period), end, w.period)
    n = int(w.period[:-1])
    end = w.start - pd.Timedelta(days=1)
    return Window(end - pd.Timedelta(days=n - 1), end, w.period)


def windows(as_of: pd.Timestamp, period: str = "month") -> tuple[Window, Window]:
    w = window_for(as_of, period)
    return w, previous_window(w)


def trend_windows(as_of: pd.Timestamp, period: str, n: int) -> list[Window]:
    """The last n windows, oldest first, ending with W (which may be partial)."""
    w = window_for(as_of, period)
    out = [w]
    for _ in range(max(n, 1) - 1):
        out.append(previous_window(out[-1]))
    return out[::-1]


def months_in(w: Window) -> float:
    """R15: Σ over calendar months W touches of days of W in the month / days in the month."""
    total = 0.0
    cur = w.start
    while cur <= w.end:
        month_end = cur + pd.offsets.MonthEnd(0)
        seg_end = min(month_end, w.end)
        total += ((seg_end - cur).days + 1) / month_end.days_in_month
        cur = seg_end + pd.Timedelta(days=1)
    return total


def month_ends(w: Window) -> list[pd.Timestamp]:
    """Month-end steps inside W: each calendar month-end in W, and W's last day.

    MRR movements (SPEC §3) sum each account's change between consecutive
    steps, starting from the day before W. For Nd periods (R16) there is one
    step: the day before W → W's last day.
    """
    if w.period not in CALENDAR_PERIODS:
        return [w.end]
    ends = list(pd.date_range(w.start, w.end, freq="ME"))
    if not ends or ends[-1] != w.end:
        ends.append(w.end)
    return ends


def default_as_of(latest_event: pd.Timestamp | None, today: date | None = None) -> pd.Timestamp:
    """Latest event date in the data, clamped to today (SPEC §2)."""
    t = pd.Timestamp(today or date.today()).normalize()
    if latest_event is None or pd.isna(latest_event):
        return t
    return min(pd.Timestamp(latest_event).normalize(), t)


def latest_event(bundle) -> pd.Timestamp | None:
    """Latest event timestamp over the R5 event columns of a Bundle."""
    best = None
    for name, cols in EVENT_COLUMNS.items():
        df = bundle.frame(name)
        if df is None:
            continue
        for c in cols:
            if c in df.columns:
                m = df[c].max()
                if pd.notna(m) and (best is None or m > best):
                    best = m
    return best
