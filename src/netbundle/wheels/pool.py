"""PEP 517 builds in worker processes, so that the builds of one run overlap each other and the downloads.

Why processes and not threads: pypa/build reports backend warnings through Python's process-global ``warnings``
machinery (``catch_warnings`` is not thread-safe), and each build is mostly subprocesses the caller only waits for.
Why not :mod:`multiprocessing`: ``spawn`` and ``forkserver`` run the caller's ``__main__`` again in the worker (a
script without a main guard would start over), and ``fork`` is unsafe while download threads run. So each job is
one ``python`` child of this interpreter: the job (a module-level function and its arguments) goes in pickled on
stdin, its outcome comes back pickled in a file (the build's own subprocesses may write to stdout).

What a job logs comes back with its outcome and is logged here under the same logger names and levels; a
:class:`NetbundleError` comes back as its class, message and hint, so callers see the same errors as in-process.
"""

from __future__ import annotations

import logging
import os
import pickle
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

from netbundle.errors import BuildError, NetbundleError

T = TypeVar("T")
#: where ``netbundle`` is imported from, for the worker (which must import this same copy)
_IMPORT_ROOT = str(Path(__file__).resolve().parents[2])
_BOOT = "import sys; sys.path.insert(0, sys.argv[1]); from netbundle.wheels.pool import _worker; _worker(sys.argv[2])"


@dataclass(frozen=True, slots=True)
class _Outcome(Generic[T]):
    value: T | None = None
    error: tuple[type[NetbundleError], str, str | None] | None = None
    crash: str | None = None  # an unexpected exception's traceback: a bug, re-raised as such
    records: list[tuple[str, int, str]] = field(default_factory=list)


class _Collect(logging.Handler):
    def __init__(self, into: list[tuple[str, int, str]]) -> None:
        super().__init__()
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append((record.name, record.levelno, record.getMessage()))


def _worker(result_path: str) -> None:
    """The child's main: read ``(level, function, args, kwargs)`` from stdin, write the outcome to ``result_path``."""
    level, function, args, kwargs = pickle.load(sys.stdin.buffer)  # noqa: S301 - from our own parent
    records: list[tuple[str, int, str]] = []
    root = logging.getLogger()
    root.handlers[:] = [_Collect(records)]
    root.setLevel(level)
    try:
        outcome: _Outcome[Any] = _Outcome(value=function(*args, **kwargs), records=records)
    except NetbundleError as exc:
        outcome = _Outcome(error=(type(exc), exc.message, exc.hint), records=records)
    except Exception:  # noqa: BLE001 - carried to the parent, which raises it
        outcome = _Outcome(crash=traceback.format_exc(), records=records)
    Path(result_path).write_bytes(pickle.dumps(outcome))


def _run(job: bytes) -> _Outcome[Any]:
    with tempfile.TemporaryDirectory(prefix="netbundle-job-") as tmp:
        result = Path(tmp) / "outcome.pickle"
        done = subprocess.run(
            [sys.executable, "-c", _BOOT, _IMPORT_ROOT, str(result)],
            input=job,
            capture_output=True,
            check=False,
        )
        if not result.exists():
            tail = done.stderr.decode(errors="replace").strip()[-400:]
            raise BuildError(
                f"a build worker ({sys.executable}) exited with {done.returncode} and no result: {tail}",
                hint="run with -v; a killed worker usually means the machine ran out of memory",
            )
        outcome: _Outcome[Any] = pickle.loads(result.read_bytes())  # noqa: S301 - written by our own child
        return outcome


class BuildPool:
    """``submit(function, *args)`` runs a picklable module-level function in a worker; ``result(future)`` waits.

    At most ``workers`` jobs run at once (default: the number of CPUs plus one). Leaving the ``with`` block waits for the
    running jobs and cancels the queued ones.
    """

    def __init__(self, workers: int | None = None) -> None:
        # one more than the CPUs: much of a build is waiting (for pip's downloads into its environment)
        self._workers = workers or (os.cpu_count() or 1) + 1
        self._executor: ThreadPoolExecutor | None = None

    def submit(self, function: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[_Outcome[T]]:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                max_workers=self._workers, thread_name_prefix="netbundle-build"
            )
        job = pickle.dumps((logging.getLogger().getEffectiveLevel(), function, args, kwargs))
        return self._executor.submit(_run, job)

    @staticmethod
    def result(future: Future[_Outcome[T]]) -> T:
        """The job's value; its log records are logged here first, and its error is raised here."""
        outcome = future.result()
        for name, level, message in outcome.records:
            logging.getLogger(name).log(level, "%s", message)
        if outcome.error is not None:
            kind, message, hint = outcome.error
            raise kind(message, hint=hint)
        if outcome.crash is not None:
            raise RuntimeError(f"a build worker failed unexpectedly:\n{outcome.crash}")
        return outcome.value  # type: ignore[return-value]

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
