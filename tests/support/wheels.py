"""Tiny, valid wheels and sdists for tests (and for scripts/regen-lock-fixtures)."""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
import zipfile
from pathlib import Path

_DATE = (2020, 1, 1, 0, 0, 0)


def make_wheel(
    directory: Path,
    name: str,
    version: str,
    *,
    tag: str = "py3-none-any",
    requires: tuple[str, ...] = (),
    payload: str = "",
    entry_points: str = "",
    extra_files: dict[str, str] | None = None,
) -> Path:
    """A minimal valid wheel (METADATA, WHEEL, RECORD), byte-identical for the same arguments.

    ``entry_points`` is the text of ``entry_points.txt``; ``extra_files`` maps more member names to their text
    (``{dist}`` in a name stands for ``name-version``, e.g. ``{dist}.data/scripts/tool``).
    """
    directory.mkdir(parents=True, exist_ok=True)
    module = name.replace("-", "_")
    dist = f"{module}-{version}"
    path = directory / f"{dist}-{tag}.whl"
    files = {
        f"{module}/__init__.py": f'__version__ = "{version}"\n{payload}',
        f"{dist}.dist-info/METADATA": "Metadata-Version: 2.1\nName: {}\nVersion: {}\n{}".format(
            name, version, "".join(f"Requires-Dist: {r}\n" for r in requires)
        ),
        f"{dist}.dist-info/WHEEL": f"Wheel-Version: 1.0\nGenerator: netbundle-tests\nRoot-Is-Purelib: true\nTag: {tag}\n",
        f"{dist}.dist-info/top_level.txt": f"{module}\n",
    }
    if entry_points:
        files[f"{dist}.dist-info/entry_points.txt"] = entry_points
    for arcname, text in (extra_files or {}).items():
        files[arcname.replace("{dist}", dist)] = text
    record = []
    with zipfile.ZipFile(path, "w") as zf:
        for arcname, text in files.items():
            data = text.encode()
            zf.writestr(zipfile.ZipInfo(arcname, _DATE), data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{arcname},sha256={digest},{len(data)}")
        record.append(f"{dist}.dist-info/RECORD,,")
        zf.writestr(zipfile.ZipInfo(f"{dist}.dist-info/RECORD", _DATE), "\n".join(record) + "\n")
    return path


def make_sdist(directory: Path, name: str, version: str) -> Path:
    """A minimal sdist with a static PEP 621 pyproject (setuptools backend)."""
    directory.mkdir(parents=True, exist_ok=True)
    module = name.replace("-", "_")
    base = f"{module}-{version}"
    files = {
        f"{base}/pyproject.toml": f'[project]\nname = "{name}"\nversion = "{version}"\n\n[build-system]\n'
        'requires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n',
        f"{base}/{module}/__init__.py": f'__version__ = "{version}"\n',
        f"{base}/PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
    }
    path = directory / f"{base}.tar.gz"
    with tarfile.open(path, "w:gz") as tf:
        for arcname, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(arcname)
            info.size, info.mtime, info.mode = len(data), 1577836800, 0o644
            tf.addfile(info, io.BytesIO(data))
    return path


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
