"""Support KPIs (SPEC §3 support, R8, R9, R13, R14, R26, R30-R32) on tiny hand-computed frames.

Default report: as_of 2026-10-31, period month → W = 2026-10-01..2026-10-31,
P = 2026-09-01..2026-09-30. Each expected value is worked out in a comment.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cs_metrics.bundle import Bundle, Dataset
from cs_metrics.config import default_config
from cs_metrics.errors import ConfigError
from cs_metrics.metrics import support  # noqa: F401  (registers the KPIs)
from cs_metrics.metrics.engine import evaluate
from cs_metrics.metrics.registry import ACCOUNT_METRICS, KPIS, Context
from cs_metrics.timeframe import windows

TEXT = {"ticket_id", "account_id", "account_ref", "requester_email", "status", "priority",
        "channel", "type", "agent", "tags", "satisfaction"}
TIMES = {"created_at", "first_response_at", "resolved_at", "closed_at"}
BOOLS = {"escalated", "abandoned"}

DEFAULTS = default_config()  # parsed once; each context gets a deep copy

BH = {
    "timezone": "Europe/Berlin",
    "hours": {d: ["09:00", "17:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
    "holidays": ["2026-10-05"],
}


def tk(**cols) -> pd.DataFrame:
    """A canonical tickets frame with the loader's dtypes."""
    n = len(next(iter(cols.values())))
    cols.setdefault("ticket_id", [str(i + 1) for i in range(n)])
    out = {}
    for c, v in cols.items():
        if c in TIMES:
            out[c] = pd.to_datetime(pd.Series(v, dtype="object"), format="ISO8601").astype("datetime64[us]")
        elif c in TEXT:
            out[c] = pd.Series(v, dtype="str")
        elif c in BOOLS:
            out[c] = pd.Series(v, dtype="boolean")
        else:
            out[c] = pd.Series(v, dtype="float64")
    return pd.DataFrame(out)


def ctx_for(df, *, accounts=None, billing=None, config=None, as_of="2026-10-31",
            period="month", prev=False) -> Context:
    ds = {"tickets": Dataset("tickets", df)}
    if accounts is not None:
        ds["accounts"] = Dataset("accounts", pd.DataFrame(
            {"account_id": pd.Series(accounts, dtype="str")}))
    if billing is not None:
        ds["billing"] = Dataset("billing", billing)
    cfg = copy.deepcopy(DEFAULTS)
    for k, v in (config or {}).items():
        cfg["support"][k] = v
    w, p = windows(pd.Timestamp(as_of), period)
    return Context(Bundle(ds), cfg, p if prev else w, {k: d.frame for k, d in ds.items()})


def run(kpi_id, df, **kw):
    return evaluate(KPIS[kpi_id], ctx_for(df, **kw))


def val(kpi_id, df, **kw):
    r = run(kpi_id, df, **kw)
    assert r.unavailable_reason is None, r.unavailable_reason
    return r.value


def approx(x):
    return pytest.approx(x, rel=1e-12, abs=1e-12)


# ---------------------------------------------------------------------------
# tickets and window edges


def test_tickets_window_edges_and_orphans():
    df = tk(created_at=["2026-09-30 23:59", "2026-10-01 00:00", "2026-10-31 23:59",
                        "2026-11-01 00:00", "2026-10-15 12:00"],
            account_id=["A", "A", None, "B", None])
    # in W: Oct 1 00:00, Oct 31 23:59 (orphan), Oct 15 (orphan) = 3
    r = run("tickets", df)
    assert r.value == 3 and r.n == 3
    # in P (September): only Sep 30 23:59
    assert val("tickets", df, prev=True) == 1


def test_tickets_empty_and_single():
    empty = tk(created_at=[])
    r = run("tickets", empty)
    assert r.value == 0 and r.n == 0  # a real count of zero, not a missing value
    assert run("first_response_hours_avg", tk(created_at=[], first_response_at=[])).value is None
    one = tk(created_at=["2026-10-10 10:00"], first_response_at=["2026-10-10 13:30"],
             resolved_at=["2026-10-11 10:00"])
    assert val("tickets", one) == 1
    assert val("first_response_hours_median", one) == approx(3.5)  # 13:30 − 10:00
    assert val("resolution_hours_avg", one) == approx(24.0)
    assert val("resolution_rate", one) == 1.0


# ---------------------------------------------------------------------------
# tickets_per_account (R32)


