"""``netbundle keygen`` and ``netbundle trust endorse|show``; the ``--sign-key`` options that signing commands share.

Passwords come from an environment variable (``--password-env VAR``, default ``NETBUNDLE_SIGN_KEY_PASSWORD``) or
a prompt on a terminal, never from a flag value that would land in shell history or a process listing.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from netbundle.bundle.signing import SecretKey
    from netbundle.format.trust import TrustPolicy

F = TypeVar("F", bound=Callable[..., Any])

#: The default password variable (the same as netbundle.bundle.signing.DEFAULT_PASSWORD_ENV, which this module
#: does not import at start-up: the CLI must start without cryptography, see scripts/bootstrap).
PASSWORD_ENV = "NETBUNDLE_SIGN_KEY_PASSWORD"  # noqa: S105 (a variable's name, not a password)

KEYGEN_EPILOG = """
Examples:

\b
  netbundle keygen -o keys/release                 # asks for a password twice (on a terminal)
  NETBUNDLE_SIGN_KEY_PASSWORD=... netbundle keygen -o keys/ci --comment "CI runner"
  netbundle keygen -o keys/test --no-password      # unencrypted, like minisign -G -W

The files are minisign's: `minisign -S -s keys/release.key -m FILE` signs with the key.
"""

ENDORSE_EPILOG = """
Examples:

\b
  netbundle trust endorse --old keys/release-2026.key --new keys/release-2027.pub \\
      --name release-2027 --endorser release-2026 >> trust.txt
"""


def password_env_option(func: F) -> F:
    """``--password-env VAR``: where a secret key's password comes from (else a prompt on a terminal)."""
    return click.option(
        "--password-env",
        default=PASSWORD_ENV,
        show_default=True,
        metavar="VAR",
        help="Environment variable holding the secret key password (else a prompt on a terminal).",
    )(func)


def sign_key_options(func: F) -> F:
    """``--sign-key FILE`` (repeatable; parameter ``sign_keys``) and ``--password-env VAR`` (``password_env``).

    Pass both to :func:`load_signing_keys`.
    """
    func = password_env_option(func)
    return click.option(
        "--sign-key",
        "sign_keys",
        multiple=True,
        type=click.Path(dir_okay=False, path_type=Path),
        metavar="FILE",
        help="A minisign secret key to sign with; repeat for several signatures.",
    )(func)


@dataclass(frozen=True)
class KeyFile:
    """A secret key file read and, when encrypted, its password: everything but the (slow) scrypt unlock."""

    path: Path
    text: str
    password: str | None


def load_signing_keys(paths: Sequence[Path], password_env: str = PASSWORD_ENV) -> list[SecretKey]:
    """Read each secret key; an encrypted one gets its password from ``$password_env``, else from a prompt.

    :raises InputError: unreadable or malformed key, or a wrong password (naming the key file).
    :raises UsageError: a password is needed but the variable is unset and there is no terminal; a key given twice.
    """
    return unlock_signing_keys(read_signing_keys(paths, password_env))


def start_unlocking(paths: Sequence[Path], password_env: str = PASSWORD_ENV) -> Future[tuple[SecretKey, ...]]:
    """Read the keys and ask for passwords now; unlock them (scrypt: seconds, 1 GiB) in a background thread.

    A build passes the future on and waits for it only when it signs, so scrypt runs while the downloads and
    builds do. A wrong password is raised by the future (the build checks it between its steps).
    """
    files = read_signing_keys(paths, password_env)
    future: Future[tuple[SecretKey, ...]] = Future()

    def unlock() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(tuple(unlock_signing_keys(files)))
        except Exception as exc:  # noqa: BLE001 (handed to whoever waits for the keys)
            future.set_exception(exc)

    threading.Thread(target=unlock, name="unlock-signing-keys", daemon=True).start()
    return future


def read_signing_keys(paths: Sequence[Path], password_env: str = PASSWORD_ENV) -> list[KeyFile]:
    """Each key file's text, and its password when it is encrypted (from ``$password_env`` or a prompt)."""
    from netbundle.bundle.signing import is_encrypted, password_from_env
    from netbundle.errors import InputError

    files: list[KeyFile] = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read secret key {path}: {exc}") from None
        password = None
        if is_encrypted(text, str(path)):
            password = password_from_env(password_env)
            if password is None:
                password = _ask(f"Password for {path}", password_env, confirm=False)
        files.append(KeyFile(path, text, password))
    return files


def unlock_signing_keys(files: Sequence[KeyFile]) -> list[SecretKey]:
    """Decrypt and check each key (scrypt for an encrypted one); refuse a key given twice."""
    from netbundle.bundle.signing import parse_secret_key
    from netbundle.errors import UsageError

    keys: list[SecretKey] = []
    for file in files:
        key = parse_secret_key(file.text, password=file.password, where=str(file.path))
        if any(known.key_id == key.key_id for known in keys):
            raise UsageError(
                f"{file.path}: key {key.key_id_hex} is given twice (one signature per key counts)"
            )
        keys.append(key)
    return keys


def _interactive() -> bool:
    """Whether a password may be asked for (a test replaces this)."""
    return sys.stdin.isatty()


def _ask(prompt: str, password_env: str, *, confirm: bool) -> str:
    from netbundle.errors import UsageError

    if not _interactive():
        raise UsageError(
            f"a password is needed and ${password_env} is not set",
            hint=f"set {password_env} (e.g. from a CI secret), or run on a terminal to be asked"
            + (", or use --no-password for an unencrypted key" if confirm else ""),
        )
    answer: str = click.prompt(prompt, hide_input=True, confirmation_prompt=confirm, err=True)
    return answer


