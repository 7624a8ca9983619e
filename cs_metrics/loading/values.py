"""Vectorised parsers that turn exported text cells into typed values.

Every parser takes a Series of text and returns a `Parsed`: the values, a
`bad` mask of non-blank cells that could not be read (the caller turns them
into row issues) and, when a column-wide choice had to be made (day/month
order, decimal comma), a note saying which and why.  Parsers never raise on
bad cells.

Hot paths run on pyarrow compute kernels (RE2 regexes, `strptime`) over the
whole column: formats are detected on an evenly spaced sample, the column is
parsed with those formats, and a fallback pass tries every known form on the
(usually empty) remainder.  Python only ever loops over formats or over the
few distinct "shapes" of a column (`$#`, `(#)`, `# EUR`), never over cells.
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
    "is_blank",
    "parse_datetime",
    "parse_number",
    "extract_currency",
    "parse_bool",
    "duration_unit_from_header",
    "parse_duration",
    "parse_id",
    "parse_text",
    "parse_category",
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
    """The input as a stripped pyarrow-backed `str` Series (missing stays missing)."""
    if not isinstance(s, pd.Series):
        s = pd.Series(s)
    if s.dtype != _STR:
        s = s.astype(_STR)
    return s.str.strip()


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
_NUM_DATES = [
    (f"%d{sep}%m{sep}{y}", f"%m{sep}%d{sep}{y}") for sep in "/.-" for y in ("%Y", "%y")
]
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
    secs = np.array(pc.fill_null(pc.cast(res, pa.int64()), _MIN_S - 1).to_numpy(zero_copy_only=False))
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


def _iso(arr: Any) -> tuple[np.ndarray, np.ndarray]:
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


def _decide_order(dm: _DayMonth, dayfirst: bool | None, default_dayfirst: bool) -> None:
    def word(d: bool) -> str:
        return "day-first" if d else "month-first"

    if dayfirst is not None:
        dm.dayfirst = dayfirst
        against = dm.only_md if dayfirst else dm.only_dm
        if against:
            dm.note = (
                f"dates read as {word(dayfirst)} (config dates.dayfirst); "
                f"{against} value(s) only make sense {word(not dayfirst)} and were set aside"
            )
    elif dm.only_dm or dm.only_md:
        if dm.only_dm and dm.only_md:
            if dm.only_dm != dm.only_md:
                dm.dayfirst = dm.only_dm > dm.only_md
            else:
                dm.dayfirst = default_dayfirst
            minority = min(dm.only_dm, dm.only_md)
            dm.note = (
                f"inconsistent day/month order: {dm.only_dm} value(s) are day-first and "
                f"{dm.only_md} month-first; read as {word(dm.dayfirst)} and set aside {minority}"
            )
        else:
            dm.dayfirst = bool(dm.only_dm)
    elif dm.differ:
        dm.dayfirst = default_dayfirst
        dm.ambiguous = True
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
    arr: Any, pairs: list[tuple[_Fmt, _Fmt]], dm: _DayMonth, dayfirst: bool | None,
    default_dayfirst: bool,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """All-numeric dates (3/5/2026): decide the day/month order once per column.

    One day-first pass reads every value that has a day-first reading; a value
    with both readings (fields <= 12) is flipped arithmetically, so only values
    that fail day-first need a month-first pass.
    """
    if dm.dayfirst is not None:  # already decided by an earlier pass on this column
        return _cascade(arr, [p[0] if dm.dayfirst else p[1] for p in pairs])
    ns_dm, ok_dm, used_dm = _cascade(arr, [p[0] for p in pairs])
    rest = np.flatnonzero(~ok_dm)
    ns_rest, ok_rest, used_rest = _cascade(_take(arr, rest), [p[1] for p in pairs])
    year, month, day = _ymd(np.where(ok_dm, ns_dm, 0))
    both = ok_dm & (day <= 12)
    dm.only_dm += int((ok_dm & (day > 12)).sum())
    dm.only_md += int(ok_rest.sum())
    dm.differ += int((both & (day != month)).sum())
    if not (ok_dm.any() or ok_rest.any()):
        return ns_dm, ok_dm, []
    _decide_order(dm, dayfirst, default_dayfirst)
    if dm.dayfirst is None or dm.dayfirst:  # None: every value reads the same both ways
        return ns_dm, ok_dm, used_dm
    twin = {p[0].fmt: p[1].fmt for p in pairs}
    ns = np.full(len(ns_dm), _NAT, dtype=np.int64)
    ns[both] = (
        _from_ymd(year[both], day[both], month[both]) * _NS_PER_DAY
        + ns_dm[both] % _NS_PER_DAY
    )
    ns[rest[ok_rest]] = ns_rest[ok_rest]
    ok = both.copy()
    ok[rest[ok_rest]] = True
    used = [twin[u] for u in used_dm] + used_rest
    return ns, ok, list(dict.fromkeys(used))


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
        if exhaustive or rem.size <= _EXHAUSTIVE_MAX and used:
            exhaustive = True
            iso_hits, free, num = 1, list(range(len(_FREE_FMTS))), list(range(len(_NUM_FMTS)))
        else:
            iso_hits, free, num = _sample_formats(_take(arr, _sample_rows(rem)))
        before = rem.size
        if iso_hits:
            rows = rem[_match(_take(arr, rem), _ISO_PREFIX)]
            ns, good = _iso(_take(arr, rows))
            out[rows[good]], ok[rows[good]] = ns[good], True
            used += ["ISO8601"] if good.any() else []
            rem = rem[~ok[rem]]
        if free and rem.size:
            ns, good, u = _cascade(_take(arr, rem), [_FREE_FMTS[i] for i in free])
            out[rem[good]], ok[rem[good]] = ns[good], True
            used += u
            rem = rem[~good]
        if num and rem.size:
            pairs = [_NUM_FMTS[i] for i in num]
            ns, good, u = _numeric_block(_take(arr, rem), pairs, dm, dayfirst, default_dayfirst)
            out[rem[good]], ok[rem[good]] = ns[good], True
            used += u
            rem = rem[~good]
        if exhaustive:
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
        out = np.where(
            millis, whole * 1_000_000 + us_ms * 1_000, whole * _NS_PER_S + us_s * 1_000
        )
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


def _sample_rows(rows: np.ndarray, k: int = 1000) -> np.ndarray:
    """Evenly spaced rows over the whole column, so late format changes are seen."""
    if rows.size <= k:
        return rows
    return rows[np.linspace(0, rows.size - 1, k).astype(np.int64)]


def _sample_formats(sample: Any) -> tuple[int, list[int], list[int]]:
    """Which forms a sample uses: ISO hits, then indexes into _FREE_FMTS and _NUM_FMTS,
    most used first. Each format is only tried on sample values still unread."""
    iso = _match(sample, _ISO_PREFIX)
    left = _take(sample, np.flatnonzero(~iso))
    found: list[tuple[int, int, int]] = []  # (hits, kind, index)
    candidates = [(0, i, (f,)) for i, f in enumerate(_FREE_FMTS)]
    candidates += [(1, i, p) for i, p in enumerate(_NUM_FMTS)]
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
    return int(iso.sum()), [i for _, k, i in found if k == 0], [i for _, k, i in found if k == 1]


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
    info: dict[str, Any] = {"kind": "text", "formats": [], "dayfirst": None, "ambiguous": False}
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
        info.update(kind=kind, formats=[kind], date1904=date1904 if kind == "excel_serial" else None)
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
    info.update(formats=list(dict.fromkeys(used)), dayfirst=dm.dayfirst, ambiguous=dm.ambiguous)
    note = dm.note
    return done()
