from types import SimpleNamespace

import pytest

from cs_metrics.alerts import evaluate_rules, parse_rules
from cs_metrics.errors import UsageError
from cs_metrics.results import KPIValue


def _report(**values):
    kpis = []
    for kid, (v, p) in values.items():
        kpis.append(KPIValue(kid, kid, "health", "count", "lower", v, p,
                             unavailable_reason=None if v is not None else "no data"))
    return SimpleNamespace(kpis=kpis)


def test_rule_matches_and_says_which():
    rep = _report(accounts_at_risk=(6, 4), nrr=(0.97, 0.99))
    hits = evaluate_rules(parse_rules(["accounts_at_risk > 5", "nrr < 0.95"]), rep)
    assert hits == ["accounts_at_risk > 5 (it is 6)"]


def test_boundary_is_strict_for_gt_and_inclusive_for_ge():
    rep = _report(accounts_at_risk=(5, 5))
    assert evaluate_rules(parse_rules(["accounts_at_risk > 5"]), rep) == []
    assert len(evaluate_rules(parse_rules(["accounts_at_risk >= 5"]), rep)) == 1


def test_change_and_percent_forms():
    rep = _report(nrr=(0.90, 0.98))
    # change = 0.90 - 0.98 = -0.08 < -5% = -0.05
    assert len(evaluate_rules(parse_rules(["nrr.change < -5%"]), rep)) == 1
    assert evaluate_rules(parse_rules(["nrr.previous < 0.95"]), rep) == []


def test_unavailable_kpi_does_not_match_and_warns():
    rep = _report(nrr=(None, None))
    said = []
    assert evaluate_rules(parse_rules(["nrr < 0.95"]), rep, warn=said.append) == []
    assert "unavailable" in said[0]


def test_unknown_kpi_and_syntax_are_usage_errors():
    with pytest.raises(UsageError, match="did you mean 'nrr'"):
        evaluate_rules(parse_rules(["nrrr < 1"]), _report(nrr=(1, 1)))
    with pytest.raises(UsageError, match="cannot read"):
        parse_rules(["nrr is low"])
