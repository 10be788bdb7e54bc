"""The installer engine (``install --engine installer``): pypa/installer unpacks the verified wheels in parallel.

The steps, inside the generation directory that ``install`` later switches to (or removes):

1. a bare venv (``python -m venv --without-pip``);
2. the wheels: :mod:`.wheelplan` picks, for each pin of the chosen groups' locks, the bundle member whose sha256 the
   lock names (only staged, verified members); threads unpack them with pypa/installer, every path checked by
   :mod:`.wheelpaths` before it is written; the bundle's own pip wheel goes in too, as the pip engine installs it;
   a file several wheels ship is written by the one pip would install last (:mod:`.wheelscan`, :mod:`.wheelorder`);
3. bytecode: as soon as a wheel is unpacked its modules go to the :class:`.bytecode.Compiler` (one worker per core),
   so compiling overlaps the unpacking; each wheel's RECORD is written once its modules are compiled and lists
   the ``.pyc`` files, as pip's does; ``compile_bytecode=False`` skips this step;
4. :mod:`.depcheck`: what ``pip check`` checks, over the installed metadata.

Differences from the pip engine's result, on purpose: ``INSTALLER`` says ``netbundle``, and console-script
launchers are pypa/installer's (same shebang, same entry point, other text). Every other RECORD row is pip's.
"""

from __future__ import annotations

import io
import posixpath
import sys
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from installer import install as install_wheel
from installer.destinations import SchemeDictionaryDestination
from installer.exceptions import InstallerError
from installer.records import Hash, RecordEntry
from installer.scripts import Script
from installer.sources import WheelFile
from installer.utils import copyfileobj_with_hashing

from ..errors import InstallError, NetbundleError
from .bytecode import Compiler, core_count
from .depcheck import find_problems, read_installed
from .wheelorder import install_order, shared_paths
from .wheelplan import choose_wheels, merge_pins, parse_lock
from .wheelscan import WheelScan, scan_wheel

TYPE_CHECKING = False
if TYPE_CHECKING:
    import pathlib
    from concurrent.futures import Future
    from typing import IO, Any, BinaryIO, Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple

    from ..format.manifest import TargetEntry
    from ..format.tar import VerifiedBundle
    from .host import HostInfo
    from .venv import Venv

INSTALLER_NAME = b"netbundle\n"
#: Unpacking threads: zlib and file writes release the GIL, so a few threads keep the disk and the cores busy.
MAX_THREADS = 4
_LIB_SCHEMES = ("purelib", "platlib")


@dataclass(frozen=True)
class WheelJob:
    """One wheel to install: the staged file, the distribution name for headers, whether to compile it."""

    path: pathlib.Path
    name: str
    compile: bool
    metadata: Mapping[str, bytes]


@dataclass(frozen=True)
class EngineReport:
    """What the engine did: wheels, files, compiled modules, and seconds per phase."""

    wheels: int
    files: int
    compiled: int
    unpack_seconds: float
    compile_wait_seconds: float
    check_seconds: float

    def render(self) -> str:
        return "engine installer: {} wheels, {} files, {} modules compiled; unpack {:.2f}s, compile wait {:.2f}s, " \
            "check {:.2f}s".format(self.wheels, self.files, self.compiled, self.unpack_seconds,
                                   self.compile_wait_seconds, self.check_seconds)  # fmt: skip


