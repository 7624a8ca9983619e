"""Config loading and the three validation phases: every error names its key path and line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from cs_metrics.config import check_config, config_hash, default_config, load_config
from cs_metrics.errors import ConfigError, ExitCode

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str, name: str = "csm.yaml") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return p


def issues_of(tmp_path: Path, text: str):
    return check_config(write(tmp_path, text))


def one(issues, code: str):
    found = [i for i in issues if i.code == code]
    assert found, f"no {code} in {[(i.code, i.key, i.message) for i in issues]}"
    return found[0]


# -- the shipped defaults ------------------------------------------------------


def test_packaged_default_is_valid():
    assert check_config(None) == []


def test_configs_default_is_the_packaged_file_and_loads():
    packaged = ROOT / "cs_metrics" / "data" / "default.yaml"
    reference = ROOT / "configs" / "default.yaml"
    assert reference.read_bytes() == packaged.read_bytes()
    assert check_config(reference) == []
    assert load_config(reference) == default_config()


def test_default_health_has_the_seven_ingredients():
    groups = default_config()["health"]["groups"]
    assert list(groups) == ["csm_sentiment", "customer_sentiment", "engagement", "advocacy", "adoption",
                            "outcomes", "support"]
    assert sum(g["weight"] for g in groups.values()) == 100


# -- phase 1: syntax -----------------------------------------------------------


def test_yaml_syntax_error_has_line_and_column(tmp_path):
    p = write(tmp_path, """
        currency:
          base: USD
          rates: {EUR: 1.08
        finance: {}
    """)
    issues = check_config(p)
    assert [i.code for i in issues] == ["yaml-syntax"]
    assert issues[0].line == 4 and issues[0].file == "csm.yaml"
    assert "line 4" in issues[0].message and "column" in issues[0].message
    with pytest.raises(ConfigError) as e:
        load_config(p)
    assert e.value.exit_code == ExitCode.USAGE_ERROR == 2


def test_duplicate_key_is_reported_with_its_line(tmp_path):
    issues = issues_of(tmp_path, """
        finance:
          gross_margin: 0.8
          gross_margin: 0.7
    """)
    i = one(issues, "duplicate-key")
    assert (i.key, i.line) == ("finance.gross_margin", 3)


def test_empty_file_is_the_defaults(tmp_path):
    assert load_config(write(tmp_path, "")) == default_config()


# -- phase 2: structure --------------------------------------------------------


def test_unknown_key_lists_valid_keys_with_path_and_line(tmp_path):
    issues = issues_of(tmp_path, """
        finance:
          gross_margn: 0.8
    """)
    i = one(issues, "unknown-key")
    assert i.key == "finance.gross_margn" and i.line == 2
    assert "did you mean 'gross_margin'" in i.message
    assert "support_cost_per_month" in i.message  # lists the valid keys


def test_unknown_top_level_section(tmp_path):
    i = one(issues_of(tmp_path, "helth: {}\n"), "unknown-key")
    assert i.key == "helth" and i.line == 1 and "'health'" in i.message


def test_wrong_type_says_what_was_expected(tmp_path):
    issues = issues_of(tmp_path, """
        health:
          groups:
            adoption:
              weight: lots
    """)
    i = one(issues, "wrong-type")
    assert i.key == "health.groups.adoption.weight" and i.line == 4
    assert "expected a number" in i.message


def test_bad_rule_name_suggests(tmp_path):
    issues = issues_of(tmp_path, """
        health:
          groups:
            adoption:
              measures:
                active_days: {rule: linar}
    """)
    i = one(issues, "bad-value")
    assert i.key == "health.groups.adoption.measures.active_days.rule" and i.line == 5
    assert "linear" in i.message


def test_all_problems_are_reported_together(tmp_path):
    p = write(tmp_path, """
        currency:
          rates: {EUR: 0}
        finance:
          gross_margin: 80
          bogus: 1
        surveys:
          csat: {scale: [5, 1]}
    """)
    # structure error (bogus) stops semantics of finance only; others still checked
    codes = {(i.code, i.key) for i in check_config(p)}
    assert ("unknown-key", "finance.bogus") in codes
    assert ("bad-rate", "currency.rates.EUR") in codes
    assert ("bad-scale", "surveys.csat.scale") in codes
    with pytest.raises(ConfigError) as e:
        load_config(p)
    assert len(e.value.issues) >= 3


# -- phase 3: semantics (general sections) ----------------------------------------


@pytest.mark.parametrize(
    "text, code, key, line",
    [
        ("currency:\n  rates: {EUR: -1}\n", "bad-rate", "currency.rates.EUR", 2),
        ("finance:\n  gross_margin: 1.5\n", "bad-value", "finance.gross_margin", 2),
        ("finance:\n  support_cost_per_month: -5\n", "bad-value", "finance.support_cost_per_month", 2),
        ("surveys:\n  nps: {scale: [10, 0]}\n", "bad-scale", "surveys.nps.scale", 2),
        ("surveys:\n  scales:\n    training: [5, 5]\n", "bad-scale", "surveys.scales.training", 3),
        ("surveys:\n  csat: {satisfied_min: 9}\n", "bad-value", "surveys.csat.satisfied_min", 2),
        ("surveys:\n  cxi: {ces: 0, empathy: 0, understanding: 0, efficiency: 0}\n", "weights-all-zero",
         "surveys.cxi", 2),
        ("support:\n  business_hours:\n    hours: {mon: ['9h', '17:00']}\n", "bad-time",
         "support.business_hours.hours.mon", 3),
        ("support:\n  business_hours:\n    hours: {mon: ['09:00', '09:00']}\n", "bad-value",
         "support.business_hours.hours.mon", 3),
        ("support:\n  business_hours:\n    timezone: Mars/Olympus\n    hours: {mon: ['09:00', '17:00']}\n",
         "bad-timezone", "support.business_hours.timezone", 3),
        ("support:\n  business_hours:\n    hours: {funday: ['09:00', '17:00']}\n", "bad-value",
         "support.business_hours.hours.funday", 3),
        ("support:\n  business_hours:\n    hours: {mon: ['09:00', '17:00']}\n    holidays: [someday]\n",
         "bad-value", "support.business_hours.holidays[0]", 4),
        ("support:\n  sla:\n    Urgent: {first_response_hours: 1}\n", "bad-priority", "support.sla.Urgent", 3),
        ("support:\n  sla:\n    urgent: {first_response_hours: 0}\n", "bad-value",
         "support.sla.urgent.first_response_hours", 3),
        ("columns:\n  tikets: {account_id: Org}\n", "unknown-key", "columns.tikets", 2),
        ("columns:\n  tickets: {acount_id: Org}\n", "unknown-column", "columns.tickets.acount_id", 2),
    ],
)
def test_general_semantic_errors(tmp_path, text, code, key, line):
    i = one(check_config(write(tmp_path, text)), code)
    assert (i.key, i.line) == (key, line), i
    assert i.level == "error"


def test_unusual_sla_priority_is_only_a_warning(tmp_path):
    issues = issues_of(tmp_path, "support:\n  sla:\n    p0: {first_response_hours: 1}\n")
    assert [(i.code, i.level) for i in issues] == [("unknown-priority", "warning")]
    load_config(write(tmp_path, "support:\n  sla:\n    p0: {first_response_hours: 1}\n"))  # no raise


# -- phase 3: health --------------------------------------------------------------

HEALTH = """
health:
  groups: {groups}
  bands: {bands}
"""


@pytest.mark.parametrize(
    "text, code, key, line",
    [
        # unknown metric with a did-you-mean
        ("health:\n  groups:\n    adoption:\n      measures:\n        active_days: {metric: activ_days}\n",
         "unknown-metric", "health.groups.adoption.measures.active_days.metric", 5),
        ("health:\n  groups:\n    adoption: {weight: -1}\n", "bad-weight", "health.groups.adoption.weight", 3),
        ("health:\n  groups:\n    adoption:\n      measures:\n        active_days: {weight: -2}\n",
         "bad-weight", "health.groups.adoption.measures.active_days.weight", 5),
        ("health:\n  groups:\n    adoption:\n      measures:\n        active_days: {weight: 0}\n"
         "        license_utilization: {weight: 0}\n",
         "weights-all-zero", "health.groups.adoption.measures", 4),
        ("health:\n  groups:\n    adoption:\n      measures:\n        active_days: {best: 2}\n",
         "linear-range", "health.groups.adoption.measures.active_days.best", 5),
        ("health:\n  groups:\n    support:\n      measures:\n        open_backlog:\n          steps:\n"
         "            - {min: 0, score: 100}\n            - {min: 5, score: 50}\n            - {min: 5, score: 0}\n",
         "thresholds-order", "health.groups.support.measures.open_backlog.steps[2].min", 9),
        ("health:\n  groups:\n    advocacy:\n      measures:\n        advocate: {map: {1: 120, 0: 50}}\n",
         "bad-score", "health.groups.advocacy.measures.advocate.map.1", 5),
        ("health:\n  groups:\n    adoption:\n      measures:\n        active_days: {window: 3 months}\n",
         "bad-window", "health.groups.adoption.measures.active_days.window", 5),
        ("health:\n  groups:\n    adoption:\n      measures:\n        active_days: {column: seats}\n",
         "measure-source", "health.groups.adoption.measures.active_days", 5),
        ("health:\n  groups:\n    adoption:\n      measures:\n        active_days: {steps: []}\n",
         "rule-key", "health.groups.adoption.measures.active_days.steps", 5),
        ("health:\n  min_coverage: 2\n", "bad-value", "health.min_coverage", 2),
        # bands: overlap, order, gap at 0, gap between max and next min
        ("health:\n  bands:\n    - {name: a, min: 50}\n    - {name: b, min: 50}\n    - {name: c, min: 0}\n",
         "band-overlap", "health.bands[1].min", 4),
        ("health:\n  bands:\n    - {name: a, min: 0}\n    - {name: b, min: 50}\n", "band-order", "health.bands[1].min", 4),
        ("health:\n  bands:\n    - {name: a, min: 60}\n    - {name: b, min: 10}\n", "band-gap", "health.bands[1].min", 4),
        ("health:\n  bands:\n    - {name: a, min: 60}\n    - {name: b, min: 0, max: 50}\n", "band-gap",
         "health.bands[1].max", 4),
        ("health:\n  bands:\n    - {name: a, min: 60}\n    - {name: b, min: 0, max: 70}\n", "band-overlap",
         "health.bands[1].max", 4),
        ("health:\n  profiles:\n    - name: smb\n      when: {column: segment, in: [smb]}\n      weights: {adoptoin: 5}\n",
         "unknown-group", "health.profiles[0].weights.adoptoin", 5),
        ("health:\n  profiles:\n    - name: smb\n      when: {column: segment}\n", "profile-when",
         "health.profiles[0].when", 4),
        ("health:\n  profiles:\n    - name: smb\n      when: {column: segment, equals: smb}\n"
         "      weights: {csm_sentiment: -1}\n", "bad-weight", "health.profiles[0].weights.csm_sentiment", 5),
    ],
)
def test_health_semantic_errors(tmp_path, text, code, key, line):
    issues = check_config(write(tmp_path, text))
    i = one(issues, code)
    assert (i.key, i.line) == (key, line), [(x.code, x.key, x.line) for x in issues]


def test_unknown_metric_did_you_mean(tmp_path):
    issues = issues_of(tmp_path, "health:\n  groups:\n    adoption:\n      measures:\n"
                                 "        active_days: {metric: licence_utilization}\n")
    assert "did you mean 'license_utilization'" in one(issues, "unknown-metric").message


def test_all_group_weights_zero(tmp_path):
    groups = default_config()["health"]["groups"]
    text = "health:\n  groups:\n" + "".join(f"    {g}: {{weight: 0}}\n" for g in groups)
    i = one(issues_of(tmp_path, text), "weights-all-zero")
    assert i.key == "health.groups" and i.line == 2


def test_column_measure_needs_no_registry(tmp_path):
    p = write(tmp_path, """
        health:
          groups:
            custom:
              weight: 5
              measures:
                tier: {column: Tier, rule: map, map: {gold: 100, silver: 60, bronze: 20}}
    """)
    assert check_config(p) == []
    assert "custom" in load_config(p)["health"]["groups"]


def test_profile_error_in_inherited_measure_is_not_repeated(tmp_path):
    # the base error is reported once, at the base path, not again for the profile
    p = write(tmp_path, """
        health:
          groups:
            adoption:
              measures:
                active_days: {best: 2}
          profiles:
            - name: smb
              when: {column: segment, equals: smb}
    """)
    hits = [i for i in check_config(p) if i.code == "linear-range"]
    assert [i.key for i in hits] == ["health.groups.adoption.measures.active_days.best"]


# -- merging, hash ----------------------------------------------------------------


def test_user_file_merges_key_by_key_and_null_removes(tmp_path):
    cfg = load_config(write(tmp_path, """
        health:
          groups:
            adoption: {weight: 40}
            advocacy: null
    """))
    groups = cfg["health"]["groups"]
    assert groups["adoption"]["weight"] == 40
    assert groups["adoption"]["measures"]["active_days"]["rule"] == "linear"  # inherited
    assert groups["advocacy"] is None  # removed by build_model
    from cs_metrics.health import build_model

    assert "advocacy" not in [g.id for g in build_model(cfg).groups]


def test_semantic_issue_in_inherited_key_points_to_defaults(tmp_path):
    # user sets worst equal to the default best (100): the line is the user's worst? no: best is in defaults
    issues = issues_of(tmp_path, "health:\n  groups:\n    csm_sentiment:\n      measures:\n"
                                 "        csm_sentiment: {worst: 100}\n")
    i = one(issues, "linear-range")
    assert i.key.endswith("csm_sentiment.best") and i.file == "default.yaml" and i.line is not None


def test_config_hash_is_stable_and_sensitive():
    a, b = default_config(), default_config()
    assert config_hash(a) == config_hash(b) and len(config_hash(a)) == 12
    b["finance"]["gross_margin"] = 0.8
    assert config_hash(a) != config_hash(b)


def test_unreadable_and_non_mapping_files(tmp_path):
    assert one(check_config(tmp_path / "nope.yaml"), "config-unreadable")
    assert one(issues_of(tmp_path, "- a\n- b\n"), "wrong-type").key == "(top level)"


def test_columns_mapping_unknown_accounts_column(tmp_path):
    issues = issues_of(tmp_path, "columns:\n  accounts:\n    tier: Customer Tier\n    account_id: Record ID\n")
    assert [(i.code, i.level, i.key, i.line) for i in issues] == [("unknown-column", "error", "columns.accounts.tier", 3)]
    assert "kept under their own header" in issues[0].message


def test_profile_partial_override_is_valid_and_its_own_errors_are_located(tmp_path):
    p = write(tmp_path, """
        health:
          profiles:
            - name: smb
              when: {column: segment, in: [smb, startup]}
              weights: {adoption: 15, support: 25}
              groups:
                adoption: {measures: {active_days: {best: 10}}}
    """)
    assert check_config(p) == []
    cfg = load_config(p)
    from cs_metrics.health import build_model

    prof = build_model(cfg).profiles[0]
    ad = next(g for g in prof.variant.groups if g.id == "adoption")
    assert ad.weight == 15 and next(m for m in ad.measures if m.id == "active_days").best == 10
    bad = write(tmp_path, """
        health:
          profiles:
            - name: smb
              when: {column: segment, in: [smb]}
              groups:
                adoption: {measures: {active_days: {best: 2}}}
    """, "bad.yaml")
    i = one(check_config(bad), "linear-range")
    assert i.key == "health.profiles[0].groups.adoption.measures.active_days.best" and i.line == 6
    assert "in profile 'smb'" in i.message


def test_business_hours_accept_overnight_and_split_days(tmp_path):
    # the same parser as the support metrics: overnight spans and several spans a day are fine
    assert issues_of(tmp_path, "support:\n  business_hours:\n    timezone: Europe/Berlin\n"
                               "    hours: {monday: [['08:00', '12:00'], ['13:00', '17:00']], fri: ['22:00', '06:00']}\n") == []


def test_window_on_a_snapshot_metric_is_a_warning(tmp_path):
    issues = issues_of(tmp_path, "health:\n  groups:\n    outcomes:\n      measures:\n"
                                 "        goals_met: {window: 90d}\n")
    assert [(i.code, i.level, i.key, i.line) for i in issues] == [
        ("window-ignored", "warning", "health.groups.outcomes.measures.goals_met.window", 5)]


def test_health_problems_are_all_reported_even_with_a_structure_error(tmp_path):
    p = write(tmp_path, """
        health:
          min_coverag: 0.5
          groups:
            adoption:
              weight: -3
              measures:
                active_days: {metric: activ_days, rule: linear, worst: 5, best: 5}
          bands:
            - {name: healthy, min: 70}
            - {name: neutral, min: 70}
            - {name: at_risk, min: 10}
    """)
    got = {(i.code, i.key, i.line) for i in check_config(p)}
    assert got == {
        ("unknown-key", "health.min_coverag", 2),
        ("bad-weight", "health.groups.adoption.weight", 5),
        ("unknown-metric", "health.groups.adoption.measures.active_days.metric", 7),
        ("linear-range", "health.groups.adoption.measures.active_days.best", 7),
        ("band-overlap", "health.bands[1].min", 10),
        ("band-gap", "health.bands[2].min", 11),
    }


# -- review additions ------------------------------------------------------------


def test_unknown_measure_key_is_reported_once(tmp_path):
    # 'bogus' belongs to no rule: the structure phase reports it (listing the valid
    # keys); the semantic phase must not add a second "belongs to rule None" error.
    issues = issues_of(tmp_path, "health:\n  groups:\n    outcomes:\n      measures:\n"
                                 "        goals_met: {bogus: 1}\n")
    assert [(i.code, i.key, i.line) for i in issues] == [
        ("unknown-key", "health.groups.outcomes.measures.goals_met.bogus", 5)]


def test_key_of_another_rule_is_still_an_error(tmp_path):
    issues = issues_of(tmp_path, "health:\n  groups:\n    outcomes:\n      measures:\n"
                                 "        goals_met: {steps: [{min: 0, score: 0}]}\n")
    i = one(issues, "rule-key")
    assert (i.key, i.line) == ("health.groups.outcomes.measures.goals_met.steps", 5)
    assert "'thresholds'" in i.message


@pytest.mark.parametrize("body, key", [
    # csat is a fraction (0.8 = 80%): worst 60 / best 90 are percents by mistake
    ("csat_pct: {metric: csat, rule: linear, worst: 60, best: 90}", "worst"),
    ("csat_pct: {metric: csat, rule: linear, worst: 0.6, best: 90}", "best"),
    # thresholds on a fraction with step mins in percent
    ("goals: {metric: goals_met_ratio, rule: thresholds, steps: [{min: 0, score: 0}, {min: 50, score: 100}]}",
     "steps[1].min"),
])
def test_percent_on_a_fraction_metric_is_a_warning(tmp_path, body, key):
    issues = issues_of(tmp_path, f"health:\n  groups:\n    extra:\n      measures:\n        {body}\n")
    i = one(issues, "percent-not-fraction")
    assert i.level == "warning" and i.line == 5
    assert i.key.endswith("." + key), i.key
    assert not [x for x in issues if x.level == "error"]


def test_fractions_and_counts_give_no_percent_warning(tmp_path):
    # csat 0.6 → 0.9 is right; tickets (a count) may use any numbers;
    # license_utilization may exceed 1 a little (over-use): best 1.2 is fine.
    issues = issues_of(tmp_path, """
        health:
          groups:
            extra:
              measures:
                csat_ok: {metric: csat, rule: linear, worst: 0.6, best: 0.9}
                tick: {metric: tickets, rule: linear, worst: 60, best: 0}
                util: {metric: license_utilization, rule: linear, worst: 0.2, best: 1.2}
    """)
    assert not [i for i in issues if i.code == "percent-not-fraction"]
