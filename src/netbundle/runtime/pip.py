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
import subprocess
from dataclasses import dataclass

from ..errors import InstallError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Dict, List, Mapping, Optional, Sequence

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


def scrubbed_env(environ: Mapping[str, str]) -> Dict[str, str]:
    """A copy of ``environ`` in which no pip configuration, user site or foreign Python path can act."""
    env = {
        key: value
        for key, value in environ.items()
        if not key.upper().startswith("PIP_") and key not in _DROPPED
    }
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PYTHONNOUSERSITE"] = "1"
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


def run(argv: Sequence[str], env: Mapping[str, str], log: Optional[IO[str]] = None) -> PipRun:
    """Run one pip command, streaming its output into ``log`` as it comes; never raises for a non-zero exit.

    Streaming keeps the log useful when the installer is killed mid-run. An interrupt (KeyboardInterrupt, or the
    SIGTERM handler of the install) kills pip before propagating, so no pip outlives the installer.
    """
    if log is not None:
        log.write("$ " + " ".join(argv) + "\n")
        log.flush()
    try:
        process = subprocess.Popen(
            list(argv),
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            universal_newlines=True,
        )
    except OSError as exc:
        raise InstallError("cannot run {}: {}".format(argv[0], exc)) from None
    lines = []  # type: List[str]
    try:
        for line in process.stdout or ():
            lines.append(line)
            if log is not None:
                log.write(line)
                log.flush()
        process.wait()
    except BaseException:
        process.kill()  # before any wait: the interrupted pip must not keep the installer waiting
        process.wait()
        raise
    finally:
        if process.stdout is not None:
            process.stdout.close()
    return PipRun(list(argv), process.returncode, "".join(lines))
