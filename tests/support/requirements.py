"""Semantic comparison of requirements files: what each selects in a given marker environment.

Two exports agree when, for every environment, they select the same packages at the same versions with the same
hashes; markers may be spelled differently (different Poetry versions do).
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Mapping

from packaging.markers import Marker
from packaging.utils import canonicalize_name

Selection = dict[str, tuple[str, frozenset[str]]]

_LINE = re.compile(
    r"^(?P<name>[A-Za-z0-9._-]+)(?:\[[^\]]*\])?\s*(?:==\s*(?P<version>[^\s;]+)|@\s*(?P<url>[^\s;]+))?\s*(?:;(?P<marker>.*))?$"
)


def logical_lines(text: str) -> list[str]:
    """Join backslash continuations; drop comments, blank lines and option lines (``--index-url`` …)."""
    joined = text.replace("\\\n", " ")
    return [
        line.strip()
        for line in joined.splitlines()
        if line.strip() and not line.lstrip().startswith("#") and not line.lstrip().startswith("--")
    ]


@functools.lru_cache(maxsize=65536)
def _holds(marker: str, environment: tuple[tuple[str, str], ...]) -> bool:
    """Marker evaluation, cached: exports repeat a few markers on hundreds of lines."""
    return Marker(marker).evaluate(dict(environment))


def selection(text: str, environment: Mapping[str, str]) -> Selection:
    """name -> (version or URL, hashes) of every line whose marker holds in ``environment``."""
    found: Selection = {}
    env = tuple(sorted(environment.items()))
    for line in logical_lines(text):
        hashes = frozenset(re.findall(r"--hash=(\S+)", line))
        spec = re.sub(r"\s*--hash=\S+", "", line).strip()
        if spec.startswith("-e "):
            target, _, marker = spec[3:].partition(";")
            if not marker.strip() or _holds(marker.strip(), env):
                found["-e " + target.strip()] = (target.strip(), hashes)
            continue
        match = _LINE.match(spec)
        assert match is not None, f"unparsed requirement line: {line!r}"
        marker = (match.group("marker") or "").strip()
        if marker and not _holds(marker, env):
            continue
        name = canonicalize_name(match.group("name"))
        version = match.group("version") or match.group("url") or ""
        assert name not in found or found[name] == (version, hashes), (
            f"{name} selected twice in {environment}"
        )
        found[name] = (version, hashes)
    return found


def _environment(python: str, implementation: str, system: str, machine: str) -> dict[str, str]:
    sys_platform = {"Linux": "linux", "Darwin": "darwin", "Windows": "win32"}[system]
    return {
        "python_version": ".".join(python.split(".")[:2]),
        "python_full_version": python,
        "implementation_name": implementation.lower(),
        "implementation_version": python,
        "platform_python_implementation": implementation,
        "sys_platform": sys_platform,
        "platform_system": system,
        "platform_machine": machine,
        "os_name": "nt" if system == "Windows" else "posix",
        "platform_release": "",
        "platform_version": "",
    }


#: The matrix every comparison runs over: Pythons 3.8-3.14 x CPython/PyPy x Linux/macOS/Windows x two machines.
ENVIRONMENTS: list[dict[str, str]] = [
    _environment(python, implementation, system, machine)
    for python, implementation, (system, machine) in itertools.product(
        ["3.8.18", "3.9.18", "3.10.14", "3.11.7", "3.12.4", "3.13.1", "3.14.0"],
        ["CPython", "PyPy"],
        [("Linux", "x86_64"), ("Linux", "aarch64"), ("Darwin", "arm64"), ("Windows", "AMD64")],
    )
]


#: The matrix of the real-world conformance test: CPython 3.9-3.13 x Linux x86_64/aarch64, macOS arm64, Windows.
CPYTHON_MATRIX: list[dict[str, str]] = [
    _environment(python, "CPython", system, machine)
    for python, (system, machine) in itertools.product(
        ["3.9.18", "3.10.14", "3.11.7", "3.12.4", "3.13.1"],
        [("Linux", "x86_64"), ("Linux", "aarch64"), ("Darwin", "arm64"), ("Windows", "AMD64")],
    )
]


def differences(expected: str, actual: str) -> list[str]:
    """Human-readable differences between two exports over :data:`ENVIRONMENTS` (empty when they agree)."""
    problems = []
    for env in ENVIRONMENTS:
        want, got = selection(expected, env), selection(actual, env)
        if want != got:
            label = (
                f"{env['platform_python_implementation']} {env['python_full_version']} {env['sys_platform']}"
            )
            missing = sorted(set(want) - set(got))
            extra = sorted(set(got) - set(want))
            changed = sorted(n for n in set(want) & set(got) if want[n] != got[n])
            problems.append(f"{label}: missing {missing} extra {extra} changed {changed}")
    return problems
