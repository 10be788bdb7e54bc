"""Environment markers as small boolean trees: combine, apply extras, evaluate, render.

packaging parses and evaluates markers, but it cannot *partially* evaluate one (replace the ``extra`` clauses by
their truth for a set of selected extras and keep the rest), nor AND/OR two markers into a simplified third. Poetry
needs both to export a lock, so this module does them on the tree packaging's parser produces. It reads
``Marker._markers``, packaging's parsed form; the project pins packaging through poetry.lock, and
tests/unit/lock/test_markers.py pins the behaviour.
"""

from __future__ import annotations

import functools
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Union

from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName
from packaging.utils import canonicalize_name

from netbundle.errors import LockError
from netbundle.lock import constraints


@dataclass(frozen=True, slots=True)
class Compare:
    """One comparison, kept in its source spelling: ``python_version >= "3.9"``."""

    text: str
    variable: str | None
    op: str
    value: str | None


@dataclass(frozen=True, slots=True)
class All:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Any:
    items: tuple[Node, ...]


Node = Union[bool, Compare, All, Any]  # noqa: UP007 - a runtime alias; `X | Y` of classes is fine but keep it readable

TRUE: Node = True
FALSE: Node = False


def parse(text: str | None, *, where: str = "marker") -> Node:
    """Parse a PEP 508 marker into a tree (``None`` or empty text means "always")."""
    if text is None or not text.strip():
        return TRUE
    try:
        return _parse_tree(text)
    except InvalidMarker as exc:
        raise LockError(f"invalid marker in {where}: {text!r} ({exc})") from None


@functools.lru_cache(maxsize=16384)
def _parse_tree(text: str) -> Node:
    """The tree of one marker text; cached because a lock repeats the same markers on many packages, and a build
    parses them once per target and group (the trees are immutable)."""
    return _from_list(parsed(text)._markers)


@functools.lru_cache(maxsize=16384)
def parsed(text: str) -> Marker:
    """packaging's parse of a marker text, cached (its evaluate() does not change it).

    :raises packaging.markers.InvalidMarker: not a marker.
    """
    return Marker(text)


def _from_list(items: typing.Sequence[object]) -> Node:
    groups: list[list[Node]] = [[]]
    for item in items:
        if item == "or":
            groups.append([])
        elif item == "and":
            continue
        elif isinstance(item, list):
            groups[-1].append(_from_list(item))
        else:
            groups[-1].append(_compare(item))  # type: ignore[arg-type]
    return any_of(all_of(*group) for group in groups)


def _compare(item: tuple[typing.Any, typing.Any, typing.Any]) -> Compare:
    lhs, op, rhs = item
    if type(lhs).__name__ == "Variable":
        variable, value = lhs.value, rhs.value
        text = f'{lhs.value} {op.value} "{rhs.value}"'
    else:
        variable, value = rhs.value, lhs.value
        text = f'"{lhs.value}" {op.value} {rhs.value}'
    return Compare(text=text, variable=variable, op=op.value, value=value)


def all_of(*nodes: Node) -> Node:
    """AND of the nodes, flattened and simplified."""
    return _combine(nodes, All, unit=True)


def any_of(nodes: typing.Iterable[Node]) -> Node:
    """OR of the nodes (an iterable), flattened and simplified."""
    return _combine(nodes, Any, unit=False)


def _combine(nodes: typing.Iterable[Node], kind: type[All | Any], *, unit: bool) -> Node:
    """Flatten nested ``kind`` nodes, drop duplicates and the unit (True for AND, False for OR); the other
    constant absorbs everything."""
    items: list[Node] = []
    for node in nodes:
        if node is (not unit):
            return not unit
        if node is unit:
            continue
        for sub in node.items if isinstance(node, kind) else (node,):
            if sub not in items:
                items.append(sub)
    if not items:
        return unit
    return items[0] if len(items) == 1 else kind(tuple(items))


