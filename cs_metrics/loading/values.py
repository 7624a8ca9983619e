"""Vectorised parsers that turn exported text cells into typed values.

Every parser takes a Series of text and returns a `Parsed`: the values, a
`bad` mask of non-blank cells that could not be read (the caller turns them
into row issues) and, when a column-wide choice had to be made (day/month
order, decimal comma), a note saying which and why.  Parsers never raise on
bad cells.

Hot paths run on pyarrow compute kernels (RE2 regexes, `strptime`) and numpy
over the whole column.  Dates: forms are detected on an evenly spaced sample,
the column is parsed with those forms, the sample/parse round repeats on what
is left, and a small remainder is tried against every known form (after
tidying zones, fractions and 'p.m.').  Numbers: digit groups are cut out at
byte level in numpy (arrow's regex *replace* is slow), and the few distinct
"shapes" of a column (`$#`, `(#)`, `# EUR`) are read once each.  Python loops
only over formats or shapes, never over cells.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cs_metrics.loading.headers import normalise_header

__all__ = [
    "Parsed",
    "duration_unit_from_header",
    "extract_currency",
    "is_blank",
    "parse_bool",
    "parse_category",
    "parse_datetime",
    "parse_duration",
    "parse_id",
    "parse_number",
    "parse_text",
]

_STR = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas 3's default `str` dtype
_NAT = np.iinfo(np.int64).min
_NS_PER_S = 1_000_000_000
_NS_PER_DAY = 86_400 * _NS_PER_S
_MIN_YEAR, _MAX_YEAR = 1900, 2200  # plausible for business data; rejects %Y reading "26" as year 26


@dataclass
class Parsed:
    """Result of parsing one column."""

    values: pd.Series  # parsed values, same index as the input
    bad: pd.Series  # bool: True where a non-blank cell could not be parsed
    note: str | None = None  # a column-wide choice the user should know about
    info: dict = field(default_factory=dict)  # machine-readable details of that choice


# --------------------------------------------------------------------------- text helpers


def _text(s: Any) -> pd.Series:
    """The input as a stripped pyarrow-backed `str` Series (missing stays missing).

    Most exported columns have nothing to strip; a byte-level look at each
    value's first and last byte proves that and saves a copy of the column.
    """
    if not isinstance(s, pd.Series):
        s = pd.Series(s)
    if s.dtype != _STR:
        s = s.astype(_STR)
    if not _may_need_strip(_arrow(s)):
        return s
    return s.str.strip()


def _may_need_strip(arr: pa.ChunkedArray) -> bool:
    """False only when no value starts or ends with a byte `str.strip` might remove:
    ASCII control and space bytes (< 0x21), and every non-ASCII byte (>= 0x7F,
    Unicode spaces), to be safe."""
    for c in arr.chunks:
        if not len(c):
            continue
        if not (pa.types.is_string(c.type) or pa.types.is_large_string(c.type)):
            return True
        bufs = c.buffers()
        if bufs[2] is None:
            continue  # no bytes at all: only empty strings and nulls
        otype = np.int64 if pa.types.is_large_string(c.type) else np.int32
        offs = np.frombuffer(bufs[1], dtype=otype)[c.offset : c.offset + len(c) + 1]
        data = np.frombuffer(bufs[2], dtype=np.uint8)
        starts, ends = offs[:-1], offs[1:]
        ne = ends > starts
        if not ne.all():
            starts, ends = starts[ne], ends[ne]
        first, last = data[starts], data[ends - 1]
        if ((first < 0x21) | (first >= 0x7F)).any() or ((last < 0x21) | (last >= 0x7F)).any():
            return True
    return False


# Columns this long with few distinct values are parsed once per distinct value.
_DISTINCT_MIN_ROWS = 5000


def _distinct(arr: Any) -> tuple[Any, np.ndarray, np.ndarray] | None:
    """(distinct values, row → distinct index, rows per distinct value) of non-null
    `arr` when it repeats a lot (counts, minutes, statuses), else None."""
    n = len(arr)
    if n < _DISTINCT_MIN_ROWS:
        return None
    sample = _take(arr, _sample_rows(np.arange(n)))
    if len(pc.unique(sample)) > len(sample) // 2:
        return None
    a = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    enc = pc.dictionary_encode(a)
    if len(enc.dictionary) > n // 4 or enc.null_count:
        return None
    idx = np.asarray(enc.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    return enc.dictionary, idx, np.bincount(idx, minlength=len(enc.dictionary))


def _arrow(t: pd.Series) -> pa.ChunkedArray:
    """The Arrow array behind a `str` Series (no copy)."""
    arr = t.array.__arrow_array__()
    return arr if isinstance(arr, pa.ChunkedArray) else pa.chunked_array([arr])


def _np_bool(a: Any) -> np.ndarray:
    """Arrow boolean result → numpy bool, nulls as False."""
    return np.array(pc.fill_null(a, False).to_numpy(zero_copy_only=False), dtype=bool)


def _match(arr: Any, pattern: str) -> np.ndarray:
    return _np_bool(pc.match_substring_regex(arr, pattern))


def _blank_np(t: pd.Series) -> np.ndarray:
    return np.asarray(t.isna(), dtype=bool) | np.asarray(t.eq("").fillna(True), dtype=bool)


def is_blank(s: pd.Series) -> pd.Series:
    """True where a cell is missing, empty or whitespace only."""
    t = _text(s)
    return pd.Series(_blank_np(t), index=t.index, dtype=bool)


def _take(arr: Any, rows: np.ndarray) -> Any:
    """Rows of an Arrow array; `rows` is sorted and unique, so all rows means no copy."""
    if rows.size == len(arr):
        return arr
    return arr.take(pa.array(rows, type=pa.int64()))


def _field(struct: Any, name: str) -> Any:
    return pc.struct_field(struct, name)


def _to_int(a: Any, fill: int = 0) -> np.ndarray:
    """Arrow digit strings (possibly empty or null) → int64 numpy, `fill` for empty."""
    a = pc.if_else(pc.equal(pc.fill_null(a, ""), ""), str(fill), a)
    return np.array(pc.cast(a, pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)


def _to_float(a: Any) -> np.ndarray:
    return np.array(pc.cast(a, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)


def _bad_series(bad: np.ndarray, index: pd.Index) -> pd.Series:
    return pd.Series(bad, index=index, dtype=bool)


# --------------------------------------------------------------------------- dates

_TIMES = [
    "",
    " %H:%M",
    " %H:%M:%S",
    " %I:%M %p",
    " %I:%M:%S %p",
    " %I:%M%p",
    ", %H:%M",
    ", %H:%M:%S",
    ", %I:%M %p",
    ", %I:%M:%S %p",
    "T%H:%M",
    "T%H:%M:%S",
]
# Forms whose field order is fixed (year first, or a month name).
_FREE_DATES = [
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%d %b %Y",
    "%d-%b-%Y",
    "%d/%b/%Y",
    "%d.%b.%Y",
    "%d %b %y",
    "%d-%b-%y",
    "%d/%b/%y",
    "%d %b, %Y",
    "%b %d, %Y",
    "%b %d %Y",
    "%b-%d-%Y",
    "%Y-%b-%d",
    "%Y/%b/%d",
    "%Y %b %d",
    "%a, %d %b %Y",
    "%a %d %b %Y",
    "%a, %b %d, %Y",
    "%a %b %d %Y",
]
# All-numeric forms whose day/month order is decided per column: (day-first, month-first).
_NUM_DATES = [(f"%d{sep}%m{sep}{y}", f"%m{sep}%d{sep}{y}") for sep in "/.-" for y in ("%Y", "%y")]
_NUMERIC = r"^\d+(?:\.\d+)?$"
_ISO_PREFIX = r"^\d{4}-\d{1,2}-\d{1,2}(?:[T ]\d|$)"
_DATE_TOKEN_SPLIT = r"[ /.,\-]+"


@dataclass(frozen=True)
class _Fmt:
    fmt: str
    day_idx: int  # position of the day among the date tokens (-1: no check), to catch 31/02


def _fmt(date_part: str, time_part: str) -> _Fmt:
    tokens = [t for t in re.split(_DATE_TOKEN_SPLIT, date_part) if t]
    return _Fmt(date_part + time_part, tokens.index("%d"))


_FREE_FMTS = [_fmt(d, t) for d in _FREE_DATES for t in _TIMES]
_NUM_FMTS = [(_fmt(dm, t), _fmt(md, t)) for dm, md in _NUM_DATES for t in _TIMES]


_MIN_S = int((np.datetime64(f"{_MIN_YEAR}-01-01", "s")).astype(np.int64))
_MAX_S = int((np.datetime64(f"{_MAX_YEAR + 1}-01-01", "s")).astype(np.int64))
_ROLLOVER_DAY = r"(?:^|\D)(?:29|30|31)(?:\D|$)"


def _strptime(arr: Any, f: _Fmt, check_day: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Parse with one format: (ns since epoch, ok). Rejects implausible years (strptime's
    %Y reads '26' as year 26) and days that strptime rolled into the next month
    (31/02 → 03/03)."""
    res = pc.strptime(arr, format=f.fmt, unit="s", error_is_null=True)
    secs = np.array(
        pc.fill_null(pc.cast(res, pa.int64()), _MIN_S - 1).to_numpy(zero_copy_only=False)
    )
    ok = (secs >= _MIN_S) & (secs < _MAX_S)
    if check_day and f.day_idx >= 0 and ok.any():
        # A roll-over needs a day token of 29-31: only those values get the costly check.
        suspect = np.flatnonzero(ok & _match(arr, _ROLLOVER_DAY))
        if suspect.size:
            sub = arr.take(pa.array(suspect, type=pa.int64()))
            tok = pc.list_element(pc.split_pattern_regex(sub, _DATE_TOKEN_SPLIT), f.day_idx)
            given = _to_int(pc.struct_field(pc.extract_regex(tok, r"^(?P<d>\d{1,2})"), "d"), -1)
            day = _ymd(secs[suspect] * _NS_PER_S)[2]
            ok[suspect[given != day]] = False
    return secs * _NS_PER_S, ok