def test_tickets_per_account_all_accounts_without_billing():
    df = tk(created_at=["2026-10-02", "2026-10-03", "2026-10-04"], account_id=["A", None, "B"])
    # 3 tickets (the orphan counts) / 2 distinct accounts (A listed twice) = 1.5
    r = run("tickets_per_account", df, accounts=["A", "B", "A"])
    assert r.value == approx(1.5) and r.n == 2


def test_tickets_per_account_paying_accounts_with_billing():
    df = tk(created_at=["2026-10-02", "2026-10-03", "2026-10-04"], account_id=["A", None, "B"])
    billing = pd.DataFrame({
        "account_id": pd.Series(["A", "B"], dtype="str"),
        "amount": [100.0, 50.0],
        "period_start": pd.to_datetime(["2026-10-01", "2026-08-01"]).astype("datetime64[us]"),
        "period_end": pd.to_datetime(["2026-11-01", "2026-09-01"]).astype("datetime64[us]"),
    })
    # on R = Oct 31 only A pays (B's period ended Sep 1): 3 tickets / 1 = 3
    r = run("tickets_per_account", df, accounts=["A", "B", "C"], billing=billing)
    assert r.value == approx(3.0) and r.n == 1


def test_tickets_per_account_zero_denominator():
    df = tk(created_at=["2026-10-02"])
    assert run("tickets_per_account", df).value is None  # no accounts, no billing
    r = run("tickets_per_account", df, accounts=[])
    assert r.value is None and "no active accounts" in r.unavailable_reason


# ---------------------------------------------------------------------------
# open_tickets (R30)


def test_open_tickets_from_timestamps():
    df = tk(
        created_at=["2026-09-01", "2026-10-10", "2026-10-20", "2026-10-31 23:59",
                    "2026-11-01 00:00", "2026-10-05"],
        resolved_at=["2026-11-02", "2026-10-11", None, None, None, "2026-11-03"],
        closed_at=[None, None, "2026-10-25", None, None, "2026-10-06"],
    )
    # 1: resolved after R → open; 2: resolved Oct 11 → closed; 3: closed_at Oct 25 → closed;
    # 4: created on R 23:59, unresolved → open; 5: created after R → not counted;
    # 6: resolved_at Nov 3 but closed_at Oct 6: R30 open = neither resolved nor closed on
    # or before R, and it was closed on Oct 6 → not open. Open: 1 and 4 = 2.
    assert val("open_tickets", df) == 2
    # ...while "resolved" (resolution_rate) is resolved_at, else closed_at: 6 is resolved
    # on Nov 3, after R. Created in W: 2, 3, 4, 6; resolved by R: 2, 3 → 2/4
    assert val("resolution_rate", df) == approx(0.5)
    # on P's last day (Sep 30): only ticket 1 exists and is open
    assert val("open_tickets", df, prev=True) == 1


def test_status_only_dataset():
    df = tk(created_at=["2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04", "2026-11-02"],
            status=["open", "pending", "solved", "closed", "open"])
    # created on or before R with a non-closed status: tickets 1, 2 (5 is after R) = 2
    assert val("open_tickets", df) == 2
    # resolution_rate: created in W 4, status solved/closed 2 → 0.5
    assert val("resolution_rate", df) == approx(0.5)
    # the status does not say *when*: resolved-in-W KPIs are unavailable
    for k in ("resolved_tickets", "resolution_hours_avg", "resolution_hours_median"):
        r = run(k, df)
        assert r.value is None and r.unavailable_reason
    # timestamps present → status ignored (ticket 1 says solved but has no resolved_at)
    df2 = tk(created_at=["2026-10-01"], status=["solved"], resolved_at=[None])
    assert val("open_tickets", df2) == 1


# ---------------------------------------------------------------------------
# first response (R8, R31, R14)


def test_first_response_avg_median_even_count():
    df = tk(
        created_at=["2026-10-01 00:00", "2026-10-02 00:00", "2026-10-03 00:00",
                    "2026-10-04 00:00", "2026-10-05 00:00", "2026-10-31 23:00"],
        first_response_at=["2026-10-01 01:00", "2026-10-02 02:00", None,
                           "2026-10-04 04:00", None, "2026-11-01 09:00"],
        first_response_minutes=[999.0, None, 90.0, None, None, None],
    )
    # hours: 1 (timestamp wins over 999 min), 2, 1.5 (90 min, no timestamp), 4,
    # unanswered, 10 (answered after R still counts, R31) → [1, 1.5, 2, 4, 10]
    assert val("first_response_hours_avg", df) == approx((1 + 1.5 + 2 + 4 + 10) / 5)
    assert val("first_response_hours_median", df) == approx(2.0)
    # drop the 10h ticket: [1, 1.5, 2, 4] → even count, median = (1.5 + 2) / 2
    df4 = df.iloc[:5]
    assert val("first_response_hours_median", df4) == approx(1.75)
    assert run("first_response_hours_avg", df4).n == 4


