"""An install target: a Python version and implementation on a platform, as values.

Pure: nothing here looks at the machine running netbundle. The marker environment and the supported wheel tags
are computed from the target's own fields with packaging (``packaging.tags.cpython_tags`` /
``generic_tags`` / ``compatible_tags`` with explicit arguments), and older manylinux/musllinux/macOS platform tags
are implied the way pip implies them on a real host.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from packaging import tags

from netbundle.errors import InputError

_INLINE = re.compile(r"^(?P<impl>cp|pp)(?P<major>3)(?P<minor>\d{1,2})-(?P<platform>[a-z0-9_]+)$")
_MANYLINUX = re.compile(r"^manylinux_(\d+)_(\d+)_(\w+)$")
_LEGACY_MANYLINUX = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}
_MUSLLINUX = re.compile(r"^musllinux_(\d+)_(\d+)_(\w+)$")
_MACOS = re.compile(r"^macosx_(\d+)_(\d+)_(\w+)$")
_IMPLEMENTATIONS = {"cp": "CPython", "pp": "PyPy"}
INLINE_FORM = "cp311-manylinux_2_28_x86_64 (implementation+version, a dash, one platform tag)"


@dataclass(frozen=True, kw_only=True, slots=True)
class Target:
    """Where a bundle will be installed."""

    name: str
    python_version: str
    implementation: str = "cp"
    platforms: tuple[str, ...]
    abis: tuple[str, ...] = ()

    @property
    def python_tuple(self) -> tuple[int, int]:
        major, minor = self.python_version.split(".")[:2]
        return int(major), int(minor)

    @property
    def python_full_version(self) -> str:
        parts = self.python_version.split(".")
        return ".".join([*parts, "0"][:3]) if len(parts) < 3 else self.python_version

    @property
    def primary_platform(self) -> str:
        return self.platforms[0]

    def marker_environment(self) -> dict[str, str]:
        """The PEP 508 marker environment of a host matching this target.

        ``platform_release`` and ``platform_version`` are unknown for a target and set to "" (a lock marker that
        tests them cannot be decided ahead of time).
        """
        system, sys_platform, os_name = _system(self.primary_platform)
        major, minor = self.python_tuple
        return {
            "python_version": f"{major}.{minor}",
            "python_full_version": self.python_full_version,
            "implementation_name": _IMPLEMENTATIONS[self.implementation].lower(),
            "implementation_version": self.python_full_version,
            "platform_python_implementation": _IMPLEMENTATIONS[self.implementation],
            "sys_platform": sys_platform,
            "platform_system": system,
            "platform_machine": _machine(self.primary_platform),
            "os_name": os_name,
            "platform_release": "",
            "platform_version": "",
        }

    def tags(self) -> list[tags.Tag]:
        """Supported wheel tags, most preferred first (as pip orders them on such a host)."""
        platforms = list(expand_platforms(self.platforms))
        version = self.python_tuple
        if self.implementation == "cp":
            found = list(tags.cpython_tags(version, self.abis or None, platforms))
        else:
            interpreter = f"pp{version[0]}{version[1]}"
            found = list(tags.generic_tags(interpreter, self.abis or None, platforms))
        found += list(
            tags.compatible_tags(version, f"{self.implementation}{version[0]}{version[1]}", platforms)
        )
        return list(dict.fromkeys(found))

    @property
    def label(self) -> str:
        """A short description such as ``cp311-manylinux_2_28_x86_64``."""
        major, minor = self.python_tuple
        return f"{self.implementation}{major}{minor}-{self.primary_platform}"


def expand_platforms(platforms: Sequence[str]) -> Iterator[str]:
    """Every platform tag a host with these platforms accepts, newest first (pip's manylinux/musllinux ladders)."""
    seen: set[str] = set()
    for platform in platforms:
        for tag in _expand(platform):
            if tag not in seen:
                seen.add(tag)
                yield tag


def _expand(platform: str) -> Iterator[str]:
    manylinux = _MANYLINUX.match(platform)
    if manylinux:
        major, minor, arch = int(manylinux.group(1)), int(manylinux.group(2)), manylinux.group(3)
        for glibc_minor in range(minor, 4, -1):
            yield f"manylinux_{major}_{glibc_minor}_{arch}"
            for legacy, (lmajor, lminor) in _LEGACY_MANYLINUX.items():
                if (lmajor, lminor) == (major, glibc_minor) and (
                    legacy != "manylinux1" or arch in ("x86_64", "i686")
                ):
                    yield f"{legacy}_{arch}"
        yield f"linux_{arch}"
        return
    musl = _MUSLLINUX.match(platform)
    if musl:
        major, minor, arch = int(musl.group(1)), int(musl.group(2)), musl.group(3)
        for musl_minor in range(minor, -1, -1):
            yield f"musllinux_{major}_{musl_minor}_{arch}"
        yield f"linux_{arch}"
        return
    macos = _MACOS.match(platform)
    if macos:
        yield from tags.mac_platforms((int(macos.group(1)), int(macos.group(2))), macos.group(3))
        return
    yield platform


def _system(platform: str) -> tuple[str, str, str]:
    if platform.startswith(("manylinux", "musllinux", "linux")):
        return "Linux", "linux", "posix"
    if platform.startswith("macosx"):
        return "Darwin", "darwin", "posix"
    if platform.startswith("win"):
        return "Windows", "win32", "nt"
    raise InputError(
        f"unknown platform tag {platform!r}",
        hint="use e.g. manylinux_2_28_x86_64, macosx_11_0_arm64, win_amd64",
    )


def _machine(platform: str) -> str:
    if platform.startswith("win"):
        return {"win_amd64": "AMD64", "win_arm64": "ARM64", "win32": "x86"}.get(platform, "AMD64")
    for arch in ("x86_64", "aarch64", "arm64", "i686", "ppc64le", "s390x", "armv7l", "universal2"):
        if platform.endswith(arch):
            return "arm64" if arch == "universal2" else arch
    return platform.rsplit("_", 1)[-1]


def parse_target(text: str, *, name: str | None = None) -> Target:
    """An inline target such as ``cp311-manylinux_2_28_x86_64``."""
    found = _INLINE.match(text.strip())
    if found is None:
        raise InputError(f"invalid target {text!r}", hint=f"give a configured target name or {INLINE_FORM}")
    target = Target(
        name=name or text.strip(),
        python_version=f"{found.group('major')}.{int(found.group('minor'))}",
        implementation=found.group("impl"),
        platforms=(found.group("platform"),),
    )
    _system(target.primary_platform)
    return target


def targets_from_config(
    raw: Sequence[Mapping[str, object]], *, where: str = "[tool.netbundle.targets]"
) -> tuple[Target, ...]:
    """``[[tool.netbundle.targets]]`` tables: ``name``, ``python``, ``platform`` or ``platforms``, ``implementation``."""
    found = []
    for index, table in enumerate(raw):
        here = f"{where} #{index + 1}"
        name, python = table.get("name"), table.get("python")
        platforms = table.get("platforms", [table["platform"]] if "platform" in table else [])
        if (
            not isinstance(name, str)
            or not isinstance(python, str)
            or not re.fullmatch(r"3\.\d+(\.\d+)?", python)
        ):
            raise InputError(f'{here}: needs name and python (e.g. python = "3.11")')
        if not isinstance(platforms, list) or not platforms or not all(isinstance(p, str) for p in platforms):
            raise InputError(f'{here} ({name}): needs platform = "manylinux_2_28_x86_64" or a platforms list')
        implementation = str(table.get("implementation", "cp"))
        if implementation not in _IMPLEMENTATIONS:
            raise InputError(f"{here} ({name}): implementation must be cp or pp")
        for platform in platforms:
            _system(platform)
        found.append(
            Target(
                name=name, python_version=python, implementation=implementation, platforms=tuple(platforms)
            )
        )
    names = [t.name for t in found]
    if len(set(names)) != len(names):
        raise InputError(f"{where}: target names must be unique ({', '.join(names)})")
    return tuple(found)


def resolve_targets(requested: Sequence[str], configured: Sequence[Target]) -> tuple[Target, ...]:
    """Targets named on the command line (a configured name or an inline spec); all configured ones if none."""
    if not requested:
        return tuple(configured)
    by_name = {t.name: t for t in configured}
    return tuple(by_name[r] if r in by_name else parse_target(r) for r in requested)
