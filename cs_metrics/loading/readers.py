"""Bytes → RawTable: every cell as text, the real header found, report footers dropped.

Why text: ids such as ``00123`` and ``10300600000012`` must survive, and how a
column's values are parsed (dates, money) is decided later from all of its
values (``loading/values.py``). Why header detection here: Salesforce,
QuickBooks, Xero, SurveyMonkey and Qualtrics exports put title or extra header
rows above the data and total/footer lines below it (EXPORTS.md §7 quirk 1).

Row numbers are the ones a spreadsheet program shows. For delimited text a
row is a CSV *record* (a quoted field with line breaks stays one row, as
Excel shows it), counted from 1 including any title rows above the header.
Parquet has no title rows: its header is row 1, the first data row is row 2.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cs_metrics.errors import InputError, Issue
from cs_metrics.loading.headers import normalise_header

TEXT_SUFFIXES = frozenset({".csv", ".tsv", ".txt", ".tab"})
EXCEL_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"})
PARQUET_SUFFIXES = frozenset({".parquet", ".pq"})
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | EXCEL_SUFFIXES | PARQUET_SUFFIXES

HEADER_SCAN_ROWS = 30  # the header must start within this many rows
_HEAD_BYTES = 128 * 1024  # bytes of a text file used to sniff delimiter and header
_DELIMITERS = (",", ";", "\t", "|")


@dataclass
class RawTable:
    """One sheet or file as text, with what the reader decided about it."""

    frame: pd.DataFrame  # cells as text (str dtype), blank → missing; header names as found
    row_numbers: np.ndarray  # int64 spreadsheet row number of each frame row
    file: str  # display name: "tickets.csv" or "book.xlsx [Tickets]"
    path: Path
    sheet: str | None = None
    header_row: int = 1
    encoding: str | None = None
    delimiter: str | None = None
    decimal_comma: bool = False  # numbers look like 1.234,50 (or ';' file): day-first hint (R13)
    date1904: bool = False
    dropped_footer_rows: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------
# public entry points


def list_sheets(path: Path) -> list[str]:
    """Visible worksheet names of a workbook, in order ([] for other formats)."""
    path = Path(path)
    if path.suffix.lower() not in EXCEL_SUFFIXES:
        return []
    wb = _open_workbook(path)
    return _visible_sheets(wb)


def read_table(
    path: Path, sheet: str | None = None, *, known_headers: set[str] | None = None
) -> RawTable:
    """Read a whole CSV/TSV/text, workbook sheet or Parquet file as text.

    `known_headers` are normalised header names (``normalise_header``) used to
    find the header row below a title block; by default every canonical name
    and synonym of ``schemas.SCHEMAS``.
    """
    return _read(Path(path), sheet, known_headers, head_only=False)


def read_header(
    path: Path, sheet: str | None = None, *, known_headers: set[str] | None = None
) -> list[str]:
    """Just the header names of a file or sheet, reading only its first rows (for discovery)."""
    return list(_read(Path(path), sheet, known_headers, head_only=True).frame.columns)


@lru_cache(maxsize=1)
def default_known_headers() -> frozenset[str]:
    """Every canonical column name and synonym, normalised."""
    from cs_metrics.schemas import SCHEMAS

    out: set[str] = set()
    for ds in SCHEMAS.values():
        for col in ds.columns:
            out.add(normalise_header(col.name))
            out.update(normalise_header(s) for s in col.synonyms)
    try:  # wide survey columns (`NPS`, `CSAT score`)
        from cs_metrics.synonyms import SURVEY_TYPE_HEADERS

        out.update(SURVEY_TYPE_HEADERS)
    except ImportError:
        pass
    out.discard("")
    return frozenset(out)


def _read(path: Path, sheet: str | None, known: set[str] | None, head_only: bool) -> RawTable:
    if not path.exists():
        raise InputError(f"{path}: file not found", [_issue(path.name, "file not found")])
    if path.is_dir():
        raise _fail(path, "is a folder, expected a data file")
    known_set = frozenset(known) if known is not None else default_known_headers()
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        return _read_excel(path, sheet, known_set, head_only)
    if sheet is not None:
        raise _fail(path, f"not a workbook, so it has no sheet '{sheet}'")
    if suffix in PARQUET_SUFFIXES:
        return _read_parquet(path, head_only)
    # .csv/.tsv/.txt and anything else: try as delimited text
    return _read_text(path, known_set, head_only)


def _issue(file: str, message: str) -> Issue:
    return Issue(code="unreadable-file", message=message, level="error", file=file)


def _fail(path: Path, what: str) -> InputError:
    return InputError(f"{path.name}: {what}", [_issue(path.name, what)])


# --------------------------------------------------------------------------
# delimited text


def _read_text(path: Path, known: frozenset[str], head_only: bool) -> RawTable:
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            raw_head = fh.read(_HEAD_BYTES)
    except OSError as exc:
        raise _fail(path, f"cannot be read ({exc.strerror or exc})") from None
    if not raw_head.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe") and size <= len(raw_head):
        raise _fail(path, "file is empty; expected a header row and data rows")
    whole = size <= len(raw_head)
    head_bytes, encoding = _to_utf8(path, raw_head, partial=not whole)
    head_text = _decode_head(head_bytes)
    delim = _sniff_delimiter(head_text, path.suffix.lower())
    head = _scan_records(head_text, delim, HEADER_SCAN_ROWS + 4, at_eof=whole)
    if not head:
        raise _fail(path, "no complete row found; expected a header row and data rows")
    rows = [cells for cells, _ in head]
    layout = _find_header(rows, known)
    start_char = head[layout.index - 1][1] if layout.index > 0 else 0
    start_byte = len(head_text[:start_char].encode("utf-8"))
    ncols = len(rows[layout.index])
    if head_only:
        grid = _grid_from_rows(rows[layout.index :])
    else:
        grid, tried = None, None
        if encoding in ("utf-8", "utf-8-sig") and not whole:
            # big UTF-8 file: pyarrow maps it from disk and checks the UTF-8 itself
            bom = 3 if encoding == "utf-8-sig" else 0
            grid, tried = _body_grid(path, bom + start_byte, delim, ncols), encoding
        if grid is None:
            # the whole file as UTF-8 bytes (BOM dropped, so `start_byte` still holds)
            data, encoding = _to_utf8(path, _read_all(path), partial=False)
            if encoding != tried:  # pyarrow failed on bad UTF-8, not on the layout
                grid = _body_grid(data, start_byte, delim, ncols)
            if grid is None:
                grid = _pandas_csv(data, start_byte, delim, ncols)
            if grid is None:
                text = data[start_byte:].decode("utf-8", errors="replace")
                reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
                grid = _grid_from_rows(list(reader))
    table = RawTable(
        frame=grid,
        row_numbers=np.empty(0, dtype=np.int64),
        file=path.name,
        path=path,
        encoding=encoding,
        delimiter=delim,
        decimal_comma=_looks_decimal_comma(rows[layout.index + 1 :], delim),
        notes=[],
    )
    return _finish(table, grid, layout, first_row=layout.index + 1)


def _read_all(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise _fail(path, f"cannot be read ({exc.strerror or exc})") from None


def _to_utf8(path: Path, data: bytes, partial: bool) -> tuple[bytes, str]:
    """UTF-8 bytes without BOM, and the encoding the file was in.

    UTF-8 (BOM optional) is used as is; UTF-16 needs its BOM (or the NUL
    pattern of ASCII text); anything else that is not UTF-8 is cp1252
    (European Excel, Sage), with latin-1 for the few bytes cp1252 leaves out.
    """
    if data.startswith(codecs.BOM_UTF8):
        body = data[3:]
        if not _valid_utf8(body, partial):
            raise _fail(path, "starts with a UTF-8 byte-order mark but is not valid UTF-8")
        return body, "utf-8-sig"
    for bom, enc in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            return _transcode(path, data[2:], enc, partial), "utf-16"
    if data.startswith(b"PK\x03\x04"):
        raise _fail(path, "is a zip archive (an Excel workbook?), not delimited text; "
                    "rename it to .xlsx or extract it")
    sample = data[:4096]
    if b"\x00" in sample:
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        if odd > 0.4 * len(sample) / 2 and even == 0:
            return _transcode(path, data, "utf-16-le", partial), "utf-16-le"
        if even > 0.4 * len(sample) / 2 and odd == 0:
            return _transcode(path, data, "utf-16-be", partial), "utf-16-be"
        raise _fail(path, "looks like a binary file, not CSV/TSV text")
    if _valid_utf8(data, partial):
        return data, "utf-8"
    try:
        return data.decode("cp1252").encode("utf-8"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1").encode("utf-8"), "latin-1"


def _valid_utf8(data: bytes, partial: bool) -> bool:
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError as exc:
        # a head cut in the middle of a character is still UTF-8
        return partial and exc.start >= len(data) - 3


def _transcode(path: Path, data: bytes, enc: str, partial: bool) -> bytes:
    if partial:
        data = data[: len(data) - len(data) % 2]
    try:
        return data.decode(enc).encode("utf-8")
    except UnicodeDecodeError:
        raise _fail(path, f"is not valid {enc.upper()} text") from None


def _decode_head(data: bytes) -> str:
    """Decode the first bytes, dropping a character cut at the end."""
    return data.decode("utf-8", errors="ignore")


def _count_outside_quotes(line: str, delim: str) -> int:
    if '"' not in line:
        return line.count(delim)
    return sum(part.count(delim) for part in line.split('"')[0::2])


def _sniff_delimiter(text: str, suffix: str) -> str:
    """The delimiter whose count is the same on most of the first lines.

    Counted outside quotes. A `;` file with decimal commas has a steady `;`
    count, while its commas vary (and are absent from the header), so `;`
    wins; when `,` and `;` are both steady, `;` wins if a line (the header)
    has `;` but no `,` and its fields hold decimal-comma numbers (1.234,50).
    A one-column file whose values contain a delimiter is read as split: the
    datasets all have several columns.
    """
    lines = _physical_records(text)[:60]
    lines = [ln for ln in lines if ln.strip()]
    if not lines:
        return "\t" if suffix == ".tsv" else ","
    scores: dict[str, tuple[int, int]] = {}
    for d in _DELIMITERS:
        counts = [_count_outside_quotes(ln, d) for ln in lines]
        nonzero = [c for c in counts if c > 0]
        if not nonzero:
            continue
        values, freq = np.unique(nonzero, return_counts=True)
        best = int(np.argmax(freq[::-1]))  # prefer the larger count on ties
        mode = int(values[::-1][best])
        scores[d] = (sum(1 for c in counts if c == mode), mode)
    if not scores:
        return "\t" if suffix == ".tsv" else ","
    if suffix == ".tsv" and "\t" in scores:
        return "\t"
    order = {d: i for i, d in enumerate(("\t", ";", ",", "|"))}
    ranked = sorted(scores, key=lambda d: (-scores[d][0], -scores[d][1], order[d]))
    choice = ranked[0]
    if choice == "," and ";" in scores and scores[";"][0] >= 0.8 * scores[","][0]:
        # a European header line has its ';' and no ',' at all
        semi_mode = scores[";"][1]
        header_like = any(
            _count_outside_quotes(ln, ";") == semi_mode and _count_outside_quotes(ln, ",") == 0
            for ln in lines
        )
        fields = (f.strip().strip('"') for ln in lines for f in ln.split(";"))
        if header_like and any(_DEC_COMMA.match(f) for f in fields):
            choice = ";"
    return choice


def _physical_records(text: str) -> list[str]:
    """Split on line breaks that are outside double quotes (approximate, for sniffing)."""
    out, buf, inside = [], [], False
    for line in text.splitlines():
        buf.append(line)
        if line.count('"') % 2:
            inside = not inside
        if not inside:
            out.append("\n".join(buf))
            buf = []
    return out


def _scan_records(
    text: str, delim: str, limit: int, at_eof: bool = False
) -> list[tuple[list[str | None], int]]:
    """The first `limit` complete CSV records of `text`: (cells, char offset after the record).

    Quoting as in Python's csv module: a quote opens a quoted field only at
    the start of a field, `""` inside it is a quote. A record cut off at the
    end of `text` is left out unless `text` is the whole file (`at_eof`).
    """
    out: list[tuple[list[str | None], int]] = []
    n = len(text)
    i = 0
    while i < n and len(out) < limit:
        cells: list[str | None] = []
        while True:
            if i < n and text[i] == '"':
                j = i + 1
                buf = []
                while True:
                    k = text.find('"', j)
                    if k < 0:
                        if at_eof:  # unterminated quote: the rest of the file is the field
                            buf.append(text[j:])
                            cells.append("".join(buf))
                            out.append((_blank_to_none(cells), n))
                        return out  # else the quoted field runs past the head
                    buf.append(text[j:k])
                    if k + 1 < n and text[k + 1] == '"':
                        buf.append('"')
                        j = k + 2
                        continue
                    i = k + 1
                    break
                # anything after the closing quote up to the delimiter is kept
                m = _next_stop(text, i, delim)
                buf.append(text[i:m])
                cells.append("".join(buf))
                i = m
            else:
                m = _next_stop(text, i, delim)
                cells.append(text[i:m])
                i = m
            if i < n and text[i] == delim:
                i += 1
                continue
            break
        if i >= n and not text.endswith(("\n", "\r")) and not at_eof:
            break  # last record may be cut off
        if text.startswith("\r\n", i):
            i += 2
        elif i < n:
            i += 1
        out.append((_blank_to_none(cells), i))
    return out


def _next_stop(text: str, i: int, delim: str) -> int:
    ends = [p for p in (text.find(delim, i), text.find("\n", i), text.find("\r", i)) if p >= 0]
    return min(ends) if ends else len(text)


def _blank_to_none(cells: list[str | None]) -> list[str | None]:
    return [c if c is not None and c.strip() else None for c in cells]


_TAIL_BYTES = 64 * 1024


def _body_grid(src: Path | bytes, start: int, delim: str, ncols: int) -> pd.DataFrame | None:
    """Header record onwards: report lines at the very end split off, the rest read by pyarrow.

    Footers (`Grand Totals`, copyright, QuickBooks' timestamp) have another
    width than the data, which pyarrow refuses; so the file's trailing block
    of blank and footer lines is read with the csv module and appended, and
    `_row_kinds` drops it like any footer. None when pyarrow cannot read the
    rest (ragged rows, blank lines inside, not UTF-8).
    """
    if isinstance(src, Path):
        size = src.stat().st_size
        tail_at = max(start, size - _TAIL_BYTES)
        with open(src, "rb") as fh:
            fh.seek(tail_at)
            tail = fh.read()
    else:
        size = len(src)
        tail_at = max(start, size - _TAIL_BYTES)
        tail = bytes(src[tail_at:])
    cut, tail_rows = _trailing_lines(tail, tail_at, tail_at == start, delim)
    table = _arrow_csv(src, start, cut, delim, ncols)
    if table is None:
        return None
    if tail_rows:
        import pyarrow as pa

        # footer lines only: cells past the header's width are not needed to drop them
        width = table.num_columns
        extra = [[c if c and c.strip() else None for c in r[:width]] for r in tail_rows]
        cols = [pa.array([r[i] if i < len(r) else None for r in extra], pa.large_string())
                for i in range(width)]
        table = pa.concat_tables([table, pa.table(cols, names=table.column_names)])
    frame = table.to_pandas()
    return frame.set_axis(range(table.num_columns), axis=1)


def _trailing_lines(
    tail: bytes, offset: int, starts_at_record: bool, delim: str
) -> tuple[int, list[list[Any]]]:
    """(absolute offset where the trailing blank/footer lines begin, their cells)."""
    end = len(tail)
    if tail.endswith(b"\n"):
        end -= 1
    cut = len(tail)
    found: list[list[Any]] = []
    while end >= 0:
        nl = tail.rfind(b"\n", 0, end)
        if nl < 0 and not starts_at_record:
            break  # the first line of the tail may be cut
        line = tail[nl + 1 : end].rstrip(b"\r").decode("utf-8", errors="replace")
        if line.count('"') % 2:
            break
        cells = next(csv.reader([line], delimiter=delim), [])
        vals = [c.strip() for c in cells if c.strip()]
        if vals and not _FOOTER.match(vals[0]):
            break
        found.append(cells)
        cut = nl + 1
        if nl < 0:
            break
        end = nl
    return offset + cut, found[::-1]


def _arrow_csv(src: Path | bytes, start: int, end: int, delim: str, ncols: int):
    """Every column as text with pyarrow (fast, multi-threaded); None when it refuses the bytes."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    names = [f"c{i}" for i in range(max(ncols, 1))]
    try:
        if isinstance(src, Path) and end >= src.stat().st_size:
            # read up to the end of the file: a plain file stream, so the file's pages
            # are not mapped into (and counted in) this process's memory
            stream = pa.OSFile(str(src))
            stream.seek(start)
        elif isinstance(src, Path):
            mm = pa.memory_map(str(src))
            mm.seek(start)
            stream = pa.BufferReader(mm.read_buffer(end - start))
        else:
            stream = pa.BufferReader(pa.py_buffer(src)[start:end])
        table = pacsv.read_csv(
            stream,
            memory_pool=_csv_pool(),
            read_options=pacsv.ReadOptions(column_names=names, block_size=8 << 20),
            parse_options=pacsv.ParseOptions(
                delimiter=delim, newlines_in_values=True, ignore_empty_lines=False
            ),
            convert_options=pacsv.ConvertOptions(
                # large_string is what pandas' `str` dtype holds: no cast (copy) later
                column_types={n: pa.large_string() for n in names},
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
                null_values=[""],
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, OSError):
        return None
    from cs_metrics.loading.values import _may_need_strip

    cols = []
    for name in names:
        col = table.column(name)
        if not _may_need_strip(col):  # no value starts with a space: none is all spaces
            cols.append(col)
            continue
        space = pc.utf8_is_space(col)
        if pc.any(space).as_py():
            col = pc.if_else(space, pa.scalar(None, pa.large_string()), col)
        cols.append(col)
    return pa.table(cols, names=names)


def _csv_pool():
    """jemalloc when this pyarrow has it: it hands the CSV reader's freed blocks back
    to the system, where the default mimalloc keeps them (peak memory ~10% lower)."""
    import pyarrow as pa

    try:
        return pa.jemalloc_memory_pool()
    except (NotImplementedError, AttributeError):
        return None


def _pandas_csv(data: bytes, start: int, delim: str, ncols: int) -> pd.DataFrame | None:
    """Second try for irregular files: pandas' C parser pads short rows and keeps blank lines.

    Long rows make it fail with 'saw N' fields; it is retried that wide.
    """
    width = max(ncols, 1)
    for _ in range(4):
        try:
            frame = pd.read_csv(
                io.BytesIO(memoryview(data)[start:]), sep=delim, header=None,
                names=range(width), index_col=False, dtype="str", keep_default_na=False,
                na_values=[""], skip_blank_lines=False, engine="c", encoding="utf-8",
            )
        except pd.errors.ParserError as exc:
            m = re.search(r"saw (\d+)", str(exc))
            if not m or int(m.group(1)) <= width:
                return None
            width = int(m.group(1))
            continue
        except (ValueError, UnicodeDecodeError):
            return None
        for c in frame.columns:
            col = frame[c]
            frame[c] = col.where(~col.str.fullmatch(r"\s+").fillna(False).astype(bool), None)
        return frame.astype("str")
    return None


def _grid_from_rows(rows: list[list[Any]]) -> pd.DataFrame:
    """Rows of cells (ragged allowed) → positional text frame, blanks missing."""
    width = max((len(r) for r in rows), default=0)
    if not rows:
        return pd.DataFrame(columns=range(width), dtype="str")
    padded = [
        [c if (c is not None and c.strip()) else None for c in r] + [None] * (width - len(r))
        for r in rows
    ]
    return pd.DataFrame(padded, columns=range(width), dtype="str")


_DEC_COMMA = re.compile(r"^[^\d,.]{0,4}-?\d{1,3}(?:\.\d{3})*,\d{1,2}[^\d,.]{0,4}$|^-?\d+(?:\.\d{3})+,\d+$")
_DEC_POINT = re.compile(r"^[^\d,.]{0,4}-?\d{1,3}(?:,\d{3})*\.\d+[^\d,.]{0,4}$")


def _looks_decimal_comma(rows: list[list[str | None]], delim: str) -> bool:
    """True when numbers in the first rows use a decimal comma (or a ';' file shows no decimal points)."""
    cells = [c.strip() for r in rows for c in r if c]
    commas = sum(1 for c in cells if _DEC_COMMA.match(c))
    points = sum(1 for c in cells if _DEC_POINT.match(c))
    if delim == ";":
        return commas >= points
    return commas > points


# --------------------------------------------------------------------------
# workbooks


def _open_workbook(path: Path):
    from python_calamine import CalamineWorkbook

    try:
        return CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises several unrelated types
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "password" in msg.lower() or type(exc).__name__ == "PasswordError":
            raise _fail(path, "is password-protected; save an unprotected copy") from None
        raise _fail(
            path, f"cannot be read as an Excel workbook ({msg}); expected a valid .xlsx/.xlsm/.xls file"
        ) from None


def _visible_sheets(wb) -> list[str]:
    names = []
    for meta in wb.sheets_metadata:
        if "Hidden" in str(meta.visible) or "Chart" in str(meta.typ):
            continue
        names.append(meta.name)
    return names


def _workbook_1904(path: Path) -> bool:
    """The workbook's date system (xl/workbook.xml `date1904`), for serial numbers stored as text."""
    if path.suffix.lower() not in {".xlsx", ".xlsm"}:
        return False
    try:
        with zipfile.ZipFile(path) as zf:
            xml = zf.read("xl/workbook.xml")[:20000].decode("utf-8", "ignore")
    except (OSError, KeyError, zipfile.BadZipFile):
        return False
    m = re.search(r"date1904\s*=\s*\"(1|true)\"", xml)
    return bool(m)


def _read_excel(path: Path, sheet: str | None, known: frozenset[str], head_only: bool) -> RawTable:
    wb = _open_workbook(path)
    all_sheets = list(wb.sheet_names)
    if sheet is None:
        visible = _visible_sheets(wb)
        if not visible:
            raise _fail(path, "has no visible worksheet")
        sheet = visible[0]
    elif sheet not in all_sheets:
        raise _fail(path, f"has no sheet '{sheet}' (sheets: {', '.join(all_sheets)})")
    try:
        ws = wb.get_sheet_by_name(sheet)
        nrows = HEADER_SCAN_ROWS + 4 if head_only else None
        raw = ws.to_python(skip_empty_area=False, nrows=nrows) if nrows else ws.to_python(
            skip_empty_area=False
        )
    except Exception as exc:
        raise _fail(path, f"sheet '{sheet}' cannot be read ({exc})") from None
    display = f"{path.name} [{sheet}]"
    if not any(any(c not in ("", None) for c in r) for r in raw[:HEADER_SCAN_ROWS + 4]):
        raise InputError(f"{display}: sheet is empty; expected a header row and data rows",
                         [_issue(display, "sheet is empty")])
    head = [[_cell_text(c) for c in r] for r in raw[: HEADER_SCAN_ROWS + 4]]
    layout = _find_header(head, known)
    body = raw[layout.index :]
    width = max((len(r) for r in body), default=0)
    cols = list(zip(*[r + [""] * (width - len(r)) for r in body])) if body else []
    grid = pd.DataFrame({i: _column_text(col) for i, col in enumerate(cols)})
    if grid.shape[1] == 0:
        grid = pd.DataFrame(columns=range(width), dtype="str")
    table = RawTable(
        frame=grid,
        row_numbers=np.empty(0, dtype=np.int64),
        file=display,
        path=path,
        sheet=sheet,
        date1904=_workbook_1904(path),
        notes=[],
    )
    return _finish(table, grid, layout, first_row=layout.index + 1)


def _column_text(col: tuple) -> pd.Series:
    """A workbook column as text; text-only and number-only columns skip the per-cell path."""
    kinds = set(map(type, col))
    if kinds <= {str}:
        s = pd.Series(pd.array(col, dtype="str"))
        return s.mask(s.str.strip().eq(""))
    if kinds <= {str, float} and not any(type(v) is str and v.strip() for v in col):
        vals = np.array([v if type(v) is float else np.nan for v in col], dtype="float64")
        whole = np.isfinite(vals) & (np.floor(vals) == vals) & (np.abs(vals) < 2**53)
        out = np.full(len(vals), None, dtype=object)
        out[whole] = vals[whole].astype(np.int64).astype(str)
        rest = np.flatnonzero(~whole & ~np.isnan(vals))
        out[rest] = [repr(float(v)) for v in vals[rest]]
        return pd.Series(pd.array(out, dtype="str"))
    return pd.Series(pd.array([_cell_text(c) for c in col], dtype="str"))


def _cell_text(v: Any) -> str | None:
    """One workbook cell as text: ISO dates, integral floats without '.0', blanks missing."""
    if v is None:
        return None
    if isinstance(v, str):
        return v if v.strip() else None
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        if v != v:
            return None
        if v.is_integer() and abs(v) < 2**63:
            return str(int(v))
        return repr(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, datetime):
        return v.isoformat()
    if isinstance(v, (date, time)):
        return v.isoformat()
    if isinstance(v, timedelta):
        total = int(round(v.total_seconds()))
        sign = "-" if total < 0 else ""
        total = abs(total)
        return f"{sign}{total // 3600}:{total % 3600 // 60:02d}:{total % 60:02d}"
    return str(v)


# --------------------------------------------------------------------------
# parquet


def _read_parquet(path: Path, head_only: bool) -> RawTable:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        if head_only:
            names = pq.read_schema(path).names
            table = pa.table({n: pa.array([], pa.string()) for n in names})
        else:
            table = pq.read_table(path)
    except Exception as exc:
        raise _fail(path, f"cannot be read as Parquet ({str(exc).splitlines()[0]})") from None
    cols = [_arrow_text(table.column(i)) for i in range(table.num_columns)]
    grid = pd.DataFrame({i: c for i, c in enumerate(cols)})
    if grid.shape[1] == 0:
        grid = pd.DataFrame(columns=range(0), dtype="str")
    header = pd.DataFrame([list(table.column_names)], columns=range(table.num_columns), dtype="str")
    grid = pd.concat([header, grid], ignore_index=True) if len(grid) else header
    table_ = RawTable(
        frame=grid, row_numbers=np.empty(0, dtype=np.int64), file=path.name, path=path, notes=[]
    )
    return _finish(table_, grid, HeaderLayout(0), first_row=1)


def _arrow_text(col) -> pd.Series:
    """A Parquet column as text the way a spreadsheet shows it (ISO times, no '.0')."""
    import pyarrow as pa
    import pyarrow.compute as pc

    t = col.type
    if pa.types.is_timestamp(t):
        naive = col.cast(pa.timestamp(t.unit))  # zone-aware values are stored in UTC
        fmt = "%Y-%m-%dT%H:%M:%S" + ("Z" if t.tz else "")
        whole = pc.strftime(naive.cast(pa.timestamp("s"), safe=False), format=fmt)
        return whole.to_pandas().astype("str")
    if pa.types.is_date(t):
        return pc.strftime(col, format="%Y-%m-%d").to_pandas().astype("str")
    if pa.types.is_floating(t):
        vals = col.to_numpy(zero_copy_only=False).astype("float64")
        return pd.Series([_cell_text(v) for v in vals.tolist()], dtype="str")
    if pa.types.is_boolean(t):
        return pd.Series(col.to_pandas()).map({True: "TRUE", False: "FALSE"}).astype("str")
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        s = col.to_pandas().astype("str")
    else:
        try:
            s = col.cast(pa.string()).to_pandas().astype("str")
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            s = pd.Series([None if v is None else str(v) for v in col.to_pylist()], dtype="str")
    return s.where(s.str.strip().ne(""), None)


# --------------------------------------------------------------------------
# header detection


@dataclass
class HeaderLayout:
    index: int  # 0-based position of the header row among the rows read
    skip_after: int = 0  # extra header rows right below it (Qualtrics 2, SurveyMonkey 1)
    merge_second: bool = False  # SurveyMonkey: row below names blank/repeated columns
    note: str = ""


_IMPORT_ID = re.compile(r'^\s*\{\s*"ImportId"', re.I)
_LEGACY_V = re.compile(r"^V\d+$")
_NUMERICISH = re.compile(r"^[\s$€£¥+\-(]*[\d.,:/\s%)-]+$")
_SURVEY_SUB = {"response", "open-ended response", "open ended response", "other (please specify)"}


def _find_header(rows: list[list[str | None]], known: frozenset[str]) -> HeaderLayout:
    """Where the header row is, and which rows below it are more header.

    Qualtrics (a row of {"ImportId":...} two rows below the export tags) and
    its legacy V1,V2 format are recognised by shape; otherwise the row with
    the most known header names (at least 2) wins, else the first row with
    many non-blank, non-numeric cells.
    """
    scan = rows[:HEADER_SCAN_ROWS]
    for r, cells in enumerate(scan):
        vals = [c for c in cells if c]
        if r >= 2 and vals and sum(bool(_IMPORT_ID.match(c)) for c in vals) >= 0.5 * len(vals):
            return HeaderLayout(r - 2, 2, note="Qualtrics export: used the export tags, dropped 2 label rows")
        if (
            len(vals) >= 3
            and r == next((k for k, row in enumerate(scan) if any(row)), -1)
            and r + 1 < len(rows)
            and sum(bool(_LEGACY_V.match(c)) for c in vals) >= 0.8 * len(vals)
        ):
            return HeaderLayout(r + 1, 0, note="legacy Qualtrics export: skipped the V1,V2… row")
    matches = [sum(1 for c in cells if c and _is_known(c, known)) for cells in scan]
    best = max(matches, default=0)
    if best >= 2:
        index = matches.index(best)
    else:
        widths = [sum(1 for c in cells if c) for cells in scan]
        widest = max(widths, default=0)
        index = 0
        for r, cells in enumerate(scan):
            vals = [c for c in cells if c]
            if len(vals) >= max(2, (widest + 1) // 2) and sum(
                1 for c in vals if not _NUMERICISH.match(c)
            ) >= 0.5 * len(vals):
                index = r
                break
    layout = HeaderLayout(index)
    if _is_second_header(rows, index):
        layout.skip_after, layout.merge_second = 1, True
        layout.note = "two header rows (SurveyMonkey style): merged them"
    return layout


def _is_known(cell: str, known: frozenset[str]) -> bool:
    """A known header, also with a trailing '(UTC)' (Stripe) left out."""
    k = normalise_header(cell)
    return k in known or (k.endswith(" utc") and k[:-4].rstrip() in known)


def _is_second_header(rows: list[list[str | None]], h: int) -> bool:
    """SurveyMonkey: the row under the header is blank under its first cells and names sub-columns."""
    if h + 1 >= len(rows):
        return False
    head, sub = rows[h], rows[h + 1]
    if not head or not head[0] or (sub and sub[0]):
        return False
    vals = [(j, c) for j, c in enumerate(sub) if c]
    if not vals:
        return False
    if any(c.strip().lower() in _SURVEY_SUB for _, c in vals):
        return True
    under_gap = 0
    for j, _ in vals:
        above = head[j] if j < len(head) else None
        prev = head[j - 1] if 0 < j <= len(head) else None
        if not above or above == prev:
            under_gap += 1
    return under_gap > 0 and under_gap >= 0.5 * len(vals)


# --------------------------------------------------------------------------
# finishing: names, extra header rows, footers


# Report lines that are never data: dropped when the rest of the row is mostly
# blank, or anywhere in the block of such lines that ends the file.
_FOOTER = re.compile(
    r"""^\s*(?:
        grand\ totals?\b
      | sub-?\ ?totals?\b
      | .*\(\d+\ records?\)\s*$
      | confidential\ information\b
      | copyright\s*(?:\(c\)|©)
      | ©
      | generated\ by:
      | total\ for\b
      | totals?\s*:?\s*$
      | (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday),\s+\w+\s+\d{1,2},\s+\d{4}
    )""",
    re.I | re.X,
)
# Xero's `Total <account>`: also a company name ("Total Wine & More"), so only
# dropped when the row is mostly blank and carries an amount.
_FOOTER_WEAK = re.compile(r"^\s*total\s+\S", re.I)
_AMOUNT = re.compile(r"^[\s$€£¥(+-]*\d[\d.,\s]*\)?$")


def _finish(
    table: RawTable, grid: pd.DataFrame, layout: HeaderLayout, first_row: int
) -> RawTable:
    """Name the columns, drop extra header rows, blank rows and footers; set row numbers."""
    n = len(grid)
    width = grid.shape[1]
    header = [grid.iat[0, j] if n else None for j in range(width)]
    header = [None if (h is None or h is pd.NA or h != h) else str(h) for h in header]
    if layout.merge_second and n > 1:
        sub = [grid.iat[1, j] for j in range(width)]
        merged = []
        for j, h in enumerate(header):
            s = sub[j] if isinstance(sub[j], str) else None
            prev = header[j - 1] if j else None
            merged.append(s if s and (not h or h == prev) else h)
        header = merged
    skip = 1 + layout.skip_after
    body = grid.iloc[skip:].reset_index(drop=True)
    rownums = np.arange(first_row + skip, first_row + n, dtype=np.int64)
    notes = table.notes
    if layout.index:
        notes.append(f"skipped {layout.index} title row{'s' if layout.index > 1 else ''} above the header")
    if layout.note:
        notes.append(layout.note)

    unnamed = np.array([not (h and h.strip()) for h in header], dtype=bool)
    keep, footer, blank = _row_kinds(body, unnamed)
    if not keep.all():
        k = int(keep.sum())
        if keep[:k].all():  # only trailing rows go (the usual footer): a slice, no copy
            body = body.iloc[:k]
        else:
            body = body.loc[keep].reset_index(drop=True)
        table.dropped_footer_rows = rownums[footer].tolist()
        rownums = rownums[keep]
        if footer.any():
            notes.append(f"dropped {int(footer.sum())} total/footer row(s)")
        if blank.any():
            notes.append(f"dropped {int(blank.sum())} blank row(s)")

    names = _column_names(header)
    # columns with no header and no value (trailing delimiters, QuickBooks' indent column)
    empty_unnamed = [
        j for j, h in enumerate(header) if not (h and h.strip()) and not body[j].notna().any()
    ]
    if empty_unnamed:
        body = body.drop(columns=empty_unnamed)
        names = [nm for j, nm in enumerate(names) if j not in set(empty_unnamed)]
    body.columns = names
    table.frame = body
    table.row_numbers = rownums
    table.header_row = first_row
    return table


def _row_kinds(
    body: pd.DataFrame, unnamed: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(keep, footer, blank) masks. Vectorised: regexes run only on sparse rows and the last row.

    A row is a footer when its first non-blank cell (in the first two
    columns) reads like a total, report or copyright line and the rest of the
    row is mostly blank, or when it is one of those lines at the very end.
    A row whose only cell sits in a column without header is a group heading
    (QuickBooks `Customer,,,` in its indent column).
    """
    n, width = body.shape
    if n == 0 or width == 0:
        z = np.zeros(n, dtype=bool)
        return ~z, z, z
    # per column, not as an n × width matrix: columns without missing cells cost nothing
    count = np.zeros(n, dtype=np.int64)
    first = np.zeros(n, dtype=np.int64)  # first filled column (0 for a blank row)
    for j in range(width - 1, -1, -1):
        col = body.iloc[:, j]
        backing = getattr(col.array, "_pa_array", None)  # Arrow-backed text
        if backing is not None and backing.null_count == 0:
            count += 1
            first[:] = j
            continue
        f = col.notna().to_numpy(dtype=bool)
        count += f
        first[f] = j
    blank = count == 0
    sparse = (count > 0) & (count <= max(2, width // 2)) & (first <= 1)
    last_filled = np.flatnonzero(~blank)
    candidates = np.flatnonzero(sparse)
    if last_filled.size:
        candidates = np.union1d(candidates, last_filled[-3:])
    pattern = np.zeros(n, dtype=bool)
    weak = np.zeros(n, dtype=bool)
    if candidates.size:
        c0 = body.iloc[candidates, 0]
        lead = c0.where(c0.notna(), body.iloc[candidates, 1] if width > 1 else c0).fillna("")
        first_ok = first[candidates] <= 1
        pattern[candidates] = lead.str.match(_FOOTER).to_numpy(dtype=bool) & first_ok
        weak_rows = candidates[lead.str.match(_FOOTER_WEAK).to_numpy(dtype=bool) & first_ok]
        for r in weak_rows[sparse[weak_rows]]:  # few rows: those that start with "Total "
            rest = body.iloc[r, first[r] + 1 :].dropna()
            weak[r] = any(_AMOUNT.match(v) for v in rest)
    # rows after the last row that is neither blank nor a footer line
    ordinary = ~(blank | pattern | weak)
    last_data = np.flatnonzero(ordinary)
    trailing = np.arange(n) > (last_data[-1] if last_data.size else -1)
    footer = (pattern & (sparse | trailing)) | weak
    if width >= 2:
        footer |= (count == 1) & unnamed[first]
    keep = ~(blank | footer)
    return keep, footer, blank


def _column_names(header: list[str | None]) -> list[str]:
    """Stripped header cells, BOM removed; blanks 'Unnamed: i'; duplicates 'X', 'X.1', ..."""
    out: list[str] = []
    seen: set[str] = set()
    for i, h in enumerate(header):
        name = (h or "").replace("\ufeff", "").strip()
        if not name:
            name = f"Unnamed: {i}"
        base, k = name, 0
        while name in seen:
            k += 1
            name = f"{base}.{k}"
        seen.add(name)
        out.append(name)
    return out
