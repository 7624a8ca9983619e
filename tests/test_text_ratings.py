"""CSAT given as words (Zendesk/Help Scout style): good/bad are ratings, offered is not.

SPEC §3 csat: satisfied = `good`, or ≥ 4 on 1–5; `offered`, `not offered` and
blank are not ratings.
"""

from pathlib import Path

import pandas as pd
import pytest

from cs_metrics.config import default_config
from cs_metrics.loading import load
from cs_metrics.metrics.engine import compute_table
from cs_metrics.timeframe import window_for

LONG = (
    "Response ID,Survey Type,Score,Company,Sent At,Submitted At\n"
    "1,csat,Good,Acme,,2026-10-02 10:00:00\n"
    "2,csat,bad_with_comment,Acme,,2026-10-03 10:00:00\n"
    "3,csat,Offered,Acme,,2026-10-04 10:00:00\n"
    "4,csat,5,Acme,2026-10-01 09:00:00,2026-10-05 10:00:00\n"
    "5,csat,2,Acme,,2026-10-06 10:00:00\n"
    "6,csat,okay,Acme,,2026-10-06 10:00:00\n"
)


def _load(tmp_path: Path, text: str, name="surveys.csv"):
    (tmp_path / name).write_text(text)
    return load(None, explicit={"surveys": tmp_path / name})


def test_words_become_ratings_and_offered_becomes_a_sent_survey(tmp_path):
    b = _load(tmp_path, LONG)
    s = b.frame("surveys").set_index("response_id")
    assert s.loc["1", "rating"] == "good" and pd.isna(s.loc["1", "score"])
    assert s.loc["2", "rating"] == "bad"
    # offered: sent on its date, not answered
    assert pd.isna(s.loc["3", "submitted_at"]) and s.loc["3", "sent_at"] == pd.Timestamp("2026-10-04 10:00")
    assert s.loc["4", "score"] == 5 and pd.isna(s.loc["4", "rating"])
    # an unknown word is still a bad number, with its location
    bad = [i for i in b.issues if i.code == "bad-number"]
    assert [(i.row, i.value) for i in bad] == [(7, "okay")]


def test_csat_top_box_counts_good_as_satisfied(tmp_path):
    b = _load(tmp_path, LONG)
    t = compute_table(b, default_config(), window_for(pd.Timestamp("2026-10-31"), "month"))
    k = t.get("csat")
    # rated: good, bad, 5, 2 (offered and okay are not ratings) → satisfied good and 5 = 2/4
    assert (k.value, k.n, k.extra["satisfied"]) == (pytest.approx(0.5), 4, 2)
    r = t.get("survey_response_rate")
    # sent in October: #3 (offered, on Oct 4) and #4 (sent Oct 1, answered) → 1/2
    assert (r.value, r.n) == (pytest.approx(0.5), 2)


def test_csat_mean_ignores_word_ratings(tmp_path):
    b = _load(tmp_path, LONG)
    cfg = default_config()
    cfg["surveys"]["csat"]["method"] = "mean"
    k = compute_table(b, cfg, window_for(pd.Timestamp("2026-10-31"), "month")).get("csat")
    assert (k.value, k.n) == (pytest.approx((5 + 2) / 2), 2)  # words have no mean


def test_wide_file_word_ratings(tmp_path):
    text = ("Response ID,Company,Submitted At,NPS,CSAT\n"
            "1,Acme,2026-10-02 10:00:00,9,Good\n"
            "2,Acme,2026-10-03 10:00:00,3,Not Offered\n")
    b = _load(tmp_path, text, name="feedback.csv")
    s = b.frame("surveys")
    csat = s[s["survey_type"] == "csat"]
    assert csat["rating"].tolist() == ["good"]  # 'Not Offered' is no answer
    assert sorted(s.loc[s["survey_type"] == "nps", "score"]) == [3, 9]
