"""``doctor [BUNDLE]``: can this host install (and rehearse) a bundle? The same checks run before ``install``.

Each check is ``ok``, ``warn`` (works, with a caveat) or ``fail`` (an install would fail); the report's exit code
is 26 (:class:`~netbundle.errors.HostError`) when one fails. Checks: the Python (version and path), the ``venv``
module (and ``ensurepip``, which netbundle does not need), the bundle's targets (which fits and why the others
do not), free space under the prefix against the bundle's estimated install size, network namespaces for
``rehearse``, and the trusted keys (embedded and ``--trust``) against the bundle's signers. The pure part
(:func:`space_check`, :func:`target_checks`, ...) takes plain values; :func:`doctor` gathers them.

The Python version check that matters most runs earlier: the pyz's launcher refuses Pythons before 3.9 (and
Python 2) with one line and exit 26 before any of this code is imported (scripts/build-pyz).
"""

from __future__ import annotations

import importlib.util
import os
import pathlib
import shutil
import sys
from dataclasses import dataclass

from ..errors import HostError, NetbundleError
from ..format.results import with_format
from . import DEFAULT_PREFIX_ROOT, MIN_PYTHON

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Sequence, Tuple

    from ..format.manifest import Manifest, TargetEntry
    from ..format.trust import TrustPolicy
    from .host import HostInfo

OK = "ok"
WARN = "warn"
FAIL = "fail"
#: A venv with pip and setuptools-free metadata takes about this much before the bundle's packages.
VENV_BASE_BYTES = 30 * 1024 * 1024
#: Installed packages take about this many times their wheels' (compressed) size.
UNPACKED_FACTOR = 3


@dataclass(frozen=True)
class Check:
    """One doctor check: ``status`` is ok, warn or fail; ``hint`` says what to do about a warn or fail."""

    name: str
    status: str
    detail: str
    hint: Optional[str] = None

    def to_json(self) -> Dict[str, Any]:
        return {"name": self.name, "status": self.status, "detail": self.detail, "hint": self.hint}


@dataclass(frozen=True)
class DoctorRequest:
    bundle: Optional[str] = None
    prefix: Optional[str] = None
    groups: Tuple[str, ...] = ()
    target: Optional[str] = None
    trust_files: Tuple[str, ...] = ()


@dataclass(frozen=True)
class DoctorReport:
    """Every check's outcome, in order; ``bundle`` is the bundle id when one was checked."""

    host: str
    bundle: Optional[str]
    checks: Tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(check.status != FAIL for check in self.checks)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else HostError.exit_code

    def to_json(self) -> Dict[str, Any]:
        return with_format(
            {
                "ok": self.ok,
                "host": self.host,
                "bundle": self.bundle,
                "checks": [c.to_json() for c in self.checks],
            }
        )

    def render_text(self) -> str:
        lines = ["doctor: {}{}".format(self.host, " for bundle " + self.bundle if self.bundle else "")]
        for check in self.checks:
            lines.append("  {:<4} {:<8} {}".format(check.status, check.name, check.detail))
            if check.hint and check.status != OK:
                lines.append("                hint: {}".format(check.hint))
        lines.append("ready" if self.ok else "NOT READY: fix the failed checks above")
        return "\n".join(lines)


# --- pure checks ---------------------------------------------------------------------------------------------------


def python_check(version: Sequence[int], executable: str) -> Check:
    shown = "{} ({})".format(".".join(str(p) for p in version[:3]), executable)
    if tuple(version[:2]) >= MIN_PYTHON:
        return Check("python", OK, shown)
    return Check(
        "python",
        FAIL,
        shown + " is older than {}.{}".format(*MIN_PYTHON),
        "run the pyz with python3.9 or newer",
    )


def venv_check(has_venv: bool, has_ensurepip: bool) -> Check:
    if not has_venv:
        return Check(
            "venv",
            FAIL,
            "this Python has no venv module",
            "install the distribution's venv package (python3-venv on Debian/Ubuntu)",
        )
    note = (
        "ensurepip present"
        if has_ensurepip
        else "no ensurepip (not needed: the bundle's own pip is installed)"
    )
    return Check("venv", OK, "venv module present; " + note)


