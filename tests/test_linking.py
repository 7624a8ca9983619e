"""Linking account references to accounts.account_id (R6, R7).

Each expectation is read off the tiny accounts table below by hand.
"""

from __future__ import annotations

import pandas as pd

from cs_metrics.loading.linking import link, normalise_domain, normalise_name

ACCOUNTS = pd.DataFrame(
    {
        "account_id": pd.array(
            ["A-1", "a-2", "B-7", "0015g00000ABCDE", "0015g00000abcde", "Z-9", "Z-10"], dtype="str"
        ),
        "name": pd.array(
            [
                "Acme, Inc.",
                "Globex GmbH",
                "Initech",
                "Umbrella Corp",
                "Hooli",
                "Twin Co",
                "Twin Ltd",
            ],
            dtype="str",
        ),
        "domain": pd.array(
            ["https://www.acme.com/about", "globex.de", None, "umbrella.com", None, None, None],
            dtype="str",
        ),
    }
)
INFO = {"t.csv": {"account_id": "Organization", "email": "Requester email"}}


def frame(refs, emails=None, dataset="tickets"):
    d = {
        "account_id": pd.array(refs, dtype="str"),
        "_row": list(range(2, len(refs) + 2)),
        "_file": ["t.csv"] * len(refs),
    }
    if emails is not None:
        col = {
            "tickets": "requester_email",
            "surveys": "respondent",
            "billing": "customer_email",
        }.get(dataset)
        if col:
            d[col] = pd.array(emails, dtype="str")
    return pd.DataFrame(d)


def test_normalise_name_folds_case_punctuation_and_legal_suffixes():
    got = normalise_name(
        pd.Series(
            [
                "Acme, Inc.",
                "ACME INC",
                "acme",
                "Acme Corporation",
                "Foo S.A.",
                "Bar Pty Ltd",
                "Co",
                None,
            ],
            dtype="str",
        )
    ).tolist()
    assert got[:6] == ["acme", "acme", "acme", "acme", "foo", "bar"]
    assert got[6] == "co"  # a name made only of a suffix is kept
    assert pd.isna(got[7])


def test_normalise_domain():
    got = normalise_domain(
        pd.Series(
            ["https://www.Acme.com/x?y", "ann@Globex.DE", "www.foo.io", "nodomain"], dtype="str"
        )
    ).tolist()
    assert got[:3] == ["acme.com", "globex.de", "foo.io"]
    assert pd.isna(got[3])


def test_link_methods_in_order():
    refs = [
        "A-1",  # exact id
        "A-2",  # case-insensitive id, unique (a-2)
        "acme inc",  # name with legal suffix and punctuation folded → A-1
        "INITECH",  # name → B-7
        "0015G00000ABCDE",  # ci id matches two Salesforce ids → not by id; no name → orphan
        None,
    ]  # no reference: e-mail domain
    out, issues, counts = link(
        frame(refs, [None, None, None, None, None, "bob@umbrella.com"]), ACCOUNTS, "tickets", INFO
    )
    assert out["account_id"].tolist()[:4] == ["A-1", "a-2", "A-1", "B-7"]
    assert pd.isna(out["account_id"].iloc[4])
    assert out["account_id"].iloc[5] == "0015g00000ABCDE"
    assert out["account_ref"].tolist()[:2] == ["A-1", "A-2"]
    assert counts == {"id": 1, "id_ci": 1, "name": 2, "domain": 1, "orphan": 1, "ambiguous": 0}
    (o,) = issues
    assert (o.code, o.file, o.row, o.column, o.value) == (
        "orphan-account",
        "t.csv",
        6,
        "Organization",
        "0015G00000ABCDE",
    )


def test_exact_id_beats_name_and_reference_that_is_a_domain():
    out, _, counts = link(
        frame(["Hooli", "www.acme.com", "ann@globex.de"]), ACCOUNTS, "tickets", INFO
    )
    # 'Hooli' is a name → 0015g00000abcde; the others link through the domain column
    assert out["account_id"].tolist() == ["0015g00000abcde", "A-1", "a-2"]
    assert counts["name"] == 1 and counts["domain"] == 2


