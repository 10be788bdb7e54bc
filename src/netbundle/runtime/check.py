"""``check``: drift of a prefix's current generation from its receipt, and optionally from a bundle.

Three comparisons, each a pure function over plain data (the I/O only gathers the data):

- installed distributions vs the receipt (missing, extra, version changed);
- with a verified bundle: installed distributions vs the bundle's locks for the receipt's target and groups
  (plus the bundle's pip);
- files vs the RECORD of each distribution (sha256 from RECORD; changed or missing). RECORD entries without a
  hash (RECORD itself, files added by the installer) and ``.pyc`` files (rewritten by Python at will) are skipped,
  and the report counts them.
"""

from __future__ import annotations

import base64
import hashlib
import pathlib
import shutil
import tempfile
from dataclasses import dataclass

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from ..errors import DriftError, PrefixError, UsageError
from ..format.locks import pinned_versions
from ..format.tar import verify_bundle
from . import generations as gens
from .receipt import Receipt
from .venv import iter_distributions

TYPE_CHECKING = False
if TYPE_CHECKING:
    import os
    from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

    from ..format.tar import VerifiedBundle
    from ..format.trust import TrustPolicy

MISSING = "missing"
EXTRA = "extra"
CHANGED = "changed"


@dataclass(frozen=True)
class DistributionDrift:
    """A distribution that differs from what ``against`` (``receipt`` or ``bundle``) expects."""

    name: str
    kind: str
    expected: Optional[str]
    installed: Optional[str]
    against: str

    def to_json(self) -> Dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "expected": self.expected,
            "installed": self.installed,
            "against": self.against,
        }

    def describe(self) -> str:
        if self.kind == MISSING:
            return "{} {} is missing (expected by the {})".format(self.name, self.expected, self.against)
        if self.kind == EXTRA:
            return "{} {} is installed but not in the {}".format(self.name, self.installed, self.against)
        return "{} is {}, the {} says {}".format(self.name, self.installed, self.against, self.expected)


@dataclass(frozen=True)
class FileDrift:
    """A file of a distribution whose content differs from its RECORD hash, or that is gone."""

    distribution: str
    path: str
    kind: str

    def to_json(self) -> Dict[str, Any]:
        return {"distribution": self.distribution, "path": self.path, "kind": self.kind}


@dataclass(frozen=True)
class DriftReport:
    """The result of ``check``; ``has_drift`` decides the exit code (22 when True)."""

    prefix: pathlib.Path
    generation: int
    bundle_id: str
    distributions: Tuple[DistributionDrift, ...]
    files: Tuple[FileDrift, ...]
    files_checked: int
    files_skipped: int
    bundle: Optional[str] = None

    @property
    def has_drift(self) -> bool:
        return bool(self.distributions or self.files)

    @property
    def exit_code(self) -> int:
        return DriftError.exit_code if self.has_drift else 0

    def to_json(self) -> Dict[str, Any]:
        return {
            "prefix": str(self.prefix),
            "generation": self.generation,
            "bundle_id": self.bundle_id,
            "bundle": self.bundle,
            "drift": self.has_drift,
            "distributions": [d.to_json() for d in self.distributions],
            "files": [f.to_json() for f in self.files],
            "files_checked": self.files_checked,
            "files_skipped": self.files_skipped,
        }

    def render_text(self) -> str:
        return render_drift(self)


def render_drift(report: DriftReport) -> str:
    """Human text of a drift report: a verdict line, then one line per finding."""
    against = "its receipt" + (" and bundle {}".format(report.bundle) if report.bundle else "")
    verdict = "DRIFT" if report.has_drift else "no drift"
    lines = [
        "{}: generation {} of {} (bundle {}) vs {}".format(
            verdict, report.generation, report.prefix, report.bundle_id, against
        ),
        "{} files checked by RECORD hash, {} skipped (.pyc or no hash in RECORD)".format(
            report.files_checked, report.files_skipped
        ),
    ]
    lines.extend("  " + d.describe() for d in report.distributions)
    lines.extend("  {}: {} {}".format(f.distribution, f.path, f.kind) for f in report.files)
    return "\n".join(lines)


# --- pure comparisons --------------------------------------------------------------------------------------------


def diff_distributions(
    expected: Mapping[str, str], installed: Mapping[str, str], against: str
) -> List[DistributionDrift]:
    """Missing, extra and changed distributions (names compared normalised), sorted by name.

    >>> [d.kind for d in diff_distributions({"a": "1", "b": "1"}, {"A": "2", "c": "1"}, "receipt")]
    ['changed', 'missing', 'extra']
    """
    want = {canonicalize_name(k): v for k, v in expected.items()}
    have = {canonicalize_name(k): v for k, v in installed.items()}
    found = []
    for name in sorted(set(want) | set(have)):
        if name not in have:
            found.append(DistributionDrift(name, MISSING, want[name], None, against))
        elif name not in want:
            found.append(DistributionDrift(name, EXTRA, None, have[name], against))
        elif want[name] != have[name]:
            found.append(DistributionDrift(name, CHANGED, want[name], have[name], against))
    return found


