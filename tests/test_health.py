"""Health model: rules, reweighting, coverage, aggregates, bands, profiles, overrides,
explanations, results, KPIs, backtest, history. Expected numbers are worked by hand
in the comments."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cs_metrics import health
from cs_metrics.config import load_config
from cs_metrics.errors import ConfigError, InputError, UsageError

AS_OF = pd.Timestamp("2026-10-31")


def lin(metric: str, weight: float = 1, worst: float = 0, best: float = 100, **kw) -> dict:
    return {"metric": metric, "weight": weight, "rule": "linear", "worst": worst, "best": best, **kw}


def model(groups: dict, **health_kw) -> health.HealthModel:
    return health.build_model({"health": {"groups": groups, **health_kw}})


def frame(**cols) -> pd.DataFrame:
    n = len(next(iter(cols.values())))
    ids = [f"A{i}" for i in range(1, n + 1)]
    return pd.DataFrame({k: np.asarray(v, dtype=float) for k, v in cols.items()}, index=pd.Index(ids, name="account_id"))


def accounts_for(f: pd.DataFrame, **cols) -> pd.DataFrame:
    return pd.DataFrame({"account_id": f.index.to_numpy(), **cols})


def run(m, f, acc=None, frames=None, **kw):
    acc = acc if acc is not None else accounts_for(f)
    return health.score(frames or {None: f}, acc, m, as_of=AS_OF, **kw)


# -- worked examples -------------------------------------------------------------------


def test_gainsight_worked_example():
    # (47×20 + 59×15 + 21×22) / (20+15+22) = (940 + 885 + 462) / 57 = 2287 / 57 = 40.1228…
    m = model({"g": {"weight": 1, "measures": {"a": lin("nps", 20), "b": lin("csat", 15), "c": lin("tickets", 22)}}})
    s = run(m, frame(nps=[47], csat=[59], tickets=[21]))
    assert s.table.loc["A1", "score"] == pytest.approx(2287 / 57)
    assert round(s.table.loc["A1", "score"], 2) == 40.12
    assert s.table.loc["A1", "band"] == "neutral"
    c = s.components.set_index("measure")
    assert c.loc["a", "effective_weight"] == pytest.approx(20 / 57)
    assert c["contribution"].sum() == pytest.approx(2287 / 57)  # contributions add up to the score


def test_catalyst_style_reweighting_across_groups():
    # Groups product 40, support 30, sentiment 20, relationship 10 (one measure each).
    # Sentiment has no data: its 20 is shared out over the rest in proportion.
    #   (80×40 + 60×30 + 50×10) / (40+30+10) = (3200 + 1800 + 500) / 80 = 5500 / 80 = 68.75
    # Effective weights 40/80 = .5, 30/80 = .375, 10/80 = .125; coverage = 80/100 = 0.8.
    m = model({
        "product": {"weight": 40, "measures": {"usage": lin("active_days")}},
        "support": {"weight": 30, "measures": {"tickets": lin("tickets")}},
        "sentiment": {"weight": 20, "measures": {"nps": lin("nps")}},
        "relationship": {"weight": 10, "measures": {"csm": lin("csm_sentiment")}},
    })
    s = run(m, frame(active_days=[80], tickets=[60], nps=[np.nan], csm_sentiment=[50]))
    row = s.table.loc["A1"]
    assert row["score"] == pytest.approx(68.75)
    assert row["coverage"] == pytest.approx(0.8)
    c = s.components.set_index("measure")
    assert c.loc["usage", "effective_weight"] == pytest.approx(0.5)
    assert c.loc["tickets", "effective_weight"] == pytest.approx(0.375)
    assert c.loc["csm", "effective_weight"] == pytest.approx(0.125)
    assert c.loc["nps", "effective_weight"] == 0
    assert c.loc["nps", "left_out_reason"] == "no value for nps"
    assert c.loc["nps", "weight"] == pytest.approx(0.2)  # configured share
    g = s.groups.set_index("group")
    assert g.loc["sentiment", "left_out_reason"] == "no measure with data"


def test_reweighting_inside_a_group():
    # weights 2,1,1 with the 2 missing: (60×1 + 90×1)/2 = 75; coverage = (1+1)/4 = 0.5 (≥ 0.5: scored)
    m = model({"g": {"measures": {"a": lin("nps", 2), "b": lin("csat", 1), "c": lin("tickets", 1)}}})
    s = run(m, frame(nps=[np.nan], csat=[60], tickets=[90]))
    assert s.table.loc["A1", "score"] == pytest.approx(75)
    assert s.table.loc["A1", "coverage"] == pytest.approx(0.5)


# -- rules --------------------------------------------------------------------------


def test_linear_rule_clamps_and_reverses():
    # worst 10 → 0, best 30 → 100: 20 → 50, 5 → 0 (clamped), 40 → 100 (clamped)
    m = model({"g": {"measures": {"a": lin("nps", worst=10, best=30)}}})
    s = run(m, frame(nps=[20, 5, 40, 10, 30]))
    assert s.table["score"].tolist() == pytest.approx([50, 0, 100, 0, 100])
    # lower is better: worst 10, best 0: 2.5 → (2.5−10)/(0−10) = 75
    m = model({"g": {"measures": {"a": lin("tickets", worst=10, best=0)}}})
    assert run(m, frame(tickets=[2.5, 12, 0])).table["score"].tolist() == pytest.approx([75, 0, 100])


def test_thresholds_rule_at_boundaries():
    steps = [{"min": 0, "score": 100}, {"min": 3, "score": 60}, {"min": 6, "score": 0}]
    m = model({"g": {"measures": {"a": {"metric": "tickets", "rule": "thresholds", "steps": steps}}}})
    # 0→100, 2.99→100, 3→60 (the step whose min is reached), 5→60, 6→0, 100→0; −1 (below first) → first step's 100
    s = run(m, frame(tickets=[0, 2.99, 3, 5, 6, 100, -1]))
    assert s.table["score"].tolist() == [100, 100, 60, 60, 0, 0, 100]
    m = model({"g": {"measures": {"a": {"metric": "tickets", "rule": "thresholds", "steps": steps, "below": 20}}}})
    assert run(m, frame(tickets=[-1])).table["score"].tolist() == [20]


def test_thresholds_steps_in_any_order_give_the_same_scores():
    a = [{"min": 0, "score": 100}, {"min": 3, "score": 60}]
    m1 = model({"g": {"measures": {"a": {"metric": "tickets", "rule": "thresholds", "steps": a}}}})
    f = frame(tickets=[0, 4])
    assert run(m1, f).table["score"].tolist() == [100, 60]


def test_map_rule_on_text_column_is_case_insensitive_and_reports_unmapped():
    m = model({"g": {"measures": {"tier": {"column": "Tier", "rule": "map", "map": {"Gold": 100, "silver": 60}}}}},
              min_coverage=0)
    f = frame(dummy=[0, 0, 0, 0])
    acc = accounts_for(f, Tier=pd.array([" gold", "SILVER", "bronze", None], dtype="string"))
    s = run(m, f, acc)
    assert s.table["score"].tolist()[:2] == [100, 60]
    assert math.isnan(s.table.loc["A3", "score"]) and math.isnan(s.table.loc["A4", "score"])
    c = s.components.set_index("account_id")
    assert "'bronze' is not in the map" in c.loc["A3", "left_out_reason"]
    assert c.loc["A4", "left_out_reason"] == "no value for column Tier"
    # default catches unmapped categories
    m = model({"g": {"measures": {"tier": {"column": "Tier", "rule": "map", "map": {"gold": 100}, "default": 30}}}})
    assert run(m, f, acc).table["score"].tolist()[:3] == [100, 30, 30]


def test_map_rule_on_numbers_and_booleans():
    m = model({"g": {"measures": {"adv": {"metric": "advocate", "rule": "map", "map": {1: 100, 0: 50}}}}})
    assert run(m, frame(advocate=[1.0, 0.0])).table["score"].tolist() == [100, 50]
    m = model({"g": {"measures": {"adv": {"column": "ref", "rule": "map", "map": {True: 100, False: 40}}}}})
    f = frame(x=[0, 0])
    acc = accounts_for(f, ref=pd.array([True, False], dtype="boolean"))
    assert run(m, f, acc).table["score"].tolist() == [100, 40]


def test_percentile_rule_ties_and_within_segment():
    # values 10, 20, 20, 40 → average ranks 1, 2.5, 2.5, 4 → (r−1)/(n−1)×100 = 0, 50, 50, 100
    pm = {"metric": "usage_events", "rule": "percentile"}
    m = model({"g": {"measures": {"p": pm}}})
    f = frame(usage_events=[10, 20, 20, 40, np.nan])
    s = run(m, f)
    assert s.table["score"].tolist()[:4] == pytest.approx([0, 50, 50, 100])
    assert math.isnan(s.table.loc["A5", "score"])  # no value: not ranked
    # lower is better flips it
    m = model({"g": {"measures": {"p": {**pm, "better": "lower"}}}})
    assert run(m, f).table["score"].tolist()[:4] == pytest.approx([100, 50, 50, 0])
    # within segment: a: [10, 40] → 0, 100; b: [20, 20] → tie, 50 each; lone c → 50
    m = model({"g": {"measures": {"p": {**pm, "within": "segment"}}}})
    f = frame(usage_events=[10, 20, 20, 40, 7])
    acc = accounts_for(f, segment=["a", "b", "b", "a", "c"])
    assert run(m, f, acc).table["score"].tolist() == pytest.approx([0, 50, 50, 100, 50])


# -- missing data and coverage -----------------------------------------------------------


def test_missing_worst_and_fixed_score():
    # a (w 1) missing scored as worst (0) → (0 + 80)/2 = 40; as fixed 50 → (50+80)/2 = 65.
    # Substitutes are not data: coverage = 0.5 either way.
    for miss, want in (("worst", 40), ({"score": 50}, 65)):
        m = model({"g": {"measures": {"a": lin("nps", missing=miss), "b": lin("csat")}}})
        s = run(m, frame(nps=[np.nan], csat=[80]))
        assert s.table.loc["A1", "score"] == pytest.approx(want)
        assert s.table.loc["A1", "coverage"] == pytest.approx(0.5)
        c = s.components.set_index("measure")
        assert bool(c.loc["a", "imputed"]) and c.loc["a", "left_out_reason"] is None


def test_min_coverage_not_scored_with_reason():
    # weights 3 and 1: only b (1/4 = 25%) present → below 50% → not scored
    m = model({"g": {"measures": {"a": lin("nps", 3), "b": lin("csat", 1)}}}, min_coverage=0.5)
    s = run(m, frame(nps=[np.nan, 10], csat=[80, np.nan]))
    r = s.table.loc["A1"]
    assert math.isnan(r["score"]) and r["band"] is None
    assert r["not_scored_reason"] == "coverage 25% is below min_coverage 50% (no data: a)"
    # A2 has a (75%): scored as a alone
    assert s.table.loc["A2", "score"] == pytest.approx(10)
    # exactly at min_coverage is scored
    m = model({"g": {"measures": {"a": lin("nps", 1), "b": lin("csat", 1)}}}, min_coverage=0.5)
    assert run(m, frame(nps=[np.nan], csat=[80])).table.loc["A1", "score"] == pytest.approx(80)


def test_no_data_at_all_and_missing_metric_column():
    m = model({"g": {"measures": {"a": lin("nps")}}, "h": {"measures": {"b": lin("csat", window="90d")}}})
    f = frame(nps=[np.nan])
    s = run(m, f, frames={None: f})  # the 90d frame is not there at all
    assert s.table.loc["A1", "not_scored_reason"] == "no measure has data"
    c = s.components.set_index("measure")
    assert c.loc["b", "left_out_reason"] == "metric csat over 90d is not available (its data is missing)"


def test_windowed_measure_reads_its_frame():
    m = model({"g": {"measures": {"a": lin("tickets", window="90d", worst=10, best=0)}}})
    f = frame(tickets=[5])  # report window: ignored
    s = run(m, f, frames={None: f, "90d": frame(tickets=[2])})
    assert s.table.loc["A1", "score"] == pytest.approx(80)  # (2−10)/(0−10)
    assert health.required_metrics(m) == [("tickets", "90d")]


def test_unknown_accounts_column_is_a_config_error_with_key_path():
    m = model({"g": {"measures": {"tier": {"column": "Tier", "rule": "map", "map": {"gold": 100}}}}})
    f = frame(x=[1])
    with pytest.raises(ConfigError) as e:
        run(m, f, accounts_for(f, Tiers=["gold"]))
    assert e.value.exit_code == 2
    assert e.value.issues[0].key == "health.groups.g.measures.tier.column"
    assert "did you mean 'Tiers'" in e.value.issues[0].message


# -- aggregates -----------------------------------------------------------------------------


def test_min_and_max_aggregates_and_their_weights():
    ms = {"a": lin("nps", 1), "b": lin("csat", 3), "c": lin("tickets", 1)}
    f = frame(nps=[30, 20], csat=[80, 20], tickets=[np.nan, 90])
    s = run(model({"g": {"aggregate": "min", "measures": ms}}), f)
    assert s.table["score"].tolist() == pytest.approx([30, 20])
    c = s.components.set_index(["account_id", "measure"])["effective_weight"]
    # the lowest measure carries the whole weight; ties share it
    assert c.loc[("A1", "a")] == 1 and c.loc[("A1", "b")] == 0
    assert c.loc[("A2", "a")] == 0.5 and c.loc[("A2", "b")] == 0.5 and c.loc[("A2", "c")] == 0
    s = run(model({"g": {"aggregate": "max", "measures": ms}}), f)
    assert s.table["score"].tolist() == pytest.approx([80, 90])


def test_groups_combine_by_weighted_mean():
    # g1 (weight 3) = mean(40, 60) = 50; g2 (weight 1) = min(90, 70) = 70 → (50×3 + 70×1)/4 = 55
    m = model({"g1": {"weight": 3, "measures": {"a": lin("nps"), "b": lin("csat")}},
               "g2": {"weight": 1, "aggregate": "min", "measures": {"c": lin("tickets"), "d": lin("seats")}}})
    s = run(m, frame(nps=[40], csat=[60], tickets=[90], seats=[70]))
    assert s.table.loc["A1", "score"] == pytest.approx(55)
    assert s.components["contribution"].sum() == pytest.approx(55)


def test_zero_weight_measure_is_shown_but_left_out():
    m = model({"g": {"measures": {"a": lin("nps", 1), "b": lin("csat", 0)}}})
    s = run(m, frame(nps=[40], csat=[100]))
    assert s.table.loc["A1", "score"] == pytest.approx(40)
    assert s.components.set_index("measure").loc["b", "left_out_reason"] == "weight 0"


# -- bands ------------------------------------------------------------------------------------


def test_bands_at_exact_boundaries():
    m = model({"g": {"measures": {"a": lin("nps")}}})
    vals = [100, 70.0, 69.9999, 40.0, 39.9999, 0]
    s = run(m, frame(nps=vals))
    assert s.table["band"].tolist() == ["healthy", "healthy", "neutral", "neutral", "at_risk", "at_risk"]
    assert s.table["band_rank"].tolist() == [2, 2, 1, 1, 0, 0]
    assert s.table["score"].tolist() == vals  # never rounded


def test_weighted_mean_noise_does_not_flip_a_band():
    # 70 × 0.1 + 70 × 0.2 over 0.3 is 70 up to float noise: must be healthy
    m = model({"g": {"measures": {"a": lin("nps", 0.1), "b": lin("csat", 0.2)}}})
    s = run(m, frame(nps=[70], csat=[70]))
    assert s.table.loc["A1", "band"] == "healthy"


def test_custom_bands():
    bands = [{"name": "green", "min": 80, "color": "green"}, {"name": "red", "min": 0, "color": "red"}]
    m = model({"g": {"measures": {"a": lin("nps")}}}, bands=bands)
    s = run(m, frame(nps=[80, 79.99]))
    assert s.table["band"].tolist() == ["green", "red"]
    assert s.table["band_color"].tolist() == ["green", "red"]


# -- profiles ----------------------------------------------------------------------------------


def test_profiles_first_match_wins_and_override_weights_groups_bands():
    groups = {"usage": {"weight": 1, "measures": {"a": lin("nps")}},
              "support": {"weight": 1, "measures": {"b": lin("csat")}}}
    profiles = [
        {"name": "ent", "when": {"column": "segment", "in": ["Enterprise"]}, "weights": {"usage": 3}},
        {"name": "big", "when": {"metric": "seats", "min": 100},
         "groups": {"support": {"measures": {"b": {"worst": 50}}}},
         "bands": [{"name": "healthy", "min": 50}, {"name": "at_risk", "min": 0}]},
    ]
    m = model(groups, profiles=profiles)
    f = frame(nps=[80, 80, 80], csat=[60, 60, 60], seats=[500, 500, 5])
    acc = accounts_for(f, segment=["enterprise", "smb", "smb"])
    t = run(m, f, acc).table
    # A1: ent (first match, although seats ≥ 100 too): (80×3 + 60×1)/4 = 75
    assert t.loc["A1", "profile"] == "ent" and t.loc["A1", "score"] == pytest.approx(75)
    # A2: big: b = (60−50)/(100−50)×100 = 20 → (80 + 20)/2 = 50 → its own bands: exactly 50 → healthy
    assert t.loc["A2", "profile"] == "big" and t.loc["A2", "score"] == pytest.approx(50)
    assert t.loc["A2", "band"] == "healthy"
    # A3: default: (80 + 60)/2 = 70
    assert t.loc["A3", "profile"] == "default" and t.loc["A3", "score"] == pytest.approx(70)


def test_profile_on_tenure_from_created_at():
    m = model({"g": {"measures": {"a": lin("nps")}}},
              profiles=[{"name": "new", "when": {"column": "tenure_days", "max": 90},
                         "groups": {"g": {"measures": {"a": {"worst": 50}}}}}])
    f = frame(nps=[75, 75])
    acc = accounts_for(f, created_at=pd.to_datetime(["2026-09-01", "2025-01-01"]))
    t = run(m, f, acc).table
    assert t["profile"].tolist() == ["new", "default"]
    assert t["score"].tolist() == pytest.approx([50, 75])  # (75−50)/50×100 = 50


# -- overrides ----------------------------------------------------------------------------------


def _ov(rows):
    return pd.DataFrame(rows, columns=["account_id", "band", "score", "reason", "expires", "source"]).assign(
        expires=lambda d: pd.to_datetime(d["expires"]), score=lambda d: d["score"].astype(float))


def test_overrides_force_band_or_score_and_expire():
    m = model({"g": {"measures": {"a": lin("nps")}}})
    f = frame(nps=[20, 20, 20, 20])
    ov = _ov([
        ["A1", "healthy", np.nan, "exec sponsor renewed verbally", "2026-12-31", "f, row 2"],
        ["A2", None, 75.0, "data lag", "2026-10-31", "f, row 3"],  # expires on as_of: still in force
        ["A3", "healthy", np.nan, "old", "2026-10-30", "f, row 4"],  # expired the day before
        ["ZZ", "healthy", np.nan, "typo", "2026-12-31", "f, row 5"],
    ])
    s = run(m, f, overrides=ov)
    t = s.table
    assert t.loc["A1", "band"] == "healthy" and t.loc["A1", "score"] == 20  # band forced, score kept
    assert t.loc["A1", "override"].startswith("exec sponsor renewed verbally")
    assert t.loc["A2", "score"] == 75 and t.loc["A2", "band"] == "healthy"  # score forced, band follows
    assert t.loc["A3", "band"] == "at_risk" and t.loc["A3", "override"] is None
    assert {i.code for i in s.issues} == {"override-expired", "override-unknown-account"}
    assert any("A3" in i.message and "2026-10-30" in i.message for i in s.issues)


def test_overrides_from_accounts_columns():
    m = model({"g": {"measures": {"a": lin("nps")}}})
    f = frame(nps=[20, 20, 20])
    acc = accounts_for(f, health_override_band=["healthy", None, "neutral"],
                       health_override_reason=["QBR went well", None, None],
                       health_override_expires=["2027-01-01", None, "2027-01-01"])
    s = run(m, f, acc)
    assert s.table["band"].tolist() == ["healthy", "at_risk", "at_risk"]
    # the third has no reason: ignored and reported
    assert [i.code for i in s.issues] == ["override-invalid"]
    assert s.issues[0].column == "reason" and s.issues[0].value is None


def test_load_overrides_file(tmp_path):
    p = tmp_path / "ov.csv"
    p.write_text("Account ID,Band,Score,Reason,Expires\nA1,Healthy,,sponsor,2026-12-31\nA2,,80,lag,2026-11-30\n",
                 encoding="utf-8")
    ov = health.load_overrides(p)
    assert ov["account_id"].tolist() == ["A1", "A2"]
    assert ov.loc[0, "band"] == "healthy" and math.isnan(ov.loc[0, "score"]) and ov.loc[1, "score"] == 80
    assert ov.loc[1, "expires"] == pd.Timestamp("2026-11-30")


def test_load_overrides_reports_every_bad_row(tmp_path):
    p = tmp_path / "ov.csv"
    p.write_text("account_id,band,score,reason,expires\n"
                 "A1,healthy,,,2026-12-31\n"      # row 2: no reason
                 "A2,,150,x,2026-12-31\n"         # row 3: score out of range
                 "A3,healthy,,x,31/12/2026\n"     # row 4: not ISO
                 "A4,,,x,2026-12-31\n",           # row 5: neither band nor score
                 encoding="utf-8")
    with pytest.raises(InputError) as e:
        health.load_overrides(p)
    got = sorted((i.row, i.column) for i in e.value.issues)
    assert got == [(2, "reason"), (3, "score"), (4, "expires"), (5, "band")]
    q = tmp_path / "bad.csv"
    q.write_text("account,band\nA1,healthy\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        health.load_overrides(q)
    assert e.value.issues[0].code == "missing-column"


# -- explain, drivers, result, KPIs ------------------------------------------------------------------


def _three():
    # a: 20 (w 2), b: 90 (w 1), c: 50 (w 1) → (40 + 90 + 50)/4 = 45
    m = model({"g": {"measures": {"a": lin("nps", 2), "b": lin("csat", 1), "c": lin("tickets", 1)}}})
    f = frame(nps=[20, 90], csat=[90, 90], tickets=[50, np.nan])
    return m, f, run(m, f)


def test_explain_breakdown_and_drivers():
    _, _, s = _three()
    e = health.explain(s, "A1")
    assert e["score"] == pytest.approx(45) and e["band"] == "neutral" and e["profile"] == "default"
    ms = e["groups"]["g"]["measures"]
    assert ms["a"]["raw"] == 20 and ms["a"]["effective_weight"] == pytest.approx(0.5)
    assert ms["a"]["contribution"] == pytest.approx(10)
    # impacts: a .5×(20−100) = −40, b .25×(90−100) = −2.5, c .25×(50−100) = −12.5
    assert [d["measure"] for d in e["drivers"]["down"]] == ["a", "c", "b"]
    assert e["drivers"]["down"][0]["impact"] == pytest.approx(-40)
    # up = lift above the account's score 45: b .25×(90−45) = 11.25, c .25×(50−45) = 1.25;
    # a (20) is below 45, so it never "holds the score up"
    assert [d["measure"] for d in e["drivers"]["up"]] == ["b", "c"]
    assert e["drivers"]["up"][0]["lift"] == pytest.approx(11.25)
    assert e["drivers"]["up"][0]["contribution"] == pytest.approx(22.5)  # .25 × 90 points added
    assert s.table.loc["A1", "top_negative"] == "a" and s.table.loc["A1", "top_positive"] == "b"
    e2 = health.explain(s, "A2")
    assert e2["groups"]["g"]["measures"]["c"]["left_out_reason"] == "no value for tickets"
    with pytest.raises(UsageError, match="did you mean 'A1'"):
        health.explain(s, "A11")


def test_health_result_sorted_by_risk_with_change():
    m, _, s = _three()
    prev = run(m, frame(nps=[40, 90], csat=[90, 90], tickets=[50, 90]))
    arr = pd.Series({"A1": 1200.0, "A2": np.nan})
    names = pd.Series({"A1": "Acme", "A2": "Beta"})
    r = health.health_result(s, prev, arr, names, m)
    acc = r["accounts"]
    assert [a["account_id"] for a in acc] == ["A1", "A2"]  # 45 before 90
    a1 = acc[0]
    # previous A1: (80 + 90 + 50)/4 = 55 → change −10
    assert a1["previous_score"] == pytest.approx(55) and a1["change"] == pytest.approx(-10)
    assert a1["name"] == "Acme" and a1["arr"] == 1200.0 and acc[1]["arr"] is None
    assert a1["drivers"][0] == {**a1["drivers"][0], "direction": "down", "measure": "a"}
    assert a1["components"]["g"]["measures"]["a"]["score"] == pytest.approx(20)
    # the same drivers as explain(): down a, c, b (impacts −40, −12.5, −2.5), up b, c (lifts 11.25, 1.25)
    assert [(d["direction"], d["measure"]) for d in a1["drivers"]] == [
        ("down", "a"), ("down", "c"), ("down", "b"), ("up", "b"), ("up", "c")]
    # A2: a 90 (eff 2/3) and b 90 (eff 1/3), c missing: impacts −6.67 and −3.33
    assert [d["measure"] for d in acc[1]["drivers"] if d["direction"] == "down"] == ["a", "b"]
    assert acc[1]["drivers"][0]["impact"] == pytest.approx(-20 / 3)
    assert r["summary"]["bands"]["neutral"]["accounts"] == 1
    assert r["summary"]["arr_at_risk"] == 0


def test_health_kpis():
    m = model({"g": {"measures": {"a": lin("nps")}}})
    cur = run(m, frame(nps=[80, 50, 10, np.nan]))
    prev = run(m, frame(nps=[80, 80, 80, 80]))
    arr = pd.Series({"A1": 100.0, "A2": 200.0, "A3": 300.0, "A4": 400.0})
    k = {x.id: x for x in health.health_kpis(cur, prev, arr, m)}
    assert k["health_score_avg"].value == pytest.approx((80 + 50 + 10) / 3) and k["health_score_avg"].n == 3
    assert k["health_score_avg"].previous == pytest.approx(80)
    assert (k["accounts_healthy"].value, k["accounts_neutral"].value, k["accounts_at_risk"].value) == (1, 1, 1)
    assert k["accounts_healthy"].previous == 4
    assert k["arr_at_risk"].value == 300 and k["arr_at_risk"].previous == 0
    assert all(x.category == "health" for x in k.values())


def test_health_kpis_custom_bands_and_no_scores():
    bands = [{"name": "good", "min": 60}, {"name": "bad", "min": 0}]
    m = model({"g": {"measures": {"a": lin("nps")}}}, bands=bands)
    cur = run(m, frame(nps=[np.nan]))
    k = {x.id: x for x in health.health_kpis(cur, None, pd.Series(dtype=float), m)}
    assert k["health_score_avg"].value is None and k["health_score_avg"].unavailable_reason
    assert k["accounts_good"].value == 0 and k["accounts_bad"].value == 0
    assert k["accounts_healthy"].value is None and "no band named" in k["accounts_healthy"].unavailable_reason


# -- backtest, history ----------------------------------------------------------------------------


def test_backtest_auc_and_bands():
    # churned scores 10, 50; retained 50, 80, 90 (+ one unscored churned account, excluded)
    # pairs (churned < retained): 10 beats all 3; 50 vs 50 tie ½, beats 80 and 90 → 5.5 / 6
    m = model({"g": {"measures": {"a": lin("nps")}}})
    s = run(m, frame(nps=[10, 50, 50, 80, 90, np.nan]))
    churned = pd.Series([True, True, False, False, False, True], index=s.table.index)
    arr = pd.Series([100.0, 200, 300, 400, 500, 600], index=s.table.index)
    r = health.backtest(s, churned, arr, m)
    assert r["auc"] == pytest.approx(5.5 / 6)
    assert (r["n"], r["churned"], r["not_scored"], r["not_scored_churned"]) == (5, 2, 1, 1)
    b = {x["band"]: x for x in r["bands"]}
    assert b["at_risk"]["accounts"] == 1 and b["at_risk"]["churn_rate"] == 1.0 and b["at_risk"]["arr"] == 100
    assert b["neutral"]["accounts"] == 2 and b["neutral"]["churn_rate"] == 0.5 and b["neutral"]["arr_churned"] == 200
    assert b["healthy"]["churned"] == 0 and b["healthy"]["arr"] == 900
    assert health.backtest(s, churned & False, arr, m)["auc"] is None


def test_append_history_is_atomic_and_dated(tmp_path):
    _, _, s = _three()
    p = health.append_history(tmp_path / "hist", AS_OF, "abc123def456", s)
    assert p.name == "health-2026-10-31.csv"
    df = pd.read_csv(p)
    assert df.columns.tolist() == ["as_of", "account_id", "score", "band", "profile", "coverage", "override",
                                   "config_hash"]
    assert df["score"].iloc[0] == pytest.approx(45) and set(df["config_hash"]) == {"abc123def456"}
    assert [x.name for x in p.parent.iterdir()] == [p.name]  # no temp file left


# -- default config end to end ---------------------------------------------------------------------


def test_default_config_scores_a_realistic_account():
    m = health.build_model(load_config())
    assert len(m.groups) == 7
    ids = pd.Index(["A1"], name="account_id")
    frames = {
        None: pd.DataFrame({"csm_sentiment": [100.0], "advocate": [1.0], "days_since_last_activity": [3.0],
                            "goals_met_ratio": [0.9], "license_utilization": [0.8], "open_tickets": [0.0]}, index=ids),
        "180d": pd.DataFrame({"nps": [50.0], "csat": [0.95]}, index=ids),
        "30d": pd.DataFrame({"active_days": [15.0]}, index=ids),
        "365d": pd.DataFrame({"late_payment_rate": [0.0]}, index=ids),
        "90d": pd.DataFrame({"tickets": [2.0], "urgent_tickets": [0.0]}, index=ids),
    }
    s = health.score(frames, pd.DataFrame({"account_id": ["A1"]}), m, as_of=AS_OF)
    assert s.table.loc["A1", "score"] == pytest.approx(100)  # every measure at its best
    assert s.table.loc["A1", "band"] == "healthy"
    assert sorted(set(w for _, w in health.required_metrics(m)), key=str) == sorted({None, "180d", "30d", "365d", "90d"}, key=str)


def test_empty_accounts():
    m = model({"g": {"measures": {"a": lin("nps")}}})
    f = frame(nps=[]) if False else pd.DataFrame({"nps": pd.Series([], dtype=float)}, index=pd.Index([], name="account_id"))
    s = health.score({None: f}, pd.DataFrame({"account_id": pd.Series([], dtype="string")}), m, as_of=AS_OF)
    assert len(s.table) == 0
    r = health.health_result(s, None, pd.Series(dtype=float), pd.Series(dtype=object), m)
    assert r["accounts"] == [] and r["summary"]["scored"] == 0


def test_health_summary_by_segment():
    m = model({"g": {"measures": {"a": lin("nps")}}})
    s = run(m, frame(nps=[80, 10, 50, np.nan]))
    seg = pd.Series({"A1": "ent", "A2": "ent", "A3": None, "A4": "smb"})
    arr = pd.Series({"A1": 100.0, "A2": 200.0, "A3": 300.0, "A4": 400.0})
    r = health.health_summary_by(s, seg, arr, m)
    assert list(r) == ["(none)", "ent", "smb"]
    assert r["ent"]["score_avg"] == pytest.approx(45) and r["ent"]["arr_at_risk"] == 200
    assert r["ent"]["bands"]["healthy"] == {"accounts": 1, "arr": 100.0}
    assert r["smb"] == {**r["smb"], "accounts": 1, "scored": 0, "score_avg": None}


@pytest.mark.slow
def test_50k_accounts_score_well_under_a_second():
    import time

    rng = np.random.default_rng(1)
    n = 50_000
    ids = pd.Index([f"A{i}" for i in range(n)], name="account_id")

    def col(lo, hi):
        x = rng.uniform(lo, hi, n)
        x[rng.random(n) < 0.1] = np.nan
        return x

    m = health.build_model(load_config())
    frames = {None: pd.DataFrame({"csm_sentiment": col(0, 100), "advocate": rng.choice([0.0, 1.0], n),
                                  "days_since_last_activity": col(0, 90), "goals_met_ratio": col(0, 1),
                                  "license_utilization": col(0, 1), "open_tickets": col(0, 15)}, index=ids),
              "180d": pd.DataFrame({"nps": col(-100, 100), "csat": col(0, 1)}, index=ids),
              "30d": pd.DataFrame({"active_days": col(0, 30)}, index=ids),
              "365d": pd.DataFrame({"late_payment_rate": col(0, 1)}, index=ids),
              "90d": pd.DataFrame({"tickets": col(0, 30), "urgent_tickets": col(0, 5)}, index=ids)}
    acc = pd.DataFrame({"account_id": ids})
    best = min(_timed(lambda: health.score(frames, acc, m, as_of=AS_OF), time) for _ in range(3))
    assert best < 1.5  # typically ~0.3 s; generous for slow CI machines


def _timed(fn, time):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def test_health_kpis_previous_arr_at_risk_uses_previous_arr():
    m = model({"g": {"measures": {"a": lin("nps")}}})
    # lin("nps") scores the raw value as is (0 → 0, 100 → 100): only A3 (10) is below 40 in both windows
    cur = run(m, frame(nps=[80, 50, 10, np.nan]))
    prev = run(m, frame(nps=[80, 80, 10, 80]))
    arr_now = pd.Series({"A1": 100.0, "A2": 200.0, "A3": 300.0, "A4": 400.0})
    arr_then = pd.Series({"A1": 100.0, "A2": 200.0, "A3": 250.0, "A4": 400.0})
    k = {x.id: x for x in health.health_kpis(cur, prev, arr_now, m, arr_previous=arr_then)}
    assert (k["arr_at_risk"].value, k["arr_at_risk"].previous) == (300, 250)


# -- review additions ------------------------------------------------------------------


@pytest.mark.parametrize("measure, want", [
    # `missing: worst` = the lowest score the rule can give, not a flat 0.
    # Each case: the measure has no data for A1, the other measure (nps, linear 0→100) scores 50;
    # total = (worst + 50) / 2.
    # linear, lower is better (worst 10 above best 0): lowest score 0 → 25
    ({"metric": "tickets", "rule": "linear", "worst": 10, "best": 0}, 25.0),
    # thresholds: step scores 100 and 20, no `below` → 20 → (20 + 50)/2 = 35
    ({"metric": "tickets", "rule": "thresholds", "steps": [{"min": 0, "score": 100}, {"min": 5, "score": 20}]}, 35.0),
    # thresholds with below 10 (lower than every step) → 10 → 30
    ({"metric": "tickets", "rule": "thresholds", "below": 10,
      "steps": [{"min": 0, "score": 100}, {"min": 5, "score": 20}]}, 30.0),
    # map: scores 100, 30 and default 40 → 30 → 40
    ({"metric": "tickets", "rule": "map", "map": {"1": 100, "2": 30}, "default": 40}, 40.0),
    # percentile (lower is better): the lowest rank scores 0 → 25
    ({"metric": "tickets", "rule": "percentile", "better": "lower"}, 25.0),
])
def test_missing_worst_is_the_lowest_score_of_each_rule(measure, want):
    m = model({"g": {"measures": {"t": {**measure, "missing": "worst"}, "a": lin("nps")}}}, min_coverage=0)
    s = run(m, frame(tickets=[np.nan, 1], nps=[50, 50]))
    assert s.table.loc["A1", "score"] == pytest.approx(want)
    c = s.components[s.components["account_id"] == "A1"].set_index("measure")
    assert bool(c.loc["t", "imputed"]) and c.loc["t", "left_out_reason"] is None


def test_only_zero_weight_data_is_not_called_no_data():
    # group g (weight 0) has data, group h (weight 1) has none: no score can be formed,
    # but "no measure has data" would be false.
    m = model({"g": {"weight": 0, "measures": {"a": lin("nps")}}, "h": {"weight": 1, "measures": {"b": lin("csat")}}},
              min_coverage=0)
    r = run(m, frame(nps=[50], csat=[np.nan])).table.loc["A1"]
    assert math.isnan(r["score"])
    assert r["not_scored_reason"] == "no measure with a weight above 0 has data"


def test_override_with_band_and_score_that_disagree_is_ignored_and_reported():
    # score 10 is at_risk under the default bands, band says healthy: contradictory → ignored.
    # A2: score 80 with band healthy agree → both applied.
    m = model({"g": {"measures": {"a": lin("nps")}}})
    ov = _ov([
        ["A1", "healthy", 10.0, "contradictory", "2026-12-31", "f, row 2"],
        ["A2", "healthy", 80.0, "consistent", "2026-12-31", "f, row 3"],
    ])
    s = run(m, frame(nps=[50, 50]), overrides=ov)
    t = s.table
    assert t.loc["A1", "score"] == 50 and t.loc["A1", "band"] == "neutral" and t.loc["A1", "override"] is None
    assert t.loc["A2", "score"] == 80 and t.loc["A2", "band"] == "healthy"
    i = [i for i in s.issues if i.code == "override-inconsistent"]
    assert len(i) == 1 and "A1" in i[0].message and "at_risk" in i[0].message


def test_map_with_integer_keys_on_a_float_metric():
    # advocate yields 1.0 / 0.0 floats; a map {1: 100, 0: 50} must match them; 0.5 is unmapped.
    m = model({"g": {"measures": {"adv": {"metric": "advocate", "rule": "map", "map": {1: 100, 0: 50}}}}}, min_coverage=0)
    s = run(m, frame(advocate=[1.0, 0.0, 0.5]))
    assert s.table["score"].tolist()[:2] == [100, 50]
    assert math.isnan(s.table.loc["A3", "score"])
    assert "not in the map" in s.components.set_index("account_id").loc["A3", "left_out_reason"]


def test_percentile_within_a_segment_of_one_and_missing_values():
    # segment a: 10, 20, NaN → ranks 1, 2 of n=2 → 0, 100; segment b: one account → 50;
    # the NaN account is left out, not ranked.
    m = model({"g": {"measures": {"p": {"metric": "nps", "rule": "percentile", "within": "segment"}}}}, min_coverage=0)
    f = frame(nps=[10, 20, np.nan, 5])
    s = run(m, f, accounts_for(f, segment=["a", "a", "a", "b"]))
    got = s.table["score"].tolist()
    assert got[0] == 0 and got[1] == 100 and math.isnan(got[2]) and got[3] == 50


def test_min_aggregate_ignores_missing_measures():
    # min over present measures only: A1 has b=40, c=60 (a missing) → 40;
    # coverage = shares 1/4 + 1/4 = 0.5 (a has weight 2 of 4). A2 only a=10 → 10, coverage 0.5.
    m = model({"g": {"aggregate": "min", "measures": {"a": lin("nps", 2), "b": lin("csat"), "c": lin("tickets")}}},
              min_coverage=0)
    s = run(m, frame(nps=[np.nan, 10], csat=[40, np.nan], tickets=[60, np.nan]))
    assert s.table["score"].tolist() == [40, 10]
    assert s.table["coverage"].tolist() == pytest.approx([0.5, 0.5])
    c = s.components.set_index(["account_id", "measure"])["effective_weight"]
    assert c.loc[("A1", "b")] == 1 and c.loc[("A1", "c")] == 0 and c.loc[("A2", "a")] == 1


def test_override_band_matches_band_names_with_capitals():
    # custom band names with capitals: the override's band is compared case-insensitively
    # and the configured spelling is kept.
    m = model({"g": {"measures": {"a": lin("nps")}}},
              bands=[{"name": "Green", "min": 60}, {"name": "Red", "min": 0}])
    ov = _ov([["A1", "green", np.nan, "renewal signed", "2026-12-31", "f, row 2"],
              ["A2", "GREEN", 65.0, "agreeing pair", "2026-12-31", "f, row 3"]])
    s = run(m, frame(nps=[20, 20]), overrides=ov)
    assert s.table["band"].tolist() == ["Green", "Green"]
    assert s.table.loc["A2", "score"] == 65
    assert not s.issues


def test_backtest_all_churned_is_unavailable_with_reason():
    m = model({"g": {"measures": {"a": lin("nps")}}})
    s = run(m, frame(nps=[10, 90]))
    r = health.backtest(s, pd.Series(True, index=s.table.index), None, m)
    assert r["auc"] is None and "churned and one retained" in r["auc_unavailable_reason"]
    assert r["churn_rate"] == 1.0


def test_expired_file_override_does_not_hide_a_live_column_override():
    # A1: the file override expired 2026-10-01 (before as_of 2026-10-31); the accounts
    # column holds one in force until 2027 → the column override applies, the expired one is reported.
    # A2: both in force → the file wins (neutral, not healthy).
    m = model({"g": {"measures": {"a": lin("nps")}}})
    f = frame(nps=[20, 20])
    acc = accounts_for(f, health_override_band=["healthy", "healthy"],
                       health_override_reason=["QBR went well", "crm"],
                       health_override_expires=["2027-01-01", "2027-01-01"])
    ov = _ov([["A1", "neutral", np.nan, "old note", "2026-10-01", "f, row 2"],
              ["A2", "neutral", np.nan, "file note", "2026-12-31", "f, row 3"]])
    s = run(m, f, acc, overrides=ov)
    assert s.table["band"].tolist() == ["healthy", "neutral"]
    assert s.table.loc["A1", "override"].startswith("QBR went well")
    assert [i.code for i in s.issues] == ["override-expired"]


def test_percentile_within_compares_segments_like_profiles_do():
    # " SMB" and "smb" are one segment (trimmed, case-insensitive, as profile `when` compares):
    # values 10, 30 → 0, 100; "ent" alone → 50. Split into two groups they would be 50, 50.
    m = model({"g": {"measures": {"p": {"metric": "nps", "rule": "percentile", "within": "segment"}}}}, min_coverage=0)
    f = frame(nps=[10, 30, 20])
    s = run(m, f, accounts_for(f, segment=[" SMB", "smb", "ent"]))
    assert s.table["score"].tolist() == [0, 100, 50]


def test_profile_when_range_is_inclusive_and_first_match_wins():
    # p1: tenure 30..90 inclusive; p2: segment in [Enterprise, Strategic] (trimmed, any case);
    # p3: plan equals 1 (matches 1.0). Rows:
    #   A1 tenure 30 (low edge) → p1;  A2 tenure 90 (high edge) and Enterprise → p1 (first match wins)
    #   A3 tenure 90.5, " enterprise" → p2;  A4 tenure NaN, plan 1.0 → p3 (a missing value never matches a range)
    #   A5 tenure 29.9, segment smb, plan 2 → default
    m = model({"g": {"measures": {"a": lin("nps")}}}, profiles=[
        {"name": "p1", "when": {"column": "tenure", "min": 30, "max": 90}},
        {"name": "p2", "when": {"column": "segment", "in": ["Enterprise", "Strategic"]}},
        {"name": "p3", "when": {"column": "plan", "equals": 1}},
    ])
    f = frame(nps=[50] * 5)
    acc = accounts_for(f, tenure=[30, 90, 90.5, np.nan, 29.9],
                       segment=["smb", "Enterprise", " enterprise", "smb", "smb"], plan=[2.0, 2, 2, 1, 2])
    assert run(m, f, acc).table["profile"].tolist() == ["p1", "p1", "p2", "p3", "default"]
