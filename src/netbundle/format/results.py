"""The one result protocol of both CLIs: every command's result has ``to_json()`` and ``render_text()``.

``--json`` prints ``to_json()`` (a dict carrying ``"format": 1``, documented by a JSON Schema in
``docs/schemas/``); otherwise the command prints ``render_text()``. Both come from the same object, so the two
never disagree, and the builder's ``verify``/``inspect``/``diff``/``ee-context`` print the very objects the pyz
prints. Errors follow the same protocol (:meth:`netbundle.errors.NetbundleError.to_json`).
"""

from __future__ import annotations

import json

from ..errors import JSON_FORMAT

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, Mapping, Protocol

    class Result(Protocol):
        """What a command returns to its CLI."""

        def to_json(self) -> Dict[str, Any]: ...

        def render_text(self) -> str: ...


def with_format(data: Mapping[str, Any]) -> Dict[str, Any]:
    """``data`` with ``"format": 1`` first (the version of the JSON object)."""
    out: Dict[str, Any] = {"format": JSON_FORMAT}
    out.update(data)
    return out


def dump_json(data: Mapping[str, Any]) -> str:
    """The JSON text both CLIs print: indented, keys sorted."""
    return json.dumps(data, indent=2, sort_keys=True)


def render_result(result: Result, as_json: bool) -> str:
    """The text to print for ``result``: its JSON with ``--json``, else its human text."""
    return dump_json(result.to_json()) if as_json else result.render_text()
