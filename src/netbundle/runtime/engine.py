"""The installer engine (``install --engine installer``): pypa/installer unpacks the verified wheels in parallel.

The steps, inside the generation directory that ``install`` later switches to (or removes):

1. a bare venv (``python -m venv --without-pip``);
2. the wheels: :mod:`.wheelplan` picks, for each pin of the chosen groups' locks, the bundle member whose sha256 the
   lock names (only staged, verified members); each wheel's zip directory is scanned (:mod:`.wheelscan`) so that a
   file several wheels ship is written by the one pip would install last (:mod:`.wheelorder`); the bundle's own pip
   wheel goes in too, as the pip engine installs it;
3. one worker process per core (:mod:`.unpacker`, run by the venv's interpreter) takes whole wheels from a shared
   queue, most work first: it unpacks one with pypa/installer, every path checked by :mod:`.wheelpaths` before it is
   written, byte-compiles its modules (``compile_bytecode=False`` skips that), and writes its RECORD with the
   ``.pyc`` files, as pip's lists them. Processes, not threads: unpacking is mostly Python, and threads in one
   process spent more of their time handing the GIL over than working;
4. :mod:`.depcheck`: what ``pip check`` checks, over the installed metadata.

Differences from the pip engine's result, on purpose: ``INSTALLER`` says ``netbundle``, and console-script
launchers are pypa/installer's (same shebang, same entry point, other text). Every other RECORD row is pip's.
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from ..errors import InstallError
from .bytecode import core_count
from .depcheck import find_problems, read_installed
from .unpacker import Job
from .wheelorder import install_order, shared_paths
from .wheelplan import choose_wheels, merge_pins, parse_lock
from .wheelscan import WheelScan, scan_wheel
from .workers import WorkerPool

TYPE_CHECKING = False
if TYPE_CHECKING:
    import pathlib
    from typing import IO, Dict, List, Mapping, Optional, Sequence, Set

    from ..format.manifest import TargetEntry
    from ..format.tar import VerifiedBundle
    from .host import HostInfo
    from .venv import Venv

INSTALLER_NAME = "netbundle\n"
#: Threads that read the wheels' zip directories before anything is unpacked (mostly waiting on the disk).
SCAN_THREADS = 4
_LIB_SCHEMES = ("purelib", "platlib")


@dataclass(frozen=True)
class WheelJob:
    """One wheel to install: the staged file, the distribution name for headers, whether to compile it."""

    path: pathlib.Path
    name: str
    compile: bool
    metadata: Mapping[str, str]


@dataclass(frozen=True)
class EngineReport:
    """What the engine did: wheels, files, compiled modules, and seconds per phase."""

    wheels: int
    files: int
    compiled: int
    workers: int
    scan_seconds: float
    install_seconds: float
    check_seconds: float

    def render(self) -> str:
        return "engine installer: {} wheels, {} files, {} modules compiled, {} workers; scan {:.2f}s, " \
            "unpack and compile {:.2f}s, check {:.2f}s".format(
                self.wheels, self.files, self.compiled, self.workers, self.scan_seconds, self.install_seconds,
                self.check_seconds)  # fmt: skip


def plan_jobs(
    bundle: VerifiedBundle, target: TargetEntry, groups: Sequence[str], host: HostInfo, compile_bytecode: bool
) -> List[WheelJob]:
    """The wheels of the chosen groups' locks that fit this host (:func:`install_wheels` orders them by work)."""
    pins = []
    for group in groups:
        member = target.locks[group]
        text = bundle.member_path(member).read_text(encoding="utf-8")
        pins.extend(parse_lock(text, member))
    choices = choose_wheels(merge_pins(pins, host.marker_environment), bundle.manifest, host.tags)
    metadata = {"INSTALLER": INSTALLER_NAME, "REQUESTED": ""}
    return [WheelJob(bundle.member_path(c.member), c.name, compile_bytecode, metadata) for c in choices]


def pip_job(bundle: VerifiedBundle) -> Optional[WheelJob]:
    """The bundle's pip wheel, installed like :func:`.venv.install_pip_wheel` does (not compiled)."""
    member = bundle.manifest.pip_wheel
    if not member:
        return None
    return WheelJob(bundle.member_path(member), "pip", False, {"INSTALLER": INSTALLER_NAME})


def venv_scheme(venv: Venv, name: str) -> Dict[str, str]:
    """pip's scheme in a venv: its sysconfig paths, headers under ``<venv>/include/site/pythonX.Y/<name>``."""
    include = venv.path / "include" / "site" / "python{}.{}".format(*sys.version_info[:2])
    return {
        "purelib": venv.scheme["purelib"],
        "platlib": venv.scheme["platlib"],
        "headers": str(include / name),
        "scripts": venv.scheme["scripts"],
        "data": venv.scheme["data"],
    }


