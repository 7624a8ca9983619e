"""YAML config → validated dict merged over the built-in defaults.

Validation runs in three phases and reports every problem of a phase at once
(each an `Issue` with the key path and the line in the user's file):

1. syntax: YAML errors with line and column; duplicate keys;
2. structure: every section against the schema declared below (unknown keys
   list the valid ones, wrong types say what was expected);
3. semantics: on the merged config — metric names exist (did-you-mean),
   weights non-negative and not all zero, thresholds and bands ordered,
   currency rates positive, survey scales, business hours, SLA targets.

`load_config` raises `ConfigError` (exit 2) when any error-level issue is
found; `check_config` returns the issues for `csm config check`.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from cs_metrics.errors import ConfigError, Issue, did_you_mean

Path_ = tuple[Any, ...]  # key path: ("health", "groups", "adoption", "weight") or with list indices


# ---------------------------------------------------------------------------
# key paths and line numbers


def key_str(path: Path_) -> str:
    """("health", "bands", 1, "min") → "health.bands[1].min"."""
    out = ""
    for p in path:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out


class _LineMap:
    """Key path → 1-based line in one YAML file (from yaml.compose marks)."""

    def __init__(self, file: str | None = None) -> None:
        self.file = file
        self.lines: dict[Path_, int] = {}

    def line(self, path: Path_) -> int | None:
        """Line of `path`, or of its closest ancestor that is in the file."""
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return self.lines.get((), None)

    def has(self, path: Path_) -> bool:
        return tuple(path) in self.lines


def _walk_nodes(node: yaml.Node, path: Path_, lines: _LineMap, issues: list[Issue]) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for knode, vnode in node.value:
            key = knode.value
            if key in seen:
                issues.append(
                    Issue(
                        "duplicate-key",
                        f"key {key!r} appears twice; only the last one would count",
                        level="error",
                        key=key_str(path + (key,)),
                        line=knode.start_mark.line + 1,
                        file=lines.file,
                    )
                )
            seen.add(key)
            lines.lines[path + (key,)] = knode.start_mark.line + 1
            _walk_nodes(vnode, path + (key,), lines, issues)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines.lines[path + (i,)] = item.start_mark.line + 1
            _walk_nodes(item, path + (i,), lines, issues)


def _parse(text: str, file: str | None) -> tuple[Any, _LineMap, list[Issue]]:
    """Phase 1: YAML → (data, line map, issues). Syntax errors carry line:column."""
    lines = _LineMap(file)
    issues: list[Issue] = []
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        col = f", column {mark.column + 1}" if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e)
        issues.append(
            Issue(
                "yaml-syntax",
                f"YAML syntax error at line {line}{col}: {problem}",
                level="error",
                key="(file)",
                line=line,
                file=file,
            )
        )
        return None, lines, issues
    if node is not None:
        lines.lines[()] = node.start_mark.line + 1
        _walk_nodes(node, (), lines, issues)
    return data, lines, issues


# ---------------------------------------------------------------------------
# phase 2: a small schema language


class S:
    """Base schema node: check(value, path, out) appends issues."""

    expected = "a value"

    def check(self, v: Any, path: Path_, out: list[tuple[str, str, Path_]]) -> None:  # pragma: no cover
        raise NotImplementedError


def _type_name(v: Any) -> str:
    if v is None:
        return "nothing (null)"
    if isinstance(v, bool):
        return f"a boolean ({v})"
    if isinstance(v, (int, float)):
        return f"a number ({v})"
    if isinstance(v, str):
        return f"text ({v!r})"
    if isinstance(v, dict):
        return "a mapping"
    if isinstance(v, list):
        return "a list"
    return type(v).__name__


@dataclass
class Scalar(S):
    kinds: tuple[str, ...]  # "str", "num", "int", "bool", "null", "date"
    choices: tuple[Any, ...] | None = None

    @property
    def expected(self) -> str:  # type: ignore[override]
        if self.choices:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        names = {"str": "text", "num": "a number", "int": "a whole number", "bool": "true or false",
                 "null": "null", "date": "a date (YYYY-MM-DD)"}
        return " or ".join(names[k] for k in self.kinds)

    def check(self, v, path, out):
        ok = False
        for k in self.kinds:
            if k == "null" and v is None or k == "bool" and isinstance(v, bool) or k == "num" and isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) or k == "int" and isinstance(v, int) and not isinstance(v, bool) or k == "str" and isinstance(v, str) or k == "date" and _is_date(v):
                ok = True
        if not ok:
            out.append(("wrong-type", f"expected {self.expected}, found {_type_name(v)}", path))
            return
        if self.choices and v is not None and v not in self.choices:
            hint = did_you_mean(str(v), [str(c) for c in self.choices])
            out.append(("bad-value", f"{v!r} is not valid: expected {self.expected}{hint}", path))


def _is_date(v: Any) -> bool:
    import datetime as dt

    if isinstance(v, dt.date):
        return True
    return isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v) is not None


@dataclass
class Map(S):
    """A mapping with known keys; unknown keys list the valid ones."""

    fields: dict[str, S]
    required: tuple[str, ...] = ()
    nullable: bool = False
    expected = "a mapping"

    def check(self, v, path, out):
        if v is None and self.nullable:
            return
        if not isinstance(v, dict):
            out.append(("wrong-type", f"expected a mapping with keys {', '.join(self.fields)}, found {_type_name(v)}", path))
            return
        for k, val in v.items():
            if k not in self.fields:
                hint = did_you_mean(str(k), list(self.fields))
                out.append(("unknown-key", f"unknown key {k!r}{hint}; valid keys: {', '.join(self.fields)}", path + (str(k),)))
                continue
            self.fields[k].check(val, path + (k,), out)
        for r in self.required:
            if r not in v:
                out.append(("missing-key", f"missing required key {r!r}", path))


@dataclass
class Dict(S):
    """A mapping with free keys (names chosen by the user)."""

    value: S
    key_choices: tuple[str, ...] | None = None
    nullable: bool = False
    expected = "a mapping"

    def check(self, v, path, out):
        if v is None and self.nullable:
            return
        if not isinstance(v, dict):
            out.append(("wrong-type", f"expected a mapping, found {_type_name(v)}", path))
            return
        for k, val in v.items():
            if self.key_choices is not None and k not in self.key_choices:
                hint = did_you_mean(str(k), list(self.key_choices))
                out.append(("unknown-key", f"unknown key {k!r}{hint}; valid keys: {', '.join(self.key_choices)}", path + (str(k),)))
                continue
            self.value.check(val, path + (str(k),), out)


@dataclass
class List(S):
    item: S
    length: int | None = None
    nullable: bool = False
    expected = "a list"

    def check(self, v, path, out):
        if v is None and self.nullable:
            return
        if not isinstance(v, list):
            out.append(("wrong-type", f"expected a list, found {_type_name(v)}", path))
            return
        if self.length is not None and len(v) != self.length:
            out.append(("wrong-type", f"expected a list of {self.length} items, found {len(v)}", path))
            return
        for i, item in enumerate(v):
            self.item.check(item, path + (i,), out)


@dataclass
class Either(S):
    """The first option whose shape matches (by type) checks the value."""

    options: tuple[S, ...]
    expected = "a value"

    def check(self, v, path, out):
        for o in self.options:
            probe: list = []
            o.check(v, path, probe)
            if not any(code == "wrong-type" and p == path for code, _, p in probe):
                out.extend(probe)
                return
        exp = " or ".join(o.expected for o in self.options)
        out.append(("wrong-type", f"expected {exp}, found {_type_name(v)}", path))


@dataclass
class Any_(S):
    expected = "anything"

    def check(self, v, path, out):
        return


NUM = Scalar(("num",))
NUM_OR_NULL = Scalar(("num", "null"))
STR = Scalar(("str",))
BOOL = Scalar(("bool",))
SCALE = List(NUM, length=2)
CATEGORY_KEY = Scalar(("str", "num", "bool"))

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DATASET_NAMES = ("accounts", "tickets", "surveys", "billing", "usage")
RULES = ("linear", "thresholds", "map", "percentile")
AGGREGATES = ("weighted_mean", "min", "max")

# The health schema is shared with cs_metrics.health (profiles reuse GROUP).
MEASURE = Map(
    {
        "label": STR,
        "description": STR,
        "metric": STR,
        "column": STR,
        "window": Scalar(("str", "null")),
        "weight": NUM,
        "rule": Scalar(("str",), RULES),
        "worst": NUM,
        "best": NUM,
        "steps": List(Map({"min": NUM, "score": NUM}, required=("min", "score"))),
        "below": NUM,
        "map": Dict(NUM),
        "default": NUM_OR_NULL,
        "within": Scalar(("str", "null")),
        "better": Scalar(("str",), ("higher", "lower")),
        "missing": Either((Scalar(("str",), ("reweight", "worst")), Map({"score": NUM}, required=("score",)))),
    },
    required=("rule",),
    nullable=True,
)
GROUP = Map(
    {
        "label": STR,
        "description": STR,
        "weight": NUM,
        "aggregate": Scalar(("str",), AGGREGATES),
        "measures": Dict(MEASURE),
    },
    nullable=True,
)
# A profile's groups are merged over the base groups, so nothing is required there.
PARTIAL_GROUP = Map({**GROUP.fields, "measures": Dict(Map(MEASURE.fields, required=(), nullable=True))}, nullable=True)
BAND = Map({"name": STR, "min": NUM, "max": NUM, "color": STR, "label": STR}, required=("name", "min"))
WHEN = Map(
    {"column": STR, "metric": STR, "equals": CATEGORY_KEY, "in": List(CATEGORY_KEY), "min": NUM, "max": NUM}
)
PROFILE = Map(
    {
        "name": STR,
        "when": WHEN,
        "weights": Dict(NUM),
        "groups": Dict(PARTIAL_GROUP),
        "bands": List(BAND),
        "min_coverage": NUM,
    },
    required=("name", "when"),
)
HEALTH = Map(
    {
        "min_coverage": NUM,
        "groups": Dict(GROUP),
        "bands": List(BAND),
        "profiles": List(PROFILE, nullable=True),
        "overrides": Map(
            {
                "file": Scalar(("str", "null")),
                "columns": Map({"band": STR, "score": STR, "reason": STR, "expires": STR}, nullable=True),
            },
            nullable=True,
        ),
        "drivers": Scalar(("int",)),
    }
)

SCHEMA = Map(
    {
        "currency": Map({"base": STR, "rates": Dict(NUM, nullable=True)}),
        "dates": Map({"dayfirst": Scalar(("bool", "null"))}),
        "columns": Dict(Dict(STR, nullable=True), key_choices=DATASET_NAMES, nullable=True),
        "finance": Map(
            {
                "gross_margin": NUM_OR_NULL,
                "support_cost_per_month": NUM_OR_NULL,
                "acquisition_spend_per_month": NUM_OR_NULL,
                "max_lifetime_months": NUM_OR_NULL,
            }
        ),
        "surveys": Map(
            {
                "nps": Map({"scale": SCALE}),
                "csat": Map({"method": Scalar(("str",), ("top_box", "mean")), "scale": SCALE, "satisfied_min": NUM}),
                "ces": Map(
                    {
                        "method": Scalar(("str",), ("mean", "pct_agree")),
                        "scale": SCALE,
                        "higher_is_better": BOOL,
                        "agree_min": NUM,
                    }
                ),
                "scales": Dict(SCALE, nullable=True),
                "cxi": Dict(NUM, nullable=True),
            }
        ),
        "support": Map(
            {
                "urgent_priorities": List(Scalar(("str",))),
                # day names, overnight spans and lists of spans are checked by the
                # business-hours parser itself (phase 3), so the rules live in one place
                "business_hours": Map(
                    {"timezone": STR, "hours": Dict(Any_()), "holidays": List(Any_(), nullable=True)},
                    required=("hours",),
                    nullable=True,
                ),
                "sla": Dict(
                    Map({"first_response_hours": NUM_OR_NULL, "resolution_hours": NUM_OR_NULL}), nullable=True
                ),
            }
        ),
        "health": HEALTH,
    }
)


def _where(p: Path_, lines: _LineMap, default_lines: _LineMap | None) -> tuple[str | None, int | None]:
    """(file, line) of a key path: the user's file when the key is there, else the defaults."""
    if lines.has(p) or default_lines is None or not default_lines.has(p):
        return lines.file, (lines.line(p) if lines.lines else None)
    return default_lines.file, default_lines.line(p)