def test_first_response_created_in_p_answered_after_p_counts_for_p():
    df = tk(created_at=["2026-09-30 20:00"], first_response_at=["2026-10-01 04:00"])
    assert val("first_response_hours_avg", df, prev=True) == approx(8.0)
    assert run("first_response_hours_avg", df).value is None  # nothing created in W


def test_negative_duration_guard():
    df = tk(created_at=["2026-10-02 10:00", "2026-10-03 10:00"],
            first_response_at=["2026-10-02 09:00", "2026-10-03 12:00"],
            resolved_at=["2026-10-01 10:00", "2026-10-04 10:00"])
    # the reply/resolution before creation is left out of the durations, kept in counts
    assert val("first_response_hours_avg", df) == approx(2.0)
    assert val("resolution_hours_avg", df) == approx(24.0)
    assert val("tickets", df) == 2


def test_first_response_needs_a_column():
    r = run("first_response_hours_avg", tk(created_at=["2026-10-02"]))
    assert r.value is None and "first_response" in r.unavailable_reason


# ---------------------------------------------------------------------------
# resolution


def test_resolution_hours_and_resolved_tickets():
    df = tk(
        created_at=["2026-09-28 00:00", "2026-10-01 00:00", "2026-10-10 00:00",
                    "2026-10-20 00:00", "2026-10-30 00:00"],
        resolved_at=["2026-10-01 00:00", None, "2026-10-10 06:00", "2026-11-01 00:00", None],
        closed_at=[None, "2026-10-03 00:00", None, None, None],
    )
    # resolved in W: t1 (72h, created in P), t2 via closed_at (48h), t3 (6h); t4 after R.
    assert val("resolved_tickets", df) == 3
    assert val("resolution_hours_avg", df) == approx((72 + 48 + 6) / 3)
    assert val("resolution_hours_median", df) == approx(48.0)
    # resolution_rate: created in W t2..t5 = 4, resolved by R: t2, t3 → 0.5
    assert val("resolution_rate", df) == approx(0.5)
    # P: created in P = t1, resolved Oct 1 00:00 = after P's R (Sep 30) → 0/1
    assert val("resolution_rate", df, prev=True) == 0.0


def test_resolution_rate_zero_tickets():
    df = tk(created_at=["2026-08-01"], resolved_at=["2026-08-02"])
    r = run("resolution_rate", df)
    assert r.value is None and r.n == 0 and r.unavailable_reason


# ---------------------------------------------------------------------------
# R26 optional columns


def test_first_contact_resolution():
    df = tk(created_at=["2026-10-01"] * 5,
            resolved_at=["2026-10-02"] * 5,
            agent_replies=[0.0, 1.0, 1.0, 3.0, None],
            reopens=[None, 0.0, 2.0, 0.0, 0.0])
    # known replies: 4 tickets; one touch and not reopened: t1 (0 replies), t2 → 2/4
    r = run("first_contact_resolution_rate", df)
    assert r.value == approx(0.5) and r.n == 4
    # no reopens column: nobody reopened → t1, t2, t3 → 3/4
    assert val("first_contact_resolution_rate", df.drop(columns="reopens")) == approx(0.75)
    r = run("first_contact_resolution_rate", df.drop(columns="agent_replies"))
    assert r.value is None and "agent_replies" in r.unavailable_reason


def test_escalation_rate_flag_and_tags():
    df = tk(created_at=["2026-10-01"] * 4, escalated=[True, False, None, True])
    # 2 escalated / 4 tickets (unknown counts as not escalated)
    assert val("escalation_rate", df) == approx(0.5)
    tags = tk(created_at=["2026-10-01"] * 4,
              tags=["billing,Escalated", "escalation", "escalation-review", None])
    # R9 tokens: t1 and t2 are escalated, 'escalation-review' is not a token match → 2/4
    assert val("escalation_rate", tags) == approx(0.5)
    r = run("escalation_rate", tk(created_at=["2026-10-01"]))
    assert r.value is None and "escalated" in r.unavailable_reason


def test_escalation_tags_fallback_matches_the_loader_rule():
    # a frame built without the loader must read tags the way the loader does
    # (normalize: tokens split on spaces, commas or semicolons): t1 'vip;escalated'
    # and t3 'Escalation' are tokens, 'escalated_later' is not → 2 of 4
    tags = tk(created_at=["2026-10-01"] * 4,
              tags=["vip;escalated", "escalated_later", "Escalation", "none"])
    assert val("escalation_rate", tags) == approx(0.5)