def _ymd(ns: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month, day of valid (non-NaT) ns timestamps, via pandas' C field accessors."""
    idx = pd.DatetimeIndex(ns.view("M8[ns]"))
    return (
        np.asarray(idx.year, dtype=np.int64),
        np.asarray(idx.month, dtype=np.int64),
        np.asarray(idx.day, dtype=np.int64),
    )


def _from_ymd(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of (year, month, day); callers guarantee a valid day."""
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * ((month + 9) % 12) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468


def _cascade(arr: Any, formats: list[_Fmt]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Try formats in order, each on the values no earlier format could read."""
    n = len(arr)
    out = np.full(n, _NAT, dtype=np.int64)
    ok = np.zeros(n, dtype=bool)
    used: list[str] = []
    rem = np.arange(n)
    for f in formats:
        if not rem.size:
            break
        sub = arr.take(pa.array(rem, type=pa.int64())) if rem.size < n else arr
        ns, good = _strptime(sub, f)
        if good.any():
            used.append(f.fmt)
            out[rem[good]] = ns[good]
            ok[rem[good]] = True
            rem = rem[~good]
    return out, ok, used


# The plain ISO forms most exports use, with every field in its valid range (so
# strptime, which reads second 60 and rolls 31/04 over, cannot differ from pandas;
# day 29-31 in a short month is caught by comparing the day read back).
_ISO_DATE_RX = r"\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"
_ISO_TIME_RX = r"(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d"
_PLAIN_ISO = [
    (f"^{_ISO_DATE_RX} {_ISO_TIME_RX}$", "%Y-%m-%d %H:%M:%S"),
    (f"^{_ISO_DATE_RX}T{_ISO_TIME_RX}$", "%Y-%m-%dT%H:%M:%S"),
    (f"^{_ISO_DATE_RX}$", "%Y-%m-%d"),
]


def _iso(arr: Any) -> tuple[np.ndarray, np.ndarray]:
    """ISO 8601 (any offsets, fractions): (UTC ns, ok). Plain 'YYYY-MM-DD[ HH:MM:SS]'
    values are read by arrow's strptime (several times faster, no Python strings);
    the rest by pandas' ISO parser, which gives the same result on the plain ones."""
    ns, ok = _iso_plain(arr)
    rem = np.flatnonzero(~ok)
    if rem.size:
        ns[rem], ok[rem] = _iso_pandas(_take(arr, rem))
    return ns, ok


def _iso_plain(arr: Any) -> tuple[np.ndarray, np.ndarray]:
    """The plain ISO values of `arr` (see _PLAIN_ISO) read by strptime: (ns, ok).
    Each value is read on its own, so a column of few distinct values (dates,
    period starts) is read once per distinct value."""
    d = _distinct(arr) if arr.null_count == 0 else None
    if d is not None:
        uniq, idx, _ = d
        ns, ok = _iso_plain_each(uniq)
        return ns[idx], ok[idx]
    return _iso_plain_each(arr)


def _iso_plain_each(arr: Any) -> tuple[np.ndarray, np.ndarray]:
    n = len(arr)
    ns = np.full(n, _NAT, dtype=np.int64)
    ok = np.zeros(n, dtype=bool)
    rem = np.arange(n)
    for rx, fmt in _PLAIN_ISO:
        if not rem.size:
            break
        sub = _take(arr, rem)
        hit = np.flatnonzero(_match(sub, rx))
        if not hit.size:
            continue
        vals = _take(sub, hit)
        got = pc.strptime(vals, format=fmt, unit="s", error_is_null=True)
        secs = pc.fill_null(pc.cast(got, pa.int64()), _MIN_S - 1).to_numpy(zero_copy_only=False)
        good = (secs >= _MIN_S) & (secs < _MAX_S)
        # a day of 29-31 may have rolled over (31/04 → 01/05): read the day back
        given = _day_digits(vals)
        suspect = np.flatnonzero(good & (given >= 29))
        if suspect.size:
            good[suspect] &= _ymd(secs[suspect] * _NS_PER_S)[2] == given[suspect]
        rows = rem[hit[good]]
        ns[rows], ok[rows] = secs[good] * _NS_PER_S, True
        rem = rem[~ok[rem]]
    return ns, ok


def _day_digits(arr: Any) -> np.ndarray:
    """The day written at characters 8-9 of non-null 'YYYY-MM-DD…' values (ASCII there,
    as `_PLAIN_ISO` checked), read from the bytes: no new string column."""
    out = []
    for c in arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]:
        if not len(c):
            continue
        bufs = c.buffers()
        otype = np.int64 if pa.types.is_large_string(c.type) else np.int32
        starts = np.frombuffer(bufs[1], dtype=otype)[c.offset : c.offset + len(c)]
        data = np.frombuffer(bufs[2], dtype=np.uint8)
        out.append((data[starts + 8].astype(np.int16) - 48) * 10 + (data[starts + 9] - 48))
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int16)


def _iso_pandas(arr: Any) -> tuple[np.ndarray, np.ndarray]:
    """ISO 8601 (any offsets, fractions) via pandas' C parser: (UTC ns, ok)."""
    ser = pd.Series(pd.array(arr, dtype=_STR)) if len(arr) else pd.Series([], dtype=_STR)
    res = pd.to_datetime(ser, format="ISO8601", utc=True, errors="coerce")
    ns = np.asarray(res.dt.as_unit("ns").array.asi8, dtype=np.int64)
    ok = ns != _NAT
    years = res.dt.year.to_numpy(dtype=np.float64, na_value=np.nan)
    ok &= (years >= _MIN_YEAR) & (years <= _MAX_YEAR)
    return ns, ok


@dataclass
class _DayMonth:
    """Day/month evidence and decision for the all-numeric forms of one column."""

    only_dm: int = 0  # values readable only day-first (first field > 12)
    only_md: int = 0  # values readable only month-first
    differ: int = 0  # values both orders read, differently
    dayfirst: bool | None = None
    note: str | None = None
    ambiguous: bool = False
    kind: str | None = None  # what the note is: ambiguous, inconsistent, against-config


