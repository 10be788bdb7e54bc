"""netbundle rehearsal import probe: run by the rehearsed venv's Python (``python -c <this file's text> SITE...``).

Imports every top-level module of every distribution in the site dirs given as arguments and prints one line,
:data:`MARKER` then JSON rows ``[distribution, module, status, error]`` with status ``ok``, ``error`` or
``optional`` (a plugin module for a tool that is not installed). Standard library only: it runs in a venv that
has nothing of netbundle. The installer reads this file with ``pkgutil.get_data``; importing it runs nothing.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from importlib import metadata

MARKER = "NETBUNDLE-IMPORTS "


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


def main(paths: list[str]) -> None:
    results: list[list[str]] = []
    for dist in sorted(metadata.distributions(path=paths), key=lambda d: d.metadata["Name"].lower()):
        for name in top_level(dist):
            if not name.isidentifier():
                continue
            status, error = "ok", ""
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
            results.append([dist.metadata["Name"], name, status, error])
    sys.stdout.write("\n" + MARKER + json.dumps(results) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
