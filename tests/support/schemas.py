"""The JSON Schemas of every --json output (docs/schemas/), for tests that check real outputs against them."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jsonschema

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"


@functools.cache
def schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMAS / f"{name}.json").read_text())
    return loaded


def assert_valid(name: str, data: Any) -> None:
    """Fail with jsonschema's message when ``data`` does not match ``docs/schemas/<name>.json``."""
    jsonschema.Draft202012Validator(schema(name)).validate(data)
