"""KPIs on the bundled sample_data/, recomputed independently from the raw CSVs.

These recomputations use plain Python over the raw rows (not the loader, not
the metrics modules), so they check the whole pipeline: reading, parsing,
de-duplication, linking and the KPI definitions of SPEC §3.
"""

import csv
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from cs_metrics.analysis import analyse
from cs_metrics.config import load_config
from cs_metrics.loading import load

DATA = Path(__file__).resolve().parents[1] / "sample_data"
AS_OF = date(2026, 10, 31)


@pytest.fixture(scope="module")
def analysis():
    cfg = load_config(DATA / "csm.yaml")
    bundle = load(DATA, config=cfg, today=date(2026, 11, 22))
    return analyse(bundle, cfg, as_of="2026-10-31", period="month")


def _rows(name):
    with open(DATA / name, newline="", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def _dt(text):
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None


def kpi(analysis, kid):
    k = analysis.kpis.get(kid)
    assert k is not None, kid
    return k


def test_tickets_in_october(analysis):
    seen, n = set(), 0
    for r in _rows("tickets.csv"):
        if r["Id"] in seen:  # R3: later copies of an id are set aside
            continue
        seen.add(r["Id"])
        c = _dt(r["Created at"])
        if c is not None and date(2026, 10, 1) <= c.date() <= AS_OF:
            n += 1
    assert kpi(analysis, "tickets").value == n


def test_open_tickets_on_as_of(analysis):
    seen, n = set(), 0
    end = datetime(2026, 11, 1)
    for r in _rows("tickets.csv"):
        if r["Id"] in seen:
            continue
        seen.add(r["Id"])
        c = _dt(r["Created at"])
        if c is None or c >= end:
            continue
        solved = _dt(r["Solved at"]) if r["Solved at"] else None
        if solved is None or solved >= end:
            n += 1
    assert kpi(analysis, "open_tickets").value == n


def test_nps_in_october(analysis):
    p = d = total = 0
    for r in _rows("surveys.csv"):
        if r["Survey Type"].strip().lower() != "nps" or not r["Submitted At"].strip():
            continue
        s = _dt(r["Submitted At"])
        if s is None or not (date(2026, 10, 1) <= s.date() <= AS_OF) or not r["Score"].strip():
            continue
        score = float(r["Score"])
        if not 0 <= score <= 10:  # out of scale: set aside (R10)
            continue
        total += 1
        p += score >= 9
        d += score <= 6
    k = kpi(analysis, "nps")
    assert total > 0
    assert k.value == pytest.approx(100 * (p - d) / total)
    assert (k.extra["promoters"], k.extra["detractors"], k.n) == (p, d, total)


def _months(start, end):
    days = (end - start).days
    return max(1, round(days / 30.4375))


def _add_months(d, k):
    y, m = divmod(d.month - 1 + k, 12)
    y, m = d.year + y, m + 1
    import calendar

    return date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def test_mrr_and_paying_accounts_on_as_of(analysis):
    mrr_by_account = {}
    for r in _rows("invoices.csv"):
        if r["Status"].strip().lower() in ("void", "draft", "deleted", "refunded"):
            continue
        s, e = r["Minimum Line Item Period Start (UTC)"], r["Maximum Line Item Period End (UTC)"]
        if not s or not e:  # one-off invoices carry no service period
            continue
        start, end = _dt(s).date(), _dt(e).date()
        # R20: an end one day short of whole months is inclusive
        for k in range(1, 61):
            if _add_months(start, k) - timedelta(days=1) == end:
                end += timedelta(days=1)
                break
        if not start <= AS_OF < end:
            continue
        amount = float(r["Total"]) - float(r["Tax"] or 0)
        rate = 1.08 if r["Currency"].strip().upper() == "EUR" else 1.0
        monthly = amount * rate / _months(start, end)
        mrr_by_account[r["Customer"]] = mrr_by_account.get(r["Customer"], 0.0) + monthly
    mrr = sum(mrr_by_account.values())
    assert kpi(analysis, "mrr").value == pytest.approx(mrr, rel=1e-9)
    assert kpi(analysis, "arr").value == pytest.approx(12 * mrr, rel=1e-9)
    assert kpi(analysis, "paying_accounts").value == sum(v > 0 for v in mrr_by_account.values())


def test_health_kpis_join_the_table_and_bands_spread(analysis):
    counts = [kpi(analysis, f"accounts_{b}").value for b in ("healthy", "neutral", "at_risk")]
    assert all(c > 0 for c in counts)  # the default config gives a spread of bands
    assert sum(counts) == analysis.health["summary"]["scored"]
    at_risk = [a for a in analysis.health["accounts"] if a["band"] == "at_risk"]
    assert kpi(analysis, "arr_at_risk").value == pytest.approx(sum(a["arr"] or 0 for a in at_risk))
