"""Benchmark: `netbundle.pyz install` versus bare pip on the same wheelhouse; hashing throughput; peak memory.

1. Install (issue 5, goal <= 1.15x bare pip). The real sample bundle (sample-bundles/netops-automation, built once
   with `netbundle build` for the host target cp311-manylinux_2_28_x86_64, groups main+junos+cisco+arista, signed)
   and, in the same run, N times each, into fresh directories:
   - pyz:           python dist/netbundle.pyz install BUNDLE --prefix P --group junos --group cisco --group arista
                    (verify the signature and every member into staging, venv --without-pip + the bundled pip
                    wheel, pip install --no-index --require-hashes, pip check, receipt, switch `current`)
   - pip (stock):   python -m venv V (ensurepip's pip) && V/bin/python -m pip install --no-index --find-links
                    <the bundle's wheels, extracted> --require-hashes --only-binary=:all: -r <the same 4 locks>
   - pip (bundled): python -m venv --without-pip V && python <the bundle's pip wheel>/pip --python V/bin/python
                    install ... (the same pip version the pyz runs, without netbundle around it)
   plus the pyz's steps timed one by one with the runtime's own functions (where any overhead goes).
2. Hashing: `verify_bundle` without staging (signature + streaming sha256 of every member) versus plain
   hashlib.sha256 over the same file in 1 MiB reads, page cache warm, on the sample bundle and on it plus 256 MiB.
3. Peak memory: in a child process, `verify_bundle` with staging (what install does) on the sample bundle plus 1,
   4 and 16 random padding members of 16 MiB, and plus one of 256 MiB (re-signed): the process's ru_maxrss before
   and after, and the peak of Python allocations during it (tracemalloc); both must stay flat as the bundle grows.

Usage: .venv/bin/python benchmarks/install_vs_pip.py [--runs N] [--pyz FILE] [--json FILE]
(needs scripts/prepare-corpus; builds the pyz with scripts/build-pyz unless --pyz is given)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    CORPUS,
    NETBUNDLE,
    ROOT,
    SOURCE_DATE_EPOCH,
    header,
    medians,
    offline_env,
    run,
    sha256_file,
    table,
    timed,
    write_result,
)
from tests.support.bundles import KeyPair, make_keypair
from tests.support.simple_index import serve

from netbundle.bundle.signing import sign, signature_member_name
from netbundle.format import trust
from netbundle.format.manifest import Manifest, parse_manifest, render_manifest
from netbundle.format.tar import file_entry, verify_bundle, write_bundle
from netbundle.runtime.pip import pip_check_argv, pip_install_argv, scrubbed_env
from netbundle.runtime.venv import create_venv

if TYPE_CHECKING:
    from netbundle.format.tar import Content

SAMPLE = ROOT / "sample-bundles" / "netops-automation"
TARGET = "cp311-manylinux_2_28_x86_64"
GROUPS = ("main", "junos", "cisco", "arista")
#: the interpreter every install uses (the base one, not .venv's)
PYTHON = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
MIB = 1024 * 1024


@dataclass(frozen=True)
class Setup:
    bundle: Path
    pub: Path
    pyz: Path
    wheelhouse: Path  # the bundle extracted (baselines only): wheels/, dist/, locks/, tools/
    manifest: Manifest

    @property
    def links(self) -> list[str]:
        return [str(self.wheelhouse / d) for d in ("wheels", "dist") if (self.wheelhouse / d).is_dir()]

    @property
    def locks(self) -> list[str]:
        return [str(self.wheelhouse / "locks" / TARGET / f"requirements-{g}.txt") for g in GROUPS]

    @property
    def pip_wheel(self) -> Path:
        return next((self.wheelhouse / "tools").glob("pip-*.whl"))


def prepare(work: Path, pyz: Path | None) -> Setup:
    """Key pair, pyz trusting it, the signed sample bundle for the host target, and its extracted wheelhouse."""
    keys = make_keypair(work / "keys")
    pyz = pyz or build_pyz(keys.pub_path, work / "netbundle.pyz")
    bundle = work / "netops.tar"
    with serve(CORPUS / "all") as index:
        build_sample(index.url, ROOT / ".cache" / "netbundle", keys.key_path, bundle, [TARGET])
    return open_bundle(bundle, keys.pub_path, pyz, work / "wheelhouse")


def build_pyz(pub: Path, out: Path) -> Path:
    run([sys.executable, ROOT / "scripts" / "build-pyz", "--trust", pub, "-o", out])
    return out


def build_sample(index_url: str, cache: Path, key: Path, out: Path, targets: Sequence[str] = ()) -> None:
    """`netbundle build` of the sample (its configured groups; ``targets``, else its configured ones), signed."""
    env = {**offline_env(index_url), "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH}
    argv: list[str | os.PathLike[str]] = [NETBUNDLE, "-q", "build", "-P", SAMPLE, "--index-url", index_url, "--cache-dir", cache,
            "--sign-key", key, "-o", out]  # fmt: skip
    for target in targets:
        argv += ["--target", target]
    run(argv, env)


def open_bundle(bundle: Path, pub: Path, pyz: Path, wheelhouse: Path) -> Setup:
    """Extract ``bundle`` into ``wheelhouse`` (for the baselines) and describe it."""
    with tarfile.open(bundle) as archive:
        archive.extractall(wheelhouse, filter="data")
    manifest = parse_manifest((wheelhouse / "netbundle" / "manifest.json").read_bytes())
    return Setup(bundle, pub, pyz, wheelhouse, manifest)


# --- 1. install -----------------------------------------------------------------------------------------------------


def pyz_install(setup: Setup, prefix: Path) -> None:
    groups = [arg for g in GROUPS[1:] for arg in ("--group", g)]
    run([PYTHON, setup.pyz, "install", setup.bundle, "--prefix", prefix, *groups, "--trust", setup.pub])


def pip_stock(setup: Setup, venv: Path) -> None:
    run([PYTHON, "-m", "venv", venv], offline_env())
    run(pip_install_argv(str(venv / "bin" / "python"), setup.links, setup.locks), offline_env())


def pip_bundled(setup: Setup, venv: Path) -> None:
    run([PYTHON, "-m", "venv", "--without-pip", venv], offline_env())
    argv = pip_install_argv(str(venv / "bin" / "python"), setup.links, setup.locks)
    pip_args = argv[argv.index("install") :]
    run(
        [PYTHON, f"{setup.pip_wheel}/pip", "--python", str(venv / "bin" / "python"), *pip_args], offline_env()
    )


def pyz_steps(setup: Setup, work: Path) -> dict[str, float]:
    """The pyz install's steps, each timed alone with the runtime functions the pyz runs."""
    policy = trust.load_trust(setup.pub)
    work.mkdir()
    staging = work / "staging"
    times = {"verify+stage": timed(verify_bundle, setup.bundle, policy, staging=staging)}
    venv_dir = work / "gen"
    wheel = staging / "tools" / setup.pip_wheel.name
    times["venv+pip wheel"] = timed(create_venv, venv_dir, wheel, python=PYTHON)
    python = str(venv_dir / "bin" / "python")
    links = [str(staging / d) for d in ("wheels", "dist")]
    locks = [str(staging / "locks" / TARGET / f"requirements-{g}.txt") for g in GROUPS]
    env = scrubbed_env(os.environ)
    times["pip install"] = timed(run, pip_install_argv(python, links, locks), env)
    times["pip check"] = timed(run, pip_check_argv(python), env)
    return times


