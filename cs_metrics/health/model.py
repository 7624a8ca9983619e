"""The `health:` config section as a typed model, and its semantic checks.

`health_semantics` is phase 3 of config validation for this section (called
by `cs_metrics.config`); `build_model` turns a validated config into a
`HealthModel`: a default `Variant` (groups, bands, min_coverage) and the
profiles, each with its own resolved variant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from cs_metrics.config import _deep_merge, _num
from cs_metrics.errors import ConfigError, Issue
from cs_metrics.errors import did_you_mean as _dym

DEFAULT_MIN_COVERAGE = 0.5
DEFAULT_DRIVERS = 3
DEFAULT_OVERRIDE_COLUMNS = {
    "band": "health_override_band",
    "score": "health_override_score",
    "reason": "health_override_reason",
    "expires": "health_override_expires",
}
WINDOW_RE = re.compile(r"^([1-9]\d*)d$")
RULE_KEYS = {
    "linear": {"worst", "best"},
    "thresholds": {"steps", "below"},
    "map": {"map", "default"},
    "percentile": {"within", "better"},
}
COMMON_KEYS = {"label", "description", "metric", "column", "window", "weight", "rule", "missing"}

Found = list[tuple[str, str, tuple[Any, ...], str]]  # (code, message, key path, level)


def known_metrics() -> list[str]:
    """The per-account metrics a measure may name: those the metric modules register."""
    from cs_metrics.metrics import registry

    registry.load_domains()
    return sorted(registry.ACCOUNT_METRICS)


# Ratio metrics that are shares of a whole (0–1 by definition); other ratio
# metrics (utilisation, tickets per seat, MRR change %) may exceed 1 a little.
SHARE_METRICS = frozenset({"csat", "ticket_csat", "goals_met_ratio", "late_payment_rate"})
RATIO_LIMIT_SHARE = 1.0
RATIO_LIMIT_OTHER = 5.0  # 500%: beyond this a ratio bound is almost surely a percent


def ratio_metrics() -> set[str]:
    """Registered per-account metrics whose values are fractions (unit `ratio`, 0.8 = 80%)."""
    try:
        from cs_metrics.metrics import registry

        registry.load_domains()
        return {n for n, m in registry.ACCOUNT_METRICS.items() if m.unit == "ratio"} | set(SHARE_METRICS)
    except Exception:  # noqa: BLE001
        return set(SHARE_METRICS)


def snapshot_metrics() -> set[str]:
    """Registered metrics that do not depend on the window (a `window:` has no effect)."""
    try:
        from cs_metrics.metrics import registry

        registry.load_domains()
        return {n for n, m in registry.ACCOUNT_METRICS.items() if not m.windowed}
    except Exception:  # noqa: BLE001
        return set()


# ---------------------------------------------------------------------------
# model


@dataclass(frozen=True)
class Measure:
    """One scored input. Exactly one of `metric` / `column` is set."""

    id: str
    group: str
    label: str
    weight: float
    rule: str
    metric: str | None = None
    column: str | None = None
    window: str | None = None  # "90d", None = the report window
    worst: float | None = None
    best: float | None = None
    steps: tuple[tuple[float, float], ...] = ()  # (min, score), ascending min
    below: float | None = None
    mapping: tuple[tuple[str, float], ...] = ()  # normalised category → score
    default: float | None = None
    within: str | None = None
    better: str = "higher"
    missing: str = "reweight"  # reweight | worst | score
    missing_score: float | None = None

    @property
    def source(self) -> str:
        return self.metric if self.metric is not None else f"column {self.column}"

    def lowest_score(self) -> float:
        """The worst score this rule can give (`missing: worst`): 0 for linear and
        percentile, the lowest step / `below` for thresholds, the lowest mapped / `default` for map."""
        if self.rule == "thresholds" and self.steps:
            return min([b for _, b in self.steps] + ([self.below] if self.below is not None else []))
        if self.rule == "map" and self.mapping:
            return min([b for _, b in self.mapping] + ([self.default] if self.default is not None else []))
        return 0.0

    def rule_key(self) -> tuple:
        """Everything that determines the measure's per-account scores (cache key)."""
        return (self.metric, self.column, self.window, self.rule, self.worst, self.best, self.steps,
                self.below, self.mapping, self.default, self.within, self.better, self.missing,
                self.missing_score)


