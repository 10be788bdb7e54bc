"""pyproject.toml as values: the project's groups, extras, sources and ``[tool.netbundle]`` settings.

Both project styles are read: PEP 621 ``[project]`` (Poetry 2) and ``[tool.poetry]`` (Poetry 1). Groups come from
``[tool.poetry.group.<g>]`` (and Poetry 1's ``dev-dependencies``) and from PEP 735 ``[dependency-groups]``, where
``{include-group = "..."}`` pulls another group's requirements in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from netbundle.errors import InputError
from netbundle.format.manifest import env_name_problem
from netbundle.lock.identifiers import check_name, check_version

if TYPE_CHECKING:
    from netbundle.lock.model import SourcePriority

MAIN_GROUP = "main"
_PRIORITIES = ("primary", "supplemental", "explicit", "default", "secondary")


@dataclass(frozen=True, kw_only=True, slots=True)
class Source:
    """A ``[[tool.poetry.source]]`` entry. ``url`` is as written (it may carry credentials: redact to show)."""

    name: str
    url: str
    priority: SourcePriority = "primary"


@dataclass(frozen=True, kw_only=True, slots=True)
class RootRequirement:
    """A direct requirement of the project: what the 2.0 graph walk starts from."""

    name: str
    marker: str | None = None
    extras: tuple[str, ...] = ()
    constraint: str = "*"
    #: Poetry-style ``optional = true``: only installed through a root extra that names it.
    optional: bool = False
    #: ``git``, ``directory``, ``file`` or ``url`` for a direct reference: only a locked package from such a source
    #: satisfies it (poetry-plugin-export ``get_locked_package``)
    source_type: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Group:
    """A dependency group: its direct requirements and whether it is optional."""

    name: str
    optional: bool = False
    requirements: tuple[RootRequirement, ...] = ()

    @property
    def dependencies(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.name for r in self.requirements))


@dataclass(frozen=True, kw_only=True, slots=True)
class NetbundleConfig:
    """``[tool.netbundle]``: what to carry and where to install it."""

    groups: tuple[str, ...] = ()
    targets: tuple[Mapping[str, object], ...] = ()
    index_url: str | None = None
    smoke: tuple[str, ...] = ()
    #: ``[tool.netbundle.rehearse] skip-imports``: fnmatch patterns of top-level modules the rehearsal does not import.
    skip_imports: tuple[str, ...] = ()
    #: ``[tool.netbundle.rehearse] env``: variables set for the rehearsal's import and smoke steps.
    rehearse_env: Mapping[str, str] = field(default_factory=dict)
    #: ``pip = { version = "...", sha256 = "..." }``: the pip wheel the bundle carries (else the builder's table)
    pip_version: str | None = None
    pip_sha256: str | None = None
    #: ``build-constraints``: constraints files (relative to the project) for PEP 517 build requirements
    build_constraints: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class Project:
    name: str
    version: str
    requires_python: str | None
    groups: Mapping[str, Group]
    extras: Mapping[str, tuple[str, ...]]
    sources: tuple[Source, ...] = ()
    package_mode: bool = True
    netbundle: NetbundleConfig = field(default_factory=NetbundleConfig)
    #: a url-less ``[[tool.poetry.source]] name = "pypi"`` entry: its priority and how many url sources precede it,
    #: which place the default index in the pool (None: implicit, only when no primary source is configured)
    default_index: tuple[SourcePriority, int] | None = None


def parse_pyproject(data: Mapping[str, object], *, where: str = "pyproject.toml") -> Project:
    """Read a pyproject mapping (already parsed TOML) into a :class:`Project`.

    :raises InputError: when the project's name is missing or a section has the wrong shape.
    """
    project = _table(data, "project", where)
    poetry = _table(_table(data, "tool", where), "poetry", where + ": [tool]")
    name = project.get("name") or poetry.get("name")
    package_mode = bool(poetry.get("package-mode", True))
    if not isinstance(name, str) and package_mode:
        raise InputError(f"{where}: no project name in [project] or [tool.poetry]", hint="add `name = ...`")
    version = str(project.get("version") or poetry.get("version") or "0")
    if isinstance(name, str):
        check_name(name, f"{where}: project name")
    check_version(version, f"{where}: project version")
    requires_python = project.get("requires-python")
    if requires_python is None:
        requires_python = _table(poetry, "dependencies", where).get("python")
    return Project(
        name=canonicalize_name(name) if isinstance(name, str) else "",
        version=version,
        requires_python=str(requires_python) if requires_python is not None else None,
        groups=_groups(project, poetry, data, where),
        extras=_extras(project, poetry),
        sources=_sources(poetry, where),
        default_index=_default_index(poetry),
        package_mode=package_mode,
        netbundle=_netbundle(_table(_table(data, "tool", where), "netbundle", where), where),
    )


def _table(data: Mapping[str, object], key: str, where: str) -> Mapping[str, object]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise InputError(f"{where}: [{key}] must be a table")
    return value


def _pep508(text: str, where: str, *, marker: str | None = None) -> RootRequirement:
    try:
        req = Requirement(text)
    except InvalidRequirement as exc:
        raise InputError(f"{where}: invalid requirement {text!r} ({exc})") from None
    markers = [m for m in (str(req.marker) if req.marker else None, marker) if m]
    return RootRequirement(
        name=canonicalize_name(req.name),
        marker=" and ".join(f"({m})" for m in markers)
        if len(markers) > 1
        else (markers[0] if markers else None),
        extras=tuple(sorted(canonicalize_name(e) for e in req.extras)),
        constraint=str(req.specifier) or "*",
        source_type=_pep508_source_type(req.url),
    )


def _poetry_requirements(table: Mapping[str, object]) -> list[RootRequirement]:
    """``[tool.poetry.dependencies]``-style tables: a constraint string or a table (or a list of tables)."""
    found: list[RootRequirement] = []
    for name, value in table.items():
        if name == "python":
            continue
        for item in value if isinstance(value, list) else [value]:
            spec = item if isinstance(item, Mapping) else {"version": item}
            found.append(_poetry_requirement(canonicalize_name(name), spec))
    return found


def _poetry_requirement(name: str, spec: Mapping[str, object]) -> RootRequirement:
    marker = str(spec["markers"]) if spec.get("markers") else None
    if spec.get("platform"):
        platform = f'sys_platform == "{spec["platform"]}"'
        marker = f"({marker}) and {platform}" if marker else platform
    if spec.get("python"):
        from netbundle.lock import markers as m

        python = m.render(m.python_constraint(str(spec["python"])))
        marker = f"({marker}) and ({python})" if marker and python else (marker or python or None)
    return RootRequirement(
        name=name,
        marker=marker,
        extras=tuple(sorted(canonicalize_name(str(e)) for e in _list(spec.get("extras")))),
        constraint=str(spec.get("version", "*")),
        optional=bool(spec.get("optional", False)),
        source_type=_source_type(spec),
    )


def _source_type(spec: Mapping[str, object]) -> str | None:
    """The source type Poetry gives a dependency table's direct reference (``git``, ``path``, ``url``)."""
    if spec.get("git"):
        return "git"
    if spec.get("url"):
        return "url"
    path = spec.get("path")
    if isinstance(path, str):
        return "file" if path.endswith((".whl", ".tar.gz", ".zip", ".tar.bz2")) else "directory"
    return None


