"""netbundle rehearsal import probe: run by the rehearsed venv's Python (``python -c <this file's text> SITE...``).

Imports every top-level module of every distribution in the site dirs given as arguments and prints one line,
:data:`MARKER` then JSON rows ``[distribution, module, status, error]`` with status ``ok``, ``error``,
``optional`` (a plugin module for a tool that is not installed) or ``skipped`` (the error field says why):

- a module matching a pattern of ``$NETBUNDLE_SKIP_IMPORTS`` (a JSON list, from the bundle's
  ``rehearse.skip_imports``) is not imported;
- a module that is the target of an entry point gated by an extra that is not installed (black's
  ``blackd = blackd:patched_main [d]`` without aiohttp) and fails with an ImportError is skipped, and so is each
  console script gated by such an extra (module field ``console script NAME``).

Standard library only: it runs in a venv that has nothing of netbundle. The installer reads this file with
``pkgutil.get_data``; importing it runs nothing.
"""

from __future__ import annotations

import fnmatch
import importlib
import importlib.util
import json
import os
import re
import sys
from importlib import metadata

MARKER = "NETBUNDLE-IMPORTS "
SKIP_VARIABLE = "NETBUNDLE_SKIP_IMPORTS"

_EXTRAS = re.compile(r"\[([^\]]*)\]\s*$")
_EXTRA_MARKER = re.compile(r"extra\s*==\s*['\"]([^'\"]+)['\"]")
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def top_level(dist: metadata.Distribution) -> list[str]:
    text = dist.read_text("top_level.txt")
    if text:
        return sorted(set(text.split()))
    names: set[str] = set()
    for path in dist.files or ():
        parts = path.parts
        if not parts or parts[0] in ("..", "__pycache__") or parts[0].endswith((".dist-info", ".data")):
            continue
        if len(parts) > 1:
            names.add(parts[0])
        elif parts[0].endswith(".py"):
            names.add(parts[0][:-3])
        elif parts[0].endswith((".so", ".pyd")):
            names.add(parts[0].split(".")[0])
    return sorted(names)


def plugins(dist: metadata.Distribution) -> set[str]:
    # top-level modules the distribution offers as plugins to other tools (entry points, not scripts)
    groups = ("console_scripts", "gui_scripts")
    return {ep.value.split(":")[0].split(".")[0] for ep in dist.entry_points if ep.group not in groups}


def installed(name: str) -> bool:
    try:
        metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return False
    return True


def missing_extras(dist: metadata.Distribution) -> dict[str, list[str]]:
    """Extra -> the requirements of that extra that are not installed."""
    found: dict[str, list[str]] = {}
    for line in dist.requires or ():
        marker = _EXTRA_MARKER.search(line)
        name = _NAME.match(line)
        if marker and name and not installed(name.group(1)):
            found.setdefault(marker.group(1), []).append(name.group(1))
    return found


def gated(dist: metadata.Distribution) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Top-level module -> why, for entry points that need an extra not installed; and the console scripts
    among them."""
    missing = missing_extras(dist)
    modules: dict[str, str] = {}
    scripts: list[tuple[str, str]] = []
    for ep in dist.entry_points:
        extras = _EXTRAS.search(ep.value)
        names = [e.strip() for e in extras.group(1).split(",")] if extras else []
        lacking = [e for e in names if e in missing]
        if not lacking:
            continue
        why = "needs extra '{}' of {}, not installed ({} missing)".format(
            lacking[0], dist.metadata["Name"], ", ".join(missing[lacking[0]])
        )
        modules.setdefault(ep.value.split(":")[0].split(".")[0].strip(), why)
        if ep.group in ("console_scripts", "gui_scripts"):
            scripts.append((ep.name, why))
    return modules, scripts


def probe(name: str, dist: metadata.Distribution, modules: dict[str, str]) -> tuple[str, str]:
    """Import ``name``: its status and error text."""
    try:
        importlib.import_module(name)
    except BaseException as exc:  # noqa: BLE001 # a module may raise anything (SystemExit too) on import
        status, error = "error", "{}: {}".format(type(exc).__name__, exc).splitlines()[0]
        missing = (getattr(exc, "name", None) or "").split(".")[0]
        if (
            isinstance(exc, ModuleNotFoundError)
            and missing
            and missing != name
            and name in plugins(dist)
            and importlib.util.find_spec(missing) is None
        ):
            status = "optional"
        if isinstance(exc, ImportError) and name in modules:
            status, error = "skipped", "{} ({})".format(modules[name], error)
        return status, error
    return "ok", ""


def main(paths: list[str]) -> None:
    skip = json.loads(os.environ.get(SKIP_VARIABLE) or "[]")
    results: list[list[str]] = []
    for dist in sorted(metadata.distributions(path=paths), key=lambda d: d.metadata["Name"].lower()):
        modules, scripts = gated(dist)
        for script, why in scripts:
            results.append([dist.metadata["Name"], "console script " + script, "skipped", why])
        for name in top_level(dist):
            if not name.isidentifier():
                continue
            pattern = next((p for p in skip if fnmatch.fnmatchcase(name, p)), None)
            if pattern is not None:
                results.append(
                    [dist.metadata["Name"], name, "skipped", "skip-imports pattern " + repr(pattern)]
                )
                continue
            status, error = probe(name, dist, modules)
            results.append([dist.metadata["Name"], name, status, error])
    sys.stdout.write("\n" + MARKER + json.dumps(results) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
