"""Which unowned files check reports, and which ones Python itself writes (issue 14, finding 11)."""

from __future__ import annotations

from pathlib import Path

import pytest

from netbundle.runtime.unowned import is_allowed, iter_present, normalized, unowned_files

OWNED = {"/v/lib/site/alpha/__init__.py", "/v/bin/pip"}


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/v/bin/python", True),
        ("/v/bin/python3.11", True),
        ("/v/bin/activate.fish", True),
        ("/v/bin/evil", False),
        ("/v/bin/python4", False),
        ("/v/lib/site/alpha/__pycache__/__init__.cpython-311.pyc", True),
        ("/v/lib/site/alpha/__pycache__/__init__.cpython-311.opt-1.pyc", True),
        ("/v/lib/site/alpha/__pycache__/other.cpython-311.pyc", False),
        ("/v/lib/site/__pycache__/sitecustomize.cpython-311.pyc", False),
        ("/v/lib/site/sitecustomize.py", False),
        ("/v/lib/site/x.pth", False),
    ],
)
def test_allow_list(path: str, allowed: bool) -> None:
    assert is_allowed(path, OWNED, "/v/bin") is allowed


def test_unowned_files_are_sorted_and_skip_owned() -> None:
    present = ["/v/lib/site/x.pth", "/v/bin/pip", "/v/lib/site/alpha/__init__.py", "/v/bin/evil"]
    assert unowned_files(present, OWNED, "/v/bin") == ["/v/bin/evil", "/v/lib/site/x.pth"]


def test_walk_reports_links_without_following_them(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "pkg").mkdir(parents=True)
    (site / "pkg" / "m.py").write_text("")
    (site / "linked").symlink_to(tmp_path)  # a planted directory link is a finding, not a place to walk
    (site / "f.pth").symlink_to("/nonexistent")
    found = iter_present([str(site), str(site)])
    assert sorted(found) == sorted(str(site.resolve() / p) for p in ("pkg/m.py", "linked", "f.pth"))


def test_normalized_resolves_the_directory_not_the_file(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib64").symlink_to("lib")
    (tmp_path / "lib" / "f").symlink_to("/etc/hostname")
    assert normalized(str(tmp_path / "lib64" / "x" / ".." / "f")) == str(tmp_path.resolve() / "lib" / "f")
