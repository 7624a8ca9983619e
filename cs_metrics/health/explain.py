"""Health results for people and programs: one account's breakdown, the SPEC §5
`health` object, and the health KPIs of the KPI table.

Drivers: *down* = measures with the most negative impact, effective weight ×
(score − 100), i.e. the points the measure costs the account (SPEC §4); *up* =
measures that score above the account's own score, ranked by their lift,
effective weight × (score − account score): the points by which they hold the
score above what the other measures alone would give. A measure scoring 20 in
an account scoring 40 is never listed as holding it up.
"""

from __future__ import annotations

import gc
from typing import Any

import numpy as np
import pandas as pd

from cs_metrics.errors import UsageError, did_you_mean
from cs_metrics.health.model import HealthModel
from cs_metrics.health.scoring import HealthScores
from cs_metrics.results import KPIValue, clean_number

DEFAULT_BAND_KPIS = {"healthy": "accounts_healthy", "neutral": "accounts_neutral", "at_risk": "accounts_at_risk"}


_num = clean_number


def _raw(x: Any) -> Any:
    """A measure's raw value, JSON-ready: text as is, timestamps ISO, NaN/NA/NaT → None."""
    if isinstance(x, str):
        return x
    if x is pd.NA or x is pd.NaT:
        return None
    if isinstance(x, pd.Timestamp):
        return x.isoformat()
    return clean_number(x)


def _measure_labels(model: HealthModel) -> dict[str, str]:
    return {m.id: m.label for v in model.variants for m in v.measures}


def _metric_unit(metric: Any) -> str | None:
    """The unit of a per-account metric (so renderers show 25% and not 0.25); None for columns."""
    from cs_metrics.metrics.registry import ACCOUNT_METRICS, load_domains

    load_domains()
    m = ACCOUNT_METRICS.get(metric) if isinstance(metric, str) else None
    return m.unit if m is not None else None


def _drivers(rows: pd.DataFrame, labels: dict[str, str], n: int,
             account_score: float) -> dict[str, list[dict[str, Any]]]:
    def item(r: pd.Series, key: str) -> dict[str, Any]:
        return {"measure": r["measure"], "label": labels.get(r["measure"], r["measure"]), "group": r["group"],
                "metric": r["metric"], "unit": _metric_unit(r["metric"]),
                "raw": _raw(r["raw"]), "score": _num(r["score"]), "effective_weight": _num(r["effective_weight"]),
                key: _num(r[key])}

    down = rows[rows["impact"] < -1e-12].sort_values(["impact", "measure"], kind="mergesort").head(n)
    rows = rows.assign(lift=rows["effective_weight"].astype(float) * (rows["score"].astype(float) - account_score))
    up = rows[rows["lift"] > 1e-12].sort_values(["lift", "measure"], ascending=[False, True],
                                                 kind="mergesort").head(n)
    return {"down": [item(r, "impact") for _, r in down.iterrows()],
            "up": [{**item(r, "contribution"), "lift": _num(r["lift"])} for _, r in up.iterrows()]}


def _components(comp: pd.DataFrame, grp: pd.DataFrame, labels: dict[str, str], model: HealthModel) -> dict[str, Any]:
    glabels = {g.id: g.label for v in model.variants for g in v.groups}
    out: dict[str, Any] = {}
    for g in grp.itertuples(index=False):
        out[g.group] = {"label": glabels.get(g.group, g.group), "score": _num(g.score), "weight": _num(g.weight),
                        "effective_weight": _num(g.effective_weight), "left_out_reason": g.left_out_reason,
                        "measures": {}}
    for c in comp.itertuples(index=False):
        out.setdefault(c.group, {"measures": {}})["measures"][c.measure] = {
            "label": labels.get(c.measure, c.measure), "metric": c.metric, "unit": _metric_unit(c.metric),
            "raw": _raw(c.raw),
            "score": _num(c.score), "weight": _num(c.weight), "effective_weight": _num(c.effective_weight),
            "contribution": _num(c.contribution), "imputed": bool(c.imputed), "left_out_reason": c.left_out_reason,
        }
    return out