def _pep508_source_type(url: str | None) -> str | None:
    if not url:
        return None
    if url.startswith("git+"):
        return "git"
    if url.startswith("file:"):
        return "file" if url.endswith((".whl", ".tar.gz", ".zip", ".tar.bz2")) else "directory"
    return "url"


def _groups(
    project: Mapping[str, object], poetry: Mapping[str, object], data: Mapping[str, object], where: str
) -> dict[str, Group]:
    main = [_pep508(str(r), where) for r in _list(project.get("dependencies"))]
    optional = project.get("optional-dependencies", {})
    for extra, reqs in (optional if isinstance(optional, Mapping) else {}).items():
        main += [_pep508(str(r), where, marker=f'extra == "{canonicalize_name(extra)}"') for r in _list(reqs)]
    project_names = {r.name for r in main}
    # With [project], [tool.poetry.dependencies] only refines those dependencies (sources, develop): Poetry 2.
    refined = _poetry_requirements(_table(poetry, "dependencies", where))
    sources = {r.name: r.source_type for r in refined if r.source_type}
    main = [replace(r, source_type=sources[r.name]) if r.name in sources else r for r in main]
    main += [r for r in refined if r.name not in project_names]
    groups = {MAIN_GROUP: Group(name=MAIN_GROUP, requirements=tuple(main))}
    dev = _table(poetry, "dev-dependencies", where)
    if dev:
        groups["dev"] = Group(name="dev", requirements=tuple(_poetry_requirements(dev)))
    for name, table in _table(poetry, "group", where).items():
        if not isinstance(table, Mapping):
            raise InputError(f"{where}: [tool.poetry.group.{name}] must be a table")
        key = canonicalize_name(name)
        reqs = _poetry_requirements(_table(table, "dependencies", where))
        previous = groups.get(key)
        groups[key] = Group(
            name=key,
            optional=bool(table.get("optional", False)),
            requirements=(*(previous.requirements if previous else ()), *reqs),
        )
    pep735 = _table(data, "dependency-groups", where)
    for name in pep735:
        key = canonicalize_name(name)
        reqs = _pep735_group(pep735, name, where, ())
        previous = groups.get(key)
        groups[key] = Group(
            name=key,
            optional=previous.optional if previous else False,
            requirements=(*(previous.requirements if previous else ()), *reqs),
        )
    return groups