def target_checks(
    manifest: Manifest, host: HostInfo, wanted: Optional[str], groups: Sequence[str]
) -> List[Check]:
    """Which target fits and why the others do not; then whether the asked groups exist."""
    from .host import choose_target, evaluate_target, select_groups

    fits = [evaluate_target(manifest, target, host) for target in manifest.targets]
    details = ["{}: {}".format(f.target.name, "fits" if f.fits else "; ".join(f.reasons)) for f in fits]
    try:
        chosen = choose_target(manifest, host, wanted)
        chosen_groups = select_groups(manifest, chosen, groups)
    except NetbundleError as exc:
        return [Check("target", FAIL, exc.message + " [" + " | ".join(details) + "]", exc.hint)]
    detail = "{} (groups {}) [{}]".format(chosen.name, ", ".join(chosen_groups), " | ".join(details))
    return [Check("target", OK, detail)]


def install_size(manifest: Manifest, target: Optional[TargetEntry]) -> int:
    """The bytes an install needs under the prefix (an estimate): the verified copy of the bundle in the staging
    directory, plus the target's wheels unpacked (:data:`UNPACKED_FACTOR` times their size) and a base venv."""
    sizes = {f.path: f.size for f in manifest.files}
    payload = sum(sizes.values())
    if target is None:
        wheels = payload
    else:
        paths = {a.path for p in manifest.packages for a in p.artifacts if target.name in a.targets}
        if manifest.pip_wheel:
            paths.add(manifest.pip_wheel)
        wheels = sum(sizes.get(path, 0) for path in paths)
    return payload + UNPACKED_FACTOR * wheels + VENV_BASE_BYTES


def space_check(prefix: str, existing: str, free: int, writable: bool, needed: Optional[int]) -> Check:
    """``existing`` is the prefix or its nearest existing parent (where the space is measured)."""
    where = prefix if existing == prefix else "{} (measured at {})".format(prefix, existing)
    if not writable:
        return Check(
            "space",
            FAIL,
            "{}: not writable by this user".format(where),
            "run as a user who may write there, or pick --prefix",
        )
    if needed is None:
        return Check("space", OK, "{}: {} free".format(where, _size(free)))
    detail = "{}: {} free, the bundle needs about {}".format(where, _size(free), _size(needed))
    if free < needed:
        return Check("space", FAIL, detail, "free space under the prefix, or pick another --prefix")
    return Check("space", OK, detail)


def netns_check(works: bool, why: str) -> Check:
    if works:
        return Check("netns", OK, "rehearse can use a network namespace (interfaces: {})".format(why))
    return Check(
        "netns",
        WARN,
        "no network namespace ({}); rehearse falls back to its socket guard".format(why),
        "run as root or allow user namespaces for the stronger isolation",
    )


def trust_check(policy: Optional[TrustPolicy], embedded: int, signers: Optional[Sequence[str]]) -> Check:
    """``embedded``: how many keys the pyz carries; ``signers``: the key ids the bundle claims (unverified)."""
    if policy is None or not policy.keys:
        return Check(
            "trust",
            FAIL,
            "no trusted keys (none embedded, no --trust)",
            "pass --trust FILE, or use a pyz built with --trust",
        )
    detail = "{} keys ({} embedded), threshold {}".format(len(policy.keys), embedded, policy.threshold)
    if signers is None:
        return Check("trust", OK, detail)
    trusted = {key.key_id_hex for key in policy.keys}
    good = [s for s in signers if s in trusted]
    detail += "; bundle claims signers {}".format(", ".join(signers) or "none")
    if len(good) < policy.threshold:
        return Check(
            "trust",
            FAIL,
            detail + " ({} trusted of {} needed)".format(len(good), policy.threshold),
            "pass the signers' keys with --trust, or get the bundle signed by a trusted key",
        )
    return Check("trust", OK, detail + " ({} trusted)".format(len(good)))


