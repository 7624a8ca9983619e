"""Survey KPIs (SPEC §3 "Surveys", R10, R29, R35) and their per-account forms.

The loader hands over one long frame: one row per response and survey type,
scores already checked against the type's scale (R10), sent-but-unanswered
surveys as rows with `sent_at` and no `submitted_at`. A *response* here is a
row with a score whose `submitted_at` falls on a day of the window. Survey
orphans (no linked account) count in the company-wide KPIs and are left out
of per-account metrics (R6).

Two KPIs have config-dependent presentation: csat with `method: mean` is a
score (not a ratio) and ces may be lower-is-better. The registry declares
the defaults; the result's `extra["unit"]` / `extra["better"]` say what this
run used.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd

from cs_metrics.errors import ConfigError, Issue
from cs_metrics.metrics.accounts import account_index, on_accounts
from cs_metrics.metrics.registry import (
    KPI,
    Context,
    Result,
    account_metric,
    family_doc,
    kpi,
    kpi_family,
)

BUILTIN_TYPES = ("nps", "csat", "ces")
PROMOTER_MIN = 9.0  # 9–10
DETRACTOR_MAX = 6.0  # 0–6; passives are the 7s and 8s


# ---------------------------------------------------------------- config


def _survey_cfg(ctx_or_config: Context | dict[str, Any]) -> dict[str, Any]:
    config = ctx_or_config.config if isinstance(ctx_or_config, Context) else ctx_or_config
    return (config or {}).get("surveys") or {}


def _cfg_error(key: str, value: Any, expected: str) -> ConfigError:
    msg = f"config key surveys.{key} is {value!r}: expected {expected}"
    return ConfigError(msg, [Issue("bad-config-value", msg, level="error", key=f"surveys.{key}")])


def type_scale(config: dict[str, Any], survey_type: str) -> tuple[float, float] | None:
    """(min, max) of a survey type: `surveys.<t>.scale` for nps/csat/ces,
    `surveys.scales.<t>` for the others; None when not configured."""
    cfg = _survey_cfg(config)
    own = cfg.get(survey_type) if survey_type in BUILTIN_TYPES else None
    scale = (own or {}).get("scale") if isinstance(own, dict) else None
    if scale is None:
        scale = (cfg.get("scales") or {}).get(survey_type)
    if scale is None:
        return None
    try:
        lo, hi = (float(scale[0]), float(scale[1]))
    except (TypeError, ValueError, IndexError, KeyError):
        raise _cfg_error(f"scales.{survey_type}", scale, "[min, max]") from None
    if not hi > lo:
        raise _cfg_error(f"scales.{survey_type}", scale, "[min, max] with max > min")
    return lo, hi


def _csat_cfg(ctx: Context) -> tuple[str, float]:
    c = _survey_cfg(ctx).get("csat") or {}
    method = str(c.get("method", "top_box")).lower()
    if method not in ("top_box", "mean"):
        raise _cfg_error("csat.method", c.get("method"), "top_box or mean")
    return method, float(c.get("satisfied_min", 4))


def _ces_cfg(ctx: Context) -> tuple[str, bool, float]:
    c = _survey_cfg(ctx).get("ces") or {}
    method = str(c.get("method", "mean")).lower()
    if method not in ("mean", "pct_agree"):
        raise _cfg_error("ces.method", c.get("method"), "mean or pct_agree")
    return method, bool(c.get("higher_is_better", True)), float(c.get("agree_min", 5))


# ---------------------------------------------------------------- frames


def _surveys(ctx: Context) -> pd.DataFrame:
    df = ctx.frame("surveys")
    return df if df is not None else pd.DataFrame({"score": [], "submitted_at": []})


def responses(ctx: Context, survey_type: str | None = None, *, ratings: bool = False) -> pd.DataFrame:
    """Rows with a score submitted on a day of the window (optionally one type).

    `ratings=True` also keeps good/bad text ratings (column `rating`, score NaN):
    only CSAT's top box and the response rate can use an answer without a number.
    """
    key = f"surveys.responses:{ctx.window.start}:{ctx.window.end}:{ratings}"

    def build() -> pd.DataFrame:
        df = _surveys(ctx)
        if "submitted_at" not in df.columns or "score" not in df.columns:
            return df.iloc[0:0]
        answered = df["score"].notna()
        if ratings and "rating" in df.columns:
            answered |= df["rating"].notna()
        mask = ctx.window.contains(df["submitted_at"]) & answered
        return df.loc[mask.to_numpy()]

    r = ctx.cached(key, build)
    if survey_type is None:
        return r
    tkey = f"{key}:{survey_type}"
    return ctx.cached(tkey, lambda: r.loc[_type_mask(r, survey_type)])


def _type_mask(df: pd.DataFrame, survey_type: str) -> np.ndarray:
    if "survey_type" not in df.columns:  # R10: no type information means nps
        return np.full(len(df), survey_type == "nps")
    return (df["survey_type"] == survey_type).fillna(False).to_numpy(bool)


def _none(kind: str) -> str:
    return f"no {kind} responses submitted in the window"


# ---------------------------------------------------------------- NPS


def nps_counts(scores: pd.Series) -> tuple[int, int, int]:
    """(promoters 9–10, passives 7–8, detractors 0–6) of 0–10 scores."""
    s = scores.to_numpy("float64")
    prom = int((s >= PROMOTER_MIN).sum())
    det = int((s <= DETRACTOR_MAX).sum())
    return prom, len(s) - prom - det, det


def nps_margin_of_error(p: float, d: float, n: int) -> float:
    """95% margin of error of an NPS, in NPS points: 1.96 × 100 × √((p + d − (p − d)²)/N)."""
    return 1.96 * 100.0 * math.sqrt(max(p + d - (p - d) ** 2, 0.0) / n)


@kpi(
    "nps",
    label="Net Promoter Score",
    category="surveys",
    unit="nps",
    better="higher",
    description="100 × (promoters 9–10 − detractors 0–6) / NPS responses submitted in W; "
    "extra holds the three counts and the 95% margin of error",
    needs=("surveys.score", "surveys.submitted_at"),
)
def nps(ctx: Context) -> Result:
    r = responses(ctx, "nps")
    n = len(r)
    if n == 0:
        return Result.unavailable(_none("NPS"), n=0)
    prom, pas, det = nps_counts(r["score"])
    p, d = prom / n, det / n
    return Result(
        100.0 * (p - d),
        n=n,
        extra={
            "promoters": prom,
            "passives": pas,
            "detractors": det,
            "margin_of_error": nps_margin_of_error(p, d, n),
        },
    )


# ---------------------------------------------------------------- CSAT


@kpi(
    "csat",
    label="Customer satisfaction (CSAT)",
    category="surveys",
    unit="ratio",
    better="higher",
    description="CSAT responses submitted in W: share with score ≥ surveys.csat.satisfied_min "
    "(method top_box, default ≥ 4 on 1–5), or the mean score (method mean)",
    needs=("surveys.score", "surveys.submitted_at"),
)
def csat(ctx: Context) -> Result:
    method, sat_min = _csat_cfg(ctx)
    # unit in every result (also unavailable ones) so W and P print alike
    extra: dict[str, Any] = {"method": method, "unit": "score" if method == "mean" else "ratio"}
    r = responses(ctx, "csat", ratings=method == "top_box")
    n = len(r)
    if n == 0:
        return Result(None, 0, _none("CSAT"), extra)
    scores = r["score"].to_numpy("float64")
    if method == "mean":
        return Result(float(scores.mean()), n=n, extra=extra)
    satisfied = int(_satisfied(r, sat_min).sum())
    extra.update(satisfied=satisfied, rated=n, satisfied_min=sat_min)
    return Result(satisfied / n, n=n, extra=extra)


def _satisfied(r: pd.DataFrame, sat_min: float) -> np.ndarray:
    """Top box: score ≥ satisfied_min, or a `good` text rating (SPEC §3 csat)."""
    sat = r["score"].to_numpy("float64") >= sat_min
    if "rating" in r.columns:
        sat = sat | (r["rating"] == "good").fillna(False).to_numpy(bool)
    return sat


# ---------------------------------------------------------------- CES


@kpi(
    "ces",
    label="Customer effort score (CES)",
    category="surveys",
    unit="score",
    better="higher",
    description="CES responses submitted in W: mean score (default, 1–7, higher = easier) or, "
    "with method pct_agree, the share ≥ surveys.ces.agree_min; direction from "
    "surveys.ces.higher_is_better",
    needs=("surveys.score", "surveys.submitted_at"),
)
def ces(ctx: Context) -> Result:
    method, higher, agree_min = _ces_cfg(ctx)
    extra: dict[str, Any] = {
        "method": method,
        "unit": "score" if method == "mean" else "ratio",
        "better": "higher" if higher else "lower",
    }
    r = responses(ctx, "ces")
    n = len(r)
    if n == 0:
        return Result(None, 0, _none("CES"), extra)
    scores = r["score"].to_numpy("float64")
    if method == "mean":
        return Result(float(scores.mean()), n=n, extra=extra)
    agree = int((scores >= agree_min).sum())
    extra.update(agree=agree, agree_min=agree_min)
    return Result(agree / n, n=n, extra=extra)


# ---------------------------------------------------------------- response rate


@kpi(
    "survey_response_rate",
    label="Survey response rate",
    category="surveys",
    unit="ratio",
    better="higher",
    description="surveys sent in W (all types) that were answered, whenever, / surveys sent in W (R29)",
    needs=("surveys.sent_at",),
)
def survey_response_rate(ctx: Context) -> Result:
    df = _surveys(ctx)
    sent = ctx.window.contains(df["sent_at"]).to_numpy(bool)
    whole = ctx.bundle.frame("surveys")  # "no sent data" is about the dataset, not a --by group
    whole = df if whole is None or "sent_at" not in whole.columns else whole
    if not whole["sent_at"].notna().any():
        return Result.unavailable("no survey has a sent date")
    if not sent.any():
        return Result.unavailable("no surveys sent in the window", n=0)
    s = df.loc[sent]
    if "score" in s.columns and "submitted_at" in s.columns:
        scored = s["score"].notna()
        if "rating" in s.columns:  # a good/bad rating answers the survey too
            scored |= s["rating"].notna()
        answered = (scored & s["submitted_at"].notna()).to_numpy(bool)
    else:
        answered = np.zeros(len(s), dtype=bool)
    if "response_id" in s.columns:
        # A wide survey row becomes one row per type with the same response id
        # (R10); the invitation is one survey, answered if any of its rows is.
        has_id = s["response_id"].notna().to_numpy(bool)
        keyed = pd.DataFrame(
            {
                "rid": s["response_id"].to_numpy()[has_id],
                "sent": s["sent_at"].to_numpy()[has_id],
                "ans": answered[has_id],
            }
        )
        g = keyed.groupby(["rid", "sent"], sort=False)["ans"].max()
        n_sent = len(g) + int((~has_id).sum())
        n_ans = int(g.sum()) + int(answered[~has_id].sum())
    else:
        n_sent, n_ans = len(s), int(answered.sum())
    return Result(n_ans / n_sent, n=n_sent, extra={"sent": n_sent, "answered": n_ans})


# ---------------------------------------------------------------- other types


def _slug(survey_type: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", str(survey_type).lower()).strip("_") or "unnamed"


def _type_mean(survey_type: str):
    def compute(ctx: Context) -> Result:
        r = responses(ctx, survey_type)
        if len(r) == 0:
            return Result.unavailable(_none(f"'{survey_type}'"), n=0)
        extra: dict[str, Any] = {"survey_type": survey_type}
        scale = type_scale(ctx.config, survey_type)
        if scale is not None:
            extra["scale"] = list(scale)
        return Result(float(r["score"].to_numpy("float64").mean()), n=len(r), extra=extra)

    return compute


def other_survey_types(bundle) -> list[str]:
    """Survey types with at least one score in the data, other than nps/csat/ces."""
    df = bundle.frame("surveys") if bundle is not None else None
    if df is None or "survey_type" not in df.columns or "score" not in df.columns:
        return []
    types = df.loc[df["score"].notna(), "survey_type"].dropna().unique()
    return sorted(str(t) for t in types if str(t) not in BUILTIN_TYPES)


family_doc(
    "survey_<type>_avg",
    label="Survey <type>: mean score",
    category="surveys",
    unit="score",
    better="higher",
    description="Mean score of each other survey type present (e.g. training ratings), "
    "responses submitted in the window.",
)


@kpi_family
def survey_type_kpis(bundle, config: dict[str, Any]) -> list[KPI]:
    """R35: `survey_<t>_avg`, the mean score of every other survey type present."""
    out: list[KPI] = []
    seen: set[str] = set()
    for t in other_survey_types(bundle):
        kid = f"survey_{_slug(t)}_avg"
        if kid in seen:  # two type names with one slug ('a-b', 'a b'): number the later one
            kid = f"survey_{_slug(t)}_{len(out) + 1}_avg"
        seen.add(kid)
        out.append(
            KPI(
                id=kid,
                label=f"Survey '{t}': mean score",
                category="surveys",
                unit="score",
                better="higher",
                description=f"mean score of '{t}' responses submitted in W",
                needs=("surveys.score", "surveys.submitted_at"),
                compute=_type_mean(t),
                order=10_000 + len(out),
            )
        )
    return out


# ---------------------------------------------------------------- CXI


def _to_100(mean: float, lo: float, hi: float, higher_is_better: bool = True) -> float:
    x = (mean - lo) / (hi - lo) * 100.0
    return x if higher_is_better else 100.0 - x


@kpi(
    "cxi",
    label="Customer experience index (CXI)",
    category="surveys",
    unit="score",
    better="higher",
    description="weighted mean on 0–100 of the survey types in surveys.cxi, each type's mean "
    "rescaled from its scale; types without responses in W are left out and the other "
    "weights scaled up",
    needs=("surveys.score", "surveys.submitted_at"),
)
def cxi(ctx: Context) -> Result:
    weights = _survey_cfg(ctx).get("cxi") or {}
    if not isinstance(weights, dict):
        raise _cfg_error("cxi", weights, "a mapping survey type → weight")
    if not weights:
        return Result.unavailable("surveys.cxi names no survey type", n=0)
    _, ces_higher, _ = _ces_cfg(ctx)
    parts: dict[str, dict[str, float]] = {}
    left_out: dict[str, str] = {}
    for t, w in weights.items():
        t = str(t).lower()
        try:
            w = float(w)
        except (TypeError, ValueError):
            raise _cfg_error(f"cxi.{t}", w, "a number ≥ 0") from None
        if not w >= 0:
            raise _cfg_error(f"cxi.{t}", w, "a number ≥ 0")
        if w == 0:
            continue
        r = responses(ctx, t)
        if len(r) == 0:
            left_out[t] = "no responses in the window"
            continue
        scale = type_scale(ctx.config, t)
        if scale is None:
            left_out[t] = f"no scale configured (surveys.scales.{t})"
            continue
        mean = float(r["score"].to_numpy("float64").mean())
        higher = ces_higher if t == "ces" else True
        parts[t] = {"mean": mean, "score": _to_100(mean, *scale, higher), "weight": w, "n": len(r)}
    if not parts:
        reason = "no survey type of surveys.cxi has responses in the window"
        return Result(None, 0, reason, extra={"left_out": left_out})
    total_w = sum(p["weight"] for p in parts.values())
    for p in parts.values():
        p["effective_weight"] = p["weight"] / total_w
    value = sum(p["score"] * p["effective_weight"] for p in parts.values())
    n = int(sum(p["n"] for p in parts.values()))
    return Result(value, n=n, extra={"components": parts, "left_out": left_out})


# ---------------------------------------------------------------- per account


def _linked(r: pd.DataFrame) -> pd.DataFrame:
    if "account_id" not in r.columns:
        return r.iloc[0:0].assign(account_id=pd.Series([], dtype="str"))
    return r.loc[r["account_id"].notna().to_numpy(bool)]


def _per_account_counts(ctx: Context, survey_type: str) -> pd.DataFrame:
    """Per account: responses, promoters, detractors of one type in the window."""
    r = _linked(responses(ctx, survey_type))
    s = r["score"].astype("float64")
    g = pd.DataFrame(
        {"n": 1.0, "prom": (s >= PROMOTER_MIN) * 1.0, "det": (s <= DETRACTOR_MAX) * 1.0},
        index=r.index,
    )
    return g.groupby(r["account_id"], sort=False).sum()


@account_metric(
    "nps",
    description="the account's NPS (−100…100) over its NPS responses submitted in W; missing without responses",
    unit="nps",
    better="higher",
    needs=("surveys.score", "surveys.submitted_at"),
)
def account_nps(ctx: Context) -> pd.Series:
    g = _per_account_counts(ctx, "nps")
    idx = account_index(ctx, _surveys(ctx))
    return on_accounts(100.0 * (g["prom"] - g["det"]) / g["n"], idx)


@account_metric(
    "nps_responses",
    description="NPS responses submitted in W by the account's respondents",
    unit="count",
    better="none",
    needs=("surveys.score", "surveys.submitted_at"),
)
def account_nps_responses(ctx: Context) -> pd.Series:
    g = _per_account_counts(ctx, "nps")
    return on_accounts(g["n"], account_index(ctx, _surveys(ctx)), fill=0.0)


@account_metric(
    "csat",
    description="the account's CSAT in W, by the company KPI's method (share satisfied, or mean score)",
    unit="ratio",
    better="higher",
    needs=("surveys.score", "surveys.submitted_at"),
)
def account_csat(ctx: Context) -> pd.Series:
    method, sat_min = _csat_cfg(ctx)
    r = _linked(responses(ctx, "csat", ratings=method == "top_box"))
    s = r["score"].astype("float64")
    vals = s if method == "mean" else pd.Series(_satisfied(r, sat_min) * 1.0, index=r.index)
    per = vals.groupby(r["account_id"], sort=False).mean()
    return on_accounts(per, account_index(ctx, _surveys(ctx)))


@account_metric(
    "survey_score_avg",
    description="mean of all the account's survey responses in W, each rescaled from its type's "
    "scale to 0–100 (types without a configured scale left out)",
    unit="score",
    better="higher",
    needs=("surveys.score", "surveys.submitted_at"),
)
def account_survey_score_avg(ctx: Context) -> pd.Series:
    r = _linked(responses(ctx))
    idx = account_index(ctx, _surveys(ctx))
    if len(r) == 0:
        return on_accounts(pd.Series(dtype="float64"), idx)
    types = r["survey_type"] if "survey_type" in r.columns else pd.Series("nps", index=r.index)
    _, ces_higher, _ = _ces_cfg(ctx)
    lo = pd.Series(np.nan, index=r.index)
    hi = pd.Series(np.nan, index=r.index)
    flip = pd.Series(False, index=r.index)
    for t in types.dropna().unique():  # a handful of types, not rows
        scale = type_scale(ctx.config, str(t))
        if scale is None:
            continue
        m = (types == t).fillna(False)
        lo = lo.mask(m, scale[0])
        hi = hi.mask(m, scale[1])
        if t == "ces" and not ces_higher:
            flip = flip.mask(m, True)
    x = (r["score"].astype("float64") - lo) / (hi - lo) * 100.0
    x = x.mask(flip, 100.0 - x)
    per = x.groupby(r["account_id"], sort=False).mean()
    return on_accounts(per, idx)


@account_metric(
    "last_nps_score",
    description="the account's most recent NPS score (0–10) submitted on or before R, any time "
    "(mean of responses tied at that moment); missing when it never answered",
    unit="score",
    better="higher",
    needs=("surveys.score", "surveys.submitted_at"),
    windowed=False,
)
def last_nps_score(ctx: Context) -> pd.Series:
    df = _surveys(ctx)
    idx = account_index(ctx, df)
    if len(df) == 0 or "account_id" not in df.columns:
        return on_accounts(pd.Series(dtype="float64"), idx)
    m = (
        (df["submitted_at"] < ctx.window.end_exclusive)
        & df["score"].notna()
        & df["account_id"].notna()
    )
    d = df.loc[m.to_numpy(bool) & _type_mask(df, "nps"), ["account_id", "submitted_at", "score"]]
    latest = d.groupby("account_id", sort=False)["submitted_at"].transform("max")
    tied = d.loc[(d["submitted_at"] == latest).to_numpy(bool)]
    per = tied["score"].astype("float64").groupby(tied["account_id"], sort=False).mean()
    return on_accounts(per, idx)
