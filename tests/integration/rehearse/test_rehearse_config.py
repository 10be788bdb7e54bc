"""rehearse passes on real projects (issue 12): a dev group carrying black (its ``blackd`` script and module need
the ``d`` extra, not installed) and a Django-style app that imports only with ``DJANGO_SETTINGS_MODULE`` set
(``[tool.netbundle.rehearse] env``), plus a module the project says not to import (``skip-imports``).

Built by the real `netbundle build` from a local index (black and its dependencies from the corpus matrix, the
Django-style package as a local sdist), rehearsed for real inside a network namespace when this host allows it.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.support.bundles import host_target_name, make_keypair, pinned_pips
from tests.support.projects import Pkg, write_project
from tests.support.simple_index import serve

from netbundle.cli import cli
from netbundle.runtime import rehearse as rh
from netbundle.runtime.rehearse.report import JSON_NAME, MARKDOWN_NAME

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
MATRIX = REPO / ".cache" / "corpus" / "matrix"
BLACK = {"black": "25.1.0", "click": "8.1.8", "mypy-extensions": "1.0.0", "packaging": "24.2",
         "pathspec": "0.12.1", "platformdirs": "4.3.6", "tomli": "2.2.1", "typing-extensions": "4.12.2"}  # fmt: skip
DJANGOISH = {
    "djangoish_app/__init__.py": "import importlib, os\n\n"
    "name = os.environ.get('DJANGO_SETTINGS_MODULE')\n"
    "if not name:\n"
    "    raise ImportError('Requested settings, but settings are not configured: define DJANGO_SETTINGS_MODULE')\n"
    "settings = importlib.import_module(name)\n",
    "djangoish_site/__init__.py": "",
    "djangoish_site/settings.py": "INSTALLED_APPS = ['djangoish_app']\n",
    "djangoish_broken/__init__.py": "raise RuntimeError('needs a database server')\n",
}
DEV_GROUP = """
[tool.poetry.group.dev.dependencies]
black = "25.1.0"
"""
CONFIG = """
[tool.netbundle.rehearse]
skip-imports = ["djangoish_broken*"]
env = {DJANGO_SETTINGS_MODULE = "djangoish_site.settings"}
"""


def djangoish_sdist(directory: Path) -> Path:
    base = "djangoish-1.0"
    files = {
        f"{base}/pyproject.toml": '[project]\nname = "djangoish"\nversion = "1.0"\n\n[build-system]\n'
        'requires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n\n[tool.setuptools]\n'
        'packages = ["djangoish_app", "djangoish_site", "djangoish_broken"]\n',
        f"{base}/PKG-INFO": "Metadata-Version: 2.1\nName: djangoish\nVersion: 1.0\n",
        **{f"{base}/{path}": text for path, text in DJANGOISH.items()},
    }
    path = directory / f"{base}.tar.gz"
    with tarfile.open(path, "w:gz") as tf:
        for name, text in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(text.encode()), 1577836800, 0o644
            tf.addfile(info, io.BytesIO(text.encode()))
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two bundles of the same lock, with and without [tool.netbundle.rehearse]; and the signer's .pub."""
    wheels = {
        name: sorted(MATRIX.glob(f"{name.replace('-', '_')}-{v}-py3-none-any.whl"))
        for name, v in BLACK.items()
    }
    if not all(wheels.values()):
        pytest.fail(f"black and its dependencies are not in {MATRIX}: run scripts/prepare-corpus")
    work = tmp_path_factory.mktemp("rehearse-config")
    key = make_keypair(work / "keys")
    files = work / "index"
    shutil.copytree(REPO / ".cache" / "corpus" / "build-tools", files, ignore=shutil.ignore_patterns(".*"))
    for pinned in pinned_pips().glob("pip-*.whl"):  # the bundle carries a pinned pip
        shutil.copy2(pinned, files / pinned.name)
    for paths in wheels.values():
        shutil.copy(paths[0], files / paths[0].name)
    sdist = djangoish_sdist(files)
    packages = [Pkg(name, version, wheels[name][:1], groups=["dev"]) for name, version in BLACK.items()]
    packages.append(Pkg("djangoish", "1.0", [sdist]))
    found = {"pub": key.pub_path}
    with serve(files) as index:
        env = {"PIP_CONFIG_FILE": os.devnull, "PIP_INDEX_URL": index.url, "PIP_FIND_LINKS": ""}
        for name, config in (("configured", CONFIG), ("plain", "")):
            project = write_project(
                work / name, packages, dependencies=["djangoish"], netbundle=DEV_GROUP + config
            )
            argv = ["build", "-P", str(project), "--index-url", index.url, "--cache-dir", str(work / "cache"),
                    "--with", "dev", "--target", host_target_name(), "--sign-key", str(key.key_path),
                    "-o", str(work / f"{name}.tar")]  # fmt: skip
            result = CliRunner().invoke(cli, argv, env=env)
            assert result.exit_code == 0, result.output
            found[name] = work / f"{name}.tar"
    return found


