"""``diff OLD NEW``: what changed between two bundles, for review before promotion (pure).

Per target and group: packages added, removed, upgraded, downgraded; and, flagged loudly, a package whose version
did not change but whose bundled file did (a re-published or rebuilt artifact: exactly what a reviewer must
look at). Also target, group, signer and lock changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from packaging.version import InvalidVersion, Version

from .results import with_format

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Sequence, Tuple

    from .manifest import Manifest

ADDED = "added"
REMOVED = "removed"
UPGRADED = "upgraded"
DOWNGRADED = "downgraded"
#: Same version, different file: the loud one.
HASH_CHANGED = "hash-changed"


@dataclass(frozen=True)
class PackageChange:
    target: str
    name: str
    change: str
    groups: Tuple[str, ...]
    old_version: Optional[str] = None
    new_version: Optional[str] = None
    old_sha256: Optional[str] = None
    new_sha256: Optional[str] = None

    def to_json(self) -> Dict[str, Any]:
        return {
            "target": self.target,
            "name": self.name,
            "change": self.change,
            "groups": list(self.groups),
            "old_version": self.old_version,
            "new_version": self.new_version,
            "old_sha256": self.old_sha256,
            "new_sha256": self.new_sha256,
        }


@dataclass(frozen=True)
class BundleDiff:
    old: Manifest
    new: Manifest
    packages: Tuple[PackageChange, ...]
    old_signers: Tuple[str, ...]
    new_signers: Tuple[str, ...]

    @property
    def hash_changes(self) -> Tuple[PackageChange, ...]:
        return tuple(c for c in self.packages if c.change == HASH_CHANGED)

    @property
    def is_empty(self) -> bool:
        return (
            not self.packages and self.old.targets == self.new.targets and self.old.groups == self.new.groups
        )

    def to_json(self) -> Dict[str, Any]:
        old_targets = {t.name for t in self.old.targets}
        new_targets = {t.name for t in self.new.targets}
        return with_format(
            {
                "old": _identity(self.old),
                "new": _identity(self.new),
                "lock_changed": self.old.lock_sha256 != self.new.lock_sha256,
                "targets": {
                    "added": sorted(new_targets - old_targets),
                    "removed": sorted(old_targets - new_targets),
                },
                "groups": {
                    "added": sorted(set(self.new.groups) - set(self.old.groups)),
                    "removed": sorted(set(self.old.groups) - set(self.new.groups)),
                },
                "signers": {
                    "old": list(self.old_signers),
                    "new": list(self.new_signers),
                    "added": sorted(set(self.new_signers) - set(self.old_signers)),
                    "removed": sorted(set(self.old_signers) - set(self.new_signers)),
                },
                "packages": [c.to_json() for c in self.packages],
                "hash_changes": len(self.hash_changes),
                "differ": self.differ,
            }
        )

    @property
    def differ(self) -> bool:
        """Whether anything a reviewer sees changed (what ``diff --exit-code`` turns into exit 1)."""
        data_sides = (self.old.lock_sha256, self.old_signers) != (self.new.lock_sha256, self.new_signers)
        return not self.is_empty or data_sides

    def render_text(self) -> str:
        return render_diff(self)


def _identity(manifest: Manifest) -> Dict[str, str]:
    return {
        "bundle_id": manifest.bundle_id,
        "project": manifest.project_name,
        "version": manifest.project_version,
        "build_time": manifest.build_time,
    }


def _index(manifest: Manifest) -> Dict[Tuple[str, str], Tuple[str, str, Tuple[str, ...]]]:
    """(target, package) -> (version, sha256 of the bundled file, groups)."""
    sha = {f.path: f.sha256 for f in manifest.files}
    found: Dict[Tuple[str, str], Tuple[str, str, Tuple[str, ...]]] = {}
    for package in manifest.packages:
        for artifact in package.artifacts:
            for target in artifact.targets:
                found[(target, package.name)] = (package.version, sha.get(artifact.path, ""), package.groups)
    return found


def diff_manifests(
    old: Manifest, new: Manifest, old_signers: Sequence[str] = (), new_signers: Sequence[str] = ()
) -> BundleDiff:
    """Compare two manifests package by package for every target either of them has."""
    before, after = _index(old), _index(new)
    changes: List[PackageChange] = []
    for key in sorted(set(before) | set(after)):
        target, name = key
        was, now = before.get(key), after.get(key)
        if was is None and now is not None:
            changes.append(PackageChange(target, name, ADDED, now[2], new_version=now[0], new_sha256=now[1]))
        elif now is None and was is not None:
            changes.append(
                PackageChange(target, name, REMOVED, was[2], old_version=was[0], old_sha256=was[1])
            )
        elif was is not None and now is not None and (was[0], was[1]) != (now[0], now[1]):
            kind = _version_change(was[0], now[0])
            groups = tuple(sorted(set(was[2]) | set(now[2])))
            changes.append(PackageChange(target, name, kind, groups, was[0], now[0], was[1], now[1]))
    return BundleDiff(old, new, tuple(changes), tuple(old_signers), tuple(new_signers))


def _version_change(old: str, new: str) -> str:
    if old == new:
        return HASH_CHANGED
    try:
        return UPGRADED if Version(new) > Version(old) else DOWNGRADED
    except InvalidVersion:
        return UPGRADED if new > old else DOWNGRADED


def render_diff(diff: BundleDiff) -> str:
    """The review text: one block per target, packages grouped by change."""
    data = diff.to_json()
    lines = [
        "old: {bundle_id} ({project} {version}, built {build_time})".format(**data["old"]),
        "new: {bundle_id} ({project} {version}, built {build_time})".format(**data["new"]),
    ]
    for what in ("targets", "groups"):
        for side in ("added", "removed"):
            if data[what][side]:
                lines.append("{} {}: {}".format(what, side, ", ".join(data[what][side])))
    signers = data["signers"]
    if signers["added"] or signers["removed"]:
        lines.append(
            "SIGNERS CHANGED: added {}; removed {}".format(
                ", ".join(signers["added"]) or "none", ", ".join(signers["removed"]) or "none"
            )
        )
    if diff.hash_changes:
        lines.append(
            "!! {} package file(s) changed WITHOUT a version change: review before trusting this bundle".format(
                len(diff.hash_changes)
            )
        )
    for target in sorted({c.target for c in diff.packages}):
        lines.append("target {}:".format(target))
        for change in diff.packages:
            if change.target == target:
                lines.append("  " + _change_line(change))
    if not diff.packages:
        lines.append("no package changes")
    return "\n".join(lines)


def _change_line(change: PackageChange) -> str:
    groups = "[{}]".format(", ".join(change.groups)) if change.groups else ""
    if change.change == ADDED:
        return "+ {} {} {}".format(change.name, change.new_version, groups)
    if change.change == REMOVED:
        return "- {} {} {}".format(change.name, change.old_version, groups)
    if change.change == HASH_CHANGED:
        return "!! {} {} {}: sha256 {} -> {}".format(
            change.name, change.new_version, groups, change.old_sha256, change.new_sha256
        )
    return "{} {} {} -> {} {}".format(
        "^" if change.change == UPGRADED else "v", change.name, change.old_version, change.new_version, groups
    )