def _structure_issues(data: Any, lines: _LineMap, default_lines: _LineMap | None = None) -> list[Issue]:
    """Phase 2, on the merged config (required keys may come from the defaults)."""
    found: list[tuple[str, str, Path_]] = []
    SCHEMA.check(data, (), found)
    out = []
    for code, msg, p in found:
        file, line = _where(p, lines, default_lines)
        out.append(Issue(code, msg, level="error", key=key_str(p) or "(top level)", line=line, file=file))
    return out


# ---------------------------------------------------------------------------
# phase 3: semantics (on the merged config)

SemanticCheck = Callable[[dict[str, Any]], list[tuple[str, str, Path_, str]]]

KNOWN_PRIORITIES = ("urgent", "high", "normal", "medium", "low", "p1", "p2", "p3", "p4", "default")


def _general_semantics(cfg: dict[str, Any]) -> list[tuple[str, str, Path_, str]]:
    """(code, message, path, level) for the non-health sections."""
    out: list[tuple[str, str, Path_, str]] = []
    cur = cfg.get("currency") or {}
    for code, rate in (cur.get("rates") or {}).items():
        if isinstance(rate, (int, float)) and not isinstance(rate, bool) and rate <= 0:
            out.append(("bad-rate", f"rate for {code} must be positive (units of base per 1 {code}), found {rate}",
                        ("currency", "rates", str(code)), "error"))
    fin = cfg.get("finance") or {}
    gm = fin.get("gross_margin")
    if _num(gm) and not 0 <= gm <= 1:
        out.append(("bad-value", f"gross_margin is a fraction between 0 and 1 (e.g. 0.8), found {gm}",
                    ("finance", "gross_margin"), "error"))
    for k in ("support_cost_per_month", "acquisition_spend_per_month"):
        if _num(fin.get(k)) and fin[k] < 0:
            out.append(("bad-value", f"{k} cannot be negative, found {fin[k]}", ("finance", k), "error"))
    if _num(fin.get("max_lifetime_months")) and fin["max_lifetime_months"] <= 0:
        out.append(("bad-value", "max_lifetime_months must be positive", ("finance", "max_lifetime_months"), "error"))
    sv = cfg.get("surveys") or {}
    scales: list[tuple[Path_, Any]] = []
    for t in ("nps", "csat", "ces"):
        if isinstance(sv.get(t), dict) and "scale" in sv[t]:
            scales.append((("surveys", t, "scale"), sv[t]["scale"]))
    for t, sc in (sv.get("scales") or {}).items():
        scales.append((("surveys", "scales", str(t)), sc))
    for p, sc in scales:
        if isinstance(sc, list) and len(sc) == 2 and all(_num(x) for x in sc) and sc[0] >= sc[1]:
            out.append(("bad-scale", f"scale [min, max] needs min < max, found {sc}", p, "error"))
    for t, key in (("csat", "satisfied_min"), ("ces", "agree_min")):
        d = sv.get(t) if isinstance(sv.get(t), dict) else {}
        sc, v = d.get("scale"), d.get(key)
        if _num(v) and isinstance(sc, list) and len(sc) == 2 and all(_num(x) for x in sc) and not sc[0] <= v <= sc[1]:
            out.append(("bad-value", f"{key} {v} is outside the scale {sc}", ("surveys", t, key), "error"))
    for t, w in (sv.get("cxi") or {}).items():
        if _num(w) and w < 0:
            out.append(("bad-weight", f"weight cannot be negative, found {w}", ("surveys", "cxi", str(t)), "error"))
    cxi = sv.get("cxi") or {}
    if cxi and all(_num(w) for w in cxi.values()) and sum(cxi.values()) == 0:
        out.append(("weights-all-zero", "all cxi weights are 0: at least one must be positive", ("surveys", "cxi"), "error"))
    out.extend(_columns_semantics(cfg.get("columns") or {}))
    sup = cfg.get("support") or {}
    bh = sup.get("business_hours")
    if isinstance(bh, dict):
        out.extend(_business_hours_semantics(bh))
    sla = sup.get("sla")
    if isinstance(sla, dict):
        for prio, targets in sla.items():
            if not isinstance(prio, str) or prio != prio.strip().lower() or not prio:
                out.append(("bad-priority", f"priority keys are lower-case names (priorities are lower-cased on load), found {prio!r}",
                            ("support", "sla", str(prio)), "error"))
            elif prio not in KNOWN_PRIORITIES:
                out.append(("unknown-priority", f"priority {prio!r} is not a usual one ({', '.join(KNOWN_PRIORITIES)}); "
                            "it only matches tickets with exactly that priority", ("support", "sla", str(prio)), "warning"))
            for k, v in (targets or {}).items() if isinstance(targets, dict) else ():
                if _num(v) and v <= 0:
                    out.append(("bad-value", f"{k} target must be positive hours, found {v}", ("support", "sla", str(prio), k), "error"))
    return out


