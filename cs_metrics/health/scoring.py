"""Score every account at once: rules per measure, group aggregates, reweighting,
coverage, bands, profiles, then overrides.

Definitions (docs/health.md):
- a measure is *present* for an account when it has a score: real data, or a
  substitute from `missing: worst` / `missing: {score: x}`;
- a group's score aggregates its present measures (weighted mean, min or max);
  a group with no present measure (or only zero-weight ones) is left out;
- the total is the weighted mean of the present groups' scores, so left-out
  weight is shared out over the rest in proportion (reweighting);
- effective weight of a measure = its share of the total actually used
  (Σ over an account's measures = 1); contribution = effective weight × score
  (Σ = the score); impact = effective weight × (score − 100) (≤ 0, drivers down);
- coverage = Σ configured shares (group share × measure share within its group)
  of the measures that had real data (substitutes do not count as data);
- coverage < min_coverage → not scored, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cs_metrics.errors import ConfigError, Issue, did_you_mean
from cs_metrics.health.model import HealthModel, Measure, Profile, Variant, norm_category
from cs_metrics.health.rules import apply_rule, as_numbers

NOISE_DECIMALS = 9  # floating-point noise removed before banding (never display rounding)


@dataclass
class HealthScores:
    """Scores of one as-of date.

    table: indexed by account_id — score (unrounded, NaN = not scored), band,
      band_color, band_rank (0 = lowest band), profile, coverage,
      not_scored_reason, override (reason or None), top_negative, top_positive.
    components: one row per account × measure — account_id, group, measure,
      metric, raw, score, weight (configured share), effective_weight,
      contribution, impact, imputed, left_out_reason.
    groups: one row per account × group — account_id, group, score, weight,
      effective_weight, left_out_reason.
    """

    table: pd.DataFrame
    components: pd.DataFrame
    groups: pd.DataFrame
    model: HealthModel
    as_of: pd.Timestamp | None = None
    issues: list[Issue] = field(default_factory=list)


# ---------------------------------------------------------------------------
# inputs


def _account_index(frames: dict[Any, pd.DataFrame], accounts: pd.DataFrame | None) -> pd.Index:
    if accounts is not None:
        if "account_id" in accounts.columns:
            return pd.Index(accounts["account_id"], name="account_id")
        return pd.Index(accounts.index, name="account_id")
    idx = pd.Index([], name="account_id")
    for f in frames.values():
        idx = idx.union(f.index)
    return idx.rename("account_id")


def _indexed_accounts(accounts: pd.DataFrame | None, ids: pd.Index) -> pd.DataFrame:
    if accounts is None:
        return pd.DataFrame(index=ids)
    if "account_id" in accounts.columns:
        accounts = accounts.set_index("account_id")
    return accounts.reindex(ids)


class _Inputs:
    """Raw values per measure source, aligned to the account index."""

    def __init__(self, frames: dict[Any, pd.DataFrame], accounts: pd.DataFrame, ids: pd.Index, as_of):
        self.frames, self.accounts, self.ids, self.as_of = frames, accounts, ids, as_of

    def metric(self, name: str, window: str | None) -> pd.Series | None:
        f = self.frames.get(window)
        if f is None or name not in f.columns:
            return None
        return f[name].reindex(self.ids)

    def column(self, name: str, key: str) -> pd.Series:
        if name in self.accounts.columns:
            return self.accounts[name]
        if name == "tenure_days" and "created_at" in self.accounts.columns and self.as_of is not None:
            days = (pd.Timestamp(self.as_of) - self.accounts["created_at"]).dt.total_seconds() / 86400.0
            return days
        cols = [str(c) for c in self.accounts.columns]
        hint = did_you_mean(name, cols)
        raise ConfigError(
            f"accounts column {name!r} not found",
            [Issue("unknown-column", f"the accounts data has no column {name!r}{hint}; columns: {', '.join(cols)}",
                   level="error", key=key)],
        )


def _measure_key(v: Variant, m: Measure) -> str:
    return f"health.profiles[{v.name}].groups.{m.group}.measures.{m.id}" if v.name != "default" \
        else f"health.groups.{m.group}.measures.{m.id}"


def _evaluate(m: Measure, inp: _Inputs, key: str) -> tuple[pd.Series, np.ndarray, np.ndarray, np.ndarray]:
    """(raw, score incl. substitutes, has_data, left-out reason) for one measure."""
    n = len(inp.ids)
    if m.metric is not None:
        raw = inp.metric(m.metric, m.window)
        if raw is None:
            win = f" over {m.window}" if m.window else ""
            raw = pd.Series(np.nan, index=inp.ids, dtype=float)
            s = np.full(n, np.nan)
            why = np.full(n, f"metric {m.metric}{win} is not available (its data is missing)", dtype=object)
        else:
            s, why = apply_rule(m, raw, _within(m, inp, key))
    else:
        raw = inp.column(m.column, key + ".column")
        s, why = apply_rule(m, raw, _within(m, inp, key))
    has_data = ~np.isnan(s)
    if m.missing != "reweight":
        sub = m.lowest_score() if m.missing == "worst" else float(m.missing_score)
        s = np.where(has_data, s, sub)
        why = np.full(n, None, dtype=object)  # not left out: scored as the substitute (imputed)
    return raw, s, has_data, why


def _within(m: Measure, inp: _Inputs, key: str) -> pd.Series | None:
    if m.rule != "percentile" or not m.within:
        return None
    return inp.column(m.within, key + ".within")


# ---------------------------------------------------------------------------
# one variant over all accounts


@dataclass
class _VariantResult:
    score: np.ndarray
    coverage: np.ndarray
    reason: np.ndarray
    top_neg: np.ndarray
    top_pos: np.ndarray
    comp: dict[str, np.ndarray]  # long arrays, n × measures
    grp: dict[str, np.ndarray]  # long arrays, n × groups


def _score_variant(v: Variant, inp: _Inputs, cache: dict) -> _VariantResult:
    n = len(inp.ids)
    measures = v.measures
    gw = np.array([g.weight for g in v.groups], dtype=float)
    gshare = gw / gw.sum() if gw.sum() > 0 else np.zeros_like(gw)
    G = np.full((n, len(v.groups)), np.nan)
    in_group_eff: list[np.ndarray] = []
    cols: dict[str, list] = {k: [] for k in ("raw", "score", "has", "why", "conf")}
    for k, g in enumerate(v.groups):
        S, H, W = [], [], np.array([m.weight for m in g.measures], dtype=float)
        for m in g.measures:
            ck = m.rule_key()
            if ck not in cache:
                cache[ck] = _evaluate(m, inp, _measure_key(v, m))
            raw, s, has, why = cache[ck]
            S.append(s)
            H.append(has)
            cols["raw"].append(raw)
            cols["score"].append(s)
            cols["has"].append(has)
            cols["why"].append(why)
        S_ = np.column_stack(S) if S else np.empty((n, 0))
        present = ~np.isnan(S_)
        wsum_all = W.sum()
        cols["conf"].append(gshare[k] * (W / wsum_all if wsum_all > 0 else np.zeros_like(W)))
        if g.aggregate == "weighted_mean":
            wp = np.where(present, W, 0.0)
            tot = wp.sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                gs = np.where(tot > 0, np.nansum(np.where(present, S_ * W, 0.0), axis=1) / tot, np.nan)
                eff = np.where(tot[:, None] > 0, wp / tot[:, None], 0.0)
        else:
            # min / max: the extreme present measure (with weight > 0) decides; ties share.
            usable = present & (W > 0)
            fill = np.inf if g.aggregate == "min" else -np.inf
            X = np.where(usable, S_, fill)
            ext = X.min(axis=1) if g.aggregate == "min" else X.max(axis=1)
            any_ = usable.any(axis=1)
            gs = np.where(any_, ext, np.nan)
            hit = usable & (X == ext[:, None])
            cnt = hit.sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                eff = np.where(cnt[:, None] > 0, hit / np.maximum(cnt, 1)[:, None], 0.0)
        G[:, k] = gs
        in_group_eff.append(eff)
    gpresent = ~np.isnan(G)
    gwp = np.where(gpresent, gw, 0.0)
    gtot = gwp.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        total = np.where(gtot > 0, np.nansum(np.where(gpresent, G * gw, 0.0), axis=1) / gtot, np.nan)
        geff = np.where(gtot[:, None] > 0, gwp / gtot[:, None], 0.0)
    total = np.round(total, NOISE_DECIMALS)

    has_m = np.column_stack(cols["has"]) if measures else np.empty((n, 0), bool)
    conf = np.concatenate(cols["conf"]) if measures else np.empty(0)
    coverage = (has_m * conf).sum(axis=1) if measures else np.zeros(n)
    coverage = np.round(coverage, 12)
    low = coverage < v.min_coverage
    no_total = np.isnan(total)
    reason = np.full(n, None, dtype=object)
    reason[no_total] = np.where(has_m[no_total].any(axis=1), "no measure with a weight above 0 has data",
                                "no measure has data") if measures else "no measure has data"
    low_only = low & ~no_total
    if low_only.any():
        sub = ~has_m[low_only]
        ids_ = np.array([m.id for m in measures], dtype=object)
        reason[low_only] = [
            f"coverage {c:.0%} is below min_coverage {v.min_coverage:.0%} (no data: {', '.join(ids_[row])})"
            for c, row in zip(coverage[low_only], sub)
        ]
    scored = ~low & ~no_total
    total = np.where(scored, total, np.nan)

    # per-measure effective weights and contributions
    EFF = np.column_stack([geff[:, k][:, None] * in_group_eff[k] for k in range(len(v.groups))]) if measures \
        else np.empty((n, 0))
    SC = np.column_stack(cols["score"]) if measures else np.empty((n, 0))
    EFF = np.where(scored[:, None], EFF, np.nan)
    contrib = EFF * np.nan_to_num(SC)
    impact = EFF * (np.nan_to_num(SC) - 100.0)
    top_neg = _pick(impact, measures, lambda a: a < -1e-12, np.argmin, np.inf)
    # up: lift above the account's own score (see health/explain.py)
    lift = EFF * (np.nan_to_num(SC) - total[:, None]) if measures else np.empty((n, 0))
    top_pos = _pick(lift, measures, lambda a: a > 1e-12, np.argmax, -np.inf)

    # left-out reasons per account × measure
    WHY = np.column_stack(cols["why"]) if measures else np.empty((n, 0), object)
    gidx = np.concatenate([[k] * len(g.measures) for k, g in enumerate(v.groups)]).astype(int) if measures \
        else np.empty(0, int)
    free = np.isnan(SC)  # accounts × measures without a score already carry their reason
    free = ~free
    zero_w = np.array([m.weight == 0 for m in measures], dtype=bool)
    if zero_w.any():
        zw = zero_w[None, :] & free
        WHY[zw] = "weight 0"
        free &= ~zw
    grp_out = ~gpresent[:, gidx] & free
    if grp_out.any():
        WHY[grp_out] = "its group has no measure with data"
        free &= ~grp_out
    ex = np.array([g.weight == 0 for g in v.groups], dtype=bool)[gidx] if measures else np.empty(0, bool)
    if ex.any():
        WHY[ex[None, :] & free] = "group weight 0"

    M = len(measures)
    comp = {
        "group": _labels([m.group for m in measures], n),
        "measure": _labels([m.id for m in measures], n),
        "metric": _labels([m.metric or m.column for m in measures], n),
        "raw": np.column_stack([r.to_numpy(dtype=object) for r in cols["raw"]]).ravel() if M else np.empty(0, object),
        "score": SC.ravel(),
        "weight": np.repeat(conf[None, :], n, 0).ravel(),
        "effective_weight": EFF.ravel(),
        "contribution": contrib.ravel(),
        "impact": impact.ravel(),
        "imputed": (~has_m & ~np.isnan(SC)).ravel(),
        "left_out_reason": WHY.ravel(),
    }
    ng = len(v.groups)
    GE = np.where(scored[:, None], geff, np.nan)
    gwhy = np.where(gpresent, None, "no measure with data").astype(object)
    gwhy[(gw == 0)[None, :].repeat(n, 0) & gpresent] = "group weight 0"
    grp = {
        "group": _labels([g.id for g in v.groups], n),
        "score": G.ravel(),
        "weight": np.repeat(gshare[None, :], n, 0).ravel(),
        "effective_weight": GE.ravel(),
        "left_out_reason": gwhy.ravel(),
    }
    del ng
    return _VariantResult(total, coverage, reason, top_neg, top_pos, comp, grp)


def _labels(names: list[str], n: int) -> pd.Categorical:
    """names repeated for n accounts (row-major), as a categorical: cheap for 50k × measures."""
    cats = list(dict.fromkeys(names))
    codes = np.array([cats.index(x) for x in names], dtype=np.int32)
    return pd.Categorical.from_codes(np.tile(codes, n), categories=cats)


def _pick(a: np.ndarray, measures, ok, argf, fill) -> np.ndarray:
    n = a.shape[0]
    out = np.full(n, None, dtype=object)
    if a.shape[1] == 0:
        return out
    valid = ok(np.nan_to_num(a, nan=0.0))
    X = np.where(valid, a, fill)
    j = argf(X, axis=1)
    ids = np.array([m.id for m in measures], dtype=object)
    has = valid.any(axis=1)
    out[has] = ids[j[has]]
    return out


# ---------------------------------------------------------------------------
# profiles, bands


def _profile_mask(p: Profile, inp: _Inputs, i: int) -> np.ndarray:
    key = f"health.profiles[{i}].when"
    if p.column is not None:
        vals = inp.column(p.column, key + ".column")
    else:
        s = inp.metric(p.metric, None)
        vals = s if s is not None else pd.Series(np.nan, index=inp.ids)
    if p.min is not None or p.max is not None:
        x = as_numbers(vals)
        ok = ~np.isnan(x)
        if p.min is not None:
            ok &= x >= p.min
        if p.max is not None:
            ok &= x <= p.max
        return np.where(np.isnan(x), False, ok)
    wanted = {norm_category(v) for v in ([p.equals] if p.isin is None else p.isin)}
    if pd.api.types.is_numeric_dtype(vals.dtype) or pd.api.types.is_bool_dtype(vals.dtype):
        x = as_numbers(vals)
        nums = {float(w) for w in wanted if _is_float(w)}
        if pd.api.types.is_bool_dtype(vals.dtype):
            nums |= {1.0 for w in wanted if w == "true"} | {0.0 for w in wanted if w == "false"}
        return np.isin(x, list(nums)) & ~np.isnan(x)
    keys = vals.astype("string").str.strip().str.casefold()
    return keys.isin(wanted).fillna(False).to_numpy(dtype=bool)


def _is_float(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def band_of(score: np.ndarray, v: Variant) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(band name, colour, rank with 0 = lowest) for unrounded scores; NaN → None."""
    name = np.full(score.shape, None, dtype=object)
    color = np.full(score.shape, None, dtype=object)
    rank = np.full(score.shape, np.nan)
    nb = len(v.bands)
    done = np.isnan(score)
    for i, b in enumerate(v.bands):  # descending min: first band whose min ≤ score
        hit = ~done & (score >= b.min)
        name[hit], color[hit], rank[hit] = b.name, b.color, nb - 1 - i
        done |= hit
    return name, color, rank