def test_abandonment_rate():
    df = tk(
        created_at=["2026-10-01"] * 7,
        abandoned=[True, None, None, None, None, None, None],
        status=["closed", "abandoned", "closed", "closed", "closed", "open", "closed"],
        closed_at=["2026-10-02", "2026-10-02", "2026-10-02", "2026-10-02", "2026-10-02", None,
                   "2026-11-05"],
        first_response_at=[None, None, None, None, "2026-10-01 01:00", None, None],
        agent_replies=[None, None, 0.0, None, 1.0, 0.0, 0.0],
    )
    # t1 flag; t2 status abandoned; t3 closed, no response, 0 replies; t4 closed, no response,
    # unknown replies; t5 answered → no; t6 still open → no; t7 closed after R → no (R30).
    # 4 / 7
    assert val("abandonment_rate", df) == approx(4 / 7)
    # R30 "resolved/closed on or before R": closed Oct 2 counts even though resolved_at is
    # after R (Nov 5); no response, 0 replies → abandoned, 1/1
    late = tk(created_at=["2026-10-01"], resolved_at=["2026-11-05"], closed_at=["2026-10-02"],
              first_response_at=[None], agent_replies=[0.0])
    assert val("abandonment_rate", late) == 1.0
    # closed without response but the agent replied twice (no first-response stamp) → not abandoned
    df2 = tk(created_at=["2026-10-01"], closed_at=["2026-10-02"], first_response_at=[None],
             agent_replies=[2.0])
    assert val("abandonment_rate", df2) == 0.0
    # nothing to evaluate → unavailable
    r = run("abandonment_rate", tk(created_at=["2026-10-01"]))
    assert r.value is None and r.unavailable_reason


def test_hold_hours_avg_includes_zeros():
    df = tk(created_at=["2026-10-01", "2026-10-02", "2026-10-03", "2026-09-01"],
            hold_minutes=[0.0, 60.0, 120.0, 600.0])
    # W: (0 + 60 + 120) / 3 minutes = 60 min = 1 h (the September ticket is in P)
    assert val("hold_hours_avg", df) == approx(1.0)
    r = run("hold_hours_avg", df.drop(columns="hold_minutes"))
    assert r.value is None and "hold_minutes" in r.unavailable_reason


def test_tickets_per_agent():
    df = tk(created_at=["2026-10-01"] * 6,
            resolved_at=["2026-10-02"] * 5 + [None],
            agent=["ann", "bob", "  ", None, "ann", "cid"])
    # 5 resolved in W (the unresolved 'cid' does not count) / 2 agents (ann, bob) = 2.5
    r = run("tickets_per_agent", df)
    assert r.value == approx(2.5) and r.n == 2
    blank = tk(created_at=["2026-10-01"], resolved_at=["2026-10-02"], agent=[None])
    assert run("tickets_per_agent", blank).value is None


def test_ticket_csat():
    df = tk(created_at=["2026-10-01"] * 7,
            resolved_at=["2026-10-02"] * 6 + ["2026-11-02"],
            satisfaction=["good", "bad", "5", "4", "3", None, "good"])
    # resolved in W and rated: good, bad, 5, 4, 3 → satisfied good, 5, 4 = 3/5
    r = run("ticket_csat", df)
    assert r.value == approx(0.6) and r.n == 5
    r = run("ticket_csat", df.drop(columns="satisfaction"))
    assert r.value is None and "satisfaction" in r.unavailable_reason


# ---------------------------------------------------------------------------
# breakdowns


