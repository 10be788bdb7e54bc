"""Running pip inside a generation's venv: argv and environment are pure functions; :func:`run` executes.

pip runs offline and config-free:

- ``--isolated`` ignores ``PIP_*`` variables and the user's config; :func:`scrubbed_env` also drops every
  ``PIP_*`` variable and sets ``PIP_CONFIG_FILE`` to the null device, which makes pip skip *every* config file
  (global and site ones included, which ``--isolated`` alone still reads), so no host ``pip.conf`` can add an
  index, a find-links directory, a ``target`` or ``no-binary``;
- ``--no-index --find-links DIR``: the bundle's wheels are the only candidates;
- ``--require-hashes --only-binary=:all:``: exactly the signed files, never a build.

Dependencies are NOT disabled (no ``--no-deps``): the locks are complete, so pip's resolver only confirms that;
if a wheel on this host asks for a dependency the builder's marker evaluation left out, pip fails in
``--require-hashes`` mode before anything is switched, instead of installing an environment ``pip check`` would
reject afterwards.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass

from ..errors import InstallError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Callable, Dict, List, Mapping, Optional, Sequence

#: Variables dropped besides every ``PIP_*``: they would change which Python code pip runs or where it installs.
_DROPPED = (
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONSTARTUP",
    "PYTHONUSERBASE",
    "VIRTUAL_ENV",
    "__PYVENV_LAUNCHER__",
)
TAIL_LINES = 15


def pip_install_argv(
    python: str,
    find_links: Sequence[str],
    requirement_files: Sequence[str],
    *,
    upgrade: bool = False,
    compile_bytecode: bool = True,
) -> List[str]:
    """The offline, hash-checked ``pip install`` command line.

    >>> pip_install_argv("/v/bin/python", ["/b/wheels"], ["/b/req-main.txt"])[:4]
    ['/v/bin/python', '-I', '-m', 'pip']
    """
    argv = [python, "-I", "-m", "pip", "install", "--isolated", "--no-index"]
    for directory in find_links:
        argv += ["--find-links", directory]
    argv += [
        "--require-hashes",
        "--only-binary=:all:",
        "--no-input",
        "--disable-pip-version-check",
        "--no-cache-dir",
        "--progress-bar=off",
    ]
    if upgrade:
        argv.append("--upgrade")
    if not compile_bytecode:
        argv.append("--no-compile")
    for path in requirement_files:
        argv += ["-r", path]
    return argv


def pip_check_argv(python: str) -> List[str]:
    """``pip check``: every installed distribution's requirements are met."""
    return [python, "-I", "-m", "pip", "check", "--isolated", "--no-input", "--disable-pip-version-check"]


def isolated_env(environ: Mapping[str, str]) -> Dict[str, str]:
    """A copy of ``environ`` in which no pip configuration, user site or foreign Python path can act (the one
    scrubber: pip's runs here, the rehearsal's steps and smoke commands)."""
    env = {
        key: value
        for key, value in environ.items()
        if not key.upper().startswith("PIP_") and key not in _DROPPED
    }
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PYTHONNOUSERSITE"] = "1"
    return env


def scrubbed_env(environ: Mapping[str, str]) -> Dict[str, str]:
    """:func:`isolated_env` for pip: also no bytecode written by the interpreter running pip itself."""
    env = isolated_env(environ)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


@dataclass(frozen=True)
class PipRun:
    """A finished pip command: its argv, exit status and combined output."""

    argv: List[str]
    returncode: int
    output: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def tail(self, lines: int = TAIL_LINES) -> str:
        """The last lines of the output, for an error message."""
        return "\n".join(self.output.rstrip().splitlines()[-lines:])


def run(
    argv: Sequence[str], env: Mapping[str, str], log: Optional[IO[str]] = None, keep_fds: Sequence[int] = ()
) -> PipRun:
    """Run one pip command, streaming its output into ``log`` as it comes; never raises for a non-zero exit.

    Streaming keeps the log useful when the installer is killed mid-run. pip runs in its own session (its own
    process group) with a parent-death signal: if the installer dies, even by ``kill -9``, the kernel kills pip
    (Linux, :func:`parent_death_setup`). An interrupt (KeyboardInterrupt, or the SIGTERM handler of the install)
    kills pip's whole process group before propagating. ``keep_fds`` stay open in pip (the prefix lock: it is then
    held until pip is gone too).
    """
    if log is not None:
        log.write("$ " + " ".join(argv) + "\n")
        log.flush()
    return start(argv, env, keep_fds).wait(log)


def start(argv: Sequence[str], env: Mapping[str, str], keep_fds: Sequence[int] = ()) -> Started:
    """Start one pip command like :func:`run` does and return at once; :meth:`Started.wait` collects it.

    Start it before any thread of the installer runs (the parent-death setup runs between fork and exec).
    """
    try:
        process = subprocess.Popen(
            list(argv),
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            universal_newlines=True,
            start_new_session=True,
            pass_fds=tuple(keep_fds),
            preexec_fn=parent_death_setup(),  # noqa: PLW1509  # started before any installer thread; one prctl call
        )
    except OSError as exc:
        raise InstallError("cannot run {}: {}".format(argv[0], exc)) from None
    return Started(list(argv), process)


class Started:
    """A running pip command (:func:`start`): :meth:`wait` for its result, or :meth:`kill` it."""

    def __init__(self, argv: List[str], process: subprocess.Popen[str]) -> None:
        self.argv, self.process = argv, process

    def wait(self, log: Optional[IO[str]] = None) -> PipRun:
        """Copy pip's output into ``log`` as it comes and wait for its exit; an interrupt kills pip first."""
        lines = []  # type: List[str]
        try:
            for line in self.process.stdout or ():
                lines.append(line)
                if log is not None:
                    log.write(line)
                    log.flush()
            self.process.wait()
        except BaseException:
            self.kill()  # before any wait: the interrupted pip must not keep the installer waiting
            raise
        finally:
            if self.process.stdout is not None:
                self.process.stdout.close()
        return PipRun(self.argv, self.process.returncode, "".join(lines))

    def kill(self) -> None:
        """Kill pip's whole process group and reap it (the caller is failing; pip's output is dropped)."""
        _kill_group(self.process)
        self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


#: prctl(2) option: the signal the kernel sends this process when its parent dies.
PR_SET_PDEATHSIG = 1


def parent_death_setup() -> Optional[Callable[[], None]]:
    """A ``preexec_fn`` that makes the child get SIGKILL when the installer dies (Linux), else None.

    libc's ``prctl`` is looked up here, before the fork, so the child only makes the call. If the installer died
    between the fork and the call, the child exits at once instead of running orphaned.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (ImportError, OSError, AttributeError):
        return None
    parent = os.getpid()

    def setup() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)

    return setup


def _kill_group(process: subprocess.Popen[str]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)  # pip and anything it started (its own session)
    except OSError:
        process.kill()
