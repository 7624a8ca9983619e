"""load() end to end on tiny files (tests/fixtures/load/): discovery → read → match → normalise → link.

Expected values are read off the fixture files by hand (comments say how).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from cs_metrics.config import default_config
from cs_metrics.errors import InputError
from cs_metrics.loading import load

FIX = Path(__file__).parent / "fixtures" / "load"
TODAY = date(2026, 10, 1)


@pytest.fixture(scope="module")
def basic():
    return load(FIX / "basic", today=TODAY)


def issues(bundle, code, dataset=None):
    return [
        (i.dataset, i.file, i.row, i.column, i.value)
        for i in bundle.issues
        if i.code == code and (dataset is None or i.dataset == dataset)
    ]


def test_accounts_loaded_deduplicated_with_extra_columns(basic):
    acc = basic.datasets["accounts"]
    assert acc.rows_read == 5 and acc.rows_used == 4  # A-1 repeated on row 6
    assert acc.frame["account_id"].tolist() == ["A-1", "A-2", "A-3", "A-4"]
    assert acc.frame["Industry"].tolist()[:2] == ["Retail", "Energy"]
    assert acc.columns["domain"] == "Website"
    assert issues(basic, "duplicate-id", "accounts") == [
        ("accounts", "accounts.csv", 6, "Account ID", "A-1")
    ]
    assert "_row" not in acc.frame.columns and "_file" not in acc.frame.columns


def test_tickets_linked_and_issues_located(basic):
    t = basic.datasets["tickets"]
    # row 6 (ticket 5) is created 2026-12-24, after today → set aside
    assert t.rows_read == 5 and t.rows_used == 4
    f = t.frame
    assert f["ticket_id"].tolist() == ["1", "2", "3", "4"]
    # 1: 'Acme Inc' = name 'Acme, Inc.'; 2: no org, e-mail domain globex.de; 3: unknown; 4: two 'Twin' accounts
    assert f["account_id"].tolist()[:2] == ["A-1", "A-2"]
    assert f["account_id"].iloc[2:].isna().all()
    assert f["account_ref"].tolist()[0] == "Acme Inc"
    assert t.meta["linking"] == {
        "id": 0,
        "id_ci": 0,
        "name": 1,
        "domain": 1,
        "orphan": 2,
        "ambiguous": 1,
    }
    assert issues(basic, "orphan-account", "tickets") == [
        ("tickets", "tickets.csv", 4, "Organization", "Nobody LLC")
    ]
    assert issues(basic, "ambiguous-account", "tickets") == [
        ("tickets", "tickets.csv", 5, "Organization", "Twin")
    ]
    assert issues(basic, "future-date", "tickets") == [
        ("tickets", "tickets.csv", 6, "Created at", "2026-12-24 10:00")
    ]
    assert f["escalated"].tolist() == [True, False, False, False]
    assert f["satisfaction"].iloc[0] == "good" and pd.isna(f["satisfaction"].iloc[1])
    assert t.meta["issue_counts"] == {
        "future-date": 1,
        "orphan-account": 2 - 1,
        "ambiguous-account": 1,
    }


def test_billing_orphans_set_aside(basic):
    b = basic.datasets["billing"]
    assert b.rows_read == 3 and b.rows_used == 2  # 'Ghost Corp' matches no account
    assert b.frame["account_id"].tolist() == ["A-1", "A-2"]  # 'Globex' = name 'Globex GmbH'
    assert b.frame["currency"].tolist() == ["USD", "EUR"]
    assert b.frame["amount"].tolist() == [110.0, 55.0]
    assert b.meta["amount_flags"] == ["tax_inclusive"]
    assert issues(basic, "orphan-account", "billing") == [
        ("billing", "billing.csv", 4, "Customer", "Ghost Corp")
    ]


def test_wide_surveys_and_usage(basic):
    s = basic.datasets["surveys"].frame
    got = sorted(zip(s["response_id"], s["survey_type"], s["score"], s["account_id"]))
    # r2 has no account id: its e-mail domain globex.de links it to A-2
    assert got == [("r1", "csat", 5.0, "A-1"), ("r1", "nps", 9.0, "A-1"), ("r2", "nps", 6.0, "A-2")]
    assert basic.datasets["surveys"].meta["survey_types"] == ["csat", "nps"]
    assert basic.datasets["surveys"].columns["score"] == "NPS | CSAT"
    u = basic.datasets["usage"]
    assert u.frame["account_id"].tolist() == ["A-1", "A-2"] and u.rows_used == 2
    assert u.frame["count"].tolist() == [1.0, 1.0]


def test_data_quality_shape(basic):
    dq = basic.data_quality()
    assert dq["datasets"]["tickets"]["files"] == ["tickets.csv"]
    assert dq["datasets"]["tickets"]["columns"]["created_at"] == "Created at"
    assert all(
        {"code", "level", "file", "row", "column", "value", "message"} <= set(i)
        for i in dq["issues"]
    )


def test_r12_concatenation_and_cross_file_duplicates():
    b = load(FIX / "concat", today=TODAY)
    t = b.datasets["tickets"]
    assert t.files == ["tickets_2026_08.csv", "tickets_2026_09.csv"]
    assert t.rows_read == 4
    # ticket 2 is in both files: the first (August file, row 3) is kept
    assert t.frame["ticket_id"].tolist() == ["1", "2", "3"]
    assert t.frame["created_at"].iloc[1] == pd.Timestamp("2026-08-02 10:00")
    assert issues(b, "duplicate-id") == [("tickets", "tickets_2026_09.csv", 2, "ticket_id", "2")]
    # without accounts the reference is the id and nothing is an orphan
    assert t.meta["linking"]["orphan"] == 0


def test_r12_mismatch_is_an_error_naming_both_files():
    with pytest.raises(InputError) as e:
        load(FIX / "mismatch", today=TODAY)
    (i,) = [i for i in e.value.issues if i.code == "incompatible-files"]
    assert "tickets_a.csv" in i.message and "tickets_b.csv" in i.message
    assert "priority" in i.message and "status" in i.message


def test_missing_columns_of_all_files_reported_together():
    with pytest.raises(InputError) as e:
        load(FIX / "missing", today=TODAY)
    got = sorted((i.file, i.column) for i in e.value.issues if i.code == "missing-column")
    assert got == [
        ("billing.csv", "amount"),
        ("tickets.csv", "created_at"),
        ("tickets.csv", "ticket_id"),
    ]


def test_override_from_config_fixes_missing_column():
    cfg = default_config()
    cfg["columns"] = {"tickets": {"ticket_id": "Tciket ID", "created_at": "Opend"}}
    b = load(explicit={"tickets": FIX / "missing" / "tickets.csv"}, config=cfg, today=TODAY)
    assert b.datasets["tickets"].frame["ticket_id"].tolist() == ["1"]


def test_no_data(tmp_path):
    with pytest.raises(InputError) as e:
        load(tmp_path, today=TODAY)
    (i,) = e.value.issues
    assert i.code == "no-data" and str(tmp_path) in i.message and "tickets.csv" in i.message


VENDOR_FILES = [
    ("zendesk_tickets.csv", "tickets"),
    ("zendesk_explore.csv", "tickets"),
    ("freshdesk_tickets.csv", "tickets"),
    ("jsm_issues.csv", "tickets"),
    ("hubspot_tickets.csv", "tickets"),
    ("intercom_conversations.csv", "tickets"),
    ("stripe_invoices.csv", "billing"),
    ("stripe_subscriptions.csv", "billing"),
    ("stripe_payments.csv", "billing"),
    ("chargebee_subscriptions.csv", "billing"),
    ("recurly_subscriptions.csv", "billing"),
    ("quickbooks_invoice_list.csv", "billing"),
    ("xero_invoices.csv", "billing"),
    ("salesforce_accounts.csv", "accounts"),
    ("hubspot_companies.csv", "accounts"),
    ("pipedrive_organizations.csv", "accounts"),
    ("surveymonkey_responses.csv", "surveys"),
    ("qualtrics_responses.csv", "surveys"),
    ("typeform_responses.csv", "surveys"),
    ("delighted_responses.csv", "surveys"),
    ("google_forms_responses.csv", "surveys"),
    ("mixpanel_events.csv", "usage"),
    ("amplitude_events.csv", "usage"),
    ("segment_tracks.csv", "usage"),
    ("pendo_events.csv", "usage"),
]


@pytest.mark.parametrize("name,dataset", VENDOR_FILES, ids=[v[0] for v in VENDOR_FILES])
def test_vendor_files_load(name, dataset):
    cfg = default_config()
    if name.startswith("qualtrics"):
        cfg["columns"] = {"surveys": {"score": "Q1"}}  # Qualtrics names questions Q1, Q2…
    b = load(explicit={dataset: FIX / "vendors" / name}, config=cfg, today=TODAY)
    d = b.datasets[dataset]
    assert d.rows_read == 1
    assert d.rows_used == 1, [str(i) for i in b.issues]
    assert [i for i in b.issues if i.level != "info"] == []


def test_vendor_values():
    # Zendesk: 'Good' → good, tag 'escalated' → escalated, 30 minutes to first reply
    t = (
        load(explicit={"tickets": FIX / "vendors" / "zendesk_tickets.csv"}, today=TODAY)
        .datasets["tickets"]
        .frame
    )
    assert (
        t["satisfaction"].iloc[0],
        bool(t["escalated"].iloc[0]),
        t["first_response_minutes"].iloc[0],
    ) == ("good", True, 30.0)
    # Freshdesk: 'First response time (in hrs)' 01:30:00 → 90 business minutes; Initial response time is a timestamp
    t = (
        load(explicit={"tickets": FIX / "vendors" / "freshdesk_tickets.csv"}, today=TODAY)
        .datasets["tickets"]
        .frame
    )
    assert t["first_response_business_minutes"].iloc[0] == 90.0
    assert t["first_response_at"].iloc[0] == pd.Timestamp("2026-09-03 09:30:00")
    # JSM: 14/Jul/25 3:42 PM
    t = (
        load(explicit={"tickets": FIX / "vendors" / "jsm_issues.csv"}, today=TODAY)
        .datasets["tickets"]
        .frame
    )
    assert t["created_at"].iloc[0] == pd.Timestamp("2025-07-14 15:42")
    # Stripe subscriptions: Amount 20.00 per unit, quantity 5, currency USD
    b = load(
        explicit={"billing": FIX / "vendors" / "stripe_subscriptions.csv"}, today=TODAY
    ).datasets["billing"]
    assert (
        b.frame["amount"].iloc[0],
        b.frame["quantity"].iloc[0],
        b.frame["currency"].iloc[0],
    ) == (20.0, 5.0, "USD")
    assert b.meta["amount_flags"] == ["per_unit"]
    # QuickBooks: "1,960.17", US dates
    b = load(
        explicit={"billing": FIX / "vendors" / "quickbooks_invoice_list.csv"}, today=TODAY
    ).datasets["billing"]
    assert b.frame["amount"].iloc[0] == 1960.17
    assert b.frame["issued_at"].iloc[0] == pd.Timestamp("2026-09-01")
    # Pendo: num_minutes 7 → 420 s, num_events 4
    u = (
        load(explicit={"usage": FIX / "vendors" / "pendo_events.csv"}, today=TODAY)
        .datasets["usage"]
        .frame
    )
    assert (u["duration_seconds"].iloc[0], u["count"].iloc[0]) == (420.0, 4.0)
    # Typeform: wide NPS column, '#' is the response id
    s = (
        load(explicit={"surveys": FIX / "vendors" / "typeform_responses.csv"}, today=TODAY)
        .datasets["surveys"]
        .frame
    )
    assert (s["response_id"].iloc[0], s["survey_type"].iloc[0], s["score"].iloc[0]) == (
        "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
        "nps",
        8.0,
    )


def test_header_only_files_give_empty_typed_frames(tmp_path):
    (tmp_path / "accounts.csv").write_text("Account ID,Name\nA-1,Acme\n")
    (tmp_path / "tickets.csv").write_text("Id,Created at,Organization\n")
    (tmp_path / "billing.csv").write_text("Customer,Total\n")
    b = load(tmp_path, today=TODAY)
    t = b.datasets["tickets"]
    assert (t.rows_read, t.rows_used) == (0, 0)
    assert str(t.frame["created_at"].dtype) == "datetime64[ns]"
    assert {"account_id", "account_ref"} <= set(t.frame.columns)
    assert b.datasets["billing"].frame["amount"].dtype == "float64"
    assert b.issues == []


def test_workbook_sheets_and_progress(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Accounts"
    ws.append(["Account ID", "Account Name"])
    ws.append(["A-1", "Acme Inc"])
    ws2 = wb.create_sheet("Tickets")
    ws2.append(["Ticket ID", "Created at", "Organization"])
    ws2.append(["1", "2026-09-01 10:00", "ACME"])  # name without suffix, upper case → A-1
    wb.save(tmp_path / "export.xlsx")
    said = []
    b = load(tmp_path / "export.xlsx", today=TODAY, progress=said.append)
    assert b.datasets["tickets"].frame["account_id"].tolist() == ["A-1"]
    assert any("Tickets" in m for m in said) and any("accounts" in m for m in said)


def test_r12_amount_columns_of_different_kinds_do_not_mix(tmp_path):
    # both map account_id + amount, but one amount is per unit, the other tax-inclusive
    (tmp_path / "billing_a.csv").write_text("Customer,Total\nc,10\n")
    (tmp_path / "billing_b.csv").write_text("Customer,unit_amount\nc,10\n")
    with pytest.raises(InputError) as e:
        load(tmp_path, today=TODAY)
    (i,) = e.value.issues
    assert (
        i.code == "incompatible-files" and "per_unit" in i.message and "tax_inclusive" in i.message
    )


def test_r12_columns_name_every_files_header():
    b = load(FIX / "concat", today=TODAY)
    assert b.datasets["tickets"].columns["ticket_id"] == "Ticket ID | ticket_id"


def test_fatal_problems_of_all_files_raised_together(tmp_path):
    (tmp_path / "tickets.csv").write_bytes(b"")  # empty: unreadable
    (tmp_path / "billing.csv").write_text("Customer,Date\nc,2026-09-01\n")  # no amount
    with pytest.raises(InputError) as e:
        load(tmp_path, today=TODAY)
    got = sorted((i.code, i.file) for i in e.value.issues)
    assert got == [("missing-column", "billing.csv"), ("unreadable-file", "tickets.csv")]


def test_load_restores_the_arrow_memory_pool(tmp_path):
    import pyarrow as pa

    (tmp_path / "tickets.csv").write_text("Id,Created at,Status\n1,2026-01-02,Open\n", encoding="utf-8")
    before = pa.default_memory_pool().backend_name
    b = load(None, explicit={"tickets": tmp_path / "tickets.csv"}, today=date(2026, 10, 1))
    assert pa.default_memory_pool().backend_name == before
    assert b.datasets["tickets"].frame["status"].tolist() == ["open"]
