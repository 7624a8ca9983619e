"""Customer-value KPIs (SPEC §3 "Customer value", R27, R28) on hand-computed frames."""

from __future__ import annotations

import copy

import pandas as pd
import pytest

from cs_metrics.config import default_config
from cs_metrics.metrics import value as _value  # noqa: F401  (registers the value KPIs)
from cs_metrics.metrics.registry import KPIS
from tests.test_revenue import billing, chartmogul_frame, ctx_for, month, sub


def cfg(**finance):
    c = copy.deepcopy(default_config())
    c["finance"].update(finance)
    return c


def accounts(created: list[str | None], cost: list[float | None] | None = None) -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "account_id": pd.Series([f"X{i}" for i in range(len(created))], dtype="str"),
            "created_at": pd.to_datetime(pd.Series(created), format="ISO8601"),
        }
    )
    if cost is not None:
        df["acquisition_cost"] = pd.Series(cost, dtype="float64")
    return df


def v(ctx, kpi_id):
    return KPIS[kpi_id].compute(ctx)


# Chartmogul frame, February 2026 (whole month: months in W = 1):
# start (31 Jan) A 10, B 40, C 30, D 20; end (28 Feb) B 30, C 40, D 20 → MRR 90, 3 payers, ARPA 30;
# logo churn 1 / 4 = 0.25 → m = 0.25 → L = 4 months.


def test_clv_needs_no_finance():
    c = ctx_for({"billing": chartmogul_frame()}, month("2026-02-28"), config=cfg())
    r = v(c, "clv")
    assert r.value == pytest.approx(30 * 4)  # ARPA 30 × L 4
    assert r.extra["lifetime_months"] == pytest.approx(4)
    for k in (
        "customer_lifetime_cost",
        "customer_lifetime_profit",
        "ltv_cac_ratio",
        "cac_payback_months",
    ):
        r = v(c, k)
        assert r.value is None and "finance.gross_margin" in r.unavailable_reason, k


def test_value_with_finance():
    frames = {
        "billing": chartmogul_frame(),
        "accounts": accounts(["2026-02-01", "2026-02-28", "2026-01-31", "2026-03-01", None]),
    }
    c = ctx_for(
        frames,
        month("2026-02-28"),
        config=cfg(gross_margin=0.8, support_cost_per_month=300, acquisition_spend_per_month=1000),
    )
    # support per paying account per month = 300 / 3 = 100
    # lifetime cost = (30 × (1 − 0.8) + 100) × 4 = 106 × 4 = 424
    assert v(c, "customer_lifetime_cost").value == pytest.approx(424)
    assert v(c, "customer_lifetime_profit").value == pytest.approx(120 - 424)
    # CAC: 2 accounts created in Feb (1 Feb, 28 Feb); 1000 × 1 month / 2 = 500
    assert v(c, "cac").value == pytest.approx(500) and v(c, "cac").n == 2
    # LTV:CAC = 120 × 0.8 / 500 = 0.192; payback = 500 / (30 × 0.8) = 20.8333
    assert v(c, "ltv_cac_ratio").value == pytest.approx(0.192)
    assert v(c, "cac_payback_months").value == pytest.approx(500 / 24)


def test_lifetime_cost_without_support_cost():
    c = ctx_for({"billing": chartmogul_frame()}, month("2026-02-28"), config=cfg(gross_margin=0.5))
    # (30 × 0.5 + 0) × 4 = 60
    assert v(c, "customer_lifetime_cost").value == pytest.approx(60)


def test_partial_month_converts_churn_to_monthly():
    # as_of 14 Feb: months in W = 14 / 28 = 0.5; A (ends 10 Feb) churned: 1 / 4
    # m = 1 − 0.75^(1 / 0.5) = 1 − 0.5625 = 0.4375; L = 1 / 0.4375 = 2.2857
    # ARPA on 14 Feb = (30 + 40 + 20) / 3 = 30 → CLV = 30 / 0.4375 = 68.571…
    c = ctx_for({"billing": chartmogul_frame()}, month("2026-02-14"))
    r = v(c, "clv")
    assert r.extra["monthly_churn"] == pytest.approx(0.4375)
    assert r.value == pytest.approx(30 / 0.4375)


