"""Which file (or sheet) holds which dataset (SPEC §1 "A user points the tool at files").

Order of evidence: an explicit `--tickets F` option wins; then the file or
sheet name (its words, e.g. `zendesk_tickets_2026.csv` → tickets); then the
header row, scored with the same column matching the loader uses
(`loading.columns.match_columns`), so a file is only taken by header when its
required columns are there. Everything skipped is listed with a reason, so the
data-quality report can say why a file was not used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from cs_metrics.errors import CsmError, InputError, Issue, UsageError
from cs_metrics.loading.readers import (
    EXCEL_SUFFIXES,
    SUPPORTED_SUFFIXES,
    list_sheets,
    read_header,
)
from cs_metrics.schemas import DATASETS, SCHEMAS


@dataclass
class Assignment:
    dataset: str  # accounts | tickets | surveys | billing | usage
    path: Path
    sheet: str | None
    how: str  # "file name", "sheet name", "header", "option --tickets"


@dataclass
class Discovery:
    assignments: list[Assignment] = field(default_factory=list)  # several per dataset allowed (R12)
    ignored: list[dict[str, str]] = field(default_factory=list)  # {"file": ..., "reason": ...}

    def for_dataset(self, dataset: str) -> list[Assignment]:
        return [a for a in self.assignments if a.dataset == dataset]


_DOC_WORDS = {"readme", "license", "licence", "changelog", "changes", "contributing"}
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+")


def name_words(name: str) -> list[str]:
    """Lower-case words of a file stem or sheet name: 'ZendeskTickets_2026-07' → ['zendesk', 'tickets']."""
    return [w.lower() for w in _WORD.findall(name)]


def datasets_named(name: str) -> list[str]:
    """Datasets whose name hints are words of `name`, the one named last first.

    The last hint word is usually the noun: `accounts_usage` is usage per
    account, `customer_invoices` are invoices.
    """
    words = name_words(name)
    last: dict[str, int] = {}
    for ds in DATASETS:
        hints = set(SCHEMAS[ds].name_hints)
        pos = [i for i, w in enumerate(words) if w in hints]
        if pos:
            last[ds] = pos[-1]
    return sorted(last, key=lambda d: -last[d])


def dataset_by_header(headers: list[str], candidates: list[str] | None = None) -> str | None:
    """The dataset whose required columns are all in `headers` and that maps the most columns.

    Required columns weigh 3, others 1; wide survey type columns (`NPS`)
    count as mapped. None when no dataset has its required columns.
    """
    from cs_metrics.loading.columns import match_columns

    best, best_score = None, 0
    for ds in candidates or list(DATASETS):
        try:
            m = match_columns(ds, headers, None, "discovery")
        except CsmError:
            continue
        required = set(SCHEMAS[ds].required)
        score = sum(3 if c in required else 1 for c in m.mapping) + len(m.type_columns)
        if score > best_score:
            best, best_score = ds, score
    return best


def discover(source: Path | None, explicit: dict[str, Path] | None = None) -> Discovery:
    """Assign files (or workbook sheets) to datasets; explicit options replace what a folder gave."""
    out = Discovery()
    explicit = dict(explicit or {})
    unknown = [k for k in explicit if k not in DATASETS]
    if unknown:
        raise UsageError(
            f"unknown dataset option(s): {', '.join(unknown)} (expected one of: {', '.join(DATASETS)})"
        )
    for ds, p in explicit.items():
        _must_exist(Path(p), f"--{ds}")
    if source is not None:
        source = Path(source)
        _must_exist(source, "input")
        if source.is_dir():
            for entry in sorted(source.iterdir(), key=lambda p: p.name.lower()):
                _match_entry(entry, out)
        elif _skip_reason(source):
            raise _input_error(source, _skip_reason(source) or "")
        else:
            _match_entry(source, out)
    if explicit:
        chosen = {(Path(p).resolve(), ds) for ds, p in explicit.items()}
        keep = []
        for a in out.assignments:
            if a.dataset in explicit:
                continue  # the option replaces the folder's match for this dataset
            if any(a.path.resolve() == p for p, _ in chosen):
                continue  # the same file given explicitly for another dataset
            keep.append(a)
        out.assignments = keep
        for ds in DATASETS:
            if ds in explicit:
                p = Path(explicit[ds])
                out.assignments.append(Assignment(ds, p, _sheet_for(p, ds), f"option --{ds}"))
    return out


def _must_exist(path: Path, what: str) -> None:
    if not path.exists():
        raise InputError(
            f"{path}: not found ({what}); expected a file or folder",
            [Issue(code="file-not-found", level="error", file=str(path),
                   message=f"{what} path does not exist")],
        )
    if what.startswith("--") and path.is_dir():
        raise _input_error(path, f"is a folder; {what} expects a data file")


def _input_error(path: Path, reason: str) -> InputError:
    return InputError(f"{path.name}: {reason}",
                      [Issue(code="unreadable-file", level="error", file=path.name, message=reason)])


def _skip_reason(path: Path) -> str | None:
    """Why a folder entry is not a data file, or None."""
    name = path.name
    if name.startswith("~$") or name.startswith(".~lock"):
        return "Office lock file"
    if name.startswith("."):
        return "hidden file"
    if path.is_dir():
        return "folder (sub-folders are not searched)"
    if name_words(path.stem)[:1] and name_words(path.stem)[0] in _DOC_WORDS:
        return "documentation file, not data"
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        return f"not a supported format (expected {', '.join(sorted(SUPPORTED_SUFFIXES))})"
    return None


def _match_entry(path: Path, out: Discovery) -> None:
    reason = _skip_reason(path)
    if reason:
        out.ignored.append({"file": path.name, "reason": reason})
        return
    if path.suffix.lower() in EXCEL_SUFFIXES:
        _match_workbook(path, out)
        return
    named = datasets_named(path.stem)
    if len(named) == 1:
        out.assignments.append(Assignment(named[0], path, None, "file name"))
        return
    headers = _headers(path, None, out)
    if headers is None:
        return
    ds = dataset_by_header(headers, named or None)
    if ds is not None:
        out.assignments.append(Assignment(ds, path, None, "file name" if named else "header"))
    elif named:
        out.assignments.append(Assignment(named[0], path, None, "file name"))
    else:
        out.ignored.append({"file": path.name, "reason": "headers match no dataset"})


def _match_workbook(path: Path, out: Discovery) -> None:
    """Sheets named after datasets; else the file name (best sheet); else each sheet's header."""
    try:
        sheets = list_sheets(path)
    except CsmError as exc:
        if datasets_named(path.stem):
            # named like a dataset: the user meant it as data, so it is an error, not a skip
            raise
        out.ignored.append({"file": path.name, "reason": f"unreadable: {exc.message}"})
        return
    if not sheets:
        out.ignored.append({"file": path.name, "reason": "workbook has no visible sheet"})
        return
    by_sheet = {s: datasets_named(s) for s in sheets}
    if any(by_sheet.values()):
        for s, named in by_sheet.items():
            if named:
                out.assignments.append(Assignment(named[0], path, s, "sheet name"))
            else:
                out.ignored.append(
                    {"file": f"{path.name} [{s}]", "reason": "sheet name matches no dataset"})
        return
    named = datasets_named(path.stem)
    if named:
        sheet = sheets[0]
        if len(sheets) > 1:
            for s in sheets:
                headers = _headers(path, s, None)
                if headers is not None and dataset_by_header(headers, named[:1]):
                    sheet = s
                    break
        out.assignments.append(Assignment(named[0], path, sheet, "file name"))
        for s in sheets:
            if s != sheet:
                out.ignored.append({"file": f"{path.name} [{s}]",
                                    "reason": f"another sheet of the {named[0]} workbook was used"})
        return
    for s in sheets:
        headers = _headers(path, s, out)
        if headers is None:
            continue
        ds = dataset_by_header(headers)
        if ds is None:
            out.ignored.append({"file": f"{path.name} [{s}]", "reason": "headers match no dataset"})
        else:
            out.assignments.append(Assignment(ds, path, s, "header"))


def _headers(path: Path, sheet: str | None, out: Discovery | None) -> list[str] | None:
    try:
        return read_header(path, sheet)
    except CsmError as exc:
        if out is not None:
            label = f"{path.name} [{sheet}]" if sheet else path.name
            out.ignored.append({"file": label, "reason": f"unreadable: {exc.message}"})
        return None


def _sheet_for(path: Path, dataset: str) -> str | None:
    """For `--tickets book.xlsx`: the sheet named after the dataset, else the first sheet (None)."""
    if path.suffix.lower() not in EXCEL_SUFFIXES:
        return None
    try:
        sheets = list_sheets(path)
    except CsmError:
        return None  # read_table reports the problem with the file
    for s in sheets:
        if datasets_named(s)[:1] == [dataset]:
            return s
    return None
