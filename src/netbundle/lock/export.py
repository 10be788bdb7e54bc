"""Render selected packages as ``requirements.txt`` / ``constraints.txt`` text, the way ``poetry export`` does.

Differences from poetry-plugin-export, on purpose:
- credentials are never written: ``user:pass@`` is removed from every URL (and the caller warns);
- a package pinned to an *explicit* source does not turn that source into ``--extra-index-url`` (pip would then
  consult it for every package: dependency confusion). Its line stays hash-pinned and a comment names the source;
  ``netbundle fetch``/``build`` fetch it from that source only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from netbundle.lock.model import LockedPackage, SelectedPackage
from netbundle.lock.pyproject import Source

_log = logging.getLogger(__name__)

Format = Literal["requirements.txt", "constraints.txt"]


@dataclass(frozen=True, kw_only=True, slots=True)
class ExportOptions:
    format: Format = "requirements.txt"
    with_hashes: bool = True
    with_urls: bool = True


def redact_url(url: str) -> str:
    """The URL without its ``user:password@`` part.

    >>> redact_url("https://me:s3cret@repo.example/simple/")
    'https://repo.example/simple/'
    """
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def has_credentials(url: str) -> bool:
    return "@" in urlsplit(url).netloc


def render_requirements(
    selected: Iterable[SelectedPackage],
    *,
    sources: Sequence[Source],
    project_root: Path,
    options: ExportOptions | None = None,
) -> str:
    """requirements.txt (or constraints.txt) text: sorted lines, sorted hashes, index lines first."""
    options = options or ExportOptions()
    by_name = {s.name: s for s in sources}
    lines: set[str] = set()
    explicit_notes: set[str] = set()
    used_indexes: set[str] = set()
    for item in selected:
        package = item.package
        if package.develop and options.format == "constraints.txt":
            _log.warning(
                "%s is locked in develop (editable) mode, which constraints.txt cannot express", package.name
            )
            continue
        lines.add(_line(item, project_root, options))
        source = package.source
        if source is not None and source.type == "legacy":
            declared = by_name.get(source.reference or "")
            if declared is not None and declared.priority == "explicit":
                explicit_notes.add(
                    f"# {package.name}=={package.version} comes only from explicit source "
                    f"{declared.name!r} ({redact_url(declared.url).rstrip('/')}); netbundle fetch/build pins it there"
                )
            else:
                used_indexes.add(redact_url(source.url).rstrip("/"))
    content = "\n".join(sorted(lines)) + "\n"
    header = _index_header(sources, used_indexes) if options.with_urls else ""
    notes = "\n".join(sorted(explicit_notes)) + "\n" if explicit_notes and options.with_urls else ""
    if header or notes:
        content = header + notes + "\n" + content
    return content


def _line(item: SelectedPackage, project_root: Path, options: ExportOptions) -> str:
    package = item.package
    source = package.source
    marker = f" ; {item.marker}" if item.marker else ""
    if source is not None and source.type == "git":
        reference = source.resolved_reference or source.reference or ""
        url = f"git+{redact_url(source.url)}@{reference}"
        if source.subdirectory:
            url += f"#subdirectory={source.subdirectory}"
        return f"{package.name} @ {url}{marker}"
    if source is not None and source.type == "url":
        line = f"{package.name} @ {redact_url(source.url)}{marker}"
    elif source is not None and source.type in ("file", "directory"):
        uri = (project_root / source.url).resolve().as_uri()
        line = f"-e {uri}{marker}" if package.develop else f"{package.name} @ {uri}{marker}"
    else:
        line = f"{package.name}=={package.version}{marker}"
    return line + _hashes(package) if options.with_hashes else line


def _hashes(package: LockedPackage) -> str:
    return "".join(f" \\\n    --hash=sha256:{h}" for h in sorted({f.sha256 for f in package.files}))


def _index_header(sources: Sequence[Source], used: set[str]) -> str:
    """``--index-url`` for the highest-priority source when PyPI is not in the pool, else ``--extra-index-url``."""
    pypi_in_pool = not any(s.priority in ("primary", "default") for s in sources) or any(
        s.name.lower() == "pypi" for s in sources
    )
    ordered = sorted(sources, key=lambda s: _PRIORITY_ORDER.index(s.priority))
    header = ""
    first = True
    for source in ordered:
        url = redact_url(source.url).rstrip("/")
        if url not in used:
            continue
        if urlsplit(url).scheme == "http":
            header += f"--trusted-host {urlsplit(url).netloc}\n"
        option = "--index-url" if first and not pypi_in_pool and source is ordered[0] else "--extra-index-url"
        header += f"{option} {url}\n"
        first = False
    return header


_PRIORITY_ORDER = ("default", "primary", "secondary", "supplemental", "explicit")
