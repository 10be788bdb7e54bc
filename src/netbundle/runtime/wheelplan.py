"""Which verified wheels the installer engine installs: the target's locks matched against the bundle's files.

Pure: the lock texts, the manifest and the host's tags in, one :class:`WheelChoice` per locked distribution out.
The same rules as the pip engine (``pip install --no-index --require-hashes --only-binary=:all:``): a locked
``name==version`` is installed from a bundled wheel whose sha256 is one of the line's ``--hash`` values, whose file
name names the same distribution and version, and whose tags this host accepts (the best-ranked one when several
fit). A line with another option, a missing hash, a second pin of one name, or no fitting wheel is refused, so
every byte the engine installs is a bundle member listed, with its sha256, in the signed manifest and the locks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from packaging.markers import InvalidMarker, Marker
from packaging.tags import parse_tag
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from ..errors import BundleFormatError, InstallError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, List, Mapping, Optional, Sequence, Tuple

    from ..format.manifest import Manifest

#: ``name[extras]==version`` with an optional ``; marker``; hashes are continuation options (``--hash=sha256:``).
_PIN = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*==\s*(?P<version>[^\s;]+)\s*(;(?P<marker>.*))?$"
)
_HASH = re.compile(r"^--hash[=\s]sha256:(?P<digest>[0-9a-f]{64})$")
_WHEEL_KINDS = ("wheel", "dist")


@dataclass(frozen=True)
class LockPin:
    """One ``name==version`` line of a bundle lock, with the sha256 digests it allows."""

    name: str
    version: str
    hashes: Tuple[str, ...]
    marker: Optional[str]
    source: str


@dataclass(frozen=True)
class WheelChoice:
    """The bundle member that installs one locked distribution."""

    name: str
    version: str
    member: str
    sha256: str


def parse_lock(text: str, source: str) -> List[LockPin]:
    """The pins of a hash-pinned requirements file (pip's line joining: ``\\`` continues, ``#`` comments).

    >>> parse_lock("a==1 \\\\\\n    --hash=sha256:" + "0" * 64 + "\\n", "r.txt")[0].name
    'a'

    :raises BundleFormatError: a line that is not a hash-pinned ``name==version`` (an option, a URL, no hash).
    """
    pins: List[LockPin] = []
    for number, line in _logical_lines(text):
        where = "{} line {}".format(source, number)
        words = line.split(" --")
        match = _PIN.match(words[0].strip())
        if match is None:
            raise BundleFormatError("{}: not a pinned requirement: {!r}".format(where, line[:80]))
        hashes = []
        for word in words[1:]:
            digest = _HASH.match("--" + word.strip())
            if digest is None:
                raise BundleFormatError("{}: unexpected option --{}".format(where, word.strip()[:40]))
            hashes.append(digest.group("digest"))
        if not hashes:
            raise BundleFormatError("{}: {} has no --hash".format(where, match.group("name")))
        marker = (match.group("marker") or "").strip() or None
        name = canonicalize_name(match.group("name"))
        pins.append(LockPin(name, match.group("version"), tuple(hashes), marker, where))
    return pins


def _logical_lines(text: str) -> List[Tuple[int, str]]:
    lines: List[Tuple[int, str]] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split(" #", 1)[0] if not raw.lstrip().startswith("#") else ""
        if not pending:
            start = number
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        whole = (pending + line).strip()
        pending = ""
        if whole:
            lines.append((start, " ".join(whole.split())))
    if pending.strip():
        lines.append((start, " ".join(pending.split())))
    return lines


def merge_pins(pins: Sequence[LockPin], environment: Mapping[str, str]) -> List[LockPin]:
    """The pins that apply here (markers evaluated), each name once; the same pin in two groups' locks is one.

    :raises BundleFormatError: a name pinned to two versions, or an invalid marker.
    """
    chosen: Dict[str, LockPin] = {}
    for pin in pins:
        if pin.marker is not None and not _marker_applies(pin, environment):
            continue
        seen = chosen.get(pin.name)
        if seen is None:
            chosen[pin.name] = pin
        elif seen.version != pin.version:
            raise BundleFormatError(
                "{} is pinned to {} ({}) and {} ({})".format(
                    pin.name, seen.version, seen.source, pin.version, pin.source
                )
            )
    return [chosen[name] for name in sorted(chosen)]


def _marker_applies(pin: LockPin, environment: Mapping[str, str]) -> bool:
    try:
        return Marker(pin.marker or "").evaluate(dict(environment))
    except InvalidMarker as exc:
        raise BundleFormatError("{}: invalid marker: {}".format(pin.source, exc)) from None


def choose_wheels(pins: Sequence[LockPin], manifest: Manifest, host_tags: Sequence[str]) -> List[WheelChoice]:
    """The bundled wheel for each pin (pure).

    :param host_tags: the host's wheel tags, best first (``packaging.tags.sys_tags()`` as strings).
    :raises InstallError: a pin no bundled wheel satisfies on this host (names the pin and what was there).
    """
    rank = {tag: index for index, tag in enumerate(host_tags)}
    by_hash: Dict[str, List[str]] = {}
    for entry in manifest.files:
        if entry.kind in _WHEEL_KINDS and entry.path.endswith(".whl"):
            by_hash.setdefault(entry.sha256, []).append(entry.path)
    return [_choose(pin, by_hash, rank) for pin in pins]


def _choose(pin: LockPin, by_hash: Mapping[str, List[str]], rank: Mapping[str, int]) -> WheelChoice:
    best: Optional[Tuple[int, str, str]] = None
    offered: List[str] = []
    for digest in pin.hashes:
        for member in by_hash.get(digest, ()):
            offered.append(member.rsplit("/", 1)[-1])
            score = _fits(member, pin, rank)
            if score is not None and (best is None or (score, member) < best[:2]):
                best = (score, member, digest)
    if best is None:
        detail = (
            "bundled wheels with its hashes: {}".format(", ".join(offered))
            if offered
            else "no bundled file has its hash"
        )
        raise InstallError(
            "no wheel for {}=={} fits this host ({}; {})".format(pin.name, pin.version, pin.source, detail),
            hint="install with the pip engine to see pip's view, or build the bundle for this host's target",
        )
    return WheelChoice(pin.name, pin.version, best[1], best[2])


def _fits(member: str, pin: LockPin, rank: Mapping[str, int]) -> Optional[int]:
    """The rank of the wheel's best tag on this host (lower is better), or None when it is not this pin's."""
    try:
        name, version, _, tags = parse_wheel_filename(member.rsplit("/", 1)[-1])
        if name != pin.name or version != Version(pin.version):
            return None
    except (InvalidWheelFilename, InvalidVersion):
        return None
    ranks = [rank[str(tag)] for tag in tags if str(tag) in rank]
    return min(ranks) if ranks else None


def wheel_tags_supported(tag_lines: Sequence[str], host_tags: Sequence[str]) -> bool:
    """Whether one of a WHEEL file's ``Tag:`` values (each may be compressed) is a host tag."""
    accepted = set(host_tags)
    for line in tag_lines:
        try:
            if any(str(tag) in accepted for tag in parse_tag(line.strip())):
                return True
        except ValueError:
            continue
    return False
