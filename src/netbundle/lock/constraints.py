"""Poetry version constraints (``^1.2``, ``~1.2``, ``>=1,<2``, ``1.*``, ``a || b``) on versions.

Poetry's constraint language is a superset of PEP 440 specifiers; poetry-core parses it. These few rules translate
it into packaging's ``SpecifierSet`` so the lock engine needs no Poetry.
"""

from __future__ import annotations

import re

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version


def allows(constraint: str, version: str) -> bool:
    """Does a Poetry version constraint allow ``version``? Pre-releases count, as in Poetry.

    >>> allows("^1.2", "1.9.0rc1"), allows("<1 || >=2", "1.5")
    (True, False)
    """
    try:
        parsed = Version(version)
    except InvalidVersion:
        return True
    for alternative in re.split(r"\s*\|\|?\s*", constraint.strip()):
        try:
            if all(spec.contains(parsed, prereleases=True) for spec in specifiers(alternative)):
                return True
        except InvalidSpecifier:
            return True
    return False


def specifier_for(constraint: str) -> str | None:
    """A Poetry constraint (``^3.9``, ``>=3.8,<4``) as a PEP 440 specifier, or None when it has alternatives."""
    if "|" in constraint:
        return None
    try:
        specs = specifiers(constraint)
    except (InvalidSpecifier, ValueError):
        return None
    return ",".join(str(spec) for spec in specs)


def specifiers(text: str) -> list[SpecifierSet]:
    """One alternative of a Poetry constraint (no ``||``) as specifier sets that must all hold."""
    specs = []
    for part in [p for p in re.split(r"\s*,\s*|\s+(?=[<>=!~^])", text.strip()) if p]:
        part = part.strip("() ")
        if part in ("", "*"):
            continue
        if part[0] in "^~" and not part.startswith("~="):
            base = part[1:].strip()
            release = [int(x) for x in re.findall(r"\d+", base)[:3]]
            if part[0] == "^":
                index = next((i for i, x in enumerate(release) if x != 0), len(release) - 1)
            else:
                index = min(1, len(release) - 1)
            upper = ".".join(str(x) for x in [*release[:index], release[index] + 1])
            specs.append(SpecifierSet(f">={base},<{upper}"))
        elif part[0].isdigit():
            specs.append(SpecifierSet(f"=={part}"))
        else:
            specs.append(SpecifierSet(part))
    return specs
