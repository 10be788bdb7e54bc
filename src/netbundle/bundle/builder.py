"""``netbundle build``: lock engine + fetch + the project's own wheels -> one signed, deterministic bundle tar.

The steps: gather (choose, download into the cache, build sdist-only/git/path dependencies), build the project's
sdist and wheel, pick the pip wheel for ``tools/``, work out the members and the per-target locks
(:mod:`netbundle.bundle.contents`), render the SBOM and the manifest, sign the manifest with every key, and write
the tar atomically (:mod:`netbundle.bundle.writer`). Same inputs and ``SOURCE_DATE_EPOCH`` -> same bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import shutil
import tempfile
from concurrent.futures import Future
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from netbundle import __version__
from netbundle._atomic import prepare_output
from netbundle.bundle import contents as plan
from netbundle.bundle.buildtime import build_epoch, expiry
from netbundle.bundle.checksums import SUMS_NAME, record_checksum
from netbundle.bundle.pipwheel import choose_pin, fetch_pip
from netbundle.bundle.sbom import render_sbom
from netbundle.bundle.signing import sign, signature_member_name
from netbundle.errors import JSON_FORMAT, BuildError, BundleFormatError, InputError, UsageError
from netbundle.format.layout import SBOM_PATH, lock_member, pylock_member, tool_member, wheel_member
from netbundle.format.locks import assignment_problems, render_group_lock
from netbundle.format.manifest import (
    FORMAT_VERSION,
    FileEntry,
    Manifest,
    TargetEntry,
    canonical_json,
    format_timestamp,
    render_manifest,
)
from netbundle.format.tar import file_entry, file_sha256, write_bundle
from netbundle.format.wheel import check_wheel
from netbundle.lock.groups import GroupSelection, resolve_groups, select_for_environment, select_packages
from netbundle.lock.project import LoadedProject, load_project
from netbundle.targets import targets_from_config
from netbundle.wheelhouse import FetchRequest, Gathered, build_environment, cache_of, gather
from netbundle.wheels.build import (
    DEFAULT_EPOCH,
    backend_of,
    build_project,
    cached_project,
    project_build_requirements,
    project_cache_key,
)
from netbundle.wheels.environment import BuildEnvironment
from netbundle.wheels.pool import BuildPool

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from netbundle.bundle.signing import SecretKey
    from netbundle.lock.model import SelectedPackage
    from netbundle.targets import Target
    from netbundle.targets.choice import Choice

_log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True, slots=True)
class BuildRequest:
    """What to carry and where from (``fetch``; its ``output`` is the bundle file), and how to sign it."""

    fetch: FetchRequest
    sign_keys: tuple[SecretKey, ...] = ()
    pip_version: str | None = None
    #: ``--expires``: seconds after the build time at which installers refuse the bundle (None: never).
    expires_after: int | None = None
    #: keys still being unlocked (scrypt) while the build runs (``cli.keys.start_unlocking``): waited for only to
    #: sign; they sign after ``sign_keys``
    pending_keys: Future[tuple[SecretKey, ...]] | None = None

    def signing_keys(self) -> tuple[SecretKey, ...]:
        """Every signing key, waiting for the pending ones (raising their unlock error, such as a wrong password)."""
        if self.pending_keys is None:
            return self.sign_keys
        if not self.pending_keys.done():
            _log.info("waiting for the signing keys to be unlocked (scrypt)")
        return self.sign_keys + self.pending_keys.result()

    def check_pending_keys(self) -> None:
        """Raise a pending key's unlock error now if it has already failed (the build need not go on)."""
        if self.pending_keys is not None and self.pending_keys.done():
            self.pending_keys.result()


