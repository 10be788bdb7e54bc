"""The DR rehearsal: install a bundle offline into a scratch prefix, prove it works, write the evidence.

Steps, each timed and recorded: the real ``install`` (verification included, run as a separate installer process),
``pip check``, the import of every top-level module of every installed distribution (one process), and the smoke
commands (the bundle's ``[tool.netbundle.rehearse] smoke``, then ``--smoke``). Every step runs without network:

- ``netns``: inside a new network namespace with no interface but a down loopback (``unshare -n``; ``unshare -r -n``
  for a non-root user where user namespaces are allowed). Nothing in the step can reach a network.
- ``guard``: where namespaces are not allowed, every Python process of the steps starts with a ``sitecustomize``
  that makes socket connects and name lookups fail. pip inside ``install`` is the exception: the installer
  drops ``PYTHONPATH`` from pip's environment on purpose, and that pip runs with ``--no-index`` and only local
  ``--find-links``. Non-Python smoke commands are not guarded. The report says which mode ran.

The report (``rehearsal.json`` and ``rehearsal.md``, written atomically) is evidence for a change record: bundle
id, manifest sha256, signers, target, host, isolation, and each step's command, outcome and duration. The scratch
prefix is removed afterwards unless ``keep``. Rendering and argv building are pure; :func:`rehearse` does the I/O.
"""

from __future__ import annotations

import json
import os
import pathlib
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

from ...errors import InputError, RehearsalError
from ...format.manifest import format_timestamp
from ..pip import isolated_env
from .probes import GUARD_SOURCE, IMPORT_PROBE, IMPORTS_MARKER, SKIP_VARIABLE
from .report import Rehearsal, Step, render_markdown, write_reports

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

NETNS = "netns"
GUARD = "guard"
AUTO = "auto"
STEP_TIMEOUT = 1800
TAIL_LINES = 15


@dataclass(frozen=True)
class RehearsalRequest:
    """What to rehearse and where the report goes (the CLI's ``rehearse`` options)."""

    bundle: str
    groups: Tuple[str, ...] = ()
    target: Optional[str] = None
    smoke: Tuple[str, ...] = ()
    report_dir: str = "."
    isolation: str = AUTO
    keep: bool = False
    trust_files: Tuple[str, ...] = ()
    engine: str = "pip"
    compile_bytecode: bool = True


@dataclass(frozen=True)
class Isolation:
    """How the steps are kept off the network: ``mode`` (netns/guard), the argv prefix, extra environment."""

    mode: str
    prefix: Tuple[str, ...]
    detail: str
    guard_dir: Optional[str] = None


# --- pure: command lines and environments -------------------------------------------------------------------------


def runtime_path() -> str:
    """The sys.path entry holding the ``netbundle`` package (``…/netbundle.pyz/site-packages`` in the pyz)."""
    import netbundle

    return str(pathlib.Path(netbundle.__file__).resolve().parent.parent)


def install_argv(request: RehearsalRequest, prefix: str, python: str) -> List[str]:
    """The installer process of the install step (same Python, same runtime; the receipt is read afterwards)."""
    # absolute: the installer process runs in the scratch directory, not in the operator's
    bundle = str(pathlib.Path(request.bundle).resolve())
    argv = [python, "-s", "-m", "netbundle.runtime", "install", bundle, "--prefix", prefix]
    for group in request.groups:
        argv += ["--group", group]
    if request.target:
        argv += ["--target", request.target]
    for path in request.trust_files:
        argv += ["--trust", str(pathlib.Path(path).resolve())]
    if request.engine != "pip":
        argv += ["--engine", request.engine]
    if not request.compile_bytecode:
        argv.append("--no-compile")
    return argv