def explain(scores: HealthScores, account_id: Any) -> dict[str, Any]:
    """One account's breakdown, JSON-ready: score, band, groups → measures, drivers up and down."""
    t = scores.table
    if account_id not in t.index:
        hint = did_you_mean(str(account_id), [str(i) for i in t.index])
        raise UsageError(f"unknown account {account_id!r}{hint}")
    row = t.loc[account_id]
    comp = scores.components[scores.components["account_id"] == account_id]
    grp = scores.groups[scores.groups["account_id"] == account_id]
    labels = _measure_labels(scores.model)
    return {
        "account_id": _raw(account_id),
        "score": _num(row["score"]),
        "band": row["band"],
        "band_color": row["band_color"],
        "profile": row["profile"],
        "coverage": _num(row["coverage"]),
        "not_scored_reason": row["not_scored_reason"],
        "override": row["override"],
        "groups": _components(comp, grp, labels, scores.model),
        "drivers": _drivers(comp, labels, scores.model.drivers, float(row["score"])),
    }


def _risk_order(t: pd.DataFrame, arr: pd.Series) -> pd.Index:
    """Lowest score first; ties by larger ARR, then id; not-scored accounts last."""
    key = pd.DataFrame({"unscored": t["score"].isna().to_numpy(), "score": t["score"].to_numpy(dtype=float),
                        "arr": -arr.reindex(t.index).fillna(0).to_numpy(dtype=float),
                        "id": t.index.astype(str)}, index=t.index)
    return key.sort_values(["unscored", "score", "arr", "id"], kind="mergesort").index


def _blocks(frame: pd.DataFrame, index: pd.Index, cols: list[str]) -> tuple[np.ndarray, dict[str, list]]:
    """Rows of a long frame grouped by account in `index` order: (bounds, column lists)."""
    pos = index.get_indexer(frame["account_id"]) if len(frame) else np.empty(0, int)
    order = np.argsort(pos, kind="stable")
    bounds = np.searchsorted(pos[order], np.arange(len(index) + 1))
    lists = {}
    for c in cols:
        if not len(frame):
            lists[c] = []
        elif c == "raw":
            lists[c] = [_raw(x) for x in frame[c].to_numpy(dtype=object)[order].tolist()]
        elif pd.api.types.is_float_dtype(frame[c].dtype):
            lists[c] = _floats(frame[c].to_numpy(dtype=float)[order])
        else:
            lists[c] = frame[c].to_numpy(dtype=object)[order].tolist()
    return bounds, lists


def _floats(a: np.ndarray) -> list:
    """Float array → Python floats with NaN/inf as None (vectorised clean_number)."""
    return np.where(np.isfinite(a), a, None).tolist()


_MCOLS = ["group", "measure", "metric", "raw", "score", "weight", "effective_weight", "contribution", "impact",
          "imputed", "left_out_reason"]
_GCOLS = ["group", "score", "weight", "effective_weight", "left_out_reason"]