@dataclass(frozen=True)
class Group:
    id: str
    label: str
    weight: float
    aggregate: str  # weighted_mean | min | max
    measures: tuple[Measure, ...]


@dataclass(frozen=True)
class Band:
    name: str
    min: float
    color: str
    label: str


@dataclass(frozen=True)
class Variant:
    """A fully resolved scoring spec: the default one or a profile's."""

    name: str  # "default" or the profile name
    groups: tuple[Group, ...]
    bands: tuple[Band, ...]  # descending min; the last one has min 0
    min_coverage: float

    @property
    def measures(self) -> tuple[Measure, ...]:
        return tuple(m for g in self.groups for m in g.measures)

    def band_names(self) -> list[str]:
        return [b.name for b in self.bands]


@dataclass(frozen=True)
class Profile:
    name: str
    column: str | None
    metric: str | None
    equals: Any = None
    isin: tuple[Any, ...] | None = None
    min: float | None = None
    max: float | None = None
    variant: Variant | None = None


@dataclass(frozen=True)
class HealthModel:
    """The parsed `health:` section."""

    default: Variant
    profiles: tuple[Profile, ...] = ()
    override_file: str | None = None
    override_columns: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_OVERRIDE_COLUMNS))
    drivers: int = DEFAULT_DRIVERS

    @property
    def groups(self) -> tuple[Group, ...]:
        return self.default.groups

    @property
    def bands(self) -> tuple[Band, ...]:
        return self.default.bands

    @property
    def min_coverage(self) -> float:
        return self.default.min_coverage

    @property
    def variants(self) -> list[Variant]:
        return [self.default] + [p.variant for p in self.profiles if p.variant is not None]


DEFAULT_BANDS = (
    Band("healthy", 70.0, "green", "Healthy"),
    Band("neutral", 40.0, "yellow", "Neutral"),
    Band("at_risk", 0.0, "red", "At risk"),
)


def norm_category(v: Any) -> str:
    """How map keys and category values are compared: 1 == 1.0 == '1', 'Green' == 'green'."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        f = float(v)
        return str(int(f)) if f.is_integer() else repr(f)
    return str(v).strip().casefold()


def _live(d: dict[str, Any] | None) -> dict[str, Any]:
    """Entries set to null delete an inherited group or measure."""
    return {k: v for k, v in (d or {}).items() if v is not None}


def profile_groups(health: dict[str, Any], profile: dict[str, Any]) -> dict[str, Any]:
    """A profile's groups: the base groups, deep-merged with its `groups`, then its `weights`."""
    groups = _deep_merge(health.get("groups") or {}, profile.get("groups") or {})
    for g, w in (profile.get("weights") or {}).items():
        if isinstance(groups.get(g), dict):
            groups[g]["weight"] = w
    return groups


def _measure(gid: str, mid: str, d: dict[str, Any]) -> Measure:
    rule = d["rule"]
    miss = d.get("missing", "reweight")
    missing, missing_score = ("score", float(miss["score"])) if isinstance(miss, dict) else (miss, None)
    steps = tuple(sorted((float(s["min"]), float(s["score"])) for s in d.get("steps") or ()))
    mapping = tuple((norm_category(k), float(v)) for k, v in (d.get("map") or {}).items())
    win = d.get("window")
    return Measure(
        id=mid,
        group=gid,
        label=d.get("label") or mid.replace("_", " "),
        weight=float(d.get("weight", 1)),
        rule=rule,
        metric=d.get("metric"),
        column=d.get("column"),
        window=win.strip().lower() if isinstance(win, str) else None,
        worst=_f(d.get("worst")),
        best=_f(d.get("best")),
        steps=steps,
        below=_f(d.get("below")),
        mapping=mapping,
        default=_f(d.get("default")),
        within=d.get("within"),
        better=d.get("better", "higher"),
        missing=missing,
        missing_score=missing_score,
    )


def _f(v: Any) -> float | None:
    return None if v is None else float(v)