def install_wheels(
    jobs: Sequence[WheelJob],
    venv: Venv,
    env: Mapping[str, str],
    environment: Mapping[str, str],
    workers: Optional[int] = None,
    stderr: Optional[IO[str]] = None,
) -> EngineReport:
    """Install every job into ``venv`` with worker processes; return the counts and phase times.

    A file several wheels ship is written by the one pip would install last (:mod:`.wheelorder`); the others
    record their copy's hash without writing it, as pip's RECORDs read after it overwrote them.

    :param environment: the marker environment (for the dependency order).
    :param stderr: where the workers' own error output goes (the install log).
    :raises InstallError: a wheel is invalid or names an unsafe path; the caller removes the partial venv.
    """
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, min(SCAN_THREADS, len(jobs)))) as pool:
        scans = list(pool.map(lambda job: scan_wheel(job.path, venv_scheme(venv, job.name)), jobs))
    skipped = _overlaps(scans, environment)
    work = [
        (_cost(job, scan), Job(str(job.path), venv_scheme(venv, job.name), str(venv.python), job.metadata,
                               job.compile, tuple(skipped.get(scan.name, ()))))
        for job, scan in zip(jobs, scans)
    ]  # fmt: skip
    work.sort(key=lambda item: -item[0])  # most work first: the last wheel started bounds the wall time
    scanned = time.monotonic()
    count = max(1, min(workers or core_count(), len(work)))
    replies = WorkerPool(str(venv.python), env, count, stderr).run([job for _, job in work])
    return EngineReport(
        wheels=len(jobs),
        files=sum(int(reply["files"]) for reply in replies),
        compiled=sum(int(reply["compiled"]) for reply in replies),
        workers=count,
        scan_seconds=scanned - start,
        install_seconds=time.monotonic() - scanned,
        check_seconds=0.0,
    )


def _cost(job: WheelJob, scan: WheelScan) -> float:
    """A wheel's rough cost in milliseconds of one core: its bytes, its files and, compiled, its modules."""
    return job.path.stat().st_size / 20000 + len(scan.paths) * 0.1 + (scan.modules if job.compile else 0)


def _overlaps(scans: Sequence[WheelScan], environment: Mapping[str, str]) -> Dict[str, Set[str]]:
    """Distribution -> the paths it leaves to a wheel installed after it (the bundle's pip goes first)."""
    requires = {scan.name: list(scan.requires) for scan in scans if scan.name != "pip"}
    order = ["pip", *install_order(requires, environment)]
    return shared_paths({scan.name: scan.paths for scan in scans}, order)


def check_consistency(venv: Venv, host: HostInfo) -> List[str]:
    """pip check's findings for the venv's site-packages."""
    sites = list(dict.fromkeys(venv.scheme[k] for k in _LIB_SCHEMES))
    return find_problems(read_installed(sites), host.marker_environment, host.tags)


def run_engine(
    bundle: VerifiedBundle,
    target: TargetEntry,
    groups: Sequence[str],
    directory: pathlib.Path,
    host: HostInfo,
    env: Mapping[str, str],
    log: IO[str],
    compile_bytecode: bool = True,
) -> Venv:
    """Make the generation's venv at ``directory`` with the installer engine; return it.

    :raises InstallError: a wheel is missing, unsafe or clashing, or the dependency check failed.
    """
    from .venv import create_bare_venv, create_venv

    jobs = plan_jobs(bundle, target, groups, host, compile_bytecode)
    # a lock that pins pip itself installs that one, as pip replaces the bundled one with it
    pip = None if any(job.name == "pip" for job in jobs) else pip_job(bundle)
    bare = pip is not None or any(job.name == "pip" for job in jobs)
    venv = create_bare_venv(directory) if bare else create_venv(directory, None)
    log.write(
        "$ netbundle engine installer: {} wheels{}\n".format(
            len(jobs), "" if compile_bytecode else ", no bytecode"
        )
    )
    log.flush()  # the workers write their own error output to the log
    report = install_wheels(
        jobs + ([pip] if pip is not None else []), venv, env, host.marker_environment, stderr=log
    )
    started = time.monotonic()
    problems = check_consistency(venv, host)
    report = replace(report, check_seconds=time.monotonic() - started)
    log.write(report.render() + "\n")
    log.flush()
    if problems:
        log.write("".join(p + "\n" for p in problems))
        raise InstallError(
            "the dependency check failed for bundle {}: {}".format(bundle.manifest.bundle_id, problems[0])
            + (" (and {} more)".format(len(problems) - 1) if len(problems) > 1 else ""),
        )
    return venv
