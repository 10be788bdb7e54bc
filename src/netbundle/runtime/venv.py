"""Creating a generation's virtual environment, also on hosts without ``ensurepip``.

The venv is made with ``python -m venv --without-pip`` (which never touches ensurepip, missing on Debian/Ubuntu
hosts without python3-venv), then the bundle's own pip wheel is installed into it with pypa/installer, so the
pip that installs the bundle is the one the bundle carries and was signed with it.
"""

from __future__ import annotations

import errno
import importlib.metadata as importlib_metadata
import json
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass

from installer import install as install_wheel
from installer.destinations import SchemeDictionaryDestination
from installer.exceptions import InstallerError
from installer.sources import WheelFile
from packaging.utils import canonicalize_name

from ..errors import InstallError
from .distinfo import read_distributions
from .pip import scrubbed_env

TYPE_CHECKING = False
if TYPE_CHECKING:
    import pathlib
    from importlib.metadata import Distribution
    from typing import Dict, Iterator, Mapping, Optional, Sequence

#: The venv's own scheme, asked from its interpreter (paths differ between distributions, e.g. lib64).
_PATHS_SCRIPT = "import json, sysconfig; print(json.dumps(sysconfig.get_paths()))"
_INSTALLER_NAME = b"netbundle\n"


@dataclass(frozen=True)
class Venv:
    """A created virtual environment: its directory, interpreter and installation scheme."""

    path: pathlib.Path
    python: pathlib.Path
    scheme: Mapping[str, str]

    @property
    def site_packages(self) -> str:
        return self.scheme["purelib"]


def venv_create_argv(python: str, directory: str, with_pip: bool = False) -> list[str]:
    """``python -I -m venv --without-pip DIR`` (pure); ``with_pip`` lets the host's ensurepip add pip."""
    return [python, "-I", "-m", "venv", *([] if with_pip else ["--without-pip"]), directory]


def installer_scheme(paths: Mapping[str, str], distribution: str) -> Dict[str, str]:
    """pypa/installer's scheme (purelib, platlib, headers, scripts, data) from ``sysconfig.get_paths()``.

    >>> installer_scheme({"purelib": "/v/lib", "platlib": "/v/lib64", "include": "/i", "scripts": "/v/bin",
    ...                   "data": "/v"}, "pip")["headers"]
    '/i/pip'
    """
    return {
        "purelib": paths["purelib"],
        "platlib": paths["platlib"],
        "headers": "{}/{}".format(paths["include"], distribution),
        "scripts": paths["scripts"],
        "data": paths["data"],
    }


def create_venv(
    directory: pathlib.Path, pip_wheel: Optional[pathlib.Path], python: str = sys.executable
) -> Venv:
    """Create a venv at ``directory`` (which must not exist) and install ``pip_wheel`` into it.

    :param pip_wheel: the bundle's ``tools/pip-*.whl``; None (a bundle without one) falls back to the host's
        ensurepip.
    :raises InstallError: venv creation or the pip wheel installation failed.
    """
    venv = _create(directory, python, with_pip=pip_wheel is None)
    if pip_wheel is not None:
        install_pip_wheel(venv, pip_wheel)
    return venv


def create_bare_venv(directory: pathlib.Path, python: str = sys.executable) -> Venv:
    """A venv at ``directory`` without pip (the installer engine installs the bundle's pip with the rest).

    :raises InstallError: venv creation failed.
    """
    return _create(directory, python, with_pip=False)


def _create(directory: pathlib.Path, python: str, with_pip: bool) -> Venv:
    env = scrubbed_env(os.environ)
    _run_checked(venv_create_argv(python, str(directory), with_pip), env, "create a virtual environment")
    venv_python = directory / "bin" / "python"
    paths = json.loads(
        _run_checked([str(venv_python), "-I", "-c", _PATHS_SCRIPT], env, "read the venv's paths")
    )
    return Venv(directory, venv_python, paths)


def install_pip_wheel(venv: Venv, wheel: pathlib.Path) -> None:
    """Install a (pure) wheel into the venv with pypa/installer; scripts get the venv's interpreter."""
    destination = SchemeDictionaryDestination(
        installer_scheme(venv.scheme, "pip"), interpreter=str(venv.python), script_kind="posix"
    )
    try:
        with WheelFile.open(wheel) as source:
            install_wheel(source, destination, {"INSTALLER": _INSTALLER_NAME})
    except (InstallerError, OSError, ValueError, zipfile.BadZipFile) as exc:
        full = isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)
        raise InstallError(
            "cannot install {} into {}: {}".format(wheel.name, venv.path, exc),
            hint="the disk is full: free space in {}, then install again".format(venv.path.parent)
            if full
            else None,
        ) from None


def iter_distributions(site_dirs: Sequence[str]) -> Iterator[Distribution]:
    """The distributions installed in these site-packages directories (each name once, first dir wins)."""
    seen = set()
    for dist in importlib_metadata.distributions(path=list(site_dirs)):
        name = canonicalize_name(dist.metadata["Name"] or "")
        if name and name not in seen:
            seen.add(name)
            yield dist


def installed_versions(site_dirs: Sequence[str]) -> Dict[str, str]:
    """Normalised name -> version of every distribution in ``site_dirs`` (METADATA header blocks only, read by
    :mod:`.distinfo`: the same values as importlib.metadata's).

    :raises InstallError: a METADATA cannot be read.
    """
    # a METADATA without Version gives None, as importlib.metadata's Distribution.version did
    return {info.name: info.version for info in read_distributions(site_dirs)}  # type: ignore[misc]


def _run_checked(argv: list[str], env: Mapping[str, str], what: str) -> str:
    try:
        done = subprocess.run(
            argv,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            universal_newlines=True,
            check=False,
        )
    except OSError as exc:
        raise InstallError("cannot {}: {}: {}".format(what, argv[0], exc)) from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["exit status {}".format(done.returncode)])[-1]
        raise InstallError("cannot {} with {}: {}".format(what, argv[0], last))
    return done.stdout
