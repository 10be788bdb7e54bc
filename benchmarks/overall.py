"""Benchmark (issue 6): the seed pipeline versus netbundle build and the pyz install, with uv as the reference.

On the sample project (sample-bundles/netops-automation: groups main+junos+cisco+arista, its three targets) against
the local index (tests/support/simple_index.py, 127.0.0.1, TCP_NODELAY) with 30 ms added before every response, in
the same run, N times each:

- seed fetch:        per target, in sequence: real `poetry export --with-hashes --with junos,cisco,arista`,
                     `pip download --no-deps --only-binary=:all: --platform ... --python-version X` of the export
                     minus the two sdist-only packages, `pip wheel --no-deps` of those (pip's cache off)
- seed install:      a fresh venv (ensurepip), `pip install --no-index --find-links <the host target's seed
                     wheelhouse> --require-hashes -r <the export>`, the two locally built wheels pinned by the
                     sha256 the seed script computes (the export only knows their sdists' hashes)
- netbundle cold:    `netbundle build` of the three targets, signed, empty cache (includes the two sdist builds and
                     the project's own wheel)
- netbundle warm:    the same with the same cache
- pyz install:       `python netbundle.pyz install BUNDLE --prefix P --group junos --group cisco --group arista`
                     (verify + install offline) of the cold build's bundle
- pip install:       bare pip into a fresh venv (ensurepip) from the same bundle's wheels and locks, extracted
- uv install:        `uv venv` + `uv pip install --offline --no-index --find-links ... --require-hashes -r ...` of
                     the same wheelhouse, with an empty uv cache each run (the fast-installer reference)

Goals: build >= 5x (cold) and >= 20x (warm) faster than the seed fetch; pyz install <= 1.15x bare pip.
Usage: .venv/bin/python benchmarks/overall.py [--runs N] [--latency-ms 30] [--pyz FILE] [--json FILE]
(needs scripts/prepare-corpus, scripts/relock for .venv-tools' Poetry, benchmarks/install-uv for .venv-uv's uv)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    CORPUS,
    POETRY,
    UV,
    header,
    medians,
    offline_env,
    run,
    seed_download,
    sha256_file,
    table,
    timed,
    write_result,
)
from install_vs_pip import (
    GROUPS,
    PYTHON,
    SAMPLE,
    TARGET,
    Setup,
    build_pyz,
    build_sample,
    open_bundle,
    pip_stock,
    pyz_install,
)
from tests.support.bundles import make_keypair
from tests.support.simple_index import serve

#: the sample's configured targets, in its pyproject order
TARGETS = ("cp311-manylinux_2_28_x86_64", "cp39-manylinux_2_28_x86_64", "cp311-manylinux_2_28_aarch64")
OPTIONAL = tuple(g for g in GROUPS if g != "main")


def seed_fetch(index_url: str, work: Path) -> None:
    env = offline_env(index_url)
    for spec in TARGETS:
        seed_download(SAMPLE, OPTIONAL, spec, work / spec, env)


def seed_install(wheelhouse: Path, venv: Path) -> None:
    """What a seed script does with its download: a venv, then pip with hashes (built wheels hashed locally)."""
    requirements = (wheelhouse / "requirements.txt").read_text()
    for name in ("ncclient", "pyeapi"):
        built = next(wheelhouse.glob(f"{name}-*.whl"))
        requirements += f"{name} @ {built.as_uri()} --hash=sha256:{sha256_file(built)}\n"
    pinned = wheelhouse / "requirements-seed.txt"
    pinned.write_text(requirements)
    run([PYTHON, "-m", "venv", venv], offline_env())
    run([venv / "bin" / "python", "-m", "pip", "install", "-q", "--no-index", "--find-links", wheelhouse,
         "--require-hashes", "--no-cache-dir", "-r", pinned], offline_env())  # fmt: skip


def uv_install(setup: Setup, venv: Path, cache: Path) -> None:
    env = {**offline_env(), "UV_NO_CONFIG": "1"}
    run([UV, "venv", "-q", "--python", PYTHON, "--cache-dir", cache, venv], env)
    links = [arg for link in setup.links for arg in ("--find-links", link)]
    locks = [arg for lock in setup.locks for arg in ("-r", lock)]
    run([UV, "pip", "install", "-q", "--offline", "--no-index", *links, "--require-hashes", *locks,
         "--python", venv / "bin" / "python", "--cache-dir", cache], env)  # fmt: skip


def one_run(index_url: str, pyz: Path, work: Path) -> dict[str, float]:
    keys = make_keypair(work / "keys")
    times = {"seed fetch": timed(seed_fetch, index_url, work / "seed")}
    host_wheels = work / "seed" / TARGET
    times["seed install"] = timed(seed_install, host_wheels, work / "seed-venv")
    cache = work / "cache"
    times["netbundle build, cold"] = timed(build_sample, index_url, cache, keys.key_path, work / "cold.tar")
    times["netbundle build, warm"] = timed(build_sample, index_url, cache, keys.key_path, work / "warm.tar")
    setup = open_bundle(work / "cold.tar", keys.pub_path, pyz, work / "wheelhouse")
    times["pyz install"] = timed(pyz_install, setup, work / "prefix")
    times["pip install (same wheels)"] = timed(pip_stock, setup, work / "pip-venv")
    times["uv install (same wheels)"] = timed(uv_install, setup, work / "uv-venv", work / "uv-cache")
    return times


def report(median: dict[str, float]) -> tuple[dict[str, float], str]:
    seed, pip = median["seed fetch"], median["pip install (same wheels)"]
    ratios = {
        "build_cold_speedup_vs_seed_fetch": round(seed / median["netbundle build, cold"], 2),
        "build_warm_speedup_vs_seed_fetch": round(seed / median["netbundle build, warm"], 2),
        "pyz_install_vs_pip": round(median["pyz install"] / pip, 3),
        "uv_install_vs_pip": round(median["uv install (same wheels)"] / pip, 3),
        "seed_install_vs_pip": round(median["seed install"] / pip, 3),
    }
    rows = []
    for name, seconds in median.items():
        if name.startswith(("seed fetch", "netbundle")):
            rows.append((name, seconds, f"{seed / seconds:.1f}× faster than seed fetch"))
        else:
            rows.append((name, seconds, f"{seconds / pip:.2f}× bare pip"))
    return ratios, table(rows)


def main() -> int:
    parser = argparse.ArgumentParser(
        description="seed pipeline vs netbundle build + pyz install, uv reference"
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=30.0)
    parser.add_argument("--pyz", type=Path, help="an already built netbundle.pyz (default: build one)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    for needed, remedy in ((CORPUS / "all", "scripts/prepare-corpus"), (POETRY, "scripts/relock"),
                           (UV, "benchmarks/install-uv")):  # fmt: skip
        if not needed.exists():
            sys.exit(f"{needed} is missing: run {remedy} first")
    samples: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="nb-bench-") as tmp:
        pyz = (
            args.pyz.resolve()
            if args.pyz
            else build_pyz(make_keypair(Path(tmp)).pub_path, Path(tmp) / "n.pyz")
        )
        with serve(CORPUS / "all", latency=args.latency_ms / 1000) as index:
            for number in range(args.runs):
                with tempfile.TemporaryDirectory(prefix="nb-bench-run-") as work:
                    for name, seconds in one_run(index.url, pyz, Path(work)).items():
                        samples.setdefault(name, []).append(seconds)
                print(f"run {number + 1}: " + "  ".join(f"{k} {v[-1]:.2f}s" for k, v in samples.items()))
    median = medians(samples)
    ratios, text = report(median)
    result = header(args.runs, latency_ms=args.latency_ms, python=PYTHON, targets=list(TARGETS))
    result.update({"median_s": median, "samples_s": samples, "ratios": ratios})
    print(text)
    write_result(result, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