def parse_key(key: str) -> Path_:
    """"support.business_hours.hours.mon[0]" → ("support", "business_hours", "hours", "mon", 0)."""
    return tuple(int(i) if i else name for name, i in re.findall(r"([^.\[\]]+)|\[(\d+)\]", key))


def _business_hours_semantics(bh: dict[str, Any]) -> list[tuple[str, str, Path_, str]]:
    """Validate by building the calendar the support metrics use (one set of rules)."""
    try:
        from cs_metrics.metrics.business_hours import BusinessCalendar
    except ImportError:  # pragma: no cover - module ships with the package
        return []
    try:
        BusinessCalendar.from_config(bh)
    except ConfigError as e:
        return [(i.code, i.message, parse_key(i.key or "support.business_hours"), "error") for i in e.issues]
    return []


def _columns_semantics(columns: dict[str, Any]) -> list[tuple[str, str, Path_, str]]:
    """Canonical names in `columns:` must exist (the loader rejects the others too)."""
    from cs_metrics.schemas import SCHEMAS

    out: list[tuple[str, str, Path_, str]] = []
    for ds, mapping in columns.items():
        if ds not in SCHEMAS or not isinstance(mapping, dict):
            continue
        valid = [c.name for c in SCHEMAS[ds].columns]
        for canon in mapping:
            if canon not in valid:
                hint = did_you_mean(str(canon), valid)
                out.append(("unknown-column", f"{canon!r} is not a canonical {ds} column{hint}; valid: {', '.join(valid)}"
                            + (" (other accounts columns are kept under their own header: no mapping needed)"
                               if ds == "accounts" else ""),
                            ("columns", ds, str(canon)), "error"))
    return out