@dataclass(frozen=True, kw_only=True, slots=True)
class BuildResult:
    path: Path
    manifest: Manifest
    manifest_sha256: str
    size: int | None  # None when the bundle went to standard output or a device
    signers: tuple[str, ...]
    #: the sha256 of the bundle file (recorded in SHA256SUMS beside it)
    sha256: str = ""

    def to_json(self) -> dict[str, object]:
        m = self.manifest
        return {
            "format": JSON_FORMAT,
            "bundle": str(self.path),
            "bundle_id": m.bundle_id,
            "project": {"name": m.project_name, "version": m.project_version},
            "manifest_sha256": self.manifest_sha256,
            "sha256": self.sha256,
            "tar_bytes": self.size,
            "payload_bytes": sum(f.size for f in m.files),
            "targets": [t.name for t in m.targets],
            "groups": list(m.groups),
            "packages": len(m.packages),
            "files": len(m.files),
            "signers": list(self.signers),
        }

    def render_text(self) -> str:
        m = self.manifest
        payload = sum(f.size for f in m.files)
        return "\n".join(
            (
                f"{self.path}: {m.bundle_id} ({len(m.packages)} packages, {len(m.files)} files)",
                (
                    f"  {self.size} bytes on disk (tar), {payload} payload bytes (the listed files)"
                    if self.size is not None
                    else f"  written to a stream, {payload} payload bytes (the listed files)"
                ),
                f"  targets: {', '.join(t.name for t in m.targets)}; groups: {', '.join(m.groups)}",
                f"  sha256 {self.sha256} (in {self.path.parent / SUMS_NAME})",
                f"  manifest sha256 {self.manifest_sha256}; signed by: {', '.join(self.signers) or 'nobody'}",
            )
        )


def source_date_epoch(environ: Mapping[str, str]) -> int:
    """``SOURCE_DATE_EPOCH`` (at least 1980-01-01, the earliest time a zip can carry), else 1980-01-01.

    :func:`build_bundle` uses it only when the variable is set; otherwise the build time is the lock's last commit
    time (:func:`netbundle.bundle.buildtime.build_epoch`), never a fixed epoch: it orders releases.
    """
    raw = environ.get("SOURCE_DATE_EPOCH")
    if raw is None or raw == "":
        return DEFAULT_EPOCH
    if not raw.isascii() or not raw.isdigit():
        raise UsageError(f"SOURCE_DATE_EPOCH={raw!r} is not a whole number of seconds since 1970")
    return max(int(raw), DEFAULT_EPOCH)


def build_bundle(request: BuildRequest) -> BuildResult:
    """Build, sign and write the bundle; nothing is left at ``request.fetch.output`` unless it all succeeded."""
    loaded = _check_selection(request.fetch)
    prepare_output(request.fetch.output)  # a read-only or unusable output fails now, not after the build
    environ = request.fetch.environ
    epoch = (
        source_date_epoch(environ)
        if environ.get("SOURCE_DATE_EPOCH")
        else build_epoch(loaded.root, loaded.lock_path)
    )
    expires = expiry(epoch, request.expires_after)
    with BuildPool() as pool:
        # the project's own build needs nothing from the downloads: it runs while they do
        environment = build_environment(loaded, request.fetch)
        own = _ProjectBuild.start(loaded, cache_of(request.fetch).root, epoch, pool, environment)
        try:
            found = gather(request.fetch, pool=pool)
            request.check_pending_keys()
        except BaseException:
            own.discard()
            raise
        project = own.wait()
    # every configured target counts, not only those of this build: parts built per target on different runners
    # then carry the same pip, and merge
    configured = targets_from_config(found.loaded.pyproject.netbundle.targets)
    pin = choose_pin(
        (*found.targets, *configured),
        found.loaded.pyproject.netbundle,
        request.pip_version,
        where=str(found.loaded.pyproject_path),
    )
    pip = fetch_pip(found.indexes.get(None), found.indexes.http, found.cache, pin)
    groups = tuple(sorted(resolve_groups(found.loaded.pyproject, found.selection)))
    carried = plan.plan_contents(
        found.plan.choices, found.fetched.paths, found.built, _groups_of(found, groups), project
    )
    carried.add(tool_member(pip.filename), pip.path, pip.sha256)
    _check_wheels(carried.files)
    texts = _locks(found, groups, project)
    manifest, members = _manifest(found, groups, carried, texts, project, tool_member(pip.filename), epoch)
    assert_lock_assignments(manifest, texts)
    if expires is not None:
        manifest = replace(manifest, expires=format_timestamp(expires))
    manifest_bytes = render_manifest(manifest)
    keys = request.signing_keys()
    signatures = {
        signature_member_name(key): sign(
            manifest_bytes, key, trusted_comment=f"netbundle bundle {manifest.bundle_id}"
        )
        for key in keys
    }
    path = write_bundle(
        request.fetch.output, manifest=manifest_bytes, signatures=signatures, files=members, mtime=epoch
    )
    return BuildResult(
        path=path,
        manifest=manifest,
        manifest_sha256=hashlib.sha256(manifest_bytes).hexdigest(),
        size=path.stat().st_size if path.is_file() else None,
        signers=tuple(key.key_id_hex for key in keys),
        sha256=record_checksum(path),
    )