def _decide_order(dm: _DayMonth, dayfirst: bool | None, default_dayfirst: bool) -> None:
    def word(d: bool) -> str:
        return "day-first" if d else "month-first"

    if dayfirst is not None:
        dm.dayfirst = dayfirst
        against = dm.only_md if dayfirst else dm.only_dm
        if against:
            dm.kind = "against-config"
            dm.note = (
                f"dates read as {word(dayfirst)} (config dates.dayfirst); "
                f"{against} value(s) only make sense {word(not dayfirst)} and were set aside"
            )
        elif dm.differ and not (dm.only_dm or dm.only_md):
            dm.ambiguous = True
            dm.kind = "ambiguous"
            dm.note = (
                f"ambiguous day/month order (no day above 12): read as {word(dayfirst)} "
                "as config dates.dayfirst says"
            )
    elif dm.only_dm or dm.only_md:
        if dm.only_dm and dm.only_md:
            if dm.only_dm != dm.only_md:
                dm.dayfirst = dm.only_dm > dm.only_md
            else:
                dm.dayfirst = default_dayfirst
            minority = min(dm.only_dm, dm.only_md)
            dm.kind = "inconsistent"
            dm.note = (
                f"inconsistent day/month order: {dm.only_dm} value(s) are day-first and "
                f"{dm.only_md} month-first; read as {word(dm.dayfirst)} and set aside {minority}"
            )
        else:
            dm.dayfirst = bool(dm.only_dm)
    elif dm.differ:
        dm.dayfirst = default_dayfirst
        dm.ambiguous = True
        dm.kind = "ambiguous"
        why = (
            "the file uses decimal commas or ';'"
            if default_dayfirst
            else "the default when the file gives no hint"
        )
        dm.note = (
            f"ambiguous day/month order (no day above 12): read as {word(default_dayfirst)} "
            f"because {why}; set dates.dayfirst in the config to change this"
        )


