"""Benchmark: how fast netbundle.pyz starts, against a bare interpreter measured in the same run.

Cases, each `python -I ...` as an operator runs it (wall time of the whole process, medians of N runs):
  python -I -c pass                   the floor: interpreter start-up alone
  python -I netbundle.pyz --help      argparse + the error tree, imported from the archive (zipimport)
  python -I netbundle.pyz version     + the Ed25519 backend probe (imports cryptography when the host has it)
  python -I -m netbundle.runtime --help   the same --help from the source tree (no zipimport)
The pyz is built by scripts/build-pyz into a temporary directory (or given with --pyz).
Usage: .venv/bin/python benchmarks/pyz_startup.py [--runs 21] [--pyz PATH] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - started


def measure(cases: dict[str, list[str]], runs: int, env: dict[str, str]) -> dict[str, list[float]]:
    for argv in cases.values():  # warm the page cache once
        timed(argv, env)
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(runs):  # interleaved, so drift in machine load hits every case alike
        for name, argv in cases.items():
            samples[name].append(timed(argv, env))
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--pyz", type=Path)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pyz-bench-") as scratch:
        pyz = args.pyz or Path(scratch) / "netbundle.pyz"
        if args.pyz is None:
            subprocess.run([sys.executable, str(ROOT / "scripts" / "build-pyz"), "-o", str(pyz)], check=True)
        python = sys.executable
        cases = {
            "python -I -c pass": [python, "-I", "-c", "pass"],
            "pyz --help": [python, "-I", str(pyz), "--help"],
            "pyz version": [python, "-I", str(pyz), "version"],
            "source -m netbundle.runtime --help": [python, "-m", "netbundle.runtime", "--help"],
        }
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        samples = measure(cases, args.runs, env)
    floor = statistics.median(samples["python -I -c pass"])
    print(f"{'case':<40} {'median':>9} {'minus floor':>12}")
    results = {}
    for name, values in samples.items():
        median = statistics.median(values)
        results[name] = {"median_s": round(median, 4), "min_s": round(min(values), 4), "runs": len(values)}
        print(f"{name:<40} {median * 1000:>7.1f}ms {(median - floor) * 1000:>10.1f}ms")
    if args.json:
        record = {
            "date": datetime.now(UTC).strftime("%Y-%m-%d"),
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "pyz_bytes": pyz.stat().st_size if args.pyz else None,
            "results": results,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
