"""Loading: files → Bundle. `load()` is the entry point (see docs/loading.md)."""

from __future__ import annotations

__all__ = ["load"]


def __getattr__(name: str):
    # lazy: importing a submodule (e.g. loading.headers) must not pull pandas-heavy code
    if name == "load":
        from cs_metrics.loading.load import load

        return load
    raise AttributeError(name)
