"""The real compatibility of a platform wheel built on this host, read from its ELF files (pure but for
:func:`wheel_policy`, which reads the wheel, and :func:`host_machine`).

A wheel built here is tagged ``linux_<machine>``: the tag says nothing about the glibc it needs. Its extension
modules do: every versioned symbol they import (``GLIBC_2.34``, ``GLIBCXX_3.4.29``) must exist on the host that
loads them. :class:`WheelPolicy` is what the ELF files need; :func:`refusal` says why a target cannot run the wheel
(its manylinux level promises an older glibc, another architecture, a library manylinux does not provide), or
None. The builder serves the wheel only to targets without a refusal and records the policy in the manifest.
"""

from __future__ import annotations

import platform
import re
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import parse_wheel_filename

from netbundle.wheels.elf import ElfError, ElfNeeds, is_elf, read_needs

if TYPE_CHECKING:
    from netbundle.lock.model import LockedPackage
    from netbundle.targets import Target

Version = tuple[int, ...]

_SYMBOL = re.compile(r"^(GLIBC|GLIBCXX|CXXABI|GCC)_(\d+(?:\.\d+)*)$")
_MANYLINUX = re.compile(r"^manylinux_(\d+)_(\d+)_(\w+)$")
_LEGACY = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}
#: The newest libstdc++/libgcc_s symbol versions each manylinux level allows on x86_64, as auditwheel 6.8's
#: manylinux policy lists them (other architectures differ slightly at a few levels): a wheel needing newer ones
#: needs a newer level even if its GLIBC_ needs are old.
_BASELINES: tuple[tuple[tuple[int, int], Mapping[str, Version]], ...] = (
    ((2, 5), {"GLIBCXX": (3, 4, 8), "CXXABI": (1, 3, 1), "GCC": (4, 2, 0)}),
    ((2, 12), {"GLIBCXX": (3, 4, 13), "CXXABI": (1, 3, 3), "GCC": (4, 3, 0)}),
    ((2, 17), {"GLIBCXX": (3, 4, 19), "CXXABI": (1, 3, 7), "GCC": (4, 8, 0)}),
    ((2, 24), {"GLIBCXX": (3, 4, 22), "CXXABI": (1, 3, 10), "GCC": (4, 8, 0)}),
    ((2, 27), {"GLIBCXX": (3, 4, 24), "CXXABI": (1, 3, 11), "GCC": (7, 0, 0)}),
    ((2, 31), {"GLIBCXX": (3, 4, 28), "CXXABI": (1, 3, 12), "GCC": (7, 0, 0)}),
    ((2, 34), {"GLIBCXX": (3, 4, 29), "CXXABI": (1, 3, 13), "GCC": (7, 0, 0)}),
    ((2, 35), {"GLIBCXX": (3, 4, 30), "CXXABI": (1, 3, 13), "GCC": (12, 0, 0)}),
    ((2, 39), {"GLIBCXX": (3, 4, 33), "CXXABI": (1, 3, 15), "GCC": (14, 0, 0)}),
)
#: The system libraries every manylinux host has (auditwheel's manylinux ``lib_whitelist``, plus the dynamic
#: loaders, which it treats apart); anything else must be carried in the wheel.
SYSTEM_LIBRARIES = frozenset(
    {
        "libc.so.6", "libm.so.6", "libmvec.so.1", "libdl.so.2", "librt.so.1", "libpthread.so.0", "libutil.so.1",
        "libnsl.so.1", "libanl.so.1", "libresolv.so.2", "libgcc_s.so.1", "libstdc++.so.6", "libatomic.so.1",
        "libz.so.1", "libexpat.so.1", "libX11.so.6", "libXext.so.6", "libXrender.so.1", "libICE.so.6",
        "libSM.so.6", "libGL.so.1", "libgobject-2.0.so.0", "libgthread-2.0.so.0", "libglib-2.0.so.0",
        "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1", "ld-linux.so.2", "ld-linux-armhf.so.3", "ld64.so.2",
        "ld64.so.1", "ld-linux-riscv64-lp64d.so.1",
    }
)  # fmt: skip