def health_result(current: HealthScores, previous: HealthScores | None, arr: pd.Series, names: pd.Series,
                  model: HealthModel) -> dict[str, Any]:
    """SPEC §5 `health` object: summary and accounts sorted by risk (lowest score first), NaN → None.

    Built from column lists in one pass (no per-account DataFrame work): 50k
    accounts × a dozen measures stay in the seconds range.
    """
    t = current.table
    arr = pd.to_numeric(arr, errors="coerce").reindex(t.index) if arr is not None else pd.Series(np.nan, index=t.index)
    prev = previous.table["score"].reindex(t.index) if previous is not None else pd.Series(np.nan, index=t.index)
    names = names.reindex(t.index) if names is not None and len(names) else pd.Series(None, index=t.index, dtype=object)
    labels = _measure_labels(model)
    glabels = {g.id: g.label for v in model.variants for g in v.groups}
    mb, mc = _blocks(current.components, t.index, _MCOLS)
    gb, gc_ = _blocks(current.groups, t.index, _GCOLS)
    cols = {c: t[c].to_numpy(dtype=object).tolist() for c in
            ("band", "band_color", "profile", "not_scored_reason", "override", "top_negative", "top_positive")}
    score_l = _floats(t["score"].to_numpy(dtype=float))
    cov_l = _floats(t["coverage"].to_numpy(dtype=float))
    prev_l = _floats(prev.to_numpy(dtype=float))
    arr_l = _floats(arr.to_numpy(dtype=float))
    name_l = [_raw(x) for x in names.to_numpy(dtype=object).tolist()]
    ids_l = [_raw(x) for x in t.index.tolist()]
    pos_of = pd.Series(np.arange(len(t)), index=t.index)
    k = model.drivers
    accounts: list[dict[str, Any]] = []
    gc_was_on = gc.isenabled()
    gc.disable()  # millions of small dicts: cyclic GC passes would make this quadratic
    try:
        _build_accounts(accounts, pos_of.reindex(_risk_order(t, arr)).to_numpy().tolist(), k, labels, glabels,
                        mb, mc, gb, gc_, cols, score_l, prev_l, arr_l, cov_l, name_l, ids_l)
    finally:
        if gc_was_on:
            gc.enable()
    return {"summary": _summary(current, previous, arr, model), "accounts": accounts}