def rehearse(bundle: Path, pub: Path, report: Path, progress: list[str] | None = None) -> rh.Rehearsal:
    request = rh.RehearsalRequest(
        bundle=str(bundle), groups=("dev",), report_dir=str(report), trust_files=(str(pub),)
    )
    return rh.rehearse(request, progress=None if progress is None else progress.append)


def test_the_settings_are_carried_in_the_manifest(built: dict[str, Path]) -> None:
    from netbundle.format.describe import describe, render_description
    from netbundle.format.tar import read_unverified

    found = read_unverified(built["configured"])
    assert found.manifest.skip_imports == ("djangoish_broken*",)
    assert found.manifest.rehearse_env == {"DJANGO_SETTINGS_MODULE": "djangoish_site.settings"}
    text = render_description(describe(found.manifest, found.manifest_sha256, [], None))
    assert "rehearsal skips imports of: djangoish_broken*" in text
    assert "rehearsal environment: DJANGO_SETTINGS_MODULE=djangoish_site.settings" in text
    plain = read_unverified(built["plain"]).manifest
    assert (plain.skip_imports, plain.rehearse_env) == ((), {})


def test_black_and_a_settings_module_rehearse_cleanly(built: dict[str, Path], tmp_path: Path) -> None:
    steps: list[str] = []
    result = rehearse(built["configured"], built["pub"], tmp_path / "report", steps)
    assert result.ok, result.render_text()
    assert steps[1:] == [
        "install into the scratch prefix (1/3)",
        "pip check (2/3)",
        "import every top-level module (3/3)",
    ]
    assert steps[0].startswith("isolation: ")
    imports = result.steps[2]
    skipped = dict(imports.skipped)
    assert skipped["blackd (black)"].startswith("needs extra 'd' of black, not installed (aiohttp missing)")
    assert (
        "ImportError: aiohttp dependency is not installed" in skipped["blackd (black)"]
    )  # black's own words
    assert (
        skipped["console script blackd (black)"]
        == "needs extra 'd' of black, not installed (aiohttp missing)"
    )
    assert skipped["djangoish_broken (djangoish)"] == "skip-imports pattern 'djangoish_broken*'"
    assert len(skipped) == 3, skipped
    assert imports.detail.startswith("13 modules imported; skipped: console script blackd (black)")
    assert "; blackd (black): needs extra" in imports.detail
    report = json.loads((tmp_path / "report" / JSON_NAME).read_text())
    assert {
        "what": "djangoish_broken (djangoish)",
        "why": "skip-imports pattern 'djangoish_broken*'",
    } in report["steps"][2]["skipped"]
    markdown = (tmp_path / "report" / MARKDOWN_NAME).read_text()
    assert (
        "## Skipped" in markdown
        and "| import top-level modules | blackd (black) | needs extra 'd'" in markdown
    )
    assert "skipped console script blackd (black)" in result.render_text()


def test_without_the_rehearse_config_the_app_and_the_broken_module_fail(
    built: dict[str, Path], tmp_path: Path
) -> None:
    result = rehearse(built["plain"], built["pub"], tmp_path / "report")
    assert result.exit_code == 23
    imports = result.steps[2]
    assert not imports.ok
    assert (
        "djangoish_app (djangoish): ImportError: Requested settings, but settings are not configured"
        in imports.detail
    )
    assert "djangoish_broken (djangoish): RuntimeError: needs a database server" in imports.detail
    assert "blackd (black)" in dict(imports.skipped)  # the extra rule needs no configuration
