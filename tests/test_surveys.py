"""Survey KPIs and per-account survey metrics on tiny hand-computed frames.

Window: --as-of 2026-10-31, period month ⇒ W = 2026-10-01..2026-10-31,
P = 2026-09-01..2026-09-30.
"""

from __future__ import annotations

import copy
import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cs_metrics.bundle import Bundle, Dataset
from cs_metrics.config import default_config
from cs_metrics.errors import ConfigError
from cs_metrics.metrics import surveys as S
from cs_metrics.metrics.registry import ACCOUNT_METRICS, KPIS, Context
from cs_metrics.timeframe import windows

W, P = windows(pd.Timestamp("2026-10-31"), "month")


def dt(values):
    return pd.to_datetime(pd.Series(values, dtype="object"), format="ISO8601")


def surveys(scores, submitted, types=None, accounts=None, **extra) -> pd.DataFrame:
    n = len(scores)
    df = pd.DataFrame(
        {
            "score": pd.Series(scores, dtype="float64"),
            "submitted_at": dt(submitted),
            "survey_type": pd.Series(types or ["nps"] * n, dtype="str"),
            "account_id": pd.Series(accounts or [None] * n, dtype="str"),
        }
    )
    for k, v in extra.items():
        df[k] = dt(v) if k.endswith("_at") else pd.Series(v, dtype="str")
    return df


def ctx(sv: pd.DataFrame | None, window=W, config=None, accounts=None) -> Context:
    ds = {}
    if sv is not None:
        ds["surveys"] = Dataset("surveys", sv, rows_read=len(sv))
    if accounts is not None:
        acc = pd.DataFrame({"account_id": pd.Series(accounts, dtype="str")})
        ds["accounts"] = Dataset("accounts", acc, rows_read=len(acc))
    b = Bundle(ds)
    return Context(b, config or default_config(), window, {k: v.frame for k, v in ds.items()})


def cfg(**surveys_over):
    c = copy.deepcopy(default_config())
    for k, v in surveys_over.items():
        if isinstance(v, dict) and isinstance(c["surveys"].get(k), dict):
            c["surveys"][k].update(v)
        else:
            c["surveys"][k] = v
    return c


OCT = ["2026-10-05"]

# ------------------------------------------------------------------ NPS


def test_nps_hand_computed_with_margin_of_error():
    # 5 promoters (9,10,10,9,10), 3 passives (7,8,8), 2 detractors (0,6):
    # p = .5, d = .2 ⇒ NPS = 100 × (.5 − .2) = 30.
    # MoE = 1.96 × 100 × √((.5 + .2 − .3²)/10) = 196 × √(.061) = 196 × 0.246982 ≈ 48.4085
    scores = [9, 10, 10, 9, 10, 7, 8, 8, 0, 6]
    r = S.nps(ctx(surveys(scores, OCT * 10)))
    assert r.value == pytest.approx(30.0)
    assert r.n == 10
    assert (r.extra["promoters"], r.extra["passives"], r.extra["detractors"]) == (5, 3, 2)
    assert r.extra["margin_of_error"] == pytest.approx(196 * math.sqrt(0.061))
    assert r.extra["margin_of_error"] == pytest.approx(48.41, abs=0.005)


def test_nps_category_boundaries():
    # 6 → detractor, 7 and 8 → passive, 9 → promoter: (1 − 1)/4 ⇒ 0
    r = S.nps(ctx(surveys([6, 7, 8, 9], OCT * 4)))
    assert (r.extra["promoters"], r.extra["passives"], r.extra["detractors"]) == (1, 2, 1)
    assert r.value == pytest.approx(0.0)
    # 0 and 10, the ends of the scale: (1 − 1)/2 ⇒ 0; all 9s ⇒ 100; all 6s ⇒ −100
    assert S.nps(ctx(surveys([0, 10], OCT * 2))).value == pytest.approx(0.0)
    assert S.nps(ctx(surveys([9, 9], OCT * 2))).value == pytest.approx(100.0)
    assert S.nps(ctx(surveys([6, 6], OCT * 2))).value == pytest.approx(-100.0)