def step_env(
    environ: Mapping[str, str],
    isolation: Isolation,
    pythonpath: Sequence[str] = (),
    venv_bin: str = "",
    extra: Optional[Mapping[str, str]] = None,
) -> Dict[str, str]:
    """The environment of a step: no pip configuration, the bundle's ``rehearse.env`` (``extra``; the manifest
    refuses names that could override what follows, and the scrubber drops them anyway), the guard first on
    PYTHONPATH in guard mode, the venv's bin first on PATH for smoke commands."""
    env = isolated_env({**environ, **(extra or {})})
    path = ([isolation.guard_dir] if isolation.guard_dir else []) + list(pythonpath)
    if path:
        env["PYTHONPATH"] = os.pathsep.join(path)
    if venv_bin:
        env["PATH"] = os.pathsep.join([venv_bin, environ.get("PATH", os.defpath)])
        env["VIRTUAL_ENV"] = str(pathlib.Path(venv_bin).parent)
    return env


def netns_prefix(euid: int) -> Tuple[str, ...]:
    """``unshare -n`` as root; a non-root user also needs a user namespace (``-r``) to get a network one."""
    return ("unshare", "-n", "--") if euid == 0 else ("unshare", "-r", "-n", "--")


def smoke_commands(manifest_smoke: Sequence[str], extra: Sequence[str]) -> List[str]:
    """The bundle's smoke commands, then the operator's, each once."""
    return list(dict.fromkeys(list(manifest_smoke) + list(extra)))


def summarize_imports(results: Sequence[Sequence[str]]) -> Tuple[bool, str]:
    """(passed, detail) of the import probe's ``[distribution, module, status, error]`` rows.

    ``optional``: a plugin module (an entry point for another tool) that needs that tool, which is not installed
    (hypothesis's pytest plugin without pytest). ``skipped``: matched ``skip-imports``, or belongs only to an
    extra that is not installed (black's ``blackd``). Both are listed, not failures. Any other import error fails.
    """
    failed = ["{} ({}): {}".format(m, d, e) for d, m, status, e in results if status == "error"]
    optional = ["{} ({}): {}".format(m, d, e) for d, m, status, e in results if status == "optional"]
    skipped = ["{} ({}): {}".format(m, d, e) for d, m, status, e in results if status == "skipped"]
    imported = sum(1 for row in results if row[2] == "ok")
    detail = "; ".join(failed) if failed else "{} modules imported".format(imported)
    if optional:
        detail += "; plugins for tools not installed: " + "; ".join(optional)
    if skipped:
        detail += "; skipped: " + "; ".join(skipped)
    return not failed, detail


def skipped_imports(results: Sequence[Sequence[str]]) -> Tuple[Tuple[str, str], ...]:
    """``(what, why)`` of every module and console script the probe skipped (for the report)."""
    return tuple(("{} ({})".format(m, d), e) for d, m, status, e in results if status == "skipped")


# --- I/O ----------------------------------------------------------------------------------------------------------


def choose_isolation(wanted: str, scratch: str) -> Isolation:
    """Probe ``unshare``; take netns when it works (or is demanded), else the guard (or fail when demanded).

    :raises RehearsalError: ``netns`` was demanded and does not work here.
    """
    prefix = netns_prefix(os.geteuid())
    if wanted in (AUTO, NETNS):
        works, why = probe_netns(prefix)
        if works:
            return Isolation(
                NETNS, prefix, "network namespace ({}): interfaces {}".format(" ".join(prefix[:-1]), why)
            )
        if wanted == NETNS:
            raise RehearsalError(
                "--isolation netns: {} does not work here ({})".format(" ".join(prefix[:-1]), why),
                hint="run as root or allow user namespaces, or use --isolation guard",
            )
    guard_dir = pathlib.Path(scratch) / "guard"
    guard_dir.mkdir(mode=0o700)
    (guard_dir / "sitecustomize.py").write_text(GUARD_SOURCE)
    return Isolation(
        GUARD, (), "socket guard (sitecustomize) in every Python process of the steps", str(guard_dir)
    )