def assert_lock_assignments(manifest: Manifest, texts: Mapping[str, bytes]) -> None:
    """Every hash of a target's locks is a file assigned to that target (what the verifier checks again)."""
    problems = assignment_problems(manifest, {path: text.decode() for path, text in texts.items()})
    if problems:
        raise BuildError(
            f"the bundle's locks and manifest disagree: {'; '.join(problems[:3])}",
            hint="this is a netbundle bug: report it with the pyproject.toml and poetry.lock",
        )


def _check_selection(request: FetchRequest) -> LoadedProject:
    """A bundle always carries ``main`` (the project and what it needs): refuse selections that drop it."""
    loaded = load_project(request.project_dir)
    groups = resolve_groups(loaded.pyproject, request.selection)
    if "main" not in groups:
        raise UsageError(
            f"the selection carries {', '.join(sorted(groups)) or 'no group'} but not main",
            hint="a bundle always carries main: use --with GROUP instead of --only, and do not pass --without main",
        )
    return loaded


@dataclass(kw_only=True, slots=True)
class _ProjectBuild:
    """The project's sdist+wheel: from the cache, or being built in a pool worker into ``staging``.

    Unchanged sources (same files, modes and bytes) and epoch take the sdist and wheel from the cache entry
    ``project/<key>/`` instead of building them again: a build of the same inputs gives the same bytes anyway.
    """

    loaded: LoadedProject
    entry: Path | None  # None: a ``package-mode = false`` project has no sdist or wheel of its own
    pool: BuildPool
    running: Future[Any] | None = None
    staging: Path | None = None

    @classmethod
    def start(
        cls,
        loaded: LoadedProject,
        cache_root: Path,
        epoch: int,
        pool: BuildPool,
        environment: BuildEnvironment,
    ) -> _ProjectBuild:
        if not loaded.pyproject.package_mode:
            return cls(loaded=loaded, entry=None, pool=pool)
        entry = cache_root / "project" / project_cache_key(loaded.root, epoch)
        own = cls(loaded=loaded, entry=entry, pool=pool)
        if cached_project(entry) is not None:
            _log.info("project %s: sdist and wheel from the cache (%s)", loaded.pyproject.name, entry)
            return own
        entry.parent.mkdir(parents=True, exist_ok=True)
        own.staging = Path(tempfile.mkdtemp(prefix=".build-", dir=entry.parent))
        own.running = pool.submit(
            build_project, loaded.root, own.staging, epoch=epoch, environment=environment
        )
        return own

    def wait(self) -> plan.ProjectArtifacts | None:
        project = self.loaded.pyproject
        if self.entry is None:
            return None
        if self.running is not None and self.staging is not None:
            try:
                self.pool.result(self.running)
                with contextlib.suppress(OSError):  # another build of the same sources renamed it first
                    self.staging.rename(self.entry)
            finally:
                shutil.rmtree(self.staging, ignore_errors=True)
        sdist, wheel = cached_project(self.entry) or _missing(self.entry)
        return plan.ProjectArtifacts(
            name=project.name,
            version=project.version,
            wheel=wheel,
            wheel_sha256=file_sha256(wheel),
            sdist=sdist,
            sdist_sha256=file_sha256(sdist),
            backend=backend_of(self.loaded.pyproject_data),
            build_requirements=project_build_requirements(self.entry),
        )

    def discard(self) -> None:
        """The bundle build failed elsewhere: stop waiting for this one and leave no staging directory."""
        if self.running is not None:
            self.running.cancel()
            with contextlib.suppress(Exception):
                self.running.result()
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)


