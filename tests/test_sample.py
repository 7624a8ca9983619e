"""Tests for the sample-data and benchmark generator (cs_metrics/sample.py).

The files are read back with plain pandas/csv (not our loader) so these tests
check the generator alone: headers, determinism, invariants a person can
verify by hand, the deliberate messy bits, and that the latent health really
drives churn and signals.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cs_metrics import sample as S

N = 120
SEED = 5


def _read(path: Path, **kw) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""],
                       encoding="utf-8-sig", **kw)


def _accounts(path: Path) -> pd.DataFrame:
    """accounts.csv without its Salesforce-style footer (blank line + 3 lines)."""
    text = path.read_text(encoding="utf-8")
    body = text.split("\n\n")[0] + "\n"
    return pd.read_csv(io.StringIO(body), dtype=str, keep_default_na=False, na_values=[""])


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> dict[str, Path]:
    return S.write_sample(tmp_path_factory.mktemp("sample"), accounts=N, seed=SEED)


@pytest.fixture(scope="module")
def frames(out):
    return {
        "accounts": _accounts(out["accounts"]),
        "tickets": _read(out["tickets"]),
        "surveys": _read(out["surveys"]),
        "billing": _read(out["billing"]),
        "usage": _read(out["usage"]),
    }


@pytest.fixture(scope="module")
def latent():
    return S.latent_frame(N, SEED)


_LEGAL = {s.replace(".", "") for s in S.LEGAL_SUFFIXES}


def _norm(name: str) -> str:
    """Case, spacing, punctuation and legal forms folded (what SPEC R7 asks of the loader)."""
    words = re.sub(r"[^a-z0-9 ]", "", name.lower()).split()
    while words and words[-1] in _LEGAL:
        words.pop()
    return " ".join(words)


# --------------------------------------------------------------------------- files

def test_files_and_exact_headers(out):
    expected = {
        "accounts": S.ACCOUNT_COLUMNS, "tickets": S.TICKET_COLUMNS, "surveys": S.SURVEY_COLUMNS,
        "billing": S.INVOICE_COLUMNS, "usage": S.USAGE_COLUMNS,
    }
    for ds, cols in expected.items():
        first = out[ds].read_bytes().split(b"\n", 1)[0].decode("utf-8-sig").rstrip("\r")
        assert tuple(first.split(",")) == cols, ds
    assert "Annual Revenue" in S.ACCOUNT_COLUMNS and "Number of Employees" in S.ACCOUNT_COLUMNS
    cfg = out["config"].read_text()
    assert "EUR: 1.08" in cfg and "base: USD" in cfg


def test_deterministic_for_a_seed_and_different_otherwise(tmp_path, out):
    again = S.write_sample(tmp_path / "a", accounts=N, seed=SEED)
    for ds in ("accounts", "tickets", "surveys", "billing", "usage"):
        assert again[ds].read_bytes() == out[ds].read_bytes(), ds
    other = S.write_sample(tmp_path / "b", accounts=N, seed=SEED + 1)
    assert other["tickets"].read_bytes() != out["tickets"].read_bytes()


def test_accounts_do_not_depend_on_ticket_rate(tmp_path, out):
    # separate random streams: changing the ticket volume leaves every other file alone
    more = S.write_sample(tmp_path, accounts=N, seed=SEED, tickets_per_account_month=3.0)
    assert more["accounts"].read_bytes() == out["accounts"].read_bytes()
    assert more["billing"].read_bytes() == out["billing"].read_bytes()
    assert len(_read(more["tickets"])) > 2 * len(_read(out["tickets"]))


def test_row_counts_scale_with_accounts(tmp_path):
    small = S.write_sample(tmp_path / "s", accounts=40, seed=1)
    big = S.write_sample(tmp_path / "b", accounts=160, seed=1)
    assert len(_accounts(small["accounts"])) == 40 + 1  # + the duplicated row
    assert len(_accounts(big["accounts"])) == 160 + 1
    for ds in ("tickets", "surveys", "billing", "usage"):
        s, b = len(_read(small[ds])), len(_read(big[ds])),
        assert 2 * s < b < 8 * s, (ds, s, b)


@pytest.fixture(scope="module")
def default(tmp_path_factory) -> dict[str, Path]:
    """The bundled sample's parameters (300 accounts, seed 7)."""
    return S.write_sample(tmp_path_factory.mktemp("default"))


