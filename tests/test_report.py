"""build_report on a hand-built Analysis, atomic writes, and `csm report` end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from cs_metrics.bundle import Bundle, Dataset
from cs_metrics.errors import Issue
from cs_metrics.render.files import neutralise, write_atomic
from cs_metrics.report import build_report, report_from_dict, trend_dict
from cs_metrics.results import KPITable, KPIValue
from cs_metrics.timeframe import Window

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"


def _analysis(by: str | None = None):
    accounts = pd.DataFrame({"account_id": pd.array(["A-1", "A-2"], dtype="string")})
    ds = Dataset(
        "accounts",
        accounts,
        files=["accounts.csv"],
        rows_read=3,
        columns={"account_id": "ID"},
        meta={"issue_counts": {"duplicate-id": 1}},
    )
    bundle = Bundle(
        {"accounts": ds},
        issues=[
            Issue(
                "duplicate-id",
                "dup",
                dataset="accounts",
                file="accounts.csv",
                row=4,
                column="ID",
                value="A-1",
            )
        ],
    )
    k = KPIValue("mrr", "MRR", "revenue", "currency", "higher", 100.0, 80.0, n=2)
    groups = (
        {"SMB": [KPIValue("mrr", "MRR", "revenue", "currency", "higher", 60.0, 50.0, n=1)]}
        if by
        else {}
    )
    W = Window(pd.Timestamp("2026-10-01"), pd.Timestamp("2026-10-31"), "month")
    P = Window(pd.Timestamp("2026-09-01"), pd.Timestamp("2026-09-30"), "month")
    return SimpleNamespace(
        as_of=pd.Timestamp("2026-10-31"),
        window=W,
        previous_window=P,
        config={"currency": {"base": "EUR"}},
        config_hash="abc123",
        bundle=bundle,
        kpis=KPITable([k], by=by, groups=groups),
        health={"summary": {"accounts": 2, "scored": 0, "bands": {}}, "accounts": []},
        issues=[Issue("expired-override", "override expired", dataset="accounts", row=2)],
    )


def test_build_report_collects_metadata_kpis_and_quality():
    gen = datetime(2026, 11, 1, 7, 30, 15, 999, tzinfo=UTC)
    rep = build_report(_analysis(), trend=False, generated_at=gen)
    assert rep.as_of == "2026-10-31" and rep.currency == "EUR" and rep.config_hash == "abc123"
    assert rep.window == {"start": "2026-10-01", "end": "2026-10-31", "period": "month"}
    assert rep.generated_at == "2026-11-01T07:30:15Z"
    # rows_used = 2 frame rows, rows_read = 3 (one duplicate set aside)
    assert rep.inputs == {"accounts": {"files": ["accounts.csv"], "rows_read": 3, "rows_used": 2}}
    codes = [i["code"] for i in rep.data_quality["issues"]]
    assert codes == ["duplicate-id", "expired-override"]  # loader issues, then health-stage issues
    assert rep.data_quality["issue_counts"] == {
        "accounts": {"duplicate-id": 1, "expired-override": 1}
    }
    assert rep.groups is None and rep.trend is None
    d = rep.to_dict()
    assert d["kpis"][0]["change"] == 20.0  # 100 - 80
    assert "trend" not in d


def test_build_report_groups_and_lazy_trend():
    rep = build_report(_analysis(by="segment"), trend=False)
    assert rep.to_dict()["groups"] == {
        "by": "segment",
        "values": {
            "SMB": {
                "kpis": [
                    KPIValue(
                        "mrr", "MRR", "revenue", "currency", "higher", 60.0, 50.0, n=1
                    ).to_dict()
                ]
            }
        },
    }

    def boom():
        raise RuntimeError("no billing")

    rep.trend = boom
    assert rep.get_trend() is None
    assert rep.notes and "no billing" in rep.notes[0]
    rep.trend = lambda: {"windows": [], "series": {}}
    assert rep.get_trend() == {"windows": [], "series": {}}


def test_trend_dict_aligns_series_with_windows():
    w1 = Window(pd.Timestamp("2026-09-01"), pd.Timestamp("2026-09-30"), "month")
    w2 = Window(pd.Timestamp("2026-10-01"), pd.Timestamp("2026-10-31"), "month")
    k = lambda i, v: KPIValue(i, i, "revenue", "currency", "higher", v)
    out = trend_dict(
        [(w1, [k("new_mrr", 5.0)]), (w2, [k("new_mrr", float("nan")), k("nps", 12.0)])],
        ["new_mrr", "nps"],
    )
    assert out["windows"][1]["start"] == "2026-10-01"
    assert out["series"] == {"new_mrr": [5.0, None], "nps": [None, 12.0]}


def test_report_from_dict_round_trips(tmp_path):
    data = json.loads((ROOT / "tests/fixtures/report/report.json").read_text())
    rep = report_from_dict(data)
    again = report_from_dict(rep.to_dict())
    assert again.to_dict() == rep.to_dict()


# ------------------------------------------------------------------ safe output
@pytest.mark.parametrize(
    "text,expected",
    [
        ("=1+1", "'=1+1"),
        ("+cmd", "'+cmd"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=x", "'\t=x"),
        ("\r=x", "'\r=x"),
        ("Acme", "Acme"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_neutralise(text, expected):
    assert neutralise(text) == expected


def test_write_atomic_replaces_whole_file(tmp_path):
    target = tmp_path / "report.json"
    write_atomic(target, "old")
    write_atomic(target, "new ✓")
    assert target.read_text(encoding="utf-8") == "new ✓"
    write_atomic(target, b"\x00bytes")
    assert target.read_bytes() == b"\x00bytes"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_failed_write_leaves_previous_file_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "report.xlsx"
    target.write_bytes(b"previous complete report")

    def killed(fd):  # the run dies after part of the data reached the temp file
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", killed)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, b"x" * 1_000_000)
    assert target.read_bytes() == b"previous complete report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.xlsx"]


def test_failed_rename_leaves_previous_file(tmp_path, monkeypatch):
    target = tmp_path / "r.csv"
    target.write_text("a,b\n")
    monkeypatch.setattr(os, "replace", lambda a, b: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError):
        write_atomic(target, "c,d\n")
    assert target.read_text() == "a,b\n" and len(list(tmp_path.iterdir())) == 1


def test_killed_process_never_leaves_a_half_file(tmp_path):
    """SIGKILL a writer stuck between writing the temp file and renaming it."""
    target = tmp_path / "big.json"
    target.write_text('{"complete": true}')
    code = (
        "import os, sys, time\n"
        "from pathlib import Path\n"
        "import cs_metrics.render.files as f\n"
        "real = os.replace\n"
        "def slow(a, b):\n"
        "    print('written', flush=True); time.sleep(60); real(a, b)\n"
        "f.os.replace = slow\n"
        f"f.write_atomic(Path({str(target)!r}), 'x' * 5_000_000)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert proc.stdout.readline().strip() == b"written"
        proc.kill()
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert json.loads(target.read_text()) == {"complete": True}
    # the orphaned temp file is hidden (".big.json.*.tmp") and never has the target's name
    assert all(p.name == "big.json" or p.name.startswith(".big.json.") for p in tmp_path.iterdir())


# ------------------------------------------------------------------ end to end
def _csm(*args, env_extra=None):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    env.pop("COLUMNS", None)
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "cs_metrics", *args],
        check=False,
        capture_output=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )


@pytest.fixture(scope="module")
def sample_runs(tmp_path_factory):
    if not (SAMPLE / "accounts.csv").exists():
        pytest.skip("sample_data/ not present")
    out = tmp_path_factory.mktemp("out")
    return {
        "json": _csm("report", str(SAMPLE), "--format", "json", "--quiet"),
        "table": _csm("report", str(SAMPLE)),
        "xlsx": (_csm("report", str(SAMPLE), "-o", str(out / "r.xlsx")), out / "r.xlsx"),
        "html": (_csm("report", str(SAMPLE), "-o", str(out / "r.html")), out / "r.html"),
    }


def test_sample_json_is_only_json_and_matches_schema(sample_runs):
    jsonschema = pytest.importorskip("jsonschema")
    r = sample_runs["json"]
    assert r.returncode == 0, r.stderr.decode()
    d = json.loads(r.stdout)  # stdout carries the JSON and nothing else
    schema = json.loads((ROOT / "cs_metrics/data/report.schema.json").read_text())
    jsonschema.validate(d, schema)
    assert d["schema_version"] == 1 and d["health"]["accounts"]


def test_sample_table_when_piped_is_plain_and_120_wide(sample_runs):
    r = sample_runs["table"]
    assert r.returncode == 0, r.stderr.decode()
    text = r.stdout.decode()
    assert "\x1b[" not in text and "\r" not in text
    assert max(len(line) for line in text.splitlines()) <= 120
    assert "Top at-risk accounts" in text


def test_sample_files_written(sample_runs):
    openpyxl = pytest.importorskip("openpyxl")
    r, path = sample_runs["xlsx"]
    assert r.returncode == 0, r.stderr.decode()
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Summary", "KPIs", "Health", "Drivers", "Data quality"]
    r, path = sample_runs["html"]
    assert r.returncode == 0 and path.read_text(encoding="utf-8").count("<svg") == 4


def test_binary_format_without_output_is_a_usage_error():
    r = _csm("report", str(SAMPLE), "--format", "xlsx")
    assert r.returncode == 2 and r.stdout == b""
