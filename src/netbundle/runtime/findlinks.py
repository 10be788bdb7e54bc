"""The one ``--find-links`` directory pip gets: exactly the files the manifest assigns to the chosen target.

A bundle's ``wheels/`` holds every target's files. Handed the whole folder, pip picks the *best* wheel for the
host among all of them: on a glibc 2.36 host a cp311-manylinux_2_28 target's install then prefers the
manylinux_2_34 wheel of the same version that another target carries, whose hash is not in this target's lock,
and ``--require-hashes`` fails. So the installer builds a per-target directory inside the private staging area:
hard links to the staged members (no bytes copied), falling back to copies where the filesystem refuses links.
"""

from __future__ import annotations

import errno
import os
import pathlib
import shutil

from ..errors import InstallError
from ..format.locks import target_files

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..format.tar import VerifiedBundle

#: The directory under the staging root; not one of the format's top directories, so no member can be there.
LINKS_DIR = "find-links"
#: errno values after which a copy is made instead of a hard link.
_NO_LINK = (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EACCES)


def target_find_links(bundle: VerifiedBundle, target: str) -> pathlib.Path:
    """Create ``<staging>/find-links/<target>/`` holding the target's files; return it.

    :raises InstallError: the directory cannot be made (disk full, a member that is not staged).
    """
    if bundle.root is None:
        raise ValueError("the bundle was verified without staging its files")
    directory = bundle.root / LINKS_DIR / target
    try:
        directory.mkdir(mode=0o700, parents=True)
        for member in target_files(bundle.manifest, target):
            _link_or_copy(bundle.member_path(member), directory / member.rsplit("/", 1)[-1])
    except OSError as exc:
        raise InstallError(
            "cannot prepare the files of target {} in {}: {}".format(target, directory, exc.strerror or exc)
        ) from None
    return directory


def _link_or_copy(source: pathlib.Path, link: pathlib.Path) -> None:
    try:
        os.link(str(source), str(link))
    except OSError as exc:
        if exc.errno not in _NO_LINK:
            raise
        shutil.copyfile(str(source), str(link))