def _missing(entry: Path) -> tuple[Path, Path]:
    raise BuildError(
        f"{entry}: the project's build cache entry does not hold one sdist and one wheel",
        hint="remove that directory (or use another --cache-dir) and build again",
    )


def _group_selection(found: Gathered, group: str) -> GroupSelection:
    return GroupSelection(
        only_groups=(group,), extras=found.selection.extras, all_extras=found.selection.all_extras
    )


def _groups_of(found: Gathered, groups: tuple[str, ...]) -> dict[str, frozenset[str]]:
    """Package name -> the carried groups that need it."""
    loaded = found.loaded
    result: dict[str, set[str]] = {}
    for group in groups:
        for item in select_packages(loaded.pyproject, loaded.lock, _group_selection(found, group)):
            result.setdefault(item.package.name, set()).add(group)
    return {name: frozenset(found_groups) for name, found_groups in result.items()}


def _locks(
    found: Gathered, groups: tuple[str, ...], project: plan.ProjectArtifacts | None
) -> dict[str, bytes]:
    """Member path -> text of every per-target, per-group requirements file and every target's pylock.toml."""
    loaded = found.loaded
    texts: dict[str, bytes] = {}
    everything = select_packages(loaded.pyproject, loaded.lock, found.selection)
    # a walk of the lock per group, not per group and target (each walk costs ~50 ms on a 200-package lock)
    per_group = {
        g: select_packages(loaded.pyproject, loaded.lock, _group_selection(found, g)) for g in groups
    }
    for target in found.targets:
        choices: dict[str, Choice] = {c.package.name: c for c in found.plan.choices[target.name]}
        for group in groups:
            wanted = per_group[group]
            here = select_for_environment(wanted, target.marker_environment(), where=f"target {target.name}")
            rows: list[tuple[str, str, str]] = [
                (
                    i.package.name,
                    i.package.version,
                    plan.bundled_hash(_choice(choices, i, target), found.built),
                )
                for i in here
            ]
            if group == "main" and project is not None:
                rows.append((project.name, project.version, project.wheel_sha256))
            texts[lock_member(target.name, group)] = _render_lock(target.name, group, rows).encode()
        env_items = select_for_environment(
            everything, target.marker_environment(), where=f"target {target.name}"
        )
        pylock = plan.render_target_pylock(
            target,
            env_items,
            found.plan.choices[target.name],
            found.built,
            loaded.pyproject.requires_python,
        )
        texts[pylock_member(target.name)] = pylock.encode()
    return texts


def _check_wheels(files: Mapping[str, Path]) -> None:
    """Refuse to carry a wheel that would write outside the venv (the installer refuses it too, later)."""
    for member, source in sorted(files.items()):
        if member.endswith(".whl"):
            try:
                check_wheel(source, member)
            except BundleFormatError as exc:
                raise BuildError(exc.message, hint="do not bundle this wheel: " + (exc.hint or "")) from None


def _render_lock(target: str, group: str, rows: list[tuple[str, str, str]]) -> str:
    """The group's requirements file; a name, version or group pip could read as an option is an input error."""
    try:
        return render_group_lock(target, group, rows)
    except ValueError as exc:
        raise InputError(
            f"cannot write the lock of target {target}, group {group!r}: {exc}",
            hint="fix the name or version in pyproject.toml / poetry.lock (PEP 508 names, PEP 440 versions)",
        ) from None


def _choice(choices: Mapping[str, Choice], item: SelectedPackage, target: Target) -> Choice:
    choice = choices.get(item.package.name)
    if choice is None:  # a group needs a package the carried selection did not choose for this target
        raise BuildError(
            f"{item.package.name} {item.package.version} is needed on target {target.name} but was not selected",
            hint="report this with the pyproject.toml and poetry.lock: the group selections disagree",
        )
    return choice