def test_breakdowns():
    df = tk(
        created_at=["2026-10-01 00:00", "2026-10-02 00:00", "2026-10-03 00:00",
                    "2026-10-04 00:00", "2026-10-05 00:00"],
        first_response_at=["2026-10-01 01:00", "2026-10-02 03:00", "2026-10-03 05:00", None,
                           "2026-10-05 02:00"],
        resolved_at=["2026-10-02 00:00", None, "2026-10-04 00:00", None, "2026-10-05 12:00"],
        channel=["email", "email", "chat", "phone", None],
        priority=["high", "low", "high", "low", "low"],
        escalated=[True, False, False, True, False],
        satisfaction=["good", None, "bad", None, "4"],
    )
    t = run("tickets", df).extra
    assert t["by_channel"] == {"(blank)": 1, "chat": 1, "email": 2, "phone": 1}
    typed = df.assign(type=pd.Series(["bug", "question", "bug", " ", "Bug "], dtype="str"))
    # whitespace is stripped; case is kept as exported (the loader lower-cases categories)
    assert run("tickets", typed).extra["by_type"] == {"(blank)": 1, "Bug": 1, "bug": 2, "question": 1}
    assert t["by_priority"] == {"high": 2, "low": 3}
    assert "by_type" not in t  # no type column
    fr = run("first_response_hours_median", df).extra
    # email: 1 h and 3 h → median 2; chat 5; phone unanswered → None; blank 2
    assert fr["by_channel"] == {"(blank)": 2.0, "chat": 5.0, "email": 2.0, "phone": None}
    # high: 1, 5 → 3; low: 3, (none), 2 → 2.5
    assert fr["by_priority"] == {"high": 3.0, "low": 2.5}
    rr = run("resolution_rate", df).extra
    # email: t1 resolved, t2 not → 0.5; chat 1; phone 0; blank 1
    assert rr["by_channel"] == {"(blank)": 1.0, "chat": 1.0, "email": 0.5, "phone": 0.0}
    er = run("escalation_rate", df).extra
    assert er["by_priority"] == {"high": 0.5, "low": approx(1 / 3)}
    rm = run("resolution_hours_median", df).extra
    # resolved in W: t1 email 24h, t3 chat 24h, t5 blank 12h
    assert rm["by_channel"] == {"(blank)": 12.0, "chat": 24.0, "email": 24.0}
    cs = run("ticket_csat", df).extra
    # resolved: t1 good (email), t3 bad (chat), t5 4 (blank)
    assert cs["by_channel"] == {"(blank)": 1.0, "chat": 0.0, "email": 1.0}
    assert cs["by_priority"] == {"high": 0.5, "low": 1.0}


# ---------------------------------------------------------------------------
# business hours and SLA


def test_business_hours_kpis_unavailable_without_config():
    df = tk(created_at=["2026-10-01 08:00"], first_response_at=["2026-10-01 10:00"],
            resolved_at=["2026-10-02 08:00"])
    for k in ("first_response_business_hours_avg", "first_response_business_hours_median",
              "resolution_business_hours_avg", "resolution_business_hours_median"):
        r = run(k, df)
        assert r.value is None
        assert r.unavailable_reason == "needs support.business_hours in the config"


def test_business_hours_kpis_with_calendar():
    # Berlin is UTC+2 in October (CEST until Oct 25). Schedule 09:00–17:00 local
    # = 07:00–15:00 UTC, Mon–Fri; Oct 5 (Mon) is a holiday in BH.
    df = tk(
        created_at=["2026-10-01 06:00", "2026-10-02 14:00", "2026-10-03 10:00"],
        first_response_at=["2026-10-01 08:30", "2026-10-06 08:00", "2026-10-03 11:00"],
        resolved_at=["2026-10-01 16:00", "2026-10-06 08:00", None],
    )
    # t1 (Thu): 06:00 → 08:30 UTC, business from 07:00 → 1.5 h; resolved 16:00 → 07:00–15:00 = 8 h
    # t2 (Fri 14:00 UTC): Fri 14–15 = 1 h, weekend, Mon Oct 5 holiday, Tue 07–08 = 1 h → 2 h
    # t3 (Sat): Sat 10 → 11 = 0 h
    bh = {"business_hours": BH}
    assert val("first_response_business_hours_avg", df, config=bh) == approx((1.5 + 2 + 0) / 3)
    assert val("first_response_business_hours_median", df, config=bh) == approx(1.5)
    assert val("resolution_business_hours_avg", df, config=bh) == approx((8 + 2) / 2)
    assert val("resolution_business_hours_median", df, config=bh) == approx(5.0)
    # calendar KPIs are unchanged by the schedule
    assert val("first_response_hours_median", df, config=bh) == approx(2.5)


def test_business_hours_from_export_column():
    df = tk(created_at=["2026-10-01", "2026-10-02"],
            first_response_business_minutes=[30.0, 90.0])
    # no schedule: the help desk's own business minutes feed only the business KPI (R8)
    assert val("first_response_business_hours_avg", df) == approx(1.0)
    r = run("first_response_hours_avg", df)
    assert r.value is None  # never derived from the business column


SLA = {"urgent": {"first_response_hours": 1, "resolution_hours": 8},
       "high": {"first_response_hours": 4}}


