"""Markers as sets: is an intersection empty, does a package's Python range cover a marker, which Python ranges.

poetry-plugin-export's walker (``walker.py``) asks these questions of markers, and Poetry answers them on its
simplified marker algebra, where every variable is independent of the others: ``sys_platform == "win32" and
platform_system == "Linux"`` is not empty, ``python_version < "3.9" and python_full_version >= "3.9.1"`` is.
This module answers them exactly under the same independence, by enumerating a finite space: for Python, every
version boundary the markers mention; for every other variable, the values the markers mention plus one value
that none mentions. Truth is constant between two consecutive boundaries and across unmentioned values, so the
enumeration is exact, and a marker becomes a bitmask over the space (an ``int``: AND and OR are one operation).

No library offers this: packaging evaluates a marker for one environment only, and poetry-core's marker algebra
comes with Poetry's package model.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import reduce

from packaging.version import InvalidVersion, Version

from netbundle.lock import markers as m

_PYTHON_VARIABLES = ("python_version", "python_full_version")
#: Stands for every value of a variable that no marker mentions.
_OTHER = "\x00other"


class MarkerSpace:
    """The finite space a set of markers lives in; :meth:`mask` turns a marker into a subset of it.

    Python is the outermost dimension: the space is ``len(pythons)`` blocks of ``cell`` bits, one block per Python
    version interval ``[pythons[i], pythons[i+1])``.
    """

    __slots__ = ("_cache", "_dimensions", "_full", "_leaf_cache", "_value_masks", "cell", "pythons")

    def __init__(self, nodes: Iterable[m.Node]) -> None:
        leaves = [leaf for node in nodes for leaf in _leaves(node)]
        self.pythons: tuple[Version, ...] = _python_points(leaf for leaf in leaves if _is_python(leaf))
        values: dict[str, set[str]] = {}
        for leaf in leaves:
            if not _is_python(leaf) and leaf.variable not in (None, "extra"):
                values.setdefault(leaf.variable, set()).add(leaf.value or "")
        self._dimensions = tuple((name, (*sorted(values[name]), _OTHER)) for name in sorted(values))
        self.cell = reduce(lambda a, b: a * b, (len(v) for _, v in self._dimensions), 1)
        self._full = (1 << (self.cell * len(self.pythons))) - 1
        self._value_masks: dict[tuple[str, str], int] = {}
        self._leaf_cache: dict[str, int] = {}
        # keyed by id(): hashing a deep tree costs its size on every lookup; the node is kept alive beside its mask
        self._cache: dict[int, tuple[m.Node, int]] = {}

    @property
    def full(self) -> int:
        """The whole space (the marker that always holds)."""
        return self._full

    def mask(self, node: m.Node) -> int:
        """The subset of the space where ``node`` holds; ``extra`` comparisons count as true (Poetry's
        ``without_extras``)."""
        if node is True:
            return self._full
        if node is False:
            return 0
        hit = self._cache.get(id(node))
        if hit is not None and hit[0] is node:
            return hit[1]
        if isinstance(node, m.All):
            result = reduce(lambda a, b: a & b, (self.mask(item) for item in node.items), self._full)
        elif isinstance(node, m.Any):
            result = reduce(lambda a, b: a | b, (self.mask(item) for item in node.items), 0)
        elif isinstance(node, m.Compare):
            result = self._leaf(node)
        else:
            raise TypeError(f"not a marker node: {node!r}")
        self._cache[id(node)] = (node, result)
        return result

    def python_blocks(self, mask: int) -> int:
        """Which Python intervals ``mask`` touches, as a bitmask over :attr:`pythons`."""
        block = (1 << self.cell) - 1
        found = 0
        for index in range(len(self.pythons)):
            if (mask >> (index * self.cell)) & block:
                found |= 1 << index
        return found

    def expand(self, blocks: int) -> int:
        """The full-space mask of a set of Python intervals (the inverse of :meth:`python_blocks`)."""
        block = (1 << self.cell) - 1
        return sum(block << (i * self.cell) for i in range(len(self.pythons)) if blocks >> i & 1)

    def python_runs(self, blocks: int) -> list[tuple[Version | None, Version | None]]:
        """Contiguous Python ranges ``[low, high)`` of a set of intervals; None is an open end."""
        runs: list[tuple[Version | None, Version | None]] = []
        index, count = 0, len(self.pythons)
        while index < count:
            if not blocks >> index & 1:
                index += 1
                continue
            start = index
            while index < count and blocks >> index & 1:
                index += 1
            runs.append(
                (self.pythons[start] if start else None, self.pythons[index] if index < count else None)
            )
        return runs

    def _leaf(self, leaf: m.Compare) -> int:
        cached = self._leaf_cache.get(leaf.text)
        if cached is not None:
            return cached
        if leaf.variable == "extra" or leaf.variable is None:
            result = self._full
        elif _is_python(leaf):
            block = (1 << self.cell) - 1
            result = 0
            for index, point in enumerate(self.pythons):
                if _holds(leaf, _python_environment(point)):
                    result |= block << (index * self.cell)
        elif leaf.variable not in dict(self._dimensions):
            result = self._full  # a variable none of the space's markers names: it does not constrain
        else:
            result = 0
            for value in dict(self._dimensions)[leaf.variable]:
                if _holds(leaf, {leaf.variable: value}):
                    result |= self._value_mask(leaf.variable, value)
        self._leaf_cache[leaf.text] = result
        return result

    def _value_mask(self, variable: str, value: str) -> int:
        """The subset where ``variable`` has ``value``: a periodic pattern over the mixed-radix index."""
        key = (variable, value)
        if key in self._value_masks:
            return self._value_masks[key]
        stride = 1
        for name, values in reversed(self._dimensions):
            if name == variable:
                if value not in values:
                    return 0
                period = stride * len(values)
                block = ((1 << stride) - 1) << (values.index(value) * stride)
                total = self.cell * len(self.pythons)
                repeat = ((1 << total) - 1) // ((1 << period) - 1)
                self._value_masks[key] = block * repeat
                return self._value_masks[key]
            stride *= len(values)
        return 0


def _leaves(node: m.Node) -> Iterator[m.Compare]:
    if isinstance(node, m.Compare):
        yield node
    elif isinstance(node, m.All | m.Any):
        for item in node.items:
            yield from _leaves(item)


def _is_python(leaf: m.Compare) -> bool:
    return leaf.variable in _PYTHON_VARIABLES


def _python_points(leaves: Iterable[m.Compare]) -> tuple[Version, ...]:
    """Every boundary where a Python comparison can change its truth, and 0 (the lowest Python)."""
    points = {Version("0")}
    for leaf in leaves:
        release = [int(x) for x in re.findall(r"\d+", (leaf.value or "").split("+")[0])[:3]]
        if not release:
            continue
        major, minor = release[0], release[1] if len(release) > 1 else 0
        points.update((Version(f"{major}.{minor}.0"), Version(f"{major}.{minor + 1}.0")))
        if len(release) == 1:
            points.add(Version(f"{major + 1}.0.0"))
        if len(release) > 2:
            points.update(
                (Version(f"{major}.{minor}.{release[2]}"), Version(f"{major}.{minor}.{release[2] + 1}"))
            )
    return tuple(sorted(points))


def _python_environment(point: Version) -> dict[str, str]:
    major, minor, micro = (*point.release, 0, 0, 0)[:3]
    return {"python_version": f"{major}.{minor}", "python_full_version": f"{major}.{minor}.{micro}"}


def _holds(leaf: m.Compare, values: dict[str, str]) -> bool:
    try:
        # parsed once per text (cached): every walk of the lock builds a new space and asks the same leaves again
        return m.parsed(leaf.text).evaluate(values)
    except (InvalidVersion, ValueError, TypeError):
        return False
