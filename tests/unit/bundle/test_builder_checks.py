"""The builder refuses to carry what the installer would refuse (issue 14, findings 3 and 4)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.wheels import make_wheel

from netbundle.bundle.builder import _check_wheels, _render_lock
from netbundle.errors import BuildError, InputError


def test_a_wheel_with_an_escaping_script_is_not_bundled(tmp_path: Path) -> None:
    good = make_wheel(tmp_path / "good", "alpha", "1.0")
    bad = make_wheel(tmp_path / "bad", "beta", "1.0", extra_files={
        "{dist}.dist-info/entry_points.txt": "[console_scripts]\n../../../etc/x = beta:main\n"})  # fmt: skip
    _check_wheels({f"wheels/{good.name}": good})
    with pytest.raises(
        BuildError, match=r"wheel wheels/beta-1\.0-py3-none-any\.whl would write outside"
    ) as info:
        _check_wheels({f"wheels/{good.name}": good, f"wheels/{bad.name}": bad})
    assert info.value.exit_code == 7


def test_a_version_that_would_inject_an_option_is_an_input_error() -> None:
    with pytest.raises(InputError, match=r"group 'main'.*is not a PEP 440 version") as info:
        _render_lock("t", "main", [("alpha", "1.0\n--find-links http://127.0.0.1/", "a" * 64)])
    assert info.value.exit_code == 3
