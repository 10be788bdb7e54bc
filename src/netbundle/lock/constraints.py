"""Poetry version constraints (``^1.2``, ``~1.2``, ``>=1,<2``, ``1.*``, ``a || b``) on versions.

Poetry's constraint language is a superset of PEP 440 specifiers; poetry-core parses it. These few rules translate
it into packaging's ``SpecifierSet`` so the lock engine needs no Poetry.
"""

from __future__ import annotations

import re

from packaging.specifiers import SpecifierSet
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
    for alternative in alternatives(constraint):
        try:
            if all(spec.contains(parsed, prereleases=True) for spec in specifiers(alternative)):
                return True
        except ValueError:  # InvalidSpecifier is one: an unreadable constraint excludes nothing
            return True
    return False


def specifier_for(constraint: str) -> str | None:
    """A Poetry constraint (``^3.9``, ``>=3.8,<4``) as a PEP 440 specifier, or None when it has alternatives."""
    if "|" in constraint:
        return None
    try:
        specs = specifiers(constraint)
    except ValueError:  # InvalidSpecifier too
        return None
    return ",".join(str(spec) for spec in specs)


#: Poetry's alternatives (``a || b``, also a single ``|``) and, inside one, its conjunctions (``a,b`` or ``a b``).
_ALTERNATIVES = re.compile(r"\s*\|\|?\s*")
_CONJUNCTION = re.compile(r"\s*,\s*|\s+(?=[<>=!~^])")
_CLAUSE = re.compile(r"^(?P<op>\^|~=|~|>=|<=|==|!=|>|<|=)?\s*(?P<version>[0-9][0-9a-zA-Z.*+-]*)$")


def alternatives(constraint: str) -> list[str]:
    """The ``||`` alternatives of a Poetry constraint (one for a constraint without any)."""
    return [part for part in _ALTERNATIVES.split(constraint.strip()) if part]


def clauses(alternative: str) -> list[tuple[str, str]]:
    """One alternative (no ``||``) as ``(operator, version)`` clauses that must all hold: ``^`` and ``~`` expanded
    to ``>=`` and ``<`` the way Poetry does, a bare version and ``=`` as ``==``, ``*`` as nothing. ``~=`` and
    wildcards (``==3.9.*``) are kept for the caller. The one reading of Poetry's syntax: specifiers for package
    versions (:func:`specifiers`) and markers for Python versions (:func:`netbundle.lock.markers.python_constraint`).

    >>> clauses("^1.2"), clauses(">=3.9 <4"), clauses("~3.10")
    ([('>=', '1.2'), ('<', '2')], [('>=', '3.9'), ('<', '4')], [('>=', '3.10'), ('<', '3.11')])

    :raises ValueError: a part that is not ``[operator] version``.
    """
    found = []
    for part in [p for p in _CONJUNCTION.split(alternative.strip()) if p]:
        part = part.strip("() ")
        if part in ("", "*"):
            continue
        match = _CLAUSE.match(part)
        if match is None:
            raise ValueError(f"not a version constraint: {part!r}")
        op, version = match.group("op") or "==", match.group("version")
        if op in ("^", "~"):
            release = [int(x) for x in re.findall(r"\d+", version)[:3]]
            if op == "^":
                index = next((i for i, x in enumerate(release) if x != 0), len(release) - 1)
            else:
                index = min(1, len(release) - 1)
            upper = ".".join(str(x) for x in [*release[:index], release[index] + 1])
            found += [(">=", version), ("<", upper)]
        else:
            found.append(("==" if op == "=" else op, version))
    return found


def specifiers(text: str) -> list[SpecifierSet]:
    """One alternative of a Poetry constraint (no ``||``) as specifier sets that must all hold.

    :raises ValueError: an unreadable part (and packaging's InvalidSpecifier, a ValueError, for a bad version).
    """
    return [SpecifierSet(f"{op}{version}") for op, version in clauses(text)]
