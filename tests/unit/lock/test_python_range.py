"""A target whose Python the project does not allow is refused before anything is selected or fetched."""

from __future__ import annotations

import pytest

from netbundle.errors import LockError
from netbundle.lock.model import Lock
from netbundle.lock.pyproject import parse_pyproject
from netbundle.lock.python_range import check_targets_python
from netbundle.targets import parse_target

LOCK = Lock(lock_version="2.0", content_hash="", python_versions=">=3.8", packages=())


def project(python: str | None) -> object:
    poetry: dict[str, object] = {"name": "demo", "version": "1"}
    if python is not None:
        poetry["dependencies"] = {"python": python}
    return parse_pyproject({"tool": {"poetry": poetry}})


@pytest.mark.parametrize(
    ("python", "target", "allowed"),
    [
        (">=3.9,<4.0", "cp39-manylinux_2_17_x86_64", True),
        (">=3.9,<4.0", "cp38-manylinux_2_17_x86_64", False),
        ("^3.10", "cp313-win_amd64", True),
        ("^3.10", "cp39-macosx_11_0_arm64", False),
        ("~3.11", "cp312-manylinux_2_28_aarch64", False),
        (">=3.9,!=3.10.*", "cp310-manylinux_2_17_x86_64", False),
        (None, "cp38-manylinux_2_17_x86_64", True),  # the lock's python-versions (>=3.8) applies
        (None, "cp37-manylinux_2_17_x86_64", False),
    ],
)
def test_target_python_against_the_project_constraint(python: str | None, target: str, allowed: bool) -> None:
    targets = [parse_target(target)]
    if allowed:
        check_targets_python(project(python), LOCK, targets, where="pyproject.toml")  # type: ignore[arg-type]
        return
    with pytest.raises(LockError) as caught:
        check_targets_python(project(python), LOCK, targets, where="pyproject.toml")  # type: ignore[arg-type]
    message = str(caught.value)
    assert message.startswith(f"pyproject.toml: target {target} (Python ")
    assert repr(python or ">=3.8") in message
    assert caught.value.exit_code == 3
