"""``install``: a verified bundle becomes a new generation of a prefix, or nothing changes at all.

Steps, all under the prefix lock: clean leftovers of killed runs → verify the bundle into a private staging
directory under the prefix → choose the target → decide against the current generation (downgrade, same bundle)
→ create the generation's venv with the bundle's pip → ``pip install`` the union of the chosen groups' locks →
``pip check`` → write the receipt → switch ``current``. Any failure, KeyboardInterrupt or SIGTERM removes the
partial generation and the staging directory and leaves ``current`` as it was.
"""

from __future__ import annotations

import contextlib
import errno
import os
import pathlib
import shutil
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from typing import cast

from packaging.version import InvalidVersion, Version

from .. import __version__
from ..errors import (
    JSON_FORMAT,
    DowngradeError,
    InstallError,
    NetbundleError,
    OutputError,
    PrefixError,
    UsageError,
)
from ..format.freshness import check_freshness
from ..format.locks import check_bundle_locks, parse_group_lock
from ..format.manifest import format_timestamp
from ..format.tar import verify_bundle
from ..format.wheel import check_install_wheels
from . import generations as gens
from .bytecode import compile_pip_installed, core_count
from .findlinks import target_find_links
from .generations import list_generations, rollback
from .host import HostInfo, choose_target, select_groups
from .ownership import create_log
from .pip import pip_check_argv, pip_install_argv, run, scrubbed_env, start
from .receipt import Receipt, write_receipt
from .venv import create_venv, installed_versions

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

    from ..format.manifest import Manifest, TargetEntry
    from ..format.tar import VerifiedBundle
    from ..format.trust import TrustPolicy
    from .pip import PipRun
    from .venv import Venv

__all__ = ["InstallResult", "install", "list_generations", "render_install", "rollback"]

#: The steps ``progress`` reports: verify, choose, venv, pip install, pip check, switch.
STEPS = 6
PIP_ENGINE = "pip"
INSTALLER_ENGINE = "installer"
ENGINES = (PIP_ENGINE, INSTALLER_ENGINE)
INSTALLED = "installed"
UNCHANGED = "unchanged"
LOGS = "logs"


@dataclass(frozen=True)
class _Options:
    """How to install: the downgrade/force decisions and the engine (with or without bytecode)."""

    allow_downgrade: bool
    force: bool
    engine: str
    compile_bytecode: bool


class _Terminated(BaseException):
    """SIGTERM arrived during an install (raised by the handler so that cleanup runs like for Ctrl-C)."""


@dataclass(frozen=True)
class InstallResult:
    """What an install did: ``status`` is ``installed`` (a new generation is current) or ``unchanged``."""

    status: str
    prefix: pathlib.Path
    generation: gens.Generation
    previous: Optional[int]
    log: Optional[pathlib.Path]
    cleaned: Tuple[str, ...] = ()
    pruned: Tuple[str, ...] = ()

    def to_json(self) -> Dict[str, Any]:
        return {
            "format": JSON_FORMAT,
            "status": self.status,
            "prefix": str(self.prefix),
            "generation": self.generation.to_json(),
            "previous_generation": self.previous,
            "log": str(self.log) if self.log else None,
            "cleaned": list(self.cleaned),
            "pruned": list(self.pruned),
        }

    def render_text(self) -> str:
        return render_install(self)


def render_install(result: InstallResult) -> str:
    """The human summary of :class:`InstallResult`."""
    r = result.generation.receipt
    if result.status == UNCHANGED:
        return "{} {} (bundle {}) is already current in {} as generation {}; nothing to do".format(
            r.project, r.version, r.bundle_id, result.prefix, result.generation.number
        )
    lines = [
        "installed {} {} (bundle {}) as generation {} in {}".format(
            r.project, r.version, r.bundle_id, result.generation.number, result.prefix
        ),
        "target {}, groups {}, {} distributions; signed by {}".format(
            r.target, ", ".join(r.groups), len(r.distributions), ", ".join(r.signers)
        ),
    ]
    if result.previous is not None:
        lines.append(
            "previous generation {} kept (rollback with: rollback --prefix {})".format(
                result.previous, result.prefix
            )
        )
    return "\n".join(lines)


