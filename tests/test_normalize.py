"""Normaliser: typed canonical frames and one test per row-issue code.

Every frame is a few hand-written rows; expected rows/values are read off
them directly (row numbers: header is row 1, so the i-th data row is i + 1).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cs_metrics.config import default_config
from cs_metrics.errors import InputError
from cs_metrics.loading.columns import match_columns
from cs_metrics.loading.normalize import IssueSink, _repeats, drop_duplicates, normalise

TODAY = date(2026, 10, 1)


def run(dataset, data, *, overrides=None, config=None, file="t.csv", sink=None, **kw):
    raw = pd.DataFrame({k: pd.array(v, dtype="str") for k, v in data.items()})
    m = match_columns(dataset, list(raw.columns), overrides, file)
    sink = sink or IssueSink()
    norm = normalise(
        dataset,
        raw,
        np.arange(2, len(raw) + 2),
        file,
        m,
        config=config or default_config(),
        today=kw.pop("today", TODAY),
        sink=sink,
        **kw,
    )
    return norm, sink


def codes(sink, code):
    return [(i.file, i.row, i.column, i.value) for i in sink.issues if i.code == code]


def test_ticket_types_and_missing_required_value():
    norm, sink = run(
        "tickets",
        {
            "Id": ["1", "2", "3"],
            "Created at": ["2026-09-01 10:00", "", "2026-09-03 08:30"],
            "Status": ["Solved", "Open", "OPEN"],
            "Reopens": ["0", "1", "2"],
        },
    )
    f = norm.frame
    assert norm.rows_read == 3
    assert f["ticket_id"].tolist() == ["1", "3"]  # row 3 has no created date → set aside
    assert f["created_at"].tolist() == [
        pd.Timestamp("2026-09-01 10:00"),
        pd.Timestamp("2026-09-03 08:30"),
    ]
    assert str(f["created_at"].dtype) == "datetime64[ns]"
    assert f["status"].tolist() == ["solved", "open"]
    assert f["reopens"].dtype == "float64"
    assert codes(sink, "missing-value") == [("t.csv", 3, "Created at", None)]


def test_bad_date_required_sets_row_aside_optional_nulls_cell():
    norm, sink = run(
        "tickets",
        {
            "Id": ["1", "2", "3"],
            "Created at": ["2026-09-01", "not a date", "2026-09-02"],
            "Solved at": ["2026-09-02", "2026-09-03", "soon"],
        },
    )
    f = norm.frame
    assert f["ticket_id"].tolist() == ["1", "3"]
    assert pd.isna(f["resolved_at"].iloc[1])
    assert codes(sink, "bad-date") == [
        ("t.csv", 3, "Created at", "not a date"),
        ("t.csv", 4, "Solved at", "soon"),
    ]


def test_bad_number_required_and_optional():
    norm, sink = run("billing", {"Customer": ["c1", "c2"], "Total": ["10.00", "ten"]})
    assert norm.frame["amount"].tolist() == [10.0]
    assert codes(sink, "bad-number") == [("t.csv", 3, "Total", "ten")]
    norm, sink = run("accounts", {"account_id": ["A", "B"], "seats": ["5", "many"]})
    assert len(norm.frame) == 2 and pd.isna(norm.frame["seats"].iloc[1])
    assert codes(sink, "bad-number") == [("t.csv", 3, "seats", "many")]


def test_bad_bool_and_bad_duration_null_the_cell():
    norm, sink = run("accounts", {"account_id": ["A", "B"], "advocate": ["yes", "maybe"]})
    assert norm.frame["advocate"].tolist()[0] is True
    assert pd.isna(norm.frame["advocate"].iloc[1])
    assert codes(sink, "bad-value") == [("t.csv", 3, "advocate", "maybe")]
    norm, sink = run(
        "tickets",
        {"Id": ["1"], "Created at": ["2026-09-01"], "First reply time in minutes": ["soon"]},
    )
    assert pd.isna(norm.frame["first_response_minutes"].iloc[0])
    assert codes(sink, "bad-duration") == [("t.csv", 2, "First reply time in minutes", "soon")]


def test_damaged_id():
    _, sink = run(
        "tickets", {"Id": ["1.03006E+13", "77"], "Created at": ["2026-09-01", "2026-09-01"]}
    )
    assert codes(sink, "damaged-id") == [("t.csv", 2, "Id", "1.03006E+13")]


def test_future_dates():
    norm, sink = run(
        "tickets",
        {
            "Id": ["1", "2", "3"],
            "Created at": ["2026-09-01", "2026-10-02", "2026-09-30"],
            "Solved at": ["2026-10-01 23:00", "2026-10-03", "2026-12-01"],
        },
    )
    f = norm.frame
    # today = 2026-10-01: created 10-02 is future → row set aside; solved 12-01 → cell nulled
    assert f["ticket_id"].tolist() == ["1", "3"]
    assert f["resolved_at"].iloc[0] == pd.Timestamp("2026-10-01 23:00")
    assert pd.isna(f["resolved_at"].iloc[1])
    got = codes(sink, "future-date")
    assert [(g[1], g[2]) for g in got] == [(3, "Created at"), (3, "Solved at"), (4, "Solved at")]


def test_future_not_checked_on_period_end_or_due_date():
    norm, sink = run(
        "billing",
        {
            "Customer": ["c"],
            "Total": ["1"],
            "Period End": ["2027-01-01"],
            "Due Date": ["2027-01-01"],
        },
    )
    assert codes(sink, "future-date") == []
    assert norm.frame["period_end"].iloc[0] == pd.Timestamp("2027-01-01")


def test_negative_durations():
    norm, sink = run(
        "tickets",
        {
            "Id": ["1", "2"],
            "Created at": ["2026-09-02 10:00", "2026-09-02 10:00"],
            "Solved at": ["2026-09-01 10:00", "2026-09-03 10:00"],
            "First reply time in minutes": ["-5", "30"],
        },
    )
    f = norm.frame
    assert len(f) == 2
    assert pd.isna(f["resolved_at"].iloc[0]) and f["resolved_at"].iloc[1] == pd.Timestamp(
        "2026-09-03 10:00"
    )
    assert (
        pd.isna(f["first_response_minutes"].iloc[0]) and f["first_response_minutes"].iloc[1] == 30.0
    )
    assert codes(sink, "negative-duration") == [
        ("t.csv", 2, "Solved at", "2026-09-01 10:00"),
        ("t.csv", 2, "First reply time in minutes", "-5"),
    ]


def test_duration_units_from_header():
    norm, _ = run(
        "tickets", {"Id": ["1"], "Created at": ["2026-09-01"], "First reply time (hrs)": ["1.5"]}
    )
    assert norm.frame["first_response_minutes"].iloc[0] == 90.0  # 1.5 h = 90 min
    norm, _ = run("usage", {"account_id": ["A"], "timestamp": ["2026-09-01"], "num_minutes": ["7"]})
    assert norm.frame["duration_seconds"].iloc[0] == 420.0  # 7 min = 420 s
    assert norm.frame["count"].iloc[0] == 1.0  # no count column → 1


def test_duration_without_unit_is_a_column_error():
    with pytest.raises(InputError) as e:
        run("usage", {"account_id": ["A"], "timestamp": ["2026-09-01"], "Duration": ["7"]})
    (i,) = e.value.issues
    assert (i.code, i.level, i.column, i.file) == (
        "duration-unit-unknown",
        "error",
        "Duration",
        "t.csv",
    )
    assert "rename" in i.message and "columns:" in i.message


def test_impossible_values():
    norm, sink = run(
        "accounts",
        {
            "account_id": ["A", "B"],
            "seats": ["-3", "10"],
            "goals_total": ["4", "2"],
            "goals_met": ["3", "5"],
        },
    )
    f = norm.frame
    assert pd.isna(f["seats"].iloc[0]) and f["seats"].iloc[1] == 10.0
    assert f["goals_met"].iloc[0] == 3.0 and pd.isna(f["goals_met"].iloc[1])
    assert codes(sink, "impossible-value") == [
        ("t.csv", 2, "seats", "-3"),
        ("t.csv", 3, "goals_met", "5"),
    ]


def test_duplicates_first_kept():
    sink = IssueSink()
    norm, _ = run("tickets", {"Id": ["7", "8", "7"], "Created at": ["2026-09-01"] * 3}, sink=sink)
    f = drop_duplicates("tickets", norm.frame, {"ticket_id": "Id"}, sink)
    assert f["ticket_id"].tolist() == ["7", "8"]
    assert codes(sink, "duplicate-id") == [("t.csv", 4, "Id", "7")]


def test_billing_invoice_lines_are_not_duplicates_unless_identical():
    sink = IssueSink()
    data = {
        "Customer": ["c", "c", "c"],
        "Invoice ID": ["in1", "in1", "in1"],
        "Total": ["10", "5", "10"],
    }
    norm, _ = run("billing", data, sink=sink)
    cols = {"account_id": "Customer", "invoice_id": "Invoice ID", "amount": "Total"}
    f = drop_duplicates("billing", norm.frame, cols, sink)
    assert f["amount"].tolist() == [10.0, 5.0]
    assert codes(sink, "duplicate-id") == [("t.csv", 4, "Invoice ID", "in1")]
    # without an invoice id nothing is a duplicate
    norm, _ = run("billing", {"Customer": ["c", "c"], "Total": ["10", "10"]})
    assert (
        len(
            drop_duplicates(
                "billing", norm.frame, {"account_id": "Customer", "amount": "Total"}, sink
            )
        )
        == 2
    )


def test_tickets_escalated_from_tags_and_satisfaction():
    norm, _ = run(
        "tickets",
        {
            "Id": ["1", "2", "3", "4"],
            "Created at": ["2026-09-01"] * 4,
            "Tags": ["vip Escalated", "escalated_later", "a,escalation", None],
            "Satisfaction Score": ["Good", "Offered", "bad_with_comment", "Not Offered"],
        },
    )
    f = norm.frame
    assert f["escalated"].tolist() == [True, False, True, False]
    assert f["tags"].iloc[0] == "vip Escalated"
    s = f["satisfaction"].tolist()
    assert s[0] == "good" and pd.isna(s[1]) and s[2] == "bad" and pd.isna(s[3])


def test_escalated_as_level():
    norm, sink = run(
        "tickets",
        {
            "Id": ["1", "2", "3", "4", "5"],
            "Created at": ["2026-09-01"] * 5,
            "Escalation Level": ["Tier 2", "0", "2", "no", ""],
        },
    )
    # text level → escalated; 0 → not; 2 → escalated; 'no' → not; blank → unknown
    got = norm.frame["escalated"].tolist()
    assert got[:4] == [True, False, True, False] and pd.isna(got[4])
    assert codes(sink, "bad-value") == []


def test_billing_currency_and_flags():
    norm, _ = run("billing", {"Customer": ["c1", "c2"], "Total": ["EUR 12", "€ 5"]})
    assert norm.frame["amount"].tolist() == [12.0, 5.0]
    assert norm.frame["currency"].tolist() == ["EUR", "EUR"]
    assert norm.meta["amount_flags"] == ["tax_inclusive"]
    norm, _ = run("billing", {"Customer": ["c1"], "Amount": ["3"], "Currency": ["usd"]})
    assert norm.frame["currency"].tolist() == ["USD"]
    # a blank currency cell is filled from the amount's own code
    norm, _ = run(
        "billing", {"Customer": ["c1", "c2"], "Amount": ["3", "GBP 4"], "Currency": ["usd", ""]}
    )
    assert norm.frame["currency"].tolist() == ["USD", "GBP"]
    # no code anywhere: no currency column is invented (base currency downstream)
    norm, _ = run("billing", {"Customer": ["c1"], "Amount": ["3"]})
    assert "currency" not in norm.frame.columns


def test_accounts_keep_unmapped_columns_as_text():
    norm, _ = run("accounts", {"Account ID": ["A"], "Industry": [" Retail "], "Health Notes": [""]})
    assert norm.frame["Industry"].iloc[0] == "Retail"
    assert pd.isna(norm.frame["Health Notes"].iloc[0])


def test_ambiguous_date_order_info_and_meta():
    norm, sink = run("tickets", {"Id": ["1", "2"], "Created at": ["01/02/2026", "03/04/2026"]})
    assert norm.meta["dayfirst"]["created_at"] is False
    assert norm.frame["created_at"].iloc[0] == pd.Timestamp("2026-01-02")
    (i,) = [i for i in sink.issues if i.code == "ambiguous-date-order"]
    assert i.level == "info" and i.column == "Created at" and "month-first" in i.message
    assert i.value == "month-first (MM/DD)"
    norm, sink = run(
        "tickets", {"Id": ["1", "2"], "Created at": ["01/02/2026", "03/04/2026"]}, delimiter=";"
    )
    assert norm.meta["dayfirst"]["created_at"] is True
    assert norm.frame["created_at"].iloc[0] == pd.Timestamp("2026-02-01")


# ---------------------------------------------------------------- surveys


def test_wide_survey_one_response_per_type_column():
    norm, sink = run(
        "surveys",
        {
            "Response ID": ["r1", "r2", "r3"],
            "Submitted At": ["2026-09-01", "2026-09-02", "2026-09-03"],
            "NPS": ["9", "", "3"],
            "CSAT": ["5", "4", ""],
        },
    )
    f = norm.frame
    got = sorted(zip(f["response_id"], f["survey_type"], f["score"]))
    assert got == [("r1", "csat", 5.0), ("r1", "nps", 9.0), ("r2", "csat", 4.0), ("r3", "nps", 3.0)]
    f2 = drop_duplicates("surveys", f, {"response_id": "Response ID"}, sink)
    assert len(f2) == 4 and codes(sink, "duplicate-id") == []


def test_survey_type_from_column_file_name_or_default():
    norm, _ = run(
        "surveys", {"score": ["4"], "submitted_at": ["2026-09-01"]}, file="csat_responses.csv"
    )
    assert norm.frame["survey_type"].tolist() == ["csat"]
    norm, _ = run("surveys", {"score": ["4"], "submitted_at": ["2026-09-01"]}, file="feedback.csv")
    assert norm.frame["survey_type"].tolist() == ["nps"]
    norm, _ = run(
        "surveys",
        {"score": ["4", "5"], "submitted_at": ["2026-09-01"] * 2, "survey_type": ["CES", ""]},
        file="csat.csv",
    )
    assert norm.frame["survey_type"].tolist() == ["ces", "csat"]


def test_sent_only_rows_and_rows_without_dates():
    norm, sink = run(
        "surveys",
        {
            "score": ["9", "", "7", ""],
            "submitted_at": ["2026-09-01", "", "", "2026-09-02"],
            "sent_at": ["2026-08-30", "2026-08-30", "", ""],
        },
    )
    f = norm.frame
    # row 2 answered; row 3 sent only; row 4 no dates → set aside; row 5 submitted without score → set aside
    assert len(f) == 2
    assert (
        f["score"].iloc[0] == 9.0
        and pd.isna(f["score"].iloc[1])
        and pd.isna(f["submitted_at"].iloc[1])
    )
    assert [(g[1], g[2]) for g in codes(sink, "missing-value")] == [
        (4, "submitted_at"),
        (5, "score"),
    ]


def test_score_out_of_scale_set_aside():
    norm, sink = run(
        "surveys",
        {
            "score": ["11", "10", "6"],
            "submitted_at": ["2026-09-01"] * 3,
            "survey_type": ["nps", "nps", "csat"],
        },
    )
    # nps 11 > 10; csat 6 > 5 (default csat scale 1–5)
    assert norm.frame["score"].tolist() == [10.0]
    assert codes(sink, "score-out-of-scale") == [
        ("t.csv", 2, "score", "11"),
        ("t.csv", 4, "score", "6"),
    ]


def test_qualtrics_unfinished_rows_are_not_responses():
    norm, sink = run(
        "surveys",
        {
            "ResponseId": ["R1", "R2"],
            "RecordedDate": ["2026-09-01"] * 2,
            "Finished": ["1", "False"],
            "Q1": ["10", "3"],
        },
        overrides={"score": "Q1"},
    )
    assert norm.frame["response_id"].tolist() == ["R1"]
    assert codes(sink, "unfinished-response") == [("t.csv", 3, "Finished", "False")]


def test_issue_cap_keeps_exact_counts():
    n = 1500
    _, sink = run("tickets", {"Id": [str(i) for i in range(n)], "Created at": ["bad"] * n})
    assert len([i for i in sink.issues if i.code == "bad-date"]) == 1000
    assert sink.counts["tickets"]["bad-date"] == 1500


# ---------------------------------------------------------------- column-wide parser notes


def _notes(sink, code):
    return [i for i in sink.issues if i.code == code]


def test_inconsistent_date_order_is_a_warning():
    # 13/02 and 14/02 only read day-first, 02/13 only month-first: 2 > 1, so the
    # column is day-first and the month-first value is a bad date (row set aside)
    norm, sink = run(
        "tickets", {"Id": ["1", "2", "3"], "Created at": ["13/02/2026", "14/02/2026", "02/13/2026"]}
    )
    assert norm.frame["created_at"].tolist() == [pd.Timestamp("2026-02-13"), pd.Timestamp("2026-02-14")]
    (i,) = _notes(sink, "inconsistent-date-order")
    assert (i.level, i.dataset, i.file, i.column) == ("warning", "tickets", "t.csv", "Created at")
    assert i.value == "day-first (DD/MM)"
    assert "2 value(s) are day-first and 1 month-first" in i.message
    assert codes(sink, "bad-date") == [("t.csv", 4, "Created at", "02/13/2026")]
    assert not _notes(sink, "ambiguous-date-order")


def test_dates_against_config_dayfirst_is_a_warning():
    cfg = default_config()
    cfg["dates"] = {**(cfg.get("dates") or {}), "dayfirst": False}
    # config says month-first; 13/02 only reads day-first: set aside, and said once
    norm, sink = run(
        "tickets", {"Id": ["1", "2"], "Created at": ["01/02/2026", "13/02/2026"]}, config=cfg
    )
    assert norm.frame["created_at"].tolist() == [pd.Timestamp("2026-01-02")]
    (i,) = _notes(sink, "date-order-against-config")
    assert (i.level, i.dataset, i.file, i.column) == ("warning", "tickets", "t.csv", "Created at")
    assert i.value == "month-first (MM/DD)"
    assert "config dates.dayfirst" in i.message and "1 value(s)" in i.message


def test_mixed_decimal_separators_is_a_warning():
    # '1.234,50' and '3,75' only read with a decimal comma, '2.50' only with a point:
    # 2 > 1, so commas win; 2.50 stays 2.5 (it is unambiguous)
    norm, sink = run(
        "billing",
        {"Customer": ["c1", "c2", "c3"], "Amount": ["1.234,50", "2.50", "3,75"]},
    )
    assert norm.frame["amount"].tolist() == [1234.5, 2.5, 3.75]
    (i,) = _notes(sink, "mixed-decimal-separators")
    assert (i.level, i.dataset, i.file, i.column) == ("warning", "billing", "t.csv", "Amount")
    assert i.value == "decimal comma"
    assert "2 value(s) use a decimal comma and 1 a decimal point" in i.message


def test_ambiguous_decimal_separator_is_info():
    # '1,234' reads 1234 or 1.234 and nothing else in the column tells: ',' is a
    # thousands separator by default
    norm, sink = run("billing", {"Customer": ["c1", "c2"], "Amount": ["1,234", "5"]})
    assert norm.frame["amount"].tolist() == [1234.0, 5.0]
    (i,) = _notes(sink, "ambiguous-decimal-separator")
    assert (i.level, i.dataset, i.file, i.column) == ("info", "billing", "t.csv", "Amount")
    assert i.value == "decimal point"
    assert not _notes(sink, "mixed-decimal-separators")


def test_clear_columns_raise_no_parser_notes():
    _, sink = run(
        "billing",
        {"Customer": ["c1", "c2"], "Amount": ["1,234.50", "7"], "Invoice date": ["13/02/2026", "01/02/2026"]},
    )
    got = {i.code for i in sink.issues}
    assert not got & {
        "mixed-decimal-separators",
        "ambiguous-decimal-separator",
        "inconsistent-date-order",
        "date-order-against-config",
        "ambiguous-date-order",
    }


@settings(max_examples=80, deadline=None)
@given(st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "c", "A", "a ", "10", "01"])), max_size=40))
def test_repeats_equals_pandas_duplicated(cells):
    # the Arrow shortcut must mark exactly the rows pandas' duplicated() marks
    s = pd.Series(pd.array(cells, dtype="str"))
    assert _repeats(s).tolist() == s.duplicated(keep="first").tolist()


def test_repeats_by_hand():
    # rows 0..5: x y x None y None → repeats at 2 (x), 4 (y), 5 (second missing)
    s = pd.Series(pd.array(["x", "y", "x", None, "y", None], dtype="str"))
    assert _repeats(s).tolist() == [False, False, True, False, True, True]


def test_consume_frees_category_text_and_gives_the_same_frame():
    data = {
        "Id": ["1", "2", "3"],
        "Created at": ["2026-01-02 10:00:00", "2026-01-03 11:00:00", "bad"],
        "Status": ["Open", "SOLVED", " open "],
        "Priority": ["High", "low", ""],
    }
    plain, sink_a = run("tickets", data)
    raw = pd.DataFrame({k: pd.array(v, dtype="str") for k, v in data.items()})
    m = match_columns("tickets", list(raw.columns), None, "t.csv")
    sink_b = IssueSink()
    eaten = normalise(
        "tickets", raw, np.arange(2, 5), "t.csv", m,
        config=default_config(), today=TODAY, sink=sink_b, consume=True,
    )
    pd.testing.assert_frame_equal(plain.frame, eaten.frame)
    assert [(i.code, i.row, i.column, i.value) for i in sink_a.issues] == [
        (i.code, i.row, i.column, i.value) for i in sink_b.issues
    ]
    # category text is gone from the caller's frame; dates stay for issues
    assert list(raw.columns) == ["Id", "Created at"]
    # without consume the caller's frame is untouched
    raw2 = pd.DataFrame({k: pd.array(v, dtype="str") for k, v in data.items()})
    normalise("tickets", raw2, np.arange(2, 5), "t.csv", m, config=default_config(), today=TODAY)
    assert list(raw2.columns) == list(data)


def test_release_memory_is_harmless():
    from cs_metrics.loading.normalize import release_memory

    release_memory()
    release_memory()
