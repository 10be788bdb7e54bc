"""Build requirements of sdist builds: from the project's sources only, recorded in the manifest, pinnable, and
never with the sources' credentials in the backend's environment.

The sdist's in-tree PEP 517 backend imports its build requirement (so it must be installed) and writes the whole
environment it ran with into the wheel it builds, for the test to read.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import textwrap
import zipfile
from pathlib import Path

from click.testing import CliRunner
from tests.support.bundles import member_ending, pinned_pips
from tests.support.projects import Pkg, write_project
from tests.support.simple_index import serve
from tests.support.wheels import make_wheel, write_tar_gz

from netbundle.bundle.pipwheel import PIP_PINS
from netbundle.cli import cli

PASSWORD = "build-index-s3cret"
TARGET = "cp311-manylinux_2_28_x86_64"
PIN = next(p for p in PIP_PINS if p.requires_python == ">=3.10")

BACKEND = textwrap.dedent(
    """
    import base64, hashlib, json, os, zipfile

    def _line(name, data):
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        return "%s,sha256=%s,%d" % (name, digest, len(data))

    def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
        import buildhelper  # the build requirement must be installed
        files = {
            "srcpkg/__init__.py": b"",
            "srcpkg/env.json": json.dumps(dict(os.environ), sort_keys=True).encode(),
            "srcpkg-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\\nName: srcpkg\\nVersion: 1.0\\n",
            "srcpkg-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\\nGenerator: t\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
        }
        record = "\\n".join([_line(n, d) for n, d in files.items()] + ["srcpkg-1.0.dist-info/RECORD,,"]) + "\\n"
        files["srcpkg-1.0.dist-info/RECORD"] = record.encode()
        name = "srcpkg-1.0-py3-none-any.whl"
        with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as out:
            for arcname, data in sorted(files.items()):
                out.writestr(zipfile.ZipInfo(arcname, (1980, 1, 1, 0, 0, 0)), data)
        return name
    """
)


def make_backend_sdist(directory: Path) -> Path:
    files = {
        "srcpkg-1.0/pyproject.toml": '[build-system]\nrequires = ["buildhelper"]\nbuild-backend = "envbackend"\n'
        'backend-path = ["."]\n',
        "srcpkg-1.0/envbackend.py": BACKEND,
        "srcpkg-1.0/PKG-INFO": "Metadata-Version: 2.1\nName: srcpkg\nVersion: 1.0\n",
    }
    directory.mkdir(parents=True, exist_ok=True)
    return write_tar_gz(directory / "srcpkg-1.0.tar.gz", files)


def _world(tmp_path: Path, corp_url: str, constraints: str = "") -> Path:
    sdist = make_backend_sdist(tmp_path / "corp")
    source = {"type": "legacy", "url": corp_url, "reference": "corp"}
    netbundle = f'\n[tool.netbundle]\nbuild-constraints = ["{constraints}"]\n' if constraints else ""
    return write_project(
        tmp_path / "project",
        [Pkg("srcpkg", "1.0", [sdist], source=source)],
        sources=[{"name": "corp", "url": corp_url}],
        netbundle=netbundle,
    )


def _build(project: Path, default_url: str, tmp_path: Path, *extra: str) -> tuple[int, str]:
    env = {"POETRY_HTTP_BASIC_CORP_USERNAME": "ops", "POETRY_HTTP_BASIC_CORP_PASSWORD": PASSWORD,
           "SOURCE_DATE_EPOCH": "1767225600", "PIP_INDEX_URL": default_url}  # fmt: skip
    argv = ["build", "-P", str(project), "--index-url", default_url, "--cache-dir", str(tmp_path / "cache"),
            "--target", TARGET, "--unsigned", "-o", str(tmp_path / "b.tar"), *extra]  # fmt: skip
    result = CliRunner().invoke(cli, argv, env=env)
    return result.exit_code, result.output


def test_build_requirements_come_from_the_sources_are_recorded_and_see_no_credentials(tmp_path: Path) -> None:
    corp_dir, default_dir = tmp_path / "corp", tmp_path / "default"
    helpers = {v: make_wheel(tmp_path / "helpers", "buildhelper", v) for v in ("1.0", "2.0")}
    corp_dir.mkdir()
    for wheel in helpers.values():
        shutil.copy2(wheel, corp_dir / wheel.name)
    shutil.copy2(pinned_pips() / PIN.filename, corp_dir / PIN.filename)
    make_wheel(default_dir, "buildhelper", "9.0")  # the default index would offer a newer one: never asked
    with serve(corp_dir, auth=("ops", PASSWORD)) as corp, serve(default_dir) as default:
        project = _world(tmp_path, corp.url)
        code, output = _build(project, default.url, tmp_path)
        assert code == 0, output
        assert default.requests == []
        assert "/simple/buildhelper/" in {path for path, _ in corp.requests}
    manifest = json.loads(member_ending(tmp_path / "b.tar", "netbundle/manifest.json"))
    assert manifest["format_version"] == "1.1"
    (package,) = [p for p in manifest["packages"] if p["name"] == "srcpkg"]
    build = package["artifacts"][0]["origin"]["build"]
    sha = hashlib.sha256(helpers["2.0"].read_bytes()).hexdigest()
    assert build["requirements"] == [f"buildhelper==2.0 sha256:{sha}"]
    wheel = zipfile.ZipFile(io.BytesIO(member_ending(tmp_path / "b.tar", "srcpkg-1.0-py3-none-any.whl")))
    seen = wheel.read("srcpkg/env.json").decode()
    assert PASSWORD not in seen
    assert not any(k.startswith(("POETRY_HTTP_BASIC_", "PIP_")) for k in json.loads(seen))
    shown = CliRunner().invoke(cli, ["inspect", str(tmp_path / "b.tar"), "--json"])
    (described,) = [p for p in json.loads(shown.output)["packages"] if p["name"] == "srcpkg"]
    assert described["artifacts"][0]["build_requirements"] == [f"buildhelper==2.0 sha256:{sha}"]
    assert (
        f"buildhelper==2.0 sha256:{sha}"
        in CliRunner().invoke(cli, ["inspect", str(tmp_path / "b.tar")]).output
    )


def test_a_build_constraints_file_pins_the_build_requirements(tmp_path: Path) -> None:
    corp_dir = tmp_path / "corp"
    corp_dir.mkdir()
    for version in ("1.0", "2.0"):
        wheel = make_wheel(tmp_path / "helpers", "buildhelper", version)
        shutil.copy2(wheel, corp_dir / wheel.name)
    shutil.copy2(pinned_pips() / PIN.filename, corp_dir / PIN.filename)
    with serve(corp_dir, auth=("ops", PASSWORD)) as corp, serve(tmp_path / "corp") as default:
        project = _world(tmp_path, corp.url, constraints="build-constraints.txt")
        (project / "build-constraints.txt").write_text("buildhelper==1.0\n")
        code, output = _build(project, default.url, tmp_path)
        assert code == 0, output
    manifest = json.loads(member_ending(tmp_path / "b.tar", "netbundle/manifest.json"))
    (package,) = [p for p in manifest["packages"] if p["name"] == "srcpkg"]
    (pin,) = package["artifacts"][0]["origin"]["build"]["requirements"]
    assert pin.startswith("buildhelper==1.0 sha256:")


def test_a_missing_build_constraints_file_is_a_clear_error(tmp_path: Path) -> None:
    with serve(tmp_path) as index:
        project = _world(tmp_path, index.url)
        code, output = _build(project, index.url, tmp_path, "--build-constraint", str(tmp_path / "nope.txt"))
    assert code == 3, output
    assert f"build constraints file {tmp_path / 'nope.txt'} does not exist" in output
