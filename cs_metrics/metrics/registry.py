"""Declare each KPI once (metricflow-style): id, label, category, unit, better
direction, the inputs it needs, a definition, and a pure compute function.

Domain modules (revenue, value, surveys, support, adoption) register with the
``@kpi`` decorator; the engine checks ``needs`` before calling, so a KPI whose
inputs are missing is reported as unavailable with the reason, never as an
exception and never as 0. README's metrics table and ``csm kpis --list`` are
generated from ``KPIS``.

Per-account metrics (the inputs of health scores) are declared the same way
with ``@account_metric``; each returns a Series indexed by account_id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    import pandas as pd

    from cs_metrics.bundle import Bundle
    from cs_metrics.timeframe import Window

CATEGORIES = ("revenue", "value", "surveys", "support", "adoption", "health")
UNITS = ("count", "currency", "ratio", "number", "hours", "days", "months", "nps", "score", "minutes")
# ratio = a fraction shown as a percentage; number = a plain quotient (1.5 tickets per account)
BETTER = ("higher", "lower", "none")


@dataclass
class Result:
    """What a compute function returns. value None ⇒ unavailable_reason must say why."""

    value: float | None
    n: int | None = None  # rows or accounts in the denominator
    unavailable_reason: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def unavailable(cls, reason: str, n: int | None = None) -> "Result":
        return cls(None, n, reason)


@dataclass
class Context:
    """Everything a compute function may read.

    `window` is the window being computed (W, or P when computing previous
    values: R14); `R` is its last day. `frames` are the canonical frames,
    possibly filtered to one group of accounts (``--by``). `cache` is shared
    by all KPIs of one computation (e.g. the daily MRR table) and `shared` by
    every window of one run (e.g. normalised billing rows reused by trend).
    """

    bundle: "Bundle"
    config: dict[str, Any]
    window: "Window"
    frames: dict[str, "pd.DataFrame"]
    group_accounts: "pd.Index | None" = None  # account ids of the group, None = all
    cache: dict[str, Any] = field(default_factory=dict)
    shared: dict[str, Any] = field(default_factory=dict)

    @property
    def R(self) -> "pd.Timestamp":  # noqa: N802 - the spec's name
        return self.window.end

    def frame(self, name: str) -> "pd.DataFrame | None":
        return self.frames.get(name)

    def has(self, name: str, column: str | None = None) -> bool:
        df = self.frames.get(name)
        if df is None:
            return False
        return column is None or column in df.columns

    def set_aside(self, dataset: str) -> int:
        return self.bundle.set_aside(dataset)

    def cached(self, key: str, fn: Callable[[], Any]) -> Any:
        if key not in self.cache:
            self.cache[key] = fn()
        return self.cache[key]


@dataclass(frozen=True)
class KPI:
    id: str
    label: str
    category: str
    unit: str
    better: str
    description: str
    # "dataset" or "dataset.column"; "a|b" means either is enough.
    needs: tuple[str, ...]
    compute: Callable[[Context], Result]
    order: int = 0
    # Declared here for the catalogue, computed elsewhere (the health model):
    # the engine skips it.
    external: bool = False

    def missing_inputs(self, ctx: Context) -> str | None:
        """None when every need is met, else a human reason."""
        shown = unmet_need(ctx, self.needs)
        return None if shown is None else f"needs {shown}, which the loaded data does not have"


def unmet_need(ctx: Context, needs: tuple[str, ...]) -> str | None:
    """The first need the data does not meet, shown as 'a or b'; None when all are met.

    A need is "dataset" or "dataset.column"; "a|b" is met by either.
    """
    for need in needs:
        options = need.split("|")
        if not any(ctx.has(ds, col or None) for ds, _, col in (o.partition(".") for o in options)):
            return " or ".join(options)
    return None


KPIS: dict[str, KPI] = {}
_FAMILIES: list[Callable[["Bundle", dict[str, Any]], list[KPI]]] = []


def kpi(
    id: str,
    *,
    label: str,
    category: str,
    unit: str,
    better: str,
    description: str,
    needs: tuple[str, ...] = (),
    external: bool = False,
) -> Callable[[Callable[[Context], Result]], Callable[[Context], Result]]:
    """Register a KPI. Registration order is the display order within a category."""
    assert category in CATEGORIES, category
    assert unit in UNITS, unit
    assert better in BETTER, better

    def deco(fn: Callable[[Context], Result]) -> Callable[[Context], Result]:
        if id in KPIS:
            raise ValueError(f"KPI {id!r} registered twice")
        KPIS[id] = KPI(id, label, category, unit, better, description, tuple(needs), fn, len(KPIS),
                       external)
        return fn

    return deco


def kpi_family(fn: Callable[["Bundle", dict[str, Any]], list[KPI]]) -> Callable:
    """Register a function that declares data-dependent KPIs (e.g. survey_<t>_avg)."""
    _FAMILIES.append(fn)
    return fn


_FAMILY_DOCS: list[KPI] = []


def family_doc(id: str, *, label: str, category: str, unit: str, better: str,
               description: str) -> None:
    """Describe a KPI family in the catalogue (one line for `survey_<type>_avg`)."""
    _FAMILY_DOCS.append(KPI(id, label, category, unit, better, description, (),
                            lambda ctx: Result.unavailable("a family placeholder"),
                            10_000 + len(_FAMILY_DOCS), external=True))


def catalogue() -> list[KPI]:
    """Every KPI a report can hold, for `csm kpis --list` and README's metrics table."""
    out = all_kpis(external=True) + list(_FAMILY_DOCS)
    return sorted(out, key=lambda k: (CATEGORIES.index(k.category), k.order))


def all_kpis(
    bundle: "Bundle | None" = None,
    config: dict[str, Any] | None = None,
    *,
    external: bool = False,
) -> list[KPI]:
    """Static KPIs in declaration order, then data-dependent ones for this bundle.

    `external=True` also lists KPIs computed outside the engine (health), for
    the catalogue.
    """
    load_domains()
    out = sorted(
        (k for k in KPIS.values() if external or not k.external),
        key=lambda k: (CATEGORIES.index(k.category), k.order),
    )
    if bundle is not None:
        for fam in _FAMILIES:
            out.extend(fam(bundle, config or {}))
    return out


@dataclass(frozen=True)
class AccountMetric:
    name: str
    description: str
    unit: str
    better: str
    needs: tuple[str, ...]
    compute: Callable[[Context], "pd.Series"]  # indexed by account_id
    windowed: bool = True  # depends on the window (else a snapshot on R)


ACCOUNT_METRICS: dict[str, AccountMetric] = {}


def account_metric(
    name: str,
    *,
    description: str,
    unit: str,
    better: str,
    needs: tuple[str, ...] = (),
    windowed: bool = True,
) -> Callable:
    """Register a per-account metric (health-score input)."""

    def deco(fn: Callable[[Context], "pd.Series"]) -> Callable[[Context], "pd.Series"]:
        if name in ACCOUNT_METRICS:
            raise ValueError(f"account metric {name!r} registered twice")
        ACCOUNT_METRICS[name] = AccountMetric(name, description, unit, better, tuple(needs), fn, windowed)
        return fn

    return deco


_LOADED = False


def load_domains() -> None:
    """Import the domain modules so their decorators run (idempotent)."""
    global _LOADED
    if _LOADED:
        return
    import importlib

    for mod in ("revenue", "value", "surveys", "support", "adoption", "accounts", "health_kpis"):
        importlib.import_module(f"cs_metrics.metrics.{mod}")
    _LOADED = True  # only once all imported: a failed import is not remembered as done
