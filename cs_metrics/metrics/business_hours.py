"""Business hours: count only the minutes inside a weekly schedule (SPEC §3 support).

Config (``support.business_hours``)::

    timezone: Europe/Berlin            # IANA name; default UTC
    hours:                             # per weekday; absent/null/[] = closed
      mon: ["09:00", "17:00"]          # one interval
      tue: [["09:00", "12:00"], ["13:00", "17:00"]]   # several intervals
      sat: ["22:00", "06:00"]          # end <= start: runs overnight into the next day
    holidays: [2026-12-25, "2026-12-26"]

Times are wall-clock times in `timezone`; "24:00" is the end of the day.
Ticket timestamps are naive UTC.

How it is vectorised: every local day in the data's range gets its schedule
intervals as UTC instants (so a DST change is exact: 09:00–17:00 is always
8 hours, and a 24-hour schedule is 23 or 25 hours on a switch day). A
sorted array of interval bounds with the business time elapsed at each bound
gives F(t) (business time since the first bound) with one binary search:
inside an interval add t − its start. Business time between a and b is
F(b) − F(a). No loop per ticket; the only loop is over interval slots per day.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from cs_metrics.errors import ConfigError, Issue

KEY = "support.business_hours"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_ALIASES = {
    **{d: i for i, d in enumerate(WEEKDAYS)},
    **{d: i for i, d in enumerate(
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))},
    "tues": 1, "wednes": 2, "thur": 3, "thurs": 3,
}
_TIME = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::00)?\s*$")
_NS_PER_MIN = 60_000_000_000
_NS_PER_DAY = 86_400_000_000_000


def _err(key: str, message: str, code: str = "bad-value") -> ConfigError:
    """Same issue codes as the config validator (bad-time, bad-timezone, bad-value)."""
    return ConfigError(f"{key}: {message}", [Issue(code, message, level="error", key=key)])


def _parse_time(value: Any, key: str) -> int:
    """'HH:MM' → minutes since local midnight (0..1440)."""
    if isinstance(value, bool) or not isinstance(value, str):
        hint = ""
        if isinstance(value, int):
            # YAML 1.1 reads an unquoted 17:00 as the number 1020 (base 60)
            hint = " (YAML reads an unquoted 17:00 as a number: quote times, e.g. \"17:00\")"
        raise _err(key, f"expected a time as a quoted \"HH:MM\" string, got {value!r}{hint}", "bad-time")
    m = _TIME.match(value)
    if not m:
        raise _err(key, f"expected a time \"HH:MM\", got {value!r}", "bad-time")
    h, mi = int(m.group(1)), int(m.group(2))
    if mi >= 60 or h > 24 or (h == 24 and mi):
        raise _err(key, f"not a time of day: {value!r}", "bad-time")
    return h * 60 + mi


def _intervals(spec: Any, key: str) -> list[tuple[int, int]]:
    """A weekday's value → [(start_min, end_min)], end <= start meaning overnight."""
    if spec is None or spec == [] or spec is False:
        return []
    if not isinstance(spec, (list, tuple)):
        raise _err(key, f"expected [\"HH:MM\", \"HH:MM\"] or a list of such pairs, got {spec!r}")
    single = len(spec) == 2 and not isinstance(spec[0], (list, tuple))
    pairs = [spec] if single else list(spec)
    out = []
    for i, p in enumerate(pairs):
        k = key if single else f"{key}[{i}]"
        if not isinstance(p, (list, tuple)) or len(p) != 2:
            raise _err(k, f"expected a pair [\"HH:MM\", \"HH:MM\"], got {p!r}")
        a, b = _parse_time(p[0], k), _parse_time(p[1], k)
        if a == b:
            raise _err(k, f"an interval needs an end different from its start, got {p!r}")
        out.append((a, b))
    return out


