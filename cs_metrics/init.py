"""`csm init DIR`: a starter config that pins the columns found in DIR's files.

The loader already recognises most headers; writing what it matched into
`columns:` makes the mapping visible and editable (and stable when a later
export adds a look-alike column). Headers it did not match are listed as
comments, as candidates to map or to group by. Every other section is the
built-in default, commented out, so the file documents what can be changed.
The text always loads with `config.load_config` (tested).
"""

from __future__ import annotations

import json
from datetime import date
from importlib import resources
from pathlib import Path

from cs_metrics.errors import CsmError, UsageError


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON string syntax is valid YAML)."""
    return json.dumps(str(text), ensure_ascii=False)


def _comment_block(text: str) -> list[str]:
    return [("# " + ln) if ln.strip() else "#" for ln in text.splitlines()]


def _defaults_commented() -> list[str]:
    """The shipped defaults, every line commented, without their own `columns:` line."""
    text = resources.files("cs_metrics").joinpath("data/default.yaml").read_text(encoding="utf-8")
    lines = [ln for ln in text.splitlines() if not ln.startswith("columns:")]
    return _comment_block("\n".join(lines))


def starter_config(directory: Path) -> str:
    """YAML text: matched columns per dataset (active), unmatched headers and defaults (commented)."""
    from cs_metrics.config import default_config
    from cs_metrics.loading.columns import match_columns
    from cs_metrics.loading.discover import discover
    from cs_metrics.loading.normalize import survey_types_in_config
    from cs_metrics.loading.readers import read_header

    directory = Path(directory)
    if not directory.is_dir():
        raise UsageError(f"csm init needs a folder of exports: {directory} is not a folder")
    disc = discover(directory)
    try:
        stypes = survey_types_in_config(default_config())
    except Exception:  # noqa: BLE001 - only a hint for wide survey files
        stypes = ()
    out = [
        (
            f"# csm config for the exports in {directory.name or directory}, written by `csm init` on "
            f"{date.today().isoformat()}."
        ),
        "# It is laid over the built-in defaults key by key: keep only what you change.",
        f"# Check it with `csm config check {directory / 'csm.yaml'}`; a csm.yaml in the data folder is",
        "# picked up automatically by `csm report DIR`.",
        "",
        "# Which header feeds which canonical column, per dataset (what csm recognised).",
        "# Edit a header to change the mapping; delete a line to let csm recognise it again.",
    ]
    sections: list[str] = []
    seen: set[str] = set()
    currencies: dict[str, int] = {}
    for a in disc.assignments:
        label = a.path.name + (f" [{a.sheet}]" if a.sheet else "")
        try:
            headers = [str(h) for h in read_header(a.path, a.sheet)]
        except CsmError as e:
            sections += [f"  # {a.dataset}: {label} could not be read ({e.message})"]
            continue
        try:
            match = match_columns(a.dataset, headers, None, label, survey_types=tuple(stypes))
            mapping, unmapped, missing = match.mapping, list(match.unmapped), ""
            type_cols = dict(match.type_columns)
        except CsmError as e:
            mapping, unmapped, type_cols = {}, headers, {}
            cols = [str(i.column) for i in e.issues if i.column]
            missing = ", ".join(dict.fromkeys(cols)) if cols else e.message
        if a.dataset in seen:
            sections += [
                f"  # {a.dataset} also reads {label} ({a.how}); its headers must map the same way."
            ]
            continue
        seen.add(a.dataset)
        sections.append(f"  {a.dataset}:{'' if mapping else ' {}'}  # {label}, matched by {a.how}")
        if missing:
            sections.append(f"    # required columns not found: {missing}")
            sections.append('    # map them here, e.g.  account_id: "Customer number"')
        for canon, header in mapping.items():
            sections.append(f"    {canon}: {_q(header)}")
        if a.dataset == "billing" and "currency" in mapping:
            for code, n in _currencies(a.path, a.sheet, mapping["currency"]).items():
                currencies[code] = currencies.get(code, 0) + n
        for header, stype in type_cols.items():
            sections.append(
                f"    # {_q(header)} is read as one {stype} score per row (wide survey file)"
            )
        if unmapped:
            sections.append(
                '    # not used (map one with  canonical_column: "header"; accounts columns also work with --by):'
            )
            sections += [f"    #   {_q(h)}" for h in unmapped]
    if sections:
        out.append("columns:")
        out += sections
    else:
        out += ["columns: {}", f"# no CSV/XLSX/Parquet export was recognised in {directory}"]
    for ig in disc.ignored:
        out.append(f"# ignored: {ig.get('file')} ({ig.get('reason')})")
    if currencies:
        ranked = sorted(currencies.items(), key=lambda kv: (-kv[1], kv[0]))
        base = ranked[0][0]
        out += [
            "",
            "# Billing currencies found: "
            + ", ".join(f"{c} ({n:,} row{'s' if n != 1 else ''})" for c, n in ranked)
            + ".",
            "# Money KPIs are reported in `base`; every other currency needs its rate (units of base",
            "# per 1 unit of it), or csm stops with an error: csm never guesses a rate.",
            "# currency:",
            f"#   base: {base}",
            "#   rates:",
        ]
        out += [f"#     {c}: 0.0   # put the real rate here" for c, _ in ranked[1:]]
    out += ["", "# ---- built-in defaults (uncomment and edit what you need) ----"]
    out += _defaults_commented()
    return "\n".join(out) + "\n"


def _currencies(path: Path, sheet: str | None, header: str) -> dict[str, int]:
    """Distinct currency codes (upper-cased) in a billing file's currency column, with row counts."""
    from cs_metrics.loading.readers import read_table

    try:
        raw = read_table(path, sheet)
    except CsmError:
        return {}
    if header not in raw.frame.columns:
        return {}
    codes = raw.frame[header].dropna().astype(str).str.strip().str.upper()
    codes = codes[codes != ""]
    return {str(k): int(v) for k, v in codes.value_counts().items()}
