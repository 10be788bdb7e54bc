"""Load a Poetry project from its directory: pyproject.toml + poetry.lock, checked for staleness."""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path

from netbundle.errors import InputError, StaleLockError
from netbundle.lock.contenthash import is_fresh
from netbundle.lock.model import Lock
from netbundle.lock.poetry import parse_lock
from netbundle.lock.pyproject import Project, parse_pyproject


@dataclass(frozen=True, kw_only=True, slots=True)
class LoadedProject:
    root: Path
    pyproject_path: Path
    lock_path: Path
    pyproject: Project
    pyproject_data: dict[str, object]
    lock: Lock
    lock_sha256: str


def load_project(directory: Path, *, allow_stale: bool = False) -> LoadedProject:
    """Read ``directory``'s pyproject.toml and poetry.lock.

    :raises InputError: a file is missing or malformed.
    :raises StaleLockError: pyproject.toml changed since the lock was made (unless ``allow_stale``).
    """
    root = directory.resolve()
    pyproject_path = root / "pyproject.toml"
    lock_path = root / "poetry.lock"
    try:
        pyproject_bytes = pyproject_path.read_bytes()
    except FileNotFoundError:
        raise InputError(
            f"{pyproject_path}: no such file",
            hint="run netbundle in a Poetry project or pass -P/--project DIR",
        ) from None
    try:
        data = tomllib.loads(pyproject_bytes.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{pyproject_path}: not valid TOML ({exc})", hint="fix the file's syntax") from None
    project = parse_pyproject(data, where=str(pyproject_path))
    try:
        lock_bytes = lock_path.read_bytes()
    except FileNotFoundError:
        raise InputError(
            f"{lock_path}: no such file", hint="run `poetry lock` in the project first"
        ) from None
    try:
        lock_text = lock_bytes.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{lock_path}: not UTF-8 text", hint="regenerate it with `poetry lock`") from None
    lock = parse_lock(lock_text, where=str(lock_path))
    if not allow_stale and not is_fresh(data, lock):
        raise StaleLockError(
            f"{lock_path} is stale: pyproject.toml changed since the lock was made (content-hash differs)",
            hint="run `poetry lock` and commit the result",
        )
    return LoadedProject(
        root=root,
        pyproject_path=pyproject_path,
        lock_path=lock_path,
        pyproject=project,
        pyproject_data=data,
        lock=lock,
        lock_sha256=hashlib.sha256(lock_bytes).hexdigest(),
    )