def test_bundled_sample_data_is_what_write_sample_writes(default):
    # sample_data/ in the repository must be regenerated when the generator changes
    bundled = Path(__file__).resolve().parent.parent / "sample_data"
    for path in default.values():
        assert (bundled / path.name).read_bytes() == path.read_bytes(), path.name


def test_default_size_is_small_and_realistic(default):
    p = default
    total = sum(f.stat().st_size for f in p.values())
    assert total < 10 * 2**20
    usage_rows = len(_read(p["usage"]))
    assert 20_000 < usage_rows < 80_000
    acc = _accounts(p["accounts"]).drop_duplicates("Record ID")
    churned = acc["Churned Date"].notna().mean()
    assert 0.2 <= churned <= 0.4  # "≈25-35% churn over two years"
    # some churn between 2026-05-01 and 2026-08-01: what a 90-day backtest from May needs
    cd = pd.to_datetime(acc["Churned Date"])
    assert ((cd >= "2026-05-01") & (cd < "2026-08-01")).sum() >= 5
    created = pd.to_datetime(acc["Customer Since"])
    assert (created >= "2026-10-01").sum() >= 1  # new customers in the last month
    assert created.min() < pd.Timestamp("2024-11-01")  # customers older than the history


# --------------------------------------------------------------------------- accounts

def test_accounts_messy_bits(out, frames):
    text = out["accounts"].read_text(encoding="utf-8")
    lines = text.rstrip("\n").split("\n")
    assert lines[-3] == f'"Grand Totals ({N + 1} records)"'
    assert "Confidential" in lines[-2] and "salesforce.com" in lines[-1]
    acc = frames["accounts"]
    assert acc["Record ID"].duplicated().sum() == 1
    assert acc["Record ID"].str.fullmatch(r"\d{7}").all()
    assert acc["Record ID"].str.startswith("0").all()  # leading zeros a naive reader loses
    assert acc["Segment"].isin(["Enterprise", "Mid-Market", "SMB"]).all()
    assert acc["Company owner"].nunique() <= 8
    assert acc["CSM Sentiment"].dropna().isin(["Green", "Yellow", "Red"]).all()
    assert acc["Advocate"].dropna().isin(["Yes", "No"]).all()
    # the trap: the customer's own revenue is far above any plausible ARR
    assert pd.to_numeric(acc["Annual Revenue"]).median() > 1e6
    # goals met never exceed goals
    g = acc.dropna(subset=["Goals Total"])
    assert (pd.to_numeric(g["Goals Met"]) <= pd.to_numeric(g["Goals Total"])).all()


def test_clean_format_has_no_messy_bits(tmp_path):
    p = S.write_sample(tmp_path, accounts=60, seed=2, formats="clean")
    assert not p["surveys"].read_bytes().startswith(b"\xef\xbb\xbf")
    assert b"\r\n" not in p["surveys"].read_bytes()
    assert "Grand Totals" not in p["accounts"].read_text()
    t = _read(p["tickets"])
    assert not t["Id"].duplicated().any()
    assert pd.to_datetime(t["Created at"], format="%Y-%m-%d %H:%M:%S").max() < pd.Timestamp("2026-11-01")
    with pytest.raises(ValueError):
        S.write_sample(tmp_path, accounts=10, formats="xlsx")


# --------------------------------------------------------------------------- billing

