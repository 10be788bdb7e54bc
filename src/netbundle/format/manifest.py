"""The bundle manifest (format 1): the one schema both halves share.

The builder renders a :class:`Manifest` with :func:`render_manifest`; the installer parses the signed bytes with
:func:`parse_manifest`, which validates every field and collects every problem before raising once. The format is
specified in ``docs/bundle-format.md`` with a JSON Schema in ``docs/manifest.schema.json``.

Versioning: ``format_version`` is ``"MAJOR.MINOR"``. A reader refuses an unknown major version and accepts a newer
minor version with a warning (unknown keys are then ignored, never trusted).
"""

from __future__ import annotations

import calendar
import json
import re
import time
import warnings
from dataclasses import dataclass, field

from .layout import FILE_KINDS, TOP_DIRS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

FORMAT_MAJOR = 1
FORMAT_MINOR = 0
FORMAT_VERSION = "{}.{}".format(FORMAT_MAJOR, FORMAT_MINOR)

ORIGIN_KINDS = ("index", "url", "file", "directory", "git")

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_TARGET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_BUILD_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
#: The one timestamp format of manifests, receipts and reports: UTC, whole seconds (``2026-01-01T00:00:00Z``).
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_FORMAT = re.compile(r"^(\d+)\.(\d+)$")
#: Member paths: relative, forward slashes, no empty/dot/dot-dot parts, a conservative character set.
_PATH_PART = re.compile(r"^[A-Za-z0-9_+~=%@,-][A-Za-z0-9._+~=%@,-]*$")


