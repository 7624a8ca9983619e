"""Result objects shared by the engine, the health model and the renderers."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


def clean_number(x: Any) -> Any:
    """NaN/inf → None; numpy scalars → Python numbers (JSON-safe)."""
    if x is None:
        return None
    try:
        import numpy as np

        if isinstance(x, np.generic):
            x = x.item()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(x, float) and (math.isnan(x) or math.isinf(x)):
        return None
    return x


@dataclass
class KPIValue:
    """One KPI in the report (SPEC §5 / R35). Values are unrounded."""

    id: str
    label: str
    category: str
    unit: str
    better: str  # higher | lower | none
    value: float | None
    previous: float | None = None
    n: int | None = None
    set_aside: int = 0
    unavailable_reason: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    description: str = ""

    @property
    def change(self) -> float | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def direction(self) -> str | None:
        """'better' | 'worse' | 'same' | None, from change and `better`."""
        c = self.change
        if c is None or self.better == "none":
            return None
        if abs(c) < 1e-12:
            return "same"
        up_is_good = self.better == "higher"
        return "better" if (c > 0) == up_is_good else "worse"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "category": self.category,
            "unit": self.unit,
            "value": clean_number(self.value),
            "previous": clean_number(self.previous),
            "change": clean_number(self.change),
            "better": self.better,
            "n": clean_number(self.n),
            "set_aside": int(self.set_aside),
            "unavailable_reason": self.unavailable_reason,
            "extra": _clean_tree(self.extra),
        }


def _clean_tree(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _clean_tree(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean_tree(v) for v in x]
    return clean_number(x)


clean_tree = _clean_tree


@dataclass
class KPITable:
    """KPIs for W (with P as `previous`), optionally per group."""

    kpis: list[KPIValue]
    by: str | None = None
    groups: dict[str, list[KPIValue]] = field(default_factory=dict)

    def get(self, kpi_id: str) -> KPIValue | None:
        for k in self.kpis:
            if k.id == kpi_id:
                return k
        return None