def _numeric_block(
    arr: Any,
    pairs: list[tuple[_Fmt, _Fmt]],
    dm: _DayMonth,
    dayfirst: bool | None,
    default_dayfirst: bool,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """All-numeric dates (3/5/2026): decide the day/month order once per column.

    One pass in the order most sampled values read in; a value with both readings
    (fields <= 12) is flipped arithmetically when the other order wins, so only
    values that fail the first pass need a pass in the other order.
    """
    if dm.dayfirst is not None:  # already decided by an earlier pass on this column
        return _cascade(arr, [p[0] if dm.dayfirst else p[1] for p in pairs])
    sample = _take(arr, _sample_rows(np.arange(len(arr))))
    first_dm = bool(_cascade(sample, [p[0] for p in pairs])[1].mean() >= 0.5)
    a, b = (0, 1) if first_dm else (1, 0)
    ns_a, ok_a, used_a = _cascade(arr, [p[a] for p in pairs])
    rest = np.flatnonzero(~ok_a)
    ns_b, ok_b, used_b = _cascade(_take(arr, rest), [p[b] for p in pairs])
    year, month, day = _ymd(np.where(ok_a, ns_a, 0))  # as read in order a
    both = ok_a & (day <= 12)
    only_a, only_b = int((ok_a & (day > 12)).sum()), int(ok_b.sum())
    dm.only_dm += only_a if first_dm else only_b
    dm.only_md += only_b if first_dm else only_a
    dm.differ += int((both & (day != month)).sum())
    if not (ok_a.any() or ok_b.any()):
        return ns_a, ok_a, []
    _decide_order(dm, dayfirst, default_dayfirst)
    if dm.dayfirst is None or dm.dayfirst == first_dm:  # None: both readings agree everywhere
        return ns_a, ok_a, used_a
    twin = {p[a].fmt: p[b].fmt for p in pairs}
    ns = np.full(len(ns_a), _NAT, dtype=np.int64)
    ns[both] = (
        _from_ymd(year[both], day[both], month[both]) * _NS_PER_DAY + ns_a[both] % _NS_PER_DAY
    )
    ns[rest[ok_b]] = ns_b[ok_b]
    ok = both.copy()
    ok[rest[ok_b]] = True
    return ns, ok, list(dict.fromkeys([twin[u] for u in used_a] + used_b))


_TZ_TAIL = (
    r"^(?P<body>.*\d:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?:\s*[AaPp][Mm])?)\s*"
    r"(?P<tz>Z|UTC|GMT|(?:UTC|GMT)?\s*[+-]\d{2}(?::?\d{2})?)$"
)
_FRACTION = r"^(?P<a>.*:\d{2})[.,](?P<f>\d{1,9})(?P<b>(?:\s*[AaPp][Mm])?)$"


def _tidy(arr: Any) -> tuple[Any, np.ndarray]:
    """Second chance for values no format read: 'p.m.' → 'PM', 'Sept' → 'Sep', and a
    trailing zone ('GMT-04:00', ' +0200', 'Z') and fractional seconds split off, as
    strptime reads neither. Returns (tidied text, ns to add)."""
    arr = pc.replace_substring_regex(arr, r"\b([AaPp])\.\s?[Mm]\.?", r"\1M")
    arr = pc.replace_substring_regex(arr, r"(?i)\bsept\b\.?", "Sep")
    arr = pc.replace_substring_regex(arr, r"\b([A-Za-z]{3})\.(\s)", r"\1\2")  # 'Sep. 2'
    tz = pc.extract_regex(arr, _TZ_TAIL)
    has_tz = _np_bool(pc.is_valid(tz))
    body = pc.if_else(pc.is_valid(tz), _field(tz, "body"), arr)
    fr = pc.extract_regex(body, _FRACTION)
    joined = pc.binary_join_element_wise(
        _field(fr, "a"), _field(fr, "b"), pa.scalar("", pa.large_string())
    )
    body = pc.if_else(pc.is_valid(fr), joined, body)
    frac_txt = pc.fill_null(_field(fr, "f"), "")
    frac_ns = _to_int(pc.utf8_rpad(frac_txt, 9, "0"), fill=0)
    frac_ns[_np_bool(pc.equal(frac_txt, ""))] = 0
    off = pc.extract_regex(
        pc.fill_null(_field(tz, "tz"), ""), r"(?P<sign>[+-])(?P<h>\d{2}):?(?P<m>\d{2})?$"
    )
    off_min = _to_int(_field(off, "h")) * 60 + _to_int(_field(off, "m"))
    sign = np.where(_np_bool(pc.equal(_field(off, "sign"), "-")), -1, 1)
    off_ns = np.where(has_tz, sign * off_min * 60 * _NS_PER_S, 0)
    return body, frac_ns - off_ns


_EXHAUSTIVE_MAX = 5000  # try every known form only on a remainder this small


def _parse_rounds(
    arr: Any, dm: _DayMonth, dayfirst: bool | None, default_dayfirst: bool
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Detect forms on a sample of the unread values, parse them column-wide, repeat
    while that reads something; a small remainder is tried against every form."""
    n = len(arr)
    out = np.full(n, _NAT, dtype=np.int64)
    ok = np.zeros(n, dtype=bool)
    used: list[str] = []
    rem = np.arange(n)
    exhaustive = False
    while rem.size:
        whole = rem.size <= _SAMPLE_SIZE  # the sample is every unread value
        if exhaustive or rem.size <= _EXHAUSTIVE_MAX and used:
            exhaustive = True
            rem = rem[_match(_take(arr, rem), r"\d")]  # no digit, no date
            if not rem.size:
                break
            free, num = _plausible(_take(arr, rem))
            hits = {"iso": 1, "free": 1, "num": 1}
        else:
            hits, free, num = _sample_formats(_take(arr, _sample_rows(rem)))
        before = rem.size
        # the family most sampled values use goes first: later ones see fewer rows
        for family in sorted(hits, key=lambda k: -hits[k]):
            if not rem.size or not hits[family]:
                continue
            sub = _take(arr, rem)
            if family == "iso":
                # plain values first (they all have the ISO prefix), so the prefix
                # regex and pandas' parser only see the others
                ns, good = _iso_plain(sub)
                other = np.flatnonzero(~good)
                if other.size:
                    rows = other[_match(_take(sub, other), _ISO_PREFIX)]
                    if rows.size:
                        ns[rows], good[rows] = _iso_pandas(_take(sub, rows))
                good_rows = np.flatnonzero(good)
                u = ["ISO8601"] if good.any() else []
            elif family == "free":
                ns, good, u = _cascade(sub, [_FREE_FMTS[i] for i in free])
                good_rows = np.flatnonzero(good)
                ns = ns[good]
                good = np.ones(good_rows.size, bool)
            else:
                pairs = [_NUM_FMTS[i] for i in num]
                ns, good, u = _numeric_block(sub, pairs, dm, dayfirst, default_dayfirst)
                good_rows = np.flatnonzero(good)
                ns = ns[good]
                good = np.ones(good_rows.size, bool)
            out[rem[good_rows]], ok[rem[good_rows]] = ns[good], True
            used += u
            rem = rem[~ok[rem]]
        if exhaustive or whole:
            break
        if rem.size == before:  # the sample found nothing new: last, exhaustive round if small
            if rem.size > _EXHAUSTIVE_MAX:
                break
            exhaustive = True
    return out, ok, used


def _numeric_dates(x: np.ndarray, text: Any, date1904: bool) -> tuple[np.ndarray, np.ndarray, str]:
    """Excel serials, epochs (s or ms) or YYYYMMDD: the kind that most values fit, per column."""
    serial = (x >= 20_000) & (x <= 80_000)
    secs = (x >= 1e8) & (x <= 4e9)
    millis = (x >= 1e11) & (x <= 4e12)
    ymd = (x >= 19_000_101) & (x <= 22_001_231) & (x == np.floor(x))
    counts = {"excel_serial": serial.sum(), "epoch": (secs | millis).sum(), "yyyymmdd": ymd.sum()}
    kind = max(counts, key=lambda k: counts[k])
    n = len(x)
    out = np.full(n, _NAT, dtype=np.int64)
    whole = np.floor(np.where(np.isfinite(x), x, 0)).astype(np.int64)
    frac = np.where(np.isfinite(x), x, 0) - whole
    if kind == "excel_serial":
        # 1900 system: serial 1 = 1900-01-01 but Excel counts a 29 Feb 1900 that never was,
        # so from serial 61 on the origin is 1899-12-30. 1904 system: serial 0 = 1904-01-01.
        origin = np.datetime64("1904-01-01" if date1904 else "1899-12-30", "ns").astype(np.int64)
        ms = np.round(frac * 86_400_000).astype(np.int64)
        out = origin + whole * _NS_PER_DAY + ms * 1_000_000
        ok = serial
    elif kind == "epoch":
        us_s = np.round(frac * 1e6).astype(np.int64)  # fractional seconds to the microsecond
        us_ms = np.round(frac * 1e3).astype(np.int64)  # fractional milliseconds likewise
        out = np.where(millis, whole * 1_000_000 + us_ms * 1_000, whole * _NS_PER_S + us_s * 1_000)
        ok = secs | millis
    else:
        rows = np.flatnonzero(ymd)
        ok = np.zeros(n, dtype=bool)
        if rows.size:
            ns, good = _strptime(_take(text, rows), _Fmt("%Y%m%d", -1))
            # day check by token does not apply to packed digits: compare the day directly
            day = whole[rows] % 100
            d_ok = good & (pd.to_datetime(ns, unit="ns").day.to_numpy() == day)
            out[rows[d_ok]], ok[rows[d_ok]] = ns[d_ok], True
    out = np.where(ok, out, _NAT)
    return out, ok, kind


_SAMPLE_SIZE = 1000


def _sample_rows(rows: np.ndarray, k: int = _SAMPLE_SIZE) -> np.ndarray:
    """Evenly spaced rows over the whole column, so late format changes are seen."""
    if rows.size <= k:
        return rows
    return rows[np.linspace(0, rows.size - 1, k).astype(np.int64)]


# Characters a format needs in the text; formats needing one no value has are skipped.
_FEATURES = {"letter": r"[A-Za-z]", ":": ":", ",": ",", "/": "/", ".": r"\.", "-": "-", " ": " "}


def _needs(fmt: str) -> frozenset[str]:
    need = {c for c in ":,/.- " if c in fmt}
    if any(x in fmt for x in ("%b", "%a", "%p", "T")):
        need.add("letter")
    return frozenset(need)


_FREE_NEEDS = [_needs(f.fmt) for f in _FREE_FMTS]
_NUM_NEEDS = [_needs(p[0].fmt) for p in _NUM_FMTS]


def _plausible(arr: Any) -> tuple[list[int], list[int]]:
    """Indexes of the free and numeric formats whose literal characters occur in arr."""
    present = {k for k, rx in _FEATURES.items() if _match(arr, rx).any()}
    free = [i for i, need in enumerate(_FREE_NEEDS) if need <= present]
    return free, [i for i, need in enumerate(_NUM_NEEDS) if need <= present]


def _sample_formats(sample: Any) -> tuple[dict[str, int], list[int], list[int]]:
    """Which forms a sample uses: hits per family (iso, free, num), then indexes into
    _FREE_FMTS and _NUM_FMTS, most used first. Each format is only tried on sample
    values still unread."""
    iso = _match(sample, _ISO_PREFIX)
    left = _take(sample, np.flatnonzero(~iso))
    found: list[tuple[int, int, int]] = []  # (hits, kind, index)
    hits = {"iso": int(iso.sum()), "free": 0, "num": 0}
    if not len(left):
        return hits, [], []
    free_ok, num_ok = _plausible(left)
    candidates = [(0, i, (_FREE_FMTS[i],)) for i in free_ok]
    candidates += [(1, i, _NUM_FMTS[i]) for i in num_ok]
    for kind, i, fmts in candidates:
        if not len(left):
            break
        hit = np.zeros(len(left), dtype=bool)
        for f in fmts:
            hit |= _strptime(left, f, check_day=False)[1]
        if hit.any():
            found.append((int(hit.sum()), kind, i))
            left = _take(left, np.flatnonzero(~hit))
    found.sort(reverse=True)
    for h, k, _ in found:
        hits["free" if k == 0 else "num"] += h
    return hits, [i for _, k, i in found if k == 0], [i for _, k, i in found if k == 1]


def parse_datetime(
    s: pd.Series,
    *,
    dayfirst: bool | None = None,
    default_dayfirst: bool = False,
    date1904: bool = False,
) -> Parsed:
    """Dates and datetimes of any common export form → naive UTC datetime64[ns].

    Zone-aware values are converted to UTC. The day/month order of all-numeric
    dates is decided per column from the values; `dayfirst` (config) overrides,
    `default_dayfirst` is used when the values cannot tell (R13). An all-numeric
    column is read as Excel serials, Unix epochs (> 1e11 → ms) or YYYYMMDD.
    """
    if not isinstance(s, pd.Series):
        s = pd.Series(s)
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        v = s.dt.tz_convert("UTC").dt.tz_localize(None).dt.as_unit("ns")
        return Parsed(v, _bad_series(np.zeros(len(s), bool), s.index), None, {"kind": "datetime"})
    if pd.api.types.is_datetime64_dtype(s.dtype):
        v = s.astype("datetime64[ns]")
        return Parsed(v, _bad_series(np.zeros(len(s), bool), s.index), None, {"kind": "datetime"})
    t = _text(s)
    n = len(t)
    blank = _blank_np(t)
    nb = np.flatnonzero(~blank)
    out = np.full(n, _NAT, dtype=np.int64)
    ok = np.zeros(n, dtype=bool)
    info: dict[str, Any] = {
        "kind": "text",
        "formats": [],
        "dayfirst": None,
        "ambiguous": False,
        "order_note": None,  # ambiguous / inconsistent / against-config when there is a note
    }
    note: str | None = None

    def done() -> Parsed:
        values = pd.Series(out.view("M8[ns]"), index=t.index)
        return Parsed(values, _bad_series(~blank & ~ok, t.index), note, info)

    if not nb.size:
        return done()
    arr = _arrow(t)
    nb_arr = _take(arr, nb)

    sample = _take(arr, _sample_rows(nb))
    if _match(sample, _NUMERIC).all() and _match(nb_arr, _NUMERIC).all():
        ns, good, kind = _numeric_dates(_to_float(nb_arr), nb_arr, date1904)
        out[nb[good]], ok[nb[good]] = ns[good], True
        info.update(
            kind=kind, formats=[kind], date1904=date1904 if kind == "excel_serial" else None
        )
        return done()

    dm = _DayMonth()
    ns, good, used = _parse_rounds(nb_arr, dm, dayfirst, default_dayfirst)
    out[nb[good]], ok[nb[good]] = ns[good], True
    rest = np.flatnonzero(~good)
    if rest.size:  # second chance after tidying zones, fractions, 'p.m.'
        body, extra_ns = _tidy(_take(nb_arr, rest))
        ns, good, u = _parse_rounds(body, dm, dayfirst, default_dayfirst)
        rows = nb[rest[good]]
        out[rows], ok[rows] = ns[good] + extra_ns[good], True
        used += u
    info.update(
        formats=list(dict.fromkeys(used)),
        dayfirst=dm.dayfirst,
        ambiguous=dm.ambiguous,
        order_note=dm.kind if dm.note else None,
    )
    note = dm.note
    return done()


# --------------------------------------------------------------------------- numbers and money

_SYMBOLS = {
    "$": "USD",
    "US$": "USD",
    "€": "EUR",
    "£": "GBP",
    "¥": "JPY",
    "₹": "INR",
    "₩": "KRW",
    "₽": "RUB",
    "₺": "TRY",
    "₪": "ILS",
    "₱": "PHP",
    "฿": "THB",
    "₫": "VND",
    "R$": "BRL",
    "C$": "CAD",
    "CA$": "CAD",
    "A$": "AUD",
    "AU$": "AUD",
    "NZ$": "NZD",
    "HK$": "HKD",
    "S$": "SGD",
    "SG$": "SGD",
    "MX$": "MXN",
    "CHF": "CHF",
    "FR.": "CHF",
}
# Active ISO 4217 codes: a three-letter word counts as a currency only if it is one.
_ISO_CODES = frozenset(
    [
        "AED",
        "AFN",
        "ALL",
        "AMD",
        "ANG",
        "AOA",
        "ARS",
        "AUD",
        "AWG",
        "AZN",
        "BAM",
        "BBD",
        "BDT",
        "BGN",
        "BHD",
        "BIF",
        "BMD",
        "BND",
        "BOB",
        "BRL",
        "BSD",
        "BTN",
        "BWP",
        "BYN",
        "BZD",
        "CAD",
        "CDF",
        "CHF",
        "CLP",
        "CNY",
        "COP",
        "CRC",
        "CUP",
        "CVE",
        "CZK",
        "DJF",
        "DKK",
        "DOP",
        "DZD",
        "EGP",
        "ERN",
        "ETB",
        "EUR",
        "FJD",
        "FKP",
        "GBP",
        "GEL",
        "GHS",
        "GIP",
        "GMD",
        "GNF",
        "GTQ",
        "GYD",
        "HKD",
        "HNL",
        "HTG",
        "HUF",
        "IDR",
        "ILS",
        "INR",
        "IQD",
        "IRR",
        "ISK",
        "JMD",
        "JOD",
        "JPY",
        "KES",
        "KGS",
        "KHR",
        "KMF",
        "KPW",
        "KRW",
        "KWD",
        "KYD",
        "KZT",
        "LAK",
        "LBP",
        "LKR",
        "LRD",
        "LSL",
        "LYD",
        "MAD",
        "MDL",
        "MGA",
        "MKD",
        "MMK",
        "MNT",
        "MOP",
        "MRU",
        "MUR",
        "MVR",
        "MWK",
        "MXN",
        "MYR",
        "MZN",
        "NAD",
        "NGN",
        "NIO",
        "NOK",
        "NPR",
        "NZD",
        "OMR",
        "PAB",
        "PEN",
        "PGK",
        "PHP",
        "PKR",
        "PLN",
        "PYG",
        "QAR",
        "RON",
        "RSD",
        "RUB",
        "RWF",
        "SAR",
        "SBD",
        "SCR",
        "SDG",
        "SEK",
        "SGD",
        "SHP",
        "SLE",
        "SOS",
        "SRD",
        "SSP",
        "STN",
        "SVC",
        "SYP",
        "SZL",
        "THB",
        "TJS",
        "TMT",
        "TND",
        "TOP",
        "TRY",
        "TTD",
        "TWD",
        "TZS",
        "UAH",
        "UGX",
        "USD",
        "UYU",
        "UZS",
        "VES",
        "VND",
        "VUV",
        "WST",
        "XAF",
        "XCD",
        "XOF",
        "XPF",
        "YER",
        "ZAR",
        "ZMW",
        "ZWL",
    ]
)
_CUR = r"(?:[A-Za-z]{1,3}\$|[$€£¥₹₩₽₺₪₱฿₫]|[A-Za-z]{3}|[Ff][Rr]\.)"
_SHAPE = re.compile(
    rf"(?P<s1>[-+−–])?\s*(?P<c1>{_CUR})?\s*(?P<s2>[-+−–])?\s*(?P<lead>[.,])?#"
    rf"\s*(?P<pct>%)?\s*(?P<c2>{_CUR})?\s*(?P<s3>[-−])?"
)
_EXP_SHAPE = re.compile(r"(?P<s>[-+−])?#(?:[.,]#)?[eE][-+]?#")

_US = r"^(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d*)?$"  # 1,234.50
_EU = r"^(?:\d{1,3}(?:\.\d{3})+|\d+)?(?:,\d*)?$"  # 1.234,50
_PLAIN = r"^[-+]?\d+(?:\.\d+)?$"


def _currency_code(token: str | None) -> str | None:
    """'$' → USD, 'usd' → USD; None when the token is not a known currency."""
    if not token:
        return None
    up = token.upper()
    if up in _SYMBOLS:
        return _SYMBOLS[up]
    return up if up in _ISO_CODES else None


@dataclass(frozen=True)
class _Shape:
    """What one layout of a number cell (digits replaced by '#') says."""

    valid: bool
    sign: int = 1
    pct: bool = False
    currency: str | None = None
    exp: bool = False


def _read_shape(u: str) -> _Shape:
    u = u.strip()
    m = _EXP_SHAPE.fullmatch(u)
    if m:
        return _Shape(True, -1 if m["s"] in ("-", "−") else 1, exp=True)
    neg = False
    if "(" in u or ")" in u:
        o, c, h = u.find("("), u.find(")"), u.find("#")
        if u.count("(") != 1 or u.count(")") != 1 or not (o < h < c):
            return _Shape(False)
        neg, u = True, (u[:o] + u[o + 1 : c] + u[c + 1 :]).strip()
    m = _SHAPE.fullmatch(u)
    if not m:
        return _Shape(False)
    signs = [x for x in (m["s1"], m["s2"], m["s3"]) if x]
    if len(signs) > 1 or (neg and signs) or (m["c1"] and m["c2"]):
        return _Shape(False)
    token = m["c1"] or m["c2"]
    cur = _currency_code(token)
    if token and cur is None or (cur and m["pct"]):
        return _Shape(False)
    minus = neg or (signs and signs[0] != "+")
    return _Shape(True, -1 if minus else 1, bool(m["pct"]), cur)


class _Bytes:
    """A string array as one UTF-8 byte buffer plus row offsets, for byte-level
    work in numpy: arrow's regex *replace* is ~10x slower than its regex match."""

    def __init__(self, arr: Any) -> None:
        a = pc.fill_null(arr, "")
        a = (a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a).cast(pa.large_string())
        self.n = n = len(a)
        offs = np.frombuffer(a.buffers()[1], dtype=np.int64)[a.offset : a.offset + n + 1]
        data = a.buffers()[2]
        data = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
        self.data = data[offs[0] : offs[-1]] if n else data[:0]
        self.offsets = offs - offs[0] if n else np.zeros(1, np.int64)

    def _edge(self, which: np.ndarray) -> np.ndarray:
        nonempty = np.diff(self.offsets) > 0
        mark = np.zeros(len(self.data) + 1, dtype=bool)
        mark[which[nonempty]] = True
        return mark[:-1]

    def prev(self, mask: np.ndarray) -> np.ndarray:
        """mask of the previous byte in the same row (False at row starts)."""
        out = np.zeros_like(mask)
        out[1:] = mask[:-1]
        out[self._edge(self.offsets[:-1])] = False
        return out

    def next(self, mask: np.ndarray) -> np.ndarray:
        """mask of the next byte in the same row (False at row ends)."""
        out = np.zeros_like(mask)
        out[:-1] = mask[1:]
        out[self._edge(self.offsets[1:] - 1)] = False
        return out

    def has(self, seq: bytes) -> bool:
        """Whether the byte sequence occurs anywhere (rows are contiguous, so a match
        across two rows is possible only for multi-byte `seq` spanning a boundary,
        which valid UTF-8 characters never do)."""
        d = self.data
        at = np.flatnonzero(d[: max(len(d) - len(seq) + 1, 0)] == seq[0])
        for i in range(1, len(seq)):
            at = at[d[at + i] == seq[i]]
        return bool(at.size)

    def build(self, keep: np.ndarray, data: np.ndarray | None = None) -> pa.LargeStringArray:
        """New string array of the kept bytes (optionally substituted) of each row."""
        kept = np.flatnonzero(keep)
        new = np.ascontiguousarray((self.data if data is None else data)[kept])
        # a row's new start = how many kept bytes lie before its old start
        offs = np.ascontiguousarray(np.searchsorted(kept, self.offsets), dtype=np.int64)
        return pa.LargeStringArray.from_buffers(self.n, pa.py_buffer(offs), pa.py_buffer(new))


# Unicode characters that mean an ASCII one in numbers: minus signs, spaces, apostrophe.
_NUMBER_CHARS = {"−": "-", "–": "-", "\u00a0": " ", "\u2009": " ", "\u202f": " ", "’": "'"}


def _ascii_number_chars(arr: Any) -> Any:
    """Replace the characters above, but only the ones present (each pass costs)."""
    b = _Bytes(arr)
    if not (b.data >= 0x80).any():
        return arr
    for k, v in _NUMBER_CHARS.items():
        if b.has(k.encode()):
            arr = pc.replace_substring(arr, k, v)
    return arr


def _number_parts(arr: Any) -> tuple[Any, Any]:
    """(shape, digits) of each cell: the shape has every digit group (digits with inner
    '.', ',', ' ' or "'" separators) replaced by '#' ('($1,234.50)' → '($#)'); the digits
    keep only that group's digits, '.' and ',' ('1,234.50')."""
    b = _Bytes(arr)
    d = b.data
    digit = (d >= 48) & (d <= 57)
    dot_comma = (d == 46) | (d == 44)
    sep = dot_comma | (d == 32) | (d == 39)
    prev_digit, next_digit = b.prev(digit), b.next(digit)
    in_run = digit | (sep & prev_digit & next_digit) | (dot_comma & prev_digit & ~next_digit)
    lead = dot_comma & ~prev_digit & next_digit  # '.5'
    start = in_run & ~b.prev(in_run)
    shape = b.build(~in_run | start, np.where(start, np.uint8(35), d))  # 35 = '#'
    digits = b.build((in_run | lead) & (digit | dot_comma))
    return shape, digits


def _without(arr: Any, drop: int, swap: tuple[int, int] | None = None) -> Any:
    """Bytes of `arr` without byte `drop`, optionally replacing one byte by another."""
    b = _Bytes(arr)
    data = b.data if swap is None else np.where(b.data == swap[0], np.uint8(swap[1]), b.data)
    return b.build(b.data != drop, data)


@dataclass
class _Numbers:
    values: np.ndarray  # float64, NaN where not read
    ok: np.ndarray
    pct: np.ndarray
    currency: list[str | None]  # per shape
    codes: np.ndarray
    decimal_comma: bool | None = None
    ambiguous: bool = False
    mixed: bool = False  # both separators occur unambiguously
    note: str | None = None


def _weighted(mask: np.ndarray, weights: np.ndarray | None) -> int:
    """How many rows `mask` stands for (each value counts `weights` rows, default 1)."""
    return int(mask.sum()) if weights is None else int(weights[mask].sum())


def _numbers_rows(arr: Any, decimal_comma: bool | None) -> _Numbers:
    """`_numbers` per row; a column that repeats a few values is read once per distinct
    value, counting each as often as it occurs, so the separator decision and its
    note are those of the whole column."""
    d = _distinct(arr)
    if d is None:
        return _numbers(arr, decimal_comma)
    uniq, idx, w = d
    r = _numbers(uniq, decimal_comma, w)
    r.values, r.ok, r.pct, r.codes = r.values[idx], r.ok[idx], r.pct[idx], r.codes[idx]
    return r


def _numbers(arr: Any, decimal_comma: bool | None, weights: np.ndarray | None = None) -> _Numbers:
    """Core of parse_number over non-blank stripped cells (see parse_number).

    Plain numbers ('15.00', '-3') are cast directly; the rest, and plain values whose
    dot may be a thousands separator ('1.234'), take the general path. Plain values
    with a dot that cannot group thousands ('12.50') count as decimal-point evidence.
    `weights`: rows each value stands for (see `_numbers_rows`).
    """
    n = len(arr)
    arr = _ascii_number_chars(arr)
    sure = _match(arr, _PLAIN)
    if sure.any():
        sure &= ~_match(arr, r"^[-+]?\d{1,3}\.\d{3}$")
    values = np.full(n, np.nan)
    rows = np.flatnonzero(sure)
    if rows.size:
        values[rows] = _to_float(_take(arr, rows))
    if rows.size == n:
        return _Numbers(values, np.ones(n, bool), np.zeros(n, bool), [], np.full(n, -1))
    dotted = _weighted(sure & _np_bool(pc.match_substring(arr, ".")), weights)
    rest = np.flatnonzero(~sure)
    g = _general_numbers(
        _take(arr, rest), decimal_comma, dotted, None if weights is None else weights[rest]
    )
    values[rest] = g.values
    ok, pct, codes = sure.copy(), np.zeros(n, bool), np.full(n, -1)
    ok[rest], pct[rest], codes[rest] = g.ok, g.pct, g.codes
    g.values, g.ok, g.pct, g.codes = values, ok, pct, codes
    return g


def _general_numbers(
    arr: Any, decimal_comma: bool | None, dotted: int, weights: np.ndarray | None = None
) -> _Numbers:
    """Numbers with currencies, separators, signs and percent (see _numbers); `dotted`
    plain values elsewhere in the column already showed a decimal point."""
    n = len(arr)
    shape, num = _number_parts(arr)
    codes, uniques = pd.factorize(pd.Series(pd.array(shape, dtype=_STR)))
    codes = np.asarray(codes)
    shapes = [_read_shape(u) for u in uniques]

    def per_row(attr: str, dtype: Any) -> np.ndarray:
        return np.array([getattr(sh, attr) for sh in shapes] + [0], dtype=dtype)[codes]

    valid, sign = per_row("valid", bool), per_row("sign", np.float64)
    pct, exp = per_row("pct", bool), per_row("exp", bool)
    has_digit = _match(num, r"\d")  # a literal '#' in the text has a shape but no digits
    us = _match(num, _US) & valid & ~exp & has_digit
    eu = _match(num, _EU) & valid & ~exp & has_digit
    values = np.full(n, np.nan)
    us_val = np.full(n, np.nan)
    eu_val = np.full(n, np.nan)
    rows = np.flatnonzero(us)
    if rows.size:
        us_val[rows] = _to_float(_without(_take(num, rows), 44))  # drop the thousands commas
    rows = np.flatnonzero(eu)
    if rows.size:
        # drop the thousands dots, decimal comma → point
        eu_val[rows] = _to_float(_without(_take(num, rows), 46, (44, 46)))
    only_us, only_eu = us & ~eu, eu & ~us
    both = us & eu
    differ = both & (us_val != eu_val)
    res = _Numbers(values, np.zeros(n, bool), pct, [sh.currency for sh in shapes], codes)
    n_us, n_eu = _weighted(only_us, weights) + dotted, _weighted(only_eu, weights)
    if n_eu and not n_us:
        comma = True
    elif n_us and not n_eu:
        comma = False
    elif n_us and n_eu:
        comma = decimal_comma if decimal_comma is not None else n_eu > n_us
        res.mixed = True
        res.note = (
            f"mixed decimal separators: {n_eu} value(s) use a decimal comma and {n_us} a "
            f"decimal point; ambiguous values read with a decimal {'comma' if comma else 'point'}"
        )
    elif decimal_comma is not None:
        comma = decimal_comma
    else:
        comma = False
        if differ.any():
            res.ambiguous = True
            res.note = (
                "ambiguous separators (e.g. '1,234'): ',' read as a thousands separator and "
                "'.' as the decimal point"
            )
    res.decimal_comma = comma
    values[only_us] = us_val[only_us]
    values[only_eu] = eu_val[only_eu]
    values[both] = (eu_val if comma else us_val)[both]
    rows = np.flatnonzero(exp & valid)
    if rows.size:  # '1e3', '-1.5E-3': the text minus its sign is a float literal
        txt = pc.replace_substring_regex(_take(arr, rows), r"^[-+]", "")
        txt = pc.replace_substring(txt, ",", ".")
        good = _match(txt, r"^\d+(?:\.\d+)?[eE][-+]?\d+$")
        vals = np.full(rows.size, np.nan)
        if good.any():
            vals[good] = _to_float(_take(txt, np.flatnonzero(good)))
        values[rows] = vals
    res.ok = ~np.isnan(values)
    values *= sign
    values[pct] /= 100.0
    res.values = values
    return res


def parse_number(s: pd.Series, *, decimal_comma: bool | None = None) -> Parsed:
    """Numbers and money → float64: currency symbols/codes, thousands separators,
    decimal commas, '(420.81)' and '−5' negatives, '15%' → 0.15, '1e3'.

    The decimal separator of ambiguous values ('1,234') is decided per column from
    the unambiguous ones; else `decimal_comma`; else ',' is a thousands separator.
    """
    if not isinstance(s, pd.Series):
        s = pd.Series(s)
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        v = s.astype(np.float64)
        return Parsed(v, _bad_series(np.zeros(len(s), bool), s.index), None, {"currencies": []})
    t = _text(s)
    blank = _blank_np(t)
    nb = np.flatnonzero(~blank)
    out = np.full(len(t), np.nan)
    ok = np.zeros(len(t), dtype=bool)
    info: dict[str, Any] = {
        "currencies": [],
        "decimal_comma": decimal_comma,
        "ambiguous": False,
        "mixed": False,
    }
    note = None
    if nb.size:
        r = _numbers_rows(_take(_arrow(t), nb), decimal_comma)
        out[nb], ok[nb] = r.values, r.ok
        seen = np.unique(r.codes[r.ok & (r.codes >= 0)])
        curs = {r.currency[i] for i in seen} - {None}
        info.update(
            currencies=sorted(curs),
            decimal_comma=r.decimal_comma,
            ambiguous=r.ambiguous,
            mixed=r.mixed,
        )
        note = r.note
    out[~ok] = np.nan
    return Parsed(pd.Series(out, index=t.index), _bad_series(~blank & ~ok, t.index), note, info)


def extract_currency(s: pd.Series) -> pd.Series:
    """Per cell, the upper-case ISO code a value names ('usd 5' → 'USD', '$5' → 'USD',
    'eur' → 'EUR', '5' → missing). Works on amount columns and on currency columns."""
    t = _text(s)
    out = pd.Series(np.nan, index=t.index, dtype=_STR)
    blank = _blank_np(t)
    nb = np.flatnonzero(~blank)
    if not nb.size:
        return out
    shape, _ = _number_parts(_ascii_number_chars(_take(_arrow(t), nb)))
    codes, uniques = pd.factorize(pd.Series(pd.array(shape, dtype=_STR)))
    lut = [_currency_code(u.strip()) or _read_shape(u).currency for u in uniques]
    vals = np.array(lut + [None], dtype=object)[np.asarray(codes)]
    out.iloc[nb] = pd.array(vals, dtype=_STR)
    return out


# --------------------------------------------------------------------------- booleans

_TRUE = {
    "yes",
    "y",
    "true",
    "t",
    "x",
    "✓",
    "✔",
    "☑",
    "on",
    "checked",
    "escalated",
    "ja",
    "oui",
    "sí",
    "si",
}
_FALSE = {"no", "n", "false", "f", "off", "unchecked", "not escalated", "nein", "non"}
_MARKS = {"x", "✓", "✔", "☑"}
_LEVEL = re.compile(r"[-+]?\d+(?:\.\d+)?")


def _bool_token(u: str) -> bool | None:
    """True/False for one distinct lower-cased value, None when it is not a boolean."""
    u = " ".join(u.split())
    if u in _TRUE:
        return True
    if u in _FALSE:
        return False
    if _LEVEL.fullmatch(u):  # escalation level 2 → True; 0 → False; negative → unreadable
        v = float(u)
        return None if v < 0 else v > 0
    return None


def parse_bool(s: pd.Series) -> Parsed:
    """yes/no, y/n, true/false, t/f, 1/0, on/off, checked/unchecked, escalated/not
    escalated, numeric levels (> 0 → True) → nullable boolean. In a column whose
    values are all 'x' or '✓', a blank means False; elsewhere a blank is missing."""
    if not isinstance(s, pd.Series):
        s = pd.Series(s)
    if pd.api.types.is_bool_dtype(s.dtype):
        return Parsed(s.astype("boolean"), _bad_series(np.zeros(len(s), bool), s.index))
    t = _text(s)
    blank = _blank_np(t)
    arr = _arrow(t)
    enc = pc.dictionary_encode(arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0))
    codes = np.asarray(
        pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False), dtype=np.int64
    )
    uniques = pc.utf8_lower(enc.dictionary).to_pylist()  # distinct values, lower-cased
    lut = [_bool_token(u) for u in uniques]
    known = np.array([v is not None for v in lut] + [False])[codes]
    truth = np.array([bool(v) for v in lut] + [False])[codes]
    filled = [" ".join(u.split()) for u in uniques if u.strip()]
    marks = bool(filled) and all(u in _MARKS for u in filled)
    values = pd.array(truth, dtype="boolean")
    missing = ~known & ~(blank & marks)
    values[missing] = pd.NA
    info = {"marks": bool(marks)}
    return Parsed(
        pd.Series(values, index=t.index), _bad_series(~blank & ~known, t.index), None, info
    )


