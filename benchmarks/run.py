"""Speed and memory of csm at scale, measured outside the test suite.

    python benchmarks/run.py            # generate (once) and measure everything
    python benchmarks/run.py --only load

Stages, each in a fresh subprocess so its peak RSS is its own:
  load    1M-row ticket CSV read and normalised (aim: < 5 s, peak < 3x file size)
  engine  whole KPI table (W and P) on 50k accounts, 2M tickets, 500k survey
          responses, 1M billing rows, 2M usage rows (aim: < 10 s)
  health  scoring 50k accounts for W and P (aim: well under 1 s per scoring)
  report  `csm report` end to end, JSON and XLSX output
Figures are printed as a table and written to benchmarks/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
BIG = DATA / "large"
LOAD1M = DATA / "tickets1m"


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate() -> None:
    from cs_metrics.sample import write_benchmark_set

    if not (BIG / ".done").exists():
        t = time.perf_counter()
        write_benchmark_set(BIG)
        (BIG / ".done").write_text("ok")
        print(f"generated {BIG} in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    if not (LOAD1M / ".done").exists():
        t = time.perf_counter()
        files = write_benchmark_set(LOAD1M, accounts=20_000, tickets=1_000_000, surveys=10,
                                    billing_rows=10, usage_rows=10)
        keep = {Path(files["tickets"]).name, ".done"}
        for p in LOAD1M.iterdir():
            if p.name not in keep:
                p.unlink()
        (LOAD1M / ".done").write_text("ok")
        print(f"generated {LOAD1M} in {time.perf_counter() - t:.1f} s", file=sys.stderr)


# ---------------------------------------------------------------- stages (child side)
def stage_load() -> dict:
    from cs_metrics.config import load_config
    from cs_metrics.loading import load

    f = next(p for p in LOAD1M.iterdir() if p.suffix == ".csv")
    cfg = load_config()
    t = time.perf_counter()
    bundle = load(None, explicit={"tickets": f}, config=cfg)
    dt = time.perf_counter() - t
    rows = bundle.datasets["tickets"].rows_read
    size_mb = f.stat().st_size / 2**20
    return {"rows": rows, "seconds": dt, "rows_per_s": rows / dt, "file_mb": size_mb,
            "peak_rss_mb": _maxrss_mb(), "peak_over_file": _maxrss_mb() / size_mb}


def _load_big():
    from cs_metrics.config import load_config
    from cs_metrics.loading import load

    cfg = load_config(BIG / "csm.yaml" if (BIG / "csm.yaml").exists() else None)
    t = time.perf_counter()
    bundle = load(BIG, config=cfg)
    return bundle, cfg, time.perf_counter() - t


def stage_engine() -> dict:
    from cs_metrics.analysis import resolve_as_of
    from cs_metrics.metrics.engine import compute_table
    from cs_metrics.timeframe import window_for

    bundle, cfg, load_s = _load_big()
    W = window_for(resolve_as_of(bundle, None), "month")
    t = time.perf_counter()
    table = compute_table(bundle, cfg, W)
    dt = time.perf_counter() - t
    rows = {k: v.rows_used for k, v in bundle.datasets.items()}
    avail = sum(k.value is not None for k in table.kpis)
    return {"rows": rows, "load_seconds": load_s, "kpi_seconds": dt, "kpis": len(table.kpis),
            "kpis_available": avail, "peak_rss_mb": _maxrss_mb()}


def stage_health() -> dict:
    from cs_metrics import health
    from cs_metrics.analysis import _score, resolve_as_of
    from cs_metrics.timeframe import window_for

    bundle, cfg, _ = _load_big()
    W = window_for(resolve_as_of(bundle, None), "month")
    model = health.build_model(cfg)
    shared: dict = {}
    t = time.perf_counter()
    scores = _score(bundle, cfg, model, W, shared, None)
    total = time.perf_counter() - t
    # scoring alone, on the metric frames already computed
    from cs_metrics.metrics.engine import account_frame

    frame = account_frame(bundle, cfg, W, shared=shared)
    accounts = bundle.frame("accounts")
    t = time.perf_counter()
    health.score({None: frame}, accounts, model, as_of=W.end)
    only = time.perf_counter() - t
    return {"accounts": int(len(scores.table)), "metrics_and_score_seconds": total,
            "score_only_seconds": only, "peak_rss_mb": _maxrss_mb()}


def stage_report(fmt: str) -> dict:
    out = DATA / f"report.{fmt}"
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "cs_metrics", "report", str(BIG), "-o", str(out),
                           "--quiet"], capture_output=True, text=True)
    dt = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"format": fmt, "exit": proc.returncode, "seconds": dt, "peak_rss_mb": peak,
            "output_mb": out.stat().st_size / 2**20 if out.exists() else None,
            "stderr_tail": proc.stderr[-300:]}


STAGES = {
    "load": stage_load,
    "engine": stage_engine,
    "health": stage_health,
    "report-json": lambda: stage_report("json"),
    "report-xlsx": lambda: stage_report("xlsx"),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", choices=sorted(STAGES), action="append")
    ap.add_argument("--child", choices=sorted(STAGES), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(STAGES[args.child](), default=str))
        return
    generate()
    results = {}
    for name in args.only or list(STAGES):
        proc = subprocess.run([sys.executable, __file__, "--child", name], capture_output=True,
                              text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        if proc.returncode != 0:
            results[name] = {"error": proc.stderr[-2000:]}
        else:
            results[name] = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"{name:12} {json.dumps(results[name], default=str)}", flush=True)
    (HERE / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
