"""The installer engine installs what the pip engine installs: same files (RECORD), same entry points, same checks.

Each test bundle is installed both ways and the installed sets compared. Documented differences, and only those,
are allowed: ``INSTALLER`` (``netbundle`` vs ``pip``) and the console-script launchers' text (both start with
the generation's own interpreter and call the same entry point; the hash differs). Every other RECORD row, the
``.pyc`` files included, must be the same path with the same hash.
"""

from __future__ import annotations

import csv
import shlex
import subprocess
from pathlib import Path

import pytest
from tests.integration.installer.conftest import MakeBundle
from tests.integration.installer.prefixes import prefix_entries

from netbundle.errors import BundleFormatError, InstallError
from netbundle.format.trust import TrustPolicy
from netbundle.runtime.bytecode import core_count
from netbundle.runtime.install import install
from netbundle.runtime.trusted import resolve_policy

pytestmark = pytest.mark.integration

ENGINES = ("pip", "installer")
ALPHA_WHEEL = {
    "entry_points": "[console_scripts]\nalpha-cli = alpha.cli:main\n",
    "extra_files": {
        "alpha/cli.py": "def main():\n    print('alpha says hi')\n",
        "alpha/broken_template.py": "def (:\n",  # does not compile: both engines skip its .pyc
        "alpha/data/table.txt": "rows\n",
        "{dist}.data/scripts/alpha-sh": "#!python\nprint('alpha script')\n",
        "{dist}.data/headers/alpha.h": "int alpha;\n",
        "{dist}.data/data/share/alpha/notes.txt": "notes\n",
    },
}


def installed_records(prefix: Path) -> dict[str, dict[str, str]]:
    """Distribution dist-info name -> {RECORD path: hash} of the current generation (documented rows dropped)."""
    site = next((prefix / "current" / "lib").glob("python3.*/site-packages"))
    found = {}
    for record in sorted(site.glob("*.dist-info/RECORD")):
        with record.open(newline="") as stream:
            rows = {row[0]: row[1] for row in csv.reader(stream) if row}
        info = record.parent.name
        found[info] = {
            path: ("<launcher>" if path.startswith("../../../bin/") else digest)
            for path, digest in rows.items()
            if path != f"{info}/INSTALLER"
        }
    return found


Q = "'" * 3  # the /bin/sh wrapper line of a long interpreter path starts with three quotes


def launchers(prefix: Path) -> dict[str, str]:
    """Name -> first line of every script the wheels put in bin/ (the venv's own files excluded)."""
    generation = (prefix / "current").resolve()
    scripts = {}
    for path in sorted((generation / "bin").iterdir()):
        if path.is_symlink() or path.name.startswith(("activate", "Activate", "python")):
            continue
        lines = path.read_text().splitlines()
        shebang = lines[0]
        wrapper = Q + "exec' "
        if shebang == "#!/bin/sh" and len(lines) > 1 and lines[1].startswith(wrapper):
            # an interpreter path longer than a shebang may be: both engines write pip's /bin/sh wrapper that
            # execs it (generation directory names carry the full bundle id)
            shebang = "#!" + shlex.split(lines[1][len(wrapper) :])[0]
        scripts[path.name] = shebang.replace(str(generation), "<generation>")
    return scripts


def install_both(
    bundle_path: Path, tmp_path: Path, policy: TrustPolicy, **options: object
) -> dict[str, Path]:
    prefixes = {}
    for engine in ENGINES:
        prefix = tmp_path / engine
        result = install(bundle_path, prefix, policy, engine=engine, **options)  # type: ignore[arg-type]
        assert result.status == "installed"
        prefixes[engine] = prefix
    return prefixes


def assert_same_install(prefixes: dict[str, Path]) -> None:
    pip_records, engine_records = (installed_records(prefixes[e]) for e in ENGINES)
    assert sorted(engine_records) == sorted(pip_records)
    for info in pip_records:
        assert engine_records[info] == pip_records[info], info
    assert launchers(prefixes["installer"]) == launchers(prefixes["pip"])
    for name, shebang in launchers(prefixes["pip"]).items():
        assert shebang == "#!<generation>/bin/python", name
    for prefix in prefixes.values():
        installer = next((prefix / "current").glob("lib/python3.*/site-packages/pip-*.dist-info/INSTALLER"))
        assert installer.read_text() == "netbundle\n"  # the bundle's pip, installed the same way by both


def test_small_bundle_installs_the_same_both_ways(
    tmp_path: Path, bundle: MakeBundle, policy: TrustPolicy
) -> None:
    path = bundle(
        packages=[("alpha", "1.0"), ("beta", "2.0"), ("gamma", "3.0")],
        groups={"main": ["alpha", "beta"], "extra": ["gamma"]},
        requires={"alpha": ["beta>=2", "gamma; python_version < '3'"]},
        wheel_options={"alpha": ALPHA_WHEEL},
    )
    prefixes = install_both(path, tmp_path, policy)
    assert_same_install(prefixes)
    records = installed_records(prefixes["installer"])["alpha-1.0.dist-info"]
    assert "alpha/__pycache__/cli.{}.pyc".format(_cache_tag(prefixes["installer"])) in records
    assert not any("broken_template" in p and p.endswith(".pyc") for p in records)
    assert "../../../include/site/python{}/alpha/alpha.h".format(_version(prefixes["pip"])) in records
    for prefix in prefixes.values():
        ran = subprocess.run([str(prefix / "bin" / "alpha-cli")], capture_output=True, text=True, check=True)
        assert ran.stdout == "alpha says hi\n"
        assert (prefix / "current" / "share" / "alpha" / "notes.txt").read_text() == "notes\n"
    engine_log = max((prefixes["installer"] / "logs").iterdir()).read_text()
    assert "engine installer: 3 wheels" in engine_log  # alpha, beta and the bundle's pip
    pip_log = max((prefixes["pip"] / "logs").iterdir()).read_text()
    if core_count() > 1:  # the pip engine compiles after pip, on every core
        assert "--no-compile" in pip_log and "byte-compiling pip's modules on" in pip_log
    else:
        assert "--no-compile" not in pip_log