# --------------------------------------------------------------------------- durations

_UNIT_WORDS = {
    "milliseconds": ("ms", "msec", "msecs", "millis", "millisecond", "milliseconds"),
    "seconds": ("s", "sec", "secs", "second", "seconds"),
    "minutes": ("min", "mins", "minute", "minutes"),
    "hours": ("h", "hr", "hrs", "hour", "hours"),
    "days": ("d", "day", "days"),
}
_UNIT_OF = {w: u for u, ws in _UNIT_WORDS.items() for w in ws}
_SECONDS_PER = {
    "milliseconds": 0.001,
    "seconds": 1.0,
    "minutes": 60.0,
    "hours": 3600.0,
    "days": 86400.0,
}
# "… in minutes within business hours": the hours there name a calendar, not a unit.
_CALENDAR_HOURS = re.compile(r"\b(?:business|office|working|calendar|support)\s+hours?\b")


def _unit(name: str) -> str:
    u = _UNIT_OF.get(name.strip().lower(), name.strip().lower())
    if u not in _SECONDS_PER:
        raise ValueError(f"unknown duration unit {name!r}; expected one of {sorted(_SECONDS_PER)}")
    return u


def duration_unit_from_header(header: str) -> str | None:
    """The unit a duration header names: 'First reply time in minutes' → 'minutes',
    '(hrs)' → 'hours', 'usage_duration_secs' → 'seconds', 'time_to_close (ms)' →
    'milliseconds'. None when no unit is named (a column error for the caller, R13:
    the unit is never guessed from the values)."""
    raw = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", str(header)).lower()  # durationSeconds
    key = _CALENDAR_HOURS.sub(" ", normalise_header(raw))
    tokens = key.split()
    found: list[tuple[str, bool]] = []  # (unit, stated firmly: after 'in' or in brackets)
    bracketed = {
        t for b in re.findall(r"[(\[]([^)\]]*)[)\]]", raw) for t in normalise_header(b).split()
    }
    for i, tok in enumerate(tokens):
        unit = _UNIT_OF.get(tok)
        if unit is None:
            continue
        if len(tok) == 1 and tok not in bracketed:  # 's', 'h', 'd' only as '(s)'
            continue
        firm = tok in bracketed or (i > 0 and tokens[i - 1] == "in")
        found.append((unit, firm))
    units = {u for u, _ in found}
    if len(units) == 1:
        return units.pop()
    firm = {u for u, f in found if f}
    return firm.pop() if len(firm) == 1 else None