def install(
    bundle_path: Union[str, os.PathLike[str]],
    prefix: Union[str, os.PathLike[str]],
    policy: TrustPolicy,
    groups: Optional[Sequence[str]] = None,
    target: Optional[str] = None,
    allow_downgrade: bool = False,
    force: bool = False,
    progress: Optional[Callable[[str], None]] = None,
    keep: Optional[int] = None,
    allow_expired: bool = False,
    engine: str = PIP_ENGINE,
    compile_bytecode: bool = True,
) -> InstallResult:
    """Verify ``bundle_path`` and install it as the new current generation of ``prefix``.

    :param groups: dependency groups besides ``main`` (always installed).
    :param target: a bundle target name; default: the best one that fits this host.
    :param force: make a new generation even when the same bundle, target and groups are current.
    :param keep: complete generations to keep after the install (default: the prefix's setting, else 5).
    :param engine: ``pip`` (the bundle's pip, the default) or ``installer`` (:mod:`.engine`: pypa/installer in
        parallel, then the same consistency check ``pip check`` makes).
    :param compile_bytecode: byte-compile the installed modules (pip's default); False skips it.
    :raises BundleFormatError, IntegrityError, SignatureError: the bundle failed verification (10-15).
    :raises TargetError: no bundle target fits this host. :raises UsageError: unknown group or target.
    :raises DowngradeError: the bundle is older than the current generation and not ``allow_downgrade``.
    :raises FreshnessError: the bundle expired or is dated in the future, and not ``allow_expired``.
    :raises InstallError: venv, pip or pip check failed, or the run was interrupted.
    :raises PrefixError: the prefix is unusable or locked by another run.
    """
    say = progress or (lambda message: None)
    if engine not in ENGINES:
        raise UsageError(
            "unknown install engine {!r}".format(engine), hint="use one of: " + ", ".join(ENGINES)
        )
    path = pathlib.Path(prefix).absolute()
    step = "verifying {} (1/{})".format(bundle_path, STEPS)
    if not gens.is_prefix(path):
        # a new prefix: nothing of it (.lock, marker, generations/) is made before the bundle verified, so a
        # refused bundle leaves no trace; the staged verification below checks it again under the lock
        gens.check_new_prefix(path)
        say(step)
        verify_bundle(bundle_path, policy)
        step = "staging the verified bundle in the new prefix (1/{})".format(STEPS)
    root = gens.open_prefix(path, create=True)
    with gens.prefix_lock(root) as lock_fd, _sigterm_raises():
        cleaned = tuple(gens.clean_leftovers(root))
        staging = pathlib.Path(tempfile.mkdtemp(prefix=gens.STAGING_PREFIX, dir=str(root)))
        try:
            say(step)
            bundle = verify_bundle(bundle_path, policy, staging)
            check_freshness(bundle.manifest, time.time(), allow_expired)
            options = _Options(allow_downgrade, force, engine, compile_bytecode)
            result = _install_verified(bundle, root, groups, target, options, say, cleaned, lock_fd)
        except (KeyboardInterrupt, _Terminated):
            raise InstallError("install interrupted; {} is unchanged".format(root)) from None
        finally:
            gens.remove_tree(staging)
        if result.status == INSTALLED:
            result = replace(result, pruned=_prune(root, keep))
        return result


def plan_against_current(
    manifest: Manifest,
    target: str,
    groups: Tuple[str, ...],
    current: Optional[Receipt],
    allow_downgrade: bool = False,
    force: bool = False,
) -> str:
    """``installed`` (make a new generation) or ``unchanged`` (the same bundle, target and groups are current).

    :raises PrefixError: the prefix holds another project.
    :raises DowngradeError: the bundle is older (lower version, or the same version built earlier).
    """
    if current is None:
        return INSTALLED
    if current.project != manifest.project_name:
        raise PrefixError(
            "prefix holds {}, not {}".format(current.project, manifest.project_name),
            hint="install each project into its own --prefix",
        )
    same = (current.bundle_id, current.target, current.groups) == (manifest.bundle_id, target, groups)
    if same and not force:
        return UNCHANGED
    older = "" if allow_downgrade else downgrade_reason(manifest, target, current)
    if older:
        raise DowngradeError(
            "bundle {} ({} {}, built {}) is older than the current generation {} ({} {}, built {}): {}".format(
                manifest.bundle_id,
                manifest.project_name,
                manifest.project_version,
                manifest.build_time,
                current.generation,
                current.project,
                current.version,
                current.build_time,
                older,
            ),
            hint="pass --allow-downgrade to install it anyway, or use rollback to return to a kept generation",
        )
    return INSTALLED


