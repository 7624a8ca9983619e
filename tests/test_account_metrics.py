"""Per-account snapshot metrics from accounts columns (cs_metrics/metrics/accounts.py).

R = 2026-10-31 for W (month), 2026-09-30 for P.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from cs_metrics.bundle import Bundle, Dataset
from cs_metrics.config import default_config
from cs_metrics.metrics import accounts as M
from cs_metrics.metrics.registry import ACCOUNT_METRICS, Context
from cs_metrics.timeframe import windows

W, P = windows(pd.Timestamp("2026-10-31"), "month")
NAN = float("nan")


def ctx(acc: pd.DataFrame, window=W) -> Context:
    b = Bundle({"accounts": Dataset("accounts", acc, rows_read=len(acc))})
    return Context(b, default_config(), window, {"accounts": acc})


def frame(ids, **cols) -> pd.DataFrame:
    df = pd.DataFrame({"account_id": pd.Series(ids, dtype="str")})
    for k, v in cols.items():
        if k in ("renewal_date", "created_at"):
            df[k] = pd.to_datetime(pd.Series(v, dtype="object"), format="ISO8601")
        elif k == "advocate":
            df[k] = pd.array(v, dtype="boolean")
        elif k == "csm_sentiment":
            df[k] = pd.Series(v, dtype="str")
        else:
            df[k] = pd.Series(v, dtype="float64")
    return df


def metric(name, acc, window=W) -> dict:
    s = ACCOUNT_METRICS[name].compute(ctx(acc, window))
    assert s.dtype == "float64" and s.index.name == "account_id"
    assert list(s.index) == list(acc["account_id"])
    return s.to_dict()


def same(got: dict, expected: dict) -> bool:
    return got.keys() == expected.keys() and all(
        (math.isnan(e) and math.isnan(g)) or g == pytest.approx(e)
        for g, e in zip(got.values(), expected.values())
    )


def test_sentiment_words():
    acc = frame(list("ABCDEF"), csm_sentiment=["green", "amber", "yellow", "red", "purple", None])
    assert same(
        metric("csm_sentiment", acc), {"A": 100, "B": 50, "C": 50, "D": 0, "E": NAN, "F": NAN}
    )


def test_sentiment_one_to_five():
    # (x − 1)/4 × 100: 1 → 0, 3 → 50, 4 → 75, 5 → 100; a word beside them still maps
    acc = frame(list("ABCDE"), csm_sentiment=["1", "3", "4", "5", "green"])
    assert same(metric("csm_sentiment", acc), {"A": 0, "B": 50, "C": 75, "D": 100, "E": 100})


def test_sentiment_zero_to_ten_decided_by_the_column():
    # a 7 (or a 0) means the column is 0–10: 10x, so the 3 is 30, not 50
    acc = frame(list("ABCDE"), csm_sentiment=["0", "7", "10", "3", "11"])
    assert same(metric("csm_sentiment", acc), {"A": 0, "B": 70, "C": 100, "D": 30, "E": NAN})
    assert M.sentiment_score(pd.Series(["6", "2.5"], dtype="str")).tolist() == [60.0, 25.0]


def test_advocate_and_goals():
    acc = frame(list("ABC"), advocate=[True, False, None])
    assert same(metric("advocate", acc), {"A": 1, "B": 0, "C": NAN})
    acc = frame(list("ABCD"), goals_total=[4, 0, NAN, 2], goals_met=[3, 0, 1, NAN])
    # A 3/4; B no goals; C goals unknown; D met unknown ⇒ missing
    assert same(metric("goals_met_ratio", acc), {"A": 0.75, "B": NAN, "C": NAN, "D": NAN})


def test_days_to_renewal_and_tenure_use_R():
    acc = frame(
        list("ABCD"),
        renewal_date=["2026-11-30", "2026-10-01", "2026-10-31 15:00", None],
        created_at=["2026-10-01", "2026-11-05", "2025-10-31", None],
    )
    # R = 10-31: 11-30 ⇒ 30; 10-01 ⇒ −30 (passed); same day ⇒ 0; unknown ⇒ missing
    assert same(metric("days_to_renewal", acc), {"A": 30, "B": -30, "C": 0, "D": NAN})
    # 10-01 → 10-31 = 30; created after R ⇒ missing; 2025-10-31 → 365
    assert same(metric("tenure_days", acc), {"A": 30, "B": NAN, "C": 365, "D": NAN})
    # P: R = 09-30 ⇒ renewal 11-30 is 61 days away; A not yet a customer
    assert metric("days_to_renewal", acc, P)["A"] == 61
    assert math.isnan(metric("tenure_days", acc, P)["A"])


def test_seats_and_empty_frame():
    acc = frame(["A", "B"], seats=[12, NAN])
    assert same(metric("seats", acc), {"A": 12, "B": NAN})
    empty = frame([], seats=[], csm_sentiment=[], goals_total=[], goals_met=[])
    for name in ("seats", "csm_sentiment", "goals_met_ratio"):
        assert metric(name, empty) == {}


def test_snapshot_metrics_are_not_windowed():
    for name in (
        "csm_sentiment",
        "advocate",
        "goals_met_ratio",
        "days_to_renewal",
        "tenure_days",
        "seats",
    ):
        assert ACCOUNT_METRICS[name].windowed is False
