"""Byte-compiling installed modules on every core, while the wheels are still being unpacked.

:class:`Compiler` starts one worker per core: the venv's own interpreter (``python -I -c WORKER``), so each
``.pyc`` is written by the interpreter that will import it, with its magic number and cache tag. Batches of paths
go to the workers as JSON lines over their stdin; each answers with one JSON line saying which files compiled. The
workers share one queue, so a busy worker never holds up the others, and a caller can submit a wheel's modules
the moment that wheel is unpacked. Compilation is what pip does (``py_compile`` with the default invalidation
mode, so ``SOURCE_DATE_EPOCH`` gives checked-hash pycs): a module that does not compile (a template, a file for
another Python) is skipped silently, like pip skips it.

Plain subprocesses rather than ``multiprocessing``: no fork of a threaded process, no re-import of the zipapp's
``__main__``, and the same behaviour on every Python from 3.9 on.
"""

from __future__ import annotations

import contextlib
import csv
import importlib.util
import json
import os
import pathlib
import queue
import subprocess
import threading
from concurrent.futures import Future

from ..errors import InstallError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Dict, List, Mapping, Optional, Sequence, Tuple

#: The worker's program: read a JSON list of paths per line, compile each, answer a JSON list of booleans.
WORKER = r"""
import json, py_compile, sys, warnings
warnings.simplefilter("ignore")
for line in sys.stdin:
    done = []
    for path in json.loads(line):
        try:
            py_compile.compile(path, doraise=True)
            done.append(True)
        except Exception:
            done.append(False)
    sys.stdout.write(json.dumps(done) + "\n")
    sys.stdout.flush()
"""
#: Paths per message: small enough to balance the load, large enough that the pipe round trip does not matter.
BATCH = 48


def core_count() -> int:
    """The cores this process may run on (the affinity mask, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


class Compiler:
    """A pool of compiling workers; :meth:`submit` returns futures, :meth:`close` stops the workers."""

    def __init__(self, python: str, env: Mapping[str, str], workers: Optional[int] = None) -> None:
        self._queue: queue.Queue[Optional[Tuple[List[str], Future[List[bool]]]]] = queue.Queue()
        self._processes: List[subprocess.Popen[str]] = []
        self._threads: List[threading.Thread] = []
        for _ in range(workers or core_count()):
            process = _start(python, env)
            self._processes.append(process)
            thread = threading.Thread(target=self._serve, args=(process,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def submit(self, paths: Sequence[str]) -> List[Future[List[bool]]]:
        """Queue ``paths`` for compiling; each future answers, for its batch, which paths compiled."""
        futures: List[Future[List[bool]]] = []
        for start in range(0, len(paths), BATCH):
            future: Future[List[bool]] = Future()
            self._queue.put((list(paths[start : start + BATCH]), future))
            futures.append(future)
        return futures

    def close(self, kill: bool = False) -> None:
        """Stop the workers: after the queued work (default), or at once (``kill``, after an error)."""
        if kill:
            for process in self._processes:
                process.kill()
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join()
        for process in self._processes:
            _close(process)

    def _serve(self, process: subprocess.Popen[str]) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            paths, future = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(_ask(process, paths))
            except (OSError, ValueError) as exc:
                future.set_exception(
                    InstallError("byte-compiling failed: the compiler worker {}".format(exc))
                )


def _start(python: str, env: Mapping[str, str]) -> subprocess.Popen[str]:
    try:
        return subprocess.Popen(
            [python, "-I", "-c", WORKER],
            env=dict(env),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            universal_newlines=True,
        )
    except OSError as exc:
        raise InstallError("cannot start the byte-compiler {}: {}".format(python, exc)) from None


def _ask(process: subprocess.Popen[str], paths: List[str]) -> List[bool]:
    stdin, stdout = _pipes(process)
    stdin.write(json.dumps(paths) + "\n")
    stdin.flush()
    answer = stdout.readline()
    if not answer:
        raise OSError("exited with status {}".format(process.poll()))
    done = json.loads(answer)
    if not isinstance(done, list) or len(done) != len(paths):
        raise ValueError("answered {!r}".format(answer[:80]))
    return [bool(ok) for ok in done]


def _pipes(process: subprocess.Popen[str]) -> Tuple[IO[str], IO[str]]:
    if process.stdin is None or process.stdout is None:
        raise OSError("has no pipes")
    return process.stdin, process.stdout


def _close(process: subprocess.Popen[str]) -> None:
    for stream in (process.stdin, process.stdout):
        if stream is not None:
            with contextlib.suppress(OSError):  # a killed worker's pipe: nothing left to flush
                stream.close()
    process.wait()


def compile_pip_installed(site_dirs: Sequence[str], python: str, env: Mapping[str, str]) -> int:
    """Byte-compile, on every core, what ``pip install --no-compile`` installed into ``site_dirs``; return how
    many modules compiled.

    The modules are those listed in the RECORD of each distribution whose ``INSTALLER`` is ``pip`` (the bundle's
    own pip wheel, installed by pypa/installer, stays uncompiled as before). Each compiled module's ``.pyc`` is
    added to its RECORD as pip adds it when it compiles (``path,,``), so the result is the same as pip's own.
    """
    records = [record for site in dict.fromkeys(site_dirs) for record in _pip_records(site)]
    modules = [(record, path) for record in records for path in _record_modules(record)]
    if not modules:
        return 0
    compiler = Compiler(python, env)
    try:
        futures = compiler.submit([str(record.parent.parent / path) for record, path in modules])
        done = [ok for future in futures for ok in future.result()]
    except BaseException:
        compiler.close(kill=True)
        raise
    compiler.close()
    added: Dict[pathlib.Path, List[str]] = {}
    for (record, path), ok in zip(modules, done):
        if ok:
            added.setdefault(record, []).append(importlib.util.cache_from_source(path))
    for record, pycs in added.items():
        with record.open("a", newline="") as stream:
            csv.writer(stream, lineterminator="\n").writerows([pyc, "", ""] for pyc in pycs)
    return sum(len(pycs) for pycs in added.values())


def _pip_records(site: str) -> List[pathlib.Path]:
    found = []
    for info in sorted(pathlib.Path(site).glob("*.dist-info")):
        try:
            if (info / "INSTALLER").read_text().strip() == "pip" and (info / "RECORD").is_file():
                found.append(info / "RECORD")
        except OSError:
            continue
    return found


def _record_modules(record: pathlib.Path) -> List[str]:
    """The ``.py`` files a RECORD lists inside its site-packages directory (not ``../`` paths: scripts, data)."""
    with record.open(newline="") as stream:
        rows = [row for row in csv.reader(stream) if row]
    return [row[0] for row in rows if row[0].endswith(".py") and not row[0].startswith(("../", "/"))]
