"""Hypothesis properties of the health score: bounded, monotone, order-independent."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from cs_metrics import health

METRICS = ["nps", "csat", "tickets", "active_days", "seats", "usage_events"]
AS_OF = pd.Timestamp("2026-10-31")

value = st.one_of(st.none(), st.floats(-1e6, 1e6, allow_nan=False))
weight = st.sampled_from([0, 0.5, 1, 2, 3, 10])


@st.composite
def measure(draw, metric: str) -> dict:
    rule = draw(st.sampled_from(["linear", "thresholds", "percentile"]))
    d: dict = {"metric": metric, "weight": draw(weight), "rule": rule}
    if rule == "linear":
        a, b = draw(st.floats(-100, 100)), draw(st.floats(-100, 100))
        if a == b:
            b = a + 1
        d.update(worst=a, best=b)
    elif rule == "thresholds":
        mins = sorted(set(draw(st.lists(st.floats(-100, 100), min_size=1, max_size=4))))
        d["steps"] = [{"min": m, "score": draw(st.floats(0, 100))} for m in mins]
    d["missing"] = draw(st.sampled_from(["reweight", "worst", {"score": 50}]))
    return d


@st.composite
def config(draw) -> dict:
    metrics = draw(st.permutations(METRICS))
    n_groups = draw(st.integers(1, 3))
    groups = {}
    for g in range(n_groups):
        ms = metrics[g * 2: g * 2 + 2]
        measures = {f"m_{x}": draw(measure(x)) for x in ms}
        if all(m["weight"] == 0 for m in measures.values()):
            next(iter(measures.values()))["weight"] = 1
        groups[f"g{g}"] = {"weight": draw(st.sampled_from([1, 2, 5])),
                           "aggregate": draw(st.sampled_from(["weighted_mean", "min", "max"])),
                           "measures": measures}
    return {"health": {"groups": groups, "min_coverage": draw(st.sampled_from([0, 0.3, 0.5, 1]))}}


def frame_of(rows: list[dict]) -> pd.DataFrame:
    ids = pd.Index([f"A{i}" for i in range(len(rows))], name="account_id")
    return pd.DataFrame({m: [np.nan if r[m] is None else r[m] for r in rows] for m in METRICS}, index=ids)


def scores(cfg: dict, f: pd.DataFrame) -> pd.Series:
    m = health.build_model(cfg)
    return health.score({None: f}, pd.DataFrame({"account_id": f.index}), m, as_of=AS_OF).table["score"]


rows = st.lists(st.fixed_dictionaries({m: value for m in METRICS}), min_size=1, max_size=8)


@settings(max_examples=40, deadline=None)
@given(config(), rows)
def test_scores_stay_within_0_and_100(cfg, rs):
    s = scores(cfg, frame_of(rs)).dropna()
    assert ((s >= 0) & (s <= 100)).all()


@settings(max_examples=40, deadline=None)
@given(config(), rows, st.integers(0, 7), st.floats(0, 1e6, allow_nan=False))
def test_raising_a_higher_is_better_measure_never_lowers_the_score(cfg, rs, i, bump):
    # make one linear measure higher-is-better (worst < best) and raise one account's value
    target = cfg["health"]["groups"]["g0"]["measures"]
    _, m = next(iter(target.items()))
    m.update(rule="linear", worst=min(m.get("worst", 0), m.get("best", 1)),
             best=max(m.get("worst", 0), m.get("best", 1)))
    m.pop("steps", None)
    if m["worst"] == m["best"]:
        m["best"] = m["worst"] + 1
    metric = m["metric"]
    f = frame_of(rs)
    i = i % len(f)
    if np.isnan(f.iloc[i][metric]):
        f.loc[f.index[i], metric] = 0.0
    before = scores(cfg, f).iloc[i]
    g = f.copy()
    g.loc[g.index[i], metric] = f.iloc[i][metric] + bump
    after = scores(cfg, g).iloc[i]
    if not np.isnan(before):
        assert after >= before - 1e-9


@settings(max_examples=40, deadline=None)
@given(config(), rows, st.randoms(use_true_random=False))
def test_order_of_groups_and_measures_never_changes_a_score(cfg, rs, rnd):
    f = frame_of(rs)
    groups = list(cfg["health"]["groups"].items())
    rnd.shuffle(groups)
    shuffled = {}
    for gid, g in groups:
        ms = list(g["measures"].items())
        rnd.shuffle(ms)
        shuffled[gid] = {**g, "measures": dict(ms)}
    other = {"health": {**cfg["health"], "groups": shuffled}}
    a, b = scores(cfg, f), scores(other, f)
    assert a.isna().equals(b.isna())
    assert np.allclose(a.fillna(-1), b.fillna(-1), atol=1e-9, rtol=0)
