"""The bundle's pip-ready requirement files (``locks/<target>/requirements-<group>.txt``): rendered by the builder,
read by the installer's drift check and EE context. One home for the shape, so both halves agree on it.

The shape, one package per entry, sorted by name, every hash a file this bundle carries for that target::

    # netbundle: target <target>, group <group>; ...
    name==version \\
        --hash=sha256:<64 hex>
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, List, Sequence, Tuple

_HASH = re.compile(r"--hash[= ]sha256:([0-9a-f]{64})")
_SEPARATORS = re.compile(r"[-_.]+")


@dataclass(frozen=True)
class Pin:
    """One entry of a requirements file: a canonical name, its ``==`` version and the hashes it allows."""

    name: str
    version: str
    hashes: Tuple[str, ...]


def render_group_lock(target: str, group: str, packages: Sequence[Tuple[str, str, str]]) -> str:
    """A marker-free, hash-pinned requirements file: ``(name, version, sha256 of the bundled file)`` each."""
    lines = [
        "# netbundle: target {}, group {}; every hash is a file in this bundle's wheels/".format(
            target, group
        ),
        "# pip install --no-index --find-links wheels/ --require-hashes --only-binary=:all: -r this-file",
    ]
    for name, version, sha256 in sorted(packages):
        lines.append("{}=={} \\\n    --hash=sha256:{}".format(name, version, sha256))
    return "\n".join(lines) + "\n"


def parse_group_lock(text: str) -> Tuple[Pin, ...]:
    """The entries of a requirements file, in order (comments, blank lines and option lines skipped).

    >>> parse_group_lock("alpha==1.0 \\\\\\n    --hash=sha256:" + "a" * 64 + "\\n# c\\nBeta_X[x]==2\\n")[1]
    Pin(name='beta-x', version='2', hashes=())
    """
    pins = []  # type: List[Pin]
    for line in _logical_lines(text):
        requirement = line.split(" --", 1)[0].strip()
        if not requirement or requirement.startswith("-") or "==" not in requirement:
            continue
        name, version = requirement.split("==", 1)
        pins.append(
            Pin(
                name=_canonical(name.split("[", 1)[0].strip()),
                version=version.split(";", 1)[0].split()[0],
                hashes=tuple(_HASH.findall(line)),
            )
        )
    return tuple(pins)


def pinned_versions(text: str) -> Dict[str, str]:
    """Name -> version of a requirements file."""
    return {pin.name: pin.version for pin in parse_group_lock(text)}


def pinned_hashes(text: str) -> Tuple[str, ...]:
    """The sha256 digests a requirements file allows, in order of appearance."""
    return tuple(digest for pin in parse_group_lock(text) for digest in pin.hashes)


def _logical_lines(text: str) -> List[str]:
    """Lines with backslash continuations joined and ``#`` comments removed."""
    joined = []  # type: List[str]
    pending = ""
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        joined.append((pending + line).strip())
        pending = ""
    if pending.strip():
        joined.append(pending.strip())
    return joined


def _canonical(name: str) -> str:
    # packaging.utils.canonicalize_name's rule (PEP 503), written here so this module needs only the stdlib
    return _SEPARATORS.sub("-", name).lower()
