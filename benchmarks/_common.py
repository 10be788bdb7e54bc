"""Shared parts of the benchmarks: paths, the seed pipeline's steps, offline environments, timing and results.

Importing this module puts the repository root and ``src/`` on ``sys.path`` (the benchmarks run as scripts from
any directory with ``.venv/bin/python``), so ``tests.support`` and ``netbundle`` import afterwards.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for _entry in (str(ROOT), str(ROOT / "src")):
    if _entry not in sys.path:
        sys.path.insert(0, _entry)

from netbundle.targets import expand_platforms, parse_target

CORPUS = ROOT / ".cache" / "corpus"
POETRY = ROOT / ".venv-tools" / "bin" / "poetry"
NETBUNDLE = ROOT / ".venv" / "bin" / "netbundle"
UV = ROOT / ".venv-uv" / "bin" / "uv"
#: the corpus packages that ship only sdists: the seed pipeline builds them with `pip wheel`
SDIST_ONLY = ("ncclient==0.7.0", "pyeapi==1.0.4")
#: the bundle build time of every benchmark bundle (byte-identical rebuilds)
SOURCE_DATE_EPOCH = "1767225600"


def offline_env(index_url: str | None = None) -> dict[str, str]:
    """This process's environment without pip configuration; ``index_url`` as pip's only index when given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    env.update({"PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    if index_url:
        env["PIP_INDEX_URL"] = index_url
    return env


def without(requirements: str, names: Iterable[str]) -> str:
    """Drop the named packages' entries (each a line plus its `\\`-continued hash lines) from an export."""
    names = tuple(names)
    kept, skipping = [], False
    for line in requirements.splitlines():
        if line and not line.startswith(" "):
            skipping = any(line.startswith(f"{n}==") for n in names)
        if not skipping:
            kept.append(line)
    return "\n".join(kept) + "\n"


def poetry_export(project: Path, groups: Sequence[str], env: Mapping[str, str]) -> str:
    """Real `poetry export --with-hashes` (the default) of ``project`` with the optional ``groups``."""
    argv = [str(POETRY), "export", "-f", "requirements.txt", "-C", str(project)]
    if groups:
        argv += ["--with", ",".join(groups)]
    return subprocess.run(argv, check=True, capture_output=True, text=True, env=dict(env)).stdout


def seed_download(project: Path, groups: Sequence[str], spec: str, out: Path, env: Mapping[str, str]) -> Path:
    """One target of the seed pipeline: export, `pip download` the wheels, `pip wheel` the sdist-only packages.

    Returns the requirements file it downloaded (the export minus the sdist-only packages).
    """
    target = parse_target(spec)
    out.mkdir(parents=True)
    req = out / "requirements.txt"
    req.write_text(without(poetry_export(project, groups, env), [s.split("==")[0] for s in SDIST_ONLY]))
    platforms = [arg for p in expand_platforms(target.platforms) for arg in ("--platform", p)]
    major, minor = target.python_tuple
    pip = [sys.executable, "-m", "pip", "-q", "--no-cache-dir"]
    subprocess.run([*pip, "download", "--no-deps", "--only-binary=:all:", "--implementation", "cp",
                    "--python-version", f"{major}.{minor}", *platforms, "-d", str(out), "-r", str(req)],
                   check=True, env=dict(env))  # fmt: skip
    subprocess.run([*pip, "wheel", "--no-deps", "-w", str(out), *SDIST_ONLY], check=True, env=dict(env))
    return req


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def timed(action: Callable[..., object], *args: object, **kwargs: object) -> float:
    """Seconds ``action(*args, **kwargs)`` took (wall clock)."""
    start = time.perf_counter()
    action(*args, **kwargs)
    return time.perf_counter() - start


def run(
    argv: Sequence[str | os.PathLike[str]], env: Mapping[str, str] | None = None, **kwargs: object
) -> None:
    """Run a command, quiet unless it fails (then its output is shown and the benchmark stops)."""
    done = subprocess.run(
        [str(a) for a in argv], check=False, capture_output=True, text=True, env=env, **kwargs
    )  # type: ignore[call-overload]
    if done.returncode != 0:
        sys.stderr.write(f"$ {' '.join(str(a) for a in argv)}\n{done.stdout}{done.stderr}")
        raise SystemExit(f"benchmark step failed (exit {done.returncode})")


def medians(samples: Mapping[str, Sequence[float]]) -> dict[str, float]:
    return {name: round(statistics.median(values), 4) for name, values in samples.items()}


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


def header(runs: int, **extra: object) -> dict[str, object]:
    """The common head of every result file: date, machine, number of runs."""
    return {"date": today(), "machine": machine(), "runs": runs, **extra}


def write_result(result: Mapping[str, object], path: Path | None) -> None:
    text = json.dumps(result, indent=2) + "\n"
    print(text, end="")
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def table(rows: Sequence[tuple[str, float, str]]) -> str:
    """A Markdown table of (what, median seconds, ratio text)."""
    lines = ["| | median | ratio |", "|---|---:|---:|"]
    lines += [f"| {what} | {seconds:.2f} s | {ratio} |" for what, seconds, ratio in rows]
    return "\n".join(lines)
