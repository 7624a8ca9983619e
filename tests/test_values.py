"""Value parsers: every supported form with hand-written expectations, the per-column
decisions (day/month order, decimal separator) and hypothesis round-trip properties."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cs_metrics.loading.values import (
    Parsed,
    duration_unit_from_header,
    extract_currency,
    is_blank,
    parse_bool,
    parse_category,
    parse_datetime,
    parse_duration,
    parse_id,
    parse_number,
    parse_text,
)

TS = pd.Timestamp


def col(*values: object) -> pd.Series:
    return pd.Series(list(values), dtype="object")


def stamps(p: Parsed) -> list[object]:
    """Parsed datetimes as Timestamps, None for missing."""
    return [None if pd.isna(v) else pd.Timestamp(v) for v in p.values]


# --------------------------------------------------------------------------- blanks


def test_is_blank_counts_whitespace_and_missing() -> None:
    s = col("a", "", "   ", None, np.nan, "\t", " b ")
    assert is_blank(s).tolist() == [False, True, True, True, True, True, False]


def test_empty_column_everywhere() -> None:
    empty = pd.Series([], dtype="str")
    for p in (
        parse_datetime(empty),
        parse_number(empty),
        parse_bool(empty),
        parse_duration(empty, "minutes"),
        parse_id(empty),
        parse_text(empty),
        parse_category(empty),
    ):
        assert len(p.values) == 0 and len(p.bad) == 0
    assert extract_currency(empty).tolist() == []


# --------------------------------------------------------------------------- dates: forms


def test_iso_forms_and_zones_to_naive_utc() -> None:
    p = parse_datetime(
        col(
            "2026-03-29T01:30:00+02:00",  # 01:30 at +02:00 is 23:30 UTC the day before
            "2026-03-29 10:00",
            "2026-03-29",
            "2026-03-29T01:30:00.123Z",
            "2026-03-29T01:30:00-05:00",  # minus five hours → add five: 06:30 UTC
            "2026-03-29T08:00:00+0530",  # 08:00 - 5:30 = 02:30 UTC
        )
    )
    assert p.values.dtype == "datetime64[ns]"
    assert stamps(p) == [
        TS("2026-03-28 23:30"),
        TS("2026-03-29 10:00"),
        TS("2026-03-29"),
        TS("2026-03-29 01:30:00.123"),
        TS("2026-03-29 06:30"),
        TS("2026-03-29 02:30"),
    ]
    assert not p.bad.any()


def test_blank_missing_and_junk() -> None:
    p = parse_datetime(col("2026-01-05", "", "  ", None, "not a date", "2026-13-01"))
    assert stamps(p) == [TS("2026-01-05"), None, None, None, None, None]
    assert p.bad.tolist() == [False, False, False, False, True, True]


def test_impossible_days_are_bad_not_rolled_over() -> None:
    # strptime alone would read 31/02/2026 as 3 March; 2024 is a leap year, 2025 not.
    p = parse_datetime(col("31/02/2026", "29/02/2024", "29/02/2025", "30/04/2026", "31/12/2026"))
    assert stamps(p) == [None, TS("2024-02-29"), None, TS("2026-04-30"), TS("2026-12-31")]
    assert p.bad.tolist() == [True, False, True, False, False]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("14/Jul/25 3:42 PM", TS("2025-07-14 15:42")),  # Jira: dd/MMM/yy h:mm a
        ("14/Jul/25 12:05 AM", TS("2025-07-14 00:05")),  # 12 AM is midnight
        ("02 Sep 2026", TS("2026-09-02")),  # Xero report
        ("Sep 2, 2026", TS("2026-09-02")),
        ("September 2, 2026", TS("2026-09-02")),
        ("2026-Sep-02", TS("2026-09-02")),
        ("3/5/2026, 2:15 PM", TS("2026-03-05 14:15")),  # Salesforce US locale
        ("6/21/2025 16:14", TS("2025-06-21 16:14")),  # Jira site locale
        ("06/21/2025 04:14:05 PM", TS("2025-06-21 16:14:05")),  # SurveyMonkey
        ("21.06.2025", TS("2025-06-21")),  # European Excel
        ("21-06-2025 16:14", TS("2025-06-21 16:14")),  # Excel re-save of Zendesk
        ("Thursday, October 08, 2026 09:12 AM GMT-04:00", TS("2026-10-08 13:12")),  # +4 h to UTC
        ("3/14/2026 2:15 p.m.", TS("2026-03-14 14:15")),
        ("6/21/2025 16:14:05.250 +02:00", TS("2025-06-21 14:14:05.250")),
        ("2024-06-07 02:38:54", TS("2024-06-07 02:38:54")),  # Stripe (UTC)
        ("2025-03-01 19:42:58.123000", TS("2025-03-01 19:42:58.123")),  # Amplitude
        ("Sept 2, 2026", TS("2026-09-02")),
    ],
)
def test_single_value_forms(text: str, expected: pd.Timestamp) -> None:
    # Each value alone is unambiguous (a day > 12, a month name, or year first).
    p = parse_datetime(col(text))
    assert stamps(p) == [expected], p.info
    assert not p.bad.any()


def test_two_digit_years_follow_posix_pivot() -> None:
    # %y: 00-68 → 20xx, 69-99 → 19xx.
    p = parse_datetime(col("25/12/25", "25/12/69", "25/12/68"))
    assert stamps(p) == [TS("2025-12-25"), TS("1969-12-25"), TS("2068-12-25")]


def test_dates_and_datetimes_mix_in_one_column() -> None:
    p = parse_datetime(col("2026-01-31", "2026-02-01 08:15:00", "31/01/2026"))
    # the third is a different form; still read (fallback pass), day-first by evidence (31)
    assert stamps(p) == [TS("2026-01-31"), TS("2026-02-01 08:15"), TS("2026-01-31")]
    assert not p.bad.any()


# --------------------------------------------------------------------------- dates: day/month


def test_day_first_decided_by_a_day_above_12() -> None:
    p = parse_datetime(col("14/03/2026", "3/5/2026", "01/02/2026 10:00"))
    assert stamps(p) == [TS("2026-03-14"), TS("2026-05-03"), TS("2026-02-01 10:00")]
    assert p.info["dayfirst"] is True and p.info["ambiguous"] is False and p.note is None


def test_month_first_decided_by_a_second_field_above_12() -> None:
    p = parse_datetime(col("3/14/2026", "3/5/2026"))
    assert stamps(p) == [TS("2026-03-14"), TS("2026-03-05")]
    assert p.info["dayfirst"] is False and p.info["ambiguous"] is False


def test_ambiguous_column_defaults_to_month_first_and_says_so() -> None:
    p = parse_datetime(col("3/5/2026", "4/6/2026"))
    assert stamps(p) == [TS("2026-03-05"), TS("2026-04-06")]
    assert p.info["ambiguous"] is True and p.info["dayfirst"] is False
    assert "month-first" in p.note and "ambiguous" in p.note


def test_ambiguous_column_day_first_when_file_uses_decimal_commas() -> None:
    p = parse_datetime(col("3/5/2026", "4/6/2026"), default_dayfirst=True)
    assert stamps(p) == [TS("2026-05-03"), TS("2026-06-04")]
    assert p.info["ambiguous"] is True and "day-first" in p.note and "decimal commas" in p.note


def test_config_dayfirst_overrides() -> None:
    p = parse_datetime(col("3/5/2026", "4/6/2026"), dayfirst=True, default_dayfirst=False)
    assert stamps(p) == [TS("2026-05-03"), TS("2026-06-04")]
    assert p.info["ambiguous"] is True and "config" in p.note and "day-first" in p.note
    # the config wins even against the values; those that contradict it are set aside
    p = parse_datetime(col("3/14/2026", "3/5/2026"), dayfirst=True)
    assert stamps(p) == [None, TS("2026-05-03")]
    assert p.bad.tolist() == [True, False] and "config" in p.note


def test_inconsistent_order_majority_wins_minority_is_bad() -> None:
    p = parse_datetime(col("13/5/2026", "5/13/2026", "14/5/2026", "1/2/2026"))
    # two values say day-first, one month-first → day-first; 1/2 read as 1 February
    assert stamps(p) == [TS("2026-05-13"), None, TS("2026-05-14"), TS("2026-02-01")]
    assert p.bad.tolist() == [False, True, False, False]
    assert "inconsistent" in p.note


def test_same_day_and_month_is_not_ambiguous() -> None:
    p = parse_datetime(col("01/01/2026", "02/02/2026"))
    assert stamps(p) == [TS("2026-01-01"), TS("2026-02-02")]
    assert p.info["ambiguous"] is False and p.note is None


def test_month_first_flip_keeps_the_time() -> None:
    # 3/4 has both readings; 3/25 proves month-first, so 3/4 is 4 March at 10:30
    p = parse_datetime(col("3/4/2026 10:30", "3/25/2026 23:59"))
    assert stamps(p) == [TS("2026-03-04 10:30"), TS("2026-03-25 23:59")]


def test_month_first_majority_read_first() -> None:
    # most values fail day-first, so month-first is tried first; 25/1 is the minority
    p = parse_datetime(col("3/14/2026", "3/15/2026", "3/16/2026", "1/2/2026", "25/1/2026"))
    assert stamps(p) == [
        TS("2026-03-14"),
        TS("2026-03-15"),
        TS("2026-03-16"),
        TS("2026-01-02"),
        None,
    ]
    assert p.info["dayfirst"] is False and p.bad.tolist() == [False] * 4 + [True]


def test_day_first_wins_after_a_month_first_pass() -> None:
    # junk makes most rows fail day-first, so month-first goes first; only 25/1 gives
    # evidence (day-first), so 1/2 must be flipped to 1 February
    p = parse_datetime(col("x1", "x2", "x3", "x4", "25/1/2026", "1/2/2026"))
    assert stamps(p) == [None] * 4 + [TS("2026-01-25"), TS("2026-02-01")]
    assert p.info["dayfirst"] is True


# --------------------------------------------------------------------------- dates: numbers


def test_excel_serials_1900_system() -> None:
    # 1900 system with the Lotus leap-year bug: origin 1899-12-30 for serials >= 61.
    # 1899-12-30 + 45658 days = 2025-01-01 (45658 = 1899-12-30 → 2025-01-01, checked with
    # date(2025,1,1) - date(1899,12,30) = 45658 days); .5 = noon; .25 = 06:00.
    assert (dt.date(2025, 1, 1) - dt.date(1899, 12, 30)).days == 45658
    p = parse_datetime(col("45658", "45658.5", "45658.25", ""))
    assert stamps(p) == [TS("2025-01-01"), TS("2025-01-01 12:00"), TS("2025-01-01 06:00"), None]
    assert p.info["kind"] == "excel_serial" and not p.bad.any()


def test_excel_serials_1904_system() -> None:
    # 1904 system: serial 0 = 1904-01-01; 1904-01-01 + 45658 days = 2029-01-02
    assert dt.date(1904, 1, 1) + dt.timedelta(days=45658) == dt.date(2029, 1, 2)
    p = parse_datetime(col("45658"), date1904=True)
    assert stamps(p) == [TS("2029-01-02")]


def test_excel_serial_fraction_rounds_to_the_millisecond() -> None:
    # 14:30 is 0.6041666… of a day; the float in the cell is not exact
    p = parse_datetime(col(repr(45658 + (14 * 3600 + 30 * 60) / 86400)))
    assert stamps(p) == [TS("2025-01-01 14:30")]


def test_epochs_seconds_and_milliseconds() -> None:
    # 1_700_000_000 s after 1970-01-01 = 2023-11-14 22:13:20 UTC (19675 days + 80000 s)
    assert 19675 * 86400 + 80000 == 1_700_000_000
    p = parse_datetime(col("1700000000", "1700000000000", "1700000000.5", "1700000000123"))
    assert stamps(p) == [
        TS("2023-11-14 22:13:20"),
        TS("2023-11-14 22:13:20"),
        TS("2023-11-14 22:13:20.500"),
        TS("2023-11-14 22:13:20.123"),
    ]
    assert p.info["kind"] == "epoch"


def test_numbers_out_of_any_plausible_range_are_bad() -> None:
    # 5e9 is neither seconds (<= 4e9) nor milliseconds (>= 1e11)
    p = parse_datetime(col("1700000000", "5000000000"))
    assert stamps(p)[1] is None and p.bad.tolist() == [False, True]
    p = parse_datetime(col("12", "7"))
    assert p.bad.all()


def test_serials_only_when_whole_column_is_numeric() -> None:
    p = parse_datetime(col("2026-01-05", "45658"))
    assert p.bad.tolist() == [False, True]


def test_packed_yyyymmdd() -> None:
    p = parse_datetime(col("20260315", "20260231"))
    assert stamps(p) == [TS("2026-03-15"), None] and p.bad.tolist() == [False, True]


def test_datetime_dtype_passes_through_in_utc() -> None:
    s = pd.Series(pd.to_datetime(["2026-03-29T01:30:00+02:00"], utc=True))
    assert stamps(parse_datetime(s)) == [TS("2026-03-28 23:30")]


def test_remainder_in_a_rare_form_is_still_read() -> None:
    # 2000 ISO values and one Jira value: the sample may miss it; the fallback must not
    values = ["2026-01-05"] * 2000 + ["14/Jul/25 3:42 PM"]
    p = parse_datetime(pd.Series(values))
    assert stamps(p)[-1] == TS("2025-07-14 15:42") and not p.bad.any()


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    "text, expected",
    [
        ("$1,234.50", 1234.5),
        ("1.234,50 €", 1234.5),
        ("1 234,50", 1234.5),
        ("1\u00a0234,50 €", 1234.5),  # NBSP thousands (French Excel)
        ("(420.81)", -420.81),  # accounting negative
        ("$(1,234.50)", -1234.5),
        ("($5.00)", -5.0),
        ("-5", -5.0),
        ("−5", -5.0),  # unicode minus
        ("-$5", -5.0),
        ("+7", 7.0),
        ("EUR 12", 12.0),
        ("12 usd", 12.0),
        ("€12", 12.0),
        ("£3.10", 3.1),
        ("¥1,000", 1000.0),
        ("12.50 $", 12.5),
        ("US$ 4", 4.0),
        ("15%", 0.15),
        ("12.5 %", 0.125),
        ("1e3", 1000.0),
        ("1.5E-3", 0.0015),
        ("-2e2", -200.0),
        ("1'234.50", 1234.5),  # Swiss apostrophe
        (".5", 0.5),
        ("0", 0.0),
        ("3293232", 3293232.0),
        ("1,234,567", 1234567.0),
        ("1.234.567", 1234567.0),
    ],
)
def test_number_forms(text: str, expected: float) -> None:
    p = parse_number(col(text))
    assert p.values.tolist() == [expected]
    assert not p.bad.any()


@pytest.mark.parametrize(
    "text", ["abc", "12 abc", "5 - 3", "1,2,3", "(5", "--5", "-(5)", "$€5", "15% USD", "1.2.3,4.5"]
)
def test_number_garbage_is_bad(text: str) -> None:
    p = parse_number(col(text))
    assert math.isnan(p.values.iloc[0]) and p.bad.tolist() == [True]


def test_number_blank_is_missing_not_bad() -> None:
    p = parse_number(col("", " ", None, "5"))
    assert p.bad.tolist() == [False, False, False, False]
    assert p.values.isna().tolist() == [True, True, True, False]


def test_decimal_separator_decided_by_column() -> None:
    # '2,5' can only be a decimal comma, so '1,234' in the same column is 1.234
    assert parse_number(col("1,234", "2,5")).values.tolist() == [1.234, 2.5]
    # '2.5' can only be a decimal point, so '1,234' is 1234
    assert parse_number(col("1,234", "2.5")).values.tolist() == [1234.0, 2.5]
    # a value with both separators settles it: '1.234,50' → the dot groups thousands
    p = parse_number(col("1.234", "1.234,50"))
    assert p.values.tolist() == [1234.0, 1234.5] and p.info["decimal_comma"] is True
    # more than one group of three after ',' → thousands
    assert parse_number(col("1,234,567", "1,234")).values.tolist() == [1234567.0, 1234.0]


def test_ambiguous_separator_default_and_override() -> None:
    p = parse_number(col("1,234", "2,345"))
    assert p.values.tolist() == [1234.0, 2345.0]
    assert p.info["ambiguous"] is True and "thousands" in p.note
    p = parse_number(col("1,234", "2,345"), decimal_comma=True)
    assert p.values.tolist() == [1.234, 2.345] and p.info["ambiguous"] is False
    # decimal_comma only settles what the values leave open
    assert parse_number(col("1,234", "2.5"), decimal_comma=True).values.tolist() == [1234.0, 2.5]
    # plain '1.234' in a decimal-comma file is one thousand two hundred …
    assert parse_number(col("1.234"), decimal_comma=True).values.tolist() == [1234.0]
    assert parse_number(col("1.234")).values.tolist() == [1.234]


def test_mixed_separators_are_noted() -> None:
    p = parse_number(col("1.234,50", "1,234.50", "2,345.00"))
    assert p.values.tolist() == [1234.5, 1234.5, 2345.0]
    assert "mixed" in p.note


def test_currencies_seen() -> None:
    p = parse_number(col("$5", "€3", "12 usd", "gbp 1", "7", "¥9"))
    assert p.info["currencies"] == ["EUR", "GBP", "JPY", "USD"]
    assert parse_number(col("5")).info["currencies"] == []


def test_unknown_three_letter_code_is_bad() -> None:
    assert parse_number(col("12 abc", "XYZ 5")).bad.tolist() == [True, True]


def test_extract_currency() -> None:
    s = col("usd 5", "$5", "5", "eur", "", "EUR 1.234,50", "abc", None, "(£3)", "12 JPY")
    out = extract_currency(s)
    assert out.isna().tolist() == [False, False, True, False, True, False, True, True, False, False]
    assert out.dropna().tolist() == ["USD", "USD", "EUR", "EUR", "GBP", "JPY"]


def test_numeric_dtype_passes_through() -> None:
    p = parse_number(pd.Series([1, 2.5, np.nan]))
    assert p.values.tolist()[:2] == [1.0, 2.5] and not p.bad.any()


# --------------------------------------------------------------------------- booleans


BOOLS = [
    ("yes", True), ("No", False), ("TRUE", True), ("f", False), ("1", True), ("0", False),
    ("2", True), ("Y", True), ("n", False), ("on", True), ("OFF", False), ("checked", True),
    ("unchecked", False), ("Escalated", True), ("not escalated", False), ("t", True),
    ("false", False), (" ", None), (None, None), ("maybe", None), ("-1", None), ("None", None),
]  # fmt: skip


def test_booleans() -> None:
    p = parse_bool(col(*[text for text, _ in BOOLS]))
    assert p.values.dtype == "boolean"
    assert [None if v is pd.NA else bool(v) for v in p.values] == [want for _, want in BOOLS]
    # unreadable: 'maybe', a negative level, the word 'None'; blanks are not bad
    assert p.bad.tolist() == [False] * 19 + [True, True, True]


def test_x_column_blank_means_false() -> None:
    p = parse_bool(col("x", "", " X ", None, "✓"))
    assert [bool(v) for v in p.values] == [True, False, True, False, True]
    assert not p.bad.any()


def test_blank_is_missing_when_column_is_not_marks() -> None:
    p = parse_bool(col("x", "", "no"))
    assert [None if v is pd.NA else bool(v) for v in p.values] == [True, None, False]


def test_escalation_levels() -> None:
    p = parse_bool(col("0", "1", "2", "3.0"))
    assert [bool(v) for v in p.values] == [False, True, True, True]


# --------------------------------------------------------------------------- durations


@pytest.mark.parametrize(
    "header, unit",
    [
        ("First reply time in minutes", "minutes"),
        ("First reply time in minutes within business hours", "minutes"),
        ("Full resolution time in minutes (+bh)", "minutes"),
        ("First reply time (min)", "minutes"),
        ("First reply time (hrs)", "hours"),
        ("Response Time (hours)", "hours"),
        ("First response time (in hrs)", "hours"),
        ("usage_duration_secs", "seconds"),
        ("duration (s)", "seconds"),
        ("Duration (in seconds)", "seconds"),
        ("duration_seconds", "seconds"),
        ("time_to_close (ms)", "milliseconds"),
        ("time_to_first_agent_reply_milliseconds", "milliseconds"),
        ("num_minutes", "minutes"),
        ("avg_session_duration_mins", "minutes"),
        ("reply_time_in_minutes.calendar", "minutes"),
        ("time on site (minutes)", "minutes"),
        ("Resolution time in days", "days"),
        ("sessionDurationSeconds", "seconds"),
        ("timeToCloseMs", "milliseconds"),
        ("time_to_admin_reply", None),
        ("time_to_first_agent_reply", None),
        ("Resolution time", None),
        ("Time tracked", None),
        ("Agent's reply time", None),
        ("hours and minutes", None),
    ],
)
def test_duration_unit_from_header(header: str, unit: str | None) -> None:
    assert duration_unit_from_header(header) == unit


# (text, minutes by hand; None = missing). Plain numbers are in the header's unit.
DURATIONS = [
    ("90", 90.0), ("1:30:00", 90.0), ("01:30", 90.0),  # HH:MM:SS and HH:MM are clock times
    ("2 days 01:00:00", 2 * 1440 + 60.0), ("-01:23", -(60 + 23.0)), ("1h 30m", 90.0),
    ("3 days", 3 * 1440.0), ("45 min", 45.0), ("1,5", 1.5), ("30s", 0.5), ("00:00:30", 0.5),
    ("", None), (None, None),
]  # fmt: skip
BAD_DURATIONS = ["abc", "$5", "10%", "1:75", "12 EUR"]


def test_parse_duration_forms_in_minutes() -> None:
    p = parse_duration(col(*[t for t, _ in DURATIONS], *BAD_DURATIONS), "minutes")
    got = [None if math.isnan(v) else v for v in p.values]
    assert got == [want for _, want in DURATIONS] + [None] * len(BAD_DURATIONS)
    assert p.bad.tolist() == [False] * len(DURATIONS) + [True] * len(BAD_DURATIONS)


def test_parse_duration_unit_conversion() -> None:
    # 1.5 h = 90 min; HH:MM:SS is clock time whatever the header unit
    assert parse_duration(col("1.5", "00:30:00"), "hours").values.tolist() == [90.0, 30.0]
    assert parse_duration(col("90000"), "ms", to="seconds").values.tolist() == [90.0]
    assert parse_duration(col("120"), "seconds", to="minutes").values.tolist() == [2.0]
    assert parse_duration(col("2"), "hours", to="hours").values.tolist() == [2.0]
    with pytest.raises(ValueError):
        parse_duration(col("1"), "fortnights")


# --------------------------------------------------------------------------- ids and text


def test_parse_id() -> None:
    p = parse_id(col(" 00123 ", "123.0", "1.03006E+13", "ABC-1", "", None, "12.50", "0042.00"))
    assert p.values.tolist()[:4] == ["00123", "123", "1.03006E+13", "ABC-1"]
    assert p.values.isna().tolist() == [False, False, False, False, True, True, False, False]
    assert p.values.tolist()[6:] == ["12.50", "0042"]
    assert p.info["damaged"].tolist() == [False, False, True, False, False, False, False, False]
    assert not p.bad.any()


def test_parse_text_and_category() -> None:
    assert parse_text(col(" a ", "", None)).values.isna().tolist() == [False, True, True]
    assert parse_text(col(" a b ")).values.tolist() == ["a b"]
    p = parse_category(col(" High  Priority ", "high\tpriority", "", None, "LOW"))
    assert p.values.tolist()[:2] == ["high priority", "high priority"]
    assert p.values.tolist()[4] == "low" and p.values.isna().tolist()[2:4] == [True, True]


def test_index_is_preserved() -> None:
    s = pd.Series(["5", "x"], index=[10, 20])
    for p in (parse_number(s), parse_datetime(s), parse_bool(s), parse_id(s)):
        assert list(p.values.index) == [10, 20] and list(p.bad.index) == [10, 20]


# --------------------------------------------------------------------------- properties

cents = st.integers(min_value=-(10**11), max_value=10**11)


def us_style(c: int) -> str:
    return f"-${abs(c) / 100:,.2f}" if c < 0 else f"${c / 100:,.2f}"


def eu_style(c: int) -> str:
    s = f"{abs(c) / 100:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    return f"-{s} €" if c < 0 else f"{s} €"


def accounting_style(c: int) -> str:
    return f"({abs(c) / 100:,.2f})" if c < 0 else f"{c / 100:,.2f}"


@settings(max_examples=60, deadline=None)
@given(
    st.lists(cents, min_size=1, max_size=12),
    st.sampled_from([us_style, eu_style, accounting_style]),
)
def test_money_round_trips(values: list[int], style) -> None:
    p = parse_number(pd.Series([style(c) for c in values]))
    assert not p.bad.any()
    # both sides are the double nearest to the same 2-decimal number
    assert p.values.tolist() == [c / 100 for c in values]


when = st.datetimes(min_value=dt.datetime(1975, 1, 1), max_value=dt.datetime(2095, 12, 31))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(when, min_size=1, max_size=8), st.sampled_from(["iso", "dmy", "mdy"]))
def test_dates_round_trip(values: list[dt.datetime], style: str) -> None:
    values = [v.replace(microsecond=0) for v in values]
    anchor = dt.datetime(2020, 1, 25, 8, 0)  # day 25 > 12 decides the order
    values = values + [anchor]
    fmt = {"iso": "%Y-%m-%dT%H:%M:%S", "dmy": "%d/%m/%Y %H:%M:%S", "mdy": "%m/%d/%Y %H:%M:%S"}
    p = parse_datetime(pd.Series([v.strftime(fmt[style]) for v in values]))
    assert not p.bad.any()
    assert stamps(p) == [pd.Timestamp(v) for v in values]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.dates(dt.date(1960, 1, 1), dt.date(2100, 12, 31)), min_size=1, max_size=8),
    st.integers(0, 86399),
)
def test_excel_serials_round_trip(days: list[dt.date], second: int) -> None:
    serials = [(d - dt.date(1899, 12, 30)).days + second / 86400 for d in days]
    p = parse_datetime(pd.Series([repr(x) for x in serials]))
    expected = [pd.Timestamp(d) + pd.Timedelta(seconds=second) for d in days]
    assert stamps(p) == expected


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(100_000_000, 4_000_000_000), min_size=1, max_size=8), st.booleans())
def test_epochs_round_trip(secs: list[int], millis: bool) -> None:
    text = [str(s * 1000) if millis else str(s) for s in secs]
    p = parse_datetime(pd.Series(text))
    assert stamps(p) == [pd.Timestamp(s, unit="s") for s in secs]


@given(st.lists(st.text(alphabet="0123456789", min_size=1, max_size=25), min_size=1, max_size=10))
def test_parse_id_never_changes_digit_strings(ids: list[str]) -> None:
    assert parse_id(pd.Series(ids)).values.tolist() == ids


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.one_of(st.text(max_size=30), st.sampled_from(["", " ", "\t"]), st.none()), max_size=8
    )
)
def test_parsers_never_raise_and_blanks_are_not_bad(cells: list[str | None]) -> None:
    s = pd.Series(cells, dtype="object")
    blank = is_blank(s)
    for p in (
        parse_datetime(s),
        parse_datetime(s, default_dayfirst=True),
        parse_number(s),
        parse_number(s, decimal_comma=True),
        parse_bool(s),
        parse_duration(s, "minutes"),
        parse_id(s),
        parse_text(s),
        parse_category(s),
    ):
        assert p.bad.dtype == bool and len(p.bad) == len(s)
        assert not p.bad[blank].any()
    extract_currency(s)


# --------------------------------------------------------------------------- fast paths
# Long columns with few distinct values are parsed once per distinct value, and
# columns with nothing to strip skip the strip. These must give exactly what the
# per-row path gives, decisions and notes included.

from cs_metrics.loading import values as _values_mod  # noqa: E402

_NUMBER_POOL = [
    "1,234", "1.234", "12.50", "1.234,50", "(420.81)", "$5", "€3,5", "15%", "1e3", "abc",
    "  7 ", "", None, "−5", "1 234", "2,5", "USD 10", "0", "-3", "1,234.5",
]
_DURATION_POOL = [
    "01:30", "1h 30m", "90", "1,5", "2 days 03:04:05", "x", "", None, "12.5", "1,234",
    "3 days", "0:61", "-4", "$5",
]


def _both_paths(fn, s: pd.Series):
    """(per-row result, distinct-value result) of fn(s), checking the fast path ran."""
    calls = []
    orig = _values_mod._distinct

    def spy(arr):
        out = orig(arr)
        calls.append(out is not None)
        return out

    saved = _values_mod._DISTINCT_MIN_ROWS
    try:
        _values_mod._distinct = spy
        _values_mod._DISTINCT_MIN_ROWS = 10**9
        slow = fn(s)
        _values_mod._DISTINCT_MIN_ROWS = 0
        fast = fn(s)
    finally:
        _values_mod._distinct = orig
        _values_mod._DISTINCT_MIN_ROWS = saved
    nonblank = s.dropna().astype(str).str.strip().ne("").any()
    assert not nonblank or calls[-1] is True  # the distinct path really ran
    return slow, fast


def _same(a: Parsed, b: Parsed) -> None:
    pd.testing.assert_series_equal(a.values, b.values)
    pd.testing.assert_series_equal(a.bad, b.bad)
    assert a.note == b.note
    assert a.info == b.info


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.sampled_from(_NUMBER_POOL), min_size=1, max_size=25),
    st.sampled_from([None, True, False]),
)
def test_parse_number_distinct_path_matches_per_row(cells, comma) -> None:
    # each cell repeated 8 times: few distinct values, so the distinct path is taken
    s = pd.Series(cells * 8, dtype="str")
    slow, fast = _both_paths(lambda x: parse_number(x, decimal_comma=comma), s)
    _same(slow, fast)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_DURATION_POOL), min_size=1, max_size=25))
def test_parse_duration_distinct_path_matches_per_row(cells) -> None:
    s = pd.Series(cells * 8, dtype="str")
    slow, fast = _both_paths(lambda x: parse_duration(x, "minutes"), s)
    _same(slow, fast)


def test_distinct_path_counts_rows_for_the_separator_decision() -> None:
    # 12 rows '1,5' (only a decimal comma reads it: ',5' cannot group thousands) and
    # 8 rows '2.25' (only a decimal point): 12 > 8, so commas win and the note counts
    # rows, not distinct values (which would be 1 and 1).
    s = pd.Series(["1,5"] * 12 + ["2.25"] * 8, dtype="str")
    slow, fast = _both_paths(parse_number, s)
    _same(slow, fast)
    assert fast.info["decimal_comma"] is True
    assert "12 value(s) use a decimal comma and 8 a decimal point" in fast.note
    assert fast.values.tolist()[:3] == [1.5, 1.5, 1.5]


def test_category_blank_and_whitespace_forms() -> None:
    s = pd.Series(["  High  Priority ", None, "", "   ", "HIGH priority", "low"], dtype="str")
    p = parse_category(s)
    assert p.values.isna().tolist() == [False, True, True, True, False, False]
    assert p.values.dropna().tolist() == ["high priority", "high priority", "low"]
    assert p.values.dtype == "str"


@pytest.mark.parametrize(
    "cells,expect",
    [
        (["a", "b"], False),
        (["a ", "b"], True),
        ([" a", "b"], True),
        (["a\t", None], True),
        (["a\u00a0"], True),  # a Unicode space: non-ASCII bytes always strip
        (["é"], True),  # non-ASCII at an edge: strip to be safe
        ([None, ""], False),
        ([], False),
    ],
)
def test_may_need_strip(cells, expect) -> None:
    s = pd.Series(cells, dtype="str")
    assert _values_mod._may_need_strip(_values_mod._arrow(s)) is expect
    # whatever the shortcut says, _text equals a real strip
    pd.testing.assert_series_equal(_values_mod._text(s), s.str.strip())


_ISO_SAMPLES = [
    "2024-04-31 10:00:00",  # no 31 April: strptime would roll it to 1 May
    "2024-02-29 10:00:00",  # leap day
    "2023-02-29",  # not a leap year
    "2024-12-31T23:59:59",
    "2024-06-30 24:00:00",  # hour 24
    "2024-06-30 23:59:60",  # leap second: strptime reads it, pandas does not
    "2024-06-15 10:59:60",
    "1899-12-31",  # before 1900: implausible
    "2024-01-01 10:00:00+02:00",  # offset: pandas' path
    "2024-1-5",  # short fields: pandas' path
    "2201-01-01",  # after 2200: implausible
    "2024-13-01",
    "2024-00-10 01:02:03",
]


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(_ISO_SAMPLES),
            st.builds(
                "{:04d}-{:02d}-{:02d}{}".format,
                st.integers(1890, 2210),
                st.integers(0, 13),
                st.integers(0, 32),
                st.sampled_from(
                    ["", " 00:00:00", "T23:59:59", " 12:60:00", " 07:08:09", " 10:59:60"]
                ),
            ),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_plain_iso_fast_path_matches_pandas(cells) -> None:
    # the strptime fast path must accept, reject and place every value as pandas does
    arr = _values_mod._arrow(pd.Series(cells, dtype="str"))
    fast_ns, fast_ok = _values_mod._iso(arr)
    slow_ns, slow_ok = _values_mod._iso_pandas(arr)
    assert fast_ok.tolist() == slow_ok.tolist()
    assert fast_ns[fast_ok].tolist() == slow_ns[slow_ok].tolist()


def test_plain_iso_fast_path_matches_pandas_on_edge_values() -> None:
    arr = _values_mod._arrow(pd.Series(_ISO_SAMPLES, dtype="str"))
    fast_ns, fast_ok = _values_mod._iso(arr)
    slow_ns, slow_ok = _values_mod._iso_pandas(arr)
    assert fast_ok.tolist() == slow_ok.tolist()
    assert fast_ns[fast_ok].tolist() == slow_ns[slow_ok].tolist()


def test_plain_iso_hand_values() -> None:
    p = parse_datetime(pd.Series(["2024-04-30 10:00:00", "2024-04-31 10:00:00", "2024-02-29"]))
    # 30 April exists; 31 April does not (bad, not 1 May); 2024 is a leap year
    assert p.values.iloc[0] == TS("2024-04-30 10:00:00")
    assert pd.isna(p.values.iloc[1]) and bool(p.bad.iloc[1])
    assert p.values.iloc[2] == TS("2024-02-29")


def test_plain_iso_once_per_distinct_value_equals_each() -> None:
    # repeated values take the distinct-value path; the result must be row for row
    # what reading every value gives
    cells = (_ISO_SAMPLES + ["2026-01-02 03:04:05", "2026-01-02"]) * 8
    arr = _values_mod._arrow(pd.Series(cells, dtype="str"))
    saved = _values_mod._DISTINCT_MIN_ROWS
    try:
        _values_mod._DISTINCT_MIN_ROWS = 0
        assert _values_mod._distinct(arr) is not None
        ns, ok = _values_mod._iso_plain(arr)
    finally:
        _values_mod._DISTINCT_MIN_ROWS = saved
    ns_each, ok_each = _values_mod._iso_plain_each(arr)
    assert ok.tolist() == ok_each.tolist()
    assert ns[ok].tolist() == ns_each[ok_each].tolist()
    assert ok.sum() == 8 * 4  # 2024-02-29, 2024-12-31T23:59:59 and the two 2026 values