def apply_extras(node: Node, extras: frozenset[str]) -> Node:
    """Replace every ``extra`` comparison by its truth for the selected extras (Poetry's set semantics)."""
    if isinstance(node, bool):
        return node
    if isinstance(node, All):
        return all_of(*(apply_extras(item, extras) for item in node.items))
    if isinstance(node, Any):
        return any_of(apply_extras(item, extras) for item in node.items)
    if node.variable != "extra":
        return node
    present = canonicalize_name(node.value or "") in extras
    if node.op == "==":
        return present
    if node.op == "!=":
        return not present
    raise LockError(f"unsupported extra comparison in marker: {node.text}")


def evaluate(node: Node, environment: Mapping[str, str]) -> bool:
    """Evaluate against a complete marker environment (a target's, never the running host's)."""
    if isinstance(node, bool):
        return node
    if isinstance(node, All):
        return all(evaluate(item, environment) for item in node.items)
    if isinstance(node, Any):
        return any(evaluate(item, environment) for item in node.items)
    try:
        return parsed(node.text).evaluate(dict(environment))
    except (UndefinedComparison, UndefinedEnvironmentName) as exc:
        raise LockError(f"cannot evaluate marker {node.text!r} for this target: {exc}") from None


def render(node: Node) -> str:
    """PEP 508 text; ``""`` for always-true. Rendering FALSE is a caller bug."""
    if node is True:
        return ""
    if node is False:
        raise ValueError("a never-true marker has no text; drop the requirement instead")
    return _render(node, parent=None)


def _render(node: Node, parent: type | None) -> str:
    if isinstance(node, Compare):
        return node.text
    if not isinstance(node, All | Any):
        raise TypeError(f"not a marker node: {node!r}")
    joiner = " and " if isinstance(node, All) else " or "
    text = joiner.join(_render(item, type(node)) for item in node.items)
    return f"({text})" if parent is not None and parent is not type(node) else text


# --- Poetry version constraints on Python -> markers ---------------------------------------------------------------


def python_constraint(constraint: str | None) -> Node:
    """Turn a Poetry ``python-versions`` constraint (``>=3.9,<4.0``, ``^3.9``, ``~3.10``, ``3.9.*``,
    ``>=3.8 || <3``) into a marker tree (the syntax is read by :func:`netbundle.lock.constraints.clauses`)."""
    if constraint is None or constraint.strip() in ("", "*"):
        return TRUE
    return any_of(_python_and(part) for part in constraints.alternatives(constraint))


def _python_and(text: str) -> Node:
    try:
        found = constraints.clauses(text)
    except ValueError:
        raise LockError(f"unsupported Python version constraint {text!r}") from None
    return all_of(*(_python_clause(op, version) for op, version in found))


def _python_clause(op: str, version: str) -> Node:
    if version.endswith(".*") and op in ("==", "!="):
        return _cmp(op, version, wildcard=True)
    version = version.removesuffix(".*")  # Poetry reads `>=3.*` as `>=3.0`
    if op == "~=":
        release = [int(x) for x in re.findall(r"\d+", version)[:3]]
        return all_of(_cmp(">=", version), _cmp("<", _bump(release, max(len(release) - 2, 0))))
    return _cmp(op, version)


def _bump(release: list[int], index: int) -> str:
    bumped = [*release[:index], release[index] + 1]
    return ".".join(str(x) for x in bumped)


def _cmp(op: str, version: str, *, wildcard: bool = False) -> Node:
    parts = version.rstrip(".*").split(".") if wildcard else version.split(".")
    variable = (
        "python_full_version" if len(parts) >= 3 or (not wildcard and len(parts) > 2) else "python_version"
    )
    if not wildcard and len(parts) == 1:
        version = version + ".0"
    text = f'{variable} {op} "{version}"'
    return Compare(text=text, variable=variable, op=op, value=version)


def without_extras(node: Node) -> Node:
    """The marker with its ``extra`` comparisons removed, as Poetry's ``BaseMarker.without_extras`` does: a term of
    an AND or an OR is dropped (not replaced by a constant); a marker made only of them becomes "always"."""
    kept = _drop_extras(node)
    return TRUE if kept is None else kept


def _drop_extras(node: Node) -> Node | None:
    if isinstance(node, Compare):
        return None if node.variable == "extra" else node
    if isinstance(node, All | Any):
        items = [kept for kept in (_drop_extras(item) for item in node.items) if kept is not None]
        if not items:
            return None
        return all_of(*items) if isinstance(node, All) else any_of(items)
    return node