def test_nps_single_response_has_zero_margin():
    # p = 1, d = 0: p + d − (p − d)² = 0 ⇒ MoE 0
    r = S.nps(ctx(surveys([10], OCT)))
    assert r.value == pytest.approx(100.0)
    assert r.extra["margin_of_error"] == pytest.approx(0.0)


def test_nps_empty_and_other_types_only_are_unavailable():
    empty = surveys([], [])
    r = S.nps(ctx(empty))
    assert r.value is None and r.unavailable_reason and r.n == 0
    r = S.nps(ctx(surveys([5], OCT, types=["csat"])))
    assert r.value is None and "NPS" in r.unavailable_reason


def test_nps_window_boundaries_and_previous_window():
    sv = surveys(
        [10, 10, 0, 0, 0],
        [
            "2026-10-31 23:59:59",  # last second of W: in W
            "2026-10-01 00:00:00",  # first moment of W: in W
            "2026-11-01 00:00:00",  # next day: outside W (after R)
            "2026-09-30 23:59:59",  # last second of P
            "2026-08-31 23:59:59",  # before P
        ],
    )
    # W: two promoters ⇒ 100; P: one detractor ⇒ −100
    assert S.nps(ctx(sv)).value == pytest.approx(100.0)
    assert S.nps(ctx(sv)).n == 2
    rp = S.nps(ctx(sv, window=P))
    assert rp.value == pytest.approx(-100.0) and rp.n == 1


def test_nps_ignores_sent_only_rows_and_counts_orphans():
    sv = surveys(
        [9, None, 3],
        ["2026-10-02", None, "2026-10-03"],
        accounts=["A", "A", None],  # the detractor is an orphan
        sent_at=["2026-10-01", "2026-10-01", "2026-10-01"],
    )
    r = S.nps(ctx(sv, accounts=["A"]))
    # responses: 9 (A) and 3 (orphan) ⇒ (1 − 1)/2 = 0, n 2
    assert r.n == 2 and r.value == pytest.approx(0.0)


# ------------------------------------------------------------------ CSAT


def test_csat_top_box_counts_exactly_satisfied_min():
    # csat scores 3, 4, 4, 5, 2 with satisfied_min 4: 4, 4, 5 ⇒ 3/5 = .6; the nps row is ignored
    sv = surveys([3, 4, 4, 5, 2, 10], OCT * 6, types=["csat"] * 5 + ["nps"])
    r = S.csat(ctx(sv))
    assert r.value == pytest.approx(0.6)
    assert r.n == 5 and r.extra["satisfied"] == 3 and r.extra["rated"] == 5


def test_csat_mean_method_and_custom_threshold():
    sv = surveys([3, 4, 4, 5, 2], OCT * 5, types=["csat"] * 5)
    # mean = (3 + 4 + 4 + 5 + 2)/5 = 18/5 = 3.6
    r = S.csat(ctx(sv, config=cfg(csat={"method": "mean"})))
    assert r.value == pytest.approx(3.6) and r.extra["unit"] == "score"
    # satisfied_min 5: only the 5 ⇒ 1/5
    assert S.csat(ctx(sv, config=cfg(csat={"satisfied_min": 5}))).value == pytest.approx(0.2)


def test_csat_unavailable_and_bad_method():
    assert S.csat(ctx(surveys([], []))).value is None
    sv = surveys([4], OCT, types=["csat"])
    with pytest.raises(ConfigError) as e:
        S.csat(ctx(sv, config=cfg(csat={"method": "median"})))
    assert e.value.issues[0].key == "surveys.csat.method"


# ------------------------------------------------------------------ CES