@click.command(epilog=KEYGEN_EPILOG)
@click.option(
    "-o", "--output", "prefix", required=True, metavar="PREFIX", help="Write PREFIX.key and PREFIX.pub."
)
@click.option("--comment", default="", help="The secret key file's (untrusted) comment.")
@click.option("--no-password", is_flag=True, help="Leave the secret key unencrypted (like minisign -G -W).")
@password_env_option
@click.option("--force", is_flag=True, help="Overwrite existing key files.")
def keygen(prefix: str, comment: str, no_password: bool, password_env: str, force: bool) -> None:
    """Make a minisign key pair: PREFIX.key (mode 0600, scrypt-encrypted as minisign does) and PREFIX.pub.

    Put PREFIX.pub (or its `key NAME ...` line) in the installers' trust file; keep PREFIX.key secret.
    """
    from netbundle.bundle.signing import generate_keypair, keypair_paths, password_from_env, write_keypair
    from netbundle.errors import InputError, UsageError
    from netbundle.format import minisign

    if not Path(prefix).parent.is_dir():
        raise InputError(f"cannot write {prefix}.key: {Path(prefix).parent} is not a directory")
    existing = [str(path) for path in keypair_paths(prefix) if path.exists()]
    if existing and not force:
        raise InputError(
            f"{existing[0]} already exists", hint="use --force to overwrite, or another -o PREFIX"
        )
    password = None
    if not no_password:
        password = password_from_env(password_env)
        if password is None:
            password = _ask("Password for the new secret key", password_env, confirm=True)
        if not password:
            raise UsageError("the password is empty", hint="use --no-password for an unencrypted key")
    secret_text, public_text = generate_keypair(comment=comment, password=password)
    secret_path, public_path = write_keypair(prefix, secret_text, public_text, force=force)
    key = minisign.parse_public_key(public_text.decode(), str(public_path))
    click.echo(f"secret key: {secret_path} ({'encrypted' if password is not None else 'NOT encrypted'})")
    click.echo(f"public key: {public_path} (key id {key.key_id_hex})")
    click.echo(f"trust file line: key {_default_name(public_path, key.key_id_hex)} {key.to_base64()}")


@click.group("trust")
def trust_group() -> None:
    """Trust files: which keys installers accept (see docs/reference/signatures.md)."""


@trust_group.command("endorse", epilog=ENDORSE_EPILOG)
@click.option(
    "--old",
    "old_key",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The endorsing (already trusted) secret key.",
)
@click.option(
    "--new",
    "new_key",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The new public key (.pub) to vouch for.",
)
@click.option("--name", required=True, help="The new key's name in trust files.")
@click.option("--endorser", required=True, help="The old key's name in the trust files it is listed in.")
@password_env_option
def endorse(old_key: Path, new_key: Path, name: str, endorser: str, password_env: str) -> None:
    """Print an `endorsed` trust-file line: the old key vouches for the new one (key rotation)."""
    from netbundle.bundle.signing import endorse as make_endorsement
    from netbundle.errors import InputError, UsageError
    from netbundle.format import minisign, trust

    for value, option in ((name, "--name"), (endorser, "--endorser")):
        if not trust.is_key_name(value):
            raise UsageError(f"{option} {value!r} is not a name of letters, digits, '.', '_', '@', '-'")
    try:
        new = minisign.parse_public_key(new_key.read_text(encoding="utf-8"), str(new_key))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read public key {new_key}: {exc}") from None
    (signer,) = load_signing_keys([old_key], password_env)
    if signer.key_id == new.key_id:
        raise UsageError(
            f"{old_key} and {new_key} are the same key {new.key_id_hex}: a key cannot endorse itself"
        )
    click.echo(make_endorsement(new, signer, name=name, endorser_name=endorser), nl=False)


@trust_group.command("show")
@click.argument("trust_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def show(trust_file: Path, as_json: bool) -> None:
    """Check a trust file (or a .pub file), endorsements included, and list its keys."""
    from netbundle.format.trust import load_trust

    summary = describe_policy(load_trust(trust_file))
    if as_json:
        click.echo(json.dumps(summary, indent=2, sort_keys=True))
        return
    click.echo(
        f"{trust_file}: threshold {summary['threshold']} of {summary['independent_keys']} independent keys"
    )
    for key in summary["keys"]:
        origin = f"endorsed by {key['endorsed_by']}" if key["endorsed_by"] else "key"
        click.echo(f"  {key['name']:<24} {key['key_id']}  {origin}")


def describe_policy(policy: TrustPolicy) -> dict[str, Any]:
    """A trust policy as plain data (the JSON of `netbundle trust show`)."""
    names = policy.names or tuple(key.key_id_hex for key in policy.keys)
    by_id = {key.key_id: name for key, name in zip(policy.keys, names, strict=True)}
    return {
        "threshold": policy.threshold,
        "independent_keys": len({policy.lineage(key) for key in policy.keys}),
        "keys": [
            {
                "name": name,
                "key_id": key.key_id_hex,
                "public_key": key.to_base64(),
                "endorsed_by": by_id.get(key.endorsed_by) if key.endorsed_by else None,
            }
            for key, name in zip(policy.keys, names, strict=True)
        ],
    }


def _default_name(public_path: Path, fallback: str) -> str:
    from netbundle.format.trust import is_key_name

    return public_path.stem if is_key_name(public_path.stem) else fallback
