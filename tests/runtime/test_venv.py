from __future__ import annotations

from netbundle.runtime.venv import installer_scheme, venv_create_argv


def test_venv_is_created_without_pip_by_default() -> None:
    assert venv_create_argv("/usr/bin/python3", "/p/g") == ["/usr/bin/python3", "-I", "-m", "venv", "--without-pip", "/p/g"]  # fmt: skip
    assert "--without-pip" not in venv_create_argv("/usr/bin/python3", "/p/g", with_pip=True)


def test_installer_scheme_from_sysconfig_paths() -> None:
    paths = {
        "stdlib": "/usr/lib/python3.9",
        "purelib": "/g/lib/python3.9/site-packages",
        "platlib": "/g/lib64/python3.9/site-packages",
        "include": "/usr/include/python3.9",
        "scripts": "/g/bin",
        "data": "/g",
    }
    assert installer_scheme(paths, "pip") == {
        "purelib": "/g/lib/python3.9/site-packages",
        "platlib": "/g/lib64/python3.9/site-packages",
        "headers": "/usr/include/python3.9/pip",
        "scripts": "/g/bin",
        "data": "/g",
    }