def downgrade_reason(manifest: Manifest, target: str, current: Receipt) -> str:
    """Why ``manifest`` (installing ``target``) is older than the ``current`` generation, or ``""``.

    Older: a lower project version (PEP 440); or the same version built earlier; or the same version with a
    package the bundle carries for ``target`` at a lower version than the one installed (a rebuild of the same
    release must not move dependencies backwards).
    """
    try:
        new, old = Version(manifest.project_version), Version(current.version)
    except InvalidVersion:
        new = old = Version("0")  # a receipt from before versions were checked: the rest decides
    if new != old:
        return "a lower project version" if new < old else ""
    # ISO-8601 UTC timestamps of one fixed format compare correctly as strings.
    if manifest.build_time < current.build_time:
        return "the same version, built earlier"
    backwards = _packages_moved_back(manifest, target, current.distributions)
    if backwards:
        return "the same version, with {} moved back".format(", ".join(backwards[:3]))
    return ""


def _packages_moved_back(manifest: Manifest, target: str, installed: Mapping[str, str]) -> List[str]:
    found = []
    for package in sorted(manifest.packages, key=lambda p: p.name):
        have = installed.get(package.name)
        if have is None or not any(target in artifact.targets for artifact in package.artifacts):
            continue
        try:
            if Version(package.version) < Version(have):
                found.append("{} {} -> {}".format(package.name, have, package.version))
        except InvalidVersion:
            continue
    return found


def _install_verified(
    bundle: VerifiedBundle,
    root: pathlib.Path,
    groups: Optional[Sequence[str]],
    wanted: Optional[str],
    options: _Options,
    say: Callable[[str], None],
    cleaned: Tuple[str, ...],
    lock_fd: int,
) -> InstallResult:
    manifest = bundle.manifest
    say("choosing the target for this host (2/{})".format(STEPS))
    host = HostInfo.current()
    target = choose_target(manifest, host, wanted)
    chosen = select_groups(manifest, target, groups)
    check_install_wheels(bundle, target.name)  # every wheel this install can write, before pip or installer
    check_bundle_locks(
        bundle, [target.locks[group] for group in chosen]
    )  # only netbundle's shape reaches pip
    active = gens.current_generation(root)
    plan = plan_against_current(
        manifest,
        target.name,
        chosen,
        active.receipt if active else None,
        options.allow_downgrade,
        options.force,
    )
    if plan == UNCHANGED and active is not None:
        return InstallResult(UNCHANGED, root, active, None, None, cleaned)
    directory = gens.new_generation_dir(root, manifest.bundle_id)
    log_path = _log_path(root, directory.name)
    say("installing target {} groups {} into {}".format(target.name, ", ".join(chosen), directory))
    try:
        with os.fdopen(create_log(log_path), "w") as log:
            if options.engine == INSTALLER_ENGINE:
                receipt = _build_with_engine(bundle, target, chosen, directory, log, host, options, say)
            else:
                receipt = _build_generation(
                    bundle, target, chosen, directory, log, log_path, say, lock_fd, options
                )
        say("switching current to {} (6/{})".format(directory.name, STEPS))
        gens.switch_current(root, directory.name)
    except BaseException as exc:
        if gens.current_name(root) != directory.name:  # a failure after the switch itself keeps the new one
            gens.remove_tree(directory)
        _reraise_as_install_error(exc, log_path)
        raise
    generation = gens.Generation(receipt.generation, directory.name, directory, receipt, True)
    return InstallResult(INSTALLED, root, generation, active.number if active else None, log_path, cleaned)


