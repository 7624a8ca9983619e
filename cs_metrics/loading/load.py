"""`load()`: files → Bundle (discover, read, match columns, normalise, concatenate, link).

Fatal problems (unreadable file, missing required column, bad `columns:`
override, duration without unit, files of one dataset that do not match)
are collected over all files and raised once as an `InputError`; everything
else is a row issue in `Bundle.issues`.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from pandas.api.types import union_categoricals

from cs_metrics.bundle import Bundle, Dataset
from cs_metrics.errors import CsmError, InputError, Issue, format_issues
from cs_metrics.loading.columns import ColumnMatch, match_columns
from cs_metrics.loading.linking import EMAIL_COLUMNS, account_maps, link
from cs_metrics.loading.normalize import (
    FILE,
    ROW,
    IssueSink,
    Normalised,
    drop_duplicates,
    normalise,
    release_memory,
    survey_types_in_config,
)
from cs_metrics.schemas import DATASETS, SCHEMAS


@dataclass
class _Part:
    file: str
    match: ColumnMatch
    norm: Normalised
    how: str = ""  # how discovery matched the file: file name, sheet name, header, option


def _expected_text() -> str:
    lines = []
    for ds in DATASETS:
        sch = SCHEMAS[ds]
        lines.append(
            f"  {ds}: file names with {', '.join(sch.name_hints[:4])}…; "
            f"required columns {', '.join(sch.required)}"
        )
    return "\n".join(lines)


def load(
    source: Path | str | None = None,
    *,
    explicit: dict[str, Path] | None = None,
    config: dict | None = None,
    today: date | None = None,
    progress: Callable[[str], None] | None = None,
) -> Bundle:
    """Read every dataset found in `source` (folder or workbook) and/or `explicit` files."""
    with _returning_pool():
        return _load(source, explicit, config, today, progress)


@contextmanager
def _returning_pool():
    """Arrow allocates from jemalloc while loading, when this pyarrow has it: it hands
    freed scratch back to the system promptly, where the default mimalloc keeps up to
    a few hundred MB of a big file's parsing resident. The previous pool is restored;
    buffers remember their own pool, so mixing is safe."""
    import pyarrow as pa

    try:
        pool = pa.jemalloc_memory_pool()
    except (NotImplementedError, AttributeError):
        yield
        return
    try:
        pa.jemalloc_set_decay_ms(0)  # purge freed pages at once, not after a delay
    except (NotImplementedError, AttributeError, OSError):
        pass
    before = pa.default_memory_pool()
    pa.set_memory_pool(pool)
    try:
        yield
    finally:
        pa.set_memory_pool(before)


def _load(
    source: Path | str | None,
    explicit: dict[str, Path] | None,
    config: dict | None,
    today: date | None,
    progress: Callable[[str], None] | None,
) -> Bundle:
    from cs_metrics.config import default_config
    from cs_metrics.loading.discover import discover
    from cs_metrics.loading.readers import read_table

    config = config if config is not None else default_config()
    today = today or date.today()
    say = progress or (lambda _m: None)
    src = Path(source) if source is not None else None
    disc = discover(src, {k: Path(v) for k, v in (explicit or {}).items()} or None)
    if not disc.assignments:
        where = f"'{src}'" if src is not None else "the given options"
        raise InputError(
            f"no data files found in {where}. Expected CSV/XLSX/Parquet files named like:\n"
            f"{_expected_text()}",
            [
                Issue(
                    code="no-data",
                    level="error",
                    file=str(src) if src else None,
                    message=f"no data files found in {where}; expected files named like "
                    "accounts.csv, tickets.csv, surveys.csv, billing.csv, usage.csv "
                    "(or headers that contain each dataset's required columns)",
                )
            ],
        )

    overrides_all = config.get("columns") or {}
    stypes = survey_types_in_config(config)
    sink = IssueSink()
    fatal: list[Issue] = []
    parts: dict[str, list[_Part]] = {}
    for a in disc.assignments:
        label = a.path.name + (f" [{a.sheet}]" if a.sheet else "")
        say(f"reading {label} as {a.dataset}")
        try:
            raw = read_table(a.path, a.sheet)
            match = match_columns(
                a.dataset,
                [str(c) for c in raw.frame.columns],
                overrides_all.get(a.dataset),
                raw.file,
                survey_types=stypes,
            )
            if a.dataset in _ONLY_MAPPED:
                # the file's other columns are never used: free them before parsing
                used = set(match.mapping.values())
                raw.frame = raw.frame[[h for h in raw.frame.columns if h in used]]
            release_memory()
            norm = normalise(
                a.dataset,
                raw.frame,
                raw.row_numbers,
                raw.file,
                match,
                config=config,
                today=today,
                decimal_comma=raw.decimal_comma,
                delimiter=raw.delimiter,
                date1904=raw.date1904,
                sheet=a.sheet,
                sink=sink,
                consume=True,
            )
        except CsmError as e:
            fatal.extend(
                e.issues
                or [Issue(code="unreadable-file", level="error", file=label, message=e.message)]
            )
            continue
        for note in getattr(raw, "notes", []) or []:
            sink.add(
                Issue(
                    code="file-note",
                    level="info",
                    dataset=a.dataset,
                    file=raw.file,
                    message=str(note),
                )
            )
        parts.setdefault(a.dataset, []).append(_Part(raw.file, match, norm, a.how))
        del raw
        release_memory()

    # R12: several files for one dataset must map to the same columns
    for ds, items in parts.items():
        first = items[0]
        for other in items[1:]:
            a_cols, b_cols = _shape(first.match), _shape(other.match)
            if a_cols != b_cols:
                only_a = sorted(a_cols - b_cols)
                only_b = sorted(b_cols - a_cols)
                diff = []
                if only_a:
                    diff.append(f"only {first.file} has {', '.join(only_a)}")
                if only_b:
                    diff.append(f"only {other.file} has {', '.join(only_b)}")
                if not diff:
                    diff.append(
                        "their amount columns differ in kind "
                        f"({_amount_kind(first.match)} vs {_amount_kind(other.match)})"
                    )
                fatal.append(
                    Issue(
                        code="incompatible-files",
                        level="error",
                        dataset=ds,
                        file=other.file,
                        message=f"{first.file} and {other.file} are both {ds} files but their columns "
                        f"do not match ({'; '.join(diff)}); make them match or load one of them",
                    )
                )
    if fatal:
        raise InputError("input files cannot be loaded:\n" + format_issues(fatal), fatal)

    bundle = Bundle(ignored_files=list(disc.ignored))
    order = [d for d in DATASETS if d in parts]  # accounts first
    accounts_frame = None
    maps = None
    for ds in order:
        items = parts[ds]
        say(f"preparing {ds}")
        frames = [p.norm.frame for p in items]
        if len(frames) == 1:
            frame = frames[0]
        else:
            frame = pd.concat(frames, ignore_index=True)
            # keep the file column categorical (cheap to group by in issues and linking)
            frame[FILE] = union_categoricals([f[FILE] for f in frames])
        columns = dict(items[0].match.mapping)
        for p in items[1:]:
            for k, h in p.match.mapping.items():
                if columns.get(k) != h and h not in columns.get(k, "").split(" | "):
                    columns[k] = f"{columns[k]} | {h}"
        also: dict[str, list[str]] = {}
        for p in items:
            for k, hs in p.match.also_matched.items():
                also.setdefault(k, [])
                also[k].extend(h for h in hs if h not in also[k])
        meta: dict[str, Any] = {}
        for p in items:
            for k, v in p.norm.meta.items():
                if isinstance(v, dict):
                    meta.setdefault(k, {})
                    for kk, vv in v.items():
                        meta[k].setdefault(kk, vv)
                else:
                    meta.setdefault(k, v)
        if ds == "surveys":
            types = set()
            for p in items:
                types.update(p.norm.meta.get("survey_types", []))
            meta["survey_types"] = sorted(types)
            if any(p.match.type_columns for p in items):
                meta["type_columns"] = {
                    h: t for p in items for h, t in p.match.type_columns.items()
                }
                columns.setdefault("score", " | ".join(meta["type_columns"]))
        frame = drop_duplicates(
            ds, frame, columns_first(items), sink, {p.file: p.match.mapping for p in items}
        )
        if ds != "accounts":
            info = {
                p.file: {
                    "account_id": p.match.mapping.get("account_id"),
                    "email": p.match.mapping.get(EMAIL_COLUMNS.get(ds, ""), None),
                }
                for p in items
            }
            if accounts_frame is not None and maps is None:
                maps = account_maps(accounts_frame)
            frame, _, counts = link(frame, accounts_frame, ds, info, sink, maps=maps)
            meta["linking"] = counts
        rows_read = sum(p.norm.rows_read for p in items)
        meta["matched_by"] = {p.file: p.how for p in items}
        from_config = sorted(set(overrides_all.get(ds) or {}) & set(columns))
        if from_config:
            meta["columns_from_config"] = from_config
        ds_obj = Dataset(
            name=ds,
            frame=frame,
            files=[p.file for p in items],
            rows_read=rows_read,
            columns=columns,
            also_matched=also,
            meta=meta,
        )
        bundle.datasets[ds] = ds_obj
        if ds == "accounts":
            accounts_frame = frame
    for ds, d in bundle.datasets.items():
        d.frame = d.frame.drop(columns=[c for c in (ROW, FILE) if c in d.frame.columns])
        d.meta["issue_counts"] = dict(sink.counts.get(ds, {}))
    bundle.issues = sink.issues
    return bundle


# Datasets whose normaliser reads only the mapped columns (accounts keep their
# other columns as attributes; surveys read `Finished` and score-type columns).
_ONLY_MAPPED = frozenset({"tickets", "billing", "usage"})


def columns_first(items: list[_Part]) -> dict[str, str]:
    return dict(items[0].match.mapping)


def _amount_kind(m: ColumnMatch) -> str:
    return ", ".join(sorted(m.flags.get("amount", frozenset()))) or "plain"


def _shape(m: ColumnMatch) -> set[str]:
    cols = set(m.mapping)
    cols |= {f"{t} score" for t in m.type_columns.values()}
    if "amount" in m.flags:
        cols.add("amount(" + _amount_kind(m) + ")")
    return cols
