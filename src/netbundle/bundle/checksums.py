"""``SHA256SUMS`` beside every bundle (and the pyz): what an operator checks with ``sha256sum -c SHA256SUMS``.

The file holds one ``<sha256>  <file name>`` line per file of its directory that netbundle wrote (the format of
GNU ``sha256sum``, text mode); recording a file replaces its line and keeps the others, sorted by name, so a
``dist/`` holding a bundle and the pyz has one file covering both. Written atomically.
"""

from __future__ import annotations

from pathlib import Path

from netbundle._atomic import check_output, write_atomic
from netbundle.format.tar import file_sha256

SUMS_NAME = "SHA256SUMS"


def parse_sums(text: str) -> dict[str, str]:
    """File name -> sha256 of a ``sha256sum`` file (``*name`` binary-mode lines too); other lines are dropped."""
    found = {}
    for line in text.splitlines():
        digest, _, name = line.partition(" ")
        name = name[1:] if name[:1] in (" ", "*") else name
        if len(digest) == 64 and name:
            found[name] = digest
    return found


def render_sums(sums: dict[str, str]) -> str:
    return "".join(f"{digest}  {name}\n" for name, digest in sorted(sums.items()))


def record_checksum(path: Path) -> str:
    """Hash ``path`` and record it in the ``SHA256SUMS`` of its directory; return the hex sha256.

    A bundle written to standard output (``-``) or through a device (``/dev/null``) has no file to hash and no
    directory of its own: nothing is recorded (and nothing written beside the device), and the result is ``""``.
    """
    if check_output(path) != "replace" or not path.is_file():
        return ""
    digest = file_sha256(path)
    sums_path = path.parent / SUMS_NAME
    try:
        sums = parse_sums(sums_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        sums = {}
    sums[path.name] = digest
    write_atomic(sums_path, render_sums(sums).encode("utf-8"))
    return digest
