"""Progress on a terminal, line-oriented logging elsewhere, and build-backend noise only with -v."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from netbundle.cli import _apply_level, cli
from netbundle.cli._progress import DownloadProgress, human_bytes, step


def test_download_line_on_a_terminal_counts_files_and_bytes(capsys: pytest.CaptureFixture[str]) -> None:
    progress = DownloadProgress(terminal=True)
    progress.files(1, 3)
    progress.downloaded("a.whl", 3 * 1024 * 1024)
    progress.files(2, 3)
    progress.files(3, 3)
    progress.finish()
    err = capsys.readouterr().err
    assert err.count("\r  downloading [") == 3
    assert "3/3 files, 3.0 MiB" in err and err.endswith("\n")


def test_a_log_line_clears_the_download_line_first(capsys: pytest.CaptureFixture[str]) -> None:
    handler = logging.StreamHandler()  # writes to the stderr pytest captures
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        progress = DownloadProgress(terminal=True)
        progress.files(1, 2)
        logging.getLogger("netbundle.test").warning("built x")
        progress.files(2, 2)
        progress.finish()
    finally:
        root.removeHandler(handler)
    err = capsys.readouterr().err
    assert "1/2 files, 0 B\r\033[Kbuilt x\n\r  downloading [" in err
    assert handler.filters == []  # removed again


def test_no_download_line_off_a_terminal_only_a_summary(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    progress = DownloadProgress(terminal=False)
    progress.files(1, 2)
    progress.downloaded("a.whl", 2048)
    progress.files(2, 2)
    progress.finish()
    assert capsys.readouterr().err == ""
    assert "2 files ready, 1 downloaded (2.0 KiB)" in caplog.text


def test_a_slow_step_on_a_terminal_and_off(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    import netbundle.cli._progress as progress

    monkeypatch.setattr(progress, "on_terminal", lambda: True)
    with step("unlocking k.key (scrypt)"):
        pass
    assert capsys.readouterr().err.startswith("unlocking k.key (scrypt) ... done (")
    monkeypatch.setattr(progress, "on_terminal", lambda: False)
    caplog.set_level(logging.INFO)
    with step("unlocking k.key (scrypt)"):
        pass
    assert capsys.readouterr().err == ""
    assert "unlocking k.key (scrypt)" in caplog.text


@pytest.mark.parametrize(("count", "text"), [(0, "0 B"), (1536, "1.5 KiB"), (5 * 2**30, "5.0 GiB")])
def test_human_bytes(count: int, text: str) -> None:
    assert human_bytes(count) == text


def test_backend_info_lines_only_with_verbose(tmp_path: Path) -> None:
    _apply_level(logging.INFO)
    assert logging.getLogger("build").getEffectiveLevel() == logging.WARNING
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"x")
    CliRunner().invoke(cli, ["inspect", str(junk), "-v"])
    assert logging.getLogger("build").getEffectiveLevel() == logging.DEBUG
    CliRunner().invoke(cli, ["inspect", str(junk)])
    assert logging.getLogger("build").getEffectiveLevel() == logging.WARNING
