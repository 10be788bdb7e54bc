"""Where PEP 517 builds get their build requirements, what their processes may see, and what was installed.

Build requirements (``[build-system] requires`` and what the backend asks for) are installed by pip into the
isolated environment from the project's pool only (its primary sources, or the default index when there is none;
then the supplemental sources: ``netbundle.fetch.sources``), never from pip's own configuration, and as wheels only
(``--only-binary :all:``: no build requirement's own build runs with pip's environment). Build constraints files
(``[tool.netbundle] build-constraints``, ``--build-constraint``) pin them, as pip's ``--build-constraint`` does.

Credentials: pip gets the pool's URLs with the sources' credentials in its own process environment (``PIP_INDEX_URL``,
not its command line, which other users can read). The backend's processes (``setup.py``, build hooks: code from
the sdist) get an environment without them: no ``POETRY_HTTP_BASIC_*``/``POETRY_PYPI_TOKEN_*``, no ``PIP_*``, and
no variable whose name says password, token or secret.

What pip installed is read from its installation report (``--report``): name, version and the sha256 of each wheel,
recorded per built wheel in the bundle's manifest (for an environment reused from the cache, the reports stored
when it was made: :mod:`netbundle.wheels.buildenv`).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from os import devnull
from pathlib import Path
from urllib.parse import urlsplit

_SECRET = re.compile(r"PASSWORD|TOKEN|SECRET|CREDENTIAL", re.IGNORECASE)
_DROPPED_PREFIXES = ("POETRY_HTTP_BASIC_", "POETRY_PYPI_TOKEN_", "PIP_")


@dataclass(frozen=True, kw_only=True, slots=True)
class BuildRequirement:
    """One distribution pip installed into a build environment."""

    name: str
    version: str
    sha256: str | None = None

    def __str__(self) -> str:
        pin = f"{self.name}=={self.version}"
        return f"{pin} sha256:{self.sha256}" if self.sha256 else pin


@dataclass(frozen=True, kw_only=True, slots=True)
class BuildEnvironment:
    """How one build host installs build requirements: the pool's index URLs and the constraints files.

    ``index_urls`` may carry credentials (``https://user:pass@host/simple``): they go to pip's environment only.
    """

    index_urls: tuple[str, ...] = ()
    constraints: tuple[str, ...] = ()
    #: let pip use its own configuration and ``PIP_*`` variables instead of ``index_urls``: for direct library
    #: calls only (netbundle's commands always pass the project's pool)
    pip_configuration: bool = False
    #: where isolated build environments are cached and reused (:mod:`netbundle.wheels.buildenv`); None: a fresh
    #: temporary environment per build
    env_cache: Path | None = None

    def pip_environ(self, base: Mapping[str, str]) -> dict[str, str]:
        """pip's environment: the backend's, plus the pool as its indexes and no configuration file."""
        if self.pip_configuration:
            return {k: v for k, v in base.items() if not k.upper().startswith(_DROPPED_PREFIXES[:2])}
        environ = backend_environ(base)
        environ.update(PIP_CONFIG_FILE=devnull, PIP_NO_INPUT="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
        if self.index_urls:
            environ["PIP_INDEX_URL"] = self.index_urls[0]
            if len(self.index_urls) > 1:
                environ["PIP_EXTRA_INDEX_URL"] = " ".join(self.index_urls[1:])
        else:
            environ["PIP_NO_INDEX"] = "1"
        return environ

    def redact(self, text: str) -> str:
        """``text`` without the user information of any of the pool's URLs (for messages)."""
        for url in self.index_urls:
            netloc = urlsplit(url).netloc
            if "@" in netloc:
                text = text.replace(netloc.rsplit("@", 1)[0], "****")
        return text

    def install_argv(self, python: str, requirements_file: str, report: str) -> list[str]:
        """The pip command that installs a requirements file into the environment of ``python`` (pure)."""
        argv = [sys.executable, "-m", "pip", "--python", python, "install", "--use-pep517"]
        argv += ["--no-warn-script-location", "--no-compile", "--only-binary", ":all:"]
        argv += ["--report", report, "-r", requirements_file]
        for constraints in self.constraints:
            argv += ["-c", constraints]
        return argv


def backend_environ(base: Mapping[str, str]) -> dict[str, str]:
    """The environment a build backend runs with: ``base`` without any credential or pip setting.

    >>> sorted(backend_environ({"PATH": "/bin", "POETRY_HTTP_BASIC_CORP_PASSWORD": "x", "SIGN_KEY_PASSWORD": "y",
    ...                         "PIP_INDEX_URL": "https://u:p@corp/simple"}))
    ['PATH']
    """
    return {
        key: value
        for key, value in base.items()
        if not key.upper().startswith(_DROPPED_PREFIXES) and not _SECRET.search(key)
    }


def parse_install_report(text: str) -> tuple[BuildRequirement, ...]:
    """What a pip ``--report`` says it installed, sorted by name (pure)."""
    data = json.loads(text)
    found = []
    for item in data.get("install", []):
        metadata = item.get("metadata", {})
        archive = (item.get("download_info") or {}).get("archive_info") or {}
        sha256 = (archive.get("hashes") or {}).get("sha256")
        if sha256 is None and str(archive.get("hash", "")).startswith("sha256="):
            sha256 = archive["hash"].split("=", 1)[1]
        found.append(
            BuildRequirement(name=str(metadata["name"]), version=str(metadata["version"]), sha256=sha256)
        )
    return tuple(sorted(found, key=lambda r: (r.name.lower(), r.version)))


def render_requirements(requirements: Sequence[BuildRequirement]) -> list[str]:
    """The manifest's form: ``name==version sha256:<hex>`` per installed build requirement."""
    return [str(r) for r in requirements]
