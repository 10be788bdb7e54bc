"""The installer engine's worker processes: a real interpreter per worker, real wheels, real files."""

from __future__ import annotations

import csv
import importlib.util
import io
import os
import stat
import sys
import zipfile
from pathlib import Path

import pytest
from tests.support.wheels import make_wheel

from netbundle.errors import InstallError, UnsafeWheelPathError
from netbundle.runtime import unpacker, workers
from netbundle.runtime.unpacker import CompileJob, Job


def scheme(root: Path) -> dict[str, str]:
    site = root / "site"
    return {"purelib": str(site), "platlib": str(site), "headers": str(root / "include"),
            "scripts": str(root / "bin"), "data": str(root)}  # fmt: skip


def job(wheel: Path, root: Path, *, compile_bytecode: bool = True, skip: tuple[str, ...] = ()) -> Job:
    return Job(str(wheel), scheme(root), sys.executable, {"INSTALLER": "netbundle\n"}, compile_bytecode, skip)


def record_rows(root: Path, info: str) -> dict[str, str]:
    with (root / "site" / info / "RECORD").open(newline="") as stream:
        return {row[0]: row[1] for row in csv.reader(stream) if row}


def test_a_job_line_round_trips() -> None:
    original = Job(
        "/w/a.whl", {"purelib": "/p"}, "/v/bin/python", {"INSTALLER": "x\n"}, True, ("/p/b", "/p/a")
    )
    again = unpacker.parse_job(original.to_line())
    assert again == Job(
        "/w/a.whl", {"purelib": "/p"}, "/v/bin/python", {"INSTALLER": "x\n"}, True, ("/p/a", "/p/b")
    )


def test_a_wheel_is_unpacked_compiled_and_its_record_lists_the_pycs(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path / "w", "alpha", "1.0", extra_files={"alpha/broken.py": "def (:\n"})
    answer = unpacker.answer(job(wheel, tmp_path / "venv"))
    rows = record_rows(tmp_path / "venv", "alpha-1.0.dist-info")
    assert answer == {"files": len(rows), "compiled": 1}
    pyc = next(path for path in rows if path.endswith(".pyc"))
    assert pyc.startswith("alpha/__pycache__/__init__.") and rows[pyc] == ""
    assert not any("broken" in path and path.endswith(".pyc") for path in rows)  # skipped, as pip skips it
    assert (tmp_path / "venv" / "site" / pyc).is_file()
    assert (tmp_path / "venv/site/alpha-1.0.dist-info/INSTALLER").read_text() == "netbundle\n"


def test_without_compiling_no_pyc_is_written(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path / "w", "alpha", "1.0")
    assert unpacker.answer(job(wheel, tmp_path / "venv", compile_bytecode=False))["compiled"] == 0
    assert not list((tmp_path / "venv" / "site").rglob("*.pyc"))


def test_a_file_left_to_a_later_wheel_is_hashed_not_written(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path / "w", "alpha", "1.0", extra_files={"shared/x.txt": "alpha's\n"})
    shared = str(tmp_path / "venv" / "site" / "shared" / "x.txt")
    unpacker.answer(job(wheel, tmp_path / "venv", skip=(shared,)))
    assert not Path(shared).exists()
    assert record_rows(tmp_path / "venv", "alpha-1.0.dist-info")["shared/x.txt"].startswith("sha256=")


def test_an_escaping_path_is_refused_by_name_before_it_is_written(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path / "w", "evil", "1.0", extra_files={"../../outside.txt": "x\n"})
    answer = unpacker.answer(job(wheel, tmp_path / "deep" / "venv"))
    assert answer["error"]["type"] == "UnsafeWheelPathError"
    assert "names an unsafe path '../../outside.txt'" in answer["error"]["message"]
    assert not (tmp_path / "outside.txt").exists()


def test_an_unreadable_wheel_is_an_install_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad-1.0-py3-none-any.whl"
    bad.write_bytes(b"not a zip")
    answer = unpacker.answer(job(bad, tmp_path / "venv"))
    assert answer["error"]["type"] == "InstallError"
    assert answer["error"]["message"].startswith("cannot install bad-1.0-py3-none-any.whl")


def test_serve_answers_one_line_per_job(tmp_path: Path) -> None:
    wheels = [make_wheel(tmp_path / "w", name, "1.0") for name in ("alpha", "beta")]
    out = io.StringIO()
    unpacker.serve(io.StringIO("".join(job(w, tmp_path / "venv").to_line() + "\n" for w in wheels)), out)
    rows = [len(record_rows(tmp_path / "venv", f"{name}-1.0.dist-info")) for name in ("alpha", "beta")]
    assert out.getvalue().splitlines() == [f'{{"files": {count}, "compiled": 1}}' for count in rows]


