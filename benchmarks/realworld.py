"""Benchmark (issue 18): real-world locks, build and install, every engine, in one run and N rounds.

Corpora (scripts/prepare-realworld downloads them once through pip's configured index; the sample comes from
scripts/prepare-corpus), each served by the tests' local index on 127.0.0.1 with 30 ms added before every response:

- sample:       sample-bundles/netops-automation, groups main+junos+cisco+arista, its own three targets
- netutils:     groups main+dev+docs, extra optionals
- nautobot-l20: groups main+docs+linting, extras napalm+remote_storage+sso (no dev: its path dependencies'
                directories are absent; no testing: coverage 6.4 has no cp311 wheel)

netutils and nautobot-l20 build for cp311 and cp312 manylinux_2_28 x86_64 and cp311 manylinux_2_28 aarch64.
Per corpus and round, in this order:

- seed fetch:            per target, in sequence: real `poetry export --with ... -E ...`, `pip download --no-deps
                         --only-binary=:all: --platform <ladder> --python-version X` of it minus the sdist-only
                         packages, `pip wheel --no-deps` of those (pip's cache off)
- build cold/warm:       `netbundle build` of the three targets with an unencrypted key: empty cache, then again;
- key unlock alone:      the scrypt unlock of the password key by itself, in this process;
- build cold/warm, password key: the same with a scrypt-encrypted key (minisign's default cost) and a new cache;
                         each build's wall time and the peak RSS of its largest process (RUSAGE_CHILDREN)
- install, on the host target (cp311-manylinux_2_28_x86_64) of the cold build's bundle, into fresh directories:
    pyz pip engine (default), pyz installer engine, pyz installer engine --no-compile; bare pip: the bundle's own
    pip wheel run from the file with --python into `venv --without-pip`, with and without --no-compile, the same
    wheels and locks extracted; `uv pip install --offline --no-index --require-hashes` into `uv venv`, with and
    without --compile-bytecode, empty uv cache each time; the order of these seven rotates by round, and each
    case's CPU seconds (every process it ran: `<case> cpu`) are recorded beside its wall time

Usage: .venv/bin/python benchmarks/realworld.py [--rounds N] [--corpus NAME ...] [--pyz FILE] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    CORPUS,
    NETBUNDLE,
    POETRY,
    ROOT,
    SOURCE_DATE_EPOCH,
    UV,
    header,
    medians,
    offline_env,
    poetry_export,
    run,
    timed,
    without,
    write_result,
)
from install_vs_pip import PYTHON, build_pyz
from tests.support.bundles import make_keypair
from tests.support.simple_index import serve

from netbundle.bundle.signing import load_secret_key
from netbundle.runtime.pip import pip_install_argv
from netbundle.targets import expand_platforms, parse_target

HOST_TARGET = "cp311-manylinux_2_28_x86_64"
REALWORLD = CORPUS / "realworld"
PASSWORD = "benchmark password"
_RSS = (
    "import resource, subprocess, sys; done = subprocess.run(sys.argv[1:]);"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(done.returncode)"
)


@dataclass(frozen=True)
class Corpus:
    name: str
    project: Path
    index: Path
    groups: tuple[str, ...]
    extras: tuple[str, ...]
    targets: tuple[str, ...]
    sdist_only: tuple[str, ...]

    def selection_args(self) -> list[str]:
        args = ["--with", ",".join(self.groups)] if self.groups else []
        for extra in self.extras:
            args += ["-E", extra]
        return args


RW_TARGETS = ("cp311-manylinux_2_28_x86_64", "cp312-manylinux_2_28_x86_64", "cp311-manylinux_2_28_aarch64")
CORPORA = {
    "sample": Corpus("sample", ROOT / "sample-bundles" / "netops-automation", CORPUS / "all",
                     ("junos", "cisco", "arista"), (),
                     ("cp311-manylinux_2_28_x86_64", "cp39-manylinux_2_28_x86_64", "cp311-manylinux_2_28_aarch64"),
                     ("ncclient==0.7.0", "pyeapi==1.0.4")),
    "netutils": Corpus("netutils", REALWORLD / "netutils" / "project", REALWORLD / "netutils" / "all",
                       ("dev", "docs"), ("optionals",), RW_TARGETS, ("ncclient", "pyeapi")),
    "nautobot-l20": Corpus("nautobot-l20", REALWORLD / "nautobot-l20" / "project", REALWORLD / "nautobot-l20" / "all",
                           ("docs", "linting"), ("napalm", "remote_storage", "sso"), RW_TARGETS,
                           ("graphene-django-optimizer", "ncclient", "promise", "pyeapi", "rx")),
}  # fmt: skip


def measured(argv: Sequence[str | os.PathLike[str]], env: dict[str, str]) -> tuple[float, int]:
    """Wall seconds of a command and the peak RSS (KiB) of its largest process."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _RSS, *map(str, argv)], check=False, env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"benchmark step failed: {' '.join(map(str, argv))}")
    return seconds, int(done.stderr.strip().splitlines()[-1])


