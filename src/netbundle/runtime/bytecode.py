"""Byte-compiling what ``pip install --no-compile`` installed, on every core.

The pip engine runs pip with ``--no-compile`` on a host with more than one core, then gives the modules pip
installed to the installer's worker processes (:mod:`.workers`) in batches: each worker is the venv's own
interpreter, so each ``.pyc`` carries its magic number and cache tag, and compiles as pip does (``py_compile`` with
the default invalidation mode, so ``SOURCE_DATE_EPOCH`` gives checked-hash pycs). A module that does not compile (a
template, a file for another Python) is skipped silently, like pip skips it.
"""

from __future__ import annotations

import csv
import importlib.util
import os
import pathlib

from .unpacker import CompileJob
from .workers import WorkerPool

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, List, Mapping, Sequence

#: Paths per job: small enough to balance the load, large enough that the pipe round trip does not matter.
BATCH = 48


def core_count() -> int:
    """The cores this process may run on (the affinity mask, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def compile_modules(paths: Sequence[str], python: str, env: Mapping[str, str]) -> List[bool]:
    """Compile ``paths`` on every core with ``python``; which of them compiled, in their order.

    :raises InstallError: a worker could not start or died.
    """
    jobs = [CompileJob(tuple(paths[start : start + BATCH])) for start in range(0, len(paths), BATCH)]
    if not jobs:
        return []
    replies = WorkerPool(python, env, min(core_count(), len(jobs))).run(jobs)
    return [bool(ok) for reply in replies for ok in reply["compiled"]]


def compile_pip_installed(site_dirs: Sequence[str], python: str, env: Mapping[str, str]) -> int:
    """Byte-compile, on every core, what ``pip install --no-compile`` installed into ``site_dirs``; return how
    many modules compiled.

    The modules are those listed in the RECORD of each distribution whose ``INSTALLER`` is ``pip`` (the bundle's
    own pip wheel, installed by pypa/installer, stays uncompiled as before). Each compiled module's ``.pyc`` is
    added to its RECORD as pip adds it when it compiles (``path,,``), so the result is the same as pip's own.
    """
    records = [record for site in dict.fromkeys(site_dirs) for record in _pip_records(site)]
    modules = [(record, path) for record in records for path in _record_modules(record)]
    if not modules:
        return 0
    done = compile_modules([str(record.parent.parent / path) for record, path in modules], python, env)
    added: Dict[pathlib.Path, List[str]] = {}
    for (record, path), ok in zip(modules, done):
        if ok:
            added.setdefault(record, []).append(importlib.util.cache_from_source(path))
    for record, pycs in added.items():
        with record.open("a", newline="") as stream:
            csv.writer(stream, lineterminator="\n").writerows([pyc, "", ""] for pyc in pycs)
    return sum(len(pycs) for pycs in added.values())


def _pip_records(site: str) -> List[pathlib.Path]:
    found = []
    for info in sorted(pathlib.Path(site).glob("*.dist-info")):
        try:
            if (info / "INSTALLER").read_text().strip() == "pip" and (info / "RECORD").is_file():
                found.append(info / "RECORD")
        except OSError:
            continue
    return found


def _record_modules(record: pathlib.Path) -> List[str]:
    """The ``.py`` files a RECORD lists inside its site-packages directory (not ``../`` paths: scripts, data)."""
    with record.open(newline="") as stream:
        rows = [row for row in csv.reader(stream) if row]
    return [row[0] for row in rows if row[0].endswith(".py") and not row[0].startswith(("../", "/"))]
