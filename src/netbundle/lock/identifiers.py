"""Names and versions read from pyproject.toml and poetry.lock must be PEP 508 names and PEP 440 versions.

They end up in the bundle's signed requirement files, which pip reads: a "version" with a newline and a
``--find-links URL`` after it would be an option line (issue 14, finding 4). Refusing anything else at the input
keeps that out and says where it came from; :mod:`netbundle.format.locks` refuses it again when rendering.
"""

from __future__ import annotations

from packaging.version import InvalidVersion, Version

from netbundle.errors import InputError
from netbundle.format.locks import NAME


def check_name(name: str, where: str) -> str:
    """``name`` when it is a PEP 508 distribution name; else an :class:`InputError` naming ``where``."""
    if not NAME.match(name):
        raise InputError(
            f"{where}: {name!r} is not a valid distribution name (PEP 508: letters, digits, and . _ - inside)",
            hint="fix the name, then run `poetry lock`",
        )
    return name


def check_version(version: str, where: str) -> str:
    """``version`` when it is a PEP 440 version; else an :class:`InputError` naming ``where``."""
    try:
        Version(version)
    except InvalidVersion:
        raise InputError(
            f"{where}: {version!r} is not a PEP 440 version",
            hint="use a version such as 1.2.3, 2.0rc1 or 1.0.post1, then run `poetry lock`",
        ) from None
    return version