def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _semantic_issues(cfg: dict[str, Any], lines: _LineMap, default_lines: _LineMap | None) -> list[Issue]:
    from cs_metrics.health.model import health_semantics

    found = _general_semantics(cfg)
    health = cfg.get("health")
    if isinstance(health, dict):
        try:
            found += health_semantics(health)
        except (TypeError, AttributeError, KeyError, ValueError):
            pass  # shapes too broken to reason about: the structure issues already say why
    out: list[Issue] = []
    seen: set[tuple[str, str]] = set()
    for code, msg, p, level in found:
        if (key_str(p), msg) in seen:
            continue
        seen.add((key_str(p), msg))
        file, line = _where(p, lines, default_lines)
        out.append(Issue(code, msg, level=level, key=key_str(p), line=line, file=file))
    return out


# ---------------------------------------------------------------------------
# public API


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _default_text() -> str:
    return resources.files("cs_metrics").joinpath("data/default.yaml").read_text("utf-8")


def default_config() -> dict[str, Any]:
    """The built-in defaults (cs_metrics/data/default.yaml), unvalidated."""
    return yaml.safe_load(_default_text())


def _check(path: str | Path | None) -> tuple[dict[str, Any] | None, list[Issue]]:
    _, dlines, _ = _parse(_default_text(), "default.yaml")
    base = default_config()
    if path is None:
        issues = _structure_issues(base, dlines) + _semantic_issues(base, dlines, None)
        return base, issues
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as e:
        return None, [Issue("config-unreadable", f"cannot read config file: {e.strerror or e}", level="error",
                            key="(file)", file=str(path))]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        return None, [Issue("config-encoding", f"config file is not UTF-8 (byte {e.start})", level="error",
                            key="(file)", file=str(path))]
    data, lines, issues = _parse(text, p.name)
    if data is None and not issues:
        data = {}
    if issues and data is None:
        return None, issues
    if not isinstance(data, dict):
        return None, issues + [Issue("wrong-type", f"a config file is a mapping of sections, found {_type_name(data)}",
                                     level="error", key="(top level)", line=1, file=p.name)]
    merged = _deep_merge(base, data)
    structural = _structure_issues(merged, lines, dlines)
    issues += structural
    # Semantics only on sections whose structure is sound (they assume the shapes).
    # General sections with structure errors skip their semantics (they assume the
    # shapes); the health checks are defensive, so its problems are all reported now.
    broken = {i.key.split(".")[0].split("[")[0] for i in structural} - {"health"}
    sound = {k: v for k, v in merged.items() if k not in broken}
    issues += _semantic_issues(sound, lines, dlines)
    return (None if any(i.level == "error" for i in issues) else merged), issues


def check_config(path: str | Path | None) -> list[Issue]:
    """Every problem of `path` (all three phases), without raising. For `csm config check`."""
    return _check(path)[1]


def load_config(path: str | Path | None = None) -> dict[str, Any]:
    """The user's config laid over the defaults; ConfigError (exit 2) listing every error."""
    cfg, issues = _check(path)
    errors = [i for i in issues if i.level == "error"]
    if errors or cfg is None:
        n = len(errors)
        raise ConfigError(f"{path or 'default config'}: {n} config error{'s' if n != 1 else ''}", issues)
    _resolve_relative_paths(cfg, path)
    return cfg


def _resolve_relative_paths(cfg: dict[str, Any], path: str | Path | None) -> None:
    """File paths inside a config are relative to the config file, not to the working dir."""
    if path is None:
        return
    ov = (cfg.get("health") or {}).get("overrides") or {}
    f = ov.get("file")
    if isinstance(f, str) and f and not Path(f).is_absolute():
        ov["file"] = str(Path(path).parent / f)


def config_hash(config: dict[str, Any]) -> str:
    """First 12 hex chars of sha256 over the canonical JSON of the merged config."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