# ---------------------------------------------------------------------------
# public


def score(
    frames: dict[str | None, pd.DataFrame],
    accounts: pd.DataFrame | None,
    model: HealthModel,
    *,
    as_of: pd.Timestamp | None = None,
    overrides: pd.DataFrame | None = None,
) -> HealthScores:
    """Health scores of every account (see the module docstring for the definitions)."""
    from cs_metrics.health.overrides import apply_overrides, overrides_from_accounts

    ids = _account_index(frames, accounts)
    acc = _indexed_accounts(accounts, ids)
    inp = _Inputs(frames, acc, ids, as_of)
    n = len(ids)

    # first matching profile wins, else the default
    which = np.full(n, -1)
    for i, p in enumerate(model.profiles):
        hit = _profile_mask(p, inp, i) & (which == -1)
        which[hit] = i
    variants = [(model.default, which == -1)] + [
        (p.variant, which == i) for i, p in enumerate(model.profiles)
    ]

    cache: dict = {}
    table_parts, comp_parts, grp_parts = [], [], []
    for v, mask in variants:
        if not mask.any() and v is not model.default:
            continue
        r = _score_variant(v, inp, cache)
        rows = np.flatnonzero(mask)
        band, color, rank = band_of(r.score, v)
        table_parts.append(_frame({
            "account_id": ids[rows],
            "score": r.score[rows],
            "band": band[rows],
            "band_color": color[rows],
            "band_rank": rank[rows],
            "profile": v.name,
            "coverage": r.coverage[rows],
            "not_scored_reason": r.reason[rows],
            "override": None,
            "top_negative": r.top_neg[rows],
            "top_positive": r.top_pos[rows],
        }))
        M = len(v.measures)
        if M:
            sel = slice(None) if len(rows) == n else (rows[:, None] * M + np.arange(M)[None, :]).ravel()
            comp_parts.append(_frame({"account_id": np.repeat(ids.to_numpy()[rows], M),
                                      **{k: a[sel] for k, a in r.comp.items()}}))
        ng = len(v.groups)
        if ng:
            gsel = slice(None) if len(rows) == n else (rows[:, None] * ng + np.arange(ng)[None, :]).ravel()
            grp_parts.append(_frame({"account_id": np.repeat(ids.to_numpy()[rows], ng),
                                     **{k: a[gsel] for k, a in r.grp.items()}}))
    table = pd.concat(table_parts, ignore_index=True).set_index("account_id").reindex(ids)
    table["profile"] = table["profile"].astype(object)
    components = pd.concat(comp_parts, ignore_index=True) if comp_parts else _empty_components()
    groups = pd.concat(grp_parts, ignore_index=True) if grp_parts else pd.DataFrame(
        columns=["account_id", "group", "score", "weight", "effective_weight", "left_out_reason"])
    result = HealthScores(table, components, groups, model, as_of)

    ov_frames = []
    if overrides is not None and len(overrides):
        ov_frames.append(overrides)
    from_acc = overrides_from_accounts(acc, model, result.issues)
    if from_acc is not None and len(from_acc):
        ov_frames.append(from_acc)
    if ov_frames:
        apply_overrides(result, pd.concat(ov_frames, ignore_index=True))
    return result


def _frame(cols: dict[str, Any]) -> pd.DataFrame:
    """DataFrame without string inference: object arrays stay object (ids, reasons, raw values)."""
    out = {}
    for k, a in cols.items():
        if isinstance(a, np.ndarray) and a.dtype == object:
            out[k] = pd.Series(a, dtype=object, copy=False)
        elif isinstance(a, str) or a is None:
            out[k] = a
        else:
            out[k] = a
    return pd.DataFrame(out, copy=False)


def _empty_components() -> pd.DataFrame:
    return pd.DataFrame(columns=["account_id", "group", "measure", "metric", "raw", "score", "weight",
                                 "effective_weight", "contribution", "impact", "imputed", "left_out_reason"])
