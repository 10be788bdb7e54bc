"""Writing a bundle's members into a staging directory can fail for reasons that are not the bundle's: a full
disk, a read-only or failing file system. Those are reported as install errors (exit 20) with the space the bundle
needs and the space that is free, never as a damaged bundle (which would say "fetch it again").
"""

from __future__ import annotations

import contextlib
import errno
import pathlib
import shutil

from ..errors import InstallError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Iterator, Optional

    from .manifest import Manifest


class StagingWriteError(Exception):
    """Writing into the staging directory failed (full, read-only, I/O error): not the bundle's fault."""

    def __init__(self, target: pathlib.Path, error: OSError) -> None:
        super().__init__(str(error))
        self.target = target
        self.error = error


@contextlib.contextmanager
def writing(target: Optional[pathlib.Path]) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise StagingWriteError(target or pathlib.Path(), exc) from exc


def staging_error(exc: StagingWriteError, staging: pathlib.Path, parsed: Manifest, name: str) -> InstallError:
    """The install error for a failed write while staging, with the space the bundle needs and the space free."""
    needed = sum(entry.size for entry in parsed.files)
    try:
        free = shutil.disk_usage(str(staging)).free
    except OSError:
        free = 0
    reason = exc.error.strerror or str(exc.error)
    if exc.error.errno in (errno.ENOSPC, errno.EDQUOT):
        return InstallError(
            "cannot stage {} in {}: {} (the bundle needs {} MB there, {} MB are free)".format(
                name, staging.parent, reason, _mb(needed), _mb(free)
            ),
            hint="free {} MB in {} (or use a prefix on a larger file system)".format(
                _mb(max(needed - free, 1)), staging.parent
            ),
        )
    return InstallError(
        "cannot stage {} in {}: {} while writing {}".format(name, staging.parent, reason, exc.target.name),
        hint="the file system of {} failed (see the kernel log); the bundle itself was not at fault".format(
            staging.parent
        ),
    )


def _mb(size: int) -> int:
    return -(-size // (1024 * 1024))