_CLOCK = (
    r"^(?P<neg>[-−])?(?:(?P<d>\d+)\s*(?:d|days?),?\s*)?(?P<h>\d+):(?P<m>\d{2})"
    r"(?::(?P<s>\d{2}(?:\.\d{1,9})?))?$"
)
_NUM = r"\d+(?:\.\d+)?"
_WORDS = (
    rf"(?i)^(?:(?P<d>{_NUM})\s*d(?:ays?)?\s*,?\s*)?(?:(?P<h>{_NUM})\s*h(?:ours?|rs?)?\s*,?\s*)?"
    rf"(?:(?P<m>{_NUM})\s*m(?:in(?:ute)?s?)?\s*,?\s*)?(?:(?P<s>{_NUM})\s*s(?:ec(?:ond)?s?)?)?$"
)


def _filled(struct: Any, name: str) -> np.ndarray:
    """Rows where an optional regex group matched something."""
    return ~_np_bool(pc.equal(pc.fill_null(_field(struct, name), ""), ""))


def _float_field(struct: Any, name: str) -> np.ndarray:
    a = pc.fill_null(_field(struct, name), "")
    a = pc.if_else(pc.equal(a, ""), "0", a)
    return _to_float(a)


def _duration_seconds(
    arr: Any, unit: str, weights: np.ndarray | None, kinds: list[str]
) -> np.ndarray:
    """Seconds of each non-blank stripped cell (NaN: unreadable); forms found go to `kinds`."""
    secs = np.full(len(arr), np.nan)
    clock = _match(arr, _CLOCK)
    words = ~clock & _match(arr, r"[A-Za-z]")
    rows = np.flatnonzero(clock)
    if rows.size:
        m = pc.extract_regex(_take(arr, rows), _CLOCK)
        mm, ss = _float_field(m, "m"), _float_field(m, "s")
        v = _float_field(m, "d") * 86400 + _float_field(m, "h") * 3600 + mm * 60 + ss
        v = np.where(_filled(m, "neg"), -v, v)
        secs[rows] = np.where((mm < 60) & (ss < 60), v, np.nan)
        kinds.append("clock")
    rows = np.flatnonzero(words)
    if rows.size:
        m = pc.extract_regex(_take(arr, rows), _WORDS)
        named = _np_bool(pc.is_valid(m))
        v = (
            _float_field(m, "d") * 86400
            + _float_field(m, "h") * 3600
            + _float_field(m, "m") * 60
            + _float_field(m, "s")
        )
        any_unit = _filled(m, "d") | _filled(m, "h") | _filled(m, "m") | _filled(m, "s")
        secs[rows] = np.where(named & any_unit, v, np.nan)
        kinds.append("words")
    rows = np.flatnonzero(~clock & ~words)
    if rows.size:
        r = _numbers(_take(arr, rows), None, None if weights is None else weights[rows])
        no_currency = np.array([c is None for c in r.currency] + [True])
        keep = r.ok & ~r.pct & no_currency[r.codes]
        secs[rows] = np.where(keep, r.values * _SECONDS_PER[_unit(unit)], np.nan)
    return secs


