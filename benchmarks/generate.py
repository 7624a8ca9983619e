"""Write the benchmark data set and say how long it took and how big it is.

    python benchmarks/generate.py                       # 50k accounts, 2M tickets... into benchmarks/data/
    python benchmarks/generate.py --scale small --out /tmp/bench

A thin wrapper over ``cs_metrics.sample.write_benchmark_set`` (the generator
lives in the package so tests and ``benchmarks/run.py`` use the same code).
`bench` is the size the performance targets are stated for; `small` is a
quick 1/100 version for trying things out.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run from a checkout without installing

SCALES = {
    "bench": dict(accounts=50_000, tickets=2_000_000, surveys=500_000, billing_rows=1_000_000,
                  usage_rows=2_000_000),
    "small": dict(accounts=500, tickets=20_000, surveys=5_000, billing_rows=10_000,
                  usage_rows=20_000),
}


def _count_rows(path: Path) -> int:
    """Data rows of a CSV written by the generator (no quoted line breaks in it)."""
    with open(path, "rb") as fh:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 24), b"")) - 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=HERE / "data", help="output folder")
    ap.add_argument("--scale", choices=sorted(SCALES), default="bench")
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args(argv)

    from cs_metrics.sample import write_benchmark_set

    t0 = time.perf_counter()
    paths = write_benchmark_set(args.out, seed=args.seed, **SCALES[args.scale])
    elapsed = time.perf_counter() - t0
    print(f"{'dataset':<10} {'file':<14} {'rows':>11} {'MB':>9}")
    total = 0
    for name, path in paths.items():
        size = path.stat().st_size
        total += size
        rows = _count_rows(path) if path.suffix == ".csv" else 0
        print(f"{name:<10} {path.name:<14} {rows:>11,} {size / 2**20:>9.1f}")
    print(f"total {total / 2**20:.1f} MB in {args.out}, generated in {elapsed:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
