"""Revenue KPIs on tiny hand-computed billing frames (SPEC §3, R11, R16–R26, R36)."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cs_metrics.bundle import Bundle, Dataset
from cs_metrics.config import default_config
from cs_metrics.errors import InputError
from cs_metrics.metrics import revenue as rv
from cs_metrics.metrics.registry import ACCOUNT_METRICS, KPIS, Context
from cs_metrics.timeframe import Window, windows

T = pd.Timestamp


def billing(rows: list[dict]) -> pd.DataFrame:
    """Canonical billing frame with loader dtypes from a list of dicts."""
    df = pd.DataFrame(rows)
    for c in ("issued_at", "period_start", "period_end", "ended_at", "due_at", "paid_at"):
        if c in df.columns:
            df[c] = pd.to_datetime(df[c], format="ISO8601")
    for c in ("account_id", "invoice_id", "currency", "interval", "kind", "status"):
        if c in df.columns:
            df[c] = df[c].astype("str")
    if "amount" in df.columns:
        df["amount"] = df["amount"].astype("float64")
    return df


def ctx_for(frames: dict, window: Window, flags=(), config=None, shared=None) -> Context:
    bundle = Bundle(
        {
            name: Dataset(name, f, meta={"amount_flags": list(flags)} if name == "billing" else {})
            for name, f in frames.items()
        }
    )
    return Context(
        bundle,
        config or default_config(),
        window,
        dict(frames),
        shared={} if shared is None else shared,
    )


def month(as_of: str) -> Window:
    return windows(T(as_of), "month")[0]


def norm(rows, flags=(), config=None) -> pd.DataFrame:
    return rv.normalise_billing(billing(rows), set(flags), config or default_config())


def sub(acc, amount, start, end=None, **kw):
    """A row for [start, end) billed monthly (amount = MRR) unless `interval` says otherwise."""
    kw.setdefault("interval", "month")
    return {"account_id": acc, "amount": amount, "period_start": start, "period_end": end, **kw}


def value(ctx, kpi_id):
    return KPIS[kpi_id].compute(ctx)


# ---------------------------------------------------------------- normalisation


def test_yearly_plan_is_one_twelfth():
    # ChartMogul: a $2,000 yearly plan is 2000 / 12 = 166.666… MRR.
    n = norm([sub("A", 2000, "2026-01-01", "2027-01-01", interval="year")])
    assert n.loc[0, "monthly"] == pytest.approx(2000 / 12)
    assert n.loc[0, "recurring"]


@pytest.mark.parametrize(
    "start,end,interval,months",
    [
        ("2026-01-01", "2026-03-31", "quarterly", 3),  # quarterly word: 300/3
        ("2026-01-01", "2026-04-01", None, 3),  # 90 days / 30.4375 = 2.96 → 3
        ("2026-01-01", "2028-01-01", None, 24),  # two-year term: 730 / 30.4375 = 23.98 → 24
        ("2026-01-01", "2026-12-31", "annual", 12),  # inclusive year, interval word annual
        ("2026-01-01", "2027-01-01", "12", 12),  # months as a number
        ("2026-01-01", "2026-01-11", None, 1),  # 10 days rounds to 0 → at least 1
    ],
)
def test_terms(start, end, interval, months):
    n = norm([sub("A", 300, start, end, interval=interval)])
    assert n.loc[0, "monthly"] == pytest.approx(300 / months)


def test_week_and_day_intervals_unrounded():
    # weekly: months = 7 / 30.4375; daily: 1 / 30.4375 (R19, no rounding)
    n = norm(
        [
            sub("A", 10, "2026-01-01", "2026-01-08", interval="weekly"),
            sub("B", 2, "2026-01-01", "2026-01-02", interval="day"),
        ]
    )
    assert n.loc[0, "monthly"] == pytest.approx(10 * 30.4375 / 7)
    assert n.loc[1, "monthly"] == pytest.approx(2 * 30.4375)


@pytest.mark.parametrize(
    "start,end,expected_end,months",
    [
        ("2026-01-01", "2026-01-31", "2026-02-01", 1),  # Jan 1 – Jan 31 inclusive → +1 day, 1 month
        ("2026-01-01", "2026-02-01", "2026-02-01", 1),  # Jan 1 – Feb 1 exclusive, unchanged
        (
            "2026-01-31",
            "2026-02-27",
            "2026-02-28",
            1,
        ),  # 31 Jan + 1 month = 28 Feb (clipped), − 1 day
        (
            "2026-01-31",
            "2026-02-28",
            "2026-02-28",
            1,
        ),  # exclusive: already start + 1 month (28 d → 1)
        ("2026-03-15", "2027-03-14", "2027-03-15", 12),  # k = 12: 365 d / 30.4375 = 11.99 → 12
        (
            "2026-01-01",
            "2026-01-20",
            "2026-01-20",
            1,
        ),  # not whole months: unchanged; 19 d → 1 (min)
    ],
)
def test_inclusive_ends(start, end, expected_end, months):
    n = norm([sub("A", 120, start, end, interval=None)])
    assert n.loc[0, "end"] == T(expected_end)
    assert n.loc[0, "monthly"] == pytest.approx(120 / months)


def test_timestamps_truncated_to_dates():
    # R17: 2026-01-01 23:30 → 2026-01-01; end 2026-01-31 08:00 → 2026-01-31 → inclusive → Feb 1
    n = norm([sub("A", 100, "2026-01-01 23:30", "2026-01-31 08:00")])
    assert n.loc[0, "start"] == T("2026-01-01") and n.loc[0, "end"] == T("2026-02-01")


def test_quantity_and_tax_flags():
    rows = [sub("A", 10, "2026-01-01", "2026-02-01", quantity=5.0, tax=2.0)]
    # per_unit: 10 × 5 = 50; tax column ignored without tax_inclusive
    assert norm(rows, {"per_unit"}).loc[0, "monthly"] == pytest.approx(50)
    # tax_inclusive: 10 − 2 = 8; quantity ignored without per_unit
    assert norm(rows, {"tax_inclusive"}).loc[0, "monthly"] == pytest.approx(8)
    # neither flag: as billed
    assert norm(rows).loc[0, "amount_base"] == pytest.approx(10)


def test_monthly_flag_means_already_monthly():
    # An `mrr` column on a yearly subscription is already monthly: not divided by 12.
    n = norm(
        [{"account_id": "A", "amount": 50.0, "period_start": "2026-01-01", "interval": "year"}],
        {"monthly"},
    )
    assert n.loc[0, "monthly"] == pytest.approx(50)


@pytest.mark.parametrize(
    "status",
    ["void", "Voided", "draft", "deleted", "refunded", "trial", "trialing", "in_trial", " DRAFT "],
)
def test_not_recurring_statuses(status):
    n = norm([sub("A", 100, "2026-01-01", "2026-02-01", status=status)])
    assert not n.loc[0, "recurring"] and n.loc[0, "monthly"] == 0


@pytest.mark.parametrize("status", ["open", "past_due", "uncollectible", "paid"])
def test_recurring_statuses(status):
    assert norm([sub("A", 100, "2026-01-01", "2026-02-01", status=status)]).loc[0, "recurring"]


@pytest.mark.parametrize("kind", ["one_time", "one-time", "one-off", "one off", "setup", "oneoff"])
def test_one_off_kinds(kind):
    assert not norm([sub("A", 100, "2026-01-01", "2026-02-01", kind=kind)]).loc[0, "recurring"]


def test_end_not_after_start_is_not_recurring():
    assert not norm([sub("A", 100, "2026-02-01", "2026-02-01")]).loc[0, "recurring"]
    assert not norm([sub("A", 100, "2026-02-01", "2026-01-15")]).loc[0, "recurring"]


def test_void_flag_only_for_void_draft_deleted():
    n = norm(
        [
            sub("A", 1, "2026-01-01", "2026-02-01", status=s)
            for s in ("void", "draft", "deleted", "refunded")
        ]
    )
    assert n["void"].tolist() == [True, True, True, False]


def test_currency_conversion_and_unknown_code():
    cfg = default_config()
    cfg["currency"] = {"base": "USD", "rates": {"eur": 1.08}}  # lower-case key is fine (R23)
    rows = [
        sub("A", 100, "2026-01-01", "2026-02-01", currency="EUR"),
        sub("B", 100, "2026-01-01", "2026-02-01", currency="USD"),
        sub("C", 100, "2026-01-01", "2026-02-01", currency=None),
    ]  # blank → base
    n = norm(rows, config=cfg)
    assert n["monthly"].tolist() == pytest.approx([108.0, 100.0, 100.0])
    with pytest.raises(InputError) as e:
        norm([sub("A", 100, "2026-01-01", "2026-02-01", currency="GBP")], config=cfg)
    assert "GBP" in str(e.value) and "currency.rates.GBP" in str(e.value)
    assert (
        e.value.issues[0].code == "unknown-currency"
        and e.value.issues[0].key == "currency.rates.GBP"
    )


def test_no_currency_column_is_base():
    assert norm([sub("A", 100, "2026-01-01", "2026-02-01")]).loc[0, "amount_base"] == 100


def test_subscription_rows():
    # R19: start, no end, no issue date → active from start until ended_at, or forever.
    b = billing(
        [
            {
                "account_id": "A",
                "amount": 1200.0,
                "period_start": "2026-01-10",
                "interval": "annual",
                "ended_at": None,
            },
            {
                "account_id": "B",
                "amount": 50.0,
                "period_start": "2026-01-10",
                "interval": "month",
                "ended_at": "2026-03-05",
            },
        ]
    )
    c = ctx_for({"billing": b}, month("2026-06-30"))
    m = rv.mrr_at_days(
        c, [T("2026-01-09"), T("2026-01-10"), T("2026-03-04"), T("2026-03-05"), T("2030-01-01")]
    )
    assert m.loc["A"].tolist() == pytest.approx([0, 100, 100, 100, 100])  # 1200 / 12, open-ended
    assert m.loc["B"].tolist() == pytest.approx([0, 50, 50, 0, 0])  # ends (exclusive) on 5 Mar


def test_invoice_with_interval_but_no_period_starts_at_issue():
    b = billing(
        [{"account_id": "A", "amount": 300.0, "issued_at": "2026-01-31", "interval": "quarter"}]
    )
    n = rv.normalise_billing(b, set(), default_config())
    # 31 Jan + 3 months = 30 Apr (clipped); monthly 300 / 3 = 100
    assert n.loc[0, "start"] == T("2026-01-31") and n.loc[0, "end"] == T("2026-04-30")
    assert n.loc[0, "monthly"] == pytest.approx(100)


def test_add_months_clips():
    d = np.array(["2026-01-31", "2024-01-31", "2026-03-31", "NaT"], dtype="datetime64[D]")
    out = rv.add_months(d, np.array([1, 1, -1, 1]))
    assert list(out[:3]) == [
        np.datetime64("2026-02-28"),
        np.datetime64("2024-02-29"),
        np.datetime64("2026-02-28"),
    ]
    assert np.isnat(out[3])


# ---------------------------------------------------------------- MRR on days


def test_mrr_on_boundaries_and_missing_accounts():
    b = billing(
        [
            sub("A", 100, "2026-03-01", "2026-04-01"),
            sub("A", 30, "2026-03-15", "2026-04-15"),
            sub("B", 10, "2026-01-01", "2026-01-31", kind="one_time"),
        ]
    )
    c = ctx_for({"billing": b}, month("2026-03-31"))
    assert rv.mrr_on(c, T("2026-02-28")).to_dict() == {"A": 0.0, "B": 0.0}
    assert rv.mrr_on(c, T("2026-03-01"))["A"] == 100  # start inclusive
    assert rv.mrr_on(c, T("2026-03-20"))["A"] == 130  # overlapping rows add up
    assert rv.mrr_on(c, T("2026-04-01"))["A"] == 30  # end exclusive
    assert rv.mrr_on(c, T("2026-04-15"))["A"] == 0


def test_float_drift_snaps_to_zero():
    # 0.1 + 0.2 − 0.1 − 0.2 is 2.8e-17 in floats; must be exactly "not paying".
    b = billing(
        [
            sub("A", 0.1, "2026-01-01", "2026-02-01"),
            sub("A", 0.2, "2026-01-01", "2026-02-01"),
            sub("A", 0.7, "2026-01-15", "2026-02-01"),
        ]
    )
    c = ctx_for({"billing": b}, month("2026-02-28"))
    assert rv.mrr_on(c, T("2026-02-10"))["A"] == 0.0
    assert value(c, "paying_accounts").value == 0


def test_empty_billing():
    b = billing([sub("A", 1, "2026-01-01", "2026-02-01")]).iloc[0:0]
    c = ctx_for({"billing": b}, month("2026-03-15"))
    # nothing recurring at all: MRR is unknown, not a fake 0
    for k in (
        "mrr",
        "arr",
        "paying_accounts",
        "arpa",
        "new_mrr",
        "net_new_mrr",
        "logo_churn_rate",
        "customer_retention_rate",
        "gross_revenue_churn_rate",
        "nrr",
        "grr",
        "quick_ratio",
    ):
        r = value(c, k)
        assert r.value is None and r.unavailable_reason, k
    assert rv.mrr_at_days(c, [T("2026-01-01")]).shape == (0, 1)


def test_single_row():
    c = ctx_for(
        {"billing": billing([sub("A", 120, "2026-03-01", "2027-03-01", interval="year")])},
        month("2026-03-20"),
    )
    # 120 / 12 = 10 MRR, one payer, new this month
    assert value(c, "mrr").value == pytest.approx(10)
    assert value(c, "arr").value == pytest.approx(120)
    assert value(c, "arpa").value == pytest.approx(10)
    assert value(c, "new_mrr").value == pytest.approx(10)
    assert value(c, "logo_churn_rate").value is None  # nobody paid on 28 Feb


# ---------------------------------------------------------------- movements


def chartmogul_frame() -> pd.DataFrame:
    """ChartMogul's example: start MRR $100 on 31 Jan; in February A (10) churns,
    B 40 → 30 (contraction 10), C 30 → 40 (expansion 10), D 20 unchanged."""
    return billing(
        [
            sub("A", 10, "2026-01-01", "2026-02-10"),
            sub("B", 40, "2026-01-01", "2026-02-01"),
            sub("B", 30, "2026-02-01", "2026-04-01"),
            sub("C", 30, "2026-01-01", "2026-02-01"),
            sub("C", 40, "2026-02-01", "2026-04-01"),
            sub("D", 20, "2026-01-01", "2026-04-01"),
        ]
    )


def test_chartmogul_gross_revenue_churn_example():
    # start MRR (31 Jan) = 10 + 40 + 30 + 20 = 100; end (28 Feb) = 0 + 30 + 40 + 20 = 90
    c = ctx_for({"billing": chartmogul_frame()}, month("2026-02-28"))
    assert value(c, "churned_mrr").value == pytest.approx(10)
    assert value(c, "contraction_mrr").value == pytest.approx(10)
    assert value(c, "expansion_mrr").value == pytest.approx(10)
    # gross revenue churn = (10 + 10) / 100 = 20 %
    assert value(c, "gross_revenue_churn_rate").value == pytest.approx(0.20)
    # net new = 0 + 10 + 0 − 10 − 10 = −10
    assert value(c, "net_new_mrr").value == pytest.approx(-10)
    # NRR = 90 / 100; GRR = (0 + 30 + 30 + 20) / 100 = 0.8
    assert value(c, "nrr").value == pytest.approx(0.9)
    assert value(c, "grr").value == pytest.approx(0.8)
    # logo churn: 1 of 4; quick ratio 10 / 20
    assert value(c, "logo_churn_rate").value == pytest.approx(0.25)
    assert value(c, "logo_churn_rate").n == 4
    assert value(c, "customer_retention_rate").value == pytest.approx(0.75)
    assert value(c, "quick_ratio").value == pytest.approx(0.5)


def test_new_vs_reactivation():
    b = billing(
        [
            sub(
                "OLD", 50, "2025-10-01", "2025-12-01"
            ),  # paid at Oct and Nov month-ends, gone on 31 Dec
            sub("OLD", 70, "2026-02-10", "2026-04-01"),  # comes back in Feb → reactivation
            sub("NEW", 30, "2026-02-03", "2026-04-01"),  # first time ever → new
            sub(
                "BLIP", 99, "2025-12-05", "2025-12-20"
            ),  # paid only mid-December, never at a month-end
            sub("BLIP", 20, "2026-02-05", "2026-04-01"),  # so R22 calls its return "new"
        ]
    )
    c = ctx_for({"billing": b}, month("2026-02-28"))
    assert value(c, "new_mrr").value == pytest.approx(50)  # 30 + 20
    assert value(c, "new_mrr").n == 2
    assert value(c, "reactivation_mrr").value == pytest.approx(70)


def test_quarter_sums_month_end_steps():
    # Q1 2026 to 15 Mar: steps 31 Dec → 31 Jan → 28 Feb → 15 Mar.
    b = billing(
        [
            sub("A", 100, "2025-12-01", "2026-01-15"),  # churns in Jan: churn 100
            sub("A", 60, "2026-02-01", "2026-04-01"),  # returns in Feb: reactivation 60
            sub(
                "B", 10, "2026-01-10", "2026-02-01"
            ),  # joins & leaves between steps: new 10, churn 10
            sub("B", 10, "2026-02-01", "2026-03-01"),
            sub("C", 40, "2026-01-05", "2026-02-15"),  # new 40 at 31 Jan, 0 on 28 Feb: churn 40
        ]
    )
    c = ctx_for({"billing": b}, windows(T("2026-03-15"), "quarter")[0])
    # B: 31 Jan 10 (new), 28 Feb 10 (same), 15 Mar 0 (churn 10)
    assert value(c, "new_mrr").value == pytest.approx(50)
    assert value(c, "reactivation_mrr").value == pytest.approx(60)
    assert value(c, "churned_mrr").value == pytest.approx(100 + 40 + 10)
    # logo churn: only A paid on 31 Dec; A pays 60 on 15 Mar → 0 churned of 1
    assert value(c, "logo_churn_rate").value == 0
    # net new = 50 + 60 − 150 = −40 = end (60) − start (100)
    assert value(c, "net_new_mrr").value == pytest.approx(-40)


def test_nd_period_one_step():
    # 30d ending 15 Mar: window 14 Feb – 15 Mar, day before = 13 Feb; one step 13 Feb → 15 Mar.
    b = billing(
        [
            sub("A", 100, "2026-01-01", "2026-02-20"),
            sub("A", 100, "2026-02-25", "2026-04-01"),  # gap inside W
            sub("B", 10, "2026-02-20", "2026-02-25"),  # joins and leaves inside W: no movement
            sub("C", 5, "2026-01-01", "2026-04-01"),
            sub("C", 5, "2026-02-28", "2026-04-01"),  # 5 → 10
        ]
    )
    c = ctx_for({"billing": b}, windows(T("2026-03-15"), "30d")[0])
    assert c.window.start == T("2026-02-14")
    # A: 100 → 100 (gap inside W ignored); B: 0 → 0; C: 5 → 10 expansion
    assert value(c, "churned_mrr").value == 0
    assert value(c, "new_mrr").value == 0
    assert value(c, "expansion_mrr").value == pytest.approx(5)
    assert value(c, "logo_churn_rate").value == 0  # A churned and returned inside W


def test_nd_reactivation_sees_month_ends_inside_w():
    # R22: "had MRR before" = MRR > 0 at any calendar month-end earlier than the step's end.
    # 45d ending 20 Mar 2026: W = 4 Feb – 20 Mar (Feb 4–28 is 25 days + Mar 1–20 is 20 days),
    # one step (R16): 3 Feb → 20 Mar. The month-end 28 Feb lies inside W, before R.
    b = billing(
        [
            sub("RET", 40, "2026-02-10", "2026-03-05"),  # pays 40 on 28 Feb, 0 on 3 Feb
            sub("RET", 60, "2026-03-12", "2026-04-01"),  # 0 → 60 over the step: had MRR → react.
            sub("NEW", 25, "2026-03-01", "2026-04-01"),  # 0 on 28 Feb, 25 on R: first time → new
        ]
    )
    c = ctx_for({"billing": b}, windows(T("2026-03-20"), "45d")[0])
    assert c.window.start == T("2026-02-04")
    assert value(c, "new_mrr").value == pytest.approx(25)
    assert value(c, "reactivation_mrr").value == pytest.approx(60)
    # net new = 25 + 60 = 85 = MRR on R (85) − MRR on 3 Feb (0)
    assert value(c, "net_new_mrr").value == pytest.approx(85)


def test_join_and_leave_inside_w_not_in_logo_churn():
    b = billing(
        [sub("A", 10, "2026-01-01", "2026-04-01"), sub("B", 10, "2026-03-05", "2026-03-10")]
    )
    c = ctx_for({"billing": b}, month("2026-03-31"))
    r = value(c, "logo_churn_rate")
    assert r.value == 0 and r.n == 1


def test_window_boundaries_start_is_day_before():
    # R21: MRR at the start of March = MRR on 28 Feb, not on 1 Mar.
    b = billing(
        [
            sub("A", 100, "2026-01-01", "2026-03-01"),  # ends on 1 Mar (exclusive): paid 28 Feb
            sub("B", 50, "2026-03-01", "2026-04-01"),
        ]
    )  # starts on W's first day
    c = ctx_for({"billing": b}, month("2026-03-31"))
    assert value(c, "logo_churn_rate").value == 1.0  # A paid on 28 Feb, not on 31 Mar
    assert value(c, "churned_mrr").value == 100
    assert value(c, "new_mrr").value == 50
    assert value(c, "nrr").value == 0.0
    # last day of W: a row starting on R counts, ending on R does not
    # (5 Jan – 31 Mar is not one day short of whole months, so 31 Mar stays exclusive)
    b2 = billing(
        [sub("A", 100, "2026-01-05", "2026-03-31"), sub("B", 7, "2026-03-31", "2026-04-30")]
    )
    c2 = ctx_for({"billing": b2}, month("2026-03-31"))
    assert value(c2, "mrr").value == 7


def test_previous_window_uses_its_own_last_day():
    # R14: P = February, R = 28 Feb.
    W, P = windows(T("2026-03-10"), "month")
    b = billing(
        [sub("A", 100, "2026-01-01", "2026-03-05"), sub("B", 40, "2026-02-10", "2026-05-01")]
    )
    shared: dict = {}
    cw = ctx_for({"billing": b}, W, shared=shared)
    cp = ctx_for({"billing": b}, P, shared=shared)
    # both contexts hold the same frame object, so the normalisation is built once
    assert value(cp, "mrr").value == 140  # on 28 Feb both pay
    assert value(cp, "new_mrr").value == 40
    assert value(cw, "mrr").value == 40  # on 10 Mar A has ended
    assert value(cw, "churned_mrr").value == 100
    assert sum(1 for k in shared if k[0] == "revenue.normalised") == 1


def test_equality_tolerance():
    # 100 → 100 + 1e-8: |diff| < 1e-9 × 100 → equal, no expansion
    b = billing(
        [
            sub("A", 100, "2026-01-01", "2026-03-01"),
            sub("A", 100 + 1e-8, "2026-03-01", "2026-04-01"),
        ]
    )
    c = ctx_for({"billing": b}, month("2026-03-31"))
    assert value(c, "expansion_mrr").value == 0


# ---------------------------------------------------------------- transactions, late payments


def test_transactions_multiline_invoices():
    b = billing(
        [
            {"account_id": "A", "amount": 100.0, "invoice_id": "in_1", "issued_at": "2026-03-02"},
            {
                "account_id": "A",
                "amount": 50.0,
                "invoice_id": "in_1",
                "issued_at": "2026-03-02",
            },  # line 2
            {
                "account_id": "B",
                "amount": 30.0,
                "invoice_id": None,
                "issued_at": "2026-03-31",
            },  # no id: own row
            {"account_id": "B", "amount": 20.0, "invoice_id": None, "issued_at": "2026-03-15"},
            {
                "account_id": "B",
                "amount": 999.0,
                "invoice_id": "in_2",
                "issued_at": "2026-03-15",
                "status": "void",
            },
            {
                "account_id": "B",
                "amount": 70.0,
                "invoice_id": "in_3",
                "issued_at": "2026-02-28",
            },  # before W
            {
                "account_id": "C",
                "amount": 40.0,
                "invoice_id": "in_4",
                "issued_at": "2026-03-20",
                "status": "refunded",
            },
        ]
    )
    c = ctx_for({"billing": b}, month("2026-03-31"))
    # in_1 (150), 30, 20, in_4 (40) → 4 transactions, mean (150 + 30 + 20 + 40) / 4 = 60
    assert value(c, "transactions").value == 4
    assert value(c, "avg_transaction_value").value == pytest.approx(60)


def test_transactions_none_in_w():
    b = billing([{"account_id": "A", "amount": 1.0, "invoice_id": "x", "issued_at": "2025-01-01"}])
    c = ctx_for({"billing": b}, month("2026-03-31"))
    assert value(c, "transactions").value == 0
    assert value(c, "avg_transaction_value").value is None


def test_transactions_issued_at_all_blank_is_unknown_not_zero():
    # R26 in spirit: an issued_at column with no value cannot tell what was issued in W;
    # 0 transactions would be a fake number.
    b = billing([sub("A", 10, "2026-03-01", "2026-04-01", issued_at=None)])
    b["issued_at"] = pd.to_datetime(b["issued_at"])
    c = ctx_for({"billing": b}, month("2026-03-31"))
    for k in ("transactions", "avg_transaction_value"):
        r = value(c, k)
        assert r.value is None and "issued_at" in r.unavailable_reason, k


def test_late_payment_rule():
    R = "2026-03-20"
    b = billing(
        [
            {
                "account_id": "A",
                "amount": 1.0,
                "due_at": "2026-03-05 09:00",
                "paid_at": "2026-03-05 18:00",
            },  # same day: on time
            {
                "account_id": "A",
                "amount": 1.0,
                "due_at": "2026-03-05",
                "paid_at": "2026-03-06 01:00",
            },  # late
            {
                "account_id": "B",
                "amount": 1.0,
                "due_at": "2026-03-10",
                "paid_at": None,
            },  # unpaid past due: late
            {
                "account_id": "B",
                "amount": 1.0,
                "due_at": "2026-03-20",
                "paid_at": None,
            },  # due on R: not yet late
            {
                "account_id": "B",
                "amount": 1.0,
                "due_at": None,
                "paid_at": None,
            },  # no due date: not due
            {
                "account_id": "C",
                "amount": 1.0,
                "due_at": "2026-03-01",
                "paid_at": None,
                "status": "void",
            },  # excluded
            {
                "account_id": "C",
                "amount": 1.0,
                "due_at": "2026-02-27",
                "paid_at": None,
            },  # due before W
            {
                "account_id": "C",
                "amount": 1.0,
                "due_at": "2026-03-02",
                "paid_at": "2026-02-20",
            },  # paid early
        ]
    )
    c = ctx_for({"billing": b}, month(R))
    r = value(c, "late_payment_rate")
    # due in W: rows 1, 2, 3, 4, 8 → 5; late: rows 2, 3 → 2 / 5
    assert r.value == pytest.approx(2 / 5) and r.n == 5
    late = ACCOUNT_METRICS["late_payments"].compute(c)
    assert late.to_dict() == {"A": 1.0, "B": 1.0, "C": 0.0}
    rate = ACCOUNT_METRICS["late_payment_rate"].compute(c)
    assert rate["A"] == 0.5 and rate["B"] == 0.5 and rate["C"] == 0.0


def test_late_payment_needs_a_way_to_tell_paid_rows():
    # QuickBooks' invoice list has Due date but neither a paid date nor a status: every row due
    # before R would read as "unpaid past due" (a fake 100 %), so the KPI is unavailable.
    from cs_metrics.metrics.engine import account_frame, evaluate

    rows = [
        {"account_id": "A", "amount": 1.0, "due_at": "2026-03-02"},
        {"account_id": "B", "amount": 1.0, "due_at": "2026-03-05"},
    ]
    c = ctx_for({"billing": billing(rows)}, month("2026-03-20"))
    r = evaluate(KPIS["late_payment_rate"], c)
    assert r.value is None and "paid_at" in r.unavailable_reason
    acc = account_frame(c.bundle, c.config, c.window)
    assert "late_payments" not in acc.columns and "late_payment_rate" not in acc.columns
    # a status alone is enough: A's row says paid (payment date unknown → not late),
    # B's row is open and due 5 Mar < R 20 Mar → late: 1 late / 2 due = 0.5
    rows[0]["status"], rows[1]["status"] = "paid", "open"
    c2 = ctx_for({"billing": billing(rows)}, month("2026-03-20"))
    r2 = evaluate(KPIS["late_payment_rate"], c2)
    assert r2.value == pytest.approx(0.5) and r2.n == 2


def test_late_payment_no_rows_due():
    b = billing([{"account_id": "A", "amount": 1.0, "due_at": "2025-01-01", "paid_at": None}])
    r = value(ctx_for({"billing": b}, month("2026-03-20")), "late_payment_rate")
    assert r.value is None and "due" in r.unavailable_reason


def test_needs_declared():
    b = billing([sub("A", 1, "2026-01-01", "2026-02-01")])
    c = ctx_for({"billing": b}, month("2026-03-20"))
    assert "billing.issued_at" in KPIS["transactions"].missing_inputs(c)
    assert "billing.due_at" in KPIS["late_payment_rate"].missing_inputs(c)
    assert KPIS["mrr"].missing_inputs(c) is None
    c2 = ctx_for(
        {"accounts": pd.DataFrame({"account_id": pd.Series(["A"], dtype="str")})},
        month("2026-03-20"),
    )
    assert "billing" in KPIS["nrr"].missing_inputs(c2)
    assert KPIS["mrr"].missing_inputs(c2) is not None


# ---------------------------------------------------------------- R11, per-account metrics


def accounts_frame(**cols) -> pd.DataFrame:
    df = pd.DataFrame(cols)
    df["account_id"] = df["account_id"].astype("str")
    return df


def test_accounts_only_mrr():
    acc = accounts_frame(
        account_id=["A", "B", "C", "D"],
        mrr=[100.0, None, 0.0, None],
        arr=[None, 1200.0, None, None],
    )
    c = ctx_for({"accounts": acc}, month("2026-03-20"))
    assert KPIS["mrr"].missing_inputs(c) is None
    # mrr = 100 + 1200 / 12 + 0 = 200; paying: A, B → 2; arpa 100; arr 2400
    assert value(c, "mrr").value == pytest.approx(200)
    assert value(c, "paying_accounts").value == 2
    assert value(c, "arpa").value == pytest.approx(100)
    assert value(c, "arr").value == pytest.approx(2400)
    for k in ("new_mrr", "logo_churn_rate", "nrr", "grr", "gross_revenue_churn_rate"):
        assert KPIS[k].missing_inputs(c) == "needs billing, which the loaded data does not have"
    arr = rv.account_arr(c)
    # R36 without billing: accounts.arr, else 12 × accounts.mrr
    assert arr.to_dict() == pytest.approx(
        {"A": 1200.0, "B": 1200.0, "C": 0.0, "D": np.nan}, nan_ok=True
    )


def test_accounts_only_mrr_all_blank_is_unknown_not_zero():
    # R11 with an MRR column whose cells are all blank: MRR is unknown, not Σ of nothing = 0.
    acc = accounts_frame(account_id=["A", "B"], mrr=[None, None])
    acc["mrr"] = acc["mrr"].astype("float64")
    c = ctx_for({"accounts": acc}, month("2026-03-20"))
    for k in ("mrr", "arr", "paying_accounts", "arpa"):
        r = value(c, k)
        assert r.value is None and "blank" in r.unavailable_reason, k
    assert ACCOUNT_METRICS["mrr"].compute(c).isna().all()
    # one known value is enough: mrr = 40 (B's blank cell is left out), 1 paying account
    acc.loc[0, "mrr"] = 40.0
    c2 = ctx_for({"accounts": acc}, month("2026-03-20"))
    assert value(c2, "mrr").value == 40 and value(c2, "paying_accounts").value == 1


def test_account_metrics_with_billing():
    acc = accounts_frame(account_id=["A", "B", "Z"], arr=[5.0, 5.0, 5.0])
    b = billing(
        [
            sub("A", 100, "2026-01-01", "2026-04-01"),
            sub("A", 50, "2026-03-10", "2026-04-01"),
            sub("B", 80, "2026-03-05", "2026-04-01"),
        ]
    )
    c = ctx_for({"billing": b, "accounts": acc}, month("2026-03-20"))
    mrr = ACCOUNT_METRICS["mrr"].compute(c)
    assert mrr.to_dict() == {"A": 150.0, "B": 80.0, "Z": 0.0}  # Z has no billing: MRR 0
    assert rv.account_arr(c).to_dict() == {
        "A": 1800.0,
        "B": 960.0,
        "Z": 0.0,
    }  # billing wins over accounts.arr
    ch = ACCOUNT_METRICS["mrr_change"].compute(c)
    assert ch.to_dict() == {"A": 50.0, "B": 80.0, "Z": 0.0}
    pct = ACCOUNT_METRICS["mrr_change_pct"].compute(c)
    assert pct["A"] == pytest.approx(0.5) and np.isnan(pct["B"]) and np.isnan(pct["Z"])


def test_days_since_last_payment():
    b = billing(
        [
            {"account_id": "A", "amount": 1.0, "paid_at": "2026-03-01 10:00"},
            {"account_id": "A", "amount": 1.0, "paid_at": "2026-03-25"},  # after R: ignored
            {"account_id": "B", "amount": 1.0, "paid_at": None},
        ]
    )
    d = ACCOUNT_METRICS["days_since_last_payment"].compute(
        ctx_for({"billing": b}, month("2026-03-20"))
    )
    assert d["A"] == 19 and np.isnan(d["B"])


# ---------------------------------------------------------------- registry hygiene, performance


def test_every_revenue_kpi_declared():
    ids = [
        "mrr",
        "arr",
        "paying_accounts",
        "arpa",
        "new_mrr",
        "expansion_mrr",
        "contraction_mrr",
        "churned_mrr",
        "reactivation_mrr",
        "net_new_mrr",
        "logo_churn_rate",
        "customer_retention_rate",
        "gross_revenue_churn_rate",
        "nrr",
        "grr",
        "quick_ratio",
        "transactions",
        "avg_transaction_value",
        "late_payment_rate",
    ]
    for i in ids:
        k = KPIS[i]
        assert k.category == "revenue" and k.label and k.description and k.needs


def test_performance_large_frame():
    rng = np.random.default_rng(0)
    n, accounts = 200_000, 10_000
    start = T("2022-01-01") + pd.to_timedelta(rng.integers(0, 4 * 365, n), unit="D")
    iv = rng.choice(["month", "year"], n, p=[0.9, 0.1])
    b = pd.DataFrame(
        {
            "account_id": pd.Series(rng.integers(0, accounts, n).astype(str), dtype="str"),
            "amount": rng.uniform(10, 1000, n),
            "period_start": start,
            "period_end": start + pd.to_timedelta(np.where(iv == "month", 30, 365), unit="D"),
            "interval": pd.Series(iv, dtype="str"),
            "issued_at": start,
        }
    )
    W, P = windows(T("2025-06-15"), "quarter")
    shared: dict = {}
    t = time.perf_counter()
    for w in (W, P):
        c = ctx_for({"billing": b}, w, shared=shared)
        for k in KPIS.values():
            if k.category == "revenue" and k.missing_inputs(c) is None:
                k.compute(c)
    assert time.perf_counter() - t < 3.0


# ---------------------------------------------------------------- properties


_row = st.fixed_dictionaries(
    {
        "account_id": st.sampled_from(["A", "B", "C"]),
        "amount": st.integers(1, 500).map(float),
        "start": st.integers(0, 200),
        "length": st.one_of(st.none(), st.integers(-5, 120)),
        "interval": st.sampled_from(["month", "quarter", "year", None]),
        "status": st.sampled_from(["paid", "open", "void", "refunded"]),
    }
)


def _rows_frame(rows: list[dict]) -> pd.DataFrame:
    base = T("2025-11-01")
    return billing(
        [
            {
                "account_id": r["account_id"],
                "amount": r["amount"],
                "period_start": base + pd.Timedelta(days=r["start"]),
                "period_end": None
                if r["length"] is None
                else base + pd.Timedelta(days=r["start"] + r["length"]),
                "interval": r["interval"],
                "status": r["status"],
            }
            for r in rows
        ]
    )


@settings(max_examples=20, deadline=None)
@given(st.lists(_row, min_size=1, max_size=12), st.integers(-10, 260))
def test_step_function_matches_brute_force(rows, day):
    b = _rows_frame(rows)
    d = T("2025-11-01") + pd.Timedelta(days=day)
    c = ctx_for({"billing": b}, month("2026-03-31"))
    nb = rv.normalised(c)
    # brute force straight from the normalised rows: Σ monthly with start ≤ d < end (end NaT = open)
    active = nb["recurring"] & (nb["start"] <= d) & (nb["end"].isna() | (nb["end"] > d))
    expected = nb.loc[active].groupby("account_id")["monthly"].sum()
    got = rv.mrr_on(c, d)
    for acc in got.index:
        assert got[acc] == pytest.approx(expected.get(acc, 0.0), abs=1e-9)


@settings(max_examples=20, deadline=None)
@given(st.lists(_row, min_size=1, max_size=12), st.sampled_from(["month", "quarter", "45d"]))
def test_movements_telescope(rows, period):
    # Σ of every month-end step's change = Σ MRR on R − Σ MRR on the day before W
    c = ctx_for({"billing": _rows_frame(rows)}, windows(T("2026-02-20"), period)[0])
    start = rv.mrr_on(c, c.window.day_before).sum()
    end = rv.mrr_on(c, c.R).sum()
    if not rv.normalised(c)["recurring"].any():  # e.g. every row void: MRR unknown
        assert value(c, "net_new_mrr").value is None and value(c, "mrr").value is None
        return
    assert value(c, "net_new_mrr").value == pytest.approx(end - start, abs=1e-6)
    assert value(c, "mrr").value == pytest.approx(end, abs=1e-9)


def test_unknown_currency_names_the_file():
    b = billing([sub("A", 100, "2026-01-01", "2026-02-01", currency="jpy")])
    c = ctx_for({"billing": b}, month("2026-03-31"))
    c.bundle.datasets["billing"].files = ["invoices.csv"]
    with pytest.raises(InputError) as e:
        value(c, "mrr")
    issue = e.value.issues[0]
    assert (issue.file, issue.column, issue.value, issue.key) == (
        "invoices.csv",
        "currency",
        "JPY",
        "currency.rates.JPY",
    )


def test_inclusive_rule_only_on_ends_from_the_file():
    # 27-day interval from 31 Jan ends 27 Feb (computed): stays [31 Jan, 27 Feb), though a
    # *given* end of 27 Feb would be read as inclusive (31 Jan + 1 month − 1 day).
    b = billing(
        [
            {
                "account_id": "A",
                "amount": 27.0,
                "issued_at": "2026-01-20",
                "interval": "27 days",
                "period_start": "2026-01-31",
            },
            {
                "account_id": "B",
                "amount": 10.0,
                "issued_at": "2026-01-20",
                "period_end": "2026-02-19",
            },
        ]
    )
    n = rv.normalise_billing(b, set(), default_config())
    assert n.loc[0, "end"] == T("2026-02-27")
    # B: no period start → starts on its issue date; 20 Jan + 1 month − 1 day = 19 Feb → inclusive
    assert n.loc[1, "start"] == T("2026-01-20") and n.loc[1, "end"] == T("2026-02-20")
    assert n.loc[1, "monthly"] == pytest.approx(10)


def test_subscription_export_without_interval_is_monthly():
    # Chargebee-like: subscription start 1 Feb, current term end 1 Oct, cancel column, no
    # interval, no invoice date. 49 × 3 seats = 147 a cycle, taken as monthly (not 147 / 8).
    b = billing(
        [
            {
                "account_id": "A",
                "amount": 49.0,
                "quantity": 3.0,
                "period_start": "2026-02-01",
                "period_end": "2026-10-01",
                "ended_at": None,
            },
        ]
    )
    n = rv.normalise_billing(b, {"per_unit"}, default_config())
    assert n.loc[0, "monthly"] == pytest.approx(147)
    # the same row as an invoice (it has an issue date) is spread over its 8 months
    b["issued_at"] = pd.to_datetime(["2026-02-01"])
    assert rv.normalise_billing(b, {"per_unit"}, default_config()).loc[0, "monthly"] == (
        pytest.approx(147 / 8)
    )


def test_billing_without_recurring_rows():
    # Xero-like invoices: no service period, no interval → cannot give MRR.
    b = billing(
        [
            {"account_id": "A", "amount": 115.0, "invoice_id": "INV-1", "issued_at": "2026-03-02"},
            {"account_id": "B", "amount": 40.0, "invoice_id": "INV-2", "issued_at": "2026-03-05"},
        ]
    )
    c = ctx_for({"billing": b}, month("2026-03-31"))
    for k in ("mrr", "paying_accounts", "arpa", "churned_mrr", "nrr", "logo_churn_rate"):
        r = value(c, k)
        assert r.value is None and "no recurring rows" in r.unavailable_reason, k
    assert value(c, "transactions").value == 2  # invoices still count
    assert ACCOUNT_METRICS["mrr"].compute(c).isna().all()
    assert ACCOUNT_METRICS["mrr_change"].compute(c).isna().all()
    # with an accounts mrr column, MRR comes from it (R11) instead
    acc = accounts_frame(account_id=["A", "B"], mrr=[100.0, 0.0])
    c2 = ctx_for({"billing": b, "accounts": acc}, month("2026-03-31"))
    assert value(c2, "mrr").value == 100 and value(c2, "paying_accounts").value == 1
    assert rv.account_arr(c2).to_dict() == {"A": 1200.0, "B": 0.0}


def test_group_without_recurring_rows_has_zero_mrr():
    # the dataset has recurring rows, the group's slice does not: its MRR really is 0
    b = billing(
        [
            sub("A", 100, "2026-01-01", "2026-04-01"),
            {"account_id": "B", "amount": 5.0, "kind": "one_time", "issued_at": "2026-03-02"},
        ]
    )
    W = month("2026-03-31")
    full = ctx_for({"billing": b}, W)
    group = Context(full.bundle, full.config, W, {"billing": b[b["account_id"] == "B"]}, shared={})
    assert value(group, "mrr").value == 0 and value(group, "paying_accounts").value == 0
    assert value(group, "arpa").value is None