class ManifestError(ValueError):
    """The manifest is not valid format-1 JSON; ``problems`` lists every issue with its JSON path."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        shown = "; ".join(self.problems[:5])
        more = " (and {} more)".format(len(self.problems) - 5) if len(self.problems) > 5 else ""
        super().__init__("invalid manifest: " + shown + more)


@dataclass(frozen=True)
class FileEntry:
    """A bundle member other than the manifest and its signatures."""

    path: str
    size: int
    sha256: str
    kind: str


@dataclass(frozen=True)
class BuildInfo:
    """How a wheel that the builder made was made: its input and the PEP 517 backend."""

    input_filename: str
    input_sha256: str
    backend: str


@dataclass(frozen=True)
class Origin:
    """Where an artifact came from. ``source`` is the Poetry source name (None for the default index).

    ``filename``/``sha256`` describe the artifact as published (for a built wheel: the sdist, or for git/path
    inputs an archive digest the builder computed); ``url`` is set for url/git sources, always without credentials.
    """

    kind: str
    source: Optional[str]
    filename: str
    sha256: str
    url: Optional[str] = None
    build: Optional[BuildInfo] = None


@dataclass(frozen=True)
class Artifact:
    """One bundled file of a package and the targets that install it."""

    path: str
    targets: Tuple[str, ...]
    origin: Origin


@dataclass(frozen=True)
class PackageEntry:
    name: str
    version: str
    groups: Tuple[str, ...]
    artifacts: Tuple[Artifact, ...]


@dataclass(frozen=True)
class TargetEntry:
    """A bundle target: where the bundle can be installed, and its pip-ready locks (group -> member path)."""

    name: str
    python_version: str
    implementation: str
    abis: Tuple[str, ...]
    platforms: Tuple[str, ...]
    marker_environment: Mapping[str, str]
    locks: Mapping[str, str]
    pylock: str


@dataclass(frozen=True)
class Manifest:
    format_version: str
    bundle_id: str
    project_name: str
    project_version: str
    builder_version: str
    build_time: str
    lock_content_hash: str
    lock_sha256: str
    groups: Tuple[str, ...]
    extras: Tuple[str, ...]
    targets: Tuple[TargetEntry, ...]
    files: Tuple[FileEntry, ...]
    packages: Tuple[PackageEntry, ...]
    project_artifacts: Tuple[str, ...] = ()
    pip_wheel: Optional[str] = None
    sbom: Optional[str] = None
    smoke: Tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    def file(self, path: str) -> FileEntry:
        for entry in self.files:
            if entry.path == path:
                return entry
        raise KeyError(path)

    def target(self, name: str) -> TargetEntry:
        for entry in self.targets:
            if entry.name == name:
                return entry
        raise KeyError(name)


# --- rendering ---------------------------------------------------------------------------------------------------


def canonical_json(data: Any) -> bytes:
    """Canonical JSON bytes: sorted keys, no whitespace, UTF-8, a final newline; floats are refused."""
    _refuse_floats(data, "$")
    return (json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n").encode(
        "utf-8"
    )


def _refuse_floats(value: Any, where: str) -> None:
    if isinstance(value, float):
        raise TypeError("floats are not allowed in canonical JSON (at {})".format(where))
    if isinstance(value, dict):
        for key, item in value.items():
            _refuse_floats(item, "{}.{}".format(where, key))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _refuse_floats(item, "{}[{}]".format(where, index))


def manifest_to_dict(manifest: Manifest) -> Dict[str, Any]:
    """The JSON object of a manifest (the inverse of :func:`parse_manifest`)."""
    data = {
        "format_version": manifest.format_version,
        "bundle_id": manifest.bundle_id,
        "project": {"name": manifest.project_name, "version": manifest.project_version},
        "builder": {"name": "netbundle", "version": manifest.builder_version},
        "build_time": manifest.build_time,
        "lock": {"content_hash": manifest.lock_content_hash, "sha256": manifest.lock_sha256},
        "groups": list(manifest.groups),
        "extras": list(manifest.extras),
        "targets": [_target_to_dict(t) for t in manifest.targets],
        "files": [
            {"path": f.path, "size": f.size, "sha256": f.sha256, "kind": f.kind}
            for f in sorted(manifest.files, key=lambda f: f.path)
        ],
        "packages": [
            _package_to_dict(p) for p in sorted(manifest.packages, key=lambda p: (p.name, p.version))
        ],
        "project_artifacts": list(manifest.project_artifacts),
        "pip_wheel": manifest.pip_wheel,
        "sbom": manifest.sbom,
        "rehearse": {"smoke": list(manifest.smoke)},
    }  # type: Dict[str, Any]
    for key, value in manifest.extra.items():
        data.setdefault(key, value)
    return data


def render_manifest(manifest: Manifest) -> bytes:
    """The canonical bytes that are written to ``netbundle/manifest.json`` and signed."""
    problems = _validate(manifest_to_dict(manifest))
    if problems:
        raise ManifestError(problems)
    return canonical_json(manifest_to_dict(manifest))


def _target_to_dict(target: TargetEntry) -> Dict[str, Any]:
    return {
        "name": target.name,
        "python_version": target.python_version,
        "implementation": target.implementation,
        "abis": list(target.abis),
        "platforms": list(target.platforms),
        "marker_environment": dict(target.marker_environment),
        "locks": dict(target.locks),
        "pylock": target.pylock,
    }


def _package_to_dict(package: PackageEntry) -> Dict[str, Any]:
    return {
        "name": package.name,
        "version": package.version,
        "groups": list(package.groups),
        "artifacts": [
            {"path": a.path, "targets": list(a.targets), "origin": _origin_to_dict(a.origin)}
            for a in sorted(package.artifacts, key=lambda a: a.path)
        ],
    }


def _origin_to_dict(origin: Origin) -> Dict[str, Any]:
    build = None
    if origin.build is not None:
        build = {
            "input_filename": origin.build.input_filename,
            "input_sha256": origin.build.input_sha256,
            "backend": origin.build.backend,
        }
    return {
        "kind": origin.kind,
        "source": origin.source,
        "filename": origin.filename,
        "sha256": origin.sha256,
        "url": origin.url,
        "build": build,
    }


# --- parsing -----------------------------------------------------------------------------------------------------


def parse_manifest(raw: bytes) -> Manifest:
    """Parse and validate manifest bytes; raise :class:`ManifestError` listing every problem.

    Only call this on bytes whose signature has been verified: nothing here is trusted before that.
    """
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ManifestError(["$: not UTF-8 JSON ({})".format(exc)]) from None
    problems = _validate(data)
    if problems:
        raise ManifestError(problems)
    return _build(data)


def is_safe_member_path(path: str) -> bool:
    """True for a relative forward-slash path under one of the format's top directories, with no ``..``."""
    parts = path.split("/")
    if len(parts) < 2 or parts[0] not in TOP_DIRS:
        return False
    return all(_PATH_PART.match(part) is not None and part not in (".", "..") for part in parts)