def _variant(name: str, groups: dict[str, Any], bands: list[dict] | None, min_coverage: float) -> Variant:
    gs = []
    for gid, g in _live(groups).items():
        ms = tuple(_measure(gid, mid, m) for mid, m in _live(g.get("measures")).items())
        gs.append(Group(gid, g.get("label") or gid.replace("_", " "), float(g.get("weight", 1)),
                        g.get("aggregate", "weighted_mean"), ms))
    if bands:
        bs = tuple(
            sorted(
                (Band(b["name"], float(b["min"]), b.get("color", "default"), b.get("label") or b["name"]) for b in bands),
                key=lambda b: -b.min,
            )
        )
    else:
        bs = DEFAULT_BANDS
    return Variant(name, tuple(gs), bs, float(min_coverage))


def build_model(config: dict[str, Any]) -> HealthModel:
    """Validated `health:` section → HealthModel. Raises ConfigError on semantic errors."""
    health = config.get("health") if "health" in config else config
    health = health or {}
    errors = [f for f in health_semantics(health) if f[3] == "error"]
    if errors:
        from cs_metrics.config import key_str

        issues = [Issue(c, m, level="error", key=key_str(p)) for c, m, p, _ in errors]
        raise ConfigError(f"health config: {len(issues)} error(s)", issues)
    mc = health.get("min_coverage", DEFAULT_MIN_COVERAGE)
    default = _variant("default", health.get("groups") or {}, health.get("bands"), mc)
    profiles = []
    for p in health.get("profiles") or ():
        when = p["when"]
        v = _variant(
            p["name"],
            profile_groups(health, p),
            p.get("bands") or health.get("bands"),
            p.get("min_coverage", mc),
        )
        profiles.append(
            Profile(
                p["name"],
                when.get("column"),
                when.get("metric"),
                when.get("equals"),
                tuple(when["in"]) if "in" in when else None,
                _f(when.get("min")),
                _f(when.get("max")),
                v,
            )
        )
    ov = health.get("overrides") or {}
    cols = dict(DEFAULT_OVERRIDE_COLUMNS)
    cols.update(ov.get("columns") or {})
    return HealthModel(default, tuple(profiles), ov.get("file"), cols, int(health.get("drivers", DEFAULT_DRIVERS)))


def required_metrics(model: HealthModel) -> list[tuple[str, str | None]]:
    """Distinct (metric, window) pairs the scorer reads, so each window is computed once."""
    pairs = {(m.metric, m.window) for v in model.variants for m in v.measures if m.metric is not None}
    pairs |= {(p.metric, None) for p in model.profiles if p.metric is not None}
    return sorted(pairs, key=lambda t: (t[1] or "", t[0]))


# ---------------------------------------------------------------------------
# phase 3 checks


def _check_score(v: Any, path: tuple, out: Found, what: str = "score") -> None:
    if _num(v) and not 0 <= v <= 100:
        out.append(("bad-score", f"{what} must be between 0 and 100, found {v}", path, "error"))


