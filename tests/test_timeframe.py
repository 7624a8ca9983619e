"""SPEC §2 windows and R14-R16 time rules, hand-computed."""

from datetime import date

import pandas as pd
import pytest

from cs_metrics.errors import UsageError
from cs_metrics.timeframe import (
    default_as_of,
    month_ends,
    months_in,
    parse_period,
    previous_window,
    to_day,
    trend_windows,
    window_for,
    windows,
)

T = pd.Timestamp


def test_month_window_is_month_to_date_and_previous_is_whole_month():
    w, p = windows(T("2026-09-17"), "month")
    assert (w.start, w.end) == (T("2026-09-01"), T("2026-09-17"))
    assert (p.start, p.end) == (T("2026-08-01"), T("2026-08-31"))
    assert w.days == 17 and p.days == 31


def test_quarter_and_year_windows():
    w, p = windows(T("2026-05-10"), "quarter")
    assert (w.start, w.end) == (T("2026-04-01"), T("2026-05-10"))
    assert (p.start, p.end) == (T("2026-01-01"), T("2026-03-31"))
    w, p = windows(T("2026-01-01"), "year")
    assert (w.start, w.end) == (T("2026-01-01"), T("2026-01-01"))
    assert (p.start, p.end) == (T("2025-01-01"), T("2025-12-31"))


def test_nd_window_and_previous_n_days():
    w, p = windows(T("2026-10-31"), "30d")
    assert (w.start, w.end) == (T("2026-10-02"), T("2026-10-31"))  # 30 days inclusive
    assert (p.start, p.end) == (T("2026-09-02"), T("2026-10-01"))
    assert w.days == p.days == 30


def test_contains_first_and_last_day_inclusive():
    w = window_for(T("2026-10-31"), "month")
    ts = pd.Series(pd.to_datetime(["2026-09-30 23:59:59", "2026-10-01 00:00:00", "2026-10-31 23:59:59",
                                   "2026-11-01 00:00:00"]))
    assert w.contains(ts).tolist() == [False, True, True, False]


def test_months_in_r15_month_to_date_is_fraction_of_month():
    # 17 days of September (30 days) = 17/30
    assert months_in(window_for(T("2026-09-17"), "month")) == pytest.approx(17 / 30)
    # a whole quarter = 3 months
    assert months_in(previous_window(window_for(T("2026-05-10"), "quarter"))) == pytest.approx(3)
    # 30d ending 2026-10-31 is Oct 2..31: 30 of October's 31 days
    assert months_in(window_for(T("2026-10-31"), "30d")) == pytest.approx(30 / 31)
    # 30d ending 2026-10-15 is Sep 16..Oct 15: 15/30 of September + 15/31 of October
    assert months_in(window_for(T("2026-10-15"), "30d")) == pytest.approx(15 / 30 + 15 / 31)


def test_month_ends_inside_window():
    assert month_ends(window_for(T("2026-10-17"), "month")) == [T("2026-10-17")]
    assert month_ends(window_for(T("2026-10-31"), "month")) == [T("2026-10-31")]
    assert month_ends(window_for(T("2026-08-15"), "quarter")) == [T("2026-07-31"), T("2026-08-15")]
    # R16: Nd periods have one step, W's last day
    assert month_ends(window_for(T("2026-10-31"), "90d")) == [T("2026-10-31")]


def test_trend_windows_oldest_first_ending_with_w():
    ws = trend_windows(T("2026-10-17"), "month", 3)
    assert [(w.start.date().isoformat(), w.end.date().isoformat()) for w in ws] == [
        ("2026-08-01", "2026-08-31"), ("2026-09-01", "2026-09-30"), ("2026-10-01", "2026-10-17")]


def test_default_as_of_clamped_to_today():
    assert default_as_of(T("2031-01-01"), date(2026, 11, 22)) == T("2026-11-22")
    assert default_as_of(T("2026-10-31 15:00"), date(2026, 11, 22)) == T("2026-10-31")
    assert default_as_of(None, date(2026, 11, 22)) == T("2026-11-22")


@pytest.mark.parametrize("bad", ["week", "0d", "-3d", "d", ""])
def test_bad_periods_are_usage_errors(bad):
    with pytest.raises(UsageError):
        parse_period(bad)


def test_as_of_parsing():
    assert to_day("today", date(2026, 11, 22)) == T("2026-11-22")
    assert to_day("2026-10-31") == T("2026-10-31")
    with pytest.raises(UsageError):
        to_day("31/31/2026")
