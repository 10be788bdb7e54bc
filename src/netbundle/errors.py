"""The one exception tree of netbundle, and the exit code of each failure class.

Both halves use it: the builder, and the installer runtime inside ``netbundle.pyz`` (which ships this module, so
it is Python 3.9 code and imports only the standard library). Every exit code below is documented in
``docs/reference/exit-codes.md``; a test keeps the two in step.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar, Dict, Optional

#: The version of every ``--json`` object both CLIs print (each carries ``"format": 1``; docs/schemas/).
JSON_FORMAT = 1


class NetbundleError(Exception):
    """An expected failure: the CLI shows its message (and hint) on one line each, without a traceback."""

    exit_code: ClassVar[int] = 1

    def __init__(self, message: str, *, hint: Optional[str] = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message

    @property
    def kind(self) -> str:
        """The error's kind in JSON: its class name (``SignatureMissingError``), listed in exit-codes.md."""
        return type(self).__name__

    def to_json(self) -> Dict[str, Any]:
        """The JSON error object both CLIs print on stdout with ``--json`` (docs/schemas/error.json)."""
        error = {"kind": self.kind, "message": self.message, "hint": self.hint, "exit_code": self.exit_code}
        return {"format": JSON_FORMAT, "error": error}

    def render_text(self) -> str:
        """The lines both CLIs print on stderr: ``error: <what, where>`` and, with a remedy, ``hint: <what to do>``."""
        return render_error_lines(self.message, self.hint)


class UsageError(NetbundleError):
    """A command was called with options that do not fit together."""

    exit_code = 2


class InputError(NetbundleError):
    """A project file (pyproject.toml, poetry.lock, a config or key file) is missing, malformed or unsupported."""

    exit_code = 3


class LockError(InputError):
    """The lock cannot serve the request: unknown group or extra, a package missing from the lock."""


class StaleLockError(InputError):
    """poetry.lock does not match pyproject.toml (its content-hash differs): run `poetry lock`."""

    exit_code = 4


class NetworkError(NetbundleError):
    """An index or download failed after retries (unreachable, HTTP error, authentication refused)."""

    exit_code = 5


class TargetError(NetbundleError):
    """No artifact or no bundle target fits a target or this host."""

    exit_code = 6


class BuildError(NetbundleError):
    """Building a wheel (the project, an sdist, a git or path dependency) failed or cannot be done here."""

    exit_code = 7


class OutputError(NetbundleError):
    """An output cannot be written: a directory or special file is in its place, or its file system refuses it.

    Also when its parent is not a directory, or the file system is read-only, full or refuses permission.
    """

    exit_code = 8


class BundleFormatError(NetbundleError):
    """A bundle is not a well-formed format-1 bundle: bad tar, unknown/missing/duplicate/unsafe member."""

    exit_code = 10


class IntegrityError(NetbundleError):
    """A file's size or sha256 differs from what the manifest or the lock says."""

    exit_code = 11


class SignatureError(NetbundleError):
    """Base of the signature failures; each subclass has its own exit code."""

    exit_code = 13


class SignatureMissingError(SignatureError):
    """The bundle carries no signature at all."""

    exit_code = 12


class SignatureInvalidError(SignatureError):
    """A signature does not verify: the manifest or the signature was changed, or the key is wrong."""

    exit_code = 13


class UntrustedSignerError(SignatureError):
    """Signatures verify, but none of them is by a trusted key."""

    exit_code = 14


class ThresholdError(SignatureError):
    """Fewer distinct trusted keys signed than the trust policy's threshold requires."""

    exit_code = 15


class FreshnessError(NetbundleError):
    """The bundle's signed expiry has passed, or it is dated in the future (``--allow-expired`` overrides)."""

    exit_code = 16


class InstallError(NetbundleError):
    """Creating the environment or running pip failed; the previous generation stays active."""

    exit_code = 20


class UnsafeWheelPathError(InstallError):
    """A wheel names a file outside the directory it installs into (the installer engine refuses it)."""

    exit_code = 20


class DowngradeError(InstallError):
    """The bundle is older than the installed one and --allow-downgrade was not given."""

    exit_code = 21


class DriftError(NetbundleError):
    """`check` found installed state that differs from the receipt or the bundle."""

    exit_code = 22


class RehearsalError(NetbundleError):
    """A DR rehearsal step failed (install, pip check, an import or a smoke command)."""

    exit_code = 23


class PrefixError(NetbundleError):
    """The install prefix is unusable: not a netbundle prefix, no such generation, or locked by another run."""

    exit_code = 24


class ServeError(NetbundleError):
    """`serve` could not start its index server (the address is in use or not this host's)."""

    exit_code = 25


class HostError(NetbundleError):
    """This host cannot run the installer or fit the bundle: Python too old, no venv module, too little space."""

    exit_code = 26


#: Exit codes that are not tied to an exception class.
EXIT_OK = 0
EXIT_INTERRUPTED = 130


def render_error_lines(message: str, hint: Optional[str] = None) -> str:
    """``error: ...`` (and ``hint: ...``): the one error line format of both CLIs."""
    return "error: {}".format(message) + ("\nhint: {}".format(hint) if hint else "")


def interrupted_json() -> Dict[str, Any]:
    """The JSON error object of Ctrl-C (exit 130, not tied to an error class)."""
    error = {"kind": "Interrupted", "message": "interrupted", "hint": None, "exit_code": EXIT_INTERRUPTED}
    return {"format": JSON_FORMAT, "error": error}


def iter_error_classes() -> list[type[NetbundleError]]:
    """All error classes, root first (used by the docs test that checks every exit code is documented)."""
    found = [NetbundleError]
    for cls in found:
        found.extend(cls.__subclasses__())
    return found
