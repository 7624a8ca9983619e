"""Scoring rules: raw per-account values → 0–100, vectorised over all accounts.

Each rule returns (scores, unscored_reason): `scores` is a float array with
NaN where the account has no usable value, `unscored_reason` an object array
saying why for those accounts (None elsewhere).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cs_metrics.health.model import Measure


def as_numbers(raw: pd.Series) -> np.ndarray:
    """Any per-account column → float array (booleans as 1/0, text parsed, else NaN)."""
    if pd.api.types.is_bool_dtype(raw.dtype):
        return raw.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    if pd.api.types.is_numeric_dtype(raw.dtype):
        return raw.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    return pd.to_numeric(raw, errors="coerce").astype("Float64").to_numpy(dtype=float, na_value=np.nan)


def _reasons(missing: np.ndarray, reason: str) -> np.ndarray:
    out = np.full(missing.shape, None, dtype=object)
    out[missing] = reason
    return out


def linear(m: Measure, raw: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """worst → 0, best → 100, straight line between, clamped (worst may be above best)."""
    x = as_numbers(raw)
    with np.errstate(over="ignore"):  # huge raw values overflow to ±inf, which the clamp handles
        s = np.clip((x - m.worst) / (m.best - m.worst) * 100.0, 0.0, 100.0) + 0.0  # + 0.0: no −0.0
    return s, _not_a_number(raw, x, m)


def thresholds(m: Measure, raw: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """The step with the highest `min` ≤ value gives the score; below the first step: `below`."""
    x = as_numbers(raw)
    mins = np.array([a for a, _ in m.steps], dtype=float)
    pts = np.array([b for _, b in m.steps], dtype=float)
    below = m.below if m.below is not None else pts[0]
    idx = np.searchsorted(mins, np.nan_to_num(x, nan=-np.inf), side="right") - 1
    s = np.where(idx >= 0, pts[np.clip(idx, 0, None)], below)
    s = np.where(np.isnan(x), np.nan, s)
    return s, _not_a_number(raw, x, m)


def category_map(m: Measure, raw: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Category → score, compared case-insensitively (1 == '1' == 1.0, true == True)."""
    table = dict(m.mapping)
    if pd.api.types.is_bool_dtype(raw.dtype):
        keys = raw.map({True: "true", False: "false"})
    elif pd.api.types.is_numeric_dtype(raw.dtype):
        x = as_numbers(raw)
        whole = np.isfinite(x) & (np.mod(x, 1) == 0)
        as_int = pd.Series(np.where(whole, x, 0).astype(np.int64), index=raw.index).astype(str)
        as_float = pd.Series(x, index=raw.index).map(repr)
        keys = as_int.where(whole, as_float).where(~np.isnan(x))
    else:
        keys = raw.astype("string").str.strip().str.casefold()
    present = keys.notna().to_numpy()
    s = keys.map(table).astype(float).to_numpy(dtype=float, na_value=np.nan) if len(keys) else np.array([], float)
    unmapped = present & np.isnan(s)
    if m.default is not None:
        s = np.where(unmapped, m.default, s)
        unmapped = np.zeros_like(unmapped)
    why = _reasons(~present, f"no value for {m.source}")
    if unmapped.any():
        shown = raw.astype("string").to_numpy(dtype=object, na_value=None)
        why[unmapped] = [f"value {v!r} is not in the map ({', '.join(table)})" for v in shown[unmapped]]
    return s, why


def percentile(m: Measure, raw: pd.Series, groups: pd.Series | None) -> tuple[np.ndarray, np.ndarray]:
    """Rank among accounts with a value (ties averaged): lowest → 0, highest → 100, a lone account → 50.

    score = (average rank − 1) / (n − 1) × 100 within all accounts, or within the
    account's `within` group (accounts with no group value form one group).
    """
    x = pd.Series(as_numbers(raw), index=raw.index)
    if groups is None:
        r = x.rank(method="average")
        n = pd.Series(float(x.notna().sum()), index=x.index)
    else:
        # segments compared trimmed and case-insensitively, as profile `when` compares them
        key = groups.astype("string").str.strip().str.casefold().fillna("\x00(none)").to_numpy(dtype=object)
        g = x.groupby(key, dropna=False)
        r = g.rank(method="average")
        n = g.transform("count").astype(float)
    r, n = r.to_numpy(dtype=float), n.to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.where(n > 1, (r - 1) / (n - 1) * 100.0, 50.0)
    s = np.where(np.isnan(x.to_numpy()), np.nan, s)
    if m.better == "lower":
        s = 100.0 - s + 0.0
    return s, _not_a_number(raw, x.to_numpy(), m)


def _not_a_number(raw: pd.Series, x: np.ndarray, m: Measure) -> np.ndarray:
    missing = np.isnan(x)
    why = _reasons(missing, f"no value for {m.source}")
    if missing.any() and not pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype):
        bad = missing & raw.notna().to_numpy()
        if bad.any():
            shown = raw.astype("string").to_numpy(dtype=object, na_value=None)
            why[bad] = [f"value {v!r} is not a number" for v in shown[bad]]
    return why


def apply_rule(m: Measure, raw: pd.Series, within: pd.Series | None = None) -> tuple[np.ndarray, np.ndarray]:
    if m.rule == "linear":
        return linear(m, raw)
    if m.rule == "thresholds":
        return thresholds(m, raw)
    if m.rule == "map":
        return category_map(m, raw)
    if m.rule == "percentile":
        return percentile(m, raw, within)
    raise ValueError(f"unknown rule {m.rule!r}")  # config validation prevents this