def test_ces_mean_and_pct_agree_and_direction():
    sv = surveys([7, 5, 4, 2], OCT * 4, types=["ces"] * 4)
    # mean = 18/4 = 4.5, higher is better by default
    r = S.ces(ctx(sv))
    assert r.value == pytest.approx(4.5) and r.extra["better"] == "higher"
    # pct_agree with agree_min 5: 7 and 5 ⇒ 2/4 (5 exactly counts)
    r = S.ces(ctx(sv, config=cfg(ces={"method": "pct_agree"})))
    assert r.value == pytest.approx(0.5) and r.extra["unit"] == "ratio"
    r = S.ces(ctx(sv, config=cfg(ces={"higher_is_better": False})))
    assert r.value == pytest.approx(4.5) and r.extra["better"] == "lower"
    assert S.ces(ctx(surveys([5], OCT))).value is None  # only nps rows


# ------------------------------------------------------------------ response rate (R29, R26)


def test_response_rate_counts_answers_after_the_window():
    sv = surveys(
        [8, 9, None, None, 7, 5],
        ["2026-10-03", "2026-11-04", None, "2026-10-09", "2026-09-02", "2026-10-02"],
        types=["nps", "csat", "nps", "ces", "nps", "nps"],
        sent_at=["2026-10-01", "2026-10-30", "2026-10-02", "2026-10-08", "2026-09-01", None],
    )
    # sent in W: rows 1–4 (row 5 sent in September, row 6 has no sent date) ⇒ 4
    # answered: row 1, row 2 (answered in November, after W: still answered, R29);
    # row 3 never submitted; row 4 submitted without a score ⇒ 2/4
    r = S.survey_response_rate(ctx(sv))
    assert r.value == pytest.approx(0.5) and r.n == 4
    # P: only row 5, answered ⇒ 1/1
    assert S.survey_response_rate(ctx(sv, window=P)).value == pytest.approx(1.0)


def test_response_rate_needs_sent_at_and_sent_rows():
    sv = surveys([8], OCT)
    assert "sent_at" in KPIS["survey_response_rate"].missing_inputs(ctx(sv))
    sv = surveys([8], OCT, sent_at=[None])
    r = S.survey_response_rate(ctx(sv))
    assert r.value is None and "sent" in r.unavailable_reason
    sv = surveys([8], OCT, sent_at=["2026-09-30"])  # nothing sent in W
    r = S.survey_response_rate(ctx(sv))
    assert r.value is None and r.n == 0


def test_response_rate_one_invitation_per_wide_response():
    # R10 wide row "R1" became an nps row and a csat row (same id and sent date):
    # one invitation, answered. "R2" sent, unanswered. Row without an id is its own.
    sv = surveys(
        [9, 4, None, None],
        ["2026-10-02", "2026-10-02", None, None],
        types=["nps", "csat", "nps", "nps"],
        sent_at=["2026-10-01", "2026-10-01", "2026-10-01", "2026-10-05"],
        response_id=["R1", "R1", "R2", None],
    )
    # 3 invitations (R1, R2, the id-less one), 1 answered ⇒ 1/3
    r = S.survey_response_rate(ctx(sv))
    assert r.n == 3 and r.value == pytest.approx(1 / 3)


# ------------------------------------------------------------------ other types (R35)


def test_survey_type_family_means():
    sv = surveys(
        [4, 5, 3, 2, 9],
        ["2026-10-01", "2026-10-02", "2026-10-03", "2026-09-15", "2026-10-03"],
        types=["training", "training", "onboarding call", "training", "nps"],
    )
    b = Bundle({"surveys": Dataset("surveys", sv)})
    fam = {k.id: k for k in S.survey_type_kpis(b, default_config())}
    assert set(fam) == {"survey_training_avg", "survey_onboarding_call_avg"}
    c = ctx(sv)
    assert fam["survey_training_avg"].compute(c).value == pytest.approx(4.5)  # (4 + 5)/2
    assert fam["survey_onboarding_call_avg"].compute(c).value == pytest.approx(3.0)
    assert fam["survey_training_avg"].compute(ctx(sv, window=P)).value == pytest.approx(2.0)
    assert fam["survey_onboarding_call_avg"].compute(ctx(sv, window=P)).value is None
    assert all(k.category == "surveys" and k.unit == "score" for k in fam.values())
    assert S.survey_type_kpis(Bundle(), {}) == []


# ------------------------------------------------------------------ CXI


