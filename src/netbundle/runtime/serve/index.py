"""The simple repository a verified bundle serves: which files, under which project, and its pages (pure).

From a :class:`~netbundle.format.manifest.Manifest`, the chosen targets and each wheel's core metadata, build a
:class:`SiteIndex` and render its pages, as PEP 503 HTML and PEP 691 JSON (api-version 1.1, PEP 700: ``versions``
and ``size``). Every file link carries its ``#sha256=`` (PEP 503), ``data-requires-python`` from the wheel's
METADATA (PEP 503, escaped), and the sha256 of the core-metadata file served at ``<file URL>.metadata`` (PEP 658
as renamed by PEP 714: both ``data-core-metadata`` and the older ``data-dist-info-metadata`` are written, so old and
new resolvers see it).

URL layout (relative links only, so the index works behind any host name or prefix):
``/simple/`` (the project list), ``/simple/<normalized name>/`` (a project), ``/files/<filename>`` (a bundle file)
and ``/files/<filename>.metadata`` (its core metadata).
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import html
import json
import re
from dataclasses import dataclass
from urllib.parse import quote

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, List, Mapping, Optional, Sequence, Tuple

    from ...format.manifest import Manifest

API_VERSION = "1.1"
JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_TYPE = "application/vnd.pypi.simple.v1+html"
LEGACY_HTML_TYPE = "text/html"
#: What a page can be served as, in the server's order of preference for equal client preference.
PAGE_TYPES = (JSON_TYPE, HTML_TYPE, LEGACY_HTML_TYPE)
SIMPLE_PREFIX = "/simple/"
FILES_PREFIX = "/files/"
METADATA_SUFFIX = ".metadata"
#: Bundle file kinds that are distributions (an index offers them); locks, tools, SBOM are not.
DISTRIBUTION_KINDS = ("wheel", "dist")


@dataclass(frozen=True)
class IndexFile:
    """One distribution file of the index: the bundle member it is served from and what its links say."""

    filename: str
    member: str
    size: int
    sha256: str
    version: str
    requires_python: Optional[str] = None
    metadata_sha256: Optional[str] = None


@dataclass(frozen=True)
class Project:
    """A project page: the normalized name and its files, sorted by filename."""

    name: str
    files: Tuple[IndexFile, ...]

    @property
    def versions(self) -> Tuple[str, ...]:
        return tuple(sorted({f.version for f in self.files}))


@dataclass(frozen=True)
class SiteIndex:
    """Every project the server offers, sorted by name."""

    projects: Tuple[Project, ...]

    def files(self) -> Tuple[IndexFile, ...]:
        return tuple(f for project in self.projects for f in project.files)


def normalize_name(name: str) -> str:
    """PEP 503 normalization. >>> normalize_name("Ruamel.YAML_x")  -> 'ruamel-yaml-x'"""
    return re.sub(r"[-_.]+", "-", name).lower()


def selected_members(manifest: Manifest, targets: Sequence[str]) -> List[Tuple[str, str, str]]:
    """``(project, version, member path)`` of every distribution file any of ``targets`` installs, plus the
    project's own artifacts (its wheel and sdist, which the manifest lists for no particular target)."""
    chosen = set(targets)
    kinds = {entry.path: entry.kind for entry in manifest.files}
    found: Dict[str, Tuple[str, str, str]] = {}
    for package in manifest.packages:
        for artifact in package.artifacts:
            if chosen.intersection(artifact.targets) and kinds.get(artifact.path) in DISTRIBUTION_KINDS:
                found[artifact.path] = (normalize_name(package.name), package.version, artifact.path)
    for path in manifest.project_artifacts:
        if kinds.get(path) in DISTRIBUTION_KINDS:
            found[path] = (manifest.project_name, manifest.project_version, path)
    return [found[path] for path in sorted(found)]


def build_index(manifest: Manifest, targets: Sequence[str], metadata: Mapping[str, bytes]) -> SiteIndex:
    """The index of the files ``targets`` need; ``metadata`` maps a wheel's member path to its METADATA bytes.

    :raises ValueError: two served files have the same file name (a flat ``/files/`` namespace needs unique names).
    """
    by_project: Dict[str, List[IndexFile]] = {}
    names: Dict[str, str] = {}
    for project, version, member in selected_members(manifest, targets):
        filename = member.rsplit("/", 1)[-1]
        if filename in names:
            raise ValueError(
                "two bundle files are named {}: {} and {}".format(filename, names[filename], member)
            )
        names[filename] = member
        entry = manifest.file(member)
        core = metadata.get(member)
        by_project.setdefault(project, []).append(
            IndexFile(
                filename=filename,
                member=member,
                size=entry.size,
                sha256=entry.sha256,
                version=version,
                requires_python=requires_python(core) if core is not None else None,
                metadata_sha256=hashlib.sha256(core).hexdigest() if core is not None else None,
            )
        )
    projects = (
        Project(name, tuple(sorted(files, key=lambda f: f.filename))) for name, files in by_project.items()
    )
    return SiteIndex(tuple(sorted(projects, key=lambda p: p.name)))


