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
cumulative table gives the business time from the first day to the start of
each day; a timestamp adds the clipped parts of its own day's intervals.
business time between a and b = F(b) − F(a). There is no loop per ticket,
only one per interval slot of a day (a handful).
"""

from __future__ import annotations

import datetime as dt
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


def _err(key: str, message: str) -> ConfigError:
    return ConfigError(f"{key}: {message}", [Issue("bad-config", message, level="error", key=key)])


def _parse_time(value: Any, key: str) -> int:
    """'HH:MM' → minutes since local midnight (0..1440)."""
    if isinstance(value, bool) or not isinstance(value, str):
        hint = ""
        if isinstance(value, int):
            # YAML 1.1 reads an unquoted 17:00 as the number 1020 (base 60)
            hint = " (YAML reads an unquoted 17:00 as a number: quote times, e.g. \"17:00\")"
        raise _err(key, f"expected a time as a quoted \"HH:MM\" string, got {value!r}{hint}")
    m = _TIME.match(value)
    if not m:
        raise _err(key, f"expected a time \"HH:MM\", got {value!r}")
    h, mi = int(m.group(1)), int(m.group(2))
    if mi >= 60 or h > 24 or (h == 24 and mi):
        raise _err(key, f"not a time of day: {value!r}")
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
    def from_config(cls, cfg: dict[str, Any] | None) -> "BusinessCalendar | None":
        """`support.business_hours` → calendar; None when not configured."""
        if cfg is None:
            return None
        if not isinstance(cfg, dict):
            raise _err(KEY, f"expected a mapping with timezone, hours, holidays; got {cfg!r}")
        unknown = set(cfg) - {"timezone", "hours", "holidays"}
        if unknown:
            raise _err(f"{KEY}.{sorted(unknown)[0]}",
                       "unknown key; valid keys are timezone, hours, holidays")
        tz = cfg.get("timezone") or "UTC"
        try:
            ZoneInfo(str(tz))
        except (ZoneInfoNotFoundError, ValueError):
            raise _err(f"{KEY}.timezone", f"unknown time zone {tz!r} (expected an IANA name "
                       "like Europe/Berlin)") from None
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
            for (a1, b1), (a2, _) in zip(ivs, ivs[1:]):
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

    def _table(self, first: pd.Timestamp, last: pd.Timestamp) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For local days first..last: interval starts/ends (UTC ns, shape D×K) and
        the cumulative business ns before each day (shape D+1)."""
        days = pd.date_range(first, last, freq="D")
        n = len(days)
        k_max = max(len(w) for w in self.week)
        wd = days.day_of_week.to_numpy()
        is_hol = np.asarray(days.normalize().isin(pd.DatetimeIndex(sorted(self.holidays)))) \
            if self.holidays else np.zeros(n, bool)
        starts = np.zeros((n, k_max), dtype="int64")
        ends = np.zeros((n, k_max), dtype="int64")
        base = days.as_unit("ns").asi8
        for k in range(k_max):
            a = np.array([w[k][0] if k < len(w) else 0 for w in self.week], dtype="int64")[wd]
            b = np.array([w[k][1] if k < len(w) else 0 for w in self.week], dtype="int64")[wd]
            a_utc = self._to_utc(base + a * _NS_PER_MIN, first=True)
            b_utc = self._to_utc(base + b * _NS_PER_MIN, first=False)
            b_utc = np.maximum(b_utc, a_utc)
            empty = is_hol | (a == b)
            b_utc = np.where(empty, a_utc, b_utc)
            starts[:, k], ends[:, k] = a_utc, b_utc
        per_day = (ends - starts).sum(axis=1)
        cum = np.concatenate([[0], np.cumsum(per_day)])
        return starts, ends, cum

    def _to_utc(self, wall_ns: np.ndarray, *, first: bool) -> np.ndarray:
        """Local wall times → UTC ns. A time skipped by DST moves forward to the
        switch; a repeated time takes its first occurrence for a start and its
        second for an end (the interval covers the whole repeated hour)."""
        idx = pd.DatetimeIndex(wall_ns.astype("datetime64[ns]"))
        amb = np.full(len(idx), first)
        loc = idx.tz_localize(self.timezone, ambiguous=amb, nonexistent="shift_forward")
        return loc.tz_convert("UTC").tz_localize(None).as_unit("ns").asi8

    def _local_day_ns(self, utc_ns: np.ndarray) -> np.ndarray:
        idx = pd.DatetimeIndex(utc_ns.astype("datetime64[ns]")).tz_localize("UTC")
        wall = idx.tz_convert(self.timezone).tz_localize(None).as_unit("ns").asi8
        return wall - np.mod(wall, _NS_PER_DAY)

    def _cumulative(self, utc_ns: np.ndarray, day0: int, starts, ends, cum) -> np.ndarray:
        """F(t): business ns from the first table day to t."""
        di = ((self._local_day_ns(utc_ns) - day0) // _NS_PER_DAY).astype("int64")
        out = cum[di].copy()
        for k in range(starts.shape[1]):
            s, e = starts[di, k], ends[di, k]
            out += np.clip(utc_ns - s, 0, e - s)
        return out

    def business_minutes(self, start: pd.Series, end: pd.Series) -> pd.Series:
        """Minutes inside the schedule between two naive-UTC timestamp Series
        (aligned by position). NA when either is missing or end < start."""
        start = pd.Series(start)
        s_ns = pd.to_datetime(start).astype("datetime64[ns]").to_numpy()
        e_ns = pd.to_datetime(pd.Series(end)).astype("datetime64[ns]").to_numpy()
        ok = ~(np.isnat(s_ns) | np.isnat(e_ns))
        ok[ok] = e_ns[ok] >= s_ns[ok]
        result = np.full(len(s_ns), np.nan)
        if ok.any():
            si, ei = s_ns[ok].view("int64"), e_ns[ok].view("int64")
            lo = min(si.min(), ei.min())
            hi = max(si.max(), ei.max())
            day_lo = int(self._local_day_ns(np.array([lo]))[0])
            day_hi = int(self._local_day_ns(np.array([hi]))[0])
            starts, ends, cum = self._table(pd.Timestamp(day_lo), pd.Timestamp(day_hi))
            f_s = self._cumulative(si, day_lo, starts, ends, cum)
            f_e = self._cumulative(ei, day_lo, starts, ends, cum)
            result[ok] = (f_e - f_s) / _NS_PER_MIN
        return pd.Series(result, index=start.index, dtype="float64")
