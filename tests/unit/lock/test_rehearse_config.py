"""``[tool.netbundle.rehearse]`` skip-imports and env (issue 12)."""

from __future__ import annotations

import pytest

from netbundle.errors import InputError
from netbundle.lock.pyproject import parse_pyproject


def parse(rehearse: dict[str, object]) -> object:
    data = {"project": {"name": "p", "version": "1"}, "tool": {"netbundle": {"rehearse": rehearse}}}
    return parse_pyproject(data).netbundle  # type: ignore[arg-type]


def test_skip_imports_and_env_are_read() -> None:
    config = parse(
        {"skip-imports": ["app.settings_*", "legacy"], "env": {"DJANGO_SETTINGS_MODULE": "site.settings"}}
    )
    assert config.skip_imports == ("app.settings_*", "legacy")  # type: ignore[attr-defined]
    assert config.rehearse_env == {"DJANGO_SETTINGS_MODULE": "site.settings"}  # type: ignore[attr-defined]
    assert parse({}).rehearse_env == {} and parse({}).skip_imports == ()  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PYTHONPATH": "/x"}, "PYTHONPATH may not be set"),
        ({"PATH": "/x"}, "PATH may not be set"),
        ({"LD_PRELOAD": "/x.so"}, "LD_PRELOAD may not be set"),
        ({"PIP_INDEX_URL": "http://x"}, "PIP_INDEX_URL may not be set"),
        ({"1BAD": "x"}, "'1BAD' is not an environment variable name"),
        ({"GOOD": 3}, "must be a table of strings"),
        ("DJANGO_SETTINGS_MODULE=x", "must be a table of strings"),
    ],
)
def test_env_names_that_would_change_the_rehearsal_are_refused(env: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse({"env": env})