@dataclass(frozen=True, kw_only=True, slots=True)
class WheelPolicy:
    """What a built wheel's ELF files need of the host.

    ``glibc`` is the oldest glibc that can load every ELF file (its GLIBC_ needs, raised to the baseline level
    whose libstdc++/libgcc_s have the GLIBCXX_/CXXABI_/GCC_ versions it needs); None when nothing versioned is
    needed. ``newer_than_known`` names a symbol version newer than every baseline netbundle knows.
    """

    elf_files: tuple[str, ...]
    machine: str | None
    glibc: tuple[int, int] | None
    symbol_versions: tuple[str, ...]
    libraries: tuple[str, ...]
    unreadable: tuple[str, ...] = ()
    newer_than_known: tuple[str, ...] = ()

    @property
    def platform(self) -> str | None:
        """The manylinux tag the wheel really satisfies (``manylinux_2_34_x86_64``), or None when none does."""
        if self.machine is None or self.libraries or self.unreadable or self.newer_than_known:
            return None
        major, minor = max(self.glibc or (2, 5), (2, 5))  # manylinux_2_5 (manylinux1) is the oldest level
        return f"manylinux_{major}_{minor}_{self.machine}"

    def to_json(self) -> dict[str, object]:
        """The manifest's ``origin.build.policy``."""
        return {
            "elf_files": list(self.elf_files),
            "machine": self.machine,
            "glibc": ".".join(map(str, self.glibc)) if self.glibc else None,
            "platform": self.platform,
            "symbol_versions": list(self.symbol_versions),
            "libraries": list(self.libraries),
        }


def wheel_policy(path: Path) -> WheelPolicy:
    """Read every ELF file of the wheel at ``path`` and combine their needs."""
    needs, unreadable, names = [], [], []
    with zipfile.ZipFile(path) as wheel:
        members = wheel.namelist()
        for info in wheel.infolist():
            if info.is_dir():
                continue
            with wheel.open(info) as stream:
                if not is_elf(stream.read(4)):
                    continue
            names.append(info.filename)
            try:
                needs.append(read_needs(wheel.read(info)))
            except ElfError:
                unreadable.append(info.filename)
    carried = {member.rsplit("/", 1)[-1] for member in members}
    return combine(names, needs, unreadable, carried)


def combine(
    names: Iterable[str], needs: Iterable[ElfNeeds], unreadable: Iterable[str], carried: Iterable[str]
) -> WheelPolicy:
    """The policy of a wheel from its ELF files' needs; libraries the wheel carries itself are not external."""
    machines: set[str] = set()
    highest: dict[str, Version] = {}
    libraries: set[str] = set()
    own = set(carried)
    for need in needs:
        machines.add(need.machine)
        libraries.update(lib for lib in need.needed if lib not in SYSTEM_LIBRARIES and lib not in own)
        for names_needed in need.versions.values():
            for name in names_needed:
                found = _SYMBOL.match(name)
                if found is not None:
                    family, version = found.group(1), tuple(int(p) for p in found.group(2).split("."))
                    highest[family] = max(highest.get(family, version), version)
    glibc, newer = _glibc_level(highest)
    return WheelPolicy(
        elf_files=tuple(sorted(names)),
        machine=machines.pop() if len(machines) == 1 else ("+".join(sorted(machines)) or None),
        glibc=glibc,
        symbol_versions=tuple(f"{f}_{'.'.join(map(str, v))}" for f, v in sorted(highest.items())),
        libraries=tuple(sorted(libraries)),
        unreadable=tuple(sorted(unreadable)),
        newer_than_known=newer,
    )


