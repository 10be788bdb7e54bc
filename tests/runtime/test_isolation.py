"""The runtime imports only the standard library, itself, the shared contract (``netbundle.format``,
``netbundle.errors``, ``netbundle._atomic``) and the packages the pyz ships (import-graph check; the same rule is
an import-linter contract in pyproject.toml)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
SHIPPED = {"packaging", "installer", "ecdsa", "six"}

PROBE = """
import importlib, json, sys
sys.path.insert(0, SRC)
before = set(sys.modules)
for name in MODULES:
    importlib.import_module(name)
new = sorted(set(sys.modules) - before)
print(json.dumps(new))
"""


def imported_by(*modules: str) -> list[str]:
    code = f"SRC = {str(SRC)!r}\nMODULES = {list(modules)!r}\n" + PROBE
    done = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


#: The netbundle modules the pyz ships besides the runtime itself.
SHARED = ("netbundle.format", "netbundle.errors", "netbundle._atomic")


def package_modules(package: str) -> list[str]:
    """Every module of ``package`` and its sub-packages (``__main__`` excluded: it runs the CLI)."""
    folder = SRC.joinpath(*package.split("."))
    found = []
    for path in sorted(folder.rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        if parts[-1] == "__main__" or parts[-1] == "probe_guard":  # the guard patches socket on import
            continue
        found.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return found


def runtime_modules() -> list[str]:
    return package_modules("netbundle.runtime") + package_modules("netbundle.format")


def test_the_walk_sees_sub_packages() -> None:
    assert "netbundle.runtime.rehearse.report" in runtime_modules()
    assert "netbundle.format.tar" in runtime_modules()


def third_party(modules: list[str]) -> set[str]:
    tops = {name.split(".")[0] for name in modules}
    return {t for t in tops if t not in sys.stdlib_module_names and t != "netbundle"}


def test_every_runtime_module_imports_only_stdlib_and_shipped_packages() -> None:
    modules = imported_by(*runtime_modules())
    assert third_party(modules) <= SHIPPED
    foreign = [
        m for m in modules if m.startswith("netbundle.") and not m.startswith(("netbundle.runtime", *SHARED))
    ]
    assert foreign == []


def test_the_cli_parser_imports_no_third_party_package() -> None:
    """`--help` stays fast: argparse and the error tree, nothing from packaging/installer/ecdsa."""
    modules = imported_by("netbundle.runtime.cli")
    assert third_party(modules) == set()
    assert sorted(m for m in modules if m.startswith("netbundle")) == [
        "netbundle", "netbundle.errors", "netbundle.runtime", "netbundle.runtime.cli",
    ]  # fmt: skip


def test_netbundle_package_init_imports_nothing() -> None:
    assert [m for m in imported_by("netbundle") if m.startswith("netbundle")] == ["netbundle"]