def requires_python(metadata: bytes) -> Optional[str]:
    """The ``Requires-Python`` field of a core-metadata file (None when absent or empty)."""
    parsed = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(metadata, headersonly=True)
    value = parsed.get("Requires-Python")
    if value is None:
        return None
    return str(value).strip() or None


# --- URLs ----------------------------------------------------------------------------------------------------------


def project_path(name: str) -> str:
    return SIMPLE_PREFIX + name + "/"


def file_path(filename: str) -> str:
    return FILES_PREFIX + filename


def _file_href(f: IndexFile) -> str:
    """From a project page (``/simple/<name>/``) to the file, with its hash fragment."""
    return "../..{}#sha256={}".format(quote(file_path(f.filename)), f.sha256)


# --- HTML (PEP 503) ------------------------------------------------------------------------------------------------


def _html_page(title: str, links: Sequence[str]) -> bytes:
    head = '<!DOCTYPE html>\n<html>\n<head>\n<meta name="pypi:repository-version" content="{}">\n'.format(
        API_VERSION
    )
    body = "<title>{0}</title>\n</head>\n<body>\n<h1>{0}</h1>\n".format(html.escape(title))
    return (head + body + "".join(link + "<br>\n" for link in links) + "</body>\n</html>\n").encode("utf-8")


def render_root_html(index: SiteIndex) -> bytes:
    links = ['<a href="{}/">{}</a>'.format(quote(p.name), html.escape(p.name)) for p in index.projects]
    return _html_page("Simple index", links)


def render_project_html(project: Project) -> bytes:
    links = []
    for f in project.files:
        attributes = ['href="{}"'.format(html.escape(_file_href(f)))]
        if f.requires_python is not None:
            attributes.append('data-requires-python="{}"'.format(html.escape(f.requires_python)))
        if f.metadata_sha256 is not None:
            value = "sha256=" + f.metadata_sha256
            attributes.append('data-dist-info-metadata="{0}" data-core-metadata="{0}"'.format(value))
        links.append("<a {}>{}</a>".format(" ".join(attributes), html.escape(f.filename)))
    return _html_page("Links for {}".format(project.name), links)


# --- JSON (PEP 691, 1.1 per PEP 700) -------------------------------------------------------------------------------


def _json_page(data: Dict[str, object]) -> bytes:
    page: Dict[str, object] = {"meta": {"api-version": API_VERSION}}
    page.update(data)
    return (json.dumps(page, indent=1, sort_keys=True) + "\n").encode("utf-8")


def render_root_json(index: SiteIndex) -> bytes:
    return _json_page({"projects": [{"name": p.name} for p in index.projects]})


def render_project_json(project: Project) -> bytes:
    files = []
    for f in project.files:
        item: Dict[str, object] = {
            "filename": f.filename,
            "url": _file_href(f).split("#", 1)[0],
            "hashes": {"sha256": f.sha256},
            "size": f.size,
        }
        if f.requires_python is not None:
            item["requires-python"] = f.requires_python
        metadata: object = {"sha256": f.metadata_sha256} if f.metadata_sha256 is not None else False
        item["core-metadata"] = metadata
        item["dist-info-metadata"] = metadata
        files.append(item)
    return _json_page({"name": project.name, "versions": list(project.versions), "files": files})


def render_pages(index: SiteIndex) -> Dict[str, Dict[str, bytes]]:
    """Every page, by URL path, in every content type (``text/html`` and the v1 HTML type share bytes)."""
    pages = {SIMPLE_PREFIX: _both(render_root_html(index), render_root_json(index))}
    for project in index.projects:
        pages[project_path(project.name)] = _both(render_project_html(project), render_project_json(project))
    return pages


def _both(html_bytes: bytes, json_bytes: bytes) -> Dict[str, bytes]:
    return {JSON_TYPE: json_bytes, HTML_TYPE: html_bytes, LEGACY_HTML_TYPE: html_bytes}