def _glibc_level(highest: Mapping[str, Version]) -> tuple[tuple[int, int] | None, tuple[str, ...]]:
    glibc = highest.get("GLIBC")
    level: tuple[int, int] | None = (glibc[0], glibc[1] if len(glibc) > 1 else 0) if glibc else None
    newer = []
    for family in ("GLIBCXX", "CXXABI", "GCC"):
        needed = highest.get(family)
        if needed is None:
            continue
        fitting = [base for base, maxima in _BASELINES if maxima[family] >= needed]
        if not fitting:
            newer.append(f"{family}_{'.'.join(map(str, needed))}")
        elif fitting[0] != _BASELINES[0][0] and (level is None or fitting[0] > level):
            level = fitting[0]
    return level, tuple(newer)


def target_glibc(platform_tag: str) -> tuple[tuple[int, int], str] | None:
    """``(glibc, machine)`` a manylinux platform tag promises, or None for any other tag."""
    found = _MANYLINUX.match(platform_tag)
    if found is not None:
        return (int(found.group(1)), int(found.group(2))), found.group(3)
    legacy, _, machine = platform_tag.partition("_")
    return (_LEGACY[legacy], machine) if legacy in _LEGACY and machine else None


def refusal(policy: WheelPolicy, target: Target) -> str | None:
    """Why ``target`` cannot run a wheel of this policy (a sentence), or None when one of its platforms can."""
    reasons = [_platform_refusal(policy, p) for p in target.platforms]
    return None if any(r is None for r in reasons) else str(reasons[0])


def _platform_refusal(policy: WheelPolicy, platform_tag: str) -> str | None:
    machine = policy.machine
    if platform_tag.startswith("linux_"):
        wanted = platform_tag[len("linux_") :]
        return (
            None if machine in (None, wanted) else f"its ELF files are {machine} code, the target is {wanted}"
        )
    promised = target_glibc(platform_tag)
    if promised is None:
        return f"its ELF files are Linux (glibc) code, the target is {platform_tag}"
    glibc, wanted = promised
    if machine is not None and machine != wanted:
        return f"its ELF files are {machine} code, the target is {wanted}"
    if policy.unreadable:
        return f"netbundle cannot read the symbol versions of {', '.join(policy.unreadable)}"
    if policy.newer_than_known:
        return f"it needs {', '.join(policy.newer_than_known)}, newer than any manylinux baseline netbundle knows"
    if policy.libraries:
        return f"it links {', '.join(policy.libraries)} of this host, which manylinux hosts do not provide"
    if policy.glibc is not None and policy.glibc > glibc:
        needs = ", ".join(v for v in policy.symbol_versions if not v.startswith("GCC_")) or "symbols"
        return "it needs glibc {} ({}) and the target promises glibc {}".format(
            ".".join(map(str, policy.glibc)), needs, ".".join(map(str, glibc))
        )
    return None


# --- before building ---------------------------------------------------------------------------------------------


def host_machine() -> str:
    """This host's machine name as platform tags spell it (``x86_64``, ``aarch64``)."""
    machine = platform.machine().lower()
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)


def is_compiled(package: LockedPackage) -> bool:
    """The lock shows the package ships compiled code: it publishes a wheel for some platform."""
    for file in package.wheels:
        try:
            if any(tag.platform != "any" for tag in parse_wheel_filename(file.filename)[3]):
                return True
        except ValueError:
            continue
    return False


def known_refusal(package: LockedPackage, target: Target, machine: str, system: str) -> str | None:
    """Why a build on this host (``machine``, ``sys.platform``-style ``system``) cannot serve ``target``, when that
    is known before building: the package ships compiled code and the target is another OS or architecture."""
    if not is_compiled(package):
        return None  # the sdist may well build a pure wheel that serves every target
    env = target.marker_environment()
    if env["sys_platform"] != system:
        return (
            f"it ships compiled code, this host builds for {system} and the target is {env['sys_platform']}"
        )
    if env["platform_machine"] != machine:
        return f"it ships compiled code, this host builds {machine} code and the target is {env['platform_machine']}"
    return None
