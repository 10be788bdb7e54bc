"""Where each thing lives inside a bundle tar: the member names both halves agree on (``docs/bundle-format.md``).

The builder writes these paths and the installer looks them up; nothing else in either half spells them.
"""

from __future__ import annotations

#: Fixed member names of the ``netbundle/`` directory inside the tar.
MANIFEST_PATH = "netbundle/manifest.json"
SIGNATURE_DIR = "netbundle/signatures/"
SIGNATURE_SUFFIX = ".minisig"

#: What a file of the bundle is for. ``meta`` covers small extras such as the project's rehearsal config.
FILE_KINDS = ("wheel", "dist", "lock", "pylock", "sbom", "tool", "meta")
#: The top-level directories a listed file may sit in.
TOP_DIRS = ("wheels", "dist", "locks", "sbom", "tools", "meta")

#: The CycloneDX SBOM of the bundle.
SBOM_PATH = "sbom/cyclonedx.json"


def wheel_member(filename: str) -> str:
    """The member path of a wheel (every target's wheels share ``wheels/``; the manifest says which is whose)."""
    return "wheels/" + filename


def dist_member(filename: str) -> str:
    """The member path of one of the project's own artifacts (its sdist and wheel)."""
    return "dist/" + filename


def tool_member(filename: str) -> str:
    """The member path of a tool the bundle carries (the pip wheel)."""
    return "tools/" + filename


def lock_member(target: str, group: str) -> str:
    """The member path of a target's hash-pinned requirements file for one group."""
    return "locks/{}/requirements-{}.txt".format(target, group)


def pylock_member(target: str) -> str:
    """The member path of a target's PEP 751 lock."""
    return "locks/{}/pylock.toml".format(target)