CXI_CFG = {
    "cxi": {"ces": 1, "empathy": 1, "understanding": 2},
    "scales": {"empathy": [1, 5], "understanding": [1, 5]},
}


def test_cxi_reweights_over_types_with_responses():
    # ces 3 and 5 ⇒ mean 4 on 1–7 ⇒ (4 − 1)/6 × 100 = 50; empathy 5 on 1–5 ⇒ 100;
    # understanding has no response ⇒ left out; weights 1, 1 ⇒ (50 + 100)/2 = 75
    sv = surveys([3, 5, 5], OCT * 3, types=["ces", "ces", "empathy"])
    r = S.cxi(ctx(sv, config=cfg(**CXI_CFG)))
    assert r.value == pytest.approx(75.0) and r.n == 3
    assert "understanding" in r.extra["left_out"]
    # add understanding 2 ⇒ (2 − 1)/4 × 100 = 25, weight 2: (50 + 100 + 2 × 25)/4 = 50
    sv = surveys([3, 5, 5, 2], OCT * 4, types=["ces", "ces", "empathy", "understanding"])
    r = S.cxi(ctx(sv, config=cfg(**CXI_CFG)))
    assert r.value == pytest.approx(50.0)
    assert r.extra["components"]["understanding"]["effective_weight"] == pytest.approx(0.5)


def test_cxi_lower_is_better_ces_is_inverted_and_unknown_scales_left_out():
    # ces mean 2.5 on 1–7 ⇒ 25, lower is better ⇒ 100 − 25 = 75; 'efficiency' has no scale
    sv = surveys([2, 3, 4], OCT * 3, types=["ces", "ces", "efficiency"])
    c = cfg(ces={"higher_is_better": False}, cxi={"ces": 1, "efficiency": 1})
    r = S.cxi(ctx(sv, config=c))
    assert r.value == pytest.approx(75.0)
    assert "scale" in r.extra["left_out"]["efficiency"]


def test_cxi_null_when_no_type_has_responses():
    r = S.cxi(ctx(surveys([9], OCT)))  # only nps, which is not in the default cxi
    assert r.value is None and r.unavailable_reason


# ------------------------------------------------------------------ per account


def per(name, c):
    return ACCOUNT_METRICS[name].compute(c)


def test_per_account_nps_responses_and_csat():
    sv = surveys(
        [10, 6, 8, 9, 2, 5, 3],
        [
            "2026-10-01",
            "2026-10-02",
            "2026-10-03",
            "2026-10-04",
            "2026-09-04",
            "2026-10-04",
            "2026-10-04",
        ],
        types=["nps", "nps", "nps", "nps", "nps", "csat", "csat"],
        accounts=["A", "A", "A", None, "B", "A", "A"],
    )
    c = ctx(sv, accounts=["A", "B", "C"])
    nps = per("nps", c)
    # A: 10 (P), 6 (D), 8 (pass) ⇒ 100 × (1 − 1)/3 = 0; B's response is in P ⇒ missing;
    # the orphan 9 belongs to no account
    assert nps["A"] == pytest.approx(0.0) and math.isnan(nps["B"]) and math.isnan(nps["C"])
    assert list(nps.index) == ["A", "B", "C"]
    assert per("nps_responses", c).to_dict() == {"A": 3.0, "B": 0.0, "C": 0.0}
    # csat top box for A: 5 ✓, 3 ✗ ⇒ .5; mean method ⇒ 4
    assert per("csat", c)["A"] == pytest.approx(0.5)
    assert per("csat", ctx(sv, config=cfg(csat={"method": "mean"}), accounts=["A"]))[
        "A"
    ] == pytest.approx(4.0)
    # previous window: B's 2 ⇒ −100
    assert per("nps", ctx(sv, window=P, accounts=["A", "B"]))["B"] == pytest.approx(-100.0)


