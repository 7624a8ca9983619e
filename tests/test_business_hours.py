"""Business-hours calendar: DST, overnight shifts, weekends, holidays, config errors.

Hand-computed cases first; then a hypothesis check against a brute-force
oracle that walks minute by minute in local time.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cs_metrics.errors import ConfigError
from cs_metrics.metrics.business_hours import BusinessCalendar

WEEK = ("mon", "tue", "wed", "thu", "fri")


def cal(hours=None, tz="Europe/Berlin", holidays=()):
    hours = hours if hours is not None else {d: ["09:00", "17:00"] for d in WEEK}
    return BusinessCalendar.from_config({"timezone": tz, "hours": hours, "holidays": list(holidays)})


def bm(c, starts, ends):
    s = pd.Series(pd.to_datetime(pd.Series(starts, dtype="object")), dtype="datetime64[us]")
    e = pd.Series(pd.to_datetime(pd.Series(ends, dtype="object")), dtype="datetime64[us]")
    return c.business_minutes(s, e).tolist()


def test_utc_same_day_and_outside_hours():
    c = cal(tz="UTC")
    # Wed 2026-10-07: 10:00 → 12:30 = 150; 07:00 → 10:00 = 60 (from 09:00);
    # 18:00 → 20:00 after hours = 0; 16:00 → next day 10:00 = 60 + 60
    assert bm(c, ["2026-10-07 10:00", "2026-10-07 07:00", "2026-10-07 18:00", "2026-10-07 16:00"],
              ["2026-10-07 12:30", "2026-10-07 10:00", "2026-10-07 20:00", "2026-10-08 10:00"]) \
        == [150.0, 60.0, 0.0, 120.0]


def test_weekend_and_holiday():
    c = cal(tz="UTC", holidays=["2026-10-12"])
    # Fri Oct 9 16:00 → Tue Oct 13 10:00: Fri 60, Sat/Sun 0, Mon holiday 0, Tue 60 = 120
    # Sat 10:00 → Sun 15:00: 0
    assert bm(c, ["2026-10-09 16:00", "2026-10-10 10:00"],
              ["2026-10-13 10:00", "2026-10-11 15:00"]) == [120.0, 0.0]


def test_start_after_hours_and_end_before_start_and_missing():
    c = cal(tz="UTC")
    # Wed 20:00 → Thu 09:30 = 30; end before start → NA; missing → NA; equal → 0
    out = bm(c, ["2026-10-07 20:00", "2026-10-08 12:00", None, "2026-10-07 10:00"],
             ["2026-10-08 09:30", "2026-10-08 11:00", "2026-10-08 11:00", "2026-10-07 10:00"])
    assert out[0] == 30.0 and np.isnan(out[1]) and np.isnan(out[2]) and out[3] == 0.0


def test_several_intervals_per_day():
    c = cal({"mon": [["09:00", "12:00"], ["13:00", "17:00"]]}, tz="UTC")
    # Mon 2026-10-05 11:00 → 14:00: 11–12 (60) + lunch 0 + 13–14 (60) = 120
    assert bm(c, ["2026-10-05 11:00"], ["2026-10-05 14:00"]) == [120.0]
    # whole Monday = 3 h + 4 h
    assert bm(c, ["2026-10-05 00:00"], ["2026-10-06 00:00"]) == [420.0]


def test_overnight_shift():
    # Mon 22:00 → Tue 06:00 (the end <= start means it runs past midnight)
    c = cal({"mon": ["22:00", "06:00"]}, tz="UTC")
    # Mon 2026-10-05 23:00 → Tue 05:00 = 6 h; Tue 05:00 → 08:00 = 1 h (until 06:00);
    # Tue 22:00 → Wed 06:00 = 0 (Tuesday has no shift)
    assert bm(c, ["2026-10-05 23:00", "2026-10-06 05:00", "2026-10-06 22:00"],
              ["2026-10-06 05:00", "2026-10-06 08:00", "2026-10-07 06:00"]) == [360.0, 60.0, 0.0]


def test_ticket_spanning_a_night_in_berlin():
    c = cal()
    # Berlin CEST (UTC+2) in October before the 25th. Tue Oct 6 14:00 UTC = 16:00 local →
    # Wed Oct 7 08:00 UTC = 10:00 local: 1 h + 1 h = 120
    assert bm(c, ["2026-10-06 14:00"], ["2026-10-07 08:00"]) == [120.0]


def test_dst_spring_forward_berlin():
    # 2026-03-29 (Sun): 02:00 → 03:00 local. Fri Mar 27 is CET (UTC+1), Mon Mar 30 CEST (UTC+2).
    c = cal()
    # Fri 15:00 UTC = 16:00 local → Mon 08:00 UTC = 10:00 local: Fri 60 + Mon 60 = 120
    # Mon 07:00 UTC = 09:00 local → 15:00 UTC = 17:00 local = 480 (the whole day, new offset)
    assert bm(c, ["2026-03-27 15:00", "2026-03-30 07:00"],
              ["2026-03-30 08:00", "2026-03-30 15:00"]) == [120.0, 480.0]
    # A 24/7 schedule counts real elapsed time: the day of the switch has 23 hours
    c24 = cal({d: ["00:00", "24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})
    # local Mar 29 00:00 = Mar 28 23:00 UTC → local Mar 30 00:00 = Mar 29 22:00 UTC: 23 h
    assert bm(c24, ["2026-03-28 23:00"], ["2026-03-29 22:00"]) == [23 * 60.0]


def test_dst_fall_back_berlin():
    # 2026-10-25 (Sun): 03:00 → 02:00 local. Mon Oct 26 is CET (UTC+1).
    c = cal()
    # Fri Oct 23 14:00 UTC = 16:00 CEST → Mon Oct 26 09:00 UTC = 10:00 CET: 60 + 60 = 120
    assert bm(c, ["2026-10-23 14:00"], ["2026-10-26 09:00"]) == [120.0]
    c24 = cal({d: ["00:00", "24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})
    # local Oct 25 00:00 = Oct 24 22:00 UTC → local Oct 26 00:00 = Oct 25 23:00 UTC: 25 h
    assert bm(c24, ["2026-10-24 22:00"], ["2026-10-25 23:00"]) == [25 * 60.0]
    # a schedule covering the repeated hour: 01:00–04:00 local on the switch day is 4 real hours
    night = cal({"sun": ["01:00", "04:00"]})
    assert bm(night, ["2026-10-24 12:00"], ["2026-10-25 12:00"]) == [240.0]
    # and the skipped hour in spring: 01:00–04:00 on Mar 29 is 2 real hours
    assert bm(night, ["2026-03-28 12:00"], ["2026-03-29 12:00"]) == [120.0]


def test_index_is_kept_and_dtype_float():
    c = cal(tz="UTC")
    s = pd.Series(pd.to_datetime(["2026-10-07 10:00"]), index=[42])
    e = pd.Series(pd.to_datetime(["2026-10-07 11:00"]), index=[42])
    out = c.business_minutes(s, e)
    assert out.index.tolist() == [42] and out.dtype == "float64" and out.iloc[0] == 60.0


def test_empty_and_all_missing():
    c = cal(tz="UTC")
    empty = pd.Series([], dtype="datetime64[us]")
    assert c.business_minutes(empty, empty).empty
    nat = pd.Series([pd.NaT], dtype="datetime64[us]")
    assert np.isnan(c.business_minutes(nat, nat).iloc[0])


def test_from_config_none_is_no_calendar():
    assert BusinessCalendar.from_config(None) is None


def test_holidays_as_date_objects_and_day_names():
    c = BusinessCalendar.from_config({"timezone": "UTC", "hours": {"Monday": ["09:00", "10:00"]},
                                      "holidays": [dt.date(2026, 10, 5)]})
    # Mon Oct 5 is a holiday, Mon Oct 12 counts 60
    assert bm(c, ["2026-10-05 00:00"], ["2026-10-13 00:00"]) == [60.0]


@pytest.mark.parametrize("cfg, key", [
    ({"timezone": "Mars/Olympus", "hours": {"mon": ["09:00", "17:00"]}}, "support.business_hours.timezone"),
    ({"hours": {"mon": [900, 1700]}}, "support.business_hours.hours.mon"),
    ({"hours": {"mon": ["09:00", 1020]}}, "support.business_hours.hours.mon"),
    ({"hours": {"mon": ["9am", "5pm"]}}, "support.business_hours.hours.mon"),
    ({"hours": {"funday": ["09:00", "17:00"]}}, "support.business_hours.hours.funday"),
    ({"hours": {"mon": [["09:00", "12:00"], ["11:00", "17:00"]]}}, "support.business_hours.hours.mon"),
    ({"hours": {"mon": [["09:00", "12:00"], ["13:00"]]}}, "support.business_hours.hours.mon[1]"),
    ({"hours": {}}, "support.business_hours.hours"),
    ({"hours": {"mon": ["09:00", "17:00"]}, "holidays": ["not a date"]},
     "support.business_hours.holidays[0]"),
    ({"hours": {"mon": ["09:00", "17:00"]}, "holidays": "2026-12-25"}, "support.business_hours.holidays"),
    ({"hours": {"mon": ["09:00", "17:00"]}, "tz": "UTC"}, "support.business_hours.tz"),
    ("weekdays 9-5", "support.business_hours"),
])
def test_config_errors_name_the_key(cfg, key):
    with pytest.raises(ConfigError) as e:
        BusinessCalendar.from_config(cfg)
    assert e.value.issues[0].key == key
    assert key in str(e.value)
    # the config validator's codes
    code = e.value.issues[0].code
    assert code == ("bad-timezone" if key.endswith("timezone") else
                    "bad-time" if "9am" in str(cfg) or "900" in str(cfg) or "1020" in str(cfg)
                    else "bad-value")


def test_unquoted_yaml_time_gets_a_hint():
    import yaml

    cfg = yaml.safe_load("hours: {mon: [09:00, 17:00]}")  # YAML reads 17:00 as 1020
    with pytest.raises(ConfigError, match="quote times"):
        BusinessCalendar.from_config(cfg)


# ---------------------------------------------------------------------------
# brute force oracle


def brute(c: BusinessCalendar, start: pd.Timestamp, end: pd.Timestamp) -> float:
    """Minutes in [start, end) whose local wall time is inside the schedule."""
    if end <= start:
        return 0.0
    minutes = pd.date_range(start, end, freq="min", inclusive="left").tz_localize("UTC")
    local = minutes.tz_convert(c.timezone).tz_localize(None)
    wd = local.day_of_week.to_numpy()
    mod = (local.hour * 60 + local.minute).to_numpy()
    hol = np.isin(local.normalize().date, list(c.holidays))
    inside = np.zeros(len(local), bool)
    for d, ivs in enumerate(c.week):
        for a, b in ivs:
            inside |= (wd == d) & (mod >= a) & (mod < b)
    return float((inside & ~hol).sum())


SCHEDULES = [
    {d: ["09:00", "17:00"] for d in WEEK},
    {"mon": [["08:30", "12:00"], ["13:15", "18:45"]], "sat": ["10:00", "14:00"],
     "sun": ["22:00", "02:30"]},
    {d: ["00:00", "24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
    {d: ["01:30", "03:30"] for d in ("sat", "sun")},
]
ZONES = ["Europe/Berlin", "America/New_York", "UTC", "Australia/Lord_Howe", "Asia/Kolkata"]
DST_DAYS = [pd.Timestamp("2026-03-27"), pd.Timestamp("2026-10-23"),
            pd.Timestamp("2026-03-06"), pd.Timestamp("2026-10-02")]


@settings(max_examples=60, deadline=None)
@given(
    sched=st.sampled_from(SCHEDULES),
    tz=st.sampled_from(ZONES),
    base=st.sampled_from(DST_DAYS),
    a=st.integers(0, 5 * 24 * 60),
    length=st.integers(0, 4 * 24 * 60),
    holiday=st.booleans(),
)
def test_matches_minute_by_minute_oracle(sched, tz, base, a, length, holiday):
    hol = [(base + pd.Timedelta(days=2)).date()] if holiday else []
    c = cal(sched, tz=tz, holidays=hol)
    start = base + pd.Timedelta(minutes=a)
    end = start + pd.Timedelta(minutes=length)
    got = c.business_minutes(pd.Series([start]), pd.Series([end])).iloc[0]
    assert got == pytest.approx(brute(c, start, end), abs=1e-9)


def test_additive_and_bounded_on_many_rows():
    c = cal()
    rng = np.random.default_rng(7)
    base = pd.Timestamp("2026-01-01").value
    a = base + rng.integers(0, 365 * 86_400, 20_000) * 1_000_000_000
    b = a + rng.integers(0, 10 * 86_400, 20_000) * 1_000_000_000
    m = a + (b - a) // 2
    A, B, M = (pd.Series(pd.to_datetime(x)) for x in (a, b, m))
    ab, am, mb = c.business_minutes(A, B), c.business_minutes(A, M), c.business_minutes(M, B)
    assert np.allclose(ab, am + mb)  # F(b) − F(a) splits at any midpoint
    assert (ab <= (B - A).dt.total_seconds() / 60 + 1e-9).all()  # never more than calendar time
    assert (ab >= 0).all()
