"""Dated health snapshots for auditing (`--history DIR`)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from cs_metrics.health.scoring import HealthScores


def append_history(directory: Path, as_of: Any, config_hash: str, scores: HealthScores) -> Path:
    """Write `health-YYYY-MM-DD.csv` (as_of, account_id, score, band, profile, coverage,
    override, config_hash) atomically: temp file in the same folder, then os.replace.

    One file per as-of date; re-running the same date replaces that day's snapshot.
    Scores are written unrounded (repr precision) so audits can recompute bands.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    day = pd.Timestamp(as_of).date().isoformat()
    t = scores.table
    out = pd.DataFrame({
        "as_of": day,
        "account_id": t.index.astype(str),
        "score": t["score"].to_numpy(dtype=float),
        "band": t["band"].to_numpy(dtype=object),
        "profile": t["profile"].to_numpy(dtype=object),
        "coverage": t["coverage"].to_numpy(dtype=float),
        "override": t["override"].to_numpy(dtype=object),
        "config_hash": config_hash,
    })
    target = directory / f"health-{day}.csv"
    fd, tmp = tempfile.mkstemp(prefix=".health-", suffix=".csv.tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            out.to_csv(fh, index=False)  # shortest repr that round-trips exactly
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return target