def probe_netns(prefix: Tuple[str, ...]) -> Tuple[bool, str]:
    if shutil.which(prefix[0]) is None:
        return False, "unshare is not installed"
    probe = "import socket; print(','.join(n for _, n in socket.if_nameindex()))"
    try:
        done = subprocess.run(
            [*prefix, sys.executable, "-I", "-c", probe],
            check=False,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            universal_newlines=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, str(exc)
    output = done.stdout.strip()
    if done.returncode != 0:
        return False, (output.splitlines() or ["exit {}".format(done.returncode)])[-1]
    return output == "lo", output or "none"


def run_step(
    name: str, argv: Sequence[str], env: Mapping[str, str], isolation: Isolation, cwd: str
) -> Tuple[Step, str]:
    """Run one step under the isolation; return its record and its full output."""
    command = list(isolation.prefix) + list(argv)
    started = time.monotonic()
    try:
        done = subprocess.run(
            command,
            check=False,
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            universal_newlines=True,
            timeout=STEP_TIMEOUT,
        )
        code, output = done.returncode, done.stdout
    except subprocess.TimeoutExpired as exc:
        code, output = -1, "timed out after {} s\n{}".format(STEP_TIMEOUT, exc.output or "")
    except OSError as exc:
        code, output = -1, "cannot run {}: {}".format(command[0], exc)
    seconds = round(time.monotonic() - started, 3)
    tail = "\n".join(output.rstrip().splitlines()[-TAIL_LINES:])
    return Step(name, _shown(argv), code == 0, seconds, code, "" if code == 0 else tail), output


def _shown(argv: Sequence[str]) -> str:
    shown = [a if len(a) < 200 else "<{} lines>".format(a.count("\n") + 1) for a in argv]
    return " ".join(shlex.quote(a) for a in shown)


def rehearse(request: RehearsalRequest, progress: Optional[Callable[[str], None]] = None) -> Rehearsal:
    """Run the rehearsal and write its report; the result says whether every step passed.

    ``progress`` is told each step as it starts (``pip check (2/4)``).

    :raises BundleFormatError: the bundle cannot be read at all. :raises RehearsalError: netns demanded but
        unavailable. :raises InputError: the report directory cannot be written (checked before any step). Step failures do not raise: they are in the result (``exit_code`` 23) and the report.
    """
    from ...format.tar import read_unverified

    unverified = read_unverified(request.bundle)
    check_report_dir(request.report_dir)
    started = time.time()
    scratch = tempfile.mkdtemp(prefix="netbundle-rehearse-")
    try:
        isolation = choose_isolation(request.isolation, scratch)
        say = progress if progress is not None else _quiet
        say("isolation: {}".format(isolation.detail))
        steps, receipt = _run_steps(request, unverified, isolation, scratch, say)
    finally:
        if not request.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    result = _result(request, unverified, receipt, isolation, steps, started, scratch)
    write_reports(request.report_dir, result)
    return result


def check_report_dir(directory: str) -> None:
    """Create the report directory if needed and make sure it is writable, before minutes of work.

    :raises InputError: it cannot be created or written.
    """
    path = pathlib.Path(directory)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError("cannot create the report directory {}: {}".format(directory, exc)) from None
    if not os.access(str(path), os.W_OK | os.X_OK):
        raise InputError(
            "the report directory {} is not writable".format(directory), hint="pass --report DIR"
        )


def _quiet(message: str) -> None:
    """The progress callback of a quiet run."""


def _run_steps(
    request: RehearsalRequest, unverified: Any, isolation: Isolation, scratch: str, say: Callable[[str], None]
) -> Tuple[List[Step], Optional[Any]]:
    from .. import generations as gens

    smoke = smoke_commands(unverified.manifest.smoke, request.smoke)
    total = 3 + len(smoke)
    say("install into the scratch prefix (1/{})".format(total))
    prefix = str(pathlib.Path(scratch) / "prefix")
    argv = install_argv(request, prefix, sys.executable)
    step, _ = run_step("install", argv, step_env(os.environ, isolation, [runtime_path()]), isolation, scratch)
    current = gens.current_generation(gens.open_prefix(prefix)) if step.ok else None
    if current is None:
        return [step], None
    receipt = current.receipt
    python = str(current.path / "bin" / "python")
    # the bundle's rehearsal settings count only when the installed bundle is the one read here
    same = unverified.manifest_sha256 == receipt.manifest_sha256
    manifest = unverified.manifest
    venv_env = step_env(
        os.environ, isolation, venv_bin=str(current.path / "bin"), extra=manifest.rehearse_env if same else {}
    )
    import_env = dict(venv_env, **{SKIP_VARIABLE: json.dumps(list(manifest.skip_imports if same else ()))})
    steps = [step]
    say("pip check (2/{})".format(total))
    check, _ = run_step(
        "pip check", [python, "-m", "pip", "check", "--no-input"], venv_env, isolation, scratch
    )
    steps.append(check)
    say("import every top-level module (3/{})".format(total))
    steps.append(_import_step(python, current, receipt, import_env, isolation, scratch))
    if not same:  # not the bundle that was read: only --smoke
        smoke = smoke_commands((), request.smoke)
    for number, command in enumerate(smoke, start=4):
        say("smoke: {} ({}/{})".format(command, number, total))
        try:
            argv = shlex.split(command)
        except ValueError as exc:
            steps.append(Step("smoke: " + command, command, False, 0.0, -1, "cannot split: {}".format(exc)))
            continue
        steps.append(run_step("smoke: " + command, argv, venv_env, isolation, scratch)[0])
    return steps, receipt


def _import_step(
    python: str, current: Any, receipt: Any, env: Mapping[str, str], isolation: Isolation, scratch: str
) -> Step:
    sites = [str(current.path / p) for p in receipt.site_packages]
    step, output = run_step(
        "import top-level modules", [python, "-c", IMPORT_PROBE, *sites], env, isolation, scratch
    )
    lines = [line for line in output.splitlines() if line.startswith(IMPORTS_MARKER)]
    if not lines:
        return step
    results = json.loads(lines[-1][len(IMPORTS_MARKER) :])
    passed, detail = summarize_imports(results)
    return Step(
        step.name,
        step.command,
        step.ok and passed,
        step.seconds,
        step.exit_code,
        detail,
        skipped_imports(results),
    )


def _result(
    request: RehearsalRequest,
    unverified: Any,
    receipt: Optional[Any],
    isolation: Isolation,
    steps: Sequence[Step],
    started: float,
    scratch: str,
) -> Rehearsal:
    from ... import __version__
    from ..host import HostInfo

    manifest = unverified.manifest
    bundle = {
        "path": str(pathlib.Path(request.bundle).resolve()),
        "bundle_id": manifest.bundle_id,
        "project": manifest.project_name,
        "version": manifest.project_version,
        "build_time": manifest.build_time,
        "manifest_sha256": unverified.manifest_sha256,
        "verified": receipt is not None and receipt.manifest_sha256 == unverified.manifest_sha256,
        "signers": list(receipt.signers) if receipt else [],
    }
    return Rehearsal(
        bundle=bundle,
        target=receipt.target if receipt else (request.target or ""),
        groups=tuple(receipt.groups) if receipt else ("main", *request.groups),
        host={"hostname": _hostname(), "python": sys.version.split()[0], "label": HostInfo.current().label},
        netbundle_version=__version__,
        isolation=isolation.mode,
        isolation_detail=isolation.detail,
        started=format_timestamp(started),
        seconds=round(time.time() - started, 3),
        scratch=scratch,
        kept=request.keep,
        steps=tuple(steps),
        report_dir=str(pathlib.Path(request.report_dir).resolve()),
    )


def _hostname() -> str:
    import socket

    return socket.gethostname()


__all__ = ["Rehearsal", "RehearsalRequest", "Step", "rehearse", "render_markdown"]
