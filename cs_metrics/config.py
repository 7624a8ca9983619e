"""YAML config → merged dict over the built-in defaults (validation to follow)."""

from __future__ import annotations

import copy
from importlib import resources
from pathlib import Path
from typing import Any

import yaml


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def default_config() -> dict[str, Any]:
    text = resources.files("cs_metrics").joinpath("data/default.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def load_config(path: str | Path | None = None) -> dict[str, Any]:
    cfg = default_config()
    if path is None:
        return cfg
    user = yaml.safe_load(Path(path).read_text("utf-8")) or {}
    return _deep_merge(cfg, user)