def test_ambiguous_name_is_an_orphan_with_its_own_code():
    # 'Twin Co' and 'Twin Ltd' both normalise to 'twin'
    out, issues, counts = link(frame(["Twin", "twin co"]), ACCOUNTS, "tickets", INFO)
    assert out["account_id"].isna().all()
    assert [i.code for i in issues] == ["ambiguous-account", "ambiguous-account"]
    assert [i.value for i in issues] == ["Twin", "twin co"]
    assert counts["ambiguous"] == 2 and counts["orphan"] == 2


def test_ticket_orphans_kept_billing_orphans_set_aside():
    out, issues, _ = link(frame(["A-1", "Nope Ltd"]), ACCOUNTS, "tickets", INFO)
    assert len(out) == 2 and pd.isna(out["account_id"].iloc[1])
    out, issues, _ = link(
        frame(["A-1", "Nope Ltd"], dataset="billing"),
        ACCOUNTS,
        "billing",
        {"t.csv": {"account_id": "Customer"}},
    )
    assert out["account_id"].tolist() == ["A-1"]
    (o,) = issues
    assert (o.code, o.row, o.column, o.value, o.dataset) == (
        "orphan-account",
        3,
        "Customer",
        "Nope Ltd",
        "billing",
    )
    assert "set aside" in o.message


def test_without_accounts_reference_is_the_id():
    out, issues, counts = link(frame(["Acme Inc", None]), None, "usage", INFO)
    assert out["account_id"].iloc[0] == "Acme Inc" and pd.isna(out["account_id"].iloc[1])
    assert issues == [] and counts["orphan"] == 0


def test_many_rows_few_references_is_vectorised():
    refs = ["A-1", "acme", "Nope"] * 100_000
    _out, issues, counts = link(frame(refs), ACCOUNTS, "tickets", INFO)
    assert counts == {
        "id": 100_000,
        "id_ci": 0,
        "name": 100_000,
        "domain": 0,
        "orphan": 100_000,
        "ambiguous": 0,
    }
    assert len(issues) == 1000  # capped; exact count in counts


def test_salesforce_15_and_18_character_ids_are_the_same_record():
    acc = pd.DataFrame(
        {"account_id": pd.array(["0015g00000ABCDEAAA", "0015g00000XYZabQAA"], dtype="str")}
    )
    # 15-char form of the first id; the second ref differs only by case in the 15 chars → not linked by id
    out, _, counts = link(frame(["0015g00000ABCDE", "0015g00000xyzabQAA"]), acc, "tickets", INFO)
    assert out["account_id"].iloc[0] == "0015g00000ABCDEAAA"
    assert counts["id"] == 1
    assert out["account_id"].iloc[1] == "0015g00000XYZabQAA" and counts["id_ci"] == 1


def test_blank_reference_is_an_orphan_with_its_own_message():
    _out, issues, counts = link(frame([None], [None]), ACCOUNTS, "tickets", INFO)
    (o,) = issues
    assert (o.code, o.row, o.value) == ("orphan-account", 2, None)
    assert "no account reference" in o.message and counts["orphan"] == 1


def test_shared_account_maps_give_the_same_links():
    from cs_metrics.loading.linking import account_maps

    refs = ["A-1", "acme inc", "twin", "a-2", "nobody", None, "0015g00000ABCDEAAA", "globex.de"]
    emails = ["x@acme.com", None, None, None, "y@umbrella.com", "z@globex.de", None, None]
    plain = link(frame(refs, emails), ACCOUNTS, "tickets", INFO)
    maps = account_maps(ACCOUNTS)
    shared = link(frame(refs, emails), ACCOUNTS, "tickets", INFO, maps=maps)
    pd.testing.assert_frame_equal(plain[0], shared[0])
    assert plain[2] == shared[2]
    assert [(i.code, i.row, i.value) for i in plain[1]] == [(i.code, i.row, i.value) for i in shared[1]]
    # maps of another accounts frame are not used: only A-1 exists there
    other = ACCOUNTS.iloc[:1].copy()
    got = link(frame(["A-1", "B-7"]), ACCOUNTS, "tickets", INFO, maps=account_maps(other))[0]
    assert got["account_id"].tolist() == ["A-1", "B-7"]


def test_legal_suffixes_folded_by_the_column_regex():
    # several suffixes in a row go, a suffix inside the name stays
    got = normalise_name(pd.Series(["Acme Co Ltd", "Co-op Stores Inc.", "S.A. Widgets SA"], dtype="str"))
    assert got.tolist() == ["acme", "coopstores", "sawidgets"]
