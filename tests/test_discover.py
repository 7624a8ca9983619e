"""discover(): which file or sheet is which dataset, and why the others were left out."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from cs_metrics.errors import InputError, UsageError
from cs_metrics.loading.discover import datasets_named, discover, name_words

FIX = Path(__file__).parent / "fixtures" / "discover"


def got(d):
    return sorted((a.dataset, a.path.name, a.sheet, a.how) for a in d.assignments)


def reasons(d):
    return {i["file"]: i["reason"] for i in d.ignored}


def write(p: Path, text: str) -> Path:
    p.write_text(text)
    return p


def book(p: Path, sheets: dict[str, list[list]], hidden: tuple[str, ...] = ()) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
        if name in hidden:
            ws.sheet_state = "hidden"
    wb.save(p)
    return p


def test_name_words_and_hints():
    assert name_words("ZendeskTickets_2026-07") == ["zendesk", "tickets"]
    assert name_words("NPS_responses") == ["nps", "responses"]
    assert datasets_named("accounts") == ["accounts"]
    assert datasets_named("customer_invoices") == ["billing", "accounts"]  # last hint first
    assert datasets_named("accountsusage") == []  # words, not substrings
    assert datasets_named("export_2026") == []


def test_folder_by_name_and_header(tmp_path):
    write(tmp_path / "accounts.csv", "Account ID,Account Name\nA1,Acme\n")
    write(tmp_path / "Zendesk_Tickets_2026.csv", "Id,Created at\n1,2026-01-01\n")
    write(tmp_path / "invoices-july.csv", "Customer,Amount\nA1,10\n")
    write(tmp_path / "nps.csv", "score,submitted_at\n9,2026-01-01\n")
    write(tmp_path / "events.tsv", "account_id\ttimestamp\nA1\t2026-01-01\n")
    # names that say nothing: decided by header
    write(tmp_path / "export_1.csv", "Ticket ID,Created at,Organization,Status\n1,2026-01-01,Acme,open\n")
    write(tmp_path / "data.csv", "Customer ID,Amount,Currency,Invoice ID\nA1,10,USD,in_1\n")
    d = discover(tmp_path)
    assert got(d) == [
        ("accounts", "accounts.csv", None, "file name"),
        ("billing", "data.csv", None, "header"),
        ("billing", "invoices-july.csv", None, "file name"),
        ("surveys", "nps.csv", None, "file name"),
        ("tickets", "Zendesk_Tickets_2026.csv", None, "file name"),
        ("tickets", "export_1.csv", None, "header"),
        ("usage", "events.tsv", None, "file name"),
    ]
    assert d.ignored == []


def test_ignored_entries_have_reasons(tmp_path):
    write(tmp_path / ".DS_Store", "x")
    write(tmp_path / "~$accounts.xlsx", "x")
    write(tmp_path / "README.md", "# notes")
    write(tmp_path / "readme.txt", "hello")
    write(tmp_path / "logo.png", "x")
    write(tmp_path / "notes.txt", "just some words\nand more\n")
    write(tmp_path / "weird.csv", "foo,bar\n1,2\n")
    (tmp_path / "archive").mkdir()
    write(tmp_path / "empty.csv", "")
    d = discover(tmp_path)
    assert d.assignments == []
    r = reasons(d)
    assert r[".DS_Store"] == "hidden file"
    assert r["~$accounts.xlsx"] == "Office lock file"
    assert r["README.md"] == r["readme.txt"] == "documentation file, not data"
    assert r["logo.png"].startswith("not a supported format")
    assert r["notes.txt"] == "headers match no dataset"
    assert r["weird.csv"] == "headers match no dataset"
    assert r["archive"].startswith("folder")
    assert r["empty.csv"].startswith("unreadable:") and "empty" in r["empty.csv"]


def test_name_matching_two_datasets_uses_header_then_last_word(tmp_path):
    # "accounts" and "usage" both named; the header says usage
    write(tmp_path / "accounts_usage.csv", "account_id,timestamp,event\nA1,2026-01-01,login\n")
    # "customer" and "invoices" named; header fits neither: the last word wins
    write(tmp_path / "customer_invoices.csv", "foo,bar\n1,2\n")
    d = discover(tmp_path)
    assert got(d) == [
        ("billing", "customer_invoices.csv", None, "file name"),
        ("usage", "accounts_usage.csv", None, "file name"),
    ]


def test_workbook_in_folder_one_assignment_per_named_sheet(tmp_path):
    book(tmp_path / "cs_data.xlsx", {
        "Accounts": [["Account ID"], ["A1"]],
        "Tickets": [["Ticket ID", "Created at"], [1, "2026-01-01"]],
        "Notes": [["anything"]],
        "Billing": [["Customer", "Amount"]],
    }, hidden=("Billing",))
    d = discover(tmp_path)
    assert got(d) == [
        ("accounts", "cs_data.xlsx", "Accounts", "sheet name"),
        ("tickets", "cs_data.xlsx", "Tickets", "sheet name"),
    ]
    assert reasons(d) == {"cs_data.xlsx [Notes]": "sheet name matches no dataset"}


def test_single_workbook_source(tmp_path):
    p = book(tmp_path / "export.xlsx", {
        "Form Responses 1": [["Timestamp", "score"], ["2026-01-01", 9]],
        "Sheet2": [["x"]],
    })
    d = discover(p)
    assert got(d) == [("surveys", "export.xlsx", "Form Responses 1", "sheet name")]
    assert reasons(d) == {"export.xlsx [Sheet2]": "sheet name matches no dataset"}


def test_workbook_named_after_dataset_and_workbook_by_header(tmp_path):
    book(tmp_path / "tickets.xlsx", {"Sheet1": [["Id", "Created at"], [1, "2026-01-01"]]})
    book(tmp_path / "report.xlsx", {
        "Sheet1": [["Account ID", "Account Name"], ["A1", "Acme"]],
        "Sheet2": [["hello", "world"]],
    })
    d = discover(tmp_path)
    assert got(d) == [
        ("accounts", "report.xlsx", "Sheet1", "header"),
        ("tickets", "tickets.xlsx", "Sheet1", "file name"),
    ]
    assert reasons(d) == {"report.xlsx [Sheet2]": "headers match no dataset"}


def test_single_csv_source(tmp_path):
    p = write(tmp_path / "something.csv", "Account ID,Name\nA1,Acme\n")
    assert got(discover(p)) == [("accounts", "something.csv", None, "header")]
    q = write(tmp_path / "other.csv", "a,b\n1,2\n")
    d = discover(q)
    assert d.assignments == [] and reasons(d) == {"other.csv": "headers match no dataset"}


def test_explicit_options_win_over_folder(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    write(folder / "accounts.csv", "Account ID\nA1\n")
    write(folder / "tickets.csv", "Id,Created at\n1,2026-01-01\n")
    write(folder / "support_tickets_old.csv", "Id,Created at\n1,2026-01-01\n")
    other = write(tmp_path / "my_zendesk.csv", "Id,Created at\n2,2026-01-02\n")
    d = discover(folder, {"tickets": other})
    assert got(d) == [
        ("accounts", "accounts.csv", None, "file name"),
        ("tickets", "my_zendesk.csv", None, "option --tickets"),
    ]


def test_explicit_only_and_workbook_sheet(tmp_path):
    wb = book(tmp_path / "crm.xlsx", {"Info": [["x"]], "Accounts": [["Account ID"], ["A1"]]})
    d = discover(None, {"accounts": wb, "usage": write(tmp_path / "u.csv", "a\n1\n")})
    assert got(d) == [
        ("accounts", "crm.xlsx", "Accounts", "option --accounts"),
        ("usage", "u.csv", None, "option --usage"),
    ]


def test_missing_paths_and_bad_options(tmp_path):
    with pytest.raises(InputError) as err:
        discover(tmp_path / "nowhere")
    assert "nowhere" in err.value.message
    with pytest.raises(InputError, match="missing.csv"):
        discover(None, {"tickets": tmp_path / "missing.csv"})
    with pytest.raises(UsageError, match="widgets"):
        discover(None, {"widgets": tmp_path})
    bad = write(tmp_path / "notes.md", "x")
    with pytest.raises(InputError, match="notes.md"):
        discover(bad)


def test_fixture_folder():
    d = discover(FIX)
    assert got(d) == [
        ("accounts", "hubspot-companies.csv", None, "file name"),
        ("billing", "stripe_payments.csv", None, "file name"),
        ("surveys", "survey_2026.csv", None, "file name"),
        ("tickets", "export_2026_07_14_ab12_1.csv", None, "header"),
    ]
    assert reasons(d) == {"README.txt": "documentation file, not data"}
