"""Which wheel's copy of a shared file the installer engine keeps: the one pip would have installed last.

Real wheels overlap (a top-level ``LICENSE`` in several, ``cssbeautifier`` shipping ``jsbeautifier/``). pip installs
one wheel after another and the last write wins; every wheel's RECORD still lists the file with its own hash. The
engine unpacks in parallel, so it decides up front: :func:`install_order` is pip's order (its resolver's
topological weights: the longest dependency path from the requirements' root, an ``name[extras]`` requirement one
hop more; heavier first, ties by name, both descending) and :func:`shared_paths` gives each file claimed by several
wheels to the last of them. The others hash their copy for RECORD without writing it. Pure.
"""

from __future__ import annotations

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, List, Mapping, Optional, Sequence, Set, Tuple


def install_order(requires: Mapping[str, Sequence[str]], environment: Mapping[str, str]) -> List[str]:
    """The distributions in the order pip installs them (every one is a requirement of the root).

    pip's ``get_topological_weights``, step for step: leaves are pruned again and again, each round's leaves
    weighing the number of nodes left; the rest weigh the longest path from the root (at most five paths per
    node); then heavier first, ties by name, both descending.

    :param requires: canonical name -> its ``Requires-Dist`` lines.

    >>> install_order({"app": ["lib>=1"], "lib": [], "zed": []}, {})
    ['zed', 'lib', 'app']
    """
    graph = _graph(requires, environment)
    graph[ROOT] = sorted(requires)
    weights: Dict[str, List[int]] = {}
    while True:
        leaves = [node for node in sorted(graph) if node != ROOT and not graph[node]]
        if not leaves:
            break
        for leaf in leaves:
            if leaf in requires:
                weights[leaf] = [len(graph) - 1]
        for leaf in leaves:
            del graph[leaf]
        for node in graph:
            graph[node] = [child for child in graph[node] if child in graph]
    _visit(ROOT, graph, set(), weights, requires)
    final = {name: max(found) for name, found in weights.items()}
    return sorted(requires, key=lambda name: (final.get(name, 0), name), reverse=True)


#: the root of pip's graph (its ``None``): every locked distribution is a requirement of it
ROOT = ""


def _visit(
    node: str,
    graph: Mapping[str, List[str]],
    path: Set[str],
    weights: Dict[str, List[int]],
    keys: Mapping[str, object],
) -> None:
    if node in path:
        return  # a cycle: pip breaks it here
    found = weights.get(node, [])
    if len(found) >= 5:
        return  # pip's bound on the walk
    path.add(node)
    for child in graph.get(node, ()):
        _visit(child, graph, path, weights, keys)
    path.discard(node)
    if node in keys:
        found.append(len(path))
        weights[node] = found


def _graph(requires: Mapping[str, Sequence[str]], environment: Mapping[str, str]) -> Dict[str, List[str]]:
    """Node -> children, over the installed set only: ``name`` and ``name[extras]`` nodes, as in pip's graph."""
    graph: Dict[str, List[str]] = {}
    pending = [(name, ()) for name in requires]  # type: List[Tuple[str, Tuple[str, ...]]]
    while pending:
        name, extras = pending.pop()
        node = _node(name, extras)
        if node in graph:
            continue
        children = [name] if extras else []
        for line in requires.get(name, ()):
            parsed = _requirement(line)
            if parsed is None or not _applies(parsed.marker, environment, extras):
                continue
            child = canonicalize_name(parsed.name)
            if child not in requires:
                continue
            child_extras = tuple(sorted(canonicalize_name(e) for e in parsed.extras))
            children.append(_node(child, child_extras))
            pending.append((child, child_extras))
        graph[node] = list(dict.fromkeys(children))
    return graph


def _node(name: str, extras: Tuple[str, ...]) -> str:
    return "{}[{}]".format(name, ",".join(extras)) if extras else name


def _requirement(line: str) -> Optional[Requirement]:
    try:
        return Requirement(line)
    except InvalidRequirement:
        return None


def _applies(marker: Optional[Marker], environment: Mapping[str, str], extras: Tuple[str, ...]) -> bool:
    """pip's rule: a dependency of ``name`` (no extras: extra "") or of ``name[extras]`` (any of them)."""
    if marker is None:
        return True
    for extra in extras or ("",):
        context = dict(environment)
        context["extra"] = extra
        if marker.evaluate(context):
            return True
    return False


def shared_paths(claims: Mapping[str, Sequence[str]], order: Sequence[str]) -> Dict[str, Set[str]]:
    """Distribution -> the paths it must NOT write, because a wheel pip installs later writes them too.

    :param claims: distribution -> the destination paths its wheel writes.

    >>> shared_paths({"a": ["LICENSE", "a.py"], "b": ["LICENSE"]}, ["b", "a"])
    {'b': {'LICENSE'}}
    """
    position = {name: index for index, name in enumerate(order)}
    owner: Dict[str, str] = {}
    losers: Dict[str, Set[str]] = {}
    for name in sorted(claims, key=lambda n: position.get(n, -1)):
        for path in claims[name]:
            previous = owner.get(path)
            if previous is not None and previous != name:
                losers.setdefault(previous, set()).add(path)
            owner[path] = name
    return losers
