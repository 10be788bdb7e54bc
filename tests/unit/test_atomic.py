"""The one atomic writer never replaces a device, a directory or another special file (issue 14, finding 10)."""

from __future__ import annotations

import os
import stat
import tarfile
import textwrap
from pathlib import Path

import pytest
from tests.support.mountns import run_on_tmpfs

from netbundle import _atomic
from netbundle.errors import OutputError
from netbundle.format.tar import write_bundle

SIG = "netbundle/signatures/0123456789ABCDEF.minisig"


@pytest.fixture
def null_device(tmp_path: Path) -> Path:
    """A character device with /dev/null's numbers, made under tmp_path (the real /dev is never touched)."""
    path = tmp_path / "null"
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("mknod of a character device needs root")
    return path


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(_atomic.PARTIAL_SUFFIX))


def test_a_character_device_is_written_through_not_replaced(null_device: Path) -> None:
    _atomic.write_atomic(null_device, b"discarded")
    assert stat.S_ISCHR(null_device.lstat().st_mode)
    assert _leftovers(null_device.parent) == []


def test_a_bundle_written_to_a_device_keeps_the_device(null_device: Path) -> None:
    write_bundle(
        null_device, manifest=b"{}\n", signatures={SIG: b"sig"}, files={"wheels/a.whl": b"x"}, mtime=315532800
    )
    assert stat.S_ISCHR(null_device.lstat().st_mode)


def test_dash_writes_to_standard_output(capfdbinary: pytest.CaptureFixture[bytes], tmp_path: Path) -> None:
    write_bundle(
        Path("-"), manifest=b"{}\n", signatures={SIG: b"sig"}, files={"wheels/a.whl": b"x"}, mtime=315532800
    )
    out = capfdbinary.readouterr().out
    copy = tmp_path / "copy.tar"
    copy.write_bytes(out)
    with tarfile.open(copy) as tar:
        assert tar.getnames() == ["netbundle/manifest.json", SIG, "wheels/a.whl"]
    assert not Path("-").exists()


@pytest.mark.parametrize("kind", ["directory", "fifo", "socket"])
def test_a_directory_or_special_file_is_refused(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "out"
    if kind == "directory":
        target.mkdir()
    elif kind == "fifo":
        os.mkfifo(target)
    else:
        import socket

        with socket.socket(socket.AF_UNIX) as sock:
            sock.bind(str(target))
    before = target.lstat()
    with pytest.raises(OutputError, match=r"cannot write .*out: it is a") as info:
        _atomic.write_atomic(target, b"x")
    assert info.value.exit_code == 8
    assert target.lstat().st_ino == before.st_ino
    assert _leftovers(tmp_path) == []


def test_an_output_under_a_regular_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="a parent of it is a file"):
        _atomic.write_atomic(tmp_path / "file" / "bundle.tar", b"x")
    with pytest.raises(OutputError, match="a parent of it is a file"):
        write_bundle(tmp_path / "file" / "sub" / "b.tar", manifest=b"{}", signatures={}, files={}, mtime=0)


def test_a_directory_output_never_moves_a_device_aside(null_device: Path) -> None:
    with pytest.raises(OutputError, match="not a directory"), _atomic.atomic_directory(null_device):
        pytest.fail("the block must not run")
    assert stat.S_ISCHR(null_device.lstat().st_mode)


_WRITE = textwrap.dedent(
    """
    import sys
    from netbundle import _atomic
    from netbundle.errors import OutputError
    try:
        {call}
    except OutputError as exc:
        print(exc.exit_code, exc, "|", exc.hint)
    """
)


def test_a_read_only_output_folder_is_refused_before_the_work(tmp_path: Path) -> None:
    code = _WRITE.format(call=f"_atomic.prepare_output({str(tmp_path / 'ro' / 'b.tar')!r})")
    done = run_on_tmpfs(tmp_path / "ro", code, options="ro,size=64k")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("8 cannot write "), done.stdout
    assert "Read-only file system" in done.stdout


def test_a_full_disk_is_reported_with_the_place_to_free(tmp_path: Path) -> None:
    target = tmp_path / "full" / "b.bin"
    code = _WRITE.format(call=f"_atomic.write_atomic({str(target)!r}, b'x' * 1_000_000)")
    done = run_on_tmpfs(tmp_path / "full", code, options="size=64k")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("8 cannot write "), done.stdout
    assert "No space left on device" in done.stdout
    assert f"free space on the file system of {target.parent}" in done.stdout