def parse_duration(s: pd.Series, unit: str, *, to: str = "minutes") -> Parsed:
    """Durations → float64 in `to` units. Plain numbers are in `unit` (from the header);
    'HH:MM:SS', 'HH:MM' and '2 days 03:04:05' are clock times whatever the unit, and
    '1h 30m' / '3 days' name their own units. Negative values are kept (the caller
    decides); blanks are missing."""
    factor = _SECONDS_PER[_unit(unit)] / _SECONDS_PER[_unit(to)]
    if not isinstance(s, pd.Series):
        s = pd.Series(s)
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        return Parsed(s.astype(np.float64) * factor, _bad_series(np.zeros(len(s), bool), s.index))
    t = _text(s)
    blank = _blank_np(t)
    nb = np.flatnonzero(~blank)
    out = np.full(len(t), np.nan)
    kinds: list[str] = []
    if nb.size:
        arr = _take(_arrow(t), nb)
        d = _distinct(arr)
        if d is None:
            secs = _duration_seconds(arr, unit, None, kinds)
        else:  # few distinct values (minutes, counts): each read once
            uniq, idx, w = d
            secs = _duration_seconds(uniq, unit, w, kinds)[idx]
        out[nb] = secs / _SECONDS_PER[_unit(to)]
    bad = ~blank & np.isnan(out)
    info = {"unit": _unit(unit), "to": _unit(to), "forms": kinds}
    return Parsed(pd.Series(out, index=t.index), _bad_series(bad, t.index), None, info)