def plan_jobs(
    bundle: VerifiedBundle, target: TargetEntry, groups: Sequence[str], host: HostInfo, compile_bytecode: bool
) -> List[WheelJob]:
    """The wheels of the chosen groups' locks that fit this host, biggest first (they bound the wall time)."""
    pins = []
    for group in groups:
        member = target.locks[group]
        text = bundle.member_path(member).read_text(encoding="utf-8")
        pins.extend(parse_lock(text, member))
    choices = choose_wheels(merge_pins(pins, host.marker_environment), bundle.manifest, host.tags)
    metadata = {"INSTALLER": INSTALLER_NAME, "REQUESTED": b""}
    jobs = [WheelJob(bundle.member_path(c.member), c.name, compile_bytecode, metadata) for c in choices]
    return sorted(jobs, key=lambda job: -job.path.stat().st_size)


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
    threads: Optional[int] = None,
) -> EngineReport:
    """Install every job into ``venv``; return the counts and phase times.

    A file several wheels ship is written by the one pip would install last (:mod:`.wheelorder`); the others
    record their copy's hash without writing it, as pip's RECORDs read after it overwrote them.

    :param environment: the marker environment (for the dependency order).
    :raises InstallError: a wheel is invalid or names an unsafe path; the caller removes the partial venv.
    """
    start = time.monotonic()
    stop = threading.Event()
    compiler = Compiler(str(venv.python), env) if any(job.compile for job in jobs) else None
    pending: List[_Unpacked] = []
    try:
        with ThreadPoolExecutor(max_workers=threads or min(MAX_THREADS, core_count() * 2)) as pool:
            scans = list(pool.map(lambda job: scan_wheel(job.path, venv_scheme(venv, job.name)), jobs))
            skipped = _overlaps(scans, environment)
            futures = [
                pool.submit(_unpack, job, venv, compiler, stop, skipped.get(scan.name, set()))
                for job, scan in zip(jobs, scans)
            ]
            try:
                pending = [future.result() for future in futures]
            except BaseException:
                stop.set()
                for future in futures:
                    future.cancel()
                raise
        unpacked = time.monotonic()
        compiled = sum(item.finish() for item in pending)
        waited = time.monotonic()
    except BaseException:
        if compiler is not None:
            compiler.close(kill=True)
        raise
    if compiler is not None:
        compiler.close()
    files = sum(len(item.records) for item in pending)
    return EngineReport(len(jobs), files, compiled, unpacked - start, waited - unpacked, 0.0)


def _overlaps(scans: Sequence[WheelScan], environment: Mapping[str, str]) -> Dict[str, Set[str]]:
    """Distribution -> the paths it leaves to a wheel installed after it (the bundle's pip goes first)."""
    requires = {scan.name: list(scan.requires) for scan in scans if scan.name != "pip"}
    order = ["pip", *install_order(requires, environment)]
    return shared_paths({scan.name: scan.paths for scan in scans}, order)


def check_consistency(venv: Venv, host: HostInfo) -> List[str]:
    """pip check's findings for the venv's site-packages."""
    sites = list(dict.fromkeys(venv.scheme[k] for k in _LIB_SCHEMES))
    return find_problems(read_installed(sites), host.marker_environment, host.tags)


class _Destination(SchemeDictionaryDestination):
    """pypa/installer's destination with path checks, a stop flag, and RECORD deferred until compiling ended."""

    def __init__(
        self, scheme: Dict[str, str], interpreter: str, wheel: str, stop: threading.Event, skip: Set[str]
    ) -> None:
        super().__init__(scheme, interpreter=interpreter, script_kind="posix")
        self.wheel = wheel
        self.stop = stop
        self.skip = skip
        self.deferred: Optional[Tuple[str, str, List[Tuple[str, RecordEntry]]]] = None

    def write_to_fs(self, scheme: Any, path: str, stream: BinaryIO, is_executable: bool) -> RecordEntry:
        from .wheelpaths import check_scheme_path

        if self.stop.is_set():
            raise InstallError("install stopped after another wheel failed")
        target = check_scheme_path(self.scheme_dict, scheme, path, self.wheel)
        if (
            posixpath.normpath(target) in self.skip
        ):  # a wheel installed later writes it: hash only, for RECORD
            digest, size = copyfileobj_with_hashing(stream, _Discard(), self.hash_algorithm)  # type: ignore[arg-type]
            return RecordEntry(path, Hash(self.hash_algorithm, digest), size)
        return super().write_to_fs(scheme, path, stream, is_executable)

    def write_script(self, name: str, module: str, attr: str, section: Any) -> RecordEntry:
        target = posixpath.normpath(posixpath.join(self.scheme_dict["scripts"], name))
        if target not in self.skip:
            return super().write_script(name, module, attr, section)
        script_name, data = Script(name, module, attr, section).generate(self.interpreter, self.script_kind)
        return self.write_to_fs("scripts", script_name, io.BytesIO(data), is_executable=True)

    def finalize_installation(self, scheme: Any, record_file_path: str, records: Iterable[Any]) -> None:
        self.deferred = (scheme, record_file_path, list(records))

    def write_record(self, extra: Sequence[Tuple[str, RecordEntry]]) -> None:
        if self.deferred is None:
            raise InstallError("{}: pypa/installer did not finish the wheel".format(self.wheel))
        scheme, record_file_path, records = self.deferred
        super().finalize_installation(scheme, record_file_path, records + list(extra))  # type: ignore[arg-type]


