"""CSM overrides: force a band or a score for an account, with a reason and an
expiry date, from a CSV file or from accounts columns.

An override is in force through its `expires` day inclusive; on later as-of
dates it is ignored and reported (`override-expired`). A file override in
force wins over an accounts-column override for the same account (an expired
one hides nothing). A band and a score
given together must agree (the score falls in that band under the account's
profile), else the override is ignored and reported (`override-inconsistent`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cs_metrics.errors import InputError, Issue
from cs_metrics.health.model import HealthModel

if TYPE_CHECKING:
    from cs_metrics.health.scoring import HealthScores

COLUMNS = ["account_id", "band", "score", "reason", "expires", "source"]


def _validate(df: pd.DataFrame, file: str | None, rows: np.ndarray, dataset: str | None) -> tuple[pd.DataFrame, list[Issue]]:
    """Parse band/score/reason/expires columns (text) → typed rows + issues for the bad ones."""
    issues: list[Issue] = []

    def text(col: str) -> pd.Series:
        if col not in df.columns:
            return pd.Series(pd.NA, index=df.index, dtype="string")
        s = df[col].astype("string").str.strip()
        return s.where(s != "")

    acc, band, reason = text("account_id"), text("band"), text("reason")
    score_txt, exp_txt = text("score"), text("expires")
    score = pd.to_numeric(score_txt, errors="coerce")
    expires = pd.to_datetime(exp_txt, errors="coerce", format="%Y-%m-%d")
    bad = np.zeros(len(df), dtype=bool)

    def flag(mask: pd.Series | np.ndarray, code: str, column: str, msg: str, values: pd.Series) -> None:
        nonlocal bad
        m = np.asarray(mask, dtype=bool) & ~bad
        for r, v in zip(rows[m], values.to_numpy(dtype=object, na_value=None)[m]):
            numeric = isinstance(r, (int, np.integer))
            issues.append(Issue(code, msg if numeric else f"account {r}: {msg}",
                                level="error" if dataset is None else "warning", dataset=dataset,
                                file=file, row=int(r) if numeric else None, column=column,
                                value=None if v is None else str(v)))
        bad |= m

    flag(acc.isna(), "override-invalid", "account_id", "override without an account_id", acc)
    flag(band.isna() & score_txt.isna(), "override-invalid", "band", "override needs a band or a score", band)
    flag(score_txt.notna() & score.isna(), "override-invalid", "score", "score is not a number", score_txt)
    flag(score.notna() & ~score.between(0, 100), "override-invalid", "score", "score must be between 0 and 100", score_txt)
    flag(reason.isna(), "override-invalid", "reason", "override needs a reason", reason)
    flag(exp_txt.isna(), "override-invalid", "expires", "override needs an expiry date (YYYY-MM-DD)", exp_txt)
    flag(exp_txt.notna() & expires.isna(), "override-invalid", "expires", "expires is not a date YYYY-MM-DD", exp_txt)
    src = [f"{file or 'accounts'}, row {r}" for r in rows]
    out = pd.DataFrame({
        "account_id": acc.to_numpy(dtype=object, na_value=None),
        "band": band.str.casefold().to_numpy(dtype=object, na_value=None),
        "score": score.astype(float).to_numpy(),
        "reason": reason.to_numpy(dtype=object, na_value=None),
        "expires": expires.to_numpy(),
        "source": src,
    })[~bad].reset_index(drop=True)
    return out, issues


def load_overrides(path: Path) -> pd.DataFrame:
    """Overrides CSV → account_id, band, score, reason, expires, source. InputError lists every bad row.

    Headers are matched case-insensitively; `band` and/or `score` per row;
    `reason` and `expires` (YYYY-MM-DD) are required.
    """
    path = Path(path)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", sep=None, engine="python")
    except FileNotFoundError:
        raise InputError(f"overrides file not found: {path}", [Issue("file-not-found", "overrides file not found",
                                                                      level="error", file=str(path))]) from None
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as e:
        raise InputError(f"cannot read overrides file {path}: {e}",
                         [Issue("unreadable-file", str(e), level="error", file=path.name)]) from None
    df.columns = [str(c).strip().lower().replace(" ", "_") for c in df.columns]
    missing = [c for c in ("account_id", "reason", "expires") if c not in df.columns]
    if "band" not in df.columns and "score" not in df.columns:
        missing.append("band or score")
    if missing:
        raise InputError(
            f"{path.name}: missing column(s) {', '.join(missing)}",
            [Issue("missing-column", f"overrides need columns account_id, band and/or score, reason, expires; "
                   f"missing {', '.join(missing)}; found {', '.join(df.columns)}", level="error", file=path.name)],
        )
    rows = np.arange(len(df)) + 2  # header is row 1
    out, issues = _validate(df, path.name, rows, None)
    dup = out["account_id"].duplicated(keep="first")
    for _, r in out[dup].iterrows():
        issues.append(Issue("duplicate-id", f"a second override for account {r['account_id']}", level="error",
                            file=path.name, row=int(r["source"].rsplit(" ", 1)[1]), column="account_id",
                            value=str(r["account_id"])))
    if issues:
        raise InputError(f"{path.name}: {len(issues)} bad override row(s)", issues)
    return out


def overrides_from_accounts(accounts: pd.DataFrame, model: HealthModel, issues: list[Issue]) -> pd.DataFrame | None:
    """Overrides held in accounts columns (names from health.overrides.columns)."""
    cols = model.override_columns
    if cols.get("band") not in accounts.columns and cols.get("score") not in accounts.columns:
        return None
    sub = pd.DataFrame({k: accounts[c] for k, c in cols.items() if c in accounts.columns})
    present = pd.Series(False, index=accounts.index)
    for k in ("band", "score"):
        if k in sub.columns:
            present |= sub[k].notna() & (sub[k].astype("string").str.strip() != "").fillna(False)
    sub = sub[present.to_numpy()]
    if sub.empty:
        return None
    sub = sub.astype("string")
    if "expires" in sub.columns:  # a datetime column stringifies with a time part
        sub["expires"] = sub["expires"].str.slice(0, 10)
    sub.insert(0, "account_id", sub.index.astype(str))
    out, found = _validate(sub.reset_index(drop=True), None, np.array([f"{a}" for a in sub.index], dtype=object), "accounts")
    for i in found:
        i.message = f"override in accounts columns ignored: {i.message}"
    issues.extend(found)
    out["source"] = "accounts columns"
    return out


def apply_overrides(result: HealthScores, ov: pd.DataFrame) -> None:
    """Force score/band on `result.table` in place; expired/unknown ones become issues."""
    from cs_metrics.health.scoring import band_of

    t = result.table
    as_of = pd.Timestamp(result.as_of).normalize() if result.as_of is not None else None
    if as_of is not None:
        expired = ov["expires"].notna() & (pd.to_datetime(ov["expires"]) < as_of)
        for _, r in ov[expired].iterrows():
            result.issues.append(Issue(
                "override-expired",
                f"override for {r['account_id']} expired on {pd.Timestamp(r['expires']).date()} and is ignored "
                f"(reason was: {r['reason']}); renew or remove it ({r['source']})",
                level="warning", dataset="overrides", value=str(r["account_id"])))
        ov = ov[~expired]
    # file before accounts columns; expired ones are already out, so an expired file
    # override does not hide a column override still in force
    ov = ov.drop_duplicates("account_id", keep="first")
    known = ov["account_id"].isin(t.index)
    for _, r in ov[~known].iterrows():
        result.issues.append(Issue("override-unknown-account",
                                   f"override for unknown account {r['account_id']!r} ignored ({r['source']})",
                                   level="warning", dataset="overrides", value=str(r["account_id"])))
    ov = ov[known]
    variants = {v.name: v for v in result.model.variants}
    for _, r in ov.iterrows():  # few rows: a loop is fine here
        acc = r["account_id"]
        v = variants[t.at[acc, "profile"]]
        band = None if pd.isna(r["band"]) else str(r["band"]).strip().casefold()
        sc = pd.to_numeric(r["score"], errors="coerce") if "score" in r.index else np.nan
        by_fold = {b.name.casefold(): b.name for b in v.bands}  # band names compared case-insensitively
        if band is not None:
            band = by_fold.get(band, band)
        if band is not None and band not in v.band_names():
            result.issues.append(Issue("override-unknown-band",
                                       f"override for {acc}: band {band!r} is not one of {', '.join(v.band_names())}; ignored",
                                       level="warning", dataset="overrides", value=str(band)))
            continue
        if band is not None and not pd.isna(sc):
            implied = band_of(np.array([float(sc)]), v)[0][0]
            if implied != band:
                result.issues.append(Issue(
                    "override-inconsistent",
                    f"override for {acc}: score {float(sc):g} is in band {implied!r} but band {band!r} was given; "
                    f"ignored (give one of them, or both agreeing) ({r['source']})",
                    level="warning", dataset="overrides", value=str(acc)))
                continue
        if not pd.isna(sc):
            t.at[acc, "score"] = float(sc)
            t.at[acc, "not_scored_reason"] = None
        if band is None:
            band = band_of(np.array([t.at[acc, "score"]], dtype=float), v)[0][0]
        b = next(b for b in v.bands if b.name == band)
        t.at[acc, "band"] = b.name
        t.at[acc, "band_color"] = b.color
        t.at[acc, "band_rank"] = len(v.bands) - 1 - list(v.bands).index(b)
        t.at[acc, "override"] = f"{r['reason']} (until {pd.Timestamp(r['expires']).date()})"
