"""Dated health snapshots for auditing (`--history DIR`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from cs_metrics.health.scoring import HealthScores
from cs_metrics.render.files import write_atomic


def append_history(directory: Path, as_of: Any, config_hash: str, scores: HealthScores) -> Path:
    """Write `health-YYYY-MM-DD.csv` (as_of, account_id, score, band, profile, coverage,
    override, config_hash) atomically (render.files.write_atomic: temp file, fsync, rename).

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
    # shortest repr that round-trips exactly
    write_atomic(target, out.to_csv(index=False, lineterminator="\n"))
    return target
