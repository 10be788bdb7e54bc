"""What goes into a bundle, worked out from a fetch (pure): members, packages with origins, per-target locks.

:func:`plan_contents` takes the fetch's choices and results and returns every member path with its content
source, the manifest's package entries, and the pip-ready lock text of each (target, group). Nothing here reads
files or the network; the builder (:mod:`netbundle.bundle.builder`) does the I/O around it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from netbundle.errors import BuildError
from netbundle.format.layout import dist_member, wheel_member
from netbundle.format.manifest import Artifact, BuildInfo, Origin, PackageEntry
from netbundle.lock.export import redact_url
from netbundle.lock.model import LockedFile
from netbundle.lock.pylock import render_pylock

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from netbundle.lock.model import LockedPackage, SelectedPackage
    from netbundle.targets import Target
    from netbundle.targets.choice import Choice
    from netbundle.wheels.build import BuiltWheel


@dataclass(frozen=True, kw_only=True, slots=True)
class ProjectArtifacts:
    """The project's own wheel and sdist, built on this host."""

    name: str
    version: str
    wheel: Path
    wheel_sha256: str
    sdist: Path
    sdist_sha256: str
    backend: str


@dataclass(kw_only=True, slots=True)
class Contents:
    """Member path -> file on disk, and the manifest's package entries."""

    files: dict[str, Path] = field(default_factory=dict)
    sha256: dict[str, str] = field(default_factory=dict)
    packages: list[PackageEntry] = field(default_factory=list)

    def add(self, path: str, source: Path, sha256: str) -> None:
        known = self.sha256.get(path)
        if known is not None and known != sha256:
            raise BuildError(
                f"two different files would be bundled as {path} (sha256 {known[:12]}… and {sha256[:12]}…)",
                hint="a package built on this host clashes with a published file of the same name",
            )
        self.files[path] = source
        self.sha256[path] = sha256


def plan_contents(
    choices: Mapping[str, Sequence[Choice]],
    paths: Mapping[str, Path],
    built: Mapping[str, BuiltWheel],
    groups_of: Mapping[str, frozenset[str]],
    project: ProjectArtifacts | None,
) -> Contents:
    """Every wheel once, with the targets it serves and its origin; the project's own artifacts."""
    contents = Contents()
    by_package: dict[tuple[str, str], dict[str, tuple[set[str], Origin]]] = defaultdict(dict)
    for target, target_choices in sorted(choices.items()):
        for choice in target_choices:
            path, source, sha256, origin = _bundled_file(choice, paths, built)
            contents.add(path, source, sha256)
            key = (choice.package.name, choice.package.version)
            served, _ = by_package[key].setdefault(path, (set(), origin))
            served.add(target)
    for (name, version), artifacts in sorted(by_package.items()):
        contents.packages.append(
            PackageEntry(
                name=name,
                version=version,
                groups=tuple(sorted(groups_of.get(name, frozenset()))),
                artifacts=tuple(
                    Artifact(path=path, targets=tuple(sorted(served)), origin=origin)
                    for path, (served, origin) in sorted(artifacts.items())
                ),
            )
        )
    if project is not None:
        _add_project(contents, project, tuple(sorted(choices)))
    return contents


def _bundled_file(
    choice: Choice, paths: Mapping[str, Path], built: Mapping[str, BuiltWheel]
) -> tuple[str, Path, str, Origin]:
    package = choice.package
    if choice.needs_build:
        wheel = built.get(package.name)
        if wheel is None:
            raise BuildError(
                f"{package.name} {package.version} has no wheel for target {choice.target} and was not built",
                hint="run without --no-build, or on a runner of that platform and `netbundle merge` the parts",
            )
        info = BuildInfo(wheel.input_filename, wheel.input_sha256, wheel.backend)
        origin = _origin(package, wheel.input_filename, wheel.input_sha256, info)
        return wheel_member(wheel.path.name), wheel.path, wheel.sha256, origin
    file = _chosen_file(choice)
    origin = _origin(package, file.filename, file.sha256, None)
    return wheel_member(file.filename), paths[file.sha256], file.sha256, origin


def _chosen_file(choice: Choice) -> LockedFile:
    if choice.file is None:  # pragma: no cover - choices that need no build always name a file
        raise BuildError(
            f"{choice.package.name} {choice.package.version}: nothing chosen for {choice.target}"
        )
    return choice.file


def _origin(package: LockedPackage, filename: str, sha256: str, build: BuildInfo | None) -> Origin:
    source = package.source
    if source is None:
        return Origin(kind="index", source=None, filename=filename, sha256=sha256, build=build)
    if source.type == "legacy":
        return Origin(kind="index", source=source.reference, filename=filename, sha256=sha256, build=build)
    url = redact_url(source.url) if source.type in ("url", "git") else None
    kind = "directory" if source.type == "directory" else source.type
    return Origin(kind=kind, source=None, filename=filename, sha256=sha256, url=url, build=build)


def _add_project(contents: Contents, project: ProjectArtifacts, targets: tuple[str, ...]) -> None:
    wheel_path = wheel_member(project.wheel.name)
    contents.add(wheel_path, project.wheel, project.wheel_sha256)
    contents.add(dist_member(project.sdist.name), project.sdist, project.sdist_sha256)
    build = BuildInfo(project.sdist.name, project.sdist_sha256, project.backend)
    origin = Origin(
        kind="directory", source=None, filename=project.sdist.name, sha256=project.sdist_sha256, build=build
    )
    contents.packages.append(
        PackageEntry(
            name=project.name,
            version=project.version,
            groups=("main",),
            artifacts=(Artifact(path=wheel_path, targets=targets, origin=origin),),
        )
    )


# --- locks -------------------------------------------------------------------------------------------------------


def bundled_hash(choice: Choice, built: Mapping[str, BuiltWheel]) -> str:
    """The sha256 of the file the bundle carries for ``choice``."""
    if choice.needs_build:
        return built[choice.package.name].sha256
    return _chosen_file(choice).sha256


def bundle_view(choice: Choice, built: Mapping[str, BuiltWheel]) -> LockedPackage:
    """The locked package as the bundle carries it: its one bundled wheel, no remote source."""
    package = choice.package
    if choice.needs_build:
        wheel = built[package.name]
        file = LockedFile(filename=wheel.path.name, sha256=wheel.sha256)  # type: ignore[arg-type]
    else:
        file = _chosen_file(choice)
    return replace(package, files=(file,), source=None)


def render_target_pylock(
    target: Target,
    selected: Sequence[SelectedPackage],
    choices: Sequence[Choice],
    built: Mapping[str, BuiltWheel],
    requires_python: str | None,
) -> str:
    """``pylock.toml`` for one target with paths relative to it (``../../wheels/…``), bundled files only."""
    by_name = {c.package.name: c for c in choices}
    items = [
        replace(s, package=bundle_view(by_name[s.package.name], built), marker=None)
        for s in selected
        if s.package.name in by_name
    ]
    return render_pylock(
        items,
        locate=lambda _package, file: {"path": f"../../{wheel_member(file.filename)}"},
        requires_python=requires_python,
        environments=(_environment_marker(target),),
    )


def _environment_marker(target: Target) -> str:
    env = target.marker_environment()
    return (
        f"python_version == '{env['python_version']}' and sys_platform == '{env['sys_platform']}'"
        f" and platform_machine == '{env['platform_machine']}'"
        f" and implementation_name == '{env['implementation_name']}'"
    )
