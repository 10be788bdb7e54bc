"""The parallel byte-compiler: real worker interpreters, real files."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

from netbundle.errors import InstallError
from netbundle.runtime.bytecode import BATCH, compile_modules, compile_pip_installed, core_count
from netbundle.runtime.unpacker import CompileJob
from netbundle.runtime.workers import WorkerPool


def test_every_module_is_compiled_and_broken_ones_are_reported(tmp_path: Path) -> None:
    paths = []
    for index in range(BATCH * 2 + 3):  # more than two batches, so several workers answer
        path = tmp_path / f"m{index}.py"
        path.write_text(f"VALUE = {index}\n" if index != 7 else "def (:\n")
        paths.append(str(path))
    done = compile_modules(paths, sys.executable, dict(os.environ))
    assert done == [index != 7 for index in range(len(paths))]
    for index, path in enumerate(paths):
        assert Path(importlib.util.cache_from_source(path)).is_file() == (index != 7)


def test_a_dead_worker_fails_its_batch_with_a_clear_error(tmp_path: Path) -> None:
    pool = WorkerPool("/bin/false", dict(os.environ), 1)
    with pytest.raises(InstallError, match="byte-compiling failed: the compiler worker"):
        pool.run([CompileJob((str(tmp_path / "a.py"),))])


def test_core_count_is_at_least_one() -> None:
    assert core_count() >= 1


def test_compile_pip_installed_compiles_pips_modules_and_records_them(tmp_path: Path) -> None:
    site = tmp_path / "site"
    for name, installer in (("alpha", "pip"), ("tool", "netbundle")):
        (site / name).mkdir(parents=True)
        (site / name / "__init__.py").write_text("X = 1\n")
        (site / name / "bad.py").write_text("def (:\n")
        info = site / f"{name}-1.0.dist-info"
        info.mkdir()
        (info / "INSTALLER").write_text(installer + "\n")
        (info / "RECORD").write_text(
            f"{name}/__init__.py,sha256=x,6\n{name}/bad.py,sha256=y,7\n../../bin/{name}.py,,\n{info.name}/RECORD,,\n"
        )
    assert compile_pip_installed([str(site), str(site)], sys.executable, dict(os.environ)) == 1
    pyc = importlib.util.cache_from_source("alpha/__init__.py")
    assert (site / pyc).is_file() and not list((site / "tool").rglob("*.pyc"))
    assert (site / "alpha-1.0.dist-info" / "RECORD").read_text().splitlines()[-1] == f"{pyc},,"
    assert "pyc" not in (site / "tool-1.0.dist-info" / "RECORD").read_text()
