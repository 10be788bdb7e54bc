"""``install``: a verified bundle becomes a new generation of a prefix, or nothing changes at all.

Steps, all under the prefix lock: clean leftovers of killed runs → verify the bundle into a private staging
directory under the prefix → choose the target → decide against the current generation (downgrade, same bundle)
→ create the generation's venv with the bundle's pip → ``pip install`` the union of the chosen groups' locks →
``pip check`` → write the receipt → switch ``current``. Any failure, KeyboardInterrupt or SIGTERM removes the
partial generation and the staging directory and leaves ``current`` as it was.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass

from packaging.version import InvalidVersion, Version

from .. import __version__
from ..errors import DowngradeError, InstallError, NetbundleError, PrefixError, UsageError
from ..format.manifest import format_timestamp
from ..format.tar import verify_bundle
from . import generations as gens
from .bytecode import compile_pip_installed, core_count
from .generations import list_generations, rollback
from .host import HostInfo, choose_target, select_groups
from .pip import pip_check_argv, pip_install_argv, run, scrubbed_env
from .receipt import Receipt, write_receipt
from .venv import create_venv, installed_versions

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Any, Callable, Dict, Iterator, Optional, Sequence, Tuple, Union

    from ..format.manifest import Manifest, TargetEntry
    from ..format.tar import VerifiedBundle
    from ..format.trust import TrustPolicy
    from .venv import Venv

__all__ = ["InstallResult", "install", "list_generations", "render_install", "rollback"]

PIP_ENGINE = "pip"
INSTALLER_ENGINE = "installer"
ENGINES = (PIP_ENGINE, INSTALLER_ENGINE)
INSTALLED = "installed"
UNCHANGED = "unchanged"
LOGS = "logs"


@dataclass(frozen=True)
class _Options:
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
    engine: str = PIP_ENGINE,
    compile_bytecode: bool = True,
) -> InstallResult:
    """Verify ``bundle_path`` and install it as the new current generation of ``prefix``.

    :param groups: dependency groups besides ``main`` (always installed).
    :param target: a bundle target name; default: the best one that fits this host.
    :param force: make a new generation even when the same bundle, target and groups are current.
    :param engine: ``pip`` (the bundle's pip, the default) or ``installer`` (:mod:`.engine`: pypa/installer in
        parallel, then the same consistency check ``pip check`` makes).
    :param compile_bytecode: byte-compile the installed modules (pip's default); False skips it.
    :raises BundleFormatError, IntegrityError, SignatureError: the bundle failed verification (10-15).
    :raises TargetError: no bundle target fits this host. :raises UsageError: unknown group or target.
    :raises DowngradeError: the bundle is older than the current generation and not ``allow_downgrade``.
    :raises InstallError: venv, pip or pip check failed, or the run was interrupted.
    :raises PrefixError: the prefix is unusable or locked by another run.
    """
    say = progress or (lambda message: None)
    if engine not in ENGINES:
        raise UsageError(
            "unknown install engine {!r}".format(engine), hint="use one of: " + ", ".join(ENGINES)
        )
    root = gens.open_prefix(prefix, create=True)
    with gens.prefix_lock(root), _sigterm_raises():
        cleaned = tuple(gens.clean_leftovers(root))
        staging = pathlib.Path(tempfile.mkdtemp(prefix=gens.STAGING_PREFIX, dir=str(root)))
        try:
            say("verifying {}".format(bundle_path))
            bundle = verify_bundle(bundle_path, policy, staging)
            options = _Options(allow_downgrade, force, engine, compile_bytecode)
            return _install_verified(bundle, root, groups, target, options, say, cleaned)
        except (KeyboardInterrupt, _Terminated):
            raise InstallError("install interrupted; {} is unchanged".format(root)) from None
        finally:
            gens.remove_tree(staging)


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
    if not allow_downgrade and _is_older(manifest, current):
        raise DowngradeError(
            "bundle {} ({} {}, built {}) is older than the current generation {} ({} {}, built {})".format(
                manifest.bundle_id,
                manifest.project_name,
                manifest.project_version,
                manifest.build_time,
                current.generation,
                current.project,
                current.version,
                current.build_time,
            ),
            hint="pass --allow-downgrade to install it anyway, or use rollback to return to a kept generation",
        )
    return INSTALLED


def _is_older(manifest: Manifest, current: Receipt) -> bool:
    try:
        new, old = Version(manifest.project_version), Version(current.version)
    except InvalidVersion:
        new = old = Version("0")  # not comparable as versions: the build time decides
    if new != old:
        return new < old
    # ISO-8601 UTC timestamps of one fixed format compare correctly as strings.
    return manifest.build_time < current.build_time


def _install_verified(
    bundle: VerifiedBundle,
    root: pathlib.Path,
    groups: Optional[Sequence[str]],
    wanted: Optional[str],
    options: _Options,
    say: Callable[[str], None],
    cleaned: Tuple[str, ...],
) -> InstallResult:
    manifest = bundle.manifest
    host = HostInfo.current()
    target = choose_target(manifest, host, wanted)
    chosen = select_groups(manifest, target, groups)
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
    (root / LOGS).mkdir(exist_ok=True)
    log_path = root / LOGS / "{}.log".format(directory.name)
    say("installing target {} groups {} into {}".format(target.name, ", ".join(chosen), directory))
    try:
        with log_path.open("w") as log:
            if options.engine == INSTALLER_ENGINE:
                receipt = _build_with_engine(bundle, target, chosen, directory, log, host, options)
            else:
                receipt = _build_generation(bundle, target, chosen, directory, log, log_path, options)
        gens.switch_current(root, directory.name)
    except BaseException as exc:
        if gens.current_name(root) != directory.name:  # a failure after the switch itself keeps the new one
            gens.remove_tree(directory)
        _reraise_as_install_error(exc, log_path)
        raise
    pruned = _prune(root)
    generation = gens.Generation(receipt.generation, directory.name, directory, receipt, True)
    return InstallResult(
        INSTALLED, root, generation, active.number if active else None, log_path, cleaned, pruned
    )


def _build_generation(
    bundle: VerifiedBundle,
    target: TargetEntry,
    groups: Tuple[str, ...],
    directory: pathlib.Path,
    log: IO[str],
    log_path: pathlib.Path,
    options: _Options,
) -> Receipt:
    manifest = bundle.manifest
    pip_wheel = bundle.member_path(manifest.pip_wheel) if manifest.pip_wheel else None
    venv = create_venv(directory, pip_wheel, python=sys.executable)
    env = scrubbed_env(os.environ)
    requirements = [str(bundle.member_path(target.locks[group])) for group in groups]
    links = [str(bundle.root / d) for d in ("wheels", "dist") if bundle.root and (bundle.root / d).is_dir()]
    # pip compiles on one core: on more, pip only unpacks and the modules are compiled afterwards on all of them
    parallel = options.compile_bytecode and core_count() > 1
    compile_in_pip = options.compile_bytecode and not parallel
    done = run(
        pip_install_argv(str(venv.python), links, requirements, compile_bytecode=compile_in_pip), env, log
    )
    if not done.ok:
        raise InstallError(
            "pip install of bundle {} (target {}) failed: {}".format(
                manifest.bundle_id, target.name, _last_error(done.output)
            ),
            hint="pip's output is in {}".format(log_path),
        )
    if parallel:
        sites = [venv.scheme[k] for k in ("purelib", "platlib")]
        log.write("$ netbundle: byte-compiling pip's modules on {} cores\n".format(core_count()))
        log.write("{} modules compiled\n".format(compile_pip_installed(sites, str(venv.python), env)))
    checked = run(pip_check_argv(str(venv.python)), env, log)
    if not checked.ok:
        raise InstallError(
            "pip check failed for bundle {}: {}".format(manifest.bundle_id, _last_error(checked.output)),
            hint="pip's output is in {}".format(log_path),
        )
    return _write_receipt(bundle, target.name, groups, directory, venv)


def _build_with_engine(
    bundle: VerifiedBundle,
    target: TargetEntry,
    groups: Tuple[str, ...],
    directory: pathlib.Path,
    log: IO[str],
    host: HostInfo,
    options: _Options,
) -> Receipt:
    from .engine import run_engine

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


def _prune(root: pathlib.Path) -> Tuple[str, ...]:
    """Remove old generations; the install has succeeded, so a failure here only leaves more of them."""
    try:
        return tuple(gens.prune(root))
    except OSError:
        return ()


def _now() -> str:
    return format_timestamp(time.time())


def _last_error(output: str) -> str:
    """The most telling line of pip's output: its last ``ERROR:`` line, else its last line."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR:")]
    return (errors or lines or ["no output"])[-1]


def _reraise_as_install_error(exc: BaseException, log_path: pathlib.Path) -> None:
    """Expected failures become InstallError (exit 20); our own errors pass; bugs keep their traceback."""
    if isinstance(exc, NetbundleError):
        return
    if isinstance(exc, (KeyboardInterrupt, _Terminated)):
        raise InstallError(
            "install interrupted; the partial generation was removed and current is unchanged",
            hint="pip's output so far is in {}".format(log_path),
        ) from None
    if isinstance(exc, OSError):
        raise InstallError(
            "install failed: {}; current is unchanged".format(exc), hint="see {}".format(log_path)
        ) from None


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
