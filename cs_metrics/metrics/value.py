"""Customer-value KPIs (SPEC §3 "Customer value", R27, R28): billing numbers + config finance.

Lifetime L comes from the period's logo churn turned into a monthly rate:
m = 1 − (1 − churn)^(1 / months in W), L = min(1 / m, max_lifetime_months);
zero churn gives the cap. Finance figures are never invented: without them
the KPIs that need them are unavailable with the config key to set.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from cs_metrics.metrics.registry import Context, Result, kpi
from cs_metrics.metrics.revenue import arpa_result, company_mrr, logo_churn_result
from cs_metrics.timeframe import months_in

DEFAULT_MAX_LIFETIME = 60.0


def _finance(ctx: Context, key: str) -> float | None:
    v = (ctx.config.get("finance") or {}).get(key)
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def lifetime_months(ctx: Context) -> tuple[float | None, str | None, dict[str, Any]]:
    """(L, reason if unavailable, extra) from logo churn over W (R27: zero churn → cap)."""
    cap = _finance(ctx, "max_lifetime_months") or DEFAULT_MAX_LIFETIME
    churn = logo_churn_result(ctx)
    if churn.value is None:
        return None, f"customer lifetime needs logo churn: {churn.unavailable_reason}", {}
    months = months_in(ctx.window)
    m = 1.0 - (1.0 - churn.value) ** (1.0 / months)
    life = cap if m <= 0 else min(1.0 / m, cap)
    return life, None, {"lifetime_months": life, "monthly_churn": m, "months_in_window": months}


def _clv(ctx: Context) -> Result:
    def build() -> Result:
        arpa = arpa_result(ctx)
        if arpa.value is None:
            return Result.unavailable(f"clv needs ARPA: {arpa.unavailable_reason}", arpa.n)
        life, reason, extra = lifetime_months(ctx)
        if life is None:
            return Result.unavailable(reason or "no lifetime", arpa.n)
        return Result(arpa.value * life, arpa.n, extra={**extra, "arpa": arpa.value})

    return ctx.cached("value.clv", build)


def _company(ctx: Context) -> Context:
    """The whole company's context for a `--by` group (ctx itself otherwise).

    Finance figures are company-wide and not allocated to groups: a group gets the
    company's support cost per paying account and the company's CAC, never the
    whole company's cost divided by the group's own accounts.
    """
    if ctx.group_accounts is None:
        return ctx
    return ctx.cached(
        "value.company_ctx",
        lambda: Context(
            ctx.bundle,
            ctx.config,
            ctx.window,
            {name: ds.frame for name, ds in ctx.bundle.datasets.items()},
            shared=ctx.shared,  # normalised billing / steps of the full frames are reused
        ),
    )


def _margin(ctx: Context) -> float | None:
    return _finance(ctx, "gross_margin")


_NO_MARGIN = "needs config finance.gross_margin (no finance figures are set by default)"


@kpi(
    "clv",
    label="Customer lifetime value",
    category="value",
    unit="currency",
    better="higher",
    description="ARPA × expected lifetime in months (from monthly logo churn, capped).",
    needs=("billing",),
)
def kpi_clv(ctx: Context) -> Result:
    return _clv(ctx)


def _lifetime_cost(ctx: Context) -> Result:
    gm = _margin(ctx)
    clv = _clv(ctx)
    if gm is None:
        return Result.unavailable(_NO_MARGIN, clv.n)
    if clv.value is None:
        return clv
    arpa = clv.extra["arpa"]
    life = clv.extra["lifetime_months"]
    support = _finance(ctx, "support_cost_per_month")
    _, paying, _ = company_mrr(_company(ctx))  # R27: paying accounts on R
    per_account = (support / paying) if (support is not None and paying > 0) else 0.0
    cost = (arpa * (1.0 - gm) + per_account) * life
    return Result(
        cost,
        clv.n,
        extra={
            "support_cost_per_account_month": per_account,
            "support_cost_configured": support is not None,
        },
    )


@kpi(
    "customer_lifetime_cost",
    label="Customer lifetime cost",
    category="value",
    unit="currency",
    better="lower",
    description="(ARPA × (1 − gross margin) + support cost per paying account per month) × lifetime.",
    needs=("billing",),
)
def kpi_customer_lifetime_cost(ctx: Context) -> Result:
    return _lifetime_cost(ctx)


@kpi(
    "customer_lifetime_profit",
    label="Customer lifetime profit",
    category="value",
    unit="currency",
    better="higher",
    description="Customer lifetime value − customer lifetime cost.",
    needs=("billing",),
)
def kpi_customer_lifetime_profit(ctx: Context) -> Result:
    cost = _lifetime_cost(ctx)
    if cost.value is None:
        return cost
    return Result(_clv(ctx).value - cost.value, cost.n)


def cac_result(ctx: Context) -> Result:
    """R28: spend × months in W / accounts created in W, else mean acquisition_cost of those accounts."""
    acc = ctx.frames.get("accounts")
    if acc is None or "created_at" not in acc.columns:
        return Result.unavailable("needs accounts.created_at, which the loaded data does not have")
    created = acc.loc[ctx.window.contains(pd.to_datetime(acc["created_at"])).to_numpy()]
    n = len(created)
    spend = _finance(ctx, "acquisition_spend_per_month")
    if spend is not None:
        if ctx.group_accounts is not None:  # company-wide spend over company-wide new accounts
            all_acc = ctx.bundle.frame("accounts")
            n = int(ctx.window.contains(pd.to_datetime(all_acc["created_at"])).sum())
        if n == 0:
            return Result.unavailable("no accounts created in the period", 0)
        return Result(
            spend * months_in(ctx.window) / n,
            n,
            extra={"source": "finance.acquisition_spend_per_month"},
        )
    if "acquisition_cost" in acc.columns:
        costs = pd.to_numeric(created["acquisition_cost"], errors="coerce").to_numpy(
            dtype="float64", na_value=np.nan
        )
        costs = costs[~np.isnan(costs)]
        if len(costs) == 0:
            return Result.unavailable("no account created in the period has an acquisition_cost", 0)
        return Result(
            float(costs.mean()), len(costs), extra={"source": "accounts.acquisition_cost"}
        )
    return Result.unavailable(
        "needs config finance.acquisition_spend_per_month or an accounts acquisition_cost column", n
    )


@kpi(
    "cac",
    label="Customer acquisition cost",
    category="value",
    unit="currency",
    better="lower",
    description="Acquisition spend in the period / accounts created in it (else their mean acquisition cost).",
    needs=("accounts.created_at",),
)
def kpi_cac(ctx: Context) -> Result:
    return cac_result(ctx)


@kpi(
    "ltv_cac_ratio",
    label="LTV:CAC ratio",
    category="value",
    unit="number",
    better="higher",
    description="CLV × gross margin / CAC.",
    needs=("billing", "accounts.created_at"),
)
def kpi_ltv_cac_ratio(ctx: Context) -> Result:
    gm = _margin(ctx)
    if gm is None:
        return Result.unavailable(_NO_MARGIN)
    clv, cac = _clv(ctx), cac_result(ctx)
    if clv.value is None:
        return clv
    if cac.value is None:
        return Result.unavailable(f"needs CAC: {cac.unavailable_reason}", cac.n)
    if not cac.value > 0:
        return Result.unavailable("CAC is 0", cac.n)
    return Result(clv.value * gm / cac.value, cac.n)


@kpi(
    "cac_payback_months",
    label="CAC payback",
    category="value",
    unit="months",
    better="lower",
    description="Months of gross-margin revenue to recover CAC: CAC / (ARPA × gross margin).",
    needs=("billing|accounts.mrr|accounts.arr", "accounts.created_at"),
)
def kpi_cac_payback_months(ctx: Context) -> Result:
    gm = _margin(ctx)
    if gm is None:
        return Result.unavailable(_NO_MARGIN)
    cac, arpa = cac_result(ctx), arpa_result(ctx)
    if cac.value is None:
        return Result.unavailable(f"needs CAC: {cac.unavailable_reason}", cac.n)
    if arpa.value is None:
        return Result.unavailable(f"needs ARPA: {arpa.unavailable_reason}", arpa.n)
    margin_per_month = arpa.value * gm
    if not margin_per_month > 0:
        return Result.unavailable("ARPA × gross margin is not above 0", arpa.n)
    return Result(cac.value / margin_per_month, cac.n)


@kpi(
    "cost_per_ticket",
    label="Cost per ticket",
    category="value",
    unit="currency",
    better="lower",
    description="Support cost over the period / tickets created in it.",
    needs=("tickets.created_at",),
)
def kpi_cost_per_ticket(ctx: Context) -> Result:
    cost = _finance(ctx, "support_cost_per_month")
    # The support cost is company-wide and not allocated to groups, so a --by
    # group reports the company's cost per ticket rather than dividing the
    # whole cost by the group's tickets.
    tickets = ctx.bundle.frame("tickets") if ctx.group_accounts is not None else ctx.frames["tickets"]
    n = int(ctx.window.contains(pd.to_datetime(tickets["created_at"])).sum())
    if cost is None:
        return Result.unavailable(
            "needs config finance.support_cost_per_month (not set by default)", n
        )
    if n == 0:
        return Result.unavailable("no tickets created in the period", 0)
    return Result(cost * months_in(ctx.window) / n, n)