def test_sla_breach_rate_calendar_hours():
    df = tk(
        created_at=["2026-10-01 00:00", "2026-10-01 00:00", "2026-10-01 00:00",
                    "2026-10-31 23:30", "2026-10-01 00:00", "2026-10-02 00:00",
                    "2026-10-03 00:00"],
        priority=["urgent", "urgent", "high", "high", "low", None, "urgent"],
        first_response_at=["2026-10-01 00:30", "2026-10-01 02:00", "2026-10-01 04:00", None,
                           None, None, "2026-10-01 00:30"],
        resolved_at=["2026-10-01 07:00", "2026-10-01 05:00", "2026-10-01 05:00", None, None,
                     None, None],
    )
    # t1 urgent: 0.5 h ≤ 1, 7 h ≤ 8 → ok.   t2 urgent: 2 h > 1 → breach.
    # t3 high: 4 h, not > 4 → ok.            t4 high, unanswered, created R 23:30: 0.5 h on R → ok.
    # t5 low and t6 no priority: no target.
    # t7 urgent: its reply stamp is before creation (negative: answered, duration unknown), so
    #   only its resolution target is judged: unresolved at the end of R (28 days) > 8 h → breach.
    # judged t1, t2, t3, t4, t7 = 5; breaches t2 (first response), t7 (resolution) → 2/5
    r = run("sla_breach_rate", df, config={"sla": SLA})
    assert r.value == approx(2 / 5) and r.n == 5
    assert r.extra["hours"] == "calendar"
    assert r.extra["first_response_breaches"] == 1 and r.extra["resolution_breaches"] == 1
    assert r.extra["by_priority"] == {"high": 0.0, "urgent": approx(2 / 3)}
    # unanswered high ticket 5 h before the end of R: 5 h > 4 → breach
    late = tk(created_at=["2026-10-31 19:00"], priority=["high"], first_response_at=[None])
    assert val("sla_breach_rate", late, config={"sla": SLA}) == 1.0


def test_sla_breach_rate_business_hours():
    # Thu Oct 1, 14:00 UTC = 16:00 Berlin; reply Fri Oct 2 08:00 UTC = 10:00 Berlin.
    # business time: Thu 16–17 (1 h) + Fri 09–10 (1 h) = 2 h ≤ 4 → ok (calendar: 18 h > 4).
    df = tk(created_at=["2026-10-01 14:00"], priority=["high"],
            first_response_at=["2026-10-02 08:00"])
    assert val("sla_breach_rate", df, config={"sla": SLA}) == 1.0
    r = run("sla_breach_rate", df, config={"sla": SLA, "business_hours": BH})
    assert r.value == 0.0 and r.extra["hours"] == "business"
    # still unanswered at the end of R (Sat Oct 31): created Fri Oct 30 14:00 UTC = 15:00 CET
    # (after the Oct 25 switch) → business clock Fri 15:00–17:00 = 2 h ≤ 4 → not (yet) breached;
    # the calendar clock (34 h) would breach.
    waiting = tk(created_at=["2026-10-30 14:00"], priority=["high"], first_response_at=[None])
    assert val("sla_breach_rate", waiting, config={"sla": SLA, "business_hours": BH}) == 0.0
    assert val("sla_breach_rate", waiting, config={"sla": SLA}) == 1.0


def test_sla_unavailable_and_config_errors():
    df = tk(created_at=["2026-10-01"], priority=["urgent"])
    assert run("sla_breach_rate", df).value is None  # no sla configured
    r = run("sla_breach_rate", tk(created_at=["2026-10-01"], priority=["low"],
                                  first_response_at=[None]), config={"sla": SLA})
    assert r.value is None and "SLA target" in r.unavailable_reason
    with pytest.raises(ConfigError) as e:
        run("sla_breach_rate", df, config={"sla": {"urgent": {"first_response_hours": "soon"}}})
    assert "support.sla.urgent.first_response_hours" in str(e.value)
    with pytest.raises(ConfigError) as e:
        run("sla_breach_rate", df, config={"sla": {"urgent": {"respond_in": 1}}})
    assert "support.sla.urgent.respond_in" in str(e.value)


# ---------------------------------------------------------------------------
# per-account metrics


def _metric(name, df, **kw):
    return ACCOUNT_METRICS[name].compute(ctx_for(df, **kw))


