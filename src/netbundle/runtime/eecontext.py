"""An ansible-builder build context (execution-environment definition version 3) from a verified bundle.

The context installs the bundle's packages into an AWX / Ansible Controller execution environment image **only
from the bundle's wheels**: the wheels a target and its groups need and the bundle's marker-free, hash-pinned
requirement files travel in ``additional_build_files``, and one ``additional_build_steps`` entry runs
``pip install --no-index --find-links ... --require-hashes --only-binary=:all:`` on them. No Python requirements
file is handed to ansible-builder itself (its ``assemble`` step would resolve against an index) and no galaxy
requirements are written.

Layout of the output directory::

    execution-environment.yml       the definition (version 3)
    netbundle/wheels/<file>.whl     exactly the files the chosen requirement files pin
    netbundle/requirements-<group>.txt
    netbundle/bundle.json           provenance: bundle id, project, target, groups, manifest sha256

The planning is pure (:func:`plan_ee_context` takes a manifest and the requirement files' text); only
:func:`write_ee_context` touches the file system, through a temporary directory renamed into place.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import BundleFormatError, TargetError, UsageError
from ..format.locks import pinned_hashes
from ..format.tar import verify_bundle
from .host import select_groups
from .trusted import resolve_policy

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

    from ..format.manifest import Manifest, TargetEntry
    from ..format.tar import VerifiedBundle
    from ..format.trust import TrustPolicy

#: A short image name: the container tool resolves it through its configured (mirror) registries, which is what
#: a disconnected site needs anyway. Pass ``--base-image`` to name your own.
DEFAULT_BASE_IMAGE = "awx-ee:latest"
DEFAULT_MACHINE = "x86_64"
DEFINITION_NAME = "execution-environment.yml"
#: The folder of the output directory that ansible-builder copies into its context (``_build/netbundle``).
FILES_DIR = "netbundle"
#: Where those files sit inside the image while pip runs; removed in the same RUN step.
IMAGE_DIR = "/opt/netbundle-install"
#: The Python of base images whose name we know (repository basename -> X.Y); others need --python or --target.
KNOWN_BASE_PYTHONS = {"awx-ee": "3.11"}

#: ansible-builder's default entrypoint (its container_init default, minus the online ``package_pip`` step).
ENTRYPOINT = '["/opt/builder/bin/entrypoint", "dumb-init"]'


@dataclass(frozen=True)
class EEContextPlan:
    """What :func:`write_ee_context` writes: the definition text and the bundle members to copy."""

    target: str
    groups: Tuple[str, ...]
    base_image: str
    python_path: str
    #: (bundle member path, file name under ``netbundle/wheels/``), sorted by file name
    wheels: Tuple[Tuple[str, str], ...]
    #: (bundle member path, file name under ``netbundle/``), one per group, main first
    requirements: Tuple[Tuple[str, str], ...]
    #: the shell command the image build runs (also in the definition)
    pip_command: str
    definition: str
    provenance: Mapping[str, Any]


@dataclass(frozen=True)
class EEContextResult:
    """A written build context."""

    out_dir: str
    definition: str
    target: str
    groups: Tuple[str, ...]
    base_image: str
    wheels: Tuple[str, ...]
    pip_command: str

    def to_dict(self) -> Dict[str, Any]:
        return {
            "out_dir": self.out_dir,
            "definition": self.definition,
            "target": self.target,
            "groups": list(self.groups),
            "base_image": self.base_image,
            "wheels": list(self.wheels),
            "pip_command": self.pip_command,
        }


# --- pure planning -----------------------------------------------------------------------------------------------


def base_image_python(base_image: str) -> Optional[str]:
    """The Python version of a known base image, from its repository's basename (``None`` when unknown).

    >>> base_image_python("mirror.example/ansible/awx-ee:24.6.1")
    '3.11'
    """
    name = base_image.split("@", 1)[0].rsplit("/", 1)[-1].split(":", 1)[0]
    return KNOWN_BASE_PYTHONS.get(name)


def select_target(
    manifest: Manifest, name: Optional[str], python: Optional[str], machine: str = DEFAULT_MACHINE
) -> TargetEntry:
    """The bundle target to install in the image: ``name`` if given, else the one Linux target for ``machine``
    (and ``python`` when known). Raises UsageError for an unknown name, TargetError when none or several fit."""
    names = ", ".join(t.name for t in manifest.targets)
    if name is not None:
        for target in manifest.targets:
            if target.name == name:
                return target
        raise UsageError(
            "bundle {} has no target {!r}".format(manifest.bundle_id, name), hint="choose one of: " + names
        )
    fits = [t for t in manifest.targets if _fits_image(t, python, machine)]
    wanted = "Linux {} image{}".format(machine, " with Python " + python if python else "")
    if not fits:
        raise TargetError(
            "bundle {} has no target for a {} (targets: {})".format(manifest.bundle_id, wanted, names),
            hint="pass --target NAME, or --python X.Y for the base image's Python",
        )
    if len(fits) > 1:
        raise TargetError(
            "several targets of bundle {} fit a {}: {}".format(
                manifest.bundle_id, wanted, ", ".join(t.name for t in fits)
            ),
            hint="pass --target NAME (or --python X.Y for the base image's Python)",
        )
    return fits[0]


def _fits_image(target: TargetEntry, python: Optional[str], machine: str) -> bool:
    env = target.marker_environment
    if env.get("sys_platform", "linux") != "linux" or env.get("platform_machine", machine) != machine:
        return False
    return python is None or target.python_version == python


def pip_command(requirement_names: Sequence[str], directory: str = IMAGE_DIR, python: str = "$PYCMD") -> str:
    """The offline pip step: bundle wheels only, hashes required, no configuration file can add an index.

    ``--isolated`` is not used because it would also drop ansible-builder's ``PIP_BREAK_SYSTEM_PACKAGES``;
    ``PIP_CONFIG_FILE=/dev/null`` and ``--no-index`` keep every index out instead.
    """
    parts = [
        "env PIP_CONFIG_FILE=/dev/null",
        python,
        "-m pip install --no-index --find-links {}/wheels".format(directory),
        "--require-hashes --only-binary=:all: --no-cache-dir --disable-pip-version-check",
    ]
    parts.extend("-r {}/{}".format(directory, name) for name in requirement_names)
    return " ".join(parts)


def plan_ee_context(
    manifest: Manifest,
    requirement_texts: Mapping[str, str],
    target: TargetEntry,
    groups: Sequence[str],
    base_image: str = DEFAULT_BASE_IMAGE,
    python_path: Optional[str] = None,
    manifest_sha256: str = "",
) -> EEContextPlan:
    """Plan a build context for ``target`` and the resolved ``groups`` (main first).

    :param requirement_texts: lock member path -> its text, for each group's lock of ``target``.
    """
    requirements = tuple((target.locks[g], "requirements-{}.txt".format(g)) for g in groups)
    wheels = _wheels_for(manifest, [(path, requirement_texts[path]) for path, _ in requirements])
    command = pip_command([name for _, name in requirements])
    python_path = python_path or "/usr/bin/python{}".format(target.python_version)
    provenance = {
        "bundle_id": manifest.bundle_id,
        "project": {"name": manifest.project_name, "version": manifest.project_version},
        "manifest_sha256": manifest_sha256,
        "target": target.name,
        "groups": list(groups),
    }  # type: Dict[str, Any]
    definition = render_definition(manifest, target.name, groups, base_image, python_path, command)
    return EEContextPlan(
        target.name,
        tuple(groups),
        base_image,
        python_path,
        wheels,
        requirements,
        command,
        definition,
        provenance,
    )


def _wheels_for(manifest: Manifest, requirements: Sequence[Tuple[str, str]]) -> Tuple[Tuple[str, str], ...]:
    by_hash = {
        f.sha256: f.path for f in manifest.files if f.kind in ("wheel", "dist") and f.path.endswith(".whl")
    }
    chosen = {}  # type: Dict[str, str]
    for lock_path, text in requirements:
        for digest in pinned_hashes(text):
            member = by_hash.get(digest)
            if member is None:
                raise BundleFormatError(
                    "{} in bundle {} pins sha256:{} but the bundle lists no wheel with that hash".format(
                        lock_path, manifest.bundle_id, digest
                    ),
                    hint="rebuild the bundle with `netbundle build`",
                )
            name = member.rsplit("/", 1)[-1]
            if chosen.get(name, member) != member:
                raise BundleFormatError("two bundle members are both named {}".format(name))
            chosen[name] = member
    return tuple((member, name) for name, member in sorted(chosen.items()))


def render_definition(
    manifest: Manifest, target: str, groups: Sequence[str], base_image: str, python_path: str, command: str
) -> str:
    """The ``execution-environment.yml`` text (version 3). Scalars are JSON strings, which YAML reads as is."""
    q = json.dumps
    label = "LABEL org.netbundle.bundle-id={} org.netbundle.target={}".format(
        q(manifest.bundle_id), q(target)
    )
    lines = [
        "# Generated by netbundle ee-context from bundle {} ({} {}),".format(
            manifest.bundle_id, manifest.project_name, manifest.project_version
        ),
        "# target {}, groups {}. Python packages come only from netbundle/wheels (no index).".format(
            target, ", ".join(groups)
        ),
        "# Build: ansible-builder build -f {} -t IMAGE".format(DEFINITION_NAME),
        "version: 3",
        "images:",
        "  base_image:",
        "    name: {}".format(q(base_image)),
        "dependencies:",
        "  python_interpreter:",
        "    python_path: {}".format(q(python_path)),
        "additional_build_files:",
        "  - src: {}".format(q(FILES_DIR)),
        "    dest: {}".format(q(FILES_DIR)),
        "additional_build_steps:",
        "  prepend_final:",
        "    - {}".format(q("COPY _build/{} {}".format(FILES_DIR, IMAGE_DIR))),
        "    - {}".format(q("RUN {} && rm -rf {}".format(command, IMAGE_DIR))),
        "    - {}".format(q(label)),
        "options:",
        "  # ansible-builder's default also pip-installs dumb-init from an index; EE base images carry it already",
        "  container_init:",
        "    entrypoint: {}".format(q(ENTRYPOINT)),
        "    cmd: {}".format(q('["bash"]')),
    ]
    return "\n".join(lines) + "\n"


# --- I/O edge ------------------------------------------------------------------------------------------------------


def ee_context_from_bundle(
    bundle: str,
    out_dir: Path,
    trust_files: Sequence[str] = (),
    policy: Optional[TrustPolicy] = None,
    **options: Any,
) -> EEContextResult:
    """Verify ``bundle`` (signatures, then every member) into a private staging directory beside ``out_dir``,
    write the build context with :func:`write_ee_context` (``options`` are its keyword arguments), and remove
    the staging directory. ``policy`` defaults to the embedded keys plus ``trust_files``.

    This is what both CLIs call (``netbundle ee-context`` and ``netbundle.pyz ee-context``).
    """
    out_dir = Path(out_dir)
    _check_out_dir(out_dir)
    policy = policy if policy is not None else resolve_policy(trust_files)
    parent = out_dir.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".{}.staging.".format(out_dir.name), dir=str(parent)))
    try:
        verified = verify_bundle(bundle, policy, staging=scratch / "bundle")
        return write_ee_context(verified, out_dir, **options)
    finally:
        shutil.rmtree(str(scratch), ignore_errors=True)


def write_ee_context(
    verified: VerifiedBundle,
    out_dir: Path,
    groups: Sequence[str] = (),
    target: Optional[str] = None,
    base_image: str = DEFAULT_BASE_IMAGE,
    python: Optional[str] = None,
    machine: str = DEFAULT_MACHINE,
    python_path: Optional[str] = None,
) -> EEContextResult:
    """Write the build context of a verified, staged bundle to ``out_dir`` (new or empty), atomically.

    :param python: the base image's Python (``X.Y``) used to pick the target; known images need none.
    """
    out_dir = Path(out_dir)
    _check_out_dir(out_dir)
    manifest = verified.manifest
    chosen = select_target(manifest, target, python or base_image_python(base_image), machine)
    resolved = select_groups(manifest, chosen, groups)
    texts = {}  # type: Dict[str, str]
    for group in resolved:
        path = chosen.locks[group]
        texts[path] = verified.member_path(path).read_text(encoding="utf-8")
    plan = plan_ee_context(
        manifest, texts, chosen, resolved, base_image, python_path, verified.manifest_sha256
    )
    _materialize(plan, verified, out_dir)
    return EEContextResult(
        out_dir=str(out_dir),
        definition=str(out_dir / DEFINITION_NAME),
        target=plan.target,
        groups=plan.groups,
        base_image=plan.base_image,
        wheels=tuple(name for _, name in plan.wheels),
        pip_command=plan.pip_command,
    )


def _check_out_dir(out_dir: Path) -> None:
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise UsageError(
            "{} exists and is not an empty directory".format(out_dir),
            hint="choose a new output directory (ee-context never overwrites)",
        )


def _materialize(plan: EEContextPlan, verified: VerifiedBundle, out_dir: Path) -> None:
    parent = out_dir.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".{}.".format(out_dir.name), dir=str(parent)))
    try:
        files = scratch / FILES_DIR
        (files / "wheels").mkdir(parents=True)
        for member, name in plan.wheels:
            shutil.copyfile(str(verified.member_path(member)), str(files / "wheels" / name))
        for member, name in plan.requirements:
            shutil.copyfile(str(verified.member_path(member)), str(files / name))
        (files / "bundle.json").write_text(json.dumps(plan.provenance, indent=2, sort_keys=True) + "\n")
        (scratch / DEFINITION_NAME).write_text(plan.definition, encoding="utf-8")
        # mkdtemp made it 0700; the container tool (maybe another user, rootless podman) reads the context
        scratch.chmod(0o755)
        if out_dir.exists():
            out_dir.rmdir()
        scratch.rename(out_dir)
    except BaseException:
        shutil.rmtree(str(scratch), ignore_errors=True)
        raise