def install_runs(setup: Setup, runs: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    totals: dict[str, list[float]] = {"pyz install": [], "pip (stock venv)": [], "pip (bundled pip)": []}
    steps: dict[str, list[float]] = {}
    for number in range(runs):
        with tempfile.TemporaryDirectory(prefix="nb-bench-") as tmp:
            work = Path(tmp)
            totals["pyz install"].append(timed(pyz_install, setup, work / "prefix"))
            totals["pip (stock venv)"].append(timed(pip_stock, setup, work / "v1"))
            totals["pip (bundled pip)"].append(timed(pip_bundled, setup, work / "v2"))
            for name, seconds in pyz_steps(setup, work / "steps").items():
                steps.setdefault(name, []).append(seconds)
        print(f"run {number + 1}: " + "  ".join(f"{k} {v[-1]:.2f}s" for k, v in totals.items()), flush=True)
    return totals, steps


# --- 2. hashing -----------------------------------------------------------------------------------------------------


def hashing(bundle: Path, policy: trust.TrustPolicy, runs: int) -> dict[str, float]:
    size = bundle.stat().st_size
    sha256_file(bundle)  # page cache warm
    plain = medians({"t": [timed(sha256_file, bundle) for _ in range(runs)]})["t"]
    verify = medians({"t": [timed(verify_bundle, bundle, policy) for _ in range(runs)]})["t"]
    return {
        "bytes": size,
        "hashlib_s": plain,
        "verify_s": verify,
        "hashlib_mib_s": round(size / MIB / plain, 1),
        "verify_mib_s": round(size / MIB / verify, 1),
        "ratio": round(verify / plain, 3),
    }


# --- 3. memory ------------------------------------------------------------------------------------------------------

_CHILD = """
import json, resource, sys, tempfile, tracemalloc
from pathlib import Path
from netbundle.format import trust
from netbundle.format.tar import verify_bundle
policy = trust.load_trust(sys.argv[2])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # the high-water mark after the imports
tracemalloc.start()
with tempfile.TemporaryDirectory() as tmp:
    verify_bundle(sys.argv[1], policy, staging=Path(tmp) / "staging")
peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"maxrss_before_kib": before, "maxrss_after_kib": after, "python_peak_kib": peak // 1024}))
"""


def padded_bundle(setup: Setup, work: Path, keys: KeyPair, count: int, mib: int) -> Path:
    """The sample bundle plus ``count`` random padding members of ``mib`` MiB each, re-signed with ``keys``."""
    pads = work / f"pad-{count}x{mib}"
    pads.mkdir()
    files: dict[str, Content] = {
        f.path: setup.wheelhouse.joinpath(*f.path.split("/")) for f in setup.manifest.files
    }
    entries = list(setup.manifest.files)
    for number in range(count):
        path = f"meta/padding-{number:02d}.bin"
        content = pads / f"{number}.bin"
        with content.open("wb") as stream:
            for _ in range(mib):
                stream.write(os.urandom(MIB))
        files[path] = content
        entries.append(file_entry(path, "meta", content))
    manifest = replace(setup.manifest, files=tuple(sorted(entries, key=lambda e: e.path)))
    data = render_manifest(manifest)
    signatures = {
        signature_member_name(keys.secret): sign(
            data, keys.secret, trusted_comment=f"netbundle bundle {manifest.bundle_id}"
        )
    }
    out = work / f"pad-{count}x{mib}.tar"
    return write_bundle(out, manifest=data, signatures=signatures, files=files, mtime=int(SOURCE_DATE_EPOCH))


def peak_memory(bundle: Path, pub: Path) -> dict[str, int]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run(
        [PYTHON, "-c", _CHILD, str(bundle), str(pub)], check=True, capture_output=True, text=True, env=env
    ).stdout
    return {"bundle_bytes": bundle.stat().st_size, **json.loads(out)}


def memory_and_hashing(setup: Setup, work: Path, runs: int) -> tuple[dict[str, object], dict[str, object]]:
    keys = make_keypair(work / "padkeys")
    bundles = {"sample": (setup.bundle, setup.pub)}
    for count, mib in ((1, 16), (4, 16), (16, 16), (1, 256)):
        bundles[f"sample+{count}x{mib}MiB"] = (padded_bundle(setup, work, keys, count, mib), keys.pub_path)
    memory: dict[str, object] = {name: peak_memory(path, pub) for name, (path, pub) in bundles.items()}
    big, big_pub = bundles["sample+16x16MiB"]
    hashes: dict[str, object] = {
        "sample": hashing(setup.bundle, trust.load_trust(setup.pub), max(runs, 5)),
        "sample+16x16MiB": hashing(big, trust.load_trust(big_pub), max(runs, 3)),
    }
    return memory, hashes


def main() -> int:
    parser = argparse.ArgumentParser(description="pyz install vs bare pip; hashing; peak memory")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pyz", type=Path, help="an already built netbundle.pyz (default: build one)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not (CORPUS / "all").is_dir():
        sys.exit("run scripts/prepare-corpus first")
    with tempfile.TemporaryDirectory(prefix="nb-bench-") as tmp:
        work = Path(tmp)
        setup = prepare(work, args.pyz.resolve() if args.pyz else None)
        print(f"bundle {setup.bundle.stat().st_size} bytes, pyz {setup.pyz}", flush=True)
        totals, steps = install_runs(setup, args.runs)
        memory, hashes = memory_and_hashing(setup, work, args.runs)
        size = setup.bundle.stat().st_size
    median = medians(totals)
    result = header(args.runs, python=PYTHON, bundle_bytes=size)
    result["install_median_s"] = median
    result["pyz_steps_median_s"] = medians(steps)
    result["ratio_vs_pip_stock"] = round(median["pyz install"] / median["pip (stock venv)"], 3)
    result["ratio_vs_pip_bundled"] = round(median["pyz install"] / median["pip (bundled pip)"], 3)
    result["hashing"] = hashes
    result["peak_memory"] = memory
    base = median["pip (stock venv)"]
    rows = [(name, seconds, f"{seconds / base:.2f}× pip (stock venv)") for name, seconds in median.items()]
    print(table(rows))
    write_result(result, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
