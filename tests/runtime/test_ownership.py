"""A prefix that another user owns or can write is refused; files in it are never opened through a symlink
(issue 14, finding 9). Tests run as root, so other owners are made with os.chown under tmp_path."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from netbundle.errors import PrefixError
from netbundle.runtime import generations as gens
from netbundle.runtime.ownership import create_log, open_private, ownership_problem

ME, MINE = os.geteuid(), os.getegid()


def _st(mode: int, uid: int = ME, gid: int = MINE) -> os.stat_result:
    return os.stat_result((mode, 0, 0, 0, uid, gid, 0, 0, 0, 0))


@pytest.mark.parametrize(
    ("mode", "uid", "gid", "above", "problem"),
    [
        (stat.S_IFDIR | 0o755, ME, MINE, False, ""),
        (stat.S_IFDIR | 0o755, 0, 0, False, ""),
        (stat.S_IFDIR | 0o755, 4242, MINE, False, "owned by uid 4242"),
        (stat.S_IFDIR | 0o757, ME, MINE, False, "writable by every user"),
        (stat.S_IFDIR | 0o775, ME, 4242, False, "writable by group 4242"),
        (stat.S_IFDIR | 0o775, ME, MINE, False, ""),
        (stat.S_IFDIR | 0o1777, 0, 0, True, ""),  # /tmp above the prefix
        (stat.S_IFDIR | 0o1777, 0, 0, False, "writable by every user"),  # but never the prefix itself
        (stat.S_IFDIR | 0o777, 0, 0, True, "writable by every user"),
        (stat.S_IFLNK | 0o777, ME, MINE, False, ""),
        (stat.S_IFLNK | 0o777, 4242, MINE, False, "owned by uid 4242"),
    ],
)
def test_ownership_rules(mode: int, uid: int, gid: int, above: bool, problem: str) -> None:
    found = ownership_problem(_st(mode, uid, gid), ME, MINE, above=above)
    assert (problem in found) if problem else found == ""


@pytest.fixture
def root_only() -> None:
    if os.geteuid() != 0:
        pytest.skip("chown to another uid needs root")


@pytest.mark.usefixtures("root_only")
def test_a_prefix_pre_created_by_another_user_is_refused(tmp_path: Path) -> None:
    prefix = gens.open_prefix(tmp_path / "p", create=True)
    os.chown(prefix, 4242, 4242)
    with pytest.raises(PrefixError, match=r"p is not safe: it is owned by uid 4242") as info:
        gens.open_prefix(prefix)
    assert info.value.exit_code == 24
    empty = tmp_path / "q"
    empty.mkdir()
    os.chown(empty, 4242, 4242)
    with pytest.raises(PrefixError, match="owned by uid 4242"):
        gens.open_prefix(empty, create=True)
    assert list(empty.iterdir()) == []


@pytest.mark.usefixtures("root_only")
def test_an_entry_owned_by_another_user_is_refused(tmp_path: Path) -> None:
    prefix = gens.open_prefix(tmp_path / "p", create=True)
    (prefix / "current").symlink_to("generations/0001-x")
    os.lchown(prefix / "current", 4242, 4242)
    with pytest.raises(PrefixError, match="current is not safe: it is owned by uid 4242"):
        gens.open_prefix(prefix)


def test_a_world_writable_prefix_or_parent_is_refused(tmp_path: Path) -> None:
    prefix = gens.open_prefix(tmp_path / "a" / "p", create=True)
    prefix.chmod(0o777)
    with pytest.raises(PrefixError, match="writable by every user"):
        gens.open_prefix(prefix)
    prefix.chmod(0o755)
    (tmp_path / "a").chmod(0o777)
    with pytest.raises(PrefixError, match=r"a is not safe: it is writable by every user"):
        gens.open_prefix(prefix)
    (tmp_path / "a").chmod(0o1777)
    assert gens.open_prefix(prefix) == prefix


def test_a_planted_lock_link_is_refused_and_its_target_untouched(tmp_path: Path) -> None:
    prefix = gens.open_prefix(tmp_path / "p", create=True)
    victim = tmp_path / "victim"
    victim.write_text("precious")
    (prefix / ".lock").symlink_to(victim)
    with (
        pytest.raises(PrefixError, match=r"refusing to write .*\.lock: it is a symlink"),
        gens.prefix_lock(prefix),
    ):
        pytest.fail("the lock must not be taken")
    assert victim.read_text() == "precious"


def test_a_log_replaces_a_planted_link_without_writing_through_it(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious")
    log = tmp_path / "0001.log"
    log.symlink_to(victim)
    with os.fdopen(create_log(log), "w") as handle:
        handle.write("pip output")
    assert victim.read_text() == "precious"
    assert not log.is_symlink() and log.read_text() == "pip output"
    assert stat.S_IMODE(log.stat().st_mode) == 0o600


def test_open_private_refuses_a_symlink(tmp_path: Path) -> None:
    (tmp_path / "link").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(PrefixError, match="it is a symlink"):
        open_private(tmp_path / "link", os.O_WRONLY | os.O_CREAT)
    assert not (tmp_path / "elsewhere").exists()