def _pep735_group(
    table: Mapping[str, object], name: str, where: str, seen: tuple[str, ...]
) -> tuple[RootRequirement, ...]:
    if name in seen:
        raise InputError(f"{where}: [dependency-groups] include-group cycle: {' -> '.join((*seen, name))}")
    by_key = {canonicalize_name(k): k for k in table}
    key = by_key.get(canonicalize_name(name))
    if key is None:
        raise InputError(f"{where}: [dependency-groups] includes unknown group {name!r}")
    found: list[RootRequirement] = []
    for item in _list(table[key]):
        if isinstance(item, Mapping) and "include-group" in item:
            found += _pep735_group(table, str(item["include-group"]), where, (*seen, name))
        elif isinstance(item, str):
            found.append(_pep508(item, where))
        else:
            raise InputError(f"{where}: [dependency-groups].{key} has an invalid entry {item!r}")
    return tuple(found)


def _extras(project: Mapping[str, object], poetry: Mapping[str, object]) -> dict[str, tuple[str, ...]]:
    extras: dict[str, tuple[str, ...]] = {}
    optional = project.get("optional-dependencies", {})
    if isinstance(optional, Mapping):
        for extra, reqs in optional.items():
            extras[canonicalize_name(extra)] = tuple(
                canonicalize_name(Requirement(str(r)).name) for r in _list(reqs)
            )
    legacy = poetry.get("extras", {})
    if isinstance(legacy, Mapping):
        for extra, names in legacy.items():
            extras.setdefault(
                canonicalize_name(extra), tuple(canonicalize_name(str(n)) for n in _list(names))
            )
    return extras


def _source_priority(raw: Mapping[str, object]) -> str:
    """``priority``, or Poetry 1's ``default = true`` / ``secondary = true``; primary when none is given."""
    if raw.get("default") is True:
        return "default"
    if raw.get("secondary") is True:
        return "secondary"
    return str(raw.get("priority", "primary"))