def _driver_rows(imp: np.ndarray, con: np.ndarray, pos: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Row numbers (in block order) of each account's top-k down and up drivers, account-major."""
    out = []
    for key, ok in ((imp, imp < -1e-12), (-con, con > 1e-12)):  # con: the up ranking (lift)
        rows = np.flatnonzero(ok)
        order = rows[np.lexsort((key[rows], pos[rows]))]  # by account, then most negative impact / largest contribution
        p = pos[order]
        first = np.r_[True, p[1:] != p[:-1]] if len(p) else np.empty(0, bool)
        start = np.maximum.accumulate(np.where(first, np.arange(len(p)), 0)) if len(p) else np.empty(0, int)
        out.append(order[(np.arange(len(p)) - start) < k])
    return out[0], out[1]


def _build_accounts(accounts, order, k, labels, glabels, mb, mc, gb, gc, cols, score_l, prev_l, arr_l, cov_l,
                    name_l, ids_l) -> None:
    n_rows = len(mc["measure"])
    units = {met: _metric_unit(met) for met in set(mc["metric"])}
    mdicts = [
        {"label": labels.get(m, m), "metric": met, "unit": units.get(met), "raw": raw, "score": sc, "weight": w, "effective_weight": ew,
         "contribution": con, "imputed": bool(imp), "left_out_reason": why}
        for m, met, raw, sc, w, ew, con, imp, why in zip(
            mc["measure"], mc["metric"], mc["raw"], mc["score"], mc["weight"], mc["effective_weight"],
            mc["contribution"], mc["imputed"], mc["left_out_reason"])
    ]
    pos = np.repeat(np.arange(len(mb) - 1), np.diff(mb)) if n_rows else np.empty(0, int)
    # back to float arrays (numpy reads None as NaN)
    imp, ew, sc = (np.array(mc[c], dtype=float) for c in ("impact", "effective_weight", "score"))
    own = np.array(score_l, dtype=float)
    lift = ew * (sc - own[pos]) if n_rows else np.empty(0)  # see the module docstring
    down_rows, up_rows = _driver_rows(imp, lift, pos, k)
    down_b = np.searchsorted(pos[down_rows], np.arange(len(mb))).tolist()
    up_b = np.searchsorted(pos[up_rows], np.arange(len(mb))).tolist()
    down_rows, up_rows = down_rows.tolist(), up_rows.tolist()

    def item(j: int, key: str, direction: str) -> dict[str, Any]:
        m = mc["measure"][j]
        return {"direction": direction, "measure": m, "label": labels.get(m, m), "group": mc["group"][j],
                "metric": mc["metric"][j], "unit": units.get(mc["metric"][j]), "raw": mc["raw"][j], "score": mc["score"][j], "effective_weight": mc["effective_weight"][j],
                key: mc[key][j]}

    mb, gb = mb.tolist(), gb.tolist()
    groups, measures = mc["group"], mc["measure"]
    for i in order:
        comps: dict[str, Any] = {}
        for j in range(gb[i], gb[i + 1]):
            g = gc["group"][j]
            comps[g] = {"label": glabels.get(g, g), "score": gc["score"][j], "weight": gc["weight"][j],
                        "effective_weight": gc["effective_weight"][j], "left_out_reason": gc["left_out_reason"][j],
                        "measures": {}}
        for j in range(mb[i], mb[i + 1]):
            comps.setdefault(groups[j], {"measures": {}})["measures"][measures[j]] = mdicts[j]
        drivers = [item(j, "impact", "down") for j in down_rows[down_b[i]:down_b[i + 1]]] + \
                  [{**item(j, "contribution", "up"), "lift": float(lift[j])} for j in up_rows[up_b[i]:up_b[i + 1]]]
        s, p = score_l[i], prev_l[i]
        accounts.append({
            "account_id": ids_l[i], "name": name_l[i], "score": s, "band": cols["band"][i],
            "band_color": cols["band_color"][i], "profile": cols["profile"][i], "previous_score": p,
            "change": (s - p) if s is not None and p is not None else None, "arr": arr_l[i],
            "coverage": cov_l[i], "not_scored_reason": cols["not_scored_reason"][i], "override": cols["override"][i],
            "top_negative": cols["top_negative"][i], "top_positive": cols["top_positive"][i],
            "components": comps, "drivers": drivers,
        })


def _band_stats(scores: HealthScores, arr: pd.Series) -> dict[str, dict[str, Any]]:
    t = scores.table
    out: dict[str, dict[str, Any]] = {}
    order = []
    for v in scores.model.variants:
        for b in v.bands:
            if b.name not in order:
                order.append(b.name)
                out[b.name] = {"color": b.color, "min": b.min, "accounts": 0, "arr": 0.0}
    a = arr.reindex(t.index)
    for name in order:
        m = (t["band"] == name).fillna(False).to_numpy(dtype=bool)
        out[name]["accounts"] = int(m.sum())
        out[name]["arr"] = float(np.nansum(a.to_numpy(dtype=float)[m]))
    return out


def _lowest(t: pd.DataFrame) -> np.ndarray:
    return (t["band_rank"] == 0).fillna(False).to_numpy(dtype=bool)


def _summary(cur: HealthScores, prev: HealthScores | None, arr: pd.Series, model: HealthModel) -> dict[str, Any]:
    t = cur.table
    scored = t["score"].notna()
    a = arr.reindex(t.index).to_numpy(dtype=float)
    return {
        "accounts": len(t),
        "scored": int(scored.sum()),
        "not_scored": int((~scored).sum()),
        "score_avg": _num(t["score"].mean()) if scored.any() else None,
        "previous_score_avg": _num(prev.table["score"].mean()) if prev is not None and prev.table["score"].notna().any() else None,
        "bands": _band_stats(cur, arr),
        "arr_at_risk": float(np.nansum(a[_lowest(t)])),
        "overrides": int(t["override"].notna().sum()),
    }


def health_kpis(current: HealthScores, previous: HealthScores | None, arr: pd.Series, model: HealthModel,
                arr_previous: pd.Series | None = None) -> list[KPIValue]:
    """health_score_avg, accounts per band, arr_at_risk (Σ ARR in the lowest band) with previous values.

    `arr_previous` is each account's ARR at the end of P (R14: the previous value
    of arr_at_risk uses P's ARR); without it the current ARR is used.
    """
    arr_now = pd.to_numeric(arr, errors="coerce") if arr is not None else pd.Series(dtype=float)
    arr_then = pd.to_numeric(arr_previous, errors="coerce") if arr_previous is not None else arr_now

    def values(s: HealthScores | None, arr: pd.Series) -> dict[str, Any]:
        if s is None:
            return {}
        t = s.table
        n = int(t["score"].notna().sum())
        out: dict[str, Any] = {"n": n, "avg": float(t["score"].mean()) if n else None}
        for name, st in _band_stats(s, arr).items():
            out[name] = st["accounts"]
        a = arr.reindex(t.index).to_numpy(dtype=float)
        out["arr_at_risk"] = float(np.nansum(a[_lowest(t)])) if len(t) else 0.0
        out["arr_known"] = bool(np.isfinite(a).any())
        return out

    cur, prv = values(current, arr_now), values(previous, arr_then)
    no_acc = "no account could be scored" if not cur.get("n") else None
    from cs_metrics.metrics.registry import KPIS, load_domains

    load_domains()

    def kv(kid: str, value: Any, previous: Any, n: Any, reason: str | None, *, label: str,
           unit: str, better: str, description: str) -> KPIValue:
        # the registry declares the health KPIs once (label, unit, direction, definition);
        # custom band names get a generated declaration
        d = KPIS.get(kid)
        if d is not None:
            label, unit, better, description = d.label, d.unit, d.better, d.description
        return KPIValue(kid, label, "health", unit, better, value, previous, n=n,
                        unavailable_reason=reason, description=description)

    kpis = [kv("health_score_avg", cur.get("avg"), prv.get("avg"), cur.get("n"), no_acc,
               label="Health score (average)", unit="score", better="higher",
               description="Mean health score (0–100) over scored accounts")]
    names: list[str] = []
    for v in model.variants:
        for b in v.bands:
            if b.name not in names:
                names.append(b.name)
    better = {"healthy": "higher", "neutral": "none", "at_risk": "lower"}
    for name in list(DEFAULT_BAND_KPIS) + [n for n in names if n not in DEFAULT_BAND_KPIS]:
        kid = DEFAULT_BAND_KPIS.get(name, f"accounts_{name}")
        known = name in names
        kpis.append(kv(kid, cur.get(name, 0) if known else None,
                       prv.get(name, 0) if previous is not None and known else None,
                       len(current.table),
                       None if known else f"the health config has no band named {name!r}",
                       label=f"Accounts {name.replace('_', ' ')}", unit="count",
                       better=better.get(name, "none"), description=f"Accounts in the {name} band"))
    kpis.append(kv("arr_at_risk", cur.get("arr_at_risk") if cur.get("arr_known") else None,
                   (prv.get("arr_at_risk") if prv.get("arr_known") else None) if previous is not None else None,
                   int(_lowest(current.table).sum()),
                   None if cur.get("arr_known") else "no ARR known for any account",
                   label="ARR at risk", unit="currency", better="lower",
                   description="Σ ARR of accounts in the lowest health band"))
    return kpis


def health_summary_by(current: HealthScores, by: pd.Series, arr: pd.Series | None, model: HealthModel) -> dict[str, Any]:
    """`csm health --by segment`: per value of an accounts column (index account_id), the
    accounts, scored, score_avg, accounts and ARR per band and arr_at_risk. Blank → "(none)"."""
    t = current.table
    key = by.reindex(t.index).astype("string").fillna("(none)").to_numpy(dtype=object)
    a = (pd.to_numeric(arr, errors="coerce").reindex(t.index) if arr is not None
         else pd.Series(np.nan, index=t.index)).to_numpy(dtype=float)
    band_names = list(_band_stats(current, pd.Series(a, index=t.index)))
    df = pd.DataFrame({"key": key, "score": t["score"].to_numpy(dtype=float),
                       "band": t["band"].to_numpy(dtype=object), "arr": a,
                       "low": _lowest(t)})
    out: dict[str, Any] = {}
    for k, g in df.groupby("key", sort=True):  # few groups: a loop is fine
        bands = {b: {"accounts": int((g["band"] == b).sum()), "arr": float(np.nansum(g["arr"][g["band"] == b]))}
                 for b in band_names}
        n = int(g["score"].notna().sum())
        out[str(k)] = {"accounts": len(g), "scored": n, "score_avg": float(g["score"].mean()) if n else None,
                       "bands": bands, "arr_at_risk": float(np.nansum(g["arr"][g["low"]]))}
    return out