def _parse_holiday(value: Any, key: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        ts = pd.Timestamp(str(value))
    except (ValueError, TypeError):
        ts = pd.NaT
    if pd.isna(ts):
        raise _err(key, f"expected a date YYYY-MM-DD, got {value!r}")
    return ts.date()


@dataclass(frozen=True)
class BusinessCalendar:
    """A weekly schedule in a time zone, minus holidays."""

    timezone: str
    # per weekday (0 = Monday): intervals (start_min, end_min) inside that local
    # day, end <= 1440; overnight intervals are already split across two days
    week: tuple[tuple[tuple[int, int], ...], ...]
    holidays: frozenset[dt.date]

    @classmethod
    def from_config(cls, cfg: dict[str, Any] | None) -> BusinessCalendar | None:
        """`support.business_hours` → calendar; None when not configured."""
        if cfg is None:
            return None
        if not isinstance(cfg, dict):
            raise _err(KEY, f"expected a mapping with timezone, hours, holidays; got {cfg!r}")
        unknown = set(cfg) - {"timezone", "hours", "holidays"}
        if unknown:
            raise _err(f"{KEY}.{min(unknown)}",
                       "unknown key; valid keys are timezone, hours, holidays")
        tz = cfg.get("timezone") or "UTC"
        try:
            ZoneInfo(str(tz))
        except (ZoneInfoNotFoundError, ValueError):
            raise _err(f"{KEY}.timezone", f"unknown time zone {tz!r} (expected an IANA name "
                       "like Europe/Berlin)", "bad-timezone") from None
        hours = cfg.get("hours")
        if not isinstance(hours, dict) or not hours:
            raise _err(f"{KEY}.hours", "expected a mapping weekday → [\"HH:MM\", \"HH:MM\"], "
                       f"e.g. {{mon: [\"09:00\", \"17:00\"]}}; got {hours!r}")
        week: list[list[tuple[int, int]]] = [[] for _ in range(7)]
        for day, spec in hours.items():
            dkey = f"{KEY}.hours.{day}"
            d = _DAY_ALIASES.get(str(day).strip().lower())
            if d is None:
                raise _err(dkey, f"unknown weekday {day!r}; use {', '.join(WEEKDAYS)}")
            for a, b in _intervals(spec, dkey):
                if b > a:
                    week[d].append((a, b))
                else:  # overnight: the rest of this day, then the next day's morning
                    if a < 1440:
                        week[d].append((a, 1440))
                    if b > 0:
                        week[(d + 1) % 7].append((0, b))
        for d, ivs in enumerate(week):
            ivs.sort()
            for (a1, b1), (a2, _) in itertools.pairwise(ivs):
                if a2 < b1:
                    raise _err(f"{KEY}.hours.{WEEKDAYS[d]}", "intervals overlap")
        hol = cfg.get("holidays") or []
        if not isinstance(hol, (list, tuple)):
            raise _err(f"{KEY}.holidays", f"expected a list of dates, got {hol!r}")
        holidays = frozenset(_parse_holiday(v, f"{KEY}.holidays[{i}]") for i, v in enumerate(hol))
        if not any(week):
            raise _err(f"{KEY}.hours", "no business hours on any weekday")
        return cls(str(tz), tuple(tuple(w) for w in week), holidays)

    # -- the vectorised part -------------------------------------------------

    def _bounds(self, first: pd.Timestamp, last: pd.Timestamp) -> tuple[np.ndarray, np.ndarray]:
        """Every schedule interval of local days first..last as sorted UTC instants
        [s0, e0, s1, e1, ...] (ns) and the business ns elapsed at each of them."""
        days = pd.date_range(first, last, freq="D")
        wd = days.day_of_week.to_numpy()
        hol = np.asarray(days.isin(pd.DatetimeIndex(sorted(self.holidays)))) \
            if self.holidays else np.zeros(len(days), bool)
        base = days.as_unit("ns").asi8
        starts, ends = [], []
        for k in range(max(len(w) for w in self.week)):
            a = np.array([w[k][0] if k < len(w) else 0 for w in self.week], dtype="int64")[wd]
            b = np.array([w[k][1] if k < len(w) else 0 for w in self.week], dtype="int64")[wd]
            keep = ~hol & (b > a)
            starts.append(self._to_utc(base[keep] + a[keep] * _NS_PER_MIN, first=True))
            ends.append(self._to_utc(base[keep] + b[keep] * _NS_PER_MIN, first=False))
        s, e = np.concatenate(starts), np.concatenate(ends)
        order = np.argsort(s, kind="stable")
        s, e = s[order], e[order]
        if len(s):
            # adjacent intervals meeting at a repeated (DST) wall time must not overlap
            prev_end = np.maximum.accumulate(np.concatenate([[s[0]], e[:-1]]))
            s = np.maximum(s, prev_end)
            e = np.maximum(e, s)
        bounds = np.empty(2 * len(s), dtype="int64")
        bounds[0::2], bounds[1::2] = s, e
        cum = np.zeros(2 * len(s), dtype="int64")
        done = np.concatenate([[0], np.cumsum(e - s)])
        cum[0::2], cum[1::2] = done[:-1], done[1:]
        return bounds, cum

    def _to_utc(self, wall_ns: np.ndarray, *, first: bool) -> np.ndarray:
        """Local wall times → UTC ns. A time skipped by DST moves forward to the
        switch; a repeated time takes its first occurrence for a start and its
        second for an end (the interval covers the whole repeated hour)."""
        idx = pd.DatetimeIndex(wall_ns.astype("datetime64[ns]"))
        amb = np.full(len(idx), first)
        loc = idx.tz_localize(self.timezone, ambiguous=amb, nonexistent="shift_forward")
        return loc.tz_convert("UTC").tz_localize(None).as_unit("ns").asi8

    def _local_day(self, utc_ns: int) -> pd.Timestamp:
        ts = pd.Timestamp(utc_ns, unit="ns", tz="UTC").tz_convert(self.timezone)
        return pd.Timestamp(ts.tz_localize(None).normalize())

    @staticmethod
    def _cumulative(t: np.ndarray, bounds: np.ndarray, cum: np.ndarray) -> np.ndarray:
        """F(t): business ns from the first bound to t (one binary search per value)."""
        j = np.searchsorted(bounds, t, side="right") - 1
        jc = np.maximum(j, 0)
        out = cum[jc]
        inside = (j & 1) == 0  # after an interval's start, before its end (j ≥ 0)
        out[inside] += t[inside] - bounds[jc[inside]]
        out[j < 0] = 0
        return out

    def business_minutes_many(self, start: pd.Series, *ends: pd.Series) -> list[pd.Series]:
        """business_minutes(start, end) for several ends, sharing the work on start."""
        start = pd.Series(start)
        s_ns = pd.to_datetime(start).astype("datetime64[ns]").to_numpy().view("int64")
        s_nat = np.isnat(s_ns.view("datetime64[ns]"))
        e_all = [pd.to_datetime(pd.Series(e)).astype("datetime64[ns]").to_numpy().view("int64")
                 for e in ends]
        oks = []
        for e_ns in e_all:
            ok = ~(s_nat | np.isnat(e_ns.view("datetime64[ns]")))
            ok[ok] = e_ns[ok] >= s_ns[ok]
            oks.append(ok)
        any_ok = np.logical_or.reduce(oks) if oks else np.zeros(len(s_ns), bool)
        results = [np.full(len(s_ns), np.nan) for _ in ends]
        if any_ok.any():
            lo = int(s_ns[any_ok].min())
            hi = max(int(e[ok].max()) for e, ok in zip(e_all, oks) if ok.any())
            first = self._local_day(lo) - pd.Timedelta(days=1)
            last = self._local_day(hi) + pd.Timedelta(days=1)
            bounds, cum = self._bounds(first, last)
            if len(bounds) == 0:
                for r, ok in zip(results, oks):
                    r[ok] = 0.0
            else:
                f_start = self._cumulative(s_ns[any_ok], bounds, cum)
                where = np.cumsum(any_ok) - 1  # position of a row inside f_start
                for r, e_ns, ok in zip(results, e_all, oks):
                    f_end = self._cumulative(e_ns[ok], bounds, cum)
                    r[ok] = (f_end - f_start[where[ok]]) / _NS_PER_MIN
        return [pd.Series(r, index=start.index, dtype="float64") for r in results]

    def business_minutes(self, start: pd.Series, end: pd.Series) -> pd.Series:
        """Minutes inside the schedule between two naive-UTC timestamp Series
        (aligned by position). NA when either is missing or end < start."""
        return self.business_minutes_many(start, end)[0]
