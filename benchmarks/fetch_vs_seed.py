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
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from tests.support.simple_index import serve

from netbundle.targets import expand_platforms, parse_target

SAMPLE = ROOT.parent / "shared" / "fixtures" / "netops-sample"
CORPUS = ROOT / ".cache" / "corpus"
TARGETS = ["cp39-manylinux_2_28_x86_64", "cp311-manylinux_2_28_x86_64", "cp311-manylinux_2_28_aarch64"]
SDIST_ONLY = ("ncclient==0.7.0", "pyeapi==1.0.4")
POETRY = ROOT / ".venv-tools" / "bin" / "poetry"


def offline_env(index_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(
        {"PIP_CONFIG_FILE": os.devnull, "PIP_INDEX_URL": index_url, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    )
    return env


def seed_pipeline(index_url: str, work: Path) -> float:
    env = offline_env(index_url)
    start = time.perf_counter()
    for spec in TARGETS:
        target = parse_target(spec)
        out = work / spec
        out.mkdir(parents=True)
        export = subprocess.run(
            [str(POETRY), "export", "--with", "junos,cisco,arista", "-f", "requirements.txt", "-C", str(SAMPLE)],
            check=True, capture_output=True, text=True, env=env,
        ).stdout  # fmt: skip
        req = out / "requirements.txt"
        req.write_text(_without(export, [s.split("==")[0] for s in SDIST_ONLY]))
        platforms = [arg for p in expand_platforms(target.platforms) for arg in ("--platform", p)]
        major, minor = target.python_tuple
        pip = [sys.executable, "-m", "pip", "-q", "--no-cache-dir"]
        subprocess.run([*pip, "download", "--no-deps", "--only-binary=:all:", "--implementation", "cp",
                        "--python-version", f"{major}.{minor}", *platforms, "-d", str(out), "-r", str(req)],
                       check=True, env=env)  # fmt: skip
        subprocess.run([*pip, "wheel", "--no-deps", "-w", str(out), *SDIST_ONLY], check=True, env=env)
    return time.perf_counter() - start


def _without(requirements: str, names: list[str]) -> str:
    """Drop the sdist-only packages' entries (each a line plus its `\\`-continued hash lines)."""
    kept, skipping = [], False
    for line in requirements.splitlines():
        if line and not line.startswith(" "):
            skipping = any(line.startswith(f"{n}==") for n in names)
        if not skipping:
            kept.append(line)
    return "\n".join(kept) + "\n"


def netbundle_fetch(index_url: str, cache: Path, out: Path) -> float:
    argv = [str(ROOT / ".venv" / "bin" / "netbundle"), "-q", "fetch", "-P", str(SAMPLE), "--with",
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
    result = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "latency_ms": args.latency_ms,
        "runs": args.runs,
        "median_s": {
            "seed": statistics.median(seed),
            "cold": statistics.median(cold),
            "warm": statistics.median(warm),
        },
    }
    result["ratio_cold"] = result["median_s"]["seed"] / result["median_s"]["cold"]  # type: ignore[index]
    result["ratio_warm"] = result["median_s"]["seed"] / result["median_s"]["warm"]  # type: ignore[index]
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
