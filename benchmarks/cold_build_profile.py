"""Where a cold ``netbundle build`` spends its time (issue 18): wall seconds per phase, and a cProfile of the main
process.

The corpus (default nautobot-l20, from scripts/prepare-realworld) is served by the tests' local index on 127.0.0.1
with 30 ms added before every response, as in benchmarks/realworld.py. Each round builds the corpus's three
targets with an unencrypted key into an empty cache, in a child process that wraps the builder's phases in
timers (a phase called several times is summed; a phase running inside another is counted in both) and, with
``--profile``, runs under cProfile (main thread only: the download threads and build workers are not in it).

Usage: .venv/bin/python benchmarks/cold_build_profile.py [--corpus NAME] [--rounds N] [--profile FILE] [--json FILE]
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import SOURCE_DATE_EPOCH, offline_env
from realworld import CORPORA, Corpus
from tests.support.bundles import make_keypair
from tests.support.simple_index import serve

#: "module:attribute" (or "module:Class.method") wrapped in a timer, in the order a build reaches them
PHASES = (
    "netbundle.bundle.builder:_check_selection",
    "netbundle.bundle.builder:build_environment",
    "netbundle.bundle.builder:gather",
    "netbundle.wheelhouse:load_project",
    "netbundle.wheelhouse:select_packages",
    "netbundle.wheelhouse:select_for_environment",
    "netbundle.wheelhouse:choose_all",
    "netbundle.wheelhouse:plan_fetch",
    "netbundle.wheelhouse:execute",
    "netbundle.wheelhouse:_build_all",  # before the builds started with the downloads
    "netbundle.wheelhouse:_Builds.start",
    "netbundle.wheelhouse:_Builds.finish",
    "netbundle.bundle.builder:_ProjectBuild.wait",
    "netbundle.bundle.builder:fetch_pip",
    "netbundle.bundle.contents:plan_contents",
    "netbundle.bundle.builder:_check_wheels",
    "netbundle.bundle.builder:_locks",
    "netbundle.bundle.builder:_manifest",
    "netbundle.bundle.builder:assert_lock_assignments",
    "netbundle.bundle.builder:sign",
    "netbundle.bundle.builder:write_bundle",
    "netbundle.bundle.builder:record_checksum",
)


def _timed(label: str, function: Callable[..., Any], into: dict[str, float]) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            into[label] = into.get(label, 0.0) + time.perf_counter() - start

    return wrapper


def _instrument(into: dict[str, float]) -> None:
    for phase in PHASES:
        module_name, _, attribute = phase.partition(":")
        owner: Any = importlib.import_module(module_name)
        *path, name = attribute.split(".")
        for part in path:
            owner = getattr(owner, part, None)
        if hasattr(owner, name):  # phases of other versions are skipped
            setattr(owner, name, _timed(attribute, getattr(owner, name), into))


def _trace_jobs(start: float, into: list[dict[str, Any]]) -> None:
    """Record when each build job is submitted to the BuildPool and when it is done (seconds from ``start``)."""
    from netbundle.wheels.pool import BuildPool

    submit = BuildPool.submit

    def traced(self: BuildPool, function: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        first = args[0] if args else None
        package = getattr(first, "package", None)
        job = {"job": f"{function.__name__} {package.name if package else Path(str(first)).name}",
               "submitted": round(time.perf_counter() - start, 3)}  # fmt: skip
        into.append(job)
        future = submit(self, function, *args, **kwargs)
        future.add_done_callback(lambda _: job.update(done=round(time.perf_counter() - start, 3)))
        return future

    BuildPool.submit = traced  # type: ignore[method-assign]


def child(argv: list[str], profile: str | None, result: str) -> None:
    """Run ``netbundle <argv>`` in this process with the phases timed; write the times to ``result``."""
    from netbundle.cli import cli

    times: dict[str, Any] = {}
    jobs: list[dict[str, Any]] = []
    _instrument(times)
    profiler = cProfile.Profile() if profile else None
    start = time.perf_counter()
    _trace_jobs(start, jobs)
    if profiler is not None:
        profiler.enable()
    try:
        cli.main(argv, standalone_mode=False)
    finally:
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(profile)  # type: ignore[arg-type]
        times["total (in process)"] = time.perf_counter() - start
        Path(result).write_text(json.dumps({**times, "jobs": jobs}))


def cold_build(
    corpus: Corpus, index_url: str, work: Path, key: Path, profile: Path | None, extra: list[str]
) -> dict[str, Any]:
    argv = ["-q", "build", *extra, "-P", str(corpus.project), *corpus.selection_args(), "--index-url", index_url,
            "--cache-dir", str(work / "cache"), "--sign-key", str(key), "-o", str(work / "cold.tar")]  # fmt: skip
    for target in corpus.targets:
        argv += ["--target", target]
    env = {**offline_env(index_url), "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH}
    result = work / "phases.json"
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(argv), str(profile or ""), str(result)],
        check=True,
        env=env,
    )
    times = {"wall (process)": time.perf_counter() - start, **json.loads(result.read_text())}
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in times.items()}


def main() -> int:
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(json.loads(sys.argv[2]), sys.argv[3] or None, sys.argv[4])
        return 0
    parser = argparse.ArgumentParser(description="wall time per phase of a cold build, and a cProfile")
    parser.add_argument("--corpus", default="nautobot-l20", choices=sorted(CORPORA))
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--latency-ms", type=float, default=30.0)
    parser.add_argument("--profile", type=Path, help="write the main process's cProfile here (last round)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--build-option", action="append", default=[], help="passed to netbundle build")
    parser.add_argument(
        "--warm-build-envs",
        action="store_true",
        help="build once first (not measured), then empty the cache but for build-envs/: a cold build whose"
        " build environments exist already",
    )
    args = parser.parse_args()
    corpus = CORPORA[args.corpus]
    if not corpus.index.exists():
        sys.exit(f"{corpus.index} is missing: run scripts/prepare-realworld first")
    rounds = []
    with tempfile.TemporaryDirectory(prefix="nb-cold-profile-") as tmp:
        key = make_keypair(Path(tmp) / "keys", "plain").key_path
        for number in range(args.rounds):
            load = list(os.getloadavg())
            with serve(corpus.index, latency=args.latency_ms / 1000) as index:
                work = Path(tmp) / f"round{number}"
                work.mkdir()
                profile = args.profile.resolve() if args.profile and number == args.rounds - 1 else None
                if args.warm_build_envs:
                    cold_build(corpus, index.url, work, key, None, args.build_option)
                    for entry in (work / "cache").iterdir():
                        if entry.name != "build-envs":
                            shutil.rmtree(entry)
                times = cold_build(corpus, index.url, work, key, profile, args.build_option)
            rounds.append({"load_average_before": load, "load_average_after": list(os.getloadavg()), **times})
            print(json.dumps(rounds[-1], indent=1), flush=True)
    if args.json:
        data = {"corpus": corpus.name, "build_options": args.build_option, "rounds": rounds,
                "warm_build_envs": args.warm_build_envs}  # fmt: skip
        args.json.write_text(json.dumps(data, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