def _check_measure(m: dict[str, Any], path: tuple, metrics: list[str], out: Found) -> None:
    has_metric, has_column = m.get("metric") is not None, m.get("column") is not None
    if has_metric == has_column:
        out.append(("measure-source", "a measure needs exactly one of 'metric' (a per-account metric) "
                    "or 'column' (an accounts column)", path, "error"))
    if has_metric and isinstance(m["metric"], str) and m["metric"] not in metrics:
        out.append(("unknown-metric", f"unknown metric {m['metric']!r}{_dym(m['metric'], metrics)}; "
                    f"known metrics: {', '.join(metrics)}", path + ("metric",), "error"))
    w = m.get("window")
    if isinstance(w, str):
        if not WINDOW_RE.match(w.strip().lower()):
            out.append(("bad-window", f"window is a number of days like '90d', found {w!r}", path + ("window",), "error"))
        elif has_column:
            out.append(("bad-window", "window applies to metrics only; an accounts column is a snapshot",
                        path + ("window",), "error"))
        elif has_metric and m["metric"] in snapshot_metrics():
            out.append(("window-ignored", f"{m['metric']} is a snapshot on the report date: the window has no effect",
                        path + ("window",), "warning"))
    if _num(m.get("weight")) and m["weight"] < 0:
        out.append(("bad-weight", f"weight cannot be negative, found {m['weight']}", path + ("weight",), "error"))
    rule = m.get("rule")
    if rule not in RULE_KEYS:
        return
    for k in m:
        if k not in COMMON_KEYS and k not in RULE_KEYS[rule]:
            owner = next((r for r, ks in RULE_KEYS.items() if k in ks), None)
            if owner is None:
                continue  # a key of no rule: the structure phase reports it with the valid keys
            out.append(("rule-key", f"{k!r} belongs to rule {owner!r}, not {rule!r}", path + (k,), "error"))
    if rule == "linear":
        for k in ("worst", "best"):
            if k not in m:
                out.append(("missing-key", f"rule linear needs {k!r} (the value scored {0 if k == 'worst' else 100})",
                            path, "error"))
        if _num(m.get("worst")) and _num(m.get("best")) and m["worst"] == m["best"]:
            out.append(("linear-range", f"worst and best are both {m['worst']}: the rule cannot tell good from bad",
                        path + ("best",), "error"))
    elif rule == "thresholds":
        steps = m.get("steps") or []
        if not steps:
            out.append(("missing-key", "rule thresholds needs 'steps': a list of {min, score}", path, "error"))
        mins = [s.get("min") for s in steps if isinstance(s, dict)]
        for i in range(1, len(mins)):
            if _num(mins[i]) and _num(mins[i - 1]) and mins[i] <= mins[i - 1]:
                out.append(("thresholds-order", f"step mins must increase: {mins[i]} comes after {mins[i - 1]}",
                            path + ("steps", i, "min"), "error"))
        for i, s in enumerate(steps):
            if isinstance(s, dict):
                _check_score(s.get("score"), path + ("steps", i, "score"), out)
        _check_score(m.get("below"), path + ("below",), out, "below")
    elif rule == "map":
        mp = m.get("map") or {}
        if not mp:
            out.append(("missing-key", "rule map needs 'map': category → score", path, "error"))
        seen: dict[str, Any] = {}
        for k, v in mp.items():
            _check_score(v, path + ("map", str(k)), out)
            nk = norm_category(k)
            if nk in seen:
                out.append(("duplicate-key", f"categories {seen[nk]!r} and {k!r} are the same once case is ignored",
                            path + ("map", str(k)), "error"))
            seen[nk] = k
        _check_score(m.get("default"), path + ("default",), out, "default")
    miss = m.get("missing")
    if isinstance(miss, dict):
        _check_score(miss.get("score"), path + ("missing", "score"), out, "missing score")
    if has_metric and isinstance(m["metric"], str):
        _check_percent(m, rule, path, out)


def _check_percent(m: dict[str, Any], rule: str, path: tuple, out: Found) -> None:
    """Warn when a bound on a fraction metric looks like a percent (csat worst: 60 for 0.6)."""
    metric = m["metric"]
    if metric not in ratio_metrics():
        return
    limit = RATIO_LIMIT_SHARE if metric in SHARE_METRICS else RATIO_LIMIT_OTHER
    if rule == "linear":
        bounds = [(("worst",), m.get("worst")), (("best",), m.get("best"))]
    elif rule == "thresholds":
        steps = m.get("steps") if isinstance(m.get("steps"), list) else []
        bounds = [(("steps", i, "min"), s.get("min")) for i, s in enumerate(steps) if isinstance(s, dict)]
    else:
        return
    for sub, v in bounds:
        if _num(v) and abs(v) > limit:
            out.append(("percent-not-fraction",
                        f"{metric} is a fraction (0.8 = 80%) but {key_tail(sub)} is {v}: "
                        f"did you mean {v / 100:g}?", path + sub, "warning"))
            return  # one warning per measure is enough


def key_tail(sub: tuple) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else ("." if i else "") + str(p) for i, p in enumerate(sub))