def _build_generation(
    bundle: VerifiedBundle,
    target: TargetEntry,
    groups: Tuple[str, ...],
    directory: pathlib.Path,
    log: IO[str],
    log_path: pathlib.Path,
    say: Callable[[str], None],
    lock_fd: int,
    options: _Options,
) -> Receipt:
    manifest = bundle.manifest
    pip_wheel = bundle.member_path(manifest.pip_wheel) if manifest.pip_wheel else None
    say("creating the venv (3/{})".format(STEPS))
    venv = create_venv(directory, pip_wheel, python=sys.executable)
    env = scrubbed_env(os.environ)
    # pip compiles on one core: on more, pip only unpacks and the modules are compiled afterwards on all of them
    parallel = options.compile_bytecode and core_count() > 1
    in_pip = options.compile_bytecode and not parallel
    _pip_install(
        bundle, target, groups, str(venv.python), env, log, log_path, say, lock_fd, directory, in_pip
    )
    say("pip check (5/{})".format(STEPS))
    # pip keeps a copy of the lock's descriptor: the prefix stays locked until pip is gone (prefixlock.py)
    if parallel:
        checked = _check_while_compiling(venv, env, log, lock_fd)
    else:
        checked = run(pip_check_argv(str(venv.python)), env, log, keep_fds=(lock_fd,))
    if not checked.ok:
        raise InstallError(
            "pip check failed for bundle {}: {}".format(manifest.bundle_id, _last_error(checked.output)),
            hint="pip's output is in {}".format(log_path),
        )
    return _write_receipt(bundle, target.name, groups, directory, venv)


def _check_while_compiling(venv: Venv, env: Dict[str, str], log: IO[str], lock_fd: int) -> PipRun:
    """``pip check`` runs while pip's modules are byte-compiled on every core: it reads only the metadata, which
    compiling leaves alone (it adds ``.pyc`` files and, at its end, RECORD rows), so the check no longer waits
    for the compile nor leaves a core idle. pip is started before the compiler's threads; its output goes to
    the log after the compile's lines."""
    checking = start(pip_check_argv(str(venv.python)), env, keep_fds=(lock_fd,))
    try:
        sites = [venv.scheme[k] for k in ("purelib", "platlib")]
        log.write("$ netbundle: byte-compiling pip's modules on {} cores\n".format(core_count()))
        log.write("{} modules compiled\n".format(compile_pip_installed(sites, str(venv.python), env)))
    except BaseException:
        checking.kill()
        raise
    log.write("$ {}  (started before the byte-compile)\n".format(" ".join(checking.argv)))
    log.flush()
    return checking.wait(log)


def _build_with_engine(
    bundle: VerifiedBundle,
    target: TargetEntry,
    groups: Tuple[str, ...],
    directory: pathlib.Path,
    log: IO[str],
    host: HostInfo,
    options: _Options,
    say: Callable[[str], None],
) -> Receipt:
    from .engine import run_engine

    say("installing with pypa/installer in parallel (3-5/{})".format(STEPS))
    env = scrubbed_env(os.environ)
    venv = run_engine(bundle, target, groups, directory, host, env, log, options.compile_bytecode)
    return _write_receipt(bundle, target.name, groups, directory, venv)


def _write_receipt(
    bundle: VerifiedBundle, target: str, groups: Tuple[str, ...], directory: pathlib.Path, venv: Venv
) -> Receipt:
    site = tuple(
        dict.fromkeys(os.path.relpath(venv.scheme[k], str(directory)) for k in ("purelib", "platlib"))
    )
    receipt = _receipt(bundle, target, groups, directory, site)
    write_receipt(directory, receipt)
    return receipt


def _pip_install(
    bundle: VerifiedBundle,
    target: TargetEntry,
    groups: Tuple[str, ...],
    python: str,
    env: Dict[str, str],
    log: IO[str],
    log_path: pathlib.Path,
    say: Callable[[str], None],
    lock_fd: int,
    directory: pathlib.Path,
    compile_bytecode: bool,
) -> None:
    """``pip install`` the groups' locks from the target's own files; ``say`` counts the distributions. pip
    inherits the prefix lock's descriptor (``lock_fd``), so the prefix stays locked until pip is gone."""
    lock_paths = [bundle.member_path(target.locks[group]) for group in groups]
    total = len(
        {
            (pin.name, pin.version)
            for path in lock_paths
            for pin in parse_group_lock(path.read_text(encoding="utf-8"))
        }
    )
    say("pip install of {} distributions (4/{})".format(total, STEPS))
    links = [str(target_find_links(bundle, target.name))]
    argv = pip_install_argv(python, links, [str(p) for p in lock_paths], compile_bytecode=compile_bytecode)
    counting = cast("IO[str]", _CountingLog(log, total, say))  # write/flush is all run() uses
    done = run(argv, env, counting, keep_fds=(lock_fd,))
    if not done.ok:
        raise InstallError(
            "pip install of bundle {} (target {}) failed: {}".format(
                bundle.manifest.bundle_id, target.name, _last_error(done.output)
            ),
            hint=_pip_hint(done.output, directory, log_path),
        )