def record_digest(data: bytes) -> str:
    """RECORD's form of a sha256: ``sha256=`` and the urlsafe base64 digest without padding."""
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")
    return "sha256=" + digest


def is_checked_entry(path: str, hash_spec: Optional[str]) -> bool:
    """Whether ``check`` compares a RECORD entry: it has a sha256 and is not bytecode."""
    return bool(hash_spec) and str(hash_spec).startswith("sha256=") and not path.endswith(".pyc")


def diff_files(
    distribution: str, expected: Mapping[str, str], actual: Mapping[str, Optional[str]]
) -> List[FileDrift]:
    """Files whose actual digest differs from RECORD's (``changed``) or that are gone (None: ``missing``)."""
    found = []
    for path in sorted(expected):
        digest = actual.get(path)
        if digest is None:
            found.append(FileDrift(distribution, path, MISSING))
        elif digest != expected[path]:
            found.append(FileDrift(distribution, path, CHANGED))
    return found


# --- gathering (I/O) ---------------------------------------------------------------------------------------------


def check(
    prefix: Union[str, os.PathLike[str]],
    bundle: Optional[Union[str, os.PathLike[str]]] = None,
    policy: Optional[TrustPolicy] = None,
) -> DriftReport:
    """Compare the current generation of ``prefix`` with its receipt and, when given, a bundle (verified first).

    :raises PrefixError: not a prefix, or no current generation. :raises UsageError: a bundle without a policy.
    Bundle verification errors (10-15) propagate. Drift is *reported*, not raised: see ``exit_code``.
    """
    root = gens.open_prefix(prefix)
    generation = gens.current_generation(root)
    if generation is None:
        raise PrefixError("prefix {} has no current generation".format(root), hint="install a bundle first")
    receipt = generation.receipt
    site = [str(generation.path / p) for p in receipt.site_packages]
    installed, file_drift, checked, skipped = _scan(site)
    drift = diff_distributions(receipt.distributions, installed, "receipt")
    if bundle is not None:
        if policy is None:
            raise UsageError("checking against a bundle needs a trust policy")
        expected = _bundle_expectation(bundle, policy, receipt)
        drift += diff_distributions(expected, installed, "bundle")
    return DriftReport(
        root,
        generation.number,
        receipt.bundle_id,
        tuple(drift),
        tuple(file_drift),
        checked,
        skipped,
        str(bundle) if bundle is not None else None,
    )


def _scan(site: Sequence[str]) -> Tuple[Dict[str, str], List[FileDrift], int, int]:
    """Installed versions, file drift, and the numbers of checked and skipped RECORD entries."""
    versions = {}  # type: Dict[str, str]
    drift = []  # type: List[FileDrift]
    checked = skipped = 0
    for dist in iter_distributions(site):
        name = canonicalize_name(dist.metadata["Name"])
        versions[name] = dist.version
        expected = {}
        actual = {}  # type: Dict[str, Optional[str]]
        for entry in dist.files or ():
            spec = "{}={}".format(entry.hash.mode, entry.hash.value) if entry.hash else None
            if not is_checked_entry(str(entry), spec):
                skipped += 1
                continue
            checked += 1
            expected[str(entry)] = str(spec)
            actual[str(entry)] = _digest_of(pathlib.Path(str(entry.locate())))
        drift += diff_files(name, expected, actual)
    return versions, drift, checked, skipped


def _digest_of(path: pathlib.Path) -> Optional[str]:
    try:
        return record_digest(path.read_bytes())
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def _bundle_expectation(
    bundle: Union[str, os.PathLike[str]], policy: TrustPolicy, receipt: Receipt
) -> Dict[str, str]:
    """What the bundle's locks for the receipt's target and groups install, plus the bundle's pip."""
    staging = pathlib.Path(tempfile.mkdtemp(prefix="netbundle-check-"))
    try:
        verified = verify_bundle(bundle, policy, staging)
        return expected_from_bundle(verified, receipt.target, receipt.groups)
    finally:
        shutil.rmtree(str(staging), ignore_errors=True)


def expected_from_bundle(bundle: VerifiedBundle, target: str, groups: Iterable[str]) -> Dict[str, str]:
    """Name -> version the bundle installs for ``target`` and ``groups`` (its pip included).

    :raises UsageError: the bundle has no such target or group lock.
    """
    try:
        entry = bundle.manifest.target(target)
        paths = [entry.locks[group] for group in groups]
    except KeyError as exc:
        raise UsageError(
            "bundle {} has no target/group {} of the installed generation".format(
                bundle.manifest.bundle_id, exc
            ),
            hint="check against the bundle that was installed, or a newer build of it",
        ) from None
    expected = {}
    for path in paths:
        expected.update(pinned_versions(bundle.member_path(path).read_text("utf-8")))
    if bundle.manifest.pip_wheel:
        expected.update(_wheel_version(bundle.manifest.pip_wheel))
    return expected


def _wheel_version(path: str) -> Dict[str, str]:
    try:
        name, version, _, _ = parse_wheel_filename(path.rsplit("/", 1)[-1])
    except InvalidWheelFilename:
        return {}
    return {str(name): str(version)}