def _check_groups(groups: Any, path: tuple, metrics: list[str], out: Found, weight_path=None) -> None:
    live = _live(groups) if isinstance(groups, dict) else {}
    if not live:
        out.append(("no-groups", "health needs at least one group with measures", path, "error"))
        return
    wpath = weight_path or (lambda g: path + (g, "weight"))
    weights = []
    seen_measures: dict[str, str] = {}
    for gid, g in live.items():
        if not isinstance(g, dict):
            continue
        w = g.get("weight", 1)
        if _num(w):
            weights.append(w)
            if w < 0:
                out.append(("bad-weight", f"weight cannot be negative, found {w}", wpath(gid), "error"))
        ms = _live(g.get("measures"))
        if not ms:
            out.append(("no-measures", f"group {gid!r} has no measures", path + (gid,), "error"))
            continue
        mw = []
        for mid, m in ms.items():
            if not isinstance(m, dict):
                continue
            if mid in seen_measures:
                out.append(("duplicate-measure", f"measure id {mid!r} is also used in group {seen_measures[mid]!r}; "
                            "ids must be unique so drivers can name them", path + (gid, "measures", mid), "error"))
            seen_measures[mid] = gid
            _check_measure(m, path + (gid, "measures", mid), metrics, out)
            if _num(m.get("weight", 1)):
                mw.append(m.get("weight", 1))
        if mw and all(x <= 0 for x in mw) and not any(x < 0 for x in mw):
            out.append(("weights-all-zero", f"all measure weights in group {gid!r} are 0: at least one must be positive",
                        path + (gid, "measures"), "error"))
    if weights and all(w == 0 for w in weights):
        out.append(("weights-all-zero", "all group weights are 0: at least one must be positive", path, "error"))


def _check_bands(bands: Any, path: tuple, out: Found) -> None:
    if not isinstance(bands, list) or not bands:
        out.append(("no-bands", "bands needs at least one band", path, "error"))
        return
    bs = [b for b in bands if isinstance(b, dict) and _num(b.get("min"))]
    names: set[str] = set()
    for i, b in enumerate(bands):
        if not isinstance(b, dict):
            continue
        if b.get("name") in names:
            out.append(("duplicate-band", f"band name {b.get('name')!r} is used twice", path + (i, "name"), "error"))
        names.add(b.get("name"))
        if _num(b.get("min")) and not 0 <= b["min"] <= 100:
            out.append(("bad-score", f"band min must be between 0 and 100, found {b['min']}", path + (i, "min"), "error"))
    if len(bs) != len(bands):
        return
    for i in range(1, len(bands)):
        a, b = bands[i - 1]["min"], bands[i]["min"]
        if b == a:
            out.append(("band-overlap", f"bands {bands[i - 1]['name']!r} and {bands[i]['name']!r} both start at {a}",
                        path + (i, "min"), "error"))
        elif b > a:
            out.append(("band-order", f"bands are listed from the highest min down: {bands[i]['name']!r} (min {b}) "
                        f"comes after {bands[i - 1]['name']!r} (min {a})", path + (i, "min"), "error"))
    lowest = min(b["min"] for b in bands)
    if lowest > 0:
        i = [b["min"] for b in bands].index(lowest)
        out.append(("band-gap", f"no band covers scores below {lowest}: the lowest band needs min 0",
                    path + (i, "min"), "error"))
    # Optional max: must meet the next band up exactly (no gap, no overlap).
    order = sorted(range(len(bands)), key=lambda j: bands[j]["min"])
    for pos, j in enumerate(order):
        mx = bands[j].get("max")
        if not _num(mx):
            continue
        upper = bands[order[pos + 1]]["min"] if pos + 1 < len(order) else 100
        if mx < upper:
            out.append(("band-gap", f"band {bands[j]['name']!r} ends at {mx} but the next band starts at {upper}: "
                        f"scores in between have no band", path + (j, "max"), "error"))
        elif mx > upper and pos + 1 < len(order):
            out.append(("band-overlap", f"band {bands[j]['name']!r} ends at {mx}, past the start of "
                        f"{bands[order[pos + 1]]['name']!r} ({upper})", path + (j, "max"), "error"))
        if mx <= bands[j]["min"]:
            out.append(("band-order", f"band {bands[j]['name']!r}: max {mx} is not above min {bands[j]['min']}",
                        path + (j, "max"), "error"))


