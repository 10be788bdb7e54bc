"""The two programs the rehearsal runs in other processes, read from their own modules (real, linted Python).

- :data:`GUARD_SOURCE`: the ``sitecustomize.py`` of ``guard`` isolation (:mod:`.probe_guard`);
- :data:`IMPORT_PROBE`: the import probe run by the venv's Python (:mod:`.probe_imports`), which prints
  :data:`IMPORTS_MARKER` then JSON rows ``[distribution, module, status, error]``.

``pkgutil.get_data`` reads them through the package's loader, so this works from a directory and from inside the
zipapp alike. They run in the venv's Python or as its ``sitecustomize``, never in the installer's own process.
"""

from __future__ import annotations

import pkgutil

from .probe_imports import MARKER as IMPORTS_MARKER


def _source(module_file: str) -> str:
    data = pkgutil.get_data(__package__ or "netbundle.runtime.rehearse", module_file)
    if data is None:  # only a loader without get_data answers None; netbundle's (files, zipimport) have it
        raise RuntimeError("cannot read {} of {}".format(module_file, __package__))
    return data.decode("utf-8")


GUARD_SOURCE = _source("probe_guard.py")
IMPORT_PROBE = _source("probe_imports.py")

__all__ = ["GUARD_SOURCE", "IMPORTS_MARKER", "IMPORT_PROBE"]