def test_account_metrics():
    df = tk(
        created_at=["2026-10-01 00:00", "2026-10-02 00:00", "2026-10-03 00:00",
                    "2026-09-01 00:00", "2026-10-04 00:00"],
        account_id=["A", "A", "B", "A", None],
        priority=["urgent", "low", "HIGH", "urgent", "urgent"],
        first_response_at=["2026-10-01 02:00", "2026-10-02 04:00", None, "2026-09-01 01:00",
                           "2026-10-04 01:00"],
        resolved_at=["2026-10-02 00:00", None, "2026-10-05 00:00", None, None],
        escalated=[True, False, True, True, True],
        satisfaction=["good", None, "2", None, "good"],
    )
    acc = ["A", "B", "C"]
    # tickets in W: A 2, B 1, C 0 (orphan t5 ignored)
    assert _metric("tickets", df, accounts=acc).to_dict() == {"A": 2.0, "B": 1.0, "C": 0.0}
    # urgent (urgent, high): A t1; B t3 ('HIGH' after lower-casing); C 0
    assert _metric("urgent_tickets", df, accounts=acc).to_dict() == {"A": 1.0, "B": 1.0, "C": 0.0}
    # open on R: A t2, t4 (t1 resolved); B 0 (resolved Oct 5); C 0
    assert _metric("open_tickets", df, accounts=acc).to_dict() == {"A": 2.0, "B": 0.0, "C": 0.0}
    # first response: A (2 + 4) / 2 = 3; B unanswered → absent
    assert _metric("first_response_hours", df, accounts=acc).to_dict() == {"A": 3.0}
    # resolution: A t1 24 h; B t3 48 h
    assert _metric("resolution_hours", df, accounts=acc).to_dict() == {"A": 24.0, "B": 48.0}
    assert _metric("escalated_tickets", df, accounts=acc).to_dict() == {"A": 1.0, "B": 1.0, "C": 0.0}
    assert _metric("ticket_csat", df, accounts=acc).to_dict() == {"A": 1.0, "B": 0.0}
    s = _metric("tickets", df, accounts=acc)
    assert s.index.name == "account_id" and s.dtype == "float64"


def test_tickets_per_seat():
    df = tk(created_at=["2026-10-01"] * 3, account_id=["A", "A", "B"])
    ds = {"tickets": Dataset("tickets", df),
          "accounts": Dataset("accounts", pd.DataFrame({
              "account_id": pd.Series(["A", "B", "C"], dtype="str"),
              "seats": [4.0, 0.0, 10.0]}))}
    w, _ = windows(pd.Timestamp("2026-10-31"), "month")
    ctx = Context(Bundle(ds), default_config(), w, {k: d.frame for k, d in ds.items()})
    # A 2/4 = 0.5; B has 0 seats → absent; C 0/10 = 0
    assert ACCOUNT_METRICS["tickets_per_seat"].compute(ctx).to_dict() == {"A": 0.5, "C": 0.0}


# ---------------------------------------------------------------------------
# registry


SUPPORT_IDS = [
    "tickets", "tickets_per_account", "open_tickets", "first_response_hours_avg",
    "first_response_hours_median", "resolution_hours_avg", "resolution_hours_median",
    "resolved_tickets", "resolution_rate", "first_contact_resolution_rate", "escalation_rate",
    "abandonment_rate", "hold_hours_avg", "tickets_per_agent", "ticket_csat",
    "first_response_business_hours_avg", "first_response_business_hours_median",
    "resolution_business_hours_avg", "resolution_business_hours_median", "sla_breach_rate",
]


@pytest.mark.parametrize("kid", SUPPORT_IDS)
def test_registered_with_metadata(kid):
    k = KPIS[kid]
    assert k.category == "support" and k.label and k.description


@pytest.mark.parametrize("kid", SUPPORT_IDS)
def test_every_kpi_survives_an_empty_frame(kid):
    empty = tk(created_at=[], first_response_at=[], resolved_at=[], closed_at=[], status=[],
               priority=[], channel=[], agent=[], escalated=[], abandoned=[], satisfaction=[],
               agent_replies=[], hold_minutes=[], account_id=[])
    r = run(kid, empty, accounts=["A"], config={"sla": SLA, "business_hours": BH})
    if kid in ("tickets", "open_tickets", "resolved_tickets", "tickets_per_account"):
        assert r.value == 0
    else:
        assert r.value is None and r.unavailable_reason


def test_frame_without_tickets_dataset():
    ds = {}
    w, _ = windows(pd.Timestamp("2026-10-31"), "month")
    ctx = Context(Bundle(ds), default_config(), w, {})
    r = evaluate(KPIS["tickets"], ctx)
    assert r.value is None and "tickets" in r.unavailable_reason


def test_vectorised_np_bool_masks_do_not_leak_nan():
    df = tk(created_at=["2026-10-01", "2026-10-02"], resolved_at=[None, None])
    assert val("resolved_tickets", df) == 0
    assert np.isfinite(val("open_tickets", df))


