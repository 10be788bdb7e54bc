"""The builder's view of the exception tree: one root, shared with the installer runtime.

The classes are defined in :mod:`netbundle.runtime.errors` because the runtime must run alone inside the zipapp;
builder code imports them from here.
"""

from __future__ import annotations

from netbundle.runtime.errors import (
    BuildError,
    BundleFormatError,
    DowngradeError,
    DriftError,
    InputError,
    InstallError,
    IntegrityError,
    NetbundleError,
    NetworkError,
    PrefixError,
    RehearsalError,
    SignatureError,
    SignatureInvalidError,
    SignatureMissingError,
    StaleLockError,
    TargetError,
    ThresholdError,
    UntrustedSignerError,
    UsageError,
)

__all__ = [
    "BuildError",
    "BundleFormatError",
    "DowngradeError",
    "DriftError",
    "InputError",
    "InstallError",
    "IntegrityError",
    "LockError",
    "NetbundleError",
    "NetworkError",
    "PrefixError",
    "RehearsalError",
    "SignatureError",
    "SignatureInvalidError",
    "SignatureMissingError",
    "StaleLockError",
    "TargetError",
    "ThresholdError",
    "UntrustedSignerError",
    "UsageError",
]


class LockError(InputError):
    """The lock cannot serve the request: unknown group or extra, a package missing from the lock."""