def test_annual_invoices_cover_twelve_months_end_exclusive(frames):
    b = frames["billing"]
    start = pd.to_datetime(b["Minimum Line Item Period Start (UTC)"])
    end = pd.to_datetime(b["Maximum Line Item Period End (UTC)"])
    annual = (end - start).dt.days > 300
    assert annual.sum() > 0
    # Stripe style: 2025-03-14 -> 2026-03-14 (same day next year)
    assert (end[annual] == start[annual] + pd.DateOffset(years=1)).all()
    monthly = (end - start).dt.days.between(27, 31) & ~annual
    exclusive = end == start + pd.DateOffset(months=1)
    inclusive = end == start + pd.DateOffset(months=1) - pd.Timedelta(days=1)
    assert (exclusive | inclusive)[monthly].all()
    assert inclusive[monthly].any()  # Jan 1 - Jan 31 style rows (SPEC R20)
    assert (start[inclusive].dt.day == 1).all()


def test_invoice_amounts_statuses_and_one_offs(frames):
    b = frames["billing"]
    num = {c: pd.to_numeric(b[c]) for c in ("Subtotal", "Tax", "Total", "Amount Paid")}
    assert np.allclose(num["Subtotal"] + num["Tax"], num["Total"], atol=0.005)
    assert set(b["Status"]) >= {"paid", "open", "void", "draft"}
    assert set(b["Currency"]) == {"usd", "eur"}
    assert b.loc[b["Status"] == "draft", "Number"].isna().all()
    assert b.loc[b["Status"] != "draft", "Number"].notna().all()
    assert not b["id"].duplicated().any()
    paid = b["Status"] == "paid"
    assert (num["Amount Paid"][paid] == num["Total"][paid]).all()
    assert (num["Amount Paid"][~paid] == 0).all()
    assert b.loc[paid, "Paid At (UTC)"].notna().all() and b.loc[~paid, "Paid At (UTC)"].isna().all()
    # one-offs: setup fees without a line-item period (Period Start == Period End == Date)
    one = b["Description"] == "Setup fee"
    assert one.any()
    assert b.loc[one, "Minimum Line Item Period Start (UTC)"].isna().all()
    assert (b.loc[one, "Period Start (UTC)"] == b.loc[one, "Period End (UTC)"]).all()
    # late payments: paid after the due date
    late = pd.to_datetime(b["Paid At (UTC)"]) > pd.to_datetime(b["Due Date (UTC)"])
    assert late.sum() > 0
    # open and past due on as_of
    past_due = (b["Status"] == "open") & (pd.to_datetime(b["Due Date (UTC)"]) < "2026-10-31")
    assert past_due.sum() > 0


def test_renewal_invoice_period_columns_describe_previous_period(frames):
    b = frames["billing"]
    rec = b[b["Minimum Line Item Period Start (UTC)"].notna()].copy()
    rec["start"] = pd.to_datetime(rec["Minimum Line Item Period Start (UTC)"])
    rec = rec.sort_values(["Customer", "start"])
    renewal = rec["Customer"].eq(rec["Customer"].shift()) & (rec["Status"] != "void")
    # the Period End of a renewal invoice is the start of the line-item period
    pe = pd.to_datetime(rec.loc[renewal, "Period End (UTC)"])
    assert (pe == rec.loc[renewal, "start"]).mean() > 0.95


def test_churned_accounts_stop_billing_and_usage(frames):
    acc = frames["accounts"].drop_duplicates("Record ID")
    churn = pd.to_datetime(acc.set_index("Record ID")["Churned Date"]).dropna()
    assert len(churn) > 0
    b = frames["billing"]
    b_churn = b["Customer"].map(churn)
    issued = pd.to_datetime(b["Date (UTC)"])
    assert not (issued >= b_churn).any()
    line_end = pd.to_datetime(b["Maximum Line Item Period End (UTC)"])
    # the churn date is the end of the last service period
    last_end = line_end.groupby(b["Customer"]).max().reindex(churn.index)
    assert (last_end.dt.normalize() <= churn).all()
    u = frames["usage"]
    t = pd.to_datetime(pd.to_numeric(u["time"]), unit="s")
    assert not (t >= u["company_id"].map(churn)).any()