def _check_when(when: Any, path: tuple, metrics: list[str], out: Found) -> None:
    if not isinstance(when, dict):
        return
    if (when.get("column") is None) == (when.get("metric") is None):
        out.append(("profile-when", "when needs exactly one of 'column' (an accounts column) or 'metric'", path, "error"))
    m = when.get("metric")
    if isinstance(m, str) and m not in metrics:
        out.append(("unknown-metric", f"unknown metric {m!r}{_dym(m, metrics)}", path + ("metric",), "error"))
    kinds = [k for k in ("equals", "in") if k in when] + (["range"] if ("min" in when or "max" in when) else [])
    if len(kinds) != 1:
        out.append(("profile-when", "when needs exactly one condition: 'equals', 'in', or 'min'/'max'", path, "error"))
    if _num(when.get("min")) and _num(when.get("max")) and when["min"] > when["max"]:
        out.append(("thresholds-order", f"min {when['min']} is above max {when['max']}", path + ("max",), "error"))


def health_semantics(health: dict[str, Any]) -> Found:
    """Phase-3 problems of the `health:` section as (code, message, key path, level)."""
    out: Found = []
    if not isinstance(health, dict):
        return out
    metrics = known_metrics()
    base = ("health",)
    mc = health.get("min_coverage", DEFAULT_MIN_COVERAGE)
    if _num(mc) and not 0 <= mc <= 1:
        out.append(("bad-value", f"min_coverage is a share between 0 and 1, found {mc}", base + ("min_coverage",), "error"))
    _check_groups(health.get("groups"), base + ("groups",), metrics, out)
    if "bands" in health:
        _check_bands(health.get("bands"), base + ("bands",), out)
    d = health.get("drivers")
    if isinstance(d, int) and not isinstance(d, bool) and d < 1:
        out.append(("bad-value", f"drivers must be at least 1, found {d}", base + ("drivers",), "error"))
    base_found = {(c, p[2:]) for c, _, p, _ in out if p[:2] == ("health", "groups")}
    names: set[str] = set()
    group_ids = list(_live(health.get("groups")))
    for i, prof in enumerate(health.get("profiles") or ()):
        if not isinstance(prof, dict):
            continue
        pp = base + ("profiles", i)
        if prof.get("name") in names:
            out.append(("duplicate-profile", f"profile name {prof.get('name')!r} is used twice", pp + ("name",), "error"))
        names.add(prof.get("name"))
        _check_when(prof.get("when"), pp + ("when",), metrics, out)
        for g in prof.get("weights") or {}:
            if g not in group_ids and g not in (prof.get("groups") or {}):
                out.append(("unknown-group", f"unknown group {g!r}{_dym(str(g), group_ids)}; groups: {', '.join(group_ids)}",
                            pp + ("weights", g), "error"))
        if "bands" in prof:
            _check_bands(prof["bands"], pp + ("bands",), out)
        pmc = prof.get("min_coverage")
        if _num(pmc) and not 0 <= pmc <= 1:
            out.append(("bad-value", f"min_coverage is a share between 0 and 1, found {pmc}", pp + ("min_coverage",), "error"))
        # Check the merged groups; report what the profile itself introduced.
        found: Found = []
        weights = prof.get("weights") or {}
        _check_groups(
            profile_groups(health, prof), pp + ("groups",), metrics, found,
            weight_path=lambda g, pp=pp, weights=weights: pp + (("weights", g) if g in weights else ("groups", g, "weight")),
        )
        for code, msg, p, level in found:
            rel = p[len(pp) + 1:] if p[: len(pp) + 1] == pp + ("groups",) else None
            if rel is not None and (code, rel) in base_found and not _touches(prof.get("groups") or {}, rel):
                continue  # inherited from the base groups, already reported there
            out.append((code, f"in profile {prof.get('name')!r}: {msg}", p, level))
    return out


def _touches(over: dict[str, Any], rel: tuple) -> bool:
    """Does the profile's `groups` override set anything at or under `rel`?"""
    cur: Any = over
    for k in rel:
        if not isinstance(cur, dict) or k not in cur:
            return False
        cur = cur[k]
    return True
