"""install, reinstall, groups, rollback, list and downgrades against real venvs and the real bundled pip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.integration.installer.conftest import MakeBundle
from tests.integration.installer.prefixes import prefix_entries, run_in_prefix
from tests.support.bundles import KeyPair, pip_wheel

from netbundle.errors import (
    DowngradeError,
    InstallError,
    PrefixError,
    UntrustedSignerError,
    UsageError,
)
from netbundle.format.trust import TrustPolicy
from netbundle.runtime.install import install, list_generations, rollback

pytestmark = pytest.mark.integration


def test_install_then_groups_then_rollback(tmp_path: Path, bundle: MakeBundle, policy: TrustPolicy) -> None:
    path = bundle(packages=[("alpha", "1.0"), ("beta", "2.0")], groups={"main": ["alpha"], "junos": ["beta"]})
    prefix = tmp_path / "prefix"
    steps: list[str] = []

    first = install(path, prefix, policy, progress=steps.append)
    assert first.status == "installed" and first.generation.number == 1 and first.previous is None
    assert steps[0].startswith("verifying ")
    # issue 12: every step and a count of the distributions pip installs
    assert [s[-5:] for s in steps if s.endswith("/6)")] == [
        "(1/6)",
        "(1/6)",
        "(2/6)",
        "(3/6)",
        "(4/6)",
        "(5/6)",
        "(6/6)",
    ]
    assert "pip install of 1 distributions (4/6)" in steps and "  1/1 distributions" in steps
    assert run_in_prefix(prefix, "import alpha, sys; print(alpha.__version__, sys.prefix)") == f"1.0 {prefix}"
    pip_version = pip_wheel().name.split("-")[1]
    receipt = json.loads((prefix / "current" / "receipt.json").read_text())
    assert receipt["distributions"] == {
        "alpha": "1.0",
        "pip": pip_version,
    }  # pip is the bundle's, not ensurepip's
    assert receipt["groups"] == ["main"] and receipt["signers"] == [policy.keys[0].key_id_hex]
    installer = next((prefix / receipt["site_packages"][0]).glob("pip-*.dist-info")) / "INSTALLER"
    assert installer.read_text() == "netbundle\n"

    again = install(path, prefix, policy)
    assert again.status == "unchanged" and again.generation.number == 1

    second = install(path, prefix, policy, groups=["junos"])
    assert (second.status, second.generation.number, second.previous) == ("installed", 2, 1)
    assert run_in_prefix(prefix, "import alpha, beta; print(beta.__version__)") == "2.0"
    assert second.generation.receipt.groups == ("main", "junos")

    listed = list_generations(prefix)
    assert [(g.number, g.current) for g in listed.generations] == [(1, False), (2, True)]

    back = rollback(prefix)
    assert (back.previous.number, back.current.number) == (2, 1)
    assert run_in_prefix(prefix, "import importlib.util as u; print(u.find_spec('beta') is None)") == "True"
    assert sorted(p.name for p in prefix.iterdir()) == [
        ".lock", ".netbundle-prefix", "bin", "current", "generations", "lib", "lib64", "logs", "pyvenv.cfg",
    ]  # fmt: skip


def test_force_makes_a_new_generation_of_the_same_bundle(
    tmp_path: Path, bundle: MakeBundle, policy: TrustPolicy
) -> None:
    path = bundle()
    install(path, tmp_path / "p", policy)
    forced = install(path, tmp_path / "p", policy, force=True)
    assert (forced.status, forced.generation.number) == ("installed", 2)


def test_downgrade_is_refused_then_allowed(tmp_path: Path, bundle: MakeBundle, policy: TrustPolicy) -> None:
    new = bundle("new", version="2.0.0", packages=[("alpha", "2.0")])
    old = bundle("old", version="1.0.0", packages=[("alpha", "1.0")])
    prefix = tmp_path / "p"
    install(new, prefix, policy)
    before = prefix_entries(prefix)
    with pytest.raises(
        DowngradeError, match=r"sample-project 1\.0\.0.*is older than the current generation 1"
    ):
        install(old, prefix, policy)
    assert prefix_entries(prefix) == before
    assert run_in_prefix(prefix, "import alpha; print(alpha.__version__)") == "2.0"
    result = install(old, prefix, policy, allow_downgrade=True)
    assert result.generation.number == 2
    assert run_in_prefix(prefix, "import alpha; print(alpha.__version__)") == "1.0"


def test_failing_pip_leaves_current_and_no_stray_directories(
    tmp_path: Path, bundle: MakeBundle, policy: TrustPolicy
) -> None:
    prefix = tmp_path / "p"
    install(bundle("good"), prefix, policy)
    before = prefix_entries(prefix)
    broken = bundle("broken", version="2.0.0", packages=[("alpha", "2.0")], requires={"alpha": ["ghost>=1"]})
    with pytest.raises(
        InstallError, match=r"pip install of bundle sample-project-2\.0\.0-\w+ .* failed: ERROR:"
    ) as e:
        install(broken, prefix, policy)
    assert e.value.hint is not None and "0002-" in e.value.hint  # the log of the failed generation
    log = Path(e.value.hint.rsplit(" ", 1)[-1])
    assert "ghost" in log.read_text()
    assert prefix_entries(prefix) == before
    assert run_in_prefix(prefix, "import alpha; print(alpha.__version__)") == "1.0"


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"groups": ["nope"]}, UsageError, "does not carry group nope"),
        ({"target": "nope"}, UsageError, "has no target 'nope'"),
    ],
)
def test_usage_errors_change_nothing(
    tmp_path: Path,
    bundle: MakeBundle,
    policy: TrustPolicy,
    options: dict[str, object],
    error: type,
    message: str,
) -> None:
    prefix = tmp_path / "p"
    install(bundle(), prefix, policy)
    before = prefix_entries(prefix)
    with pytest.raises(error, match=message):
        install(bundle("other", version="2.0.0"), prefix, policy, **options)  # type: ignore[arg-type]
    assert prefix_entries(prefix) == before


def test_an_untrusted_bundle_writes_nothing(tmp_path: Path, bundle: MakeBundle, policy: TrustPolicy) -> None:
    """Issue 12: a refused bundle leaves no prefix skeleton behind (it is made only after verification), and an
    existing prefix exactly as it was."""
    from tests.support.bundles import make_keypair

    stranger = make_keypair(tmp_path, "stranger")
    untrusted = bundle("untrusted", keys=(stranger,))
    with pytest.raises(UntrustedSignerError):
        install(untrusted, tmp_path / "p", policy)
    assert not (tmp_path / "p").exists()
    (tmp_path / "empty").mkdir()
    with pytest.raises(UntrustedSignerError):
        install(untrusted, tmp_path / "empty", policy)
    assert list((tmp_path / "empty").iterdir()) == []
    install(bundle(), tmp_path / "p", policy)
    before = prefix_entries(tmp_path / "p")
    with pytest.raises(UntrustedSignerError):
        install(untrusted, tmp_path / "p", policy)
    assert prefix_entries(tmp_path / "p") == before


def test_another_project_is_refused(tmp_path: Path, bundle: MakeBundle, policy: TrustPolicy) -> None:
    install(bundle(), tmp_path / "p", policy)
    with pytest.raises(PrefixError, match="prefix holds sample-project, not other"):
        install(bundle("o", project="other"), tmp_path / "p", policy)


def test_a_failure_while_pruning_keeps_the_successful_install(
    tmp_path: Path, bundle: MakeBundle, policy: TrustPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    from netbundle.runtime import generations as gens

    def refuse(prefix: Path, keep: int = 0) -> list[str]:
        raise PermissionError(13, "Permission denied", str(prefix))

    monkeypatch.setattr(gens, "prune", refuse)
    result = install(bundle(), tmp_path / "p", policy)
    assert result.status == "installed" and result.pruned == ()
    assert run_in_prefix(tmp_path / "p", "import alpha; print(alpha.__version__)") == "1.0"


def test_a_failure_after_current_moved_keeps_the_new_generation(
    tmp_path: Path, bundle: MakeBundle, policy: TrustPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    from netbundle.runtime import generations as gens

    prefix = tmp_path / "p"
    install(bundle("one", version="1.0.0", packages=[("alpha", "1.0")]), prefix, policy)
    real_switch = gens.switch_current

    def switch_then_fail(root: Path, name: str) -> None:
        real_switch(root, name)  # `current` has moved: the new generation is live
        raise OSError(5, "Input/output error", str(root))

    monkeypatch.setattr(gens, "switch_current", switch_then_fail)
    with pytest.raises(InstallError):
        install(bundle("two", version="2.0.0", packages=[("alpha", "2.0")]), prefix, policy)
    assert (gens.current_name(prefix) or "").startswith("0002-")
    assert run_in_prefix(prefix, "import alpha; print(alpha.__version__)") == "2.0"


def test_a_wheel_whose_script_escapes_the_venv_is_refused_before_pip(
    tmp_path: Path, bundle: MakeBundle, policy: TrustPolicy
) -> None:
    from netbundle.errors import BundleFormatError

    hostile = {"alpha": {"entry_points": "[console_scripts]\n../../../../escaped = alpha:x\n"}}
    prefix = tmp_path / "p"
    with pytest.raises(
        BundleFormatError, match=r"wheel wheels/alpha-1.0-py3-none-any.whl would write outside"
    ):
        install(bundle(wheel_options=hostile), prefix, policy)
    assert not list(tmp_path.rglob("escaped"))
    assert "generations" not in prefix_entries(prefix) or not list((prefix / "generations").iterdir())


def test_an_option_line_in_a_signed_lock_is_refused_before_pip_contacts_anything(
    tmp_path: Path, bundle: MakeBundle, policy: TrustPolicy
) -> None:
    import http.server
    import threading

    from netbundle.errors import BundleFormatError

    seen: list[str] = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        injected = f"--find-links http://127.0.0.1:{server.server_port}/links/\n"
        with pytest.raises(BundleFormatError, match=r"requirements-main.txt, line \d+: '--find-links http"):
            install(bundle(lock_suffix=injected), tmp_path / "p", policy)
    finally:
        server.shutdown()
        server.server_close()
    assert seen == []


def test_a_link_planted_in_logs_is_not_written_through(
    tmp_path: Path, bundle: MakeBundle, policy: TrustPolicy
) -> None:
    from netbundle.format.tar import read_unverified
    from netbundle.runtime.generations import generation_name

    prefix = tmp_path / "p"
    install(bundle("one"), prefix, policy)
    victim = tmp_path / "victim"
    victim.write_text("precious")
    second = bundle("two", version="2.0.0")
    log = prefix / "logs" / f"{generation_name(2, read_unverified(second).manifest.bundle_id)}.log"
    log.symlink_to(victim)  # where the next install will write its log
    install(second, prefix, policy)
    assert victim.read_text() == "precious"
    assert "pip" in log.read_text()


#: A child program: install(BUNDLE, PREFIX, TRUST) and print an error's exit code, message and hint (tmpfs tests).
INSTALL_PRINTING_ERRORS = (
    "import sys\n"
    "from netbundle.errors import NetbundleError\n"
    "from netbundle.format.trust import load_trust\n"
    "from netbundle.runtime.install import install\n"
    "try:\n"
    "    install(sys.argv[1], sys.argv[2], load_trust(sys.argv[3]))\n"
    "except NetbundleError as exc:\n"
    "    print(exc.exit_code, exc, '|', exc.hint)\n"
)


def test_a_full_disk_while_staging_is_an_install_error_not_a_damaged_bundle(
    tmp_path: Path, bundle: MakeBundle, release_key: KeyPair
) -> None:
    from tests.support.mountns import run_on_tmpfs

    path = bundle()  # carries the real pip wheel (about 2 MB): more than the 512 kB file system holds
    small = tmp_path / "small"
    done = run_on_tmpfs(
        small,
        INSTALL_PRINTING_ERRORS,
        options="size=512k",
        argv=(str(path), str(small / "p"), str(release_key.pub_path)),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("20 cannot stage "), done.stdout
    assert "No space left on device" in done.stdout
    assert "| free " in done.stdout and f"MB in {small / 'p'}" in done.stdout


def test_a_rebuild_of_the_same_version_with_older_packages_is_a_downgrade(
    tmp_path: Path, bundle: MakeBundle, policy: TrustPolicy
) -> None:
    prefix = tmp_path / "p"
    install(bundle("new", packages=[("alpha", "2.0")]), prefix, policy)
    same_version_older_alpha = bundle("old", packages=[("alpha", "1.0")])  # same version and build time
    with pytest.raises(DowngradeError, match=r"the same version, with alpha 2\.0 -> 1\.0 moved back"):
        install(same_version_older_alpha, prefix, policy)
    assert run_in_prefix(prefix, "import alpha; print(alpha.__version__)") == "2.0"
    assert install(same_version_older_alpha, prefix, policy, allow_downgrade=True).generation.number == 2


def test_an_expired_or_future_dated_bundle_is_refused_before_anything_is_installed(
    tmp_path: Path, bundle: MakeBundle, policy: TrustPolicy
) -> None:
    from netbundle.errors import FreshnessError

    prefix = tmp_path / "p"
    expired = bundle("expired", build_time="2025-01-01T00:00:00Z", expires="2025-04-01T00:00:00Z")
    future = bundle("future", version="9.0.0", build_time="2099-01-01T00:00:00Z")
    for path, message in (
        (expired, "expired at 2025-04-01T00:00:00Z"),
        (future, "is dated 2099-01-01T00:00:00Z"),
    ):
        with pytest.raises(FreshnessError, match=message) as info:
            install(path, prefix, policy)
        assert info.value.exit_code == 16
        assert "generations" not in prefix_entries(prefix) or not list((prefix / "generations").iterdir())
    assert install(expired, prefix, policy, allow_expired=True).generation.number == 1


@pytest.mark.parametrize("size", ["4m", "8m"])  # full while installing the pip wheel / while pip installs
def test_a_full_disk_during_the_install_is_exit_20_with_where_to_free_space(
    tmp_path: Path, bundle: MakeBundle, release_key: KeyPair, size: str
) -> None:
    from tests.support.mountns import run_on_tmpfs

    disk = tmp_path / "disk"
    argv = (str(bundle()), str(disk / "p"), str(release_key.pub_path))
    done = run_on_tmpfs(disk, INSTALL_PRINTING_ERRORS, options=f"size={size}", argv=argv)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("20 "), done.stdout
    assert "No space left on device" in done.stdout
    assert f"| the disk is full: free space in {disk / 'p'}" in done.stdout


@pytest.mark.parametrize("cores", [1, 2])
def test_a_failing_pip_check_fails_the_install_whether_or_not_it_ran_beside_the_compile(
    tmp_path: Path, bundle: MakeBundle, policy: TrustPolicy, monkeypatch: pytest.MonkeyPatch, cores: int
) -> None:
    import sys

    from netbundle.runtime import install as install_module

    # on 2 cores pip check starts before the byte-compile and is collected after it; on 1 it runs after pip
    monkeypatch.setattr(install_module, "core_count", lambda: cores)
    marker = tmp_path / "checked-after-pip-install"
    script = (
        "import glob, pathlib, sys; "
        "found = glob.glob(sys.argv[1] + '/generations/*/lib/python*/site-packages/alpha/__init__.py'); "
        "pathlib.Path(sys.argv[2]).write_text(str(len(found))); "
        "print('ERROR: alpha 1.0 requires omega, which is not installed.'); sys.exit(1)"
    )
    prefix = tmp_path / "p"
    monkeypatch.setattr(
        install_module,
        "pip_check_argv",
        lambda python: [sys.executable, "-c", script, str(prefix), str(marker)],
    )
    with pytest.raises(
        InstallError, match=r"pip check failed for bundle .*: ERROR: alpha 1.0 requires omega"
    ) as info:
        install(bundle(), prefix, policy)
    assert info.value.exit_code == 20
    assert marker.read_text() == "1"  # it ran after pip had installed the distribution
    assert not (prefix / "current").exists()
    log = max((prefix / "logs").iterdir()).read_text()
    assert "ERROR: alpha 1.0 requires omega" in log
    assert ("byte-compiling pip's modules" in log) == (cores > 1)