def test_reactivated_accounts_have_a_billing_gap(frames, latent):
    b = frames["billing"]
    acc = frames["accounts"].set_index("Record ID")
    react = latent.loc[latent["reactivated"], "account_id"]
    assert len(react) >= 1
    for a in react:
        s = pd.to_datetime(b.loc[(b["Customer"] == a) & b["Description"].isna(),
                                 "Minimum Line Item Period Start (UTC)"]).sort_values()
        assert s.diff().dt.days.max() > 45  # invoices stopped for a while...
        assert s.iloc[-1] >= pd.Timestamp("2026-10-01")  # ...and run again up to as_of
        assert pd.isna(acc.loc[a, "Churned Date"])  # the CRM shows it as a customer


# --------------------------------------------------------------------------- tickets

def test_ticket_organisations_link_to_accounts(frames):
    acc = frames["accounts"]
    t = frames["tickets"]
    names = {_norm(n) for n in acc["Company name"]}
    org = t["Organization"]
    orphan = org.isin(S.ORPHAN_ORGS)
    assert orphan.sum() > 0
    linked = org.notna() & ~orphan
    assert org[linked].map(_norm).isin(names).all()
    # some organisations differ from the CRM name by case or spacing only
    exact = set(acc["Company name"])
    assert (~org[linked].isin(exact)).sum() > 0
    # the legal-suffix trap: "X Ltd" in the CRM, "X LIMITED"-style in the help desk
    assert org[linked].str.endswith(" Limited").any()
    # requester-domain-only rows: blank Organization, e-mail at a CRM domain
    blank = org.isna()
    assert blank.sum() > 0
    domains = set(acc["Company Domain Name"])
    assert t.loc[blank, "Requester email"].str.split("@").str[1].isin(domains).all()


def test_ticket_messy_rows(out, frames):
    t = frames["tickets"]
    assert t["Id"].duplicated().sum() == 1
    assert (t["Subject"] == S.MESSY_SUBJECT).sum() == 1
    created = pd.to_datetime(t["Created at"], format="%Y-%m-%d %H:%M:%S", errors="coerce")
    assert created.isna().sum() == 1  # one unparseable date
    assert (created.dt.year == 2031).sum() == 1  # one future-dated ticket
    assert (pd.to_numeric(t["First reply time in minutes"]) < 0).sum() == 1
    assert t["Satisfaction Score"].isna().sum() >= 1
    assert set(t["Satisfaction Score"].dropna()) == {"Good", "Bad", "Offered", "Not Offered"}
    assert set(t["Priority"].dropna()) == {"Low", "Normal", "High", "Urgent"}
    assert t["Priority"].isna().any()
    assert set(t["Via"]) == {"Mail", "Web form", "Chat", "Phone call", "API"}
    assert t["Tags"].str.split().map(lambda tags: "escalated" in tags).sum() > 0
    open_ = t["Solved at"].isna()
    assert open_.sum() > 0 and t.loc[open_, "Status"].isin(["New", "Open", "Pending", "On-hold"]).all()
    # the quoted line break really is inside one CSV record
    with open(out["tickets"], newline="", encoding="utf-8") as fh:
        n_records = sum(1 for _ in csv.reader(fh)) - 1
    assert n_records == len(t)
    # business-hours minutes never exceed calendar minutes
    cal = pd.to_numeric(t["First reply time in minutes"])
    bh = pd.to_numeric(t["First reply time in minutes within business hours"])
    ok = cal >= 0
    assert (bh[ok] <= cal[ok]).all()
    solved = pd.to_datetime(t["Solved at"])
    both = solved.notna() & created.notna()
    assert both.sum() > 0 and (solved[both] >= created[both]).all()


# --------------------------------------------------------------------------- surveys

