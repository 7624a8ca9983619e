"""The engine's own rules: needs → unavailable, NaN never leaks, groups, W vs P."""

import pandas as pd

from cs_metrics.bundle import Bundle, Dataset
from cs_metrics.metrics.engine import _values, compute_window, group_frames
from cs_metrics.metrics.registry import KPI, Result
from cs_metrics.timeframe import previous_window, window_for

T = pd.Timestamp


def _bundle(tickets_rows_read=4):
    accounts = pd.DataFrame({"account_id": pd.array(["A", "B", "C"], dtype="string"),
                             "segment": pd.array(["Ent", "SMB", None], dtype="string")})
    tickets = pd.DataFrame({
        "ticket_id": pd.array(["1", "2", "3"], dtype="string"),
        "created_at": pd.to_datetime(["2026-10-01 00:00:00", "2026-10-31 23:00:00", "2026-09-30 00:00:00"]),
        "account_id": pd.array(["A", None, "B"], dtype="string"),  # ticket 2 is an orphan
    })
    return Bundle({"accounts": Dataset("accounts", accounts, rows_read=3),
                   "tickets": Dataset("tickets", tickets, rows_read=tickets_rows_read)})


def _count_tickets(ctx):
    t = ctx.frame("tickets")
    inside = ctx.window.contains(t["created_at"])
    return Result(float(inside.sum()), n=int(inside.sum()))


TICKETS = KPI("t", "Tickets", "support", "count", "lower", "tickets in W",
              ("tickets.created_at",), _count_tickets)


def test_missing_input_makes_kpi_unavailable_with_reason():
    k = KPI("x", "X", "support", "count", "lower", "d", ("tickets.hold_minutes",), _count_tickets)
    r = compute_window(_bundle(), {}, window_for(T("2026-10-31"), "month"), kpis=[k])["x"]
    assert r.value is None and "tickets.hold_minutes" in r.unavailable_reason


def test_alternative_needs_any_is_enough():
    k = KPI("x", "X", "support", "count", "lower", "d", ("tickets.hold_minutes|tickets.created_at",),
            _count_tickets)
    assert compute_window(_bundle(), {}, window_for(T("2026-10-31"), "month"), kpis=[k])["x"].value == 2


def test_nan_value_becomes_null_with_reason():
    k = KPI("x", "X", "support", "ratio", "higher", "d", (), lambda ctx: Result(float("nan"), 0))
    r = compute_window(_bundle(), {}, window_for(T("2026-10-31"), "month"), kpis=[k])["x"]
    assert r.value is None and r.unavailable_reason


def test_w_and_p_values_and_set_aside():
    b = _bundle(tickets_rows_read=4)  # 4 read, 3 used: 1 set aside
    w = window_for(T("2026-10-31"), "month")
    cur = compute_window(b, {}, w, kpis=[TICKETS])
    prev = compute_window(b, {}, previous_window(w), kpis=[TICKETS])
    (v,) = _values([TICKETS], cur, prev, b)
    # October: tickets 1 and 2 (2 is an orphan but counts company-wide); September: ticket 3
    assert (v.value, v.previous, v.change, v.set_aside) == (2, 1, 1, 1)


def test_groups_exclude_orphans_and_blank_values_form_their_own_group():
    groups = group_frames(_bundle(), "segment")
    assert sorted(groups) == ["(blank)", "Ent", "SMB"]
    ids, frames = groups["Ent"]
    assert list(ids) == ["A"] and frames["tickets"]["ticket_id"].tolist() == ["1"]
    assert frames["tickets"].shape[0] + groups["SMB"][1]["tickets"].shape[0] == 2  # orphan in none
    assert groups["(blank)"][1]["tickets"].empty


def test_set_aside_counts_only_the_alternative_in_use():
    b = _bundle(tickets_rows_read=4)  # tickets: 1 row set aside; accounts: none
    b.datasets["accounts"].rows_read = 5  # accounts: 2 set aside
    k = KPI("x", "X", "support", "count", "lower", "d", ("tickets.created_at|accounts",), _count_tickets)
    w = window_for(T("2026-10-31"), "month")
    (v,) = _values([k], compute_window(b, {}, w, kpis=[k]), {}, b)
    assert v.set_aside == 1  # tickets fed it; the accounts alternative did not
