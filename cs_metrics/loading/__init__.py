"""Loading: files → Bundle. `load()` is the entry point (see docs/loading.md)."""

from __future__ import annotations

# Bound eagerly: a lazy attribute would be shadowed by the `loading.load`
# submodule as soon as anything imports it.
from cs_metrics.loading.load import load

__all__ = ["load"]
