"""The small table-writing interface the XLSX report needs, on openpyxl.

openpyxl is the project's Excel library (it serialises faster when lxml is
installed, hence that dependency); its write-only mode streams rows to
a temporary file, so a report on 50,000 accounts does not hold millions of
cell objects. This adapter adds what the report relies on: each `Style` is
turned into openpyxl's Font/PatternFill/number format once and reused; text
is always written as text (openpyxl would otherwise read `=…` as a formula
and `#N/A` as an error), with characters XML cannot hold removed; NaN and
infinities are left empty; and the zip entries and document dates are fixed,
so the same report gives the same bytes. Column widths and the frozen header
must be set before the first row in write-only mode (`add_sheet` does that);
the autofilter and conditional formats are written when the workbook is saved.
"""

from __future__ import annotations

import io
import math
import numbers
import re
import shutil
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from openpyxl import Workbook as _OpenpyxlWorkbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.formatting.rule import ColorScaleRule, FormulaRule
from openpyxl.styles import Font, PatternFill
from openpyxl.styles.differential import DifferentialStyle
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter

_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
MAX_CHARS = 32767  # Excel's limit per cell
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # zip entry dates: deterministic output
_DOC_TIME = datetime(2000, 1, 1)  # document created/modified: deterministic output


def clean_text(s: str) -> str:
    """Remove characters XML cannot hold; cut to Excel's cell limit with an ellipsis."""
    s = _ILLEGAL.sub("", s)
    if len(s) > MAX_CHARS:
        s = s[: MAX_CHARS - 1] + "…"
    return s


def _argb(rgb: str | None) -> str | None:
    """RRGGBB → opaque AARRGGBB (openpyxl would prefix 00)."""
    return None if rgb is None else "FF" + rgb


col_letter = get_column_letter  # 1 → A, 27 → AA


@dataclass(frozen=True)
class Style:
    """A cell style: number format, bold, font size, font colour and fill colour (RRGGBB)."""

    number_format: str | None = None
    bold: bool = False
    size: int | None = None
    color: str | None = None
    fill: str | None = None


@dataclass
class Cell:
    """A value with a style (plain values use the column's style)."""

    value: Any
    style: Style


