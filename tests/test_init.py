"""`csm init`: the starter config maps what it found and loads with load_config."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from cs_metrics.config import load_config
from cs_metrics.errors import UsageError
from cs_metrics.init import starter_config

ROOT = Path(__file__).resolve().parents[1]


def _write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text, encoding="utf-8")


@pytest.fixture
def exports(tmp_path: Path) -> Path:
    _write(
        tmp_path,
        "crm_accounts.csv",
        'Record ID,Company name,Segment,Industry\nA-1,Acme,SMB,Retail\nA-2,Beta,Ent,"Oil, gas"\n',
    )
    _write(
        tmp_path,
        "tickets.csv",
        "Id,Created at,Organization,Favourite colour\n1,2026-10-01,Acme,blue\n",
    )
    _write(
        tmp_path,
        "invoices.csv",
        "Number,Customer,Total,Currency,Date\nI1,A-1,100,USD,2026-10-01\nI2,A-2,90,eur,2026-10-02\n"
        "I3,A-1,100,USD,2026-10-03\n",
    )
    _write(tmp_path, "README.txt", "notes\n")
    return tmp_path


def test_starter_config_maps_found_columns(exports, tmp_path):
    text = starter_config(exports)
    cfg = yaml.safe_load(text)
    cols = cfg["columns"]
    assert cols["accounts"]["account_id"] == "Record ID"
    assert cols["accounts"]["name"] == "Company name"
    assert cols["tickets"]["account_id"] == "Organization"
    assert cols["billing"]["amount"] == "Total"
    # unmatched headers are listed as comments, not mapped
    assert '#   "Industry"' in text and '#   "Favourite colour"' in text
    assert "Industry" not in cols["accounts"].values()
    # currencies found: USD 2 rows, EUR 1 row → base USD, EUR needs a rate (commented, never guessed)
    assert "USD (2 rows), EUR (1 row)" in text
    assert "#     EUR: 0.0" in text and "currency" not in cfg
    # everything else is the defaults, commented out
    assert set(cfg) == {"columns"}
    assert "#   min_coverage: 0.5" in text


def test_starter_config_round_trips_through_load_config(exports, tmp_path):
    path = tmp_path / "csm.yaml"
    path.write_text(starter_config(exports), encoding="utf-8")
    cfg = load_config(path)
    assert cfg["columns"]["tickets"]["created_at"] == "Created at"
    assert cfg["health"]["min_coverage"] == 0.5  # defaults still apply


def test_starter_config_loads_the_data(exports, tmp_path):
    from cs_metrics.loading import load

    path = tmp_path / "csm.yaml"
    path.write_text(starter_config(exports), encoding="utf-8")
    cfg = load_config(path)
    cfg["currency"]["rates"] = {"EUR": 1.1}
    bundle = load(exports, config=cfg)
    assert bundle.datasets["tickets"].columns["account_id"] == "Organization"


def test_file_without_required_column_is_explained(tmp_path):
    _write(tmp_path, "tickets.csv", "Subject,Requester\nHelp,a@b.c\n")
    text = starter_config(tmp_path)
    # discovery by name picks tickets.csv; its required columns are missing and named
    assert yaml.safe_load(text)["columns"] == {"tickets": {}}
    assert "required columns not found: ticket_id, created_at" in text
    path = tmp_path / "csm.yaml"
    path.write_text(text)
    load_config(path)


def test_empty_folder_gives_a_valid_config(tmp_path):
    text = starter_config(tmp_path)
    assert yaml.safe_load(text)["columns"] == {}
    path = tmp_path / "csm.yaml"
    path.write_text(text)
    load_config(path)


def test_not_a_folder(tmp_path):
    with pytest.raises(UsageError):
        starter_config(tmp_path / "missing")


def test_hostile_headers_are_quoted(tmp_path):
    _write(tmp_path, "accounts.csv", 'Account ID,"Name: ""x"" # y",\'quote\nA-1,Acme,z\n')
    text = starter_config(tmp_path)
    cfg = yaml.safe_load(text)
    assert cfg["columns"]["accounts"]["account_id"] == "Account ID"


def test_cli_init_writes_and_refuses_to_overwrite(exports):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def run(*a):
        return subprocess.run(
            [sys.executable, "-m", "cs_metrics", "init", str(exports), *a],
            check=False,
            capture_output=True,
            env=env,
            cwd=ROOT,
            timeout=120,
        )

    r = run()
    assert r.returncode == 0, r.stderr.decode()
    assert (exports / "csm.yaml").exists()
    assert run().returncode == 2
    assert run("--force").returncode == 0
