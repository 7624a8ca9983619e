"""Raw text frame → canonical typed frame of one dataset, with row issues (SPEC §1 "Values", R3–R5, R9, R10, R13).

Everything is vectorised: each column is parsed once by `loading.values`,
and problems are boolean masks. A problem in a required column sets the row
aside; in an optional column only the cell becomes null (R4). Issues are
built for the first `ISSUE_CAP` rows per (dataset, code, column); exact
counts go to `Dataset.meta["issue_counts"]`.

Frames carry two bookkeeping columns until `load()` finishes linking:
`_row` (spreadsheet row number) and `_file` (display name), so issues raised
after concatenation still point at the right file and row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cs_metrics.errors import InputError, Issue
from cs_metrics.loading import values as V
from cs_metrics.loading.columns import ColumnMatch, header_key
from cs_metrics.schemas import SCHEMAS
from cs_metrics.synonyms import SYNONYM_UNITS
from cs_metrics.timeframe import EVENT_COLUMNS

ISSUE_CAP = 1000
_RELEASE_ROWS = 100_000  # files this long hand Arrow's freed scratch memory back per column
ROW = "_row"
FILE = "_file"

# The timestamp a row cannot live without: a future value sets the row aside (R5).
REQUIRED_TIMESTAMP = {"tickets": "created_at", "surveys": "submitted_at", "usage": "timestamp"}
# Numbers that cannot be negative (impossible-value: the cell is nulled).
NON_NEGATIVE = {
    "accounts": (
        "seats",
        "active_users",
        "goals_total",
        "goals_met",
        "acquisition_cost",
        "arr",
        "mrr",
    ),
    "tickets": ("reopens", "agent_replies"),
    "usage": ("count",),
}
# Timestamps that cannot precede the row's start (negative-duration: cell nulled).
AFTER_START = {
    "tickets": ("created_at", ("first_response_at", "resolved_at", "closed_at")),
    "accounts": ("created_at", ("onboarded_at", "first_value_at")),
}
_NOT_RATED = {"offered", "not offered", "unoffered", "received"}
_SATISFACTION_MAP = {
    "good_with_comment": "good",
    "bad_with_comment": "bad",
    "good with comment": "good",
    "bad with comment": "bad",
}
# R9: a Tags token (split on spaces, commas or semicolons) escalated/escalation, any case.
# Also used by metrics/support.py for frames built without the loader. RE2: no lookahead.
ESCALATION_TAG = r"(?:^|[\s,;])(?:escalated|escalation)(?:$|[\s,;])"
_KNOWN_TYPES = ("nps", "csat", "ces")


def release_memory() -> None:
    """Hand freed memory back to the system (Arrow's pool and, on glibc, malloc's
    heap, where numpy's freed column-sized scratch otherwise stays resident), so
    big files stay within the memory budget. Cheap; a no-op where unsupported."""
    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


_TRIM: list = []


def _malloc_trim():
    if not _TRIM:
        try:
            import ctypes
            import ctypes.util

            name = ctypes.util.find_library("c")
            _TRIM.append(getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None)
        except (OSError, AttributeError):
            _TRIM.append(None)
    return _TRIM[0]


class IssueSink:
    """Collects issues with a cap per (dataset, code, column) and exact counts."""

    def __init__(self, cap: int = ISSUE_CAP) -> None:
        self.cap = cap
        self.issues: list[Issue] = []
        self.counts: dict[str, dict[str, int]] = {}  # dataset -> code -> n
        self._per_key: dict[tuple, int] = {}

    def add(self, issue: Issue) -> None:
        self._count(issue.dataset, issue.code, 1)
        key = (issue.dataset, issue.code, issue.column)
        if self._per_key.get(key, 0) < self.cap:
            self._per_key[key] = self._per_key.get(key, 0) + 1
            self.issues.append(issue)

    def _count(self, dataset, code, n) -> None:
        d = self.counts.setdefault(dataset or "", {})
        d[code] = d.get(code, 0) + int(n)

    def add_mask(
        self,
        code: str,
        level: str,
        dataset: str,
        column: str | None,
        mask,
        raw,
        rows,
        files,
        message: str,
    ) -> None:
        """One issue per True in `mask`; raw/rows/files are aligned arrays (files may be a str)."""
        mask = np.asarray(mask, dtype=bool)
        n = int(mask.sum())
        if n == 0:
            return
        self._count(dataset, code, n)
        key = (dataset, code, column)
        room = self.cap - self._per_key.get(key, 0)
        if room <= 0:
            return
        idx = np.flatnonzero(mask)[:room]
        self._per_key[key] = self._per_key.get(key, 0) + len(idx)
        vals = _take(raw, idx)
        rws = _take(rows, idx)
        fls = [files] * len(idx) if isinstance(files, str) else _take(files, idx)
        for v, r, f in zip(vals, rws, fls):
            self.issues.append(
                Issue(
                    code=code,
                    level=level,
                    dataset=dataset,
                    file=str(f),
                    row=int(r),
                    column=column,
                    value=_show(v),
                    message=message,
                )
            )


def _take(a, idx: np.ndarray) -> list:
    """Values at positions `idx` of a Series, array or lazy holder, without converting the rest."""
    if a is None:
        return [None] * len(idx)
    if hasattr(a, "iloc"):
        return a.iloc[idx].tolist()
    if hasattr(a, "take") and not isinstance(a, np.ndarray):
        return list(a.take(idx))
    return np.asarray(a)[idx].tolist() if isinstance(a, np.ndarray) else [a[i] for i in idx]


def _show(v) -> str | None:
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float) and np.isnan(v):
        return None
    if isinstance(v, pd.Timestamp):
        return v.isoformat(sep=" ")
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


@dataclass
class Normalised:
    frame: pd.DataFrame
    rows_read: int
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Ctx:
    dataset: str
    file: str
    rows: np.ndarray
    sink: IssueSink
    keep: np.ndarray
    config: dict
    dayfirst: bool | None
    default_dayfirst: bool
    date1904: bool
    decimal_comma: bool | None
    meta: dict
    raw: pd.DataFrame | None = None  # the file's text, for raw values in issues

    def issue(self, code, level, column, mask, raw, message) -> None:
        self.sink.add_mask(
            code, level, self.dataset, column, mask, raw, self.rows, self.file, message
        )


def _blank(s: pd.Series) -> np.ndarray:
    return np.asarray(V.is_blank(s), dtype=bool)


def _arr(mask) -> np.ndarray:
    return (
        np.asarray(pd.Series(mask).fillna(False), dtype=bool)
        if not isinstance(mask, np.ndarray)
        else mask
    )


_BAD_CODE = {
    "datetime": "bad-date",
    "number": "bad-number",
    "money": "bad-number",
    "int": "bad-number",
    "bool": "bad-value",
    "duration": "bad-duration",
}
_KIND_WORD = {
    "datetime": "a date",
    "number": "a number",
    "money": "an amount",
    "int": "a number",
    "bool": "yes/no",
    "duration": "a duration",
}


def _parse(col, s: pd.Series, header: str, ctx: _Ctx) -> pd.Series:
    """Parse one column by its canonical type, recording bad/blank cells (R4)."""
    t = col.type
    if t == "datetime":
        p = V.parse_datetime(
            s, dayfirst=ctx.dayfirst, default_dayfirst=ctx.default_dayfirst, date1904=ctx.date1904
        )
        _date_note(col.name, header, p, ctx)
    elif t in ("number", "money", "int"):
        p = V.parse_number(s, decimal_comma=ctx.decimal_comma)
        _number_note(header, p, ctx)
    elif t == "bool":
        p = V.parse_bool(s)
        if col.name == "escalated" and np.asarray(p.bad, dtype=bool).any():
            p = _escalation_level(s, p, ctx)
    elif t == "duration":
        unit = V.duration_unit_from_header(header) or SYNONYM_UNITS.get(header_key(header))
        if unit is None:
            raise InputError(
                f"{ctx.file}: column '{header}' has no time unit",
                [
                    Issue(
                        code="duration-unit-unknown",
                        level="error",
                        dataset=ctx.dataset,
                        file=ctx.file,
                        column=header,
                        message=f"{ctx.file}: duration column '{header}' (→ {col.name}) does not say its unit; "
                        f"rename it (e.g. '{header} (minutes)', '… in hours', '_secs') or map another "
                        f'header in the config: columns: {{{ctx.dataset}: {{{col.name}: "..."}}}}',
                    )
                ],
            )
        to = "seconds" if col.name.endswith("_seconds") else "minutes"
        p = V.parse_duration(s, unit, to=to)
    elif t == "id":
        p = V.parse_id(s)
        damaged = p.info.get("damaged") if isinstance(p.info, dict) else None
        if damaged is not None:
            ctx.issue(
                "damaged-id",
                "warning",
                header,
                _arr(np.asarray(damaged, dtype=bool)),
                s,
                f"'{header}' looks like an id damaged by a spreadsheet (scientific notation); "
                "it may not match other files",
            )
    elif t == "category":
        p = V.parse_category(s)
    else:
        p = V.parse_text(s)
    values = p.values
    # `bad` never marks blank cells (values contract)
    bad = np.asarray(p.bad, dtype=bool) if p.bad is not None else np.zeros(len(s), bool)
    if bad.any():
        code = _BAD_CODE.get(t, "bad-value")
        if col.required:
            ctx.keep &= ~bad
            ctx.issue(
                code,
                "warning",
                header,
                bad,
                s,
                f"'{header}' is not {_KIND_WORD.get(t, 'a valid value')}; row set aside",
            )
        else:
            values = values.mask(pd.Series(bad, index=values.index))
            ctx.issue(
                code,
                "warning",
                header,
                bad,
                s,
                f"'{header}' is not {_KIND_WORD.get(t, 'a valid value')}; cell left empty",
            )
    return values


def _escalation_level(s: pd.Series, p, ctx: _Ctx):
    """`escalated` may hold a level: a number > 0 or any other text (`Tier 2`) means escalated."""
    bad = np.asarray(p.bad, dtype=bool)
    num = V.parse_number(s, decimal_comma=ctx.decimal_comma)
    numv = num.values.to_numpy(dtype="float64", na_value=np.nan)
    isnum = bad & ~np.asarray(num.bad, dtype=bool) & ~np.isnan(numv)
    vals = p.values.astype("boolean").copy()
    vals[pd.Series(isnum, index=vals.index)] = pd.Series(numv > 0, index=vals.index)[isnum]
    vals[pd.Series(bad & ~isnum, index=vals.index)] = True
    return V.Parsed(vals, pd.Series(np.zeros(len(s), dtype=bool), index=s.index), p.note, p.info)


def _date_note(name: str, header: str, p, ctx: _Ctx) -> None:
    info = p.info if isinstance(p.info, dict) else {}
    df = info.get("dayfirst")
    if df is not None:
        ctx.meta.setdefault("dayfirst", {})[name] = bool(df)
    kind = info.get("order_note")
    if p.note and kind in _ORDER_CODES:
        code, level = _ORDER_CODES[kind]
        order = "day-first (DD/MM)" if df else "month-first (MM/DD)"
        ctx.sink.add(
            Issue(
                code=code,
                level=level,
                dataset=ctx.dataset,
                file=ctx.file,
                column=header,
                value=order,
                message=f"'{header}': {p.note}",
            )
        )
        return
    if info.get("ambiguous") or (p.note and "ambiguous" in str(p.note).lower()):
        order = "day-first (DD/MM)" if df else "month-first (MM/DD)"
        text = (
            f"'{header}': {p.note}"
            if p.note
            else f"'{header}': day/month order cannot be told from the values; read as {order}; "
            "set dates.dayfirst in the config to force it"
        )
        ctx.sink.add(
            Issue(
                code="ambiguous-date-order",
                level="info",
                dataset=ctx.dataset,
                file=ctx.file,
                column=header,
                value=order,
                message=text,
            )
        )


# Column-wide date notes other than an ambiguous order: (code, level).
_ORDER_CODES = {
    "inconsistent": ("inconsistent-date-order", "warning"),
    "against-config": ("date-order-against-config", "warning"),
}


def _number_note(header: str, p, ctx: _Ctx) -> None:
    """The decimal separator decision of a number column, when the values made it hard."""
    info = p.info if isinstance(p.info, dict) else {}
    if not p.note or not (info.get("mixed") or info.get("ambiguous")):
        return
    comma = bool(info.get("decimal_comma"))
    ctx.sink.add(
        Issue(
            code="mixed-decimal-separators" if info.get("mixed") else "ambiguous-decimal-separator",
            level="warning" if info.get("mixed") else "info",
            dataset=ctx.dataset,
            file=ctx.file,
            column=header,
            value="decimal comma" if comma else "decimal point",
            message=f"'{header}': {p.note}",
        )
    )


def _unread_later(header: str, match: ColumnMatch, dataset: str) -> bool:
    """No other canonical column, and no later step, reads this raw column."""
    uses = [c for c, h in match.mapping.items() if h == header]
    return len(uses) == 1 and dataset in ("tickets", "billing", "usage")


def normalise(
    dataset: str,
    raw: pd.DataFrame,
    row_numbers: np.ndarray,
    file: str,
    match: ColumnMatch,
    *,
    config: dict | None = None,
    today: date | None = None,
    decimal_comma: bool = False,
    delimiter: str | None = None,
    date1904: bool = False,
    sheet: str | None = None,
    sink: IssueSink | None = None,
    consume: bool = False,
) -> Normalised:
    """Typed canonical frame of one file (not yet deduplicated or linked).

    `consume=True` (used by `load`, which no longer needs the text) lets the
    normaliser delete columns of `raw` in place once nothing reads them, so a
    big file's text is freed column by column instead of at the end.
    """
    config = config or {}
    sink = sink if sink is not None else IssueSink()
    schema = SCHEMAS[dataset]
    n = len(raw)
    rows = (
        np.asarray(row_numbers, dtype=np.int64) if row_numbers is not None else np.arange(2, n + 2)
    )
    if not consume:
        raw = raw.reset_index(drop=True)
    elif not raw.index.equals(pd.RangeIndex(n)):
        raw.index = pd.RangeIndex(n)  # in place: `raw` is the caller's frame
    dates_cfg = config.get("dates") or {}
    ctx = _Ctx(
        dataset,
        file,
        rows,
        sink,
        np.ones(n, dtype=bool),
        config,
        dates_cfg.get("dayfirst"),
        bool(decimal_comma or delimiter == ";"),
        bool(date1904),
        True if decimal_comma else None,
        {},
        raw,
    )
    out: dict[str, pd.Series] = {}

    for cname, header in match.mapping.items():
        col = schema.column(cname)
        s = raw[header]
        if col.required and dataset != "surveys":
            miss = _blank(s)
            if miss.any():
                ctx.keep &= ~miss
                ctx.issue(
                    "missing-value",
                    "warning",
                    header,
                    miss,
                    None,
                    f"required '{header}' is empty; row set aside",
                )
        if dataset == "surveys" and cname == "score":
            s, rating, not_rated = _split_ratings(s)
            if rating is not None:
                out["rating"] = rating
                ctx.meta["not_rated"] = not_rated
        out[cname] = _parse(col, s, header, ctx)
        del s
        if consume and col.type == "category" and _unread_later(header, match, dataset):
            del raw[header]  # its text is not needed for issues later on
        if n >= _RELEASE_ROWS:
            release_memory()  # the parsers' scratch, before the next column

    frame = pd.DataFrame(out, index=pd.RangeIndex(n), copy=False)
    frame[ROW] = rows
    frame[FILE] = pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=[file])

    _future(frame, ctx, match, today)
    _after_start(frame, ctx, match)
    _non_negative(frame, ctx, match)
    if dataset == "tickets":
        frame = _tickets(frame, ctx, match)
    elif dataset == "billing":
        frame = _billing(frame, ctx, match, raw)
    elif dataset == "usage":
        if "count" not in frame.columns:
            frame["count"] = 1.0
    elif dataset == "accounts":
        for h in match.unmapped:
            if h in (ROW, FILE) or h in frame.columns or not str(h).strip():
                continue
            frame[h] = V.parse_text(raw[h]).values
    if dataset == "surveys":
        frame = _surveys(frame, ctx, match, raw, sheet)
    elif not ctx.keep.all():
        frame = frame.loc[ctx.keep].reset_index(drop=True)
    return Normalised(frame, n, ctx.meta)


def _future(frame, ctx: _Ctx, match, today) -> None:
    """R5: event timestamps after the run's date."""
    if today is None:
        today = date.today()
    limit = pd.Timestamp(today).normalize() + pd.Timedelta(days=1)
    for cname in EVENT_COLUMNS.get(ctx.dataset, ()):
        if cname not in frame.columns:
            continue
        header = match.mapping[cname]
        fut = np.asarray((frame[cname] >= limit).fillna(False), dtype=bool)
        if not fut.any():
            continue
        raw = ctx.raw[header]
        if REQUIRED_TIMESTAMP.get(ctx.dataset) == cname:
            ctx.keep &= ~fut
            ctx.issue(
                "future-date",
                "warning",
                header,
                fut,
                raw,
                f"'{header}' is after today ({today}); row set aside",
            )
        else:
            frame[cname] = frame[cname].mask(fut)
            ctx.issue(
                "future-date",
                "warning",
                header,
                fut,
                raw,
                f"'{header}' is after today ({today}); cell left empty",
            )


def _after_start(frame, ctx: _Ctx, match) -> None:
    """R13/R34: a milestone before the start is a negative duration: the cell is nulled."""
    spec = AFTER_START.get(ctx.dataset)
    if spec:
        start, ends = spec
        if start in frame.columns:
            for cname in ends:
                if cname not in frame.columns:
                    continue
                neg = np.asarray((frame[cname] < frame[start]).fillna(False), dtype=bool)
                if neg.any():
                    header = match.mapping[cname]
                    ctx.issue(
                        "negative-duration",
                        "warning",
                        header,
                        neg,
                        ctx.raw[header],
                        f"'{header}' is before '{match.mapping[start]}'; cell left empty, row kept",
                    )
                    frame[cname] = frame[cname].mask(neg)
    for cname in frame.columns:
        if cname in match.mapping and SCHEMAS[ctx.dataset].column(cname).type == "duration":
            neg = np.asarray((frame[cname] < 0).fillna(False), dtype=bool)
            if neg.any():
                header = match.mapping[cname]
                ctx.issue(
                    "negative-duration",
                    "warning",
                    header,
                    neg,
                    ctx.raw[header],
                    f"'{header}' is negative; cell left empty, row kept",
                )
                frame[cname] = frame[cname].mask(neg)


def _non_negative(frame, ctx: _Ctx, match) -> None:
    for cname in NON_NEGATIVE.get(ctx.dataset, ()):
        if cname not in frame.columns or cname not in match.mapping:
            continue
        neg = np.asarray((frame[cname] < 0).fillna(False), dtype=bool)
        if neg.any():
            header = match.mapping[cname]
            ctx.issue(
                "impossible-value",
                "warning",
                header,
                neg,
                ctx.raw[header],
                f"'{header}' cannot be negative; cell left empty",
            )
            frame[cname] = frame[cname].mask(neg)
    if ctx.dataset == "accounts" and {"goals_met", "goals_total"} <= set(frame.columns):
        over = np.asarray((frame["goals_met"] > frame["goals_total"]).fillna(False), dtype=bool)
        if over.any():
            header = match.mapping["goals_met"]
            ctx.issue(
                "impossible-value",
                "warning",
                header,
                over,
                ctx.raw[header],
                f"'{header}' is larger than '{match.mapping['goals_total']}'; cell left empty",
            )
            frame["goals_met"] = frame["goals_met"].mask(over)


def _per_unique(s: pd.Series, fn) -> pd.Series:
    """Apply a string transform once per distinct value (categories repeat a lot)."""
    codes, uniq = pd.factorize(s, use_na_sentinel=True)
    done = fn(pd.Series(np.asarray(uniq, dtype=object), dtype="str"))
    vals = done.to_numpy(dtype=object)
    out = np.empty(len(codes), dtype=object)
    ok = codes >= 0
    out[ok] = vals[codes[ok]]
    out[~ok] = None
    return pd.Series(out, index=s.index)


def _tickets(frame, ctx: _Ctx, match) -> pd.DataFrame:
    if "satisfaction" in frame.columns:
        s = frame["satisfaction"].astype("str")  # already stripped and lower-cased (category)
        s = s.mask(s.isin(_NOT_RATED) | (s == ""))
        for k, v in _SATISFACTION_MAP.items():
            s = s.mask(s == k, v)
        frame["satisfaction"] = s
    if "tags" in frame.columns:
        tags = pa.array(frame["tags"].astype("str").array)
        hit = pc.match_substring_regex(tags, ESCALATION_TAG, ignore_case=True)
        hit = pd.Series(pc.fill_null(hit, False).to_numpy(zero_copy_only=False), index=frame.index)
        hit = hit.astype("boolean")
        if "escalated" in frame.columns:
            frame["escalated"] = frame["escalated"].astype("boolean") | hit
        else:
            frame["escalated"] = hit
    return frame


def _billing(frame, ctx: _Ctx, match, raw) -> pd.DataFrame:
    """Upper-case currency; codes or symbols in the amount cells fill a missing currency."""
    cur = frame["currency"].str.strip().str.upper() if "currency" in frame.columns else None
    if "amount" in match.mapping and (cur is None or cur.isna().any()):
        got = V.extract_currency(raw[match.mapping["amount"]])
        codes = got.values if isinstance(getattr(got, "values", None), pd.Series) else got
        codes = pd.Series(pd.array(codes, dtype="str"), index=frame.index).str.upper()
        if codes.notna().any():
            cur = codes if cur is None else cur.fillna(codes)
    if cur is not None:
        frame["currency"] = cur
    ctx.meta["amount_flags"] = sorted(match.flags.get("amount", frozenset()))
    return frame


def survey_type_from_name(file: str, sheet: str | None, extra: tuple[str, ...] = ()) -> str:
    """R10: the type named by the file or sheet (`csat_responses.csv` → csat), else nps."""
    words = set(header_key(Path(str(file).split(" [")[0]).stem).split())
    if sheet:
        words |= set(header_key(sheet).split())
    for t in (*_KNOWN_TYPES, *extra):
        if t.lower() in words:
            return t.lower()
    return "nps"


def _scales(config: dict) -> dict[str, tuple[float, float]]:
    sv = config.get("surveys") or {}
    out: dict[str, tuple[float, float]] = {"nps": (0.0, 10.0)}
    for k, v in sv.items():
        if (
            isinstance(v, dict)
            and isinstance(v.get("scale"), (list, tuple))
            and len(v["scale"]) == 2
        ):
            out[str(k).lower()] = (float(v["scale"][0]), float(v["scale"][1]))
    for k, v in (sv.get("scales") or {}).items():
        if isinstance(v, (list, tuple)) and len(v) == 2:
            out[str(k).lower()] = (float(v[0]), float(v[1]))
    return out


def survey_types_in_config(config: dict) -> tuple[str, ...]:
    sv = config.get("surveys") or {}
    names = [k for k, v in sv.items() if isinstance(v, dict) and k not in ("scales", "cxi")]
    names += list((sv.get("scales") or {}).keys()) + list((sv.get("cxi") or {}).keys())
    return tuple(dict.fromkeys(str(x).lower() for x in names))


# Text ratings in a score column (Zendesk/Help Scout style CSAT): good/bad are
# ratings without a number; offered/not offered mean the survey was sent but not
# answered. Anything else that is not a number stays a bad-number issue.
_RATING_WORDS = {"good": "good", "good with comment": "good", "great": "good",
                 "bad": "bad", "bad with comment": "bad", "not good": "bad"}
_NOT_RATED_WORDS = ("offered", "not offered", "unoffered")


def _split_ratings(s: pd.Series) -> tuple[pd.Series, pd.Series | None, np.ndarray]:
    """(score text without the words, rating 'good'/'bad' or None when there are none,
    mask of 'offered'-style cells). Works on distinct values, so big numeric columns
    cost one unique() pass."""
    uniq = pd.Series(pd.unique(s.dropna()), dtype="str")
    key = uniq.str.strip().str.lower().str.replace("_", " ", regex=False)
    words = key.map(_RATING_WORDS)
    offered = key.isin(_NOT_RATED_WORDS)
    if not (words.notna().any() or offered.any()):
        return s, None, np.zeros(len(s), dtype=bool)
    rating_of = dict(zip(uniq[words.notna()], words[words.notna()]))
    offered_vals = set(uniq[offered])
    rating = s.map(rating_of).astype("str")
    not_rated = s.isin(offered_vals).to_numpy(bool)
    return s.mask(rating.notna() | not_rated), rating, not_rated


def _surveys(frame, ctx: _Ctx, match: ColumnMatch, raw: pd.DataFrame, sheet) -> pd.DataFrame:
    """R10: one row per response and type; sent-only rows kept; scale checked."""
    mp = match.mapping
    # 'offered' cells: the survey was sent and not answered (its date is the sending)
    not_rated = ctx.meta.pop("not_rated", None)
    if not_rated is not None and not_rated.any() and "submitted_at" in frame.columns:
        nr = pd.Series(not_rated, index=frame.index)
        sent = frame["sent_at"] if "sent_at" in frame.columns else pd.Series(pd.NaT, index=frame.index)
        frame["sent_at"] = sent.where(~nr | sent.notna(), frame["submitted_at"])
        frame["submitted_at"] = frame["submitted_at"].mask(nr)
    default_type = survey_type_from_name(ctx.file, sheet, survey_types_in_config(ctx.config))
    # Qualtrics: unfinished responses are not responses
    fin = [h for h in match.unmapped if header_key(h) == "finished"]
    if fin:
        fb = V.parse_bool(raw[fin[0]]).values
        unfinished = np.asarray((fb == False).fillna(False), dtype=bool)
        if unfinished.any():
            ctx.keep &= ~unfinished
            ctx.issue(
                "unfinished-response",
                "info",
                fin[0],
                unfinished,
                raw[fin[0]],
                f"'{fin[0]}' says the response was not finished; not counted as a response",
            )
    if match.type_columns:
        parts = []
        for header, t in match.type_columns.items():
            text, rating, _offered = _split_ratings(raw[header])
            sc = V.parse_number(text, decimal_comma=ctx.decimal_comma)
            bl = _blank(text)
            bad = np.asarray(sc.bad, dtype=bool) & ~bl
            ctx.issue(
                "bad-number",
                "warning",
                header,
                bad,
                raw[header],
                f"'{header}' is not a number; response set aside",
            )
            part = frame.loc[~bl & ~bad].copy()
            part["score"] = sc.values[~bl & ~bad].astype("float64")
            if rating is not None:
                has_r = rating.notna().to_numpy(bool)
                rpart = frame.loc[has_r].copy()
                rpart["score"] = np.nan
                rpart["rating"] = rating[has_r].to_numpy()
                rpart["survey_type"] = t
                rpart["_src"] = header
                parts.append(rpart)
            part["survey_type"] = t
            part["_src"] = header
            parts.append(part)
        answered_any = np.zeros(len(frame), dtype=bool)
        for header in match.type_columns:
            answered_any |= ~_blank(raw[header]) & ~_split_ratings(raw[header])[2]
        rest = frame.loc[~answered_any].copy()
        rest["score"] = np.nan
        rest["survey_type"] = next(iter(match.type_columns.values()))
        rest["_src"] = next(iter(match.type_columns))
        keep = pd.Series(ctx.keep, index=frame.index)
        long = pd.concat(parts + [rest], ignore_index=False)
        keep_long = keep.reindex(long.index).to_numpy()
        long = long.loc[keep_long].sort_index(kind="stable").reset_index(drop=True)
    else:
        long = frame.loc[ctx.keep].copy().reset_index(drop=True)
        st = (
            long["survey_type"]
            if "survey_type" in long.columns
            else pd.Series(pd.NA, index=long.index)
        )
        st = st.astype("str").str.strip().str.lower()
        long["survey_type"] = st.mask(st.isna() | (st == ""), default_type)
        if "score" not in long.columns:
            long["score"] = np.nan
        long["_src"] = mp.get("score", "score")
    long["score"] = long["score"].astype("float64")
    long["survey_type"] = long["survey_type"].astype("str")

    rows = long[ROW].to_numpy()
    files = long[FILE].to_numpy()
    src = long["_src"].to_numpy()
    has_sub = (
        long["submitted_at"].notna().to_numpy()
        if "submitted_at" in long.columns
        else np.zeros(len(long), bool)
    )
    has_sent = (
        long["sent_at"].notna().to_numpy()
        if "sent_at" in long.columns
        else np.zeros(len(long), bool)
    )
    has_score = long["score"].notna().to_numpy()
    if "rating" in long.columns:  # a good/bad rating is an answer without a number
        has_score = has_score | long["rating"].notna().to_numpy(bool)
    set_aside = np.zeros(len(long), dtype=bool)

    # a score without a submission date is not a response: keep the row as a sent survey
    sub_h = mp.get("submitted_at", "submitted_at")
    no_sub = ~has_sub
    set_aside |= no_sub & ~has_sent
    _issue_long(
        ctx,
        "missing-value",
        sub_h,
        no_sub & ~has_sent,
        None,
        rows,
        files,
        f"'{sub_h}' is empty and there is no sent date; row set aside",
    )
    # submitted but no score
    no_score = has_sub & ~has_score & ~has_sent
    set_aside |= no_score
    for h in np.unique(src[no_score]) if no_score.any() else ():
        m = no_score & (src == h)
        _issue_long(
            ctx,
            "missing-value",
            str(h),
            m,
            None,
            rows,
            files,
            f"'{h}' (score) is empty; row set aside",
        )
    if "submitted_at" in long.columns:
        long["score"] = long["score"].mask(~has_sub)
        if "rating" in long.columns:
            long["rating"] = long["rating"].mask(~has_sub)

    # R10 scale check: nothing rescaled silently
    scales = _scales(ctx.config)
    score = long["score"].to_numpy()
    types = long["survey_type"].to_numpy()
    out_mask = np.zeros(len(long), dtype=bool)
    for t, (lo, hi) in scales.items():
        m = (types == t) & ~np.isnan(score) & ((score < lo) | (score > hi))
        out_mask |= m
        for h in np.unique(src[m]) if m.any() else ():
            mm = m & (src == h)
            _issue_long(
                ctx,
                "score-out-of-scale",
                str(h),
                mm,
                score,
                rows,
                files,
                f"'{h}' is outside the {t} scale {lo:g}–{hi:g}; row set aside "
                f"(set surveys.{t}.scale in the config if the scale differs)",
            )
    set_aside |= out_mask
    long = long.loc[~set_aside].drop(columns=["_src"]).reset_index(drop=True)
    ctx.meta["survey_types"] = sorted(pd.unique(long["survey_type"]).tolist()) if len(long) else []
    return long


def _issue_long(ctx: _Ctx, code, column, mask, raw, rows, files, message) -> None:
    ctx.sink.add_mask(code, "warning", ctx.dataset, column, mask, raw, rows, files, message)


# ---------------------------------------------------------------------------
# duplicates (R3): applied after concatenation so "first in file order" spans files


def _repeats(s: pd.Series) -> np.ndarray:
    """`s.duplicated(keep="first")` for a text column, via Arrow's dictionary encoding:
    it numbers distinct values in order of first appearance, so a row is a first
    occurrence exactly when its number exceeds every earlier one (no hashing in pandas)."""
    if s.dtype != V._STR or not len(s):
        return s.duplicated(keep="first").to_numpy()
    arr = V._arrow(s)
    idx = pc.dictionary_encode(arr.combine_chunks()).indices
    codes = np.asarray(pc.fill_null(idx, -1).to_numpy(zero_copy_only=False), dtype=np.int64)
    seen = np.maximum.accumulate(codes)
    first = np.empty(len(codes), dtype=bool)
    first[0] = codes[0] >= 0
    first[1:] = codes[1:] > seen[:-1]
    # missing values: pandas counts every NaN after the first as a repeat
    missing = codes < 0
    if missing.any():
        first[missing] = False
        first[np.flatnonzero(missing)[0]] = True
    return ~first


def drop_duplicates(
    dataset: str,
    frame: pd.DataFrame,
    columns: dict[str, str],
    sink: IssueSink,
    file_columns: dict[str, dict[str, str]] | None = None,
) -> pd.DataFrame:
    """Set aside later copies; the first row in file order is kept (R3).

    `columns` maps canonical → header; `file_columns[file]` does so per file
    when several files were concatenated, so issues name each file's header.
    """
    if dataset == "tickets" and "ticket_id" in frame.columns:
        key = ["ticket_id"]
    elif dataset == "accounts" and "account_id" in frame.columns:
        key = ["account_id"]
    elif dataset == "surveys" and "response_id" in frame.columns:
        key = ["response_id", "survey_type"]
    elif dataset == "billing" and "invoice_id" in frame.columns:
        key = [c for c in columns if c in frame.columns]
    else:
        return frame
    has_key = frame[key[0]].notna().to_numpy()
    if len(key) == 1:
        dup = _repeats(frame[key[0]]) & has_key
    else:
        dup = frame[key].duplicated(keep="first").to_numpy() & has_key
    if not dup.any():
        return frame
    col = "invoice_id" if dataset == "billing" else key[0]
    rows = frame[ROW].to_numpy()
    files = frame[FILE].astype(object).to_numpy()
    for f in pd.unique(files[dup]):
        header = (file_columns or {}).get(str(f), columns).get(col, col)
        msg = (
            "same invoice line repeated (every value equal); later copy set aside"
            if dataset == "billing"
            else f"'{header}' repeats an earlier row; later copy set aside"
        )
        sink.add_mask(
            "duplicate-id",
            "warning",
            dataset,
            header,
            dup & (files == f),
            frame[col],
            rows,
            files,
            msg,
        )
    return frame.loc[~dup].reset_index(drop=True)