def _default_index(poetry: Mapping[str, object]) -> tuple[SourcePriority, int] | None:
    before = 0
    for raw in _list(poetry.get("source")):
        if not isinstance(raw, Mapping):
            continue
        if str(raw.get("name", "")).lower() == "pypi" and "url" not in raw:
            return _source_priority(raw), before  # type: ignore[return-value]  # checked by _sources
        before += 1
    return None


def _sources(poetry: Mapping[str, object], where: str) -> tuple[Source, ...]:
    sources = []
    for index, raw in enumerate(_list(poetry.get("source"))):
        if not isinstance(raw, Mapping) or not isinstance(raw.get("name"), str):
            raise InputError(f"{where}: [[tool.poetry.source]] #{index + 1} needs a name")
        priority = _source_priority(raw)
        if priority not in _PRIORITIES:
            raise InputError(
                f"{where}: source {raw['name']!r} has unknown priority {priority!r}",
                hint="use one of: " + ", ".join(_PRIORITIES),
            )
        url = raw.get("url")
        if not isinstance(url, str):
            if str(raw["name"]).lower() == "pypi":
                continue  # a bare `pypi` entry only sets the default index's priority
            raise InputError(f"{where}: source {raw['name']!r} has no url")
        sources.append(Source(name=str(raw["name"]), url=url, priority=priority))  # type: ignore[arg-type]
    return tuple(sources)


def _netbundle(table: Mapping[str, object], where: str) -> NetbundleConfig:
    targets = _list(table.get("targets"))
    if not all(isinstance(t, Mapping) for t in targets):
        raise InputError(f"{where}: [[tool.netbundle.targets]] entries must be tables")
    rehearse = _table(table, "rehearse", where)
    index_url = table.get("index-url")
    pip_version, pip_sha256 = _pip_pin(table.get("pip"), where)
    return NetbundleConfig(
        groups=tuple(canonicalize_name(str(g)) for g in _list(table.get("groups"))),
        targets=tuple(t for t in targets if isinstance(t, Mapping)),
        index_url=str(index_url) if index_url is not None else None,
        smoke=tuple(str(s) for s in _list(rehearse.get("smoke"))),
        skip_imports=tuple(str(s) for s in _list(rehearse.get("skip-imports"))),
        rehearse_env=_rehearse_env(rehearse.get("env"), f"{where} [tool.netbundle.rehearse] env"),
        pip_version=pip_version,
        pip_sha256=pip_sha256,
        build_constraints=tuple(str(p) for p in _list(table.get("build-constraints"))),
    )


def _rehearse_env(value: object, where: str) -> dict[str, str]:
    """``env = {NAME = "value"}``: string values, and names the rehearsal may set (see
    :func:`netbundle.format.manifest.env_name_problem`)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
        raise InputError(
            f'{where}: must be a table of strings, e.g. env = {{DJANGO_SETTINGS_MODULE = "site.settings"}}'
        )
    for name in value:
        problem = env_name_problem(str(name))
        if problem is not None:
            raise InputError(f"{where}: {problem}")
    return {str(k): str(v) for k, v in value.items()}


def _pip_pin(raw: object, where: str) -> tuple[str | None, str | None]:
    if raw is None:
        return None, None
    example = 'pip = { version = "26.3", sha256 = "<64 hex digits of pip-26.3-py3-none-any.whl>" }'
    if not isinstance(raw, Mapping) or set(raw) != {"version", "sha256"}:
        raise InputError(
            f"{where}: [tool.netbundle] pip must give exactly a version and a sha256", hint=example
        )
    version, sha256 = str(raw["version"]), str(raw["sha256"]).lower()
    if not re.fullmatch(r"[0-9a-f]{64}", sha256) or not re.fullmatch(r"[0-9]+(\.[0-9]+)*", version):
        raise InputError(
            f"{where}: [tool.netbundle] pip = {{ version = {version!r}, sha256 = {sha256!r} }} is not a release "
            "number and a sha256 of 64 hex digits",
            hint=example,
        )
    return version, sha256


def _list(value: object) -> Sequence[object]:
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        return value
    return (value,)
