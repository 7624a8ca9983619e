"""JSON (SPEC §5, schema_version 1): deterministic, NaN → null, data only.

The shape is described by `cs_metrics/data/report.schema.json`.
"""

from __future__ import annotations

import json
from typing import Any


def dumps(obj: Any) -> str:
    """Stable JSON text: insertion order kept, 2-space indent, no NaN, UTF-8 kept readable."""
    return json.dumps(obj, ensure_ascii=False, indent=2, allow_nan=False, default=_default) + "\n"


def _default(x: Any) -> Any:
    from cs_metrics.results import clean_number

    if hasattr(x, "isoformat"):
        return x.isoformat()
    y = clean_number(x)
    if y is not x:
        return y
    return str(x)


def render_json(report: Any) -> str:
    return dumps(report.to_dict())
