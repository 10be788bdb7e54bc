"""The installer's worker process: unpack whole wheels with pypa/installer and byte-compile their modules, or
byte-compile modules pip installed.

:mod:`.engine` starts one worker per core with the venv's own interpreter (``python -I -c BOOT <root>``, ``root``
being where this package is imported from: the pyz, or a source tree), so every ``.pyc`` is written by the
interpreter that will import it, and each worker has its own GIL: unpacking is mostly Python (zip entries,
hashing, RECORD rows), and threads in one process spent more time handing the GIL over than working.

The protocol is JSON lines (:class:`.workers.WorkerPool` is the other end): one job per line on the worker's stdin,
a :class:`Job` (a wheel) or a :class:`CompileJob` (modules pip installed with ``--no-compile``); the worker answers
each with one line, ``{"files": N, "compiled": M}``, ``{"compiled": [true, false, ...]}`` or
``{"error": {"type": ..., "message": ..., "hint": ...}}``.
A job's wheel is installed whole before its answer is written: every path checked (:mod:`.wheelpaths`) before it is
written, the files other wheels overwrite later only hashed (``skip``), then its modules compiled as pip compiles
them (``py_compile``, the default invalidation mode; a module that does not compile is skipped, as pip skips it),
then RECORD written with the ``.pyc`` rows, as pip's lists them.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import pathlib
import posixpath
import py_compile
import sys
import warnings
import zipfile
from dataclasses import dataclass

from installer import install as install_wheel
from installer.destinations import SchemeDictionaryDestination
from installer.exceptions import InstallerError
from installer.records import Hash, RecordEntry
from installer.scripts import Script
from installer.sources import WheelFile
from installer.utils import copyfileobj_with_hashing

from ..errors import InstallError, NetbundleError, UnsafeWheelPathError
from .wheelpaths import check_scheme_path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Any, BinaryIO, Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple, Union

#: What the worker runs: netbundle's import roots (its arguments) first, then serve jobs on stdin/stdout.
BOOT = "import sys; sys.path[:0] = sys.argv[1:]; from netbundle.runtime.unpacker import main; main()"
LIB_SCHEMES = ("purelib", "platlib")
#: The error classes a worker may report by name (anything else arrives as InstallError).
ERRORS = {"InstallError": InstallError, "UnsafeWheelPathError": UnsafeWheelPathError}


@dataclass(frozen=True)
class Job:
    """One wheel for a worker: where it is, the venv scheme, what to leave to later wheels, whether to compile."""

    wheel: str
    scheme: Mapping[str, str]
    interpreter: str
    metadata: Mapping[str, str]
    compile: bool
    skip: Sequence[str] = ()

    def to_line(self) -> str:
        return json.dumps(
            {
                "wheel": self.wheel,
                "scheme": dict(self.scheme),
                "interpreter": self.interpreter,
                "metadata": dict(self.metadata),
                "compile": self.compile,
                "skip": sorted(self.skip),
            }
        )

    def accepts(self, reply: Mapping[str, Any]) -> bool:
        """Whether ``reply`` is a well-formed answer to this job (an error is one too)."""
        return "error" in reply or {"files", "compiled"} <= set(reply)

    def failure(self, problem: Exception) -> InstallError:
        """The error when the worker died or answered nonsense while on this job."""
        return InstallError(
            "the unpacking worker {} (installing {})".format(problem, posixpath.basename(self.wheel))
        )

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Job:
        return cls(
            wheel=data["wheel"],
            scheme=data["scheme"],
            interpreter=data["interpreter"],
            metadata=data["metadata"],
            compile=bool(data["compile"]),
            skip=tuple(data["skip"]),
        )


@dataclass(frozen=True)
class CompileJob:
    """Modules to byte-compile as pip does (what ``pip install --no-compile`` left), by absolute path."""

    paths: Sequence[str]

    def to_line(self) -> str:
        return json.dumps({"modules": list(self.paths)})

    def accepts(self, reply: Mapping[str, Any]) -> bool:
        done = reply.get("compiled")
        return "error" in reply or (isinstance(done, list) and len(done) == len(self.paths))

    def failure(self, problem: Exception) -> InstallError:
        return InstallError("byte-compiling failed: the compiler worker {}".format(problem))


def parse_job(line: str) -> Union[Job, CompileJob]:
    data = json.loads(line)
    return CompileJob(tuple(data["modules"])) if "modules" in data else Job.from_data(data)


def main() -> None:
    """Serve jobs from stdin until it closes; Ctrl-C (sent to the whole process group) ends it quietly."""
    warnings.simplefilter("ignore")  # py_compile's SyntaxWarnings: pip does not show them either
    try:
        serve(sys.stdin, sys.stdout)
    except KeyboardInterrupt:
        sys.exit(130)


def serve(stdin: IO[str], stdout: IO[str]) -> None:
    for line in stdin:
        stdout.write(json.dumps(answer(parse_job(line))) + "\n")
        stdout.flush()


def answer(job: Union[Job, CompileJob]) -> Dict[str, Any]:
    """Run ``job``; the answer line's object (the counts, which modules compiled, or the error to raise again)."""
    if isinstance(job, CompileJob):
        return {"compiled": [compile_module(path) for path in job.paths]}
    try:
        files, compiled = install_job(job)
    except NetbundleError as exc:
        kind = type(exc).__name__ if type(exc).__name__ in ERRORS else "InstallError"
        return {"error": {"type": kind, "message": exc.message, "hint": exc.hint}}
    return {"files": files, "compiled": compiled}