class Workbook:
    def __init__(self) -> None:
        self.book = _OpenpyxlWorkbook(write_only=True)
        self.book.properties.creator = "csm"
        self.book.properties.created = self.book.properties.modified = _DOC_TIME
        self.sheets: list[SheetWriter] = []
        self._styles: dict[Style, tuple[Font | None, PatternFill | None, str | None]] = {}

    def _openpyxl_style(self, style: Style) -> tuple[Font | None, PatternFill | None, str | None]:
        """Font, fill and number format for a Style, built once and reused for every cell."""
        got = self._styles.get(style)
        if got is None:
            font = (
                Font(
                    name="Calibri",
                    family=2,
                    size=style.size or 11,
                    bold=style.bold or None,
                    color=_argb(style.color),
                )
                if style.bold or style.size or style.color
                else None
            )
            fill = PatternFill("solid", fgColor=_argb(style.fill)) if style.fill else None
            got = self._styles[style] = (font, fill, style.number_format)
        return got

    def dxf(
        self, *, fill: str | None = None, color: str | None = None, bold: bool = False
    ) -> DifferentialStyle:
        """A differential format for conditional formatting."""
        return DifferentialStyle(
            font=Font(bold=bold or None, color=_argb(color)) if bold or color else None,
            fill=PatternFill("solid", fgColor=_argb(fill), bgColor=_argb(fill)) if fill else None,
        )

    def add_sheet(
        self, name: str, widths: list[float] | None = None, *, freeze_header: bool = False
    ) -> SheetWriter:
        ws = self.book.create_sheet(re.sub(r"[\[\]:*?/\\]", " ", name)[:31])
        # write-only sheets write their columns and panes with the first row: set them now
        for i, w in enumerate(widths or [], start=1):
            if w:
                ws.column_dimensions[col_letter(i)].width = w
        if freeze_header:
            ws.freeze_panes = "A2"
        sh = SheetWriter(self, ws)
        self.sheets.append(sh)
        return sh

    def to_bytes(self) -> bytes:
        for sh in self.sheets:
            if sh.has_autofilter and sh.n_cols:
                sh.ws.auto_filter.ref = f"A1:{col_letter(sh.n_cols)}{max(sh.n_rows, 1)}"
        if not self.sheets:
            self.book.create_sheet()
        buf = io.BytesIO()
        # ExcelWriter is what Workbook.save uses; called directly so the zip dates are fixed
        ExcelWriter(
            self.book, _FixedTimeZip(buf, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
        ).save()
        return buf.getvalue()


class _FixedTimeZip(zipfile.ZipFile):
    """A zip whose entries all carry one fixed date, so equal content gives equal bytes."""

    def _info(self, name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        return info

    def writestr(self, zinfo_or_arcname: Any, data: Any, *args: Any, **kwargs: Any) -> None:
        if isinstance(zinfo_or_arcname, str):
            zinfo_or_arcname = self._info(zinfo_or_arcname)
        super().writestr(zinfo_or_arcname, data, *args, **kwargs)

    def write(self, filename: Any, arcname: Any = None, *args: Any, **kwargs: Any) -> None:
        # openpyxl adds each streamed sheet from its temporary file: copy it in chunks
        with open(filename, "rb") as src, self.open(self._info(arcname or filename), "w") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)


class SheetWriter:
    """Appends rows to one sheet. Strings are written as given (callers neutralise them)."""

    def __init__(self, wb: Workbook, ws: Any):
        self.wb, self.ws = wb, ws
        self.n_rows = 0
        self.n_cols = 0
        self.has_autofilter = False

    def _cell(self, v: Any, style: Style | None) -> Any:
        """The value as openpyxl should get it: plain when it can be, else a cell with a style."""
        if isinstance(v, str) or not (v is None or isinstance(v, (int, float, numbers.Real))):
            v = clean_text(str(v))
            if style is None and v[:1] not in ("=", "#"):
                return v
            c = WriteOnlyCell(self.ws, v)
            c.data_type = "s"  # always text: never a formula or an error value
        else:
            if v is not None and not math.isfinite(v):
                v = None  # NaN and infinities have no cell value: left empty
            if style is None or (v is None and not (style.fill or style.bold)):
                return v
            c = WriteOnlyCell(self.ws, v)
        if style is not None:
            font, fill, fmt = self.wb._openpyxl_style(style)
            if font is not None:
                c.font = font
            if fill is not None:
                c.fill = fill
            if fmt:
                c.number_format = fmt
        return c

    def append(self, values: Iterable[Any], styles: list[Style | None] | None = None) -> None:
        row = []
        for j, v in enumerate(values):
            style = styles[j] if styles is not None and j < len(styles) else None
            if isinstance(v, Cell):
                v, style = v.value, v.style
            row.append(self._cell(v, style))
        self.ws.append(row)
        self.n_rows += 1
        self.n_cols = max(self.n_cols, len(row))

    def autofilter(self) -> None:
        """An autofilter over the whole table (its range is set when saving)."""
        self.has_autofilter = True

    def rule_expression(self, sqref: str, formula: str, dxf: DifferentialStyle) -> None:
        rule = FormulaRule(formula=[formula], font=dxf.font, fill=dxf.fill)
        self.ws.conditional_formatting.add(sqref, rule)

    def rule_color_scale(self, sqref: str, points: list[tuple[float, str]]) -> None:
        (v0, c0), (v1, c1), (v2, c2) = points
        self.ws.conditional_formatting.add(
            sqref,
            ColorScaleRule(
                start_type="num", start_value=v0, start_color=_argb(c0),
                mid_type="num", mid_value=v1, mid_color=_argb(c1),
                end_type="num", end_value=v2, end_color=_argb(c2),
            ),
        )  # fmt: skip
