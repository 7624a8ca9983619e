"""Pipeline-level rules: groups, fallbacks and config-driven overrides."""

import copy
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from cs_metrics.analysis import analyse, churned_between
from cs_metrics.bundle import Bundle, Dataset
from cs_metrics.config import default_config, load_config
from cs_metrics.metrics.engine import compute_table
from cs_metrics.timeframe import window_for

T = pd.Timestamp


def _accounts():
    return pd.DataFrame({
        "account_id": pd.array(["A", "B", "C"], dtype="string"),
        "segment": pd.array(["Ent", "SMB", "SMB"], dtype="string"),
        "created_at": pd.to_datetime(["2025-01-01", "2025-01-01", "2025-01-01"]),
        "churned_at": pd.to_datetime([None, "2026-10-10", None]),
    })


def _tickets():
    # October 2026: A has 1 ticket, B has 3; September: A 1
    return pd.DataFrame({
        "ticket_id": pd.array([str(i) for i in range(5)], dtype="string"),
        "created_at": pd.to_datetime(["2026-10-02", "2026-10-03", "2026-10-04", "2026-10-05",
                                      "2026-09-05"]),
        "account_id": pd.array(["A", "B", "B", "B", "A"], dtype="string"),
    })


def _bundle(billing=None):
    ds = {"accounts": Dataset("accounts", _accounts(), rows_read=3),
          "tickets": Dataset("tickets", _tickets(), rows_read=5)}
    if billing is not None:
        ds["billing"] = Dataset("billing", billing, rows_read=len(billing))
    return Bundle(ds)


def test_cost_per_ticket_in_a_group_is_the_company_figure():
    cfg = copy.deepcopy(default_config())
    cfg["finance"]["support_cost_per_month"] = 400.0
    table = compute_table(_bundle(), cfg, window_for(T("2026-10-31"), "month"), by="segment")
    # October is a whole month: 400 × 1 / 4 tickets = 100, company-wide and in each group
    assert table.get("cost_per_ticket").value == pytest.approx(100)
    for value in ("Ent", "SMB"):
        k = next(k for k in table.groups[value] if k.id == "cost_per_ticket")
        assert k.value == pytest.approx(100), value


def test_tickets_per_account_falls_back_to_accounts_when_billing_has_no_mrr():
    # an invoice list without service periods: transactions, but no recurring revenue
    billing = pd.DataFrame({
        "account_id": pd.array(["A"], dtype="string"),
        "amount": [100.0],
        "issued_at": pd.to_datetime(["2026-10-01"]),
    })
    table = compute_table(_bundle(billing), default_config(), window_for(T("2026-10-31"), "month"))
    k = table.get("tickets_per_account")
    assert k.value == pytest.approx(4 / 3)  # 4 October tickets / 3 accounts
    assert k.extra["denominator"] == "accounts"


def test_churned_between_uses_churned_at_half_open():
    b = _bundle()
    hit = churned_between(b, default_config(), T("2026-10-01"), T("2026-10-10"), {})
    assert hit.to_dict() == {"A": False, "B": True, "C": False}  # (start, end] includes the 10th
    hit = churned_between(b, default_config(), T("2026-10-10"), T("2026-12-31"), {})
    assert not hit["B"]  # churned on the 10th: not inside (10th, 31 Dec]


def test_overrides_file_in_config_is_relative_to_the_config(tmp_path: Path):
    (tmp_path / "ov.csv").write_text("account_id,band,reason,expires\nC,at_risk,champion left,2027-01-01\n")
    (tmp_path / "csm.yaml").write_text("health:\n  overrides:\n    file: ov.csv\n")
    cfg = load_config(tmp_path / "csm.yaml")
    assert Path(cfg["health"]["overrides"]["file"]) == tmp_path / "ov.csv"
    a = analyse(_bundle(), cfg, as_of="2026-10-31", today=date(2026, 11, 22))
    table = a.scores.table
    assert table.loc["C", "band"] == "at_risk" and "champion left" in str(table.loc["C", "override"])
    assert "B" not in table.index  # churned on 2026-10-10: not a customer on R


def test_without_accounts_health_kpis_are_listed_unavailable():
    b = Bundle({"tickets": Dataset("tickets", _tickets(), rows_read=5)})
    a = analyse(b, default_config(), as_of="2026-10-31")
    k = a.kpis.get("health_score_avg")
    assert a.health is None and k is not None and k.value is None
    assert "needs accounts" in k.unavailable_reason
    assert a.kpis.get("arr_at_risk").value is None