def test_no_compile_writes_no_bytecode_in_either_engine(
    tmp_path: Path, bundle: MakeBundle, policy: TrustPolicy
) -> None:
    path = bundle(packages=[("alpha", "1.0")], wheel_options={"alpha": ALPHA_WHEEL})
    prefixes = install_both(path, tmp_path, policy, compile_bytecode=False)
    assert_same_install(prefixes)
    for prefix in prefixes.values():
        site = next((prefix / "current").glob("lib/python3.*/site-packages"))
        assert not list((site / "alpha").rglob("*.pyc"))


def test_the_real_sample_bundle_installs_the_same_both_ways(
    tmp_path: Path, sample_bundle: tuple[Path, Path]
) -> None:
    path, pub = sample_bundle
    policy = resolve_policy([str(pub)])
    groups = ("junos", "cisco", "arista")
    prefixes = install_both(path, tmp_path, policy, groups=groups)
    assert_same_install(prefixes)
    receipts = [(p / "current" / "receipt.json").read_text() for p in prefixes.values()]
    assert '"distributions"' in receipts[0]
    assert len(installed_records(prefixes["installer"])) > 20
    check = [str(prefixes["installer"] / "bin" / "python"), "-m", "pip", "check"]
    assert subprocess.run(check, capture_output=True, text=True, check=False).returncode == 0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"entry_points": "[console_scripts]\n../../../escaped = alpha:main\n"}, "contains a path separator"),
        ({"extra_files": {"{dist}.data/data/../../../../escaped.txt": "x\n"}}, "has a .. part"),
        ({"extra_files": {"../../escaped.txt": "x\n"}}, "has a .. part"),
    ],
)
def test_a_path_leaving_the_venv_is_refused_and_nothing_changes(
    tmp_path: Path, bundle: MakeBundle, policy: TrustPolicy, options: dict[str, object], message: str
) -> None:
    good = bundle("good")
    prefix = tmp_path / "deep" / "er" / "prefix"
    install(good, prefix, policy, engine="installer")
    before = prefix_entries(prefix)
    evil = bundle("evil", version="2.0.0", wheel_options={"alpha": options})
    # every wheel is checked (format/wheel.py) before either engine runs; the engine's own check
    # (runtime/wheelpaths.py, UnsafeWheelPathError) is the second line, tested in tests/runtime/test_wheelpaths.py
    with pytest.raises(BundleFormatError, match=message):
        install(evil, prefix, policy, engine="installer")
    assert prefix_entries(prefix) == before
    assert not list(tmp_path.rglob("escaped*"))


def test_files_several_wheels_ship_end_as_pip_leaves_them(
    tmp_path: Path, bundle: MakeBundle, policy: TrustPolicy
) -> None:
    def shipping(text: str) -> dict[str, object]:
        return {"extra_files": {"shared/conflict.py": f"WHO = {text!r}\n", "LICENSE": text + "\n"}}

    # alpha needs beta, so pip installs beta first and alpha's copies win; gamma and delta are unrelated (by name)
    path = bundle(
        packages=[("alpha", "1.0"), ("beta", "1.0"), ("gamma", "1.0"), ("delta", "1.0")],
        requires={"alpha": ["beta"], "delta": ["beta[x]; python_version >= '3'"]},
        wheel_options={name: shipping(name) for name in ("alpha", "beta", "gamma", "delta")},
    )
    prefixes = install_both(path, tmp_path, policy)
    assert_same_install(prefixes)
    pip_site, engine_site = (
        next((prefixes[e] / "current").glob("lib/python3.*/site-packages")) for e in ENGINES
    )
    for name in ("shared/conflict.py", "LICENSE"):
        assert (engine_site / name).read_text() == (pip_site / name).read_text(), name
    records = installed_records(prefixes["installer"])
    assert all("LICENSE" in records[f"{n}-1.0.dist-info"] for n in ("alpha", "beta", "gamma", "delta"))


def test_a_dependency_missing_from_the_lock_fails_like_pip_check(
    tmp_path: Path, bundle: MakeBundle, policy: TrustPolicy
) -> None:
    path = bundle(
        packages=[("alpha", "1.0"), ("beta", "1.0")],
        groups={"main": ["alpha"], "other": ["beta"]},
        requires={"alpha": ["beta>=2", "gamma"]},
    )
    with pytest.raises(InstallError, match=r"dependency check failed.*alpha 1\.0 requires beta") as failed:
        install(path, tmp_path / "p", policy, engine="installer")
    assert "and 1 more" in failed.value.message
    assert not (tmp_path / "p" / "current").exists()
    log = max((tmp_path / "p" / "logs").iterdir()).read_text()
    assert "alpha 1.0 requires gamma, which is not installed." in log


def test_a_version_conflict_fails_the_dependency_check(
    tmp_path: Path, bundle: MakeBundle, policy: TrustPolicy
) -> None:
    path = bundle(packages=[("alpha", "1.0"), ("beta", "1.0")], requires={"alpha": ["beta>=2"]})
    with pytest.raises(InstallError, match=r"alpha 1\.0 has requirement beta>=2, but you have beta 1\.0"):
        install(path, tmp_path / "p", policy, engine="installer")


def _version(prefix: Path) -> str:
    return next((prefix / "current" / "lib").glob("python3.*")).name[len("python") :]


def _cache_tag(prefix: Path) -> str:
    return "cpython-" + _version(prefix).replace(".", "")
