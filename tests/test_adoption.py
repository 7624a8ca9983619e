"""Adoption KPIs and per-account usage metrics on tiny hand-computed frames.

--as-of 2026-10-31, period month ⇒ W = 2026-10-01..10-31 (31 days), the 30
days ending R are 10-02..10-31; P = 2026-09-01..09-30 (30 days), its 30 days
ending R are 09-01..09-30.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cs_metrics.bundle import Bundle, Dataset
from cs_metrics.config import default_config
from cs_metrics.metrics import adoption as A
from cs_metrics.metrics.registry import ACCOUNT_METRICS, KPIS, Context
from cs_metrics.timeframe import windows

W, P = windows(pd.Timestamp("2026-10-31"), "month")
NAN = float("nan")


def dt(values):
    return pd.to_datetime(pd.Series(values, dtype="object"), format="ISO8601")


def usage(rows, with_users=True) -> pd.DataFrame:
    """rows: (account, user, timestamp, count, duration_seconds)."""
    acc, usr, ts, cnt, dur = zip(*rows) if rows else ((), (), (), (), ())
    df = pd.DataFrame(
        {
            "account_id": pd.Series(acc, dtype="str"),
            "timestamp": dt(list(ts)),
            "count": pd.Series(cnt, dtype="float64"),
            "duration_seconds": pd.Series(dur, dtype="float64"),
        }
    )
    if with_users:
        df["user_id"] = pd.Series(usr, dtype="str")
    return df


def accounts(**cols) -> pd.DataFrame:
    ids = cols.pop("ids")
    df = pd.DataFrame({"account_id": pd.Series(ids, dtype="str")})
    for k, v in cols.items():
        if k.endswith("_at"):
            df[k] = dt(v)
        elif k == "advocate":
            df[k] = pd.array(v, dtype="boolean")
        else:
            df[k] = pd.Series(v, dtype="float64")
    return df


def ctx(us=None, acc=None, window=W, shared=None) -> Context:
    ds = {}
    if us is not None:
        ds["usage"] = Dataset("usage", us, rows_read=len(us))
    if acc is not None:
        ds["accounts"] = Dataset("accounts", acc, rows_read=len(acc))
    return Context(
        Bundle(ds),
        default_config(),
        window,
        {k: v.frame for k, v in ds.items()},
        shared={} if shared is None else shared,
    )


# The main fixture. Note user "u1" exists in A and in B: one user id for the
# company active_users / DAU (R33), but counted under each account for license
# utilization (Σ per-account distinct users / Σ seats).
USAGE = usage(
    [
        ("A", "u2", "2026-10-01 12:00", 5, NAN),  # in W, not in the 30 days ending R
        ("A", "u1", "2026-10-02 00:00", 1, 600),  # first day of the 30 days
        ("A", "u1", "2026-10-31 23:59:59", NAN, NAN),  # last second of W; count blank → 1
        ("A", "u3", "2026-11-01 00:00", 100, 6000),  # after R: ignored
        ("B", "u1", "2026-10-15 09:00", 1, 120),
        ("B", "u4", "2026-10-15 18:00", 1, NAN),
        ("C", "u5", "2026-10-20 08:00", 1, 0),  # zero duration is a duration
        ("D", "u6", "2026-09-20 08:00", 1, NAN),  # P only
        ("A", "u1", "2026-09-30 23:00", 1, NAN),  # P only
    ]
)
ACC = accounts(ids=["A", "B", "C", "D", "E"], seats=[10, 4, 0, NAN, 5])


def test_active_users_30_days_ending_R_distinct_user_ids():
    # active 10-02..10-31: A-u1, B-u1, B-u4, C-u5 ⇒ distinct ids u1, u4, u5 = 3
    # (R33 counts distinct user ids; A-u2 was only active on 10-01)
    r = A.active_users(ctx(USAGE, ACC))
    assert r.value == 3 and r.extra["source"] == "usage"
    # P (09-01..09-30): D-u6 and A-u1 ⇒ 2
    assert A.active_users(ctx(USAGE, ACC, window=P)).value == 2


def test_license_utilization_only_accounts_with_seats():
    # seats > 0: A (10), B (4), E (5); active users A 1, B 2, E 0 (no usage)
    # ⇒ (1 + 2 + 0)/(10 + 4 + 5) = 3/19. C (0 seats) and D (no seats) are out of both
    # sums even though C has an active user.
    r = A.license_utilization(ctx(USAGE, ACC))
    assert r.value == pytest.approx(3 / 19) and r.n == 3
    # P: A 1 user (09-30), B 0, E 0 ⇒ 1/19 (seats are a snapshot, R11)
    assert A.license_utilization(ctx(USAGE, ACC, window=P)).value == pytest.approx(1 / 19)
    zero = accounts(ids=["A"], seats=[0])
    r = A.license_utilization(ctx(USAGE, zero))
    assert r.value is None and "seats" in r.unavailable_reason


def test_stickiness_counts_days_without_events_as_zero():
    # user-days in W: u2 10-01, u1 10-02, u1 10-31, u1 10-15, u4 10-15, u5 10-20 = 6
    # mean DAU = 6/31 (all 31 days, most have 0); / 3 active user ids (R33) = 6/93
    r = A.stickiness(ctx(USAGE, ACC))
    assert r.value == pytest.approx(6 / 93)
    assert r.extra["mean_dau"] == pytest.approx(6 / 31)
    # the same user twice on one day is one user-day: duplicate a row ⇒ unchanged
    dup = pd.concat([USAGE, USAGE.iloc[[4]]], ignore_index=True)
    assert A.stickiness(ctx(dup, ACC)).value == pytest.approx(6 / 93)
    # u1 under A too on 10-15 (already active under B that day): still one user-day,
    # and still 3 active user ids ⇒ unchanged
    both = pd.concat([USAGE, usage([("A", "u1", "2026-10-15 10:00", 1, NAN)])],
                     ignore_index=True)
    assert A.active_users(ctx(both, ACC)).value == 3
    assert A.stickiness(ctx(both, ACC)).value == pytest.approx(6 / 93)
    # P: D-u6 09-20 and A-u1 09-30 ⇒ 2 user-days / 30 days, MAU 2 ⇒ 1/30
    assert A.stickiness(ctx(USAGE, ACC, window=P)).value == pytest.approx(1 / 30)


def test_stickiness_unavailable_without_active_users():
    old = usage([("A", "u1", "2026-01-01", 1, NAN)])
    r = A.stickiness(ctx(old, ACC))
    assert r.value is None and r.unavailable_reason
    nousers = usage([("A", "u1", "2026-10-10", 1, NAN)], with_users=False)
    assert "user_id" in KPIS["stickiness"].missing_inputs(ctx(nousers, ACC))


def test_avg_session_minutes():
    # durations in W: 600, 120, 0 (blank ones left out; 6000 is after R) ⇒ 720/3 s = 4 min
    r = A.avg_session_minutes(ctx(USAGE, ACC))
    assert r.value == pytest.approx(4.0) and r.n == 3
    r = A.avg_session_minutes(ctx(USAGE, ACC, window=P))  # no duration in P
    assert r.value is None and r.n == 0


def test_active_days_per_account():
    # W: A {10-01, 10-02, 10-31} = 3, B {10-15} = 1, C {10-20} = 1; D, E no row in W ⇒ 5/3
    r = A.active_days_per_account(ctx(USAGE, ACC))
    assert r.value == pytest.approx(5 / 3) and r.n == 3
    # P: A {09-30}, D {09-20} ⇒ 1
    assert A.active_days_per_account(ctx(USAGE, ACC, window=P)).value == pytest.approx(1.0)
    empty = usage([])
    assert A.active_days_per_account(ctx(empty, ACC)).value is None


def test_accounts_column_fallback_is_labelled_and_reused_for_P():
    acc = accounts(ids=["A", "B", "C", "D"], seats=[10, 4, 0, 8], active_users=[3, 4, 2, NAN])
    for win in (W, P):  # R11: same snapshot in both windows
        r = A.active_users(ctx(None, acc, window=win))
        assert r.value == 9 and r.extra["source"] == "accounts.active_users"  # 3 + 4 + 2, D unknown
        # seats > 0 and a known active_users: A, B ⇒ 7/14 (D has seats but no count)
        r = A.license_utilization(ctx(None, acc, window=win))
        assert r.value == pytest.approx(0.5) and r.extra["source"] == "accounts.active_users"
    # usage without user ids also falls back
    nousers = usage([("A", "u1", "2026-10-10", 1, NAN)], with_users=False)
    assert A.active_users(ctx(nousers, acc)).extra["source"] == "accounts.active_users"
    # usage without rows and no snapshot column ⇒ unavailable, not 0
    r = A.active_users(ctx(usage([]), ACC))
    assert r.value is None and r.unavailable_reason


def test_active_users_needs():
    assert KPIS["active_users"].missing_inputs(ctx(None, ACC)) is not None
    assert KPIS["license_utilization"].missing_inputs(ctx(USAGE, None)) is not None


# ------------------------------------------------------------------ R34 milestones


def test_time_to_onboard_fractional_days_and_negatives_left_out():
    acc = accounts(
        ids=["A", "B", "C", "D", "E", "F"],
        created_at=[
            "2026-09-01 00:00",
            "2026-10-01",
            "2026-10-20",
            None,
            "2026-01-01",
            "2026-08-01",
        ],
        onboarded_at=[
            "2026-10-11 12:00",
            "2026-10-31 23:59:59",
            "2026-10-10",
            "2026-10-05",
            "2026-11-01",
            "2026-09-15",
        ],
    )
    r = A.time_to_onboard_days(ctx(None, acc))
    # A 40.5 days; B 30 days + 86399 s; C negative (left out); D no created_at; E after W
    expected = (40.5 + 30 + 86399 / 86400) / 2
    assert r.value == pytest.approx(expected) and r.n == 2
    assert r.extra["excluded_negative"] == 1
    # P: F 08-01 → 09-15 = 45 days
    assert A.time_to_onboard_days(ctx(None, acc, window=P)).value == pytest.approx(45.0)


def test_time_to_value_and_unavailable():
    acc = accounts(
        ids=["A", "B"],
        created_at=["2026-10-01 06:00", "2026-10-05"],
        first_value_at=["2026-10-03 18:00", "2026-10-01"],
    )
    r = A.time_to_value_days(ctx(None, acc))
    assert r.value == pytest.approx(2.5) and r.n == 1  # 60 h; B is negative
    only_negative = accounts(ids=["B"], created_at=["2026-10-05"], first_value_at=["2026-10-01"])
    r = A.time_to_value_days(ctx(None, only_negative))
    assert r.value is None and r.unavailable_reason and r.extra["excluded_negative"] == 1


# ------------------------------------------------------------------ goals, advocates


def test_goals_met_rate():
    acc = accounts(ids=list("ABCDE"), goals_total=[4, 0, NAN, 2, 6], goals_met=[3, 0, 1, NAN, 1])
    # with goals and a known goals_met: A (3/4), E (1/6) ⇒ (3 + 1)/(4 + 6) = .4
    r = A.goals_met_rate(ctx(None, acc))
    assert r.value == pytest.approx(0.4) and r.n == 2
    none = accounts(ids=["A"], goals_total=[0], goals_met=[0])
    assert A.goals_met_rate(ctx(None, none)).value is None


def test_advocate_rate():
    acc = accounts(ids=list("ABCD"), advocate=[True, False, None, True])
    r = A.advocate_rate(ctx(None, acc))
    assert r.value == pytest.approx(2 / 3) and r.n == 3  # C unknown
    assert A.advocate_rate(ctx(None, accounts(ids=["A"], advocate=[None]))).value is None


# ------------------------------------------------------------------ per account


def per(name, c):
    return ACCOUNT_METRICS[name].compute(c).to_dict()


def test_per_account_usage_metrics():
    c = ctx(USAGE, ACC)
    assert per("active_users", c) == {"A": 1, "B": 2, "C": 1, "D": 0, "E": 0}
    lu = per("license_utilization", c)
    # A 1/10, B 2/4, C seats 0 ⇒ missing, D no seats ⇒ missing, E 0/5
    assert lu["A"] == pytest.approx(0.1) and lu["B"] == 0.5 and lu["E"] == 0.0
    assert math.isnan(lu["C"]) and math.isnan(lu["D"])
    assert per("active_days", c) == {"A": 3, "B": 1, "C": 1, "D": 0, "E": 0}
    # A: 5 + 1 + 1 (blank count) = 7, the 100 is after R; B 2; C 1
    assert per("usage_events", c) == {"A": 7, "B": 2, "C": 1, "D": 0, "E": 0}
    ds = per("days_since_last_activity", c)
    # R = 10-31: A 10-31 ⇒ 0; B 10-15 ⇒ 16; C 10-20 ⇒ 11; D 09-20 ⇒ 41; E never ⇒ missing
    assert {k: v for k, v in ds.items() if k != "E"} == {"A": 0, "B": 16, "C": 11, "D": 41}
    assert math.isnan(ds["E"])


def test_per_account_previous_window():
    c = ctx(USAGE, ACC, window=P)
    assert per("active_users", c) == {"A": 1, "B": 0, "C": 0, "D": 1, "E": 0}
    assert per("usage_events", c) == {"A": 1, "B": 0, "C": 0, "D": 1, "E": 0}
    ds = per("days_since_last_activity", c)  # R = 09-30: A 09-30 ⇒ 0, D 09-20 ⇒ 10
    assert ds["A"] == 0 and ds["D"] == 10 and math.isnan(ds["B"])


def test_per_account_fallback_and_no_accounts():
    acc = accounts(ids=["A", "B"], seats=[10, 0], active_users=[3, NAN])
    c = ctx(None, acc)
    au = per("active_users", c)
    assert au["A"] == 3 and math.isnan(au["B"])
    lu = per("license_utilization", c)
    assert lu["A"] == pytest.approx(0.3) and math.isnan(lu["B"])
    # no accounts dataset: the usage ids are the index
    assert per("active_users", ctx(USAGE, None)) == {"A": 1, "B": 2, "C": 1, "D": 0}


def test_codes_are_cached_per_frame_across_windows():
    shared: dict = {}
    c1 = ctx(USAGE, ACC, shared=shared)
    codes = A.usage_codes(c1)
    c2 = ctx(USAGE, ACC, window=P, shared=shared)
    assert A.usage_codes(c2) is codes
    # a different (e.g. group-filtered) frame gets its own codes
    c3 = Context(c1.bundle, c1.config, W, {"usage": USAGE.iloc[:3], "accounts": ACC}, shared=shared)
    assert A.usage_codes(c3) is not codes
    assert np.array_equal(A.usage_codes(c3).acc, [0, 0, 0])


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from("ABC"), st.sampled_from(["u1", "u2", "u3", None]), st.integers(0, 75)
        ),
        max_size=40,
    )
)
def test_user_count_invariants(rows):
    # events on days 0..75 after 2026-08-20
    us = usage(
        [
            (a, u, (pd.Timestamp("2026-08-20") + pd.Timedelta(days=d, hours=5)).isoformat(), 1, NAN)
            for a, u, d in rows
        ]
    )
    acc = accounts(ids=list("ABC"), seats=[3, 3, 3])
    for win in (W, P):
        c = ctx(us, acc, window=win)
        total = A.active_users(c).value
        if not rows:  # no usage rows at all: unknown, not 0
            assert total is None and ACCOUNT_METRICS["active_users"].compute(c).isna().all()
            continue
        # company active users = distinct user ids (R33) ≤ Σ per-account active users,
        # each ≤ its 3 possible users; license utilization sums the per-account counts
        au = ACCOUNT_METRICS["active_users"].compute(c)
        # day d is in the 30 days ending R when R − day ∈ 0..29 (dates, not times)
        r_day = (win.end.normalize() - pd.Timestamp("2026-08-20")).days
        active_ids = {u for a, u, d in rows if u is not None and 0 <= r_day - d <= 29}
        assert total == len(active_ids) <= au.sum() and (au <= 3).all()
        assert A.license_utilization(c).value == pytest.approx(au.sum() / 9)
        s = A.stickiness(c)
        assert s.value is None if total == 0 else 0 <= s.value


def test_group_without_usage_rows_has_zero_users_not_unknown():
    # the engine filters frames to a --by group; the bundle still holds all usage
    b = Bundle({"usage": Dataset("usage", USAGE), "accounts": Dataset("accounts", ACC)})
    group_acc = ACC.loc[ACC["account_id"] == "E"]
    group_us = USAGE.loc[USAGE["account_id"] == "E"]  # no rows
    c = Context(b, default_config(), W, {"usage": group_us, "accounts": group_acc}, shared={})
    assert A.active_users(c).value == 0
    assert A.license_utilization(c).value == 0.0  # E: 0 users / 5 seats
    assert ACCOUNT_METRICS["active_users"].compute(c).to_dict() == {"E": 0.0}