def test_zero_churn_gives_cap():
    b = billing(
        [sub("A", 50, "2025-01-01", "2027-01-01"), sub("B", 150, "2025-01-01", "2027-01-01")]
    )
    c = ctx_for({"billing": b}, month("2026-02-28"))
    assert v(c, "clv").value == pytest.approx(100 * 60)  # ARPA 100 × default cap 60
    c2 = ctx_for({"billing": b}, month("2026-02-28"), config=cfg(max_lifetime_months=24))
    assert v(c2, "clv").value == pytest.approx(100 * 24)


def test_long_lifetime_is_capped():
    # 1 of 100 churns in a month → L = 100 > cap 60
    b = billing(
        [
            sub(f"A{i}", 10, "2025-01-01", "2026-02-10" if i == 0 else "2027-01-01")
            for i in range(100)
        ]
    )
    c = ctx_for({"billing": b}, month("2026-02-28"))
    assert v(c, "clv").extra["lifetime_months"] == 60
    assert v(c, "clv").value == pytest.approx(10 * 60)


def test_clv_unavailable_without_start_payers():
    b = billing([sub("A", 50, "2026-02-05", "2027-01-01")])
    r = v(ctx_for({"billing": b}, month("2026-02-28")), "clv")
    assert r.value is None and "logo churn" in r.unavailable_reason


def test_cac_from_acquisition_cost_column():
    acc = accounts(
        ["2026-02-01", "2026-02-10", "2026-02-20", "2026-01-01"], [100.0, None, 300.0, 999.0]
    )
    c = ctx_for({"accounts": acc}, month("2026-02-28"), config=cfg())
    # mean of non-blank costs of accounts created in Feb: (100 + 300) / 2 = 200
    r = v(c, "cac")
    assert r.value == pytest.approx(200) and r.n == 2
    # spend in config wins: 900 × 1 / 3 created = 300
    c2 = ctx_for(
        {"accounts": acc}, month("2026-02-28"), config=cfg(acquisition_spend_per_month=900)
    )
    assert v(c2, "cac").value == pytest.approx(300)


def test_cac_unavailable_cases():
    acc = accounts(["2026-01-01"], [50.0])
    r = v(
        ctx_for(
            {"accounts": acc}, month("2026-02-28"), config=cfg(acquisition_spend_per_month=900)
        ),
        "cac",
    )
    assert r.value is None and "no accounts created" in r.unavailable_reason
    r = v(ctx_for({"accounts": accounts(["2026-02-03"])}, month("2026-02-28")), "cac")
    assert r.value is None and "acquisition_spend_per_month" in r.unavailable_reason
    assert "accounts.created_at" in KPIS["cac"].missing_inputs(
        ctx_for(
            {"accounts": pd.DataFrame({"account_id": pd.Series(["A"], dtype="str")})},
            month("2026-02-28"),
        )
    )


def test_cac_partial_window_months():
    # as_of 15 Feb: months in W = 15 / 28; spend 2800 → 1500 over W; 3 accounts → 500
    acc = accounts(["2026-02-01", "2026-02-10", "2026-02-15", "2026-02-16"])
    c = ctx_for(
        {"accounts": acc}, month("2026-02-15"), config=cfg(acquisition_spend_per_month=2800)
    )
    assert v(c, "cac").value == pytest.approx(500)


