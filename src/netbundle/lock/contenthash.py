"""Poetry's content-hash: how a lock knows which pyproject.toml it was made from.

Same algorithm as Poetry's ``Locker._get_content_hash`` (Poetry 2.x, which reproduces 1.x's for projects without
``[project]``): sha256 of the JSON (sorted keys) of the relevant ``[project]`` keys, ``[dependency-groups]`` and
the relevant ``[tool.poetry]`` keys. Locks written before Poetry 2.3 hashed without ``[dependency-groups]``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from packaging.version import InvalidVersion, Version

from netbundle.lock.model import Lock

_LEGACY_KEYS = ("dependencies", "source", "extras", "dev-dependencies")
_RELEVANT_KEYS = (*_LEGACY_KEYS, "group")
_RELEVANT_PROJECT_KEYS = ("requires-python", "dependencies", "optional-dependencies")


def content_hash(pyproject: Mapping[str, object], *, with_dependency_groups: bool = True) -> str:
    """The content-hash Poetry writes into poetry.lock for this pyproject data."""
    project = _table(pyproject, "project")
    groups = _table(pyproject, "dependency-groups") if with_dependency_groups else {}
    poetry = _table(_table(pyproject, "tool"), "poetry")
    relevant_project = {k: project[k] for k in _RELEVANT_PROJECT_KEYS if project.get(k) is not None}
    relevant_poetry: dict[str, object] = {}
    for key in _RELEVANT_KEYS:
        data = poetry.get(key)
        if data is None and (key not in _LEGACY_KEYS or relevant_project or groups):
            continue
        relevant_poetry[key] = data
    relevant: dict[str, object] = {}
    if relevant_project:
        relevant["project"] = relevant_project
    if groups:
        relevant["dependency-groups"] = groups
    if relevant:
        relevant["tool"] = {"poetry": relevant_poetry}
    else:
        relevant = relevant_poetry
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()


def is_fresh(pyproject: Mapping[str, object], lock: Lock) -> bool:
    """True when the lock was made from this pyproject data (Poetry's own freshness rule)."""
    if content_hash(pyproject) == lock.content_hash:
        return True
    try:
        old_poetry = lock.poetry_version is not None and Version(lock.poetry_version) < Version("2.3.0")
    except InvalidVersion:
        old_poetry = False
    return old_poetry and content_hash(pyproject, with_dependency_groups=False) == lock.content_hash


def _table(data: Mapping[str, object], key: str) -> Mapping[str, object]:
    value = data.get(key)
    return value if isinstance(value, Mapping) else {}