class _Unpacked:
    """A wheel written to the venv but for its RECORD, and the futures of its modules' compilation."""

    def __init__(
        self, destination: _Destination, modules: List[Tuple[str, str]], futures: List[Future[List[bool]]]
    ) -> None:
        self.destination = destination
        self.modules = modules
        self.futures = futures
        self.records = destination.deferred[2] if destination.deferred else []

    def finish(self) -> int:
        """Wait for the modules to compile, then write RECORD with their .pyc files; return how many compiled."""
        import importlib.util

        done = [ok for future in self.futures for ok in future.result()]
        extra = [
            (scheme, RecordEntry(importlib.util.cache_from_source(path), None, None))
            for (scheme, path), ok in zip(self.modules, done)
            if ok
        ]
        self.destination.write_record(extra)
        return len(extra)


class _Discard:
    """A sink for the bytes of a file another wheel writes (only their hash is needed)."""

    def write(self, data: bytes) -> int:
        return len(data)


def _unpack(
    job: WheelJob, venv: Venv, compiler: Optional[Compiler], stop: threading.Event, skip: Set[str]
) -> _Unpacked:
    destination = _Destination(venv_scheme(venv, job.name), str(venv.python), job.path.name, stop, skip)
    try:
        with WheelFile.open(job.path) as source:
            install_wheel(source, destination, dict(job.metadata))
    except NetbundleError:
        raise
    except FileExistsError as exc:
        raise InstallError(
            "{} would overwrite a file another wheel installed: {}".format(
                job.path.name, exc.filename or exc
            ),
            hint="two locked distributions ship the same file; install with the pip engine (it overwrites)",
        ) from None
    except (InstallerError, OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise InstallError("cannot install {}: {}".format(job.path.name, exc)) from None
    records = destination.deferred[2] if destination.deferred else []
    modules = [
        (s, r.path) for s, r in records if job.compile and s in _LIB_SCHEMES and r.path.endswith(".py")
    ]
    futures: List[Future[List[bool]]] = []
    if compiler is not None and modules:
        futures = compiler.submit([posixpath.join(destination.scheme_dict[s], p) for s, p in modules])
    return _Unpacked(destination, modules, futures)


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
    report = install_wheels(jobs + ([pip] if pip is not None else []), venv, env, host.marker_environment)
    started = time.monotonic()
    problems = check_consistency(venv, host)
    report = EngineReport(report.wheels, report.files, report.compiled, report.unpack_seconds,
                          report.compile_wait_seconds, time.monotonic() - started)  # fmt: skip
    log.write(report.render() + "\n")
    log.flush()
    if problems:
        log.write("".join(p + "\n" for p in problems))
        raise InstallError(
            "the dependency check failed for bundle {}: {}".format(bundle.manifest.bundle_id, problems[0])
            + (" (and {} more)".format(len(problems) - 1) if len(problems) > 1 else ""),
        )
    return venv
