"""The bundle's pip-ready requirement files (``locks/<target>/requirements-<group>.txt``): rendered by the builder,
read by the installer's drift check and EE context. One home for the shape, so both halves agree on it.

The shape, one package per entry, sorted by name, every hash a file this bundle carries for that target::

    # netbundle: target <target>, group <group>; ...
    name==version \\
        --hash=sha256:<64 hex>

The rule both halves hold (the builder asserts it before signing, the verifier checks it before anything is
installed): **every hash in a target's requirement files is a file the manifest assigns to that target**. pip is
then handed exactly that target's files (:func:`target_files`); a file of another target, say a higher manylinux
level of the same version, can never be preferred by pip and fail ``--require-hashes`` on the host.
pip reads these files, and a requirements file can carry options (``--find-links URL``, ``--index-url``, ``-r``,
``-e``...): a name or version with a newline in it would smuggle one in, signed. So the renderer refuses any
name that is not a PEP 508 name and any version with characters no PEP 440 version has, and the installer accepts
a file only in exactly the shape above (:func:`parse_strict`, :func:`check_bundle_locks`) before pip sees it; the
lenient :func:`parse_group_lock` serves the drift check and ee-context on files already checked that way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import BundleFormatError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, List, Mapping, NoReturn, Optional, Sequence, Tuple

    from .manifest import Manifest
    from .tar import VerifiedBundle

_HASH = re.compile(r"--hash[= ]sha256:([0-9a-f]{64})")
_SEPARATORS = re.compile(r"[-_.]+")
#: PEP 508 distribution names ("names"): ASCII letters and digits, with ``.``, ``_``, ``-`` inside.
NAME = re.compile(r"^([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9])\Z")
#: Every spelling PEP 440 allows uses only these characters (``1!2.0rc1.post2.dev3+local.7``, ``1.0-1``).
VERSION = re.compile(r"^[0-9][A-Za-z0-9.!+_-]*\Z|^[vV][0-9][A-Za-z0-9.!+_-]*\Z")
SHA256 = re.compile(r"^[0-9a-f]{64}\Z")
#: Target and group names that may appear in the header comment.
LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\Z")
_REQUIREMENT = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[A-Za-z0-9.!+_-]+) \\\Z")
_HASH_LINE = re.compile(r"^    --hash=sha256:(?P<hash>[0-9a-f]{64})(?P<more> \\)?\Z")
_COMMENT = re.compile(r"^#[^\x00-\x1f\x7f\\]*\Z")


@dataclass(frozen=True)
class Pin:
    """One entry of a requirements file: a canonical name, its ``==`` version and the hashes it allows."""

    name: str
    version: str
    hashes: Tuple[str, ...]


def render_group_lock(target: str, group: str, packages: Sequence[Tuple[str, str, str]]) -> str:
    """A marker-free, hash-pinned requirements file: ``(name, version, sha256 of the bundled file)`` each.

    :raises ValueError: a name, version, hash, target or group that could not be read back by
        :func:`parse_strict` (the builder checks its inputs first; this is the last line of defence).
    """
    for label in (target, group):
        if not LABEL.match(label):
            raise ValueError("not a target or group name: {!r}".format(label))
    lines = [
        "# netbundle: target {}, group {}; every hash is a file in this bundle's wheels/".format(
            target, group
        ),
        "# pip install --no-index --find-links wheels/ --require-hashes --only-binary=:all: -r this-file",
    ]
    for name, version, sha256 in sorted(packages):
        problem = pin_problem(name, version, sha256)
        if problem:
            raise ValueError(problem)
        lines.append("{}=={} \\\n    --hash=sha256:{}".format(name, version, sha256))
    return "\n".join(lines) + "\n"


def pin_problem(name: str, version: str, sha256: str) -> str:
    """Why ``name==version --hash=sha256:sha256`` cannot be a line of a bundle lock, or ``""``.

    >>> pin_problem("six", "1.16.0", "a" * 64), pin_problem("six", "1.0\\n--find-links x", "a" * 64)[:40]
    ('', "'1.0\\\\n--find-links x' is not a PEP 440 v")
    """
    if not NAME.match(name):
        return "{!r} is not a PEP 508 distribution name".format(name)
    if not VERSION.match(version):
        return "{!r} is not a PEP 440 version (of {})".format(version, name)
    if not SHA256.match(sha256):
        return "{!r} is not a sha256 hex digest (of {} {})".format(sha256, name, version)
    return ""


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


def target_files(manifest: Manifest, target: str) -> Tuple[str, ...]:
    """The member paths of every file the manifest assigns to ``target`` (its packages' artifacts), sorted."""
    return tuple(sorted({a.path for p in manifest.packages for a in p.artifacts if target in a.targets}))


def assignment_problems(manifest: Manifest, lock_texts: Mapping[str, str]) -> List[str]:
    """Every pin of a target's requirement files whose hash is not a file the manifest assigns to that target.

    :param lock_texts: member path -> text of the requirement files (each target's ``locks`` values).
    """
    digest_of = {entry.path: entry.sha256 for entry in manifest.files}
    problems: List[str] = []
    for target in manifest.targets:
        assigned: Dict[str, str] = {}
        for path in target_files(manifest, target.name):
            if path in digest_of:
                assigned[digest_of[path]] = path
        for group, lock_path in sorted(target.locks.items()):
            text = lock_texts.get(lock_path)
            if text is None:
                problems.append("{}: missing (target {}, group {})".format(lock_path, target.name, group))
                continue
            for pin in parse_group_lock(text):
                name, version, hashes = pin.name, pin.version, pin.hashes
                if not hashes:
                    problems.append("{}: {}=={} has no --hash".format(lock_path, name, version))
                for digest in hashes:
                    if digest not in assigned:
                        problems.append(
                            "{}: {}=={} pins sha256:{}…, which is not a file the manifest assigns to"
                            " target {}".format(lock_path, name, version, digest[:16], target.name)
                        )
    return problems


def check_assignments(manifest: Manifest, lock_texts: Mapping[str, str], bundle: str) -> None:
    """The reader's check of the rule (module docstring): a bundle breaking it is malformed, whatever its
    signature says.

    :raises BundleFormatError: (exit 10) naming the lock, the pin and the target.
    """
    problems = assignment_problems(manifest, lock_texts)
    if problems:
        shown = "; ".join(problems[:3])
        more = " (and {} more)".format(len(problems) - 3) if len(problems) > 3 else ""
        raise BundleFormatError(
            "{}: {}{}".format(bundle, shown, more),
            hint="the bundle's locks and its manifest disagree; rebuild it with `netbundle build`",
        )


def parse_strict(text: str, where: str) -> Tuple[Pin, ...]:
    """The pins of a bundle requirements file that has exactly the shape :func:`render_group_lock` writes.

    Comment lines (``#`` and printable text) may come anywhere; every other line is ``name==version \\`` followed
    by one or more ``    --hash=sha256:<hex>`` lines, all but the last ending in `` \\``. Anything else (an
    option, a marker, a URL, an extra, a blank line inside an entry) is refused.

    :raises BundleFormatError: naming ``where`` and the line.
    """
    pins: List[Pin] = []
    current: Optional[Tuple[str, str, List[str]]] = None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for number, line in enumerate(lines, 1):
        if current is not None:
            match = _HASH_LINE.match(line)
            if not match:
                _refuse(where, number, line, "a `    --hash=sha256:<64 hex>` line")
            current[2].append(match.group("hash"))
            if not match.group("more"):
                pins.append(Pin(_canonical(current[0]), current[1], tuple(current[2])))
                current = None
            continue
        if _COMMENT.match(line):
            continue
        match = _REQUIREMENT.match(line)
        if not match or pin_problem(match.group("name"), match.group("version"), "0" * 64):
            _refuse(where, number, line, "a comment or `name==version \\`")
        current = (match.group("name"), match.group("version"), [])
    if current is not None:
        raise BundleFormatError(
            "{}: the entry for {} ends without its last --hash line".format(where, current[0])
        )
    return tuple(pins)


def _refuse(where: str, number: int, line: str, expected: str) -> NoReturn:
    raise BundleFormatError(
        "{}, line {}: {!r} is not in the shape netbundle writes (expected {})".format(
            where, number, line[:80], expected
        ),
        hint="do not install this bundle: its requirement files were not written by netbundle build",
    )


def check_bundle_locks(bundle: VerifiedBundle, members: Sequence[str]) -> Tuple[Pin, ...]:
    """:func:`parse_strict` on the staged lock ``members`` of ``bundle``; every hash must be a file it carries.

    :raises BundleFormatError: a lock is not in netbundle's shape, or allows a file the bundle does not carry.
    """
    carried = frozenset(entry.sha256 for entry in bundle.manifest.files)
    pins: List[Pin] = []
    for member in members:
        try:
            text = bundle.member_path(member).read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            raise BundleFormatError("{}: not UTF-8 text".format(member)) from None
        for pin in parse_strict(text, member):
            foreign = [digest for digest in pin.hashes if digest not in carried]
            if foreign:
                raise BundleFormatError(
                    "{}: {}=={} allows sha256 {}, which is no file of this bundle".format(
                        member, pin.name, pin.version, foreign[0]
                    ),
                    hint="do not install this bundle: its requirement files were not written by netbundle build",
                )
            pins.append(pin)
    return tuple(pins)
