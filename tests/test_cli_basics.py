"""CLI behaviour that needs no data: help is instant, usage errors exit 2."""

import subprocess
import sys

from typer.testing import CliRunner

from cs_metrics.cli import app

runner = CliRunner()


def test_help_does_not_import_pandas():
    code = "import sys; import cs_metrics.cli; print('pandas' in sys.modules, 'openpyxl' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


def test_help_lists_every_command():
    res = runner.invoke(app, ["--help"])
    assert res.exit_code == 0
    for cmd in ("report", "validate", "kpis", "health", "explain", "backtest", "trend", "sample",
                "init", "config"):
        assert cmd in res.output


def test_binary_format_without_output_is_usage_error(tmp_path):
    res = runner.invoke(app, ["report", str(tmp_path), "--format", "xlsx"])
    assert res.exit_code == 2
    assert "-o FILE" in res.stderr


def test_bad_fail_on_rule_is_usage_error_before_loading(tmp_path):
    res = runner.invoke(app, ["report", str(tmp_path / "nowhere"), "--fail-on", "nrr is low"])
    assert res.exit_code == 2
    assert "cannot read --fail-on" in res.stderr


def test_missing_source_is_usage_error(tmp_path):
    res = runner.invoke(app, ["validate", str(tmp_path / "nowhere")])
    assert res.exit_code == 2
    assert "no such file or folder" in res.stderr


def test_python_dash_m_entry_point():
    out = subprocess.run([sys.executable, "-m", "cs_metrics", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "report" in out.stdout