def test_cost_per_ticket():
    tickets = pd.DataFrame(
        {
            "ticket_id": pd.Series(["1", "2", "3", "4", "5"], dtype="str"),
            "account_id": pd.Series(
                ["A", None, "B", "A", "A"], dtype="str"
            ),  # one orphan: still counted
            "created_at": pd.to_datetime(
                [
                    "2026-02-01 00:00",
                    "2026-02-14 12:00",
                    "2026-02-28 23:59",
                    "2026-01-31 23:59",
                    "2026-03-01 00:00",
                ]
            ),
        }
    )
    c = ctx_for({"tickets": tickets}, month("2026-02-28"), config=cfg(support_cost_per_month=300))
    # 3 tickets created in Feb (1 Feb, 14 Feb, 28 Feb 23:59); 300 × 1 / 3 = 100
    r = v(c, "cost_per_ticket")
    assert r.value == pytest.approx(100) and r.n == 3
    r = v(ctx_for({"tickets": tickets}, month("2026-02-28")), "cost_per_ticket")
    assert r.value is None and "support_cost_per_month" in r.unavailable_reason
    r = v(
        ctx_for({"tickets": tickets}, month("2026-04-30"), config=cfg(support_cost_per_month=300)),
        "cost_per_ticket",
    )
    assert r.value is None and "no tickets" in r.unavailable_reason


def test_cac_payback_with_accounts_only_mrr():
    acc = accounts(["2026-02-01", "2026-02-02"])
    acc["mrr"] = pd.Series([100.0, 50.0])
    c = ctx_for(
        {"accounts": acc},
        month("2026-02-28"),
        config=cfg(gross_margin=0.5, acquisition_spend_per_month=300),
    )
    # CAC = 300 / 2 = 150; ARPA = 150 / 2 = 75; payback = 150 / (75 × 0.5) = 4
    assert v(c, "cac_payback_months").value == pytest.approx(4)
    assert "billing" in KPIS["clv"].missing_inputs(c)


def test_value_kpis_declared():
    for i in (
        "clv",
        "customer_lifetime_cost",
        "customer_lifetime_profit",
        "cac",
        "ltv_cac_ratio",
        "cac_payback_months",
        "cost_per_ticket",
    ):
        k = KPIS[i]
        assert k.category == "value" and k.label and k.description and k.needs
    # a plain quotient (3.2), not a share shown as a percentage
    assert KPIS["cac_payback_months"].unit == "months" and KPIS["ltv_cac_ratio"].unit == "number"


def test_group_uses_company_wide_support_and_acquisition_costs():
    # --by: finance figures are company-wide, so a group gets the company's support cost per
    # paying account and the company's CAC, not the whole company cost over the group's accounts.
    from cs_metrics.bundle import Bundle, Dataset
    from cs_metrics.metrics.registry import Context

    b = billing([sub(a, 100, "2025-01-01", "2027-01-01") for a in ("A", "B", "C")])
    acc = accounts(["2026-02-03", "2026-02-10", "2026-02-20"])  # X0, X1, X2 created in Feb
    acc["account_id"] = pd.Series(["A", "B", "C"], dtype="str")
    conf = cfg(gross_margin=0.5, support_cost_per_month=300, acquisition_spend_per_month=900)
    bundle = Bundle({"billing": Dataset("billing", b), "accounts": Dataset("accounts", acc)})
    group = pd.Index(["A"], name="account_id")
    frames = {"billing": b.loc[b["account_id"] == "A"], "accounts": acc.loc[acc["account_id"] == "A"]}
    c = Context(bundle, conf, month("2026-02-28"), frames, group_accounts=group, shared={})
    # group: ARPA 100, no churn → L = cap 60; company payers 3 → support 300 / 3 = 100 per account
    # lifetime cost = (100 × (1 − 0.5) + 100) × 60 = 150 × 60 = 9000 (not (50 + 300) × 60)
    assert v(c, "customer_lifetime_cost").value == pytest.approx(9000)
    # company CAC = 900 × 1 month / 3 accounts created in Feb = 300 (not 900 / 1)
    assert v(c, "cac").value == pytest.approx(300)
    # LTV:CAC = CLV (100 × 60 = 6000) × 0.5 / 300 = 10
    assert v(c, "ltv_cac_ratio").value == pytest.approx(10)
