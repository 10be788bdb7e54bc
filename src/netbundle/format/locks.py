"""The bundle's pip-ready requirement files (``locks/<target>/requirements-<group>.txt``), read back.

A requirement file pins each distribution with the sha256 of the one file the bundle carries for it on that target.
The rule both halves hold (the builder asserts it before signing, the verifier checks it before anything is
installed): **every hash in a target's requirement files is a file the manifest assigns to that target**. pip is
then handed exactly that target's files (:func:`target_files`); a file of another target, say a higher manylinux
level of the same version, can never be preferred by pip and fail ``--require-hashes`` on the host.
"""

from __future__ import annotations

import re

from ..errors import BundleFormatError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, List, Mapping, Tuple

    from .manifest import Manifest

_HASH = re.compile(r"--hash[= ]sha256:([0-9a-f]{64})\b")
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")


def parse_pins(text: str) -> List[Tuple[str, str, Tuple[str, ...]]]:
    """``(name, version, sha256 digests)`` of each requirement of a hash-pinned requirements file, in order.

    Backslash continuations are joined and ``#`` comment lines skipped, as pip reads the file.

    >>> parse_pins("six==1.16.0 \\\\\\n    --hash=sha256:" + "a" * 64 + "\\n") == [("six", "1.16.0", ("a" * 64,))]
    True
    """
    pins = []
    for line in _logical_lines(text):
        found = _PIN.match(line)
        if found is not None:
            pins.append((found.group(1), found.group(2), tuple(_HASH.findall(line))))
    return pins


def _logical_lines(text: str) -> List[str]:
    lines, pending = [], ""
    for raw in text.splitlines():
        if raw.lstrip().startswith("#"):
            continue
        if raw.endswith("\\"):
            pending += raw[:-1] + " "
            continue
        lines.append((pending + raw).strip())
        pending = ""
    if pending.strip():
        lines.append(pending.strip())
    return [line for line in lines if line]


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
            for name, version, hashes in parse_pins(text):
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
