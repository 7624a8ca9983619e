"""README's metrics table is generated from the KPI registry (`csm kpis --list --format md`).

`python -m pytest tests/test_readme.py --update-golden` rewrites it.
"""

import re
from pathlib import Path

from cs_metrics.metrics.registry import CATEGORIES, UNITS, catalogue
from cs_metrics.render.views import render_catalogue

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- metrics-table:start -->", "<!-- metrics-table:end -->"


def test_readme_metrics_table_matches_registry(update_golden):
    text = README.read_text(encoding="utf-8")
    table = render_catalogue("md").strip()
    block = re.compile(re.escape(START) + r".*?" + re.escape(END), re.S)
    assert block.search(text), "README lost its metrics-table markers"
    wanted = block.sub(lambda _: f"{START}\n{table}\n{END}", text)
    if update_golden:
        README.write_text(wanted, encoding="utf-8")
    assert text == wanted, "README metrics table is stale: run pytest tests/test_readme.py --update-golden"


def test_every_kpi_is_fully_declared():
    seen = set()
    for k in catalogue():
        assert k.id not in seen, f"{k.id} declared twice"
        seen.add(k.id)
        assert k.label and k.description and len(k.description) > 10, k.id
        assert k.unit in UNITS and k.category in CATEGORIES, k.id


def test_catalogue_has_every_spec_kpi():
    spec = """mrr arr paying_accounts arpa new_mrr expansion_mrr contraction_mrr churned_mrr
    reactivation_mrr net_new_mrr logo_churn_rate customer_retention_rate gross_revenue_churn_rate nrr grr
    quick_ratio transactions avg_transaction_value late_payment_rate clv customer_lifetime_cost
    customer_lifetime_profit cac ltv_cac_ratio cac_payback_months cost_per_ticket nps csat ces
    survey_response_rate cxi tickets tickets_per_account open_tickets first_response_hours_avg
    first_response_hours_median resolution_hours_avg resolution_hours_median resolved_tickets
    resolution_rate first_contact_resolution_rate escalation_rate abandonment_rate hold_hours_avg
    tickets_per_agent ticket_csat sla_breach_rate active_users license_utilization stickiness
    avg_session_minutes active_days_per_account time_to_onboard_days time_to_value_days goals_met_rate
    advocate_rate health_score_avg accounts_healthy accounts_neutral accounts_at_risk arr_at_risk""".split()
    ids = {k.id for k in catalogue()}
    assert not set(spec) - ids, sorted(set(spec) - ids)