def seed_fetch(corpus: Corpus, index_url: str, work: Path) -> None:
    env = offline_env(index_url)
    export = poetry_export_args(corpus, env)
    names = [s.split("==")[0] for s in corpus.sdist_only]
    requirements = without(export, names)
    for spec in corpus.targets:
        target = parse_target(spec)
        out = work / spec
        out.mkdir(parents=True)
        (out / "requirements.txt").write_text(requirements)
        platforms = [arg for p in expand_platforms(target.platforms) for arg in ("--platform", p)]
        major, minor = target.python_tuple
        pip = [sys.executable, "-m", "pip", "-q", "--no-cache-dir"]
        run([*pip, "download", "--no-deps", "--only-binary=:all:", "--implementation", "cp", "--python-version",
             f"{major}.{minor}", *platforms, "-d", out, "-r", out / "requirements.txt"], env)  # fmt: skip
        pinned = [_pin(export, s) for s in corpus.sdist_only]
        run([*pip, "wheel", "--no-deps", "-w", out, *pinned], env)


def poetry_export_args(corpus: Corpus, env: dict[str, str]) -> str:
    if not corpus.extras:
        return poetry_export(corpus.project, corpus.groups, env)
    argv = [
        str(POETRY),
        "export",
        "-f",
        "requirements.txt",
        "-C",
        str(corpus.project),
        *corpus.selection_args(),
    ]
    return subprocess.run(argv, check=True, capture_output=True, text=True, env=env).stdout


def _pin(export: str, name: str) -> str:
    """``name==version`` of an sdist-only package, from the export (the sample's are given pinned)."""
    if "==" in name:
        return name
    for line in export.splitlines():
        if line.startswith(name + "=="):
            return line.split(";")[0].split()[0].rstrip("\\").strip()
    raise SystemExit(f"{name} is not in the export")


def build(corpus: Corpus, index_url: str, cache: Path, key: Path, out: Path) -> tuple[float, int]:
    env = {
        **offline_env(index_url),
        "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH,
        "NETBUNDLE_SIGN_KEY_PASSWORD": PASSWORD,
    }
    argv: list[str | os.PathLike[str]] = [NETBUNDLE, "-q", "build", "-P", corpus.project, *corpus.selection_args(),
            "--index-url", index_url, "--cache-dir", cache, "--sign-key", key, "-o", out]  # fmt: skip
    for target in corpus.targets:
        argv += ["--target", target]
    return measured(argv, env)


@dataclass(frozen=True)
class Installable:
    bundle: Path
    pubs: tuple[Path, ...]
    pyz: Path
    wheelhouse: Path
    groups: tuple[str, ...]

    @property
    def links(self) -> list[str]:
        return [str(self.wheelhouse / d) for d in ("wheels", "dist") if (self.wheelhouse / d).is_dir()]

    @property
    def locks(self) -> list[str]:
        return [str(self.wheelhouse / "locks" / HOST_TARGET / f"requirements-{g}.txt") for g in self.groups]

    @property
    def pip_wheel(self) -> Path:
        return next((self.wheelhouse / "tools").glob("pip-*.whl"))


def open_installable(bundle: Path, pubs: tuple[Path, ...], pyz: Path, work: Path) -> Installable:
    wheelhouse = work / "wheelhouse"
    with tarfile.open(bundle) as archive:
        archive.extractall(wheelhouse, filter="data")
    manifest = json.loads((wheelhouse / "netbundle" / "manifest.json").read_text())
    host = next(t for t in manifest["targets"] if t["name"] == HOST_TARGET)
    groups = ("main", *sorted(g for g in host["locks"] if g != "main"))
    return Installable(bundle, pubs, pyz, wheelhouse, groups)