class _Checker:
    """Collects problems with their JSON path instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems = []  # type: List[str]

    def get(self, obj: Any, key: str, kind: Any, where: str, optional: bool = False) -> Any:
        if not isinstance(obj, dict) or key not in obj:
            if not optional:
                self.problems.append("{}.{}: missing".format(where, key))
            return None
        value = obj[key]
        if value is None and optional:
            return None
        if kind is int and isinstance(value, bool):
            value = None
        if not isinstance(value, kind):
            self.problems.append("{}.{}: expected {}".format(where, key, _kind_name(kind)))
            return None
        return value

    def match(self, value: Any, pattern: Any, where: str, what: str) -> None:
        if isinstance(value, str) and pattern.match(value) is None:
            self.problems.append("{}: not {} ({!r})".format(where, what, value))

    def strings(self, obj: Any, key: str, where: str) -> List[str]:
        value = self.get(obj, key, list, where)
        if value is None:
            return []
        for index, item in enumerate(value):
            if not isinstance(item, str):
                self.problems.append("{}.{}[{}]: expected a string".format(where, key, index))
        return [item for item in value if isinstance(item, str)]


def _kind_name(kind: Any) -> str:
    return {str: "a string", int: "an integer", list: "a list", dict: "an object"}.get(kind, str(kind))


def _validate(data: Any) -> List[str]:
    c = _Checker()
    if not isinstance(data, dict):
        return ["$: expected an object"]
    fmt = c.get(data, "format_version", str, "$")
    if fmt is not None:
        _check_format(fmt, c)
    c.match(c.get(data, "bundle_id", str, "$"), _TARGET, "$.bundle_id", "a bundle id")
    project = c.get(data, "project", dict, "$")
    c.match(c.get(project, "name", str, "$.project"), _NAME, "$.project.name", "a normalised name")
    c.get(project, "version", str, "$.project")
    builder = c.get(data, "builder", dict, "$")
    c.get(builder, "version", str, "$.builder")
    c.match(c.get(data, "build_time", str, "$"), _BUILD_TIME, "$.build_time", "YYYY-MM-DDTHH:MM:SSZ")
    lock = c.get(data, "lock", dict, "$")
    c.get(lock, "content_hash", str, "$.lock")
    c.match(c.get(lock, "sha256", str, "$.lock"), _SHA256, "$.lock.sha256", "a sha256")
    groups = c.strings(data, "groups", "$")
    if groups and "main" not in groups:
        c.problems.append("$.groups: must include 'main'")
    c.strings(data, "extras", "$")
    paths = _validate_files(data, c)
    targets = _validate_targets(data, c, paths, set(groups))
    _validate_packages(data, c, paths, targets, set(groups))
    for key in ("pip_wheel", "sbom"):
        value = c.get(data, key, str, "$", optional=True)
        if value is not None and value not in paths:
            c.problems.append("$.{}: {!r} is not in files".format(key, value))
    for index, path in enumerate(c.strings(data, "project_artifacts", "$")):
        if path not in paths:
            c.problems.append("$.project_artifacts[{}]: {!r} is not in files".format(index, path))
    rehearse = c.get(data, "rehearse", dict, "$", optional=True)
    if rehearse is not None:
        c.strings(rehearse, "smoke", "$.rehearse")
    return c.problems


def _check_format(fmt: str, c: _Checker) -> None:
    found = _FORMAT.match(fmt)
    if found is None:
        c.problems.append("$.format_version: not MAJOR.MINOR ({!r})".format(fmt))
        return
    major, minor = int(found.group(1)), int(found.group(2))
    if major != FORMAT_MAJOR:
        c.problems.append(
            "$.format_version: bundle format {} is not supported (this netbundle reads {}.x)".format(
                fmt, FORMAT_MAJOR
            )
        )
    elif minor > FORMAT_MINOR:
        warnings.warn(
            "bundle format {} is newer than this netbundle's {}; fields it does not know are ignored".format(
                fmt, FORMAT_VERSION
            ),
            stacklevel=3,
        )


def _validate_files(data: Dict[str, Any], c: _Checker) -> Dict[str, str]:
    """Check ``files``; return path -> kind for the valid entries."""
    paths = {}  # type: Dict[str, str]
    for index, entry in enumerate(c.get(data, "files", list, "$") or []):
        where = "$.files[{}]".format(index)
        path = c.get(entry, "path", str, where)
        size = c.get(entry, "size", int, where)
        c.match(c.get(entry, "sha256", str, where), _SHA256, where + ".sha256", "a sha256")
        kind = c.get(entry, "kind", str, where)
        if kind is not None and kind not in FILE_KINDS:
            c.problems.append("{}.kind: unknown kind {!r}".format(where, kind))
        if size is not None and size < 0:
            c.problems.append("{}.size: negative".format(where))
        if path is None:
            continue
        if not is_safe_member_path(path):
            c.problems.append(
                "{}.path: unsafe or outside the format's directories ({!r})".format(where, path)
            )
        elif path in paths:
            c.problems.append("{}.path: duplicate {!r}".format(where, path))
        paths[path] = kind or ""
    return paths


def _validate_targets(data: Dict[str, Any], c: _Checker, paths: Dict[str, str], groups: Any) -> List[str]:
    names = []  # type: List[str]
    targets = c.get(data, "targets", list, "$") or []
    if not targets and "targets" in data:
        c.problems.append("$.targets: at least one target is required")
    for index, entry in enumerate(targets):
        where = "$.targets[{}]".format(index)
        name = c.get(entry, "name", str, where)
        c.match(name, _TARGET, where + ".name", "a target name")
        if name in names:
            c.problems.append("{}.name: duplicate {!r}".format(where, name))
        names.append(name)
        c.get(entry, "python_version", str, where)
        c.get(entry, "implementation", str, where)
        c.strings(entry, "abis", where)
        c.strings(entry, "platforms", where)
        env = c.get(entry, "marker_environment", dict, where)
        for key, value in (env or {}).items():
            if not isinstance(value, str):
                c.problems.append("{}.marker_environment.{}: expected a string".format(where, key))
        locks = c.get(entry, "locks", dict, where) or {}
        for group, path in locks.items():
            if group not in groups:
                c.problems.append("{}.locks.{}: group not in $.groups".format(where, group))
            if paths.get(path) != "lock":
                c.problems.append("{}.locks.{}: {!r} is not a lock file in files".format(where, group, path))
        pylock = c.get(entry, "pylock", str, where)
        if pylock is not None and paths.get(pylock) != "pylock":
            c.problems.append("{}.pylock: {!r} is not a pylock file in files".format(where, pylock))
    return names


def _validate_packages(
    data: Dict[str, Any], c: _Checker, paths: Dict[str, str], targets: Any, groups: Any
) -> None:
    for index, entry in enumerate(c.get(data, "packages", list, "$") or []):
        where = "$.packages[{}]".format(index)
        c.match(c.get(entry, "name", str, where), _NAME, where + ".name", "a normalised name")
        c.get(entry, "version", str, where)
        for group in c.strings(entry, "groups", where):
            if group not in groups:
                c.problems.append("{}.groups: {!r} not in $.groups".format(where, group))
        for a_index, artifact in enumerate(c.get(entry, "artifacts", list, where) or []):
            a_where = "{}.artifacts[{}]".format(where, a_index)
            path = c.get(artifact, "path", str, a_where)
            if path is not None and paths.get(path) != "wheel":
                c.problems.append("{}.path: {!r} is not a wheel in files".format(a_where, path))
            for target in c.strings(artifact, "targets", a_where):
                if target not in targets:
                    c.problems.append("{}.targets: unknown target {!r}".format(a_where, target))
            _validate_origin(c.get(artifact, "origin", dict, a_where), c, a_where + ".origin")


def _validate_origin(origin: Any, c: _Checker, where: str) -> None:
    if origin is None:
        return
    kind = c.get(origin, "kind", str, where)
    if kind is not None and kind not in ORIGIN_KINDS:
        c.problems.append("{}.kind: unknown kind {!r}".format(where, kind))
    c.get(origin, "source", str, where, optional=True)
    c.get(origin, "filename", str, where)
    c.match(c.get(origin, "sha256", str, where), _SHA256, where + ".sha256", "a sha256")
    url = c.get(origin, "url", str, where, optional=True)
    if url is not None and "@" in url.split("//", 1)[-1].split("/", 1)[0]:
        c.problems.append("{}.url: carries credentials".format(where))
    build = c.get(origin, "build", dict, where, optional=True)
    if build is not None:
        c.get(build, "input_filename", str, where + ".build")
        c.match(
            c.get(build, "input_sha256", str, where + ".build"),
            _SHA256,
            where + ".build.input_sha256",
            "a sha256",
        )
        c.get(build, "backend", str, where + ".build")


def _build(data: Dict[str, Any]) -> Manifest:
    known = {
        "format_version",
        "bundle_id",
        "project",
        "builder",
        "build_time",
        "lock",
        "groups",
        "extras",
        "targets",
        "files",
        "packages",
        "project_artifacts",
        "pip_wheel",
        "sbom",
        "rehearse",
    }
    return Manifest(
        format_version=data["format_version"],
        bundle_id=data["bundle_id"],
        project_name=data["project"]["name"],
        project_version=data["project"]["version"],
        builder_version=data["builder"]["version"],
        build_time=data["build_time"],
        lock_content_hash=data["lock"]["content_hash"],
        lock_sha256=data["lock"]["sha256"],
        groups=tuple(data["groups"]),
        extras=tuple(data["extras"]),
        targets=tuple(_build_target(t) for t in data["targets"]),
        files=tuple(FileEntry(f["path"], f["size"], f["sha256"], f["kind"]) for f in data["files"]),
        packages=tuple(_build_package(p) for p in data["packages"]),
        project_artifacts=tuple(data["project_artifacts"]),
        pip_wheel=data.get("pip_wheel"),
        sbom=data.get("sbom"),
        smoke=tuple((data.get("rehearse") or {}).get("smoke", ())),
        extra={k: v for k, v in data.items() if k not in known},
    )


def _build_target(t: Dict[str, Any]) -> TargetEntry:
    return TargetEntry(
        name=t["name"],
        python_version=t["python_version"],
        implementation=t["implementation"],
        abis=tuple(t["abis"]),
        platforms=tuple(t["platforms"]),
        marker_environment=dict(t["marker_environment"]),
        locks=dict(t["locks"]),
        pylock=t["pylock"],
    )


def _build_package(p: Dict[str, Any]) -> PackageEntry:
    artifacts = []
    for a in p["artifacts"]:
        o = a["origin"]
        build = None
        if o.get("build") is not None:
            b = o["build"]
            build = BuildInfo(b["input_filename"], b["input_sha256"], b["backend"])
        origin = Origin(o["kind"], o.get("source"), o["filename"], o["sha256"], o.get("url"), build)
        artifacts.append(Artifact(a["path"], tuple(a["targets"]), origin))
    return PackageEntry(p["name"], p["version"], tuple(p["groups"]), tuple(artifacts))


def format_timestamp(epoch: float) -> str:
    """``epoch`` (seconds since 1970, UTC) in :data:`TIMESTAMP_FORMAT`; fractions of a second are dropped."""
    return time.strftime(TIMESTAMP_FORMAT, time.gmtime(int(epoch)))


def parse_timestamp(text: str) -> int:
    """The epoch seconds of a :data:`TIMESTAMP_FORMAT` string (UTC).

    :raises ValueError: ``text`` is not in that format.
    """
    return calendar.timegm(time.strptime(text, TIMESTAMP_FORMAT))