def test_a_compile_job_answers_which_modules_compiled(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.py", tmp_path / "bad.py"
    good.write_text("X = 1\n")
    bad.write_text("def (:\n")
    line = CompileJob((str(good), str(bad))).to_line()
    assert unpacker.answer(unpacker.parse_job(line)) == {"compiled": [True, False]}
    assert Path(importlib.util.cache_from_source(str(good))).is_file()


def test_an_answer_of_the_wrong_shape_is_not_accepted() -> None:
    compile_job = CompileJob(("/a.py", "/b.py"))
    assert compile_job.accepts({"compiled": [True, False]}) and compile_job.accepts({"error": {}})
    assert not compile_job.accepts({"compiled": [True]}) and not compile_job.accepts({"files": 1})
    wheel_job = Job("/w/a.whl", {}, "/py", {}, True)
    assert wheel_job.accepts({"files": 3, "compiled": 1}) and not wheel_job.accepts({"compiled": [True]})


# --- the other end: worker processes (runtime/workers.py) --------------------------------------------------------------------------


def test_worker_processes_install_every_job(tmp_path: Path) -> None:
    wheels = [make_wheel(tmp_path / "w", f"pkg{index}", "1.0") for index in range(7)]
    pool = workers.WorkerPool(sys.executable, dict(os.environ), 2, None)
    replies = pool.run([job(wheel, tmp_path / "venv") for wheel in wheels])
    rows = len(record_rows(tmp_path / "venv", "pkg0-1.0.dist-info"))
    assert replies == [{"files": rows, "compiled": 1}] * 7
    assert all(process.returncode == 0 for process in pool.processes)


def test_the_first_failure_is_raised_with_its_own_class_and_stops_the_workers(tmp_path: Path) -> None:
    wheels = [make_wheel(tmp_path / "w", f"pkg{index}", "1.0") for index in range(4)]
    evil = make_wheel(tmp_path / "w", "evil", "1.0", extra_files={"../../x.txt": "x\n"})
    pool = workers.WorkerPool(sys.executable, dict(os.environ), 2, None)
    with pytest.raises(UnsafeWheelPathError, match=r"evil-1\.0-py3-none-any\.whl names an unsafe path"):
        pool.run([job(w, tmp_path / "deep" / "venv") for w in [evil, *wheels]])
    assert all(process.poll() is not None for process in pool.processes)


def test_a_worker_that_dies_is_a_clear_install_error(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path / "w", "alpha", "1.0")
    pool = workers.WorkerPool("/bin/false", dict(os.environ), 1, None)
    with pytest.raises(
        InstallError, match=r"the unpacking worker exited with status 1 \(installing alpha-1.0"
    ):
        pool.run([job(wheel, tmp_path / "venv")])


def test_a_missing_interpreter_is_a_clear_install_error(tmp_path: Path) -> None:
    pool = workers.WorkerPool(str(tmp_path / "no-python"), dict(os.environ), 1, None)
    with pytest.raises(InstallError, match="cannot start the unpacking worker"):
        pool.run([job(make_wheel(tmp_path / "w", "alpha", "1.0"), tmp_path / "venv")])


def test_the_workers_import_netbundle_and_installer_from_where_this_process_does() -> None:
    roots = workers.import_roots()
    assert any((Path(root) / "netbundle" / "runtime" / "unpacker.py").is_file() for root in roots)
    assert any((Path(root) / "installer").is_dir() for root in roots)


def executable_member(wheel: Path, suffix: str) -> Path:
    """The same wheel with the member ending in ``suffix`` marked executable (mode 0755) in the zip."""
    (wheel.parent / "exe").mkdir(exist_ok=True)
    out = wheel.parent / "exe" / wheel.name
    with zipfile.ZipFile(wheel) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            if info.filename.endswith(suffix):
                info.external_attr = (stat.S_IFREG | 0o755) << 16
            target.writestr(info, source.read(info))
    return out


def test_files_get_pypa_installers_modes(tmp_path: Path) -> None:
    wheel = make_wheel(
        tmp_path / "w", "alpha", "1.0", extra_files={"{dist}.data/scripts/alpha-sh": "#!python\n"}
    )
    wheel = executable_member(wheel, "/alpha-sh")
    old = os.umask(0o027)
    try:
        unpacker.answer(job(wheel, tmp_path / "venv", compile_bytecode=False))
    finally:
        os.umask(old)
    assert (tmp_path / "venv" / "bin" / "alpha-sh").stat().st_mode & 0o777 == 0o777 & ~0o027 | 0o111
    assert (tmp_path / "venv" / "site" / "alpha" / "__init__.py").stat().st_mode & 0o777 == 0o640
