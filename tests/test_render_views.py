"""Views of validate, kpis, health, explain, backtest and trend on hand-built inputs."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from cs_metrics.bundle import Bundle, Dataset
from cs_metrics.errors import Issue, UsageError
from cs_metrics.render import views as V
from cs_metrics.results import KPITable, KPIValue
from cs_metrics.timeframe import Window

FIXTURE = Path(__file__).parent / "fixtures" / "report" / "report.json"


@pytest.fixture(autouse=True)
def _fixed_width(monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)


def _bundle() -> Bundle:
    acc = pd.DataFrame(
        {
            "account_id": pd.array(["A-1", "A-2", "A-3", "A-4", "A-5"], dtype="string"),
            "segment": pd.array(["SMB", "SMB", "Ent", None, "Ent"], dtype="string"),
        }
    )
    tickets = pd.DataFrame({"ticket_id": pd.array(["1"], dtype="string")})
    issues = [
        Issue(
            "bad-date",
            "cannot read this date",
            dataset="tickets",
            file="t.csv",
            row=r,
            column="Created",
            value=v,
        )
        for r, v in ((3, "31/02"), (5, "<x>"), (9, "?"), (12, "soon"))
    ]
    issues.append(
        Issue(
            "orphan-account",
            "no such account",
            dataset="tickets",
            file="t.csv",
            row=7,
            column="Org",
            value="Acme",
        )
    )
    return Bundle(
        {
            "accounts": Dataset(
                "accounts", acc, ["acc.csv"], 5, {"account_id": "ID", "segment": "Seg"}
            ),
            "tickets": Dataset(
                "tickets",
                tickets,
                ["t.csv"],
                6,
                {"ticket_id": "Id"},
                meta={"issue_counts": {"bad-date": 40, "orphan-account": 1}},
            ),
        },
        issues=issues,
        ignored_files=[{"file": "notes.txt", "reason": "not a table"}],
    )


def _analysis(health=None, by=None):
    W = Window(pd.Timestamp("2026-10-01"), pd.Timestamp("2026-10-31"), "month")
    P = Window(pd.Timestamp("2026-09-01"), pd.Timestamp("2026-09-30"), "month")
    kpis = [
        KPIValue("mrr", "MRR", "revenue", "currency", "higher", 1000.0, 900.0, n=3),
        KPIValue(
            "nps",
            "NPS",
            "surveys",
            "nps",
            "higher",
            None,
            None,
            unavailable_reason="needs surveys, which the loaded data does not have",
        ),
    ]
    groups = (
        {"SMB": [KPIValue("mrr", "MRR", "revenue", "currency", "higher", 400.0, 380.0)]}
        if by
        else {}
    )
    return SimpleNamespace(
        as_of=pd.Timestamp("2026-10-31"),
        window=W,
        previous_window=P,
        config={"currency": {"base": "USD"}},
        config_hash="h",
        bundle=_bundle(),
        kpis=KPITable(kpis, by=by, groups=groups),
        health=health,
        issues=[],
    )


@pytest.fixture
def health() -> dict:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))["health"]


# ------------------------------------------------------------------ validate
def test_data_quality_table_groups_issues_with_exact_counts():
    text = V.render_data_quality(_bundle(), "table")
    assert "\x1b[" not in text
    assert "acc.csv" in text and "Seg" in text and "notes.txt" in text
    line = next(ln for ln in text.splitlines() if ln.startswith("bad-date"))
    assert "40" in line  # exact count from the loader, not the 4 listed
    assert "t.csv, row 3, 'Created': '31/02'" in text
    assert "'soon'" not in text  # only the first 3 examples per kind


def test_data_quality_json_is_bundle_data_quality():
    b = _bundle()
    assert json.loads(V.render_data_quality(b, "json")) == json.loads(json.dumps(b.data_quality()))


def test_data_quality_rejects_other_formats():
    with pytest.raises(UsageError):
        V.render_data_quality(_bundle(), "xlsx")


# ------------------------------------------------------------------ kpis
def test_catalogue_lists_every_registered_kpi():
    from cs_metrics.metrics.registry import catalogue

    ids = [k.id for k in catalogue()]  # engine KPIs, health KPIs and the survey_<type>_avg family
    assert "health_score_avg" in ids and "survey_<type>_avg" in ids
    md = V.render_catalogue("md")
    assert all(f"`{i}`" in md for i in ids)
    assert md.splitlines()[0] == "| id | KPI | Category | Unit | Better | Definition |"
    assert [k["id"] for k in json.loads(V.render_catalogue("json"))["kpis"]] == ids
    assert "\x1b[" not in V.render_catalogue("table")


def test_kpis_views():
    a = _analysis(by="segment")
    text = V.render_kpis(a, "table")
    assert (
        "USD 1,000" in text
        and "+USD 100" in text
        and "needs surveys" in text
        and "segment = SMB" in text
    )
    d = json.loads(V.render_kpis(a, "json"))
    assert d["kpis"][0]["change"] == 100.0  # 1000 - 900
    assert d["groups"]["values"]["SMB"]["kpis"][0]["value"] == 400.0
    rows = list(csv.DictReader(io.StringIO(V.render_kpis(a, "csv"))))
    assert [(r["group"], r["id"]) for r in rows] == [("", "mrr"), ("", "nps"), ("SMB", "mrr")]
    assert "| MRR | USD 1,000 | USD 900 |" in V.render_kpis(a, "md")


# ------------------------------------------------------------------ health
def test_health_band_and_top_filters(health):
    a = _analysis(health)
    d = json.loads(V.render_health(a, "json", band="at risk"))
    assert [x["account_id"] for x in d["accounts"]] == ["A-3", "A-4"]
    d = json.loads(V.render_health(a, "json", top=1))
    assert [x["account_id"] for x in d["accounts"]] == ["A-3"]
    with pytest.raises(UsageError):
        V.render_health(a, "table", band="purple")


def test_health_table_csv_md(health):
    a = _analysis(health)
    text = V.render_health(a, "table")
    assert "<script>alert(1)</scrip…" in text and "Licence utilisation (0.12, -16.7" in text
    assert max(len(line) for line in text.splitlines()) <= 120
    rows = list(csv.DictReader(io.StringIO(V.render_health(a, "csv"))))
    assert rows[1]["name"].startswith("'=HYPERLINK")
    md = V.render_health(a, "md")
    assert "&lt;script&gt;" in md and "<script>" not in md


def test_health_by_group_counts(health):
    a = _analysis(health)
    d = json.loads(V.render_health(a, "json", by="segment"))
    g = d["groups"]
    # A-1 healthy, A-2 neutral → SMB; A-3 at_risk and A-5 not scored → Ent; A-4 at_risk, blank segment
    assert g["SMB"]["healthy"] == 1 and g["SMB"]["neutral"] == 1 and g["SMB"]["accounts"] == 2
    assert g["Ent"]["at_risk"] == 1 and g["Ent"]["not_scored"] == 1
    assert g["Ent"]["arr_at_risk"] == 60000.0  # A-3's ARR; A-5 has no band
    assert g["(blank)"]["at_risk"] == 1 and g["(blank)"]["arr_at_risk"] == 24000.0
    assert g["SMB"]["score_avg"] == pytest.approx((88.5 + 55.0) / 2)
    assert "segment" in V.render_health(a, "table", by="segment")
    with pytest.raises(UsageError):
        V.render_health(a, "table", by="colour")


# ------------------------------------------------------------------ explain / backtest / trend
def test_explain_view():
    detail = {
        "account_id": "A-3",
        "as_of": "2026-10-31",
        "score": 22.5,
        "band": "at_risk",
        "band_color": "red",
        "profile": "default",
        "coverage": 0.85,
        "previous_score": 41.0,
        "not_scored_reason": None,
        "override": None,
        "groups": {
            "adoption": {
                "label": "Product adoption",
                "score": 10.0,
                "weight": 25,
                "effective_weight": 0.3,
                "left_out_reason": None,
                "measures": {
                    "lu": {
                        "label": "Licence utilisation",
                        "raw": 0.12,
                        "score": 0.0,
                        "weight": 2,
                        "effective_weight": 0.2,
                        "contribution": 0.0,
                        "imputed": False,
                        "left_out_reason": None,
                    }
                },
            }
        },
        "drivers": {
            "down": [
                {
                    "measure": "lu",
                    "label": "Licence utilisation",
                    "raw": 0.12,
                    "score": 0.0,
                    "impact": -20.0,
                }
            ],
            "up": [],
        },
    }
    text = V.render_explain(detail, "table")
    assert "score 22.5, band at risk (previous 41.0)" in text
    assert "coverage 85% of the weight" in text
    assert "Licence utilisation: raw 0.12, score 0.0, -20.0 pts" in text
    assert json.loads(V.render_explain(detail, "json"))["score"] == 22.5


def test_backtest_view():
    result = {
        "as_of": "2026-06-30",
        "horizon_days": 90,
        "auc": 0.8571,
        "auc_unavailable_reason": None,
        "n": 10,
        "churned": 2,
        "churn_rate": 0.2,
        "not_scored": 0,
        "not_scored_churned": 0,
        "arr_at_risk": 5000.0,
        "arr_at_risk_churned": 1000.0,
        "currency": "USD",
        "bands": [
            {
                "band": "at_risk",
                "color": "red",
                "min": 0,
                "accounts": 4,
                "churned": 2,
                "churn_rate": 0.5,
                "arr": 5000.0,
                "arr_churned": 1000.0,
            }
        ],
    }
    text = V.render_backtest(result, "table")
    assert "ROC AUC 0.857" in text and "50.0%" in text and "USD 1,000" in text
    result["auc"] = None
    result["auc_unavailable_reason"] = "needs churned accounts"
    assert "needs churned accounts" in V.render_backtest(result, "table")


def test_trend_views():
    w1 = Window(pd.Timestamp("2026-09-01"), pd.Timestamp("2026-09-30"), "month")
    w2 = Window(pd.Timestamp("2026-10-01"), pd.Timestamp("2026-10-31"), "month")

    def ks(mrr, nps):
        return [
            KPIValue("mrr", "MRR", "revenue", "currency", "higher", mrr),
            KPIValue("nps", "NPS", "surveys", "nps", "higher", nps),
            KPIValue(
                "cac", "CAC", "value", "currency", "lower", None, unavailable_reason="no spend"
            ),
        ]

    series = [(w1, ks(351572.0, None)), (w2, ks(1_250_000.0, 41.26))]
    text = V.render_trend(series, "table", currency="USD")
    assert (
        "Sep 26" in text
        and "Oct 26" in text
        and "351.6k" in text
        and "1.25M" in text
        and "41.3" in text
    )
    assert "CAC" not in text  # never available: left out of the table
    rows = list(csv.DictReader(io.StringIO(V.render_trend(series, "csv", currency="USD"))))
    assert (
        len(rows) == 6
        and rows[0]["period_start"] == "2026-09-01"
        and rows[0]["value"] == "351572.0"
    )
    d = json.loads(V.render_trend(series, "json", currency="USD"))
    assert (
        d["periods"][1]["window"]["end"] == "2026-10-31"
        and d["periods"][0]["kpis"][1]["value"] is None
    )


def test_number_unit_renders_as_plain_quotient_not_percent():
    from cs_metrics.render import formatting as F

    assert F.value(21.3, "number") == "21.30" and F.change(-0.8, "number") == "-0.80"
    assert F.value(0.213, "ratio") == "21.3%"


def test_raw_measure_values_use_the_metric_unit():
    from cs_metrics.health.explain import _metric_unit
    from cs_metrics.render import formatting as F

    assert _metric_unit("license_utilization") == "ratio" and _metric_unit("Segment") is None
    assert F.raw(0.25, "ratio") == "25.0%" and F.raw(0.25) == "0.25" and F.raw(3, None) == "3"