def _manifest(
    found: Gathered,
    groups: tuple[str, ...],
    carried: plan.Contents,
    texts: Mapping[str, bytes],
    project: plan.ProjectArtifacts | None,
    pip_member: str,
    epoch: int,
) -> tuple[Manifest, dict[str, Path | bytes]]:
    members: dict[str, Path | bytes] = {**carried.files, **texts}
    entries = [FileEntry(p, s.stat().st_size, carried.sha256[p], _kind(p)) for p, s in carried.files.items()]
    entries += [file_entry(path, _kind(path), data) for path, data in texts.items()]
    loaded = found.loaded
    identity = bundle_identity(
        (loaded.pyproject.name, loaded.pyproject.version), loaded.lock_sha256, entries, groups
    )
    sbom = render_sbom(
        project=(loaded.pyproject.name or loaded.root.name, loaded.pyproject.version),
        packages=carried.packages,
        hashes=carried.sha256,
        build_time=epoch,
        builder_version=__version__,
        identity=identity,
    )
    members[SBOM_PATH] = sbom
    entries.append(file_entry(SBOM_PATH, "sbom", sbom))
    manifest = Manifest(
        format_version=FORMAT_VERSION,
        bundle_id=make_bundle_id(loaded.pyproject.name, loaded.pyproject.version, identity),
        project_name=loaded.pyproject.name or "bundle",
        project_version=loaded.pyproject.version,
        builder_version=__version__,
        build_time=format_timestamp(epoch),
        lock_content_hash=loaded.lock.content_hash,
        lock_sha256=loaded.lock_sha256,
        groups=groups,
        extras=tuple(sorted(found.selection.extras)),
        targets=tuple(_target_entry(t, groups) for t in found.targets),
        files=tuple(sorted(entries, key=lambda e: e.path)),
        packages=tuple(carried.packages),
        project_artifacts=tuple(sorted(p for p in carried.files if p.startswith("dist/")))
        + ((wheel_member(project.wheel.name),) if project is not None else ()),
        pip_wheel=pip_member,
        sbom=SBOM_PATH,
        smoke=loaded.pyproject.netbundle.smoke,
        skip_imports=loaded.pyproject.netbundle.skip_imports,
        rehearse_env=loaded.pyproject.netbundle.rehearse_env,
    )
    return manifest, members


def make_bundle_id(project_name: str, project_version: str, identity: str) -> str:
    """The bundle id: project, version and the first 12 hex digits of :func:`bundle_identity`."""
    return f"{project_name or 'bundle'}-{project_version}-{identity[:12]}"


def bundle_identity(
    project: tuple[str, str], lock_sha256: str, entries: Sequence[FileEntry], groups: Sequence[str]
) -> str:
    """The content digest behind the bundle id and the SBOM serial: project, lock, groups, every file's hash."""
    return hashlib.sha256(
        canonical_json(
            {
                "project": list(project),
                "lock": lock_sha256,
                "files": sorted([e.path, e.sha256] for e in entries if e.kind != "sbom"),
                "groups": list(groups),
            }
        )
    ).hexdigest()


def _kind(path: str) -> str:
    top = path.split("/", 1)[0]
    if top == "locks":
        return "pylock" if path.endswith("pylock.toml") else "lock"
    return {"wheels": "wheel", "dist": "dist", "sbom": "sbom", "tools": "tool"}.get(top, "meta")


def _target_entry(target: Target, groups: tuple[str, ...]) -> TargetEntry:
    return TargetEntry(
        name=target.name,
        python_version=f"{target.python_tuple[0]}.{target.python_tuple[1]}",
        implementation=target.implementation,
        abis=target.abis,
        platforms=target.platforms,
        marker_environment=target.marker_environment(),
        locks={g: lock_member(target.name, g) for g in groups},
        pylock=pylock_member(target.name),
    )
