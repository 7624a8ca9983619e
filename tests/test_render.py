"""Renderers on a fixed hand-built Report (tests/fixtures/report/report.json).

Golden files: tests/golden/report.{txt,json,md} and report_{kpis,health,issues}.csv;
`pytest --update-golden` rewrites them. The fixture holds hostile text on
purpose: an account named <script>alert(1)</script>, one named
=HYPERLINK(...), a group '+cmd|calc', an issue value '@SUM(A1)'.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from cs_metrics.render import formatting as F
from cs_metrics.render import render
from cs_metrics.report import report_from_dict

HERE = Path(__file__).parent
FIXTURE = HERE / "fixtures" / "report" / "report.json"
GOLDEN = HERE / "golden"
SCHEMA = HERE.parent / "cs_metrics" / "data" / "report.schema.json"
XSS = "<script>alert(1)</script>"
FORMULA = '=HYPERLINK("http://evil.example","click")'
ANSI = re.compile(r"\x1b\[")


@pytest.fixture
def data() -> dict:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


@pytest.fixture
def report(data):
    return report_from_dict(copy.deepcopy(data))


@pytest.fixture(autouse=True)
def _fixed_width(monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)


def check_golden(name: str, text: str, update: bool) -> None:
    path = GOLDEN / name
    if update:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"missing golden file {path}: run pytest --update-golden"
    assert text == path.read_text(encoding="utf-8"), (
        f"{name} differs: review, then pytest --update-golden"
    )


# ------------------------------------------------------------------ golden files
def test_golden_table(report, update_golden):
    check_golden("report.txt", render(report, "table", color=False), update_golden)


def test_golden_json(report, update_golden):
    check_golden("report.json", render(report, "json"), update_golden)


def test_golden_markdown(report, update_golden):
    check_golden("report.md", render(report, "md"), update_golden)


@pytest.mark.parametrize("table", ["kpis", "health", "issues"])
def test_golden_csv(report, table, update_golden):
    check_golden(f"report_{table}.csv", render(report, "csv", table=table), update_golden)


# ------------------------------------------------------------------ terminal
def test_table_without_color_has_no_ansi_and_fits_120_columns(report):
    text = render(report, "table", color=False)
    assert not ANSI.search(text)
    assert max(len(line) for line in text.splitlines()) <= 120
    # ASCII borders only: no box-drawing characters when not on a terminal
    assert not re.search("[\u2500-\u257f]", text)
    assert "MRR" in text and "USD 125,430" in text


def test_table_with_color_has_ansi_and_colours_changes(report):
    text = render(report, "table", color=True)
    assert ANSI.search(text)
    # NRR went up and higher is better → green (32); NPS went down → red (31)
    nrr = next(line for line in text.splitlines() if "Net revenue retention" in line)
    nps = next(line for line in text.splitlines() if line.strip().startswith("NPS"))
    assert "\x1b[32m" in nrr and "\x1b[31m" in nps


def test_table_lists_at_risk_accounts_with_top_driver(report):
    text = render(report, "table")
    line = next(line for line in text.splitlines() if line.startswith("A-3"))
    # A-3's first down driver: licence utilisation, raw 0.12, impact -16.67 → "-16.7 pts"
    assert "Licence utilisation (0.12, -16.7 pts)" in line
    assert "at risk" in line
    assert "rows set aside" in text.splitlines()[-1]


def test_table_respects_columns_env(report, monkeypatch):
    monkeypatch.setenv("COLUMNS", "150")
    text = render(report, "table")
    assert max(len(line) for line in text.splitlines()) > 120


# ------------------------------------------------------------------ JSON
def test_json_round_trips_and_leaves_out_trend(report, data):
    out = json.loads(render(report, "json"))
    expected = copy.deepcopy(data)
    expected.pop("trend")
    assert out == expected
    assert list(out)[:4] == ["schema_version", "generated_at", "as_of", "window"]


def test_json_nan_becomes_null(data):
    data["kpis"][0]["value"] = float("nan")
    data["health"]["accounts"][0]["arr"] = float("inf")
    out = render(report_from_dict(data), "json")
    assert "NaN" not in out and "Infinity" not in out
    d = json.loads(out)
    assert d["kpis"][0]["value"] is None and d["kpis"][0]["change"] is None
    assert d["health"]["accounts"][0]["arr"] is None


def test_json_is_deterministic(report):
    assert render(report, "json") == render(report, "json")


def test_json_validates_against_schema(report):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(json.loads(render(report, "json")), schema)


def test_schema_rejects_a_broken_report(report):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    d = json.loads(render(report, "json"))
    d["kpis"][0]["better"] = "sideways"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(d, schema)


# ------------------------------------------------------------------ CSV
def _rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_neutralises_formulas_but_keeps_numbers(report):
    health = _rows(render(report, "csv", table="health"))
    names = {r["account_id"]: r["name"] for r in health}
    assert names["A-4"] == "'" + FORMULA
    assert names["A-3"] == XSS  # CSV is not HTML: only formulas are guarded
    change = {r["account_id"]: r["change"] for r in health}
    # 22.5 - 41.0 = -18.5, written as a number, not neutralised
    assert change["A-3"] == "-18.5"
    issues = _rows(render(report, "csv", table="issues"))
    assert "'@SUM(A1)" in [r["value"] for r in issues]
    kpis = _rows(render(report, "csv", table="kpis"))
    assert "'+cmd|calc" in {r["group"] for r in kpis}
    for text in (render(report, "csv", table=t) for t in ("kpis", "health", "issues")):
        for row in csv.reader(io.StringIO(text)):
            for cell in row:
                assert not cell.startswith(("=", "@", "+", "\t", "\r")) and not re.match(
                    r"-[^\d.]", cell
                )


def test_csv_kpis_are_unrounded(report):
    kpis = {r["id"]: r for r in _rows(render(report, "csv", table="kpis")) if r["group"] == ""}
    assert kpis["nrr"]["value"] == "1.0425"
    assert kpis["late_payment_rate"]["value"] == ""
    assert kpis["late_payment_rate"]["unavailable_reason"].startswith("needs billing.due_at")
    assert kpis["nrr"]["direction"] == "better" and kpis["tickets"]["direction"] == "worse"


def test_csv_unknown_table_is_a_usage_error(report):
    from cs_metrics.errors import UsageError

    with pytest.raises(UsageError):
        render(report, "csv", table="accounts")


# ------------------------------------------------------------------ Markdown
def test_markdown_escapes_html_and_pipes(report):
    text = render(report, "md")
    assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "+cmd\\|calc" in text  # a pipe in a value must not split the table
    for line in text.splitlines():
        if line.startswith("| ") and "KPI" in line:
            assert line.count(" | ") >= 3


# ------------------------------------------------------------------ HTML
class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += attrs

    def handle_data(self, data):
        self.text.append(data)


def test_html_escapes_everything_and_is_self_contained(report):
    page = render(report, "html")
    p = _Collector()
    p.feed(page)
    assert "script" not in p.tags  # the hostile name did not become a tag
    assert XSS in "".join(p.text)  # ...but is shown as text
    assert FORMULA in "".join(p.text).replace("&quot;", '"')
    assert not any(t in p.tags for t in ("link", "img", "iframe", "object", "embed"))
    assert not any(k in ("src", "href") for k, _ in p.attrs)
    assert not any(k.startswith("on") for k, _ in p.attrs)
    assert '<meta charset="utf-8">' in page
    assert "http://" not in page.replace("http://evil.example", "").replace("http://www.w3.org", "")
    assert "https://" not in page


def test_html_has_charts_and_sections(report):
    page = render(report, "html")
    assert page.count("<svg") == 4  # MRR movements, NPS, accounts by band, ARR by band
    for title in (
        "MRR movements",
        "NPS",
        "Accounts by band",
        "ARR by band",
        "At-risk accounts",
        "Data quality",
    ):
        assert title in page
    assert "USD 125,430" in page


def test_html_without_trend_or_health_still_renders(data):
    data.pop("trend")
    data["health"] = None
    page = render(report_from_dict(data), "html")
    assert "<svg" not in page and "No health scores" in page


# ------------------------------------------------------------------ XLSX
def _book(report):
    openpyxl = pytest.importorskip("openpyxl")
    return openpyxl.load_workbook(io.BytesIO(render(report, "xlsx")))


def test_xlsx_reads_back_with_sheets_formats_and_guards(report):
    wb = _book(report)
    assert wb.sheetnames == ["Summary", "KPIs", "Health", "Drivers", "Data quality"]
    kp = wb["KPIs"]
    header = [c.value for c in kp[1]]
    assert header[:4] == ["segment", "Category", "KPI", "Value"]
    assert kp.freeze_panes == "A2" and kp.auto_filter.ref == f"A1:L{kp.max_row}"
    assert kp["A1"].font.b
    by_id = {}
    for r in kp.iter_rows(min_row=2):
        if r[0].value == "(all)":
            by_id[r[11].value] = r
    assert by_id["mrr"][3].value == 125430.5 and '"USD"' in by_id["mrr"][3].number_format
    assert by_id["nrr"][3].value == 1.0425 and by_id["nrr"][3].number_format == "0.0%"
    assert by_id["first_response_hours_median"][3].number_format == '0.0 "h"'
    assert by_id["late_payment_rate"][3].value is None
    h = wb["Health"]
    names = {r[1]: r[2] for r in h.iter_rows(min_row=2, values_only=True)}
    assert names["A-4"] == "'" + FORMULA and names["A-3"] == XSS
    assert all(c.data_type != "f" for row in h.iter_rows() for c in row)
    assert len(h.conditional_formatting) >= 2  # band colours and the score scale
    dq = [r for r in wb["Data quality"].iter_rows(min_row=2, values_only=True)]
    assert (
        "orphan-account",
        "warning",
        "tickets",
        "tickets.csv",
        14,
        "Organization",
        "'@SUM(A1)",
    ) == dq[1][:7]
    drivers = list(wb["Drivers"].iter_rows(min_row=2, values_only=True))
    # 2 + 1 + 2 + 1 drivers in the fixture; A-3's first: impact -16.67
    assert len(drivers) == 6 and drivers[0][0] == "A-3" and drivers[0][9] == -16.67


def test_xlsx_strips_control_characters_and_is_deterministic(data):
    data["health"]["accounts"][0]["name"] = "bad\x00\x07name\ttab"
    r = report_from_dict(data)
    assert render(r, "xlsx") == render(report_from_dict(copy.deepcopy(data)), "xlsx")
    wb = _book(r)
    assert wb["Health"]["C2"].value == "badname\ttab"


def test_xlsx_with_no_health(data):
    data["health"] = None
    wb = _book(report_from_dict(data))
    assert wb["Health"].max_row == 1


def test_xlsx_health_sheet_layout_formats_and_rules(report):
    wb = _book(report)
    h = wb["Health"]
    # the fixture has 5 accounts: header + 5 rows, 14 columns (A..N)
    assert h.freeze_panes == "A2" and h.auto_filter.ref == "A1:N6"
    assert h.column_dimensions["C"].width == 32  # Name column width from xlsx.py
    head = h["A1"]
    assert head.value == "Rank" and head.font.b
    assert head.fill.fgColor.rgb == "FF334E68" and head.font.color.rgb == "FFFFFFFF"
    row = {c.column_letter: c for c in h[2]}
    assert row["A"].value == 1 and row["A"].number_format == "#,##0"
    assert isinstance(row["D"].value, float) and row["D"].number_format == "0.0"
    assert row["G"].number_format == "+0.0;-0.0;0.0"
    assert row["H"].number_format == '#,##0.00 "USD";-#,##0.00 "USD"'
    rules = [(str(cf.sqref), r) for cf in h.conditional_formatting for r in cf.rules]
    kinds = sorted(r.type for _, r in rules)
    assert kinds.count("expression") >= 1 and kinds.count("colorScale") == 1
    scale = next(r for _, r in rules if r.type == "colorScale")
    assert [v.val for v in scale.colorScale.cfvo] == [0, 50, 100]
    healthy = next(r for _, r in rules if r.type == "expression" and '"healthy"' in r.formula[0])
    assert healthy.dxf.fill.fgColor.rgb == "FFC6EFCE" and healthy.dxf.font.b
    assert {s for s, _ in rules} == {"E2:E6", "D2:D6"}
    # KPIs: change coloured green or red by the KPI's direction
    kp_rules = [r for cf in wb["KPIs"].conditional_formatting for r in cf.rules]
    assert sorted(r.dxf.font.color.rgb for r in kp_rules) == ["FF006100", "FF9C0006"]


def test_xlsx_is_the_same_bytes_across_seconds(report, monkeypatch):
    import datetime as dt
    import zipfile

    first = render(report, "xlsx")
    z = zipfile.ZipFile(io.BytesIO(first))
    assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert b"2000-01-01T00:00:00Z" in z.read("docProps/core.xml")
    # a later clock must not change a byte (zip dates and document dates are fixed)
    later = dt.datetime(2031, 5, 6, 7, 8, 9)

    class Clock(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return later.replace(tzinfo=tz)

    monkeypatch.setattr(dt, "datetime", Clock)
    monkeypatch.setattr("time.time", lambda: later.timestamp())
    assert render(report, "xlsx") == first


def test_xlsx_writer_keeps_text_as_text_and_numbers_as_numbers():
    openpyxl = pytest.importorskip("openpyxl")
    np = pytest.importorskip("numpy")
    from cs_metrics.render.xlsx_writer import Cell, Style, Workbook

    wb = Workbook()
    sh = wb.add_sheet("T:/x", [10, 0, 5], freeze_header=True)
    fill = Style(fill="FFEB9C", bold=True)
    # unneutralised text that openpyxl alone would turn into a formula or an error value
    sh.append(["=1+1", "#N/A", "#DIV/0!", "=SUM(A1)"], [None, None, Style("0.0"), None])
    sh.append(
        [float("nan"), float("inf"), np.int64(3), np.float64(2.5), True, None, Cell(None, fill)]
    )
    sh.append(["x" * 40000, "a\x00b\x1f\ufffec", 7])
    sh.autofilter()
    back = openpyxl.load_workbook(io.BytesIO(wb.to_bytes()))
    ws = back["T  x"]  # ':' and '/' are not allowed in sheet names
    first = next(ws.iter_rows(max_row=1, max_col=4))
    assert [c.value for c in first] == ["=1+1", "#N/A", "#DIV/0!", "=SUM(A1)"]
    assert all(c.data_type == "s" for c in first)
    r2 = {c.column_letter: c for c in ws[2]}
    assert "A" not in r2 or r2["A"].value is None  # NaN and inf: empty cells, not text
    assert "B" not in r2 or r2["B"].value is None
    assert r2["C"].value == 3 and r2["C"].data_type == "n"  # numpy int stays a number
    assert r2["D"].value == 2.5 and r2["E"].value is True
    assert r2["G"].value is None and r2["G"].fill.fgColor.rgb == "FFFFEB9C" and r2["G"].font.b
    long, ctrl = ws["A3"].value, ws["B3"].value
    assert len(long) == 32767 and long.endswith("…")  # Excel's cell limit
    assert ctrl == "abc"
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:G3"
    assert ws.column_dimensions["A"].width == 10 and ws.column_dimensions["C"].width == 5


# ------------------------------------------------------------------ formatting
@pytest.mark.parametrize(
    "value,unit,expected",
    [
        (1234567.891, "currency", "USD 1,234,568"),
        (12.345, "currency", "USD 12.35"),  # cents below 100
        (0.0, "currency", "USD 0"),
        (-2500.0, "currency", "-USD 2,500"),
        (0.15349, "ratio", "15.3%"),
        (3.25, "hours", "3.2 h"),  # round half to even on the binary value 3.25
        (41.26, "nps", "41.3"),
        (1480, "count", "1,480"),
        (2.5, "count", "2.50"),
        (None, "ratio", "—"),
        (float("nan"), "ratio", "—"),
    ],
)
def test_value_formatting(value, unit, expected):
    assert F.value(value, unit, "USD") == expected


@pytest.mark.parametrize(
    "value,unit,expected",
    [
        (0.0123, "ratio", "+1.2 pp"),
        (-0.0004, "ratio", "0.0 pp"),  # rounds to zero: no sign
        (0.0, "count", "0"),
        (-3, "count", "-3"),
        (5430.5, "currency", "+USD 5,430"),
        (-1.25, "hours", "-1.2 h"),
    ],
)
def test_change_formatting(value, unit, expected):
    assert F.change(value, unit, "USD") == expected


def test_quality_line_uses_exact_counts():
    dq = {
        "datasets": {"tickets": {"rows_read": 10, "rows_used": 7}},
        "issues": [{"code": "bad-date"}, {"code": "bad-date"}, {"code": "orphan-account"}],
        "issue_counts": {"tickets": {"bad-date": 250}},
    }
    # 10 - 7 = 3 rows set aside; bad-date: exact 250 beats the 2 listed; orphan-account 1 listed
    assert F.quality_line(dq) == (
        "Data quality: 3 rows set aside, 251 issues (bad-date 250, orphan-account 1)"
        " — details: csm validate"
    )
    assert F.quality_line({"datasets": {}, "issues": []}) == "Data quality: no issues found."


def test_unknown_format_is_a_usage_error(report):
    from cs_metrics.errors import UsageError

    with pytest.raises(UsageError):
        render(report, "pdf")


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "md", "html", "xlsx"])
def test_empty_report_renders_in_every_format(fmt):
    from cs_metrics.report import Report

    r = Report(
        as_of="2026-10-31",
        window={"start": "2026-10-01", "end": "2026-10-31", "period": "month"},
        previous_window={"start": "2026-09-01", "end": "2026-09-30", "period": "month"},
        currency="USD",
        kpis=[],
    )
    out = render(r, fmt)
    assert out
    if fmt == "json":
        assert json.loads(out)["kpis"] == [] and json.loads(out)["health"] is None
    if fmt == "table":
        assert "no scores" in out and "no issues found" in out


def test_json_cleans_numpy_and_pandas_values_in_big_lists(data):
    np = pytest.importorskip("numpy")
    pd = pytest.importorskip("pandas")
    acc = data["health"]["accounts"][0]
    acc["score"], acc["arr"], acc["previous_score"] = np.float64(22.5), np.float64("nan"), pd.NA
    acc["coverage"], acc["override"] = np.int64(1), pd.NaT
    data["data_quality"]["issues"][0]["row"] = np.int64(7)
    d = json.loads(render(report_from_dict(data), "json"))
    a = d["health"]["accounts"][0]
    assert (a["score"], a["arr"], a["previous_score"], a["coverage"], a["override"]) == (
        22.5,
        None,
        None,
        1,
        None,
    )
    assert d["data_quality"]["issues"][0]["row"] == 7


def test_nps_margin_of_error_note_only_beside_a_value(data):
    # the fixture's NPS carries margin_of_error 23.9 → "±23.9" beside it in text and HTML
    assert "±23.9 (95% margin of error)" in render(report_from_dict(copy.deepcopy(data)), "table")
    assert "±23.9 at 95%" in render(report_from_dict(copy.deepcopy(data)), "html")
    # no value (unavailable) → no margin, whatever extra still holds
    nps = next(k for k in data["kpis"] if k["id"] == "nps")
    nps.update(value=None, change=None, unavailable_reason="no NPS responses in the window")
    for fmt in ("table", "html"):
        assert "±23.9" not in render(report_from_dict(copy.deepcopy(data)), fmt)
