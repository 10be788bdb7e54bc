"""Benchmark: `netbundle fetch` (cold and warm cache) versus the seed pipeline, measured in the same run.

Corpus: ../shared/fixtures/netops-sample, groups main+junos+cisco+arista, targets manylinux x86_64 cp39 and
cp311 and manylinux aarch64 cp311, served by a local index on 127.0.0.1 (TCP_NODELAY) with 30 ms added before
every response. The index serves what scripts/prepare-corpus downloaded.

Seed pipeline (what teams run by hand today), per target, sequentially:
  poetry export --with junos,cisco,arista -f requirements.txt  (real Poetry 2.5.1)
  pip download --no-deps --only-binary=:all: --platform <ladder> --python-version X -r <export minus sdist-only>
  pip wheel --no-deps ncclient==0.7.0 pyeapi==1.0.4            (the sdist-only packages)
with pip's cache off (a cold seed run). pip caches index pages only over HTTPS, so on this plain-HTTP index every
pip run asks every page again: a "warm" seed run would be the same as a cold one, and is not measured.

netbundle: `netbundle fetch` for the three targets with builds, cold (empty cache) and warm (same cache).
Usage: .venv/bin/python benchmarks/fetch_vs_seed.py [--runs N] [--latency-ms 30] [--json FILE]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    CORPUS,
    NETBUNDLE,
    POETRY,
    ROOT,
    header,
    medians,
    offline_env,
    seed_download,
    write_result,
)
from tests.support.simple_index import serve

SAMPLE = ROOT.parent / "shared" / "fixtures" / "netops-sample"
TARGETS = ["cp39-manylinux_2_28_x86_64", "cp311-manylinux_2_28_x86_64", "cp311-manylinux_2_28_aarch64"]
GROUPS = ("junos", "cisco", "arista")


def seed_pipeline(index_url: str, work: Path) -> float:
    env = offline_env(index_url)
    start = time.perf_counter()
    for spec in TARGETS:
        seed_download(SAMPLE, GROUPS, spec, work / spec, env)
    return time.perf_counter() - start


def netbundle_fetch(index_url: str, cache: Path, out: Path) -> float:
    argv = [str(NETBUNDLE), "-q", "fetch", "-P", str(SAMPLE), "--with",
            "junos,cisco,arista", "--index-url", index_url, "--cache-dir", str(cache), "-o", str(out), "-j", "16"]  # fmt: skip
    for spec in TARGETS:
        argv += ["--target", spec]
    start = time.perf_counter()
    subprocess.run(argv, check=True, env=offline_env(index_url), stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description="netbundle fetch vs the seed pipeline")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=30.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not (CORPUS / "all").is_dir():
        sys.exit("run scripts/prepare-corpus first")
    if not POETRY.exists():
        sys.exit(
            "real Poetry is needed for the seed pipeline: run scripts/relock once (it installs .venv-tools)"
        )
    seed, cold, warm = [], [], []
    with serve(CORPUS / "all", latency=args.latency_ms / 1000) as index:
        for run in range(args.runs):
            with tempfile.TemporaryDirectory() as tmp:
                work = Path(tmp)
                seed.append(seed_pipeline(index.url, work / "seed"))
                cold.append(netbundle_fetch(index.url, work / "cache", work / "wh1"))
                warm.append(netbundle_fetch(index.url, work / "cache", work / "wh2"))
            print(
                f"run {run + 1}: seed {seed[-1]:.2f}s  netbundle cold {cold[-1]:.2f}s  warm {warm[-1]:.2f}s"
            )
    result = header(args.runs, latency_ms=args.latency_ms)
    result["median_s"] = median = medians({"seed": seed, "cold": cold, "warm": warm})
    result["ratio_cold"] = median["seed"] / median["cold"]
    result["ratio_warm"] = median["seed"] / median["warm"]
    write_result(result, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
