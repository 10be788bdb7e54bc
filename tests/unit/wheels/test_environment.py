"""The build environment: pip gets the pool and the credentials, the backend gets neither (pure functions)."""

from __future__ import annotations

import json
import os
import sys

import pytest

from netbundle.wheels.environment import (
    BuildEnvironment,
    BuildRequirement,
    backend_environ,
    parse_install_report,
)

BASE = {
    "PATH": "/usr/bin",
    "HOME": "/root",
    "POETRY_HTTP_BASIC_CORP_USERNAME": "ops",
    "POETRY_HTTP_BASIC_CORP_PASSWORD": "pw",
    "POETRY_PYPI_TOKEN_PYPI": "tok",
    "PIP_INDEX_URL": "https://elsewhere.example/simple",
    "PIP_EXTRA_INDEX_URL": "https://more.example/simple",
    "NETBUNDLE_KEY_PASSWORD": "k",
    "GITHUB_TOKEN": "t",
    "my_secret": "s",
}


def test_the_backend_sees_no_credential_and_no_pip_setting() -> None:
    assert backend_environ(BASE) == {"PATH": "/usr/bin", "HOME": "/root"}


def test_pip_gets_the_pool_in_order_and_ignores_its_configuration() -> None:
    environment = BuildEnvironment(
        index_urls=("https://ops:pw@corp.example/simple/", "https://extra.example/simple/")
    )
    environ = environment.pip_environ(BASE)
    assert environ["PIP_INDEX_URL"] == "https://ops:pw@corp.example/simple/"
    assert environ["PIP_EXTRA_INDEX_URL"] == "https://extra.example/simple/"
    assert environ["PIP_CONFIG_FILE"] == os.devnull
    assert "POETRY_HTTP_BASIC_CORP_PASSWORD" not in environ and "GITHUB_TOKEN" not in environ


def test_an_empty_pool_means_no_index_at_all() -> None:
    environ = BuildEnvironment().pip_environ({})
    assert environ["PIP_NO_INDEX"] == "1" and "PIP_INDEX_URL" not in environ


def test_install_argv_keeps_credentials_out_and_takes_wheels_only_with_every_constraints_file() -> None:
    environment = BuildEnvironment(
        index_urls=("https://ops:pw@corp.example/simple/",), constraints=("/a.txt", "/b.txt")
    )
    argv = environment.install_argv("/env/bin/python", "/tmp/req.txt", "/tmp/report.json")
    assert argv[:5] == [sys.executable, "-m", "pip", "--python", "/env/bin/python"]
    assert argv[argv.index("--only-binary") + 1] == ":all:"
    assert argv[argv.index("--report") + 1] == "/tmp/report.json"
    assert [argv[i + 1] for i, a in enumerate(argv) if a == "-c"] == ["/a.txt", "/b.txt"]
    assert not any("pw" in a for a in argv)


def test_redact_removes_the_user_information() -> None:
    environment = BuildEnvironment(index_urls=("https://ops:pw@corp.example/simple/",))
    assert (
        environment.redact("GET https://ops:pw@corp.example/simple/x/ 401")
        == "GET https://****@corp.example/simple/x/ 401"
    )


@pytest.mark.parametrize(
    ("archive", "sha256"),
    [
        ({"hashes": {"sha256": "a" * 64}}, "a" * 64),
        ({"hash": "sha256=" + "b" * 64}, "b" * 64),
        ({}, None),
    ],
)
def test_the_install_report_gives_name_version_and_sha256(
    archive: dict[str, object], sha256: str | None
) -> None:
    report = {
        "version": "1",
        "install": [
            {
                "metadata": {"name": "wheel", "version": "0.45.1"},
                "download_info": {"url": "x", "archive_info": {}},
            },
            {
                "metadata": {"name": "Setuptools", "version": "80.9.0"},
                "download_info": {"url": "y", "archive_info": archive},
            },
        ],
    }
    found = parse_install_report(json.dumps(report))
    assert found == (
        BuildRequirement(name="Setuptools", version="80.9.0", sha256=sha256),
        BuildRequirement(name="wheel", version="0.45.1", sha256=None),
    )
    assert str(found[0]) == ("Setuptools==80.9.0" + (f" sha256:{sha256}" if sha256 else ""))


def test_a_direct_library_call_may_use_pips_configuration_but_still_not_poetrys_credentials() -> None:
    environ = BuildEnvironment(pip_configuration=True).pip_environ(BASE)
    assert environ["PIP_INDEX_URL"] == "https://elsewhere.example/simple"
    assert not any(k.startswith(("POETRY_HTTP_BASIC_", "POETRY_PYPI_TOKEN_")) for k in environ)