def _size(count: int) -> str:
    return "{:.1f} MiB".format(count / (1024 * 1024))


# --- gathering (I/O) -----------------------------------------------------------------------------------------------


def doctor(request: DoctorRequest) -> DoctorReport:
    """Run every check (none raises: a failing one is reported)."""
    from .host import HostInfo

    host = HostInfo.current()
    checks = [python_check(tuple(sys.version_info[:3]), sys.executable), _venv()]
    manifest, signers = None, None
    if request.bundle is not None:
        from ..format.describe import signer_ids
        from ..format.tar import read_unverified

        try:
            found = read_unverified(request.bundle)
        except NetbundleError as exc:
            checks.append(Check("bundle", FAIL, exc.message, exc.hint))
        else:
            manifest, signers = found.manifest, signer_ids(found.signatures)
            checks.extend(target_checks(manifest, host, request.target, request.groups))
    checks.append(_space(request.prefix, manifest, host, request.target))
    checks.append(_netns())
    checks.append(_trust(request.trust_files, signers))
    return DoctorReport(host.label, manifest.bundle_id if manifest else None, tuple(checks))


def preflight(bundle: str, prefix: str, groups: Sequence[str], target: Optional[str]) -> None:
    """The host checks ``install`` runs first (Python, venv, free space); target fit is left to install.

    :raises HostError: the first failing check, with its hint.
    """
    from ..format.tar import read_unverified
    from .host import HostInfo

    try:
        # only the size estimate comes from it; a bundle that cannot be read fails in install's verification
        # first, so that its errors (a bad signature before a bad manifest) stay in their documented order
        manifest: Optional[Manifest] = read_unverified(bundle).manifest
    except NetbundleError:
        manifest = None
    checks = [python_check(tuple(sys.version_info[:3]), sys.executable), _venv()]
    checks.append(_space(prefix, manifest, HostInfo.current(), target))
    for check in checks:
        if check.status == FAIL:
            raise HostError("{}: {}".format(check.name, check.detail), hint=check.hint)


def _venv() -> Check:
    return venv_check(_has_module("venv"), _has_module("ensurepip"))


def _has_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _space(
    prefix: Optional[str], manifest: Optional[Manifest], host: HostInfo, wanted: Optional[str]
) -> Check:
    if prefix is None:
        project = manifest.project_name if manifest is not None else "<project>"
        prefix = "{}/{}".format(DEFAULT_PREFIX_ROOT, project)
    path = pathlib.Path(prefix).absolute()
    existing = path
    while not existing.is_dir() and existing.parent != existing:
        existing = existing.parent
    needed = None
    if manifest is not None:
        needed = install_size(manifest, _fitting_target(manifest, host, wanted))
    free = shutil.disk_usage(str(existing)).free
    return space_check(str(path), str(existing), free, os.access(str(existing), os.W_OK), needed)


def _fitting_target(manifest: Manifest, host: HostInfo, wanted: Optional[str]) -> Optional[TargetEntry]:
    from .host import choose_target

    try:
        return choose_target(manifest, host, wanted)
    except NetbundleError:
        return None


def _netns() -> Check:
    from .rehearse import netns_prefix, probe_netns

    works, why = probe_netns(netns_prefix(os.geteuid()))
    return netns_check(works, why)


def _trust(trust_files: Sequence[str], signers: Optional[Sequence[str]]) -> Check:
    from .trusted import embedded_policy, resolve_policy

    try:
        embedded = embedded_policy()
    except NetbundleError as exc:
        return Check("trust", FAIL, "the embedded trust file: " + exc.message, exc.hint)
    try:
        policy = resolve_policy(trust_files, embedded)
    except NetbundleError as exc:
        if "no trusted keys" in exc.message:
            return trust_check(None, 0, signers)
        return Check("trust", FAIL, exc.message, exc.hint)
    return trust_check(policy, len(embedded.keys) if embedded else 0, signers)