def pyz_install(setup: Installable, prefix: Path, *extra: str) -> None:
    groups = [arg for g in setup.groups[1:] for arg in ("--group", g)]
    trust = [arg for pub in setup.pubs for arg in ("--trust", pub)]
    run([PYTHON, setup.pyz, "install", setup.bundle, "--prefix", prefix, *groups, *trust, *extra])


def pip_bare(setup: Installable, venv: Path, compile_bytecode: bool = True) -> None:
    run([PYTHON, "-m", "venv", "--without-pip", venv], offline_env())
    argv = pip_install_argv(
        str(venv / "bin" / "python"), setup.links, setup.locks, compile_bytecode=compile_bytecode
    )
    pip_args = argv[argv.index("install") :]
    run(
        [PYTHON, f"{setup.pip_wheel}/pip", "--python", str(venv / "bin" / "python"), *pip_args], offline_env()
    )


def uv_install(setup: Installable, venv: Path, cache: Path, compile_bytecode: bool) -> None:
    env = {**offline_env(), "UV_NO_CONFIG": "1"}
    run([UV, "venv", "-q", "--python", PYTHON, "--cache-dir", cache, venv], env)
    links = [arg for link in setup.links for arg in ("--find-links", link)]
    locks = [arg for lock in setup.locks for arg in ("-r", lock)]
    bytecode = ["--compile-bytecode"] if compile_bytecode else []
    run([UV, "pip", "install", "-q", "--offline", "--no-index", *links, "--require-hashes", *locks, *bytecode,
         "--python", venv / "bin" / "python", "--cache-dir", cache], env)  # fmt: skip


def install_round(setup: Installable, work: Path, rotation: int) -> dict[str, float]:
    """Every install case once, into fresh directories; the order rotates by round, so that no case always runs
    first (a cold page cache) or right after another one's files were written."""
    cases = [
        ("install: pyz, pip engine", lambda: pyz_install(setup, work / "p1")),
        ("install: pyz, installer engine", lambda: pyz_install(setup, work / "p2", "--engine", "installer")),
        ("install: pyz, installer engine --no-compile",
         lambda: pyz_install(setup, work / "p3", "--engine", "installer", "--no-compile")),
        ("install: bare pip (bundled pip)", lambda: pip_bare(setup, work / "v1")),
        ("install: bare pip --no-compile", lambda: pip_bare(setup, work / "v2", False)),
        ("install: uv --compile-bytecode", lambda: uv_install(setup, work / "u1", work / "uc1", True)),
        ("install: uv (no bytecode)", lambda: uv_install(setup, work / "u2", work / "uc2", False)),
    ]  # fmt: skip
    shift = rotation % len(cases)
    times = {}
    for name, case in cases[shift:] + cases[:shift]:
        before = os.times()
        times[name] = timed(case)
        after = os.times()
        # the CPU seconds of every process the case ran: less sensitive to a shared machine than the wall time
        times[f"{name} cpu"] = round(
            after.children_user - before.children_user + after.children_system - before.children_system, 3
        )
    return times


def corpus_round(
    corpus: Corpus, index_url: str, pyz: Path, keys: dict[str, Path], work: Path, number: int
) -> dict[str, float]:
    times = {"seed fetch": timed(seed_fetch, corpus, index_url, work / "seed")}
    # what the password key costs by itself (scrypt, minisign's default cost), to compare with what it adds to a build
    times["key unlock alone (scrypt)"] = timed(load_secret_key, keys["password"], password=PASSWORD)
    for label, key in (("", keys["plain"]), (", password key", keys["password"])):
        cache = work / f"cache{len(label)}"
        seconds, rss = build(corpus, index_url, cache, key, work / f"cold{len(label)}.tar")
        times[f"build cold{label}"], times[f"build cold{label} peak RSS KiB"] = seconds, rss
        seconds, rss = build(corpus, index_url, cache, key, work / f"warm{len(label)}.tar")
        times[f"build warm{label}"], times[f"build warm{label} peak RSS KiB"] = seconds, rss
    setup = open_installable(work / "cold0.tar", (keys["plain.pub"], keys["password.pub"]), pyz, work)
    times.update(install_round(setup, work / "installs", number))
    times["locked packages"] = float(
        len(json.loads((setup.wheelhouse / "netbundle" / "manifest.json").read_text())["packages"])
    )
    return times


