"""A small streaming XLSX (Office Open XML) writer for large, plain tables.

Why not openpyxl for writing: without lxml its XML serialisation costs tens
of microseconds per cell, and a report on 50,000 accounts has millions of
cells (minutes). This writer builds each row as one string and produces a
standard workbook that Excel, LibreOffice and openpyxl read (the tests read
every report back with openpyxl). It knows exactly what the report needs:
inline strings, numbers with number formats, bold/coloured fonts, solid
fills, column widths, a frozen header row, an autofilter, and conditional
formats (formula rules and a 3-colour scale). Output is deterministic
(fixed zip timestamps), so the same report gives the same bytes.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ESC = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
MAX_CHARS = 32767  # Excel's limit per cell


def xml_text(s: str) -> str:
    s = _ILLEGAL.sub("", s)
    if len(s) > MAX_CHARS:
        s = s[: MAX_CHARS - 1] + "…"
    return s.translate(_ESC)


def col_letter(i: int) -> str:
    """1 → A, 27 → AA."""
    out = ""
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(65 + r) + out
    return out


@dataclass(frozen=True)
class Style:
    """A cell style: number format, bold, font colour and fill colour (RRGGBB)."""

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


@dataclass
class _Sheet:
    name: str
    widths: list[float]
    freeze_header: bool
    rows: list[str] = field(default_factory=list)
    n_rows: int = 0
    n_cols: int = 0
    autofilter: bool = False
    conditional: list[tuple[str, str]] = field(
        default_factory=list
    )  # (sqref, cfRule xml without priority)


class Workbook:
    def __init__(self) -> None:
        self.sheets: list[_Sheet] = []
        self._xf: dict[Style, int] = {Style(): 0}
        self._fonts: dict[tuple, int] = {(False, None, None): 0}
        self._fills: dict[str | None, int] = {None: 0}
        self._numfmts: dict[str, int] = {}
        self._dxfs: list[str] = []

    # ---------------------------------------------------------------- styles
    def xf(self, style: Style | None) -> int:
        if style is None:
            return 0
        if style not in self._xf:
            self._font(style)
            self._fill(style.fill)
            if style.number_format:
                self._numfmts.setdefault(style.number_format, 164 + len(self._numfmts))
            self._xf[style] = len(self._xf)
        return self._xf[style]

    def _font(self, s: Style) -> int:
        key = (s.bold, s.size, s.color)
        return self._fonts.setdefault(key, len(self._fonts))

    def _fill(self, color: str | None) -> int:
        if color not in self._fills:
            self._fills[color] = len(self._fills) + 1  # ids 0 and 1 are the two required fills
        return 0 if color is None else self._fills[color]

    def dxf(self, *, fill: str | None = None, color: str | None = None, bold: bool = False) -> int:
        """A differential format for conditional formatting; returns its id."""
        font = ""
        if bold or color:
            font = (
                "<font>"
                + ("<b/>" if bold else "")
                + (f'<color rgb="FF{color}"/>' if color else "")
                + "</font>"
            )
        fill_xml = (
            f'<fill><patternFill patternType="solid"><fgColor rgb="FF{fill}"/><bgColor rgb="FF{fill}"/>'
            "</patternFill></fill>"
            if fill
            else ""
        )
        self._dxfs.append(f"<dxf>{font}{fill_xml}</dxf>")
        return len(self._dxfs) - 1

    # ---------------------------------------------------------------- sheets
    def add_sheet(
        self, name: str, widths: list[float] | None = None, *, freeze_header: bool = False
    ) -> SheetWriter:
        name = re.sub(r"[\[\]:*?/\\]", " ", name)[:31]
        sh = _Sheet(name, list(widths or []), freeze_header)
        self.sheets.append(sh)
        return SheetWriter(self, sh)

    # ---------------------------------------------------------------- output
    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:

            def put(path: str, text: str) -> None:
                info = zipfile.ZipInfo(path, date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, text.encode("utf-8"))

            n = len(self.sheets)
            put("[Content_Types].xml", self._content_types(n))
            put(
                "_rels/.rels",
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
            )
            put("xl/workbook.xml", self._workbook())
            rels = "".join(
                f'<Relationship Id="rId{i + 1}" Type="{REL_NS}/worksheet" Target="worksheets/sheet{i + 1}.xml"/>'
                for i in range(n)
            )
            rels += f'<Relationship Id="rId{n + 1}" Type="{REL_NS}/styles" Target="styles.xml"/>'
            put(
                "xl/_rels/workbook.xml.rels",
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                f"{rels}</Relationships>",
            )
            for i, sh in enumerate(self.sheets):
                put(f"xl/worksheets/sheet{i + 1}.xml", self._sheet_xml(sh, i))
            put("xl/styles.xml", self._styles())
        return buf.getvalue()

    def _content_types(self, n: int) -> str:
        sheets = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i + 1}.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for i in range(n)
        )
        return (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            f"{sheets}"
            '<Override PartName="/xl/styles.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>'
        )

    def _workbook(self) -> str:
        sheets = "".join(
            f'<sheet name="{xml_text(s.name)}" sheetId="{i + 1}" r:id="rId{i + 1}"/>'
            for i, s in enumerate(self.sheets)
        )
        names = "".join(
            f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
            f"{xml_text(_quote_sheet(s.name))}!$A$1:${col_letter(s.n_cols)}${max(s.n_rows, 1)}</definedName>"
            for i, s in enumerate(self.sheets)
            if s.autofilter and s.n_cols
        )
        return (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><bookViews><workbookView/></bookViews>'
            f"<sheets>{sheets}</sheets>"
            + (f"<definedNames>{names}</definedNames>" if names else "")
            + "</workbook>"
        )

    def _sheet_xml(self, sh: _Sheet, index: int) -> str:
        view = '<sheetView workbookViewId="0"' + (' tabSelected="1"' if index == 0 else "") + ">"
        if sh.freeze_header:
            view += (
                '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
                '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>'
            )
        view += "</sheetView>"
        cols = "".join(
            f'<col min="{i + 1}" max="{i + 1}" width="{w}" customWidth="1"/>'
            for i, w in enumerate(sh.widths)
            if w
        )
        parts = [
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n',
            f'<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">',
            f"<sheetViews>{view}</sheetViews>",
            '<sheetFormatPr defaultRowHeight="15"/>',
            f"<cols>{cols}</cols>" if cols else "",
            "<sheetData>",
            "".join(sh.rows),
            "</sheetData>",
        ]
        if sh.autofilter and sh.n_cols:
            parts.append(f'<autoFilter ref="A1:{col_letter(sh.n_cols)}{max(sh.n_rows, 1)}"/>')
        for prio, (sqref, rule) in enumerate(sh.conditional, start=1):
            parts.append(
                f'<conditionalFormatting sqref="{sqref}">{rule.replace("PRIORITY", str(prio))}'
                "</conditionalFormatting>"
            )
        parts.append(
            '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
        )
        parts.append("</worksheet>")
        return "".join(parts)

    def _styles(self) -> str:
        numfmts = "".join(
            f'<numFmt numFmtId="{i}" formatCode="{xml_text(f)}"/>' for f, i in self._numfmts.items()
        )
        fonts = []
        for bold, size, color in self._fonts:
            fonts.append(
                "<font>"
                + ("<b/>" if bold else "")
                + f'<sz val="{size or 11}"/>'
                + (f'<color rgb="FF{color}"/>' if color else "")
                + '<name val="Calibri"/><family val="2"/></font>'
            )
        fills = [
            '<fill><patternFill patternType="none"/></fill>',
            '<fill><patternFill patternType="gray125"/></fill>',
        ]
        for color in list(self._fills)[1:]:
            fills.append(
                f'<fill><patternFill patternType="solid"><fgColor rgb="FF{color}"/>'
                '<bgColor indexed="64"/></patternFill></fill>'
            )
        xfs = []
        for s in self._xf:
            num = self._numfmts.get(s.number_format, 0) if s.number_format else 0
            font = self._fonts[(s.bold, s.size, s.color)]
            fill = self._fill(s.fill)
            attrs = f'numFmtId="{num}" fontId="{font}" fillId="{fill}" borderId="0" xfId="0"'
            if num:
                attrs += ' applyNumberFormat="1"'
            if font:
                attrs += ' applyFont="1"'
            if fill:
                attrs += ' applyFill="1"'
            xfs.append(f"<xf {attrs}/>")
        return (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<styleSheet xmlns="{MAIN_NS}">'
            + (f'<numFmts count="{len(self._numfmts)}">{numfmts}</numFmts>' if numfmts else "")
            + f'<fonts count="{len(fonts)}">{"".join(fonts)}</fonts>'
            + f'<fills count="{len(fills)}">{"".join(fills)}</fills>'
            + '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
            + '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            + f'<cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
            + '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
            + f'<dxfs count="{len(self._dxfs)}">{"".join(self._dxfs)}</dxfs>'
            + "</styleSheet>"
        )


def _quote_sheet(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


class SheetWriter:
    """Appends rows to one sheet. Strings are written as given (callers neutralise them)."""

    def __init__(self, wb: Workbook, sh: _Sheet):
        self.wb, self.sh = wb, sh
        self.letters: list[str] = []

    def _letter(self, j: int) -> str:
        while len(self.letters) <= j:
            self.letters.append(col_letter(len(self.letters) + 1))
        return self.letters[j]

    def append(self, values: Iterable[Any], styles: list[Style | None] | None = None) -> None:
        r = self.sh.n_rows + 1
        cells = []
        n = 0
        for j, v in enumerate(values):
            n = j + 1
            style = styles[j] if styles is not None and j < len(styles) else None
            if isinstance(v, Cell):
                v, style = v.value, v.style
            if v is None:
                if style is not None and (style.fill or style.bold):
                    cells.append(f'<c r="{self._letter(j)}{r}" s="{self.wb.xf(style)}"/>')
                continue
            s_attr = f' s="{self.wb.xf(style)}"' if style is not None else ""
            ref = f"{self._letter(j)}{r}"
            if isinstance(v, bool):
                cells.append(f'<c r="{ref}"{s_attr} t="b"><v>{int(v)}</v></c>')
            elif isinstance(v, (int, float)):
                if isinstance(v, float) and not math.isfinite(v):
                    continue
                cells.append(f'<c r="{ref}"{s_attr}><v>{v!r}</v></c>')
            else:
                cells.append(
                    f'<c r="{ref}"{s_attr} t="inlineStr"><is><t xml:space="preserve">'
                    f"{xml_text(str(v))}</t></is></c>"
                )
        self.sh.rows.append(f'<row r="{r}">{"".join(cells)}</row>')
        self.sh.n_rows = r
        self.sh.n_cols = max(self.sh.n_cols, n)

    def autofilter(self) -> None:
        self.sh.autofilter = True

    def rule_expression(self, sqref: str, formula: str, dxf_id: int) -> None:
        self.sh.conditional.append(
            (
                sqref,
                (
                    f'<cfRule type="expression" dxfId="{dxf_id}" priority="PRIORITY">'
                    f"<formula>{xml_text(formula)}</formula></cfRule>"
                ),
            )
        )

    def rule_color_scale(self, sqref: str, points: list[tuple[float, str]]) -> None:
        cfvo = "".join(f'<cfvo type="num" val="{v}"/>' for v, _ in points)
        colors = "".join(f'<color rgb="FF{c}"/>' for _, c in points)
        self.sh.conditional.append(
            (
                sqref,
                (
                    f'<cfRule type="colorScale" priority="PRIORITY"><colorScale>{cfvo}'
                    f"{colors}</colorScale></cfRule>"
                ),
            )
        )
