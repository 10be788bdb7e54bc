"""``install --dry-run``: what an install would do, without doing it.

The same decisions as :func:`netbundle.runtime.install.install`, in the same order: verify the bundle (every
signature and file), choose the target that fits this host, select the groups, compare with the current
generation (``unchanged``, or ``installed``; another project and a downgrade raise exactly as install does), and
list the distributions the new generation would hold (from the verified locks of that target and those groups).
Nothing under the prefix is created, locked or changed and no venv is made: the bundle is verified into a private
temporary directory under ``$TMPDIR``, removed afterwards, and the current generation is read without the lock
(reading is safe while an install runs).
"""

from __future__ import annotations

import pathlib
import shutil
import tempfile
import time
from dataclasses import dataclass

from ..errors import PrefixError
from ..format.freshness import check_freshness
from ..format.locks import check_bundle_locks
from ..format.tar import verify_bundle
from ..format.wheel import check_install_wheels
from . import generations as gens
from .check import expected_from_bundle
from .host import HostInfo, choose_target, select_groups
from .install import UNCHANGED, plan_against_current

TYPE_CHECKING = False
if TYPE_CHECKING:
    import os
    from typing import Any, Dict, Mapping, Optional, Sequence, Tuple, Union

    from ..format.trust import TrustPolicy

__all__ = ["InstallPlan", "plan_install", "render_plan"]


@dataclass(frozen=True)
class InstallPlan:
    """What ``install`` would do: ``status`` ``installed`` (a new generation) or ``unchanged``."""

    status: str
    prefix: pathlib.Path
    bundle_id: str
    project: str
    version: str
    target: str
    groups: Tuple[str, ...]
    distributions: Mapping[str, str]
    signers: Tuple[str, ...]
    current: Optional[gens.Generation]

    def to_json(self) -> Dict[str, Any]:
        current = self.current.number if self.current else None
        return {
            "dry_run": True,
            "status": self.status,
            "prefix": str(self.prefix),
            "bundle_id": self.bundle_id,
            "project": self.project,
            "version": self.version,
            "target": self.target,
            "groups": list(self.groups),
            "distributions": dict(sorted(self.distributions.items())),
            "signers": list(self.signers),
            "generation": current if self.status == UNCHANGED else None,
            "previous_generation": None if self.status == UNCHANGED else current,
            "current": self.current.to_json() if self.current else None,
        }

    def render_text(self) -> str:
        return render_plan(self)


def render_plan(plan: InstallPlan) -> str:
    """The human summary of :class:`InstallPlan`."""
    if plan.status == UNCHANGED and plan.current is not None:
        return "dry run: {} {} (bundle {}) is already current in {} as generation {}; nothing to do".format(
            plan.project, plan.version, plan.bundle_id, plan.prefix, plan.current.number
        )
    now = "nothing installed yet"
    if plan.current is not None:
        now = "current: generation {} ({})".format(plan.current.number, plan.current.receipt.bundle_id)
    lines = [
        "dry run: would install {} {} (bundle {}) as a new generation in {}; {}".format(
            plan.project, plan.version, plan.bundle_id, plan.prefix, now
        ),
        "target {}, groups {}, {} distributions; signed by {}".format(
            plan.target, ", ".join(plan.groups), len(plan.distributions), ", ".join(plan.signers)
        ),
    ]
    lines += ["  {}=={}".format(name, version) for name, version in sorted(plan.distributions.items())]
    return "\n".join(lines)


def plan_install(
    bundle_path: Union[str, os.PathLike[str]],
    prefix: Union[str, os.PathLike[str]],
    policy: TrustPolicy,
    groups: Optional[Sequence[str]] = None,
    target: Optional[str] = None,
    allow_downgrade: bool = False,
    force: bool = False,
    allow_expired: bool = False,
) -> InstallPlan:
    """What ``install(bundle_path, prefix, ...)`` would do; raises what it would raise before building a venv
    (verification 10-15, target 6, usage 2, downgrade 21, prefix 24). Changes nothing."""
    root = pathlib.Path(prefix).absolute()
    active = _current_generation(root)
    staging = pathlib.Path(tempfile.mkdtemp(prefix="netbundle-dry-run-"))
    try:
        bundle = verify_bundle(bundle_path, policy, staging / "bundle")
        manifest = bundle.manifest
        check_freshness(manifest, time.time(), allow_expired)
        chosen_target = choose_target(manifest, HostInfo.current(), target)
        chosen = select_groups(manifest, chosen_target, groups)
        check_install_wheels(bundle, chosen_target.name)  # what install refuses before pip, refused here too
        check_bundle_locks(bundle, [chosen_target.locks[group] for group in chosen])
        status = plan_against_current(
            manifest, chosen_target.name, chosen, active.receipt if active else None, allow_downgrade, force
        )
        distributions = expected_from_bundle(bundle, chosen_target.name, chosen)
    finally:
        shutil.rmtree(str(staging), ignore_errors=True)
    return InstallPlan(
        status=status,
        prefix=root,
        bundle_id=manifest.bundle_id,
        project=manifest.project_name,
        version=manifest.project_version,
        target=chosen_target.name,
        groups=chosen,
        distributions=distributions,
        signers=tuple(key.key_id_hex for key in bundle.signers),
        current=active,
    )


def _current_generation(root: pathlib.Path) -> Optional[gens.Generation]:
    """The prefix's current generation; None for a prefix install would create (missing or empty).

    :raises PrefixError: a directory install would refuse (not a netbundle prefix and not empty).
    """
    if (root / gens.MARKER).is_file():
        return gens.current_generation(root)
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise PrefixError(
            "{} exists and is not a netbundle prefix".format(root),
            hint="choose a new or empty directory as --prefix",
        )
    return None