def ratios(m: dict[str, float]) -> dict[str, float]:
    def r(a: str, b: str) -> float:
        return round(m[a] / m[b], 3)

    return {
        "build_cold_speedup_vs_seed": round(m["seed fetch"] / m["build cold"], 2),
        "build_warm_speedup_vs_seed": round(m["seed fetch"] / m["build warm"], 2),
        "build_cold_password_speedup_vs_seed": round(m["seed fetch"] / m["build cold, password key"], 2),
        "build_warm_password_speedup_vs_seed": round(m["seed fetch"] / m["build warm, password key"], 2),
        "installer_engine_vs_uv_compile": r(
            "install: pyz, installer engine", "install: uv --compile-bytecode"
        ),
        "installer_engine_no_compile_vs_uv": r(
            "install: pyz, installer engine --no-compile", "install: uv (no bytecode)"
        ),
        "pip_engine_vs_bare_pip": r("install: pyz, pip engine", "install: bare pip (bundled pip)"),
        "installer_engine_vs_pip_engine": r("install: pyz, installer engine", "install: pyz, pip engine"),
    }


def keypair_with_password(work: Path) -> tuple[Path, Path]:
    env = {**os.environ, "NETBUNDLE_SIGN_KEY_PASSWORD": PASSWORD}
    run([NETBUNDLE, "keygen", "-o", work / "password"], env)
    return work / "password.key", work / "password.pub"


def summary(
    args: argparse.Namespace,
    chosen: Sequence[Corpus],
    samples: dict[str, dict[str, list[float]]],
    load: list[float],
) -> dict[str, object]:
    corpora: dict[str, object] = {}
    for corpus in chosen:
        if not samples[corpus.name]:
            continue
        median = medians(samples[corpus.name])
        corpora[corpus.name] = {
            "groups": list(corpus.groups), "extras": list(corpus.extras), "targets": list(corpus.targets),
            "median": median, "samples": samples[corpus.name], "ratios": ratios(median),
        }  # fmt: skip
    result = header(len(next(iter(samples.values()), {}).get("seed fetch", [])), latency_ms=args.latency_ms,
                    python=PYTHON, corpora=corpora)  # fmt: skip
    result["load_average_before_now"] = [load, list(os.getloadavg())]
    return result


def save(result: dict[str, object], path: Path | None) -> None:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=2) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description="real-world locks: seed vs build, every install engine")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--corpus", action="append", choices=sorted(CORPORA), help="default: all three")
    parser.add_argument("--latency-ms", type=float, default=30.0)
    parser.add_argument("--pyz", type=Path)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    chosen = [CORPORA[name] for name in (args.corpus or ["sample", "netutils", "nautobot-l20"])]
    for needed, remedy in ((CORPUS / "all", "scripts/prepare-corpus"), (REALWORLD, "scripts/prepare-realworld"),
                           (POETRY, "scripts/relock"), (UV, "benchmarks/install-uv")):  # fmt: skip
        if not needed.exists():
            sys.exit(f"{needed} is missing: run {remedy} first")
    samples: dict[str, dict[str, list[float]]] = {c.name: {} for c in chosen}
    load_before = list(os.getloadavg())  # the machine is shared: say how loaded it was
    with tempfile.TemporaryDirectory(prefix="nb-realworld-") as tmp:
        keys_dir = Path(tmp) / "keys"
        plain = make_keypair(keys_dir, "plain")
        password_key, password_pub = keypair_with_password(keys_dir)
        keys = {"plain": plain.key_path, "plain.pub": plain.pub_path, "password": password_key,
                "password.pub": password_pub}  # fmt: skip
        pyz = args.pyz.resolve() if args.pyz else build_pyz(plain.pub_path, Path(tmp) / "n.pyz")
        for number in range(args.rounds):
            for corpus in chosen:
                with serve(corpus.index, latency=args.latency_ms / 1000) as index, \
                        tempfile.TemporaryDirectory(prefix="nb-rw-run-") as work:  # fmt: skip
                    for name, value in corpus_round(corpus, index.url, pyz, keys, Path(work), number).items():
                        samples[corpus.name].setdefault(name, []).append(value)
                # every round is written at once: a run cut short keeps what it measured
                save(summary(args, chosen, samples, load_before), args.json)
                print(f"round {number + 1} {corpus.name}: "
                      + "  ".join(f"{k} {v[-1]:.2f}" for k, v in samples[corpus.name].items()), flush=True)  # fmt: skip
    write_result(summary(args, chosen, samples, load_before), args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
