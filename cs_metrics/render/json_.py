"""JSON (SPEC §5, schema_version 1): deterministic, NaN → null, data only.

The shape is described by `cs_metrics/data/report.schema.json`. The report is
indented for people, except the two lists that grow with the data
(`health.accounts`, `data_quality.issues`): one compact line per item, which
keeps `jq` and `grep` handy and lets the C encoder do the bulk of the work
(an indented dump of 50,000 accounts takes seconds in the pure-Python one).
"""

from __future__ import annotations

import json
from typing import Any

BIG_LISTS = (("health", "accounts"), ("data_quality", "issues"))


def dumps(obj: Any) -> str:
    """Stable JSON text: insertion order kept, 2-space indent, no NaN, UTF-8 kept readable."""
    return json.dumps(obj, ensure_ascii=False, indent=2, allow_nan=False, default=_default) + "\n"


def _default(x: Any) -> Any:
    from cs_metrics.results import clean_number

    if type(x).__name__ in ("NAType", "NaTType"):  # pandas missing values
        return None
    if hasattr(x, "isoformat"):
        return x.isoformat()
    y = clean_number(x)
    if y is not x:
        return y
    return str(x)


def _line(item: Any) -> str:
    """One item, compact. The C encoder refuses NaN; only then is the item cleaned (NaN → null)."""
    try:
        return json.dumps(
            item, ensure_ascii=False, allow_nan=False, default=_default, separators=(", ", ": ")
        )
    except ValueError:
        from cs_metrics.results import clean_tree

        return json.dumps(
            clean_tree(item),
            ensure_ascii=False,
            allow_nan=False,
            default=_default,
            separators=(", ", ": "),
        )


def render_json(report: Any) -> str:
    data = report.to_dict_lazy() if hasattr(report, "to_dict_lazy") else report.to_dict()
    big: dict[str, list[Any]] = {}
    for i, (section, key) in enumerate(BIG_LISTS):
        parent = data.get(section)
        if isinstance(parent, dict) and isinstance(parent.get(key), list) and parent[key]:
            marker = f"\x00big{i}\x00"
            big[marker] = parent[key]
            parent = dict(parent)
            parent[key] = marker
            data[section] = parent
    text = dumps(data)
    for marker, items in big.items():
        token = json.dumps(marker)
        at = text.index(token)
        line_start = text.rindex("\n", 0, at) + 1
        indent = len(text[line_start:at]) - len(text[line_start:at].lstrip(" "))
        pad = " " * (indent + 2)
        body = "[\n" + ",\n".join(pad + _line(x) for x in items) + "\n" + " " * indent + "]"
        text = text[:at] + body + text[at + len(token) :]
    return text
