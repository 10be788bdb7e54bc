"""The installer's worker processes: the venv's interpreter running :mod:`.unpacker`, fed from one queue.

Both engines use them: the installer engine sends whole wheels (:class:`.unpacker.Job`), the pip engine the modules
pip installed with ``--no-compile`` (:class:`.unpacker.CompileJob`). A worker is the venv's own interpreter, so each
``.pyc`` is written by the interpreter that will import it; each has its own GIL. Plain subprocesses rather than
``multiprocessing``: no fork of a threaded process, no re-import of the zipapp's ``__main__``, and the same
behaviour on every Python from 3.9 on. One feeding thread per worker takes the next job from the queue when its
worker has answered, so a busy worker never holds up the others.
"""

from __future__ import annotations

import contextlib
import json
import queue
import subprocess
import threading

from ..errors import InstallError, NetbundleError
from .unpacker import BOOT, ERRORS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

    from .unpacker import CompileJob, Job

    AnyJob = Union[Job, CompileJob]


class WorkerPool:
    """``count`` worker processes fed from one queue; the first failure stops them all."""

    def __init__(
        self, python: str, env: Mapping[str, str], count: int, stderr: Optional[IO[str]] = None
    ) -> None:
        self.python = python
        self.env = dict(env)
        self.count = count
        self.stderr = stderr
        self.failures: List[NetbundleError] = []
        self.replies: Dict[int, Dict[str, Any]] = {}
        self.lock = threading.Lock()
        self.processes: List[subprocess.Popen[str]] = []

    def run(self, jobs: Sequence[AnyJob]) -> List[Dict[str, Any]]:
        """Run every job; return the workers' answers in the order of ``jobs``.

        :raises InstallError: the first job that failed (its own error class and hint), or a worker that died.
        """
        todo: queue.Queue[Tuple[int, AnyJob]] = queue.Queue()
        for item in enumerate(jobs):
            todo.put(item)
        try:
            # every worker starts before the first wheel lands: none sees a .pth file a wheel installs
            self.processes = [self._start() for _ in range(self.count)]
            threads = [
                threading.Thread(target=self._feed, args=(process, todo), daemon=True)
                for process in self.processes
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        except BaseException:  # Ctrl-C included: no worker outlives the install
            self._stop(kill=True)
            raise
        self._stop(kill=bool(self.failures))
        if self.failures:
            raise self.failures[0]
        return [self.replies[number] for number in range(len(jobs))]

    def _start(self) -> subprocess.Popen[str]:
        try:
            return subprocess.Popen(
                [self.python, "-I", "-c", BOOT, *import_roots()],
                env=self.env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self.stderr,
                universal_newlines=True,
            )
        except OSError as exc:
            raise InstallError("cannot start the unpacking worker {}: {}".format(self.python, exc)) from None

    def _feed(self, process: subprocess.Popen[str], todo: queue.Queue[Tuple[int, AnyJob]]) -> None:
        while not self.failures:
            try:
                number, job = todo.get_nowait()
            except queue.Empty:
                return
            try:
                reply = _ask(process, job)
            except (OSError, ValueError) as exc:
                self._fail(job.failure(exc))
                return
            if "error" in reply:
                self._fail(_error(reply["error"]))
                return
            with self.lock:
                self.replies[number] = reply

    def _fail(self, error: NetbundleError) -> None:
        with self.lock:
            if not self.failures:
                self.failures.append(error)
                for process in self.processes:  # the others stop at once: nothing more is worth doing
                    process.kill()

    def _stop(self, kill: bool) -> None:
        for process in self.processes:
            if kill:
                process.kill()
            for stream in (process.stdin, process.stdout):
                if stream is not None:
                    with contextlib.suppress(OSError):  # a killed worker's pipe: nothing left to flush
                        stream.close()
            process.wait()


def import_roots() -> List[str]:
    """Where the workers import ``netbundle`` and pypa/installer from: inside the pyz one directory
    (``netbundle.pyz/site-packages``), in a source checkout the tree and the virtual environment."""
    import pathlib

    import installer

    packages = (pathlib.Path(__file__).parents[1], pathlib.Path(installer.__file__).parent)
    return list(dict.fromkeys(str(package.absolute().parent) for package in packages))


def _ask(process: subprocess.Popen[str], job: AnyJob) -> Dict[str, Any]:
    if process.stdin is None or process.stdout is None:
        raise OSError("has no pipes")
    try:
        process.stdin.write(job.to_line() + "\n")
        process.stdin.flush()
    except BrokenPipeError:
        raise OSError("exited with status {}".format(process.wait())) from None
    line = process.stdout.readline()
    if not line:
        raise OSError("exited with status {}".format(process.wait()))
    reply = json.loads(line)
    if not isinstance(reply, dict) or not job.accepts(reply):
        raise ValueError("answered {!r}".format(line[:80]))
    return reply


def _error(data: Mapping[str, Any]) -> NetbundleError:
    kind = ERRORS.get(str(data.get("type")), InstallError)
    hint = data.get("hint")
    return kind(str(data.get("message")), hint=str(hint) if hint is not None else None)
