"""The CLI on real files: same JSON as the library, exit codes 0/1/2/3, clean stdout."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cs_metrics.analysis import analyse
from cs_metrics.cli import app
from cs_metrics.config import load_config
from cs_metrics.loading import load
from cs_metrics.report import build_report

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"
runner = CliRunner()


def _without_volatile(d):
    d = dict(d)
    d.pop("generated_at", None)
    return d


def test_cli_json_equals_library_report():
    res = runner.invoke(app, ["report", str(SAMPLE), "--format", "json", "--as-of", "2026-10-31", "--quiet"])
    assert res.exit_code == 0, res.stderr
    cli = json.loads(res.stdout)
    cfg = load_config(SAMPLE / "csm.yaml")
    lib = build_report(analyse(load(SAMPLE, config=cfg), cfg, as_of="2026-10-31")).to_dict()
    assert _without_volatile(cli) == json.loads(json.dumps(_without_volatile(lib), default=str))


def test_fail_on_exit_3_names_the_rule_and_still_writes_the_report(tmp_path):
    out = tmp_path / "r.json"
    res = runner.invoke(app, ["report", str(SAMPLE), "-o", str(out), "--as-of", "2026-10-31",
                              "--fail-on", "accounts_at_risk > 5", "--fail-on", "nrr < 0.5"])
    assert res.exit_code == 3
    assert "alert: accounts_at_risk > 5" in res.stderr and "nrr < 0.5" not in res.stderr
    assert json.loads(out.read_text())["schema_version"] == 1


def test_fail_on_unknown_kpi_is_usage_error():
    res = runner.invoke(app, ["report", str(SAMPLE), "--format", "json", "--fail-on", "nps_score < 0"])
    assert res.exit_code == 2 and "unknown KPI" in res.stderr


def test_missing_required_column_exits_1_with_file_headers_and_suggestion(tmp_path):
    (tmp_path / "tickets.csv").write_text("Ticket ID,When,Org\n1,2026-10-01,Acme\n")
    res = runner.invoke(app, ["validate", str(tmp_path)])
    assert res.exit_code == 1
    assert "tickets.csv" in res.stderr and "created_at" in res.stderr and "When" in res.stderr
    assert "Traceback" not in res.stderr


def test_unreadable_file_exits_1_without_traceback(tmp_path):
    (tmp_path / "accounts.xlsx").write_bytes(b"this is not a zip file")
    res = runner.invoke(app, ["report", str(tmp_path)])
    assert res.exit_code == 1 and "accounts.xlsx" in res.stderr and "Traceback" not in res.stderr


def test_bad_config_exits_2_with_key_path_and_line(tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("finance:\n  gross_margin: 1.5\n")
    res = runner.invoke(app, ["report", str(SAMPLE), "--config", str(cfg)])
    assert res.exit_code == 2 and "finance.gross_margin" in res.stderr and ":2" in res.stderr


def test_validate_json_is_the_data_quality_object():
    res = runner.invoke(app, ["validate", str(SAMPLE), "--format", "json"])
    assert res.exit_code == 0
    dq = json.loads(res.stdout)
    assert set(dq) >= {"datasets", "ignored_files", "issues"}
    t = dq["datasets"]["tickets"]
    assert t["files"] == ["tickets.csv"] and t["columns"]["created_at"] == "Created at"
    assert t["rows_read"] - t["rows_used"] == 3  # bad date, future date, duplicate id (sample README)
    codes = {i["code"] for i in dq["issues"]}
    assert {"orphan-account", "duplicate-id", "bad-date", "future-date", "score-out-of-scale"} <= codes


@pytest.mark.parametrize("cmd", [
    ["kpis", str(SAMPLE), "--format", "json"],
    ["health", str(SAMPLE), "--format", "json", "--top", "5"],
    ["explain", "0099527", str(SAMPLE), "--format", "json"],
    ["trend", str(SAMPLE), "--periods", "3", "--format", "json"],
    ["backtest", str(SAMPLE), "--as-of", "2026-05-01", "--format", "json"],
])
def test_json_commands_print_only_json(cmd):
    res = runner.invoke(app, cmd)
    assert res.exit_code == 0, res.stderr
    json.loads(res.stdout)


def test_backtest_on_sample_predicts_churn_better_than_chance():
    res = runner.invoke(app, ["backtest", str(SAMPLE), "--as-of", "2026-05-01", "--horizon", "90d",
                              "--format", "json"])
    d = json.loads(res.stdout)
    assert d["churned"] > 0 and d["auc"] > 0.7
    rates = [b["churn_rate"] for b in d["bands"]]
    assert rates[-1] > rates[0]  # at-risk accounts churn more than healthy ones


def test_validate_says_how_each_file_and_column_was_matched(tmp_path):
    (tmp_path / "helpdesk.csv").write_text("Ticket ID,Opened On\n1,2026-10-01 10:00:00\n")
    (tmp_path / "c.yaml").write_text('columns:\n  tickets: {created_at: "Opened On"}\n')
    res = runner.invoke(app, ["validate", "--tickets", str(tmp_path / "helpdesk.csv"), "--config",
                              str(tmp_path / "c.yaml"), "--format", "json"])
    assert res.exit_code == 0, res.stderr
    t = json.loads(res.stdout)["datasets"]["tickets"]
    assert t["matched_by"] == {"helpdesk.csv": "option --tickets"}
    assert t["columns_from_config"] == ["created_at"] and t["columns"]["created_at"] == "Opened On"
    res = runner.invoke(app, ["validate", str(SAMPLE)])
    assert "tickets.csv (file name)" in res.stdout