def test_last_nps_score_any_time_on_or_before_R():
    sv = surveys(
        [3, 9, 7, 8, 10, 4],
        ["2026-05-01", "2026-08-01", "2026-08-01", "2026-10-31 23:00", "2026-11-02", "2026-10-20"],
        types=["nps", "nps", "nps", "nps", "nps", "csat"],
        accounts=["A", "B", "B", "C", "C", "A"],
    )
    c = ctx(sv, accounts=["A", "B", "C", "D"])
    last = per("last_nps_score", c)
    # A: only the May 3 (the csat 4 is another type); B: tie on 08-01 ⇒ (9 + 7)/2 = 8;
    # C: the 11-02 response is after R ⇒ 8; D never answered ⇒ missing
    assert last["A"] == 3.0 and last["B"] == 8.0 and last["C"] == 8.0 and math.isnan(last["D"])
    # as of the end of P (09-30): C has no response yet
    assert math.isnan(per("last_nps_score", ctx(sv, window=P, accounts=["C"]))["C"])


def test_survey_score_avg_rescales_each_type():
    sv = surveys([10, 3, 2], OCT * 3, types=["nps", "csat", "mystery"], accounts=["A", "A", "A"])
    # nps 10 on 0–10 ⇒ 100; csat 3 on 1–5 ⇒ 50; 'mystery' has no scale ⇒ left out ⇒ 75
    assert per("survey_score_avg", ctx(sv, accounts=["A"]))["A"] == pytest.approx(75.0)


def test_per_account_empty_and_no_accounts_dataset():
    empty = surveys([], [])
    out = per("nps", ctx(empty, accounts=["A"]))
    assert list(out.index) == ["A"] and math.isnan(out["A"])
    assert per("nps_responses", ctx(empty, accounts=["A"]))["A"] == 0.0
    # without accounts, the ids in the data are the index
    sv = surveys([9], OCT, accounts=["X"])
    assert per("nps", ctx(sv)).to_dict() == {"X": 100.0}
    assert per("last_nps_score", ctx(empty)).empty


def test_config_dependent_unit_and_direction_travel_in_extra_even_when_null():
    # the engine prints extra["unit"]/["better"] instead of the registry defaults
    r = S.csat(ctx(surveys([], []), config=cfg(csat={"method": "mean"})))
    assert r.value is None and r.extra["unit"] == "score"
    r = S.ces(
        ctx(surveys([], []), config=cfg(ces={"method": "pct_agree", "higher_is_better": False}))
    )
    assert r.value is None and r.extra == {
        "method": "pct_agree",
        "unit": "ratio",
        "better": "lower",
    }


def test_family_ids_stay_unique_and_cxi_without_types():
    sv = surveys([4, 5], OCT * 2, types=["a-b", "a b"])
    ids = [k.id for k in S.survey_type_kpis(Bundle({"surveys": Dataset("surveys", sv)}), {})]
    assert len(set(ids)) == 2 and ids[0] == "survey_a_b_avg"
    c = cfg()  # an empty cxi mapping (cfg() would merge it into the default)
    c["surveys"]["cxi"] = {}
    r = S.cxi(ctx(surveys([4], OCT, types=["ces"]), config=c))
    assert r.value is None and "cxi" in r.unavailable_reason


# ------------------------------------------------------------------ invariants


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 10), st.sampled_from(["A", "B", None]), st.integers(0, 60)),
        max_size=30,
    )
)
def test_nps_invariants(rows):
    # days 0..60 after 2026-09-01: both P and W get some responses
    scores = [float(r[0]) for r in rows]
    when = [(pd.Timestamp("2026-09-01") + pd.Timedelta(days=r[2])).isoformat() for r in rows]
    sv = surveys(scores, when, accounts=[r[1] for r in rows])
    c = ctx(sv, accounts=["A", "B"])
    r = S.nps(c)
    in_w = [s for s, w in zip(rows, when) if w >= "2026-10-01"]
    if not in_w:
        assert r.value is None
        return
    assert -100 <= r.value <= 100
    assert r.extra["promoters"] + r.extra["passives"] + r.extra["detractors"] == r.n == len(in_w)
    # per-account responses + orphans = company responses
    orphans = sum(1 for s in in_w if s[1] is None)
    assert per("nps_responses", c).sum() + orphans == r.n
