"""The keys this installer trusts: those embedded in ``netbundle.pyz`` at build time, plus ``--trust`` files.

``scripts/build-pyz --trust FILE`` writes the merged trust file as the package resource
``netbundle/runtime/trusted-keys.txt`` (format: :mod:`netbundle.format.trust`), so an operator carries one file.
Run from a source tree there is no such resource and only ``--trust`` files count.

Merging takes the union of the keys (a key listed twice counts once, under its first name) and the highest
threshold of the merged policies, so adding a trust file can never lower the bar that the embedded one sets.
"""

from __future__ import annotations

import pkgutil

from ..errors import InputError
from ..format.trust import TrustPolicy, load_trust, merge_policies, parse_trust

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import List, Optional, Sequence


#: The package resource that build-pyz writes (next to this module inside the pyz).
RESOURCE = "trusted-keys.txt"
#: How error messages and ``inspect`` name the embedded trust file.
EMBEDDED_NAME = "netbundle.pyz:netbundle/runtime/" + RESOURCE


def embedded_text() -> Optional[str]:
    """The embedded trust file's text, or None when this build embeds no keys.

    ``pkgutil.get_data`` reads through the module's loader, so this works both from a directory and from inside
    the zipapp (zipimport) without extracting anything.
    """
    try:
        data = pkgutil.get_data(__package__ or "netbundle.runtime", RESOURCE)
    except OSError:
        return None
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("{} is not UTF-8 text".format(EMBEDDED_NAME), hint="rebuild the pyz") from None


def embedded_policy() -> Optional[TrustPolicy]:
    """The embedded trust policy, or None.

    :raises InputError: the embedded file is malformed (a broken build).
    """
    text = embedded_text()
    if text is None:
        return None
    return parse_trust(text, EMBEDDED_NAME)


def resolve_policy(trust_files: Sequence[str], embedded: Optional[TrustPolicy] = None) -> TrustPolicy:
    """The policy a command uses: the embedded keys (``embedded``; read from the pyz when None) merged with the
    ``--trust`` files, in that order.

    :raises InputError: no trusted key at all, or an unreadable or malformed trust file.
    """
    found: List[TrustPolicy] = []
    inside = embedded if embedded is not None else embedded_policy()
    if inside is not None:
        found.append(inside)
    found.extend(load_trust(path) for path in trust_files)
    if not found:
        raise InputError(
            "no trusted keys: this netbundle.pyz embeds none and no --trust file was given",
            hint="pass --trust release.pub (or a trust file), or use a pyz built with scripts/build-pyz --trust",
        )
    return merge_policies(found)
