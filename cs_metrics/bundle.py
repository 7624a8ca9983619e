"""The Bundle: what loading hands to everything after it.

Canonical DataFrames (see `schemas.py` for columns and dtypes) plus the
data-quality record: which file became which dataset, which header fed which
canonical column, and every row issue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cs_metrics.errors import Issue

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class Dataset:
    name: str
    frame: "pd.DataFrame"
    files: list[str] = field(default_factory=list)
    rows_read: int = 0  # data rows read (no header, title or footer rows)
    columns: dict[str, str] = field(default_factory=dict)  # canonical -> header used
    also_matched: dict[str, list[str]] = field(default_factory=dict)  # canonical -> other headers
    # Loader decisions a KPI needs, e.g. {"amount_flags": ["tax_inclusive"],
    # "dayfirst": {"created_at": True}, "survey_types": [...]}.
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def rows_used(self) -> int:
        return len(self.frame)

    @property
    def rows_set_aside(self) -> int:
        return self.rows_read - self.rows_used

    def has(self, column: str) -> bool:
        return column in self.frame.columns

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "files": list(self.files),
            "rows_read": int(self.rows_read),
            "rows_used": int(self.rows_used),
            "columns": dict(self.columns),
        }
        if self.also_matched:
            d["also_matched"] = {k: list(v) for k, v in self.also_matched.items()}
        if self.meta.get("matched_by"):
            d["matched_by"] = dict(self.meta["matched_by"])  # file -> file name | header | option ...
        if self.meta.get("columns_from_config"):
            d["columns_from_config"] = list(self.meta["columns_from_config"])
        return d


@dataclass
class Bundle:
    datasets: dict[str, Dataset] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    ignored_files: list[dict[str, str]] = field(default_factory=list)  # {"file":..., "reason":...}

    def has(self, name: str) -> bool:
        return name in self.datasets

    def frame(self, name: str) -> "pd.DataFrame | None":
        ds = self.datasets.get(name)
        return None if ds is None else ds.frame

    def set_aside(self, name: str) -> int:
        """Rows of a dataset set aside during loading (feeds KPI `set_aside`, R35)."""
        ds = self.datasets.get(name)
        return 0 if ds is None else ds.rows_set_aside

    def data_quality(self) -> dict[str, Any]:
        """SPEC §5 `data_quality` object (also `csm validate --format json`)."""
        return {
            "datasets": {k: v.to_dict() for k, v in self.datasets.items()},
            "ignored_files": list(self.ignored_files),
            "issues": [i.to_dict() for i in self.issues],
        }
