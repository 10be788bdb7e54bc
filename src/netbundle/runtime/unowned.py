"""Files in a generation's venv that no distribution's RECORD owns: what an attacker adds, not what pip wrote.

A ``sitecustomize.py``, a ``*.pth`` file or an extra script in ``bin/`` runs code in every interpreter of the venv
while every RECORD hash still matches. So ``check`` walks the site-packages directories and ``bin/`` and reports
each file that no RECORD lists, except the ones Python and ``venv`` write themselves (:data:`VENV_SCRIPTS`, and
bytecode caches of an owned source file, see :func:`is_allowed`). The allow-list is documented in
``docs/reference/installer.md`` (check).
"""

from __future__ import annotations

import os
import pathlib
import re

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import AbstractSet, Iterable, List

#: What ``python -m venv --without-pip`` writes into ``bin/`` (interpreter links and activation scripts).
VENV_SCRIPTS = frozenset(
    ("python", "python3", "activate", "activate.csh", "activate.fish", "Activate.ps1", "activate.nu")
)
_VERSIONED_PYTHON = re.compile(r"^python3\.[0-9]+\Z")
#: ``__pycache__/<module>.<tag>[.opt-N].pyc`` as Python writes it (PEP 3147, PEP 488).
_CACHED = re.compile(r"^(?P<stem>[^.]+)\.[A-Za-z0-9_-]+(?:\.opt-[12])?\.pyc\Z")


def normalized(path: str) -> str:
    """``path`` absolute, with its directory's symlinks resolved (lib64 -> lib) but not the file itself."""
    absolute = pathlib.Path(os.path.normpath(str(pathlib.Path(path).absolute())))
    return str(absolute.parent.resolve() / absolute.name)


def is_allowed(path: str, owned: AbstractSet[str], scripts_dir: str) -> bool:
    """Whether an unowned ``path`` (normalized) is one Python or venv writes.

    - ``bin/python``, ``bin/python3``, ``bin/python3.X`` and the ``activate*`` scripts of ``venv``;
    - ``__pycache__/<name>.<tag>.pyc`` next to an *owned* ``<name>.py`` (bytecode Python writes when it imports
      it; a cache file without its owned source, e.g. for a planted ``sitecustomize.py``, is reported).
    """
    file = pathlib.PurePath(path)
    if str(file.parent) == scripts_dir:
        return file.name in VENV_SCRIPTS or bool(_VERSIONED_PYTHON.match(file.name))
    match = _CACHED.match(file.name)
    if file.parent.name == "__pycache__" and match:
        return str(file.parent.parent / (match.group("stem") + ".py")) in owned
    return False


def unowned_files(present: Iterable[str], owned: AbstractSet[str], scripts_dir: str) -> List[str]:
    """The ``present`` paths (normalized) that are neither ``owned`` nor allowed, sorted.

    >>> unowned_files(["/v/bin/python", "/v/bin/evil", "/v/s/a.py"], {"/v/s/a.py"}, "/v/bin")
    ['/v/bin/evil']
    """
    return sorted(p for p in present if p not in owned and not is_allowed(p, owned, scripts_dir))


def iter_present(directories: Iterable[str]) -> List[str]:
    """Every file and symlink under ``directories`` (normalized, each directory walked once)."""
    found = []  # type: List[str]
    seen = set()
    for top in directories:
        real = pathlib.Path(top).resolve()
        if real in seen or not real.is_dir():
            continue
        seen.add(real)
        for root, dirs, files in os.walk(str(real)):
            links = [d for d in dirs if (pathlib.Path(root) / d).is_symlink()]
            dirs[:] = [d for d in dirs if d not in links]  # a linked directory is reported, not followed
            found.extend(str(pathlib.Path(root) / name) for name in files + links)
    return found