# --------------------------------------------------------------------------- ids and text


def parse_id(s: pd.Series) -> Parsed:
    """Ids as text: stripped, leading zeros kept, '123.0' (an xlsx float artefact) →
    '123'. Scientific notation ('1.03006E+13') is kept but listed in
    info['damaged']: Excel already lost digits there, so the caller should warn."""
    t = _text(s)
    arr = _arrow(t)
    artefact = _match(arr, r"^\d+\.0+$")
    if artefact.any():
        rows = np.flatnonzero(artefact)
        fixed = pc.utf8_rtrim(pc.utf8_rtrim(_take(arr, rows), characters="0"), characters=".")
        t = t.copy()
        t.iloc[rows] = pd.array(fixed, dtype=_STR)
    damaged = _match(arr, r"^[-+]?\d(?:[.,]\d+)?[eE]\+?\d+$")
    values = _blank_to_missing(t)
    info = {"damaged": pd.Series(damaged, index=t.index, dtype=bool)}
    return Parsed(values, _bad_series(np.zeros(len(t), bool), t.index), None, info)


def parse_text(s: pd.Series) -> Parsed:
    """Free text: stripped; blank → missing."""
    t = _text(s)
    return Parsed(_blank_to_missing(t), _bad_series(np.zeros(len(t), bool), t.index))


def _blank_to_missing(t: pd.Series) -> pd.Series:
    """Stripped text with '' as missing; the same Series (no copy) when there is none."""
    empty = np.asarray(t.eq("").fillna(False), dtype=bool)
    return t.mask(empty) if empty.any() else t


def parse_category(s: pd.Series) -> Parsed:
    """Category labels compared loosely: stripped, lower-case, inner whitespace collapsed
    ('High  Priority' → 'high priority'); blank → missing. Works on the distinct values."""
    t = _text(s)
    arr = _arrow(t)
    a = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    if not pa.types.is_large_string(a.type):
        a = a.cast(pa.large_string())
    enc = pc.dictionary_encode(a)  # distinct values in order of appearance; nulls stay null
    d = enc.dictionary
    u = pc.replace_substring_regex(pc.utf8_lower(d), r"\s+", " ")
    u = pc.if_else(pc.equal(d, ""), pa.scalar(None, pa.large_string()), u)  # blank → missing
    values = pd.Series(pd.array(pc.take(u, enc.indices), dtype=_STR), index=t.index)
    return Parsed(values, _bad_series(np.zeros(len(t), bool), t.index))