class _CountingLog:
    """The install log, telling ``say`` each distribution pip processes (pip writes one ``Processing`` line per
    distribution file it installs from the find-links directory)."""

    def __init__(self, log: IO[str], total: int, say: Callable[[str], None]) -> None:
        self.log, self.total, self.say, self.seen = log, total, say, 0

    def write(self, text: str) -> int:
        if text.startswith("Processing "):
            self.seen += 1
            self.say("  {}/{} distributions".format(self.seen, self.total))
        return self.log.write(text)

    def flush(self) -> None:
        self.log.flush()


def _log_path(root: pathlib.Path, name: str) -> pathlib.Path:
    """``<prefix>/logs/<generation>.log``; ``logs`` must be a real directory (a planted link is refused)."""
    logs = root / LOGS
    logs.mkdir(mode=0o755, exist_ok=True)
    if logs.is_symlink() or not logs.is_dir():
        raise PrefixError(
            "refusing prefix {}: {} is not a directory".format(root, logs),
            hint="remove it; netbundle makes it",
        )
    return logs / "{}.log".format(name)


def _receipt(
    bundle: VerifiedBundle,
    target: str,
    groups: Tuple[str, ...],
    directory: pathlib.Path,
    site: Tuple[str, ...],
) -> Receipt:
    manifest = bundle.manifest
    number = gens.parse_generation_name(directory.name)
    return Receipt(
        generation=number if number is not None else 0,
        bundle_id=manifest.bundle_id,
        project=manifest.project_name,
        version=manifest.project_version,
        build_time=manifest.build_time,
        manifest_sha256=bundle.manifest_sha256,
        signers=tuple(key.key_id_hex for key in bundle.signers),
        target=target,
        groups=groups,
        distributions=installed_versions([str(directory / p) for p in site]),
        site_packages=site,
        netbundle_version=__version__,
        installed_at=_now(),
    )


def _prune(root: pathlib.Path, keep: Optional[int]) -> Tuple[str, ...]:
    """Remove old generations; the install has succeeded, so a failure here only leaves more of them."""
    try:
        return tuple(gens.prune(root, keep))
    except OSError:
        return ()


def _now() -> str:
    return format_timestamp(time.time())


def _pip_hint(output: str, directory: pathlib.Path, log_path: pathlib.Path) -> str:
    """Where pip's output is; for a full disk, also where to free space (it is not the bundle's fault)."""
    if "No space left on device" in output or "Disk quota exceeded" in output:
        try:
            free = shutil.disk_usage(str(directory.parent)).free // (1024 * 1024)
        except OSError:
            free = 0
        return "the disk is full: free space in {} ({} MB free now), then install again; pip's output is in {}".format(
            directory.parent.parent, free, log_path
        )
    return "pip's output is in {}".format(log_path)


def _last_error(output: str) -> str:
    """The most telling line of pip's output: its last ``ERROR:`` line, else its last line."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR:")]
    return (errors or lines or ["no output"])[-1]


def _reraise_as_install_error(exc: BaseException, log_path: pathlib.Path) -> None:
    """Expected failures become InstallError (exit 20); our own errors pass; bugs keep their traceback."""
    if isinstance(exc, OutputError):  # the receipt or a marker could not be written: the disk, not the bundle
        raise InstallError(
            "install failed: {}; current is unchanged".format(exc.message), hint=exc.hint
        ) from None
    if isinstance(exc, NetbundleError):
        return
    if isinstance(exc, (KeyboardInterrupt, _Terminated)):
        raise InstallError(
            "install interrupted; the partial generation was removed and current is unchanged",
            hint="pip's output so far is in {}".format(log_path),
        ) from None
    if isinstance(exc, OSError):
        hint = "see {}".format(log_path)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            hint = "free space in {} (the file system is full), then install again".format(
                log_path.parent.parent
            )
        raise InstallError("install failed: {}; current is unchanged".format(exc), hint=hint) from None


@contextlib.contextmanager
def _sigterm_raises() -> Iterator[None]:
    """Turn SIGTERM into an exception for the block, so that an install stopped by a service manager or an
    operator's ``kill`` cleans up like one stopped with Ctrl-C (signal handlers live on the main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise _Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