def install_job(job: Job) -> Tuple[int, int]:
    """Install one wheel and compile its modules; return (files in RECORD, modules compiled).

    :raises InstallError: an invalid wheel, or a file another wheel already wrote.
    :raises UnsafeWheelPathError: a path that would leave its scheme directory.
    """
    name = posixpath.basename(job.wheel)
    destination = Destination(job.scheme, job.interpreter, name, set(job.skip))
    try:
        with WheelFile.open(pathlib.Path(job.wheel)) as source:
            install_wheel(source, destination, {k: v.encode("utf-8") for k, v in job.metadata.items()})
    except NetbundleError:
        raise
    except FileExistsError as exc:
        raise InstallError(
            "{} would overwrite a file another wheel installed: {}".format(name, exc.filename or exc),
            hint="two locked distributions ship the same file; install with the pip engine (it overwrites)",
        ) from None
    except (InstallerError, OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise InstallError("cannot install {}: {}".format(name, exc)) from None
    records = destination.records()
    modules = [(s, r.path) for s, r in records if job.compile and s in LIB_SCHEMES and r.path.endswith(".py")]
    pycs = [
        (scheme, RecordEntry(importlib.util.cache_from_source(path), None, None))
        for scheme, path in modules
        if compile_module(posixpath.join(job.scheme[scheme], path))
    ]
    try:
        destination.write_record(pycs)
    except OSError as exc:
        raise InstallError("cannot write the RECORD of {}: {}".format(name, exc)) from None
    return len(records) + len(pycs), len(pycs)  # pypa/installer's records hold RECORD's own row


def compile_module(path: str) -> bool:
    """Compile one module as pip does; False when it does not compile (a template, a file for another Python)."""
    try:
        py_compile.compile(path, doraise=True)
    except Exception:  # noqa: BLE001 (pip skips whatever does not compile, whatever the reason)
        return False
    return True


class Destination(SchemeDictionaryDestination):
    """pypa/installer's destination with every path checked, shared files only hashed, RECORD written last."""

    def __init__(self, scheme: Mapping[str, str], interpreter: str, wheel: str, skip: Set[str]) -> None:
        super().__init__(dict(scheme), interpreter=interpreter, script_kind="posix")
        self.wheel = wheel
        self.skip = skip
        self.deferred: Optional[Tuple[str, str, List[Tuple[str, RecordEntry]]]] = None
        #: the directories this wheel's files went to: each is made (or found) once
        self.made: Set[str] = set()
        self.umask = _umask()

    def write_to_fs(self, scheme: Any, path: str, stream: BinaryIO, is_executable: bool) -> RecordEntry:
        """pypa/installer's write, with fewer system calls: no existence checks (``O_EXCL`` refuses an existing
        file), each directory made once per worker, the executable mode set on the open file."""
        target = check_scheme_path(self.scheme_dict, scheme, path, self.wheel)
        if (
            posixpath.normpath(target) in self.skip
        ):  # a wheel installed later writes it: hash only, for RECORD
            digest, size = copyfileobj_with_hashing(stream, _Discard(), self.hash_algorithm)  # type: ignore[arg-type]
            return RecordEntry(path, Hash(self.hash_algorithm, digest), size)
        parent = posixpath.dirname(target)
        if parent not in self.made:
            os.makedirs(parent, exist_ok=True)  # noqa: PTH103 (str paths throughout)
            self.made.add(parent)
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        with open(descriptor, "wb") as sink:  # noqa: PTH123 (a descriptor)
            if is_executable:  # what pypa/installer's make_file_executable sets
                os.fchmod(descriptor, 0o777 & ~self.umask | 0o111)
            digest, size = copyfileobj_with_hashing(stream, sink, self.hash_algorithm)
        return RecordEntry(path, Hash(self.hash_algorithm, digest), size)

    def write_script(self, name: str, module: str, attr: str, section: Any) -> RecordEntry:
        target = posixpath.normpath(posixpath.join(self.scheme_dict["scripts"], name))
        if target not in self.skip:
            return super().write_script(name, module, attr, section)
        script_name, data = Script(name, module, attr, section).generate(self.interpreter, self.script_kind)
        return self.write_to_fs("scripts", script_name, io.BytesIO(data), is_executable=True)

    def finalize_installation(self, scheme: Any, record_file_path: str, records: Iterable[Any]) -> None:
        self.deferred = (scheme, record_file_path, list(records))

    def records(self) -> List[Tuple[str, RecordEntry]]:
        """The RECORD rows pypa/installer collected (RECORD's own row among them), without the ``.pyc`` files."""
        return self._finished()[2]

    def write_record(self, extra: Sequence[Tuple[str, RecordEntry]]) -> None:
        scheme, record_file_path, records = self._finished()
        super().finalize_installation(scheme, record_file_path, records + list(extra))  # type: ignore[arg-type]

    def _finished(self) -> Tuple[str, str, List[Tuple[str, RecordEntry]]]:
        if self.deferred is None:
            raise InstallError("{}: pypa/installer did not finish the wheel".format(self.wheel))
        return self.deferred


def _umask() -> int:
    """The process's umask (reading it means setting it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class _Discard:
    """A sink for the bytes of a file another wheel writes (only their hash is needed)."""

    def write(self, data: bytes) -> int:
        return len(data)
