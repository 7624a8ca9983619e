"""Account references → `accounts.account_id` (SPEC R6, R7).

Order per row: exact id; case-insensitive id if unique; normalised name
(case, spaces, punctuation, legal suffixes folded) if unique; e-mail or web
domain through `accounts.domain`. Work is done once per *distinct*
reference (`pd.factorize`) and mapped back, so a million ticket rows with a
few thousand organisations cost a few thousand lookups.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from cs_metrics.errors import Issue
from cs_metrics.loading.normalize import FILE, ROW, IssueSink

LEGAL_SUFFIXES = frozenset(
    {
        "inc",
        "llc",
        "ltd",
        "limited",
        "gmbh",
        "ag",
        "sa",
        "bv",
        "corp",
        "corporation",
        "co",
        "plc",
        "pty",
        "incorporated",
        "srl",
        "sarl",
        "oy",
        "ab",
        "as",
        "nv",
        "kk",
        "llp",
        "lp",
    }
)
# columns carrying an e-mail per dataset (their domain can stand in, R7)
EMAIL_COLUMNS = {"tickets": "requester_email", "surveys": "respondent", "billing": "customer_email"}
KEEP_ORPHANS = ("tickets", "surveys")
# A pattern string without `\s` (the text holds only [0-9a-z ] by then), so
# pandas runs it in Arrow's RE2 over the whole column instead of re.sub per cell.
_SUFFIX_RE = r"(?: (?:" + "|".join(sorted(LEGAL_SUFFIXES)) + r"))+$"


def normalise_name(s: pd.Series) -> pd.Series:
    """'Acme, Inc.' / 'ACME Inc' / 'acme' → 'acme'; dots dropped first so S.A. → sa."""
    t = s.astype("str").str.lower().str.replace(".", "", regex=False)
    t = t.str.replace(r"[^0-9a-z]+", " ", regex=True).str.strip()
    t = t.str.replace(_SUFFIX_RE, "", regex=True)
    return t.str.replace(" ", "", regex=False).replace("", pd.NA)


def normalise_domain(s: pd.Series) -> pd.Series:
    """E-mail, URL or domain → bare lower-case domain ('https://www.Acme.com/x' → 'acme.com')."""
    t = s.astype("str").str.strip().str.lower()
    t = t.str.replace(r"^.*@", "", regex=True)
    t = t.str.replace(r"^[a-z][a-z0-9+.-]*://", "", regex=True)
    t = t.str.replace(r"^www\.", "", regex=True)
    t = t.str.replace(r"[/?#:].*$", "", regex=True).str.strip(". ")
    return t.where(t.str.contains(r"^[a-z0-9-]+(?:\.[a-z0-9-]+)+$", regex=True).fillna(False))


def _unique_map(keys: pd.Series, positions: np.ndarray) -> tuple[dict, set]:
    """key → account position for keys held by exactly one account; the set of shared keys."""
    df = pd.DataFrame({"k": keys.to_numpy(dtype=object), "p": positions}).dropna()
    df = df.drop_duplicates()
    counts = df["k"].value_counts()
    shared = set(counts.index[counts > 1])
    uniq = df[~df["k"].isin(shared)]
    return dict(zip(uniq["k"], uniq["p"])), shared


class _Keyed:
    """A key → account position table as an Index, built once and probed per dataset."""

    def __init__(self, table: dict) -> None:
        self.index = pd.Index(list(table.keys()), dtype=object)
        self.pos = np.fromiter(table.values(), dtype=np.int64, count=len(table))


def _lookup(keys: pd.Series, table: dict | _Keyed) -> np.ndarray:
    """Account position per key, -1 when absent."""
    if not isinstance(table, _Keyed):
        table = _Keyed(table)
    at = table.index.get_indexer(keys.to_numpy(dtype=object, na_value=None))
    return np.where(at >= 0, table.pos[np.maximum(at, 0)] if len(table.pos) else -1, -1)


_METHODS = ("id", "id_ci", "name", "domain")


@dataclass
class AccountMaps:
    """The accounts side of linking: keys → account position, and keys several accounts share."""

    accounts: pd.DataFrame  # the frame these maps were built from
    ids: pd.Series
    exact: _Keyed
    sf15: _Keyed
    ci: _Keyed
    name: _Keyed
    name_shared: set
    dom: _Keyed
    dom_shared: set


def account_maps(accounts: pd.DataFrame) -> AccountMaps:
    """Build once per load; `link` uses it for every dataset."""
    acc_ids = accounts["account_id"].astype("str").reset_index(drop=True)
    pos = np.arange(len(acc_ids))
    exact_map = dict(zip(acc_ids.to_numpy(dtype=object), pos))
    # Salesforce ids: a 15-character id and its 18-character form name the
    # same record (compared case-sensitively on the first 15 characters)
    sf = acc_ids.str.fullmatch(r"[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?").fillna(False).to_numpy()
    sf15_map, _ = _unique_map(acc_ids.str.slice(0, 15).where(sf), pos)
    ci_map, _ = _unique_map(acc_ids.str.lower(), pos)
    name_map, name_shared = (
        _unique_map(normalise_name(accounts["name"].reset_index(drop=True)), pos)
        if "name" in accounts.columns
        else ({}, set())
    )
    dom_map, dom_shared = (
        _unique_map(normalise_domain(accounts["domain"].reset_index(drop=True)), pos)
        if "domain" in accounts.columns
        else ({}, set())
    )
    return AccountMaps(
        accounts,
        acc_ids,
        _Keyed(exact_map),
        _Keyed(sf15_map),
        _Keyed(ci_map),
        _Keyed(name_map),
        name_shared,
        _Keyed(dom_map),
        dom_shared,
    )


def link(
    frame: pd.DataFrame,
    accounts: pd.DataFrame | None,
    dataset: str,
    file_info: dict[str, dict[str, str]],
    sink: IssueSink | None = None,
    maps: AccountMaps | None = None,
) -> tuple[pd.DataFrame, list[Issue], dict[str, int]]:
    """Resolve `account_id` of a canonical frame; returns (frame, issues, counts by method).

    `file_info[file]` names the headers used for the reference ("account_id")
    and the e-mail ("email") in each source file, for issue locations.
    Result: `account_ref` = raw reference, `account_id` = linked id (or NA).
    `maps`: `account_maps(accounts)`, to share that work across datasets.
    """
    sink = sink if sink is not None else IssueSink()
    start = len(sink.issues)
    frame = frame.copy(deep=False)
    n = len(frame)
    if "account_id" in frame.columns:
        ref = frame["account_id"].astype("str")
    else:
        ref = pd.Series(pd.array([None] * n, dtype="str"), index=frame.index)
    frame["account_ref"] = ref
    email_col = EMAIL_COLUMNS.get(dataset)
    email = frame[email_col].astype("str") if email_col and email_col in frame.columns else None

    if accounts is None:
        frame["account_id"] = ref
        counts = {"unlinked": int(ref.notna().sum()), "orphan": 0}
        return frame, sink.issues[start:], counts

    if maps is None or maps.accounts is not accounts:
        maps = account_maps(accounts)
    acc_ids = maps.ids
    exact_map, sf15_map, ci_map = maps.exact, maps.sf15, maps.ci
    name_map, name_shared, dom_map, dom_shared = maps.name, maps.name_shared, maps.dom, maps.dom_shared

    # resolve each distinct reference once, in R7 order
    codes, uniq = pd.factorize(ref, use_na_sentinel=True)
    u = pd.Series(np.asarray(uniq, dtype=object), dtype="str")
    res = np.full(len(u), -1, dtype=np.int64)
    how = np.full(len(u), -1, dtype=np.int8)
    nn = normalise_name(u)
    ref_dom = normalise_domain(u)
    u_sf = u.str.slice(0, 15).where(
        u.str.fullmatch(r"[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?").fillna(False)
    )
    exact = _lookup(u, exact_map)
    sf_hit = _lookup(u_sf, sf15_map)
    exact = np.where(exact >= 0, exact, sf_hit)
    for k, got in enumerate(
        (exact, _lookup(u.str.lower(), ci_map), _lookup(nn, name_map), _lookup(ref_dom, dom_map))
    ):
        m = (res < 0) & (got >= 0)
        res[m] = got[m]
        how[m] = k
    amb_u = (res < 0) & (nn.isin(name_shared).to_numpy() | ref_dom.isin(dom_shared).to_numpy())

    valid = codes >= 0
    linked = np.full(n, -1, dtype=np.int64)
    method = np.full(n, -1, dtype=np.int8)
    ambiguous = np.zeros(n, dtype=bool)
    linked[valid] = res[codes[valid]]
    method[valid] = how[codes[valid]]
    ambiguous[valid] = amb_u[codes[valid]]

    if email is not None:
        # only rows the reference did not link need their e-mail looked at
        todo_idx = np.flatnonzero(linked < 0)
        ecodes, euniq = pd.factorize(email.iloc[todo_idx], use_na_sentinel=True)
        ed = normalise_domain(pd.Series(np.asarray(euniq, dtype=object), dtype="str"))
        eres = _lookup(ed, dom_map)
        eshared = ed.isin(dom_shared).to_numpy()
        ok = ecodes >= 0
        got = np.full(len(todo_idx), -1, dtype=np.int64)
        got[ok] = eres[ecodes[ok]]
        hit = got >= 0
        linked[todo_idx[hit]] = got[hit]
        method[todo_idx[hit]] = 3
        amb_e = np.zeros(len(todo_idx), dtype=bool)
        amb_e[ok] = eshared[ecodes[ok]]
        ambiguous[todo_idx] |= amb_e

    orphan = linked < 0
    ambiguous &= orphan
    acc_arr = pa.array(acc_ids.to_numpy(dtype=object), type=pa.string())
    frame["account_id"] = pd.array(acc_arr.take(pa.array(linked, mask=orphan)), dtype="str")
    counts = {name: int((method == k).sum()) for k, name in enumerate(_METHODS)}
    counts["orphan"] = int(orphan.sum())
    counts["ambiguous"] = int(ambiguous.sum())

    rows = frame[ROW].to_numpy() if ROW in frame.columns else np.arange(2, n + 2)
    if FILE in frame.columns:
        fcodes, funiq = pd.factorize(frame[FILE])
    else:
        fcodes, funiq = np.zeros(n, dtype=np.int64), np.array([""], dtype=object)
    raw = _RefOrEmail(ref, email)
    has_ref = ref.notna().to_numpy()
    if email is not None:
        has_ref = has_ref | email.notna().to_numpy()
    kept = dataset in KEEP_ORPHANS
    tail = (
        "kept for company-wide figures, left out of per-account results"
        if kept
        else "row set aside (billing and usage orphans feed no KPI)"
    )
    for k, f in enumerate(funiq):
        info = file_info.get(str(f), {})
        col = info.get("account_id") or info.get("email")
        in_f = fcodes == k
        fname = str(f)
        sink.add_mask(
            "ambiguous-account",
            "warning",
            dataset,
            col,
            ambiguous & in_f,
            raw,
            rows,
            fname,
            f"the reference matches several accounts; {tail}",
        )
        sink.add_mask(
            "orphan-account",
            "warning",
            dataset,
            col,
            orphan & ~ambiguous & in_f & has_ref,
            raw,
            rows,
            fname,
            f"no account matches this reference; {tail}",
        )
        sink.add_mask(
            "orphan-account",
            "warning",
            dataset,
            col,
            orphan & in_f & ~has_ref,
            raw,
            rows,
            fname,
            f"no account reference (and no e-mail that links one); {tail}",
        )
    if not kept and orphan.any():
        frame = frame.loc[~orphan].reset_index(drop=True)
    return frame, sink.issues[start:], counts


class _RefOrEmail:
    """Raw value shown in an orphan issue: the reference, else the e-mail (looked up lazily)."""

    def __init__(self, ref: pd.Series, email: pd.Series | None) -> None:
        self.ref, self.email = ref, email

    def take(self, idx: np.ndarray) -> list:
        r = self.ref.iloc[idx].tolist()
        if self.email is None:
            return r
        e = self.email.iloc[idx].tolist()
        return [a if isinstance(a, str) else b for a, b in zip(r, e)]