def test_surveys_bom_crlf_unanswered_and_out_of_scale(out, frames):
    raw = out["surveys"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    s = frames["surveys"]
    assert set(s["Survey Type"]) == {"nps", "csat", "ces"}
    unanswered = s["Submitted At"].isna()
    assert unanswered.sum() > 0 and s.loc[unanswered, "Score"].isna().all()
    score = pd.to_numeric(s["Score"])
    nps = s["Survey Type"] == "nps"
    assert (score[nps] > 10).sum() == 1  # the single out-of-scale row
    assert score[s["Survey Type"] == "csat"].dropna().between(1, 5).all()
    assert score[s["Survey Type"] == "ces"].dropna().between(1, 7).all()
    sub, sent = pd.to_datetime(s["Submitted At"]), pd.to_datetime(s["Sent At"])
    assert (sub.dropna() >= sent[sub.notna()]).all()


# --------------------------------------------------------------------------- the health model

def test_latent_matches_files(frames, latent):
    acc = frames["accounts"].drop_duplicates("Record ID")
    assert list(acc["Record ID"]) == list(latent["account_id"])
    assert (acc["Churned Date"].notna().to_numpy() == latent["churned"].to_numpy()).all()


def test_low_health_churns_more_and_signals_follow_health(default):
    p = default
    lat = S.latent_frame().set_index("account_id")
    tercile = pd.qcut(lat["h"], 3, labels=["low", "mid", "high"])
    churn = lat["churned"].groupby(tercile, observed=True).mean()
    assert churn["low"] > 2 * churn["high"]
    assert churn["low"] > 0.3

    s = _read(p["surveys"])
    nps = s[(s["Survey Type"] == "nps") & s["Score"].notna()]
    acc = _accounts(p["accounts"]).drop_duplicates("Record ID").set_index("Company name")["Record ID"]
    nps_t = tercile.reindex(nps["Company"].map(acc)).to_numpy()
    by = pd.to_numeric(nps["Score"]).groupby(nps_t).mean()
    assert by["high"] > by["low"] + 1.5

    acc_df = _accounts(p["accounts"]).drop_duplicates("Record ID").set_index("Record ID")
    sent = acc_df["CSM Sentiment"].groupby(tercile.reindex(acc_df.index).to_numpy()).agg(
        lambda x: (x == "Red").mean())
    assert sent["low"] > sent["high"]

    # urgent tickets per account-month are higher for low health
    t = _read(p["tickets"])
    t["acc"] = t["Organization"].map(acc)
    t = t.dropna(subset=["acc"])
    urgent = (t["Priority"] == "Urgent").groupby(tercile.reindex(t["acc"]).to_numpy()).mean()
    assert urgent["low"] > urgent["high"]


# --------------------------------------------------------------------------- benchmark set

@pytest.mark.parametrize("billing_rows", [40, 900])  # fewer and more than the natural count
def test_benchmark_set_exact_row_counts(tmp_path, billing_rows):
    p = S.write_benchmark_set(tmp_path, accounts=30, tickets=333, surveys=77,
                              billing_rows=billing_rows, usage_rows=1001, seed=4)
    assert len(_read(p["accounts"])) == 30
    assert len(_read(p["tickets"])) == 333
    assert len(_read(p["surveys"])) == 77
    assert len(_read(p["billing"])) == billing_rows
    assert len(_read(p["usage"])) == 1001
    for ds, cols in (("tickets", S.TICKET_COLUMNS), ("billing", S.INVOICE_COLUMNS)):
        assert tuple(_read(p[ds]).columns) == cols
    assert not _read(p["tickets"])["Id"].duplicated().any()


def test_build_world_rejects_zero_accounts():
    with pytest.raises(ValueError):
        S.build_world(0)


def test_single_account_sample(tmp_path):
    p = S.write_sample(tmp_path, accounts=1, seed=1, as_of=date(2026, 6, 30))
    assert len(_accounts(p["accounts"])) == 2  # the one account + its duplicate
    assert len(_read(p["billing"])) >= 1