# ---------------------------------------------------------------------------
# through the engine: W and P share caches, --by groups leave orphans out


def test_engine_table_with_groups_and_shared_caches():
    from cs_metrics.metrics.engine import compute_table

    tickets = tk(
        created_at=["2026-10-01 09:00", "2026-10-02 09:00", "2026-10-03 09:00",
                    "2026-09-10 09:00", "2026-10-04 09:00"],
        account_id=["A", "B", None, "A", "A"],
        first_response_at=["2026-10-01 10:00", "2026-10-02 12:00", "2026-10-03 13:00",
                           "2026-09-10 17:00", None],
        resolved_at=["2026-10-01 12:00", None, "2026-10-04 09:00", "2026-09-11 09:00", None],
    )
    accounts = pd.DataFrame({"account_id": pd.Series(["A", "B"], dtype="str"),
                             "segment": pd.Series(["Ent", "SMB"], dtype="str")})
    b = Bundle({"tickets": Dataset("tickets", tickets, rows_read=5),
                "accounts": Dataset("accounts", accounts, rows_read=2)})
    w, _ = windows(pd.Timestamp("2026-10-31"), "month")
    t = compute_table(b, default_config(), w, by="segment")
    # company-wide: Oct tickets 1, 2, 3 (orphan), 5 = 4; Sept: ticket 4 = 1
    assert (t.get("tickets").value, t.get("tickets").previous) == (4, 1)
    # first response Oct: 1, 3, 4 h (t5 unanswered) → median 3; Sept: 8 h
    fr = t.get("first_response_hours_median")
    assert (fr.value, fr.previous) == (3.0, 8.0)
    ent = {k.id: k for k in t.groups["Ent"]}
    smb = {k.id: k for k in t.groups["SMB"]}
    # Ent = account A: Oct tickets 1 and 5; SMB = B: ticket 2; the orphan is in neither
    assert ent["tickets"].value == 2 and smb["tickets"].value == 1
    assert ent["first_response_hours_median"].value == 1.0
    assert smb["first_response_hours_median"].value == 3.0
    # tickets per account inside a group: Ent 2 tickets / 1 account
    assert ent["tickets_per_account"].value == 2.0
    # open on R: company t2, t5 → 2; Ent t5 → 1
    assert t.get("open_tickets").value == 2 and ent["open_tickets"].value == 1


def test_account_frame_through_engine():
    from cs_metrics.metrics.engine import account_frame

    tickets = tk(created_at=["2026-10-01", "2026-10-02"], account_id=["A", None],
                 priority=["urgent", "urgent"])
    accounts = pd.DataFrame({"account_id": pd.Series(["A", "B"], dtype="str")})
    b = Bundle({"tickets": Dataset("tickets", tickets), "accounts": Dataset("accounts", accounts)})
    w, _ = windows(pd.Timestamp("2026-10-31"), "month")
    f = account_frame(b, default_config(), w, metrics=["tickets", "urgent_tickets"])
    assert f["tickets"].to_dict() == {"A": 1.0, "B": 0.0}
    assert f["urgent_tickets"].to_dict() == {"A": 1.0, "B": 0.0}


# ---------------------------------------------------------------------------
# properties: breakdowns add up to the whole



@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(
    st.integers(0, 90),                     # created: days after Sept 1
    st.one_of(st.none(), st.integers(0, 60)),  # hours to resolution
    st.sampled_from(["email", "chat", None, " "]),
    st.sampled_from([True, False, None]),
), max_size=30))
def test_breakdowns_are_consistent_with_totals(rows):
    base = pd.Timestamp("2026-09-01")
    created = [str(base + pd.Timedelta(days=d)) for d, *_ in rows]
    resolved = [None if h is None else str(base + pd.Timedelta(days=d, hours=h))
                for d, h, *_ in rows]
    df = tk(created_at=created, resolved_at=resolved, channel=[c for *_, c, _ in rows],
            escalated=[e for *_, e in rows])
    t = run("tickets", df)
    assert sum(t.extra["by_channel"].values()) == t.value
    for kid in ("resolution_rate", "escalation_rate"):
        r = run(kid, df)
        if r.value is None:
            continue
        counts = t.extra["by_channel"]
        weighted = sum(counts[k] * v for k, v in r.extra["by_channel"].items())
        assert weighted / t.value == pytest.approx(r.value)
    # resolved_tickets + open on R never exceed created on or before R
    created_by_r = sum(pd.Timestamp(c) < pd.Timestamp("2026-11-01") for c in created)
    assert val("open_tickets", df) <= created_by_r
