"""``netbundle keygen`` and ``netbundle trust init|endorse|show``; the ``--sign-key`` options that signing commands
share.

Passwords come from an environment variable or a prompt on a terminal, never from a flag value that would land in
shell history or a process listing. Each key may name its own variable (``--sign-key ci.key:CI_KEY_PASSWORD``);
a key without one uses ``--password-env VAR`` (default ``NETBUNDLE_SIGN_KEY_PASSWORD``), so a CI key and a
production key with different passwords can sign unattended in one run.
"""

from __future__ import annotations

import re
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
    from netbundle.format.minisign import PublicKey
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

TRUST_INIT_EPILOG = """
Examples:

\b
  netbundle trust init --key keys/release.pub -o trust.txt
  netbundle trust init --key keys/ci.pub --key keys/prod.pub --threshold 2 -o trust.txt
"""

#: ``KEY:ENVVAR``: a secret key file and the variable holding its password.
_KEY_SPEC = re.compile(r"^(?P<path>.+):(?P<env>[A-Za-z_][A-Za-z0-9_]*)$")

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
        help="Environment variable holding the secret key password, for keys without their own :VAR "
        "(else a prompt on a terminal).",
    )(func)


def sign_key_options(func: F) -> F:
    """``--sign-key FILE[:VAR]`` (repeatable; parameter ``sign_keys``) and ``--password-env VAR``
    (``password_env``). Pass both to :func:`load_signing_keys`.
    """
    func = password_env_option(func)
    return click.option(
        "--sign-key",
        "sign_keys",
        multiple=True,
        metavar="FILE[:VAR]",
        help="A minisign secret key to sign with; repeat for several signatures. FILE:VAR takes this key's "
        "password from $VAR (else --password-env's variable).",
    )(func)


def parse_key_spec(spec: str | Path, default_env: str) -> tuple[Path, str]:
    """``release.key:REL_PW`` -> (release.key, REL_PW); a bare path (or an existing file named with a colon)
    gets ``default_env``."""
    text = str(spec)
    found = _KEY_SPEC.match(text)
    if isinstance(spec, Path) or found is None or Path(text).exists():
        return Path(text), default_env
    return Path(found.group("path")), found.group("env")


@dataclass(frozen=True)
class KeyFile:
    """A secret key file read and, when encrypted, its password: everything but the (slow) scrypt unlock."""

    path: Path
    text: str
    #: None exactly when the key is not encrypted
    password: str | None


def load_signing_keys(specs: Sequence[Path | str], password_env: str = PASSWORD_ENV) -> list[SecretKey]:
    """Read each secret key (``FILE`` or ``FILE:VAR``); an encrypted one gets its password from its own ``$VAR``,
    else from ``$password_env``, else from a prompt. Unlocking (scrypt, seconds) is shown on a terminal.

    :raises InputError: unreadable or malformed key, or a wrong password (naming the key file).
    :raises UsageError: a password is needed but the variable is unset and there is no terminal; a key given twice.
    """
    return unlock_signing_keys(read_signing_keys(specs, password_env), show=True)


def start_unlocking(
    specs: Sequence[Path | str], password_env: str = PASSWORD_ENV
) -> Future[tuple[SecretKey, ...]]:
    """Read the keys and get their passwords now; unlock them (scrypt: seconds, 1 GiB) in a background thread.

    A build hands the future on and waits for it only when it signs, so scrypt runs while the downloads and
    builds do (hashlib's scrypt releases the GIL). A missing password fails here, before anything is downloaded;
    a wrong one is raised by the future (the build checks it after the downloads, and at the latest to sign).
    """
    files = read_signing_keys(specs, password_env)
    future: Future[tuple[SecretKey, ...]] = Future()

    def unlock() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(tuple(unlock_signing_keys(files, show=False)))
        except BaseException as exc:  # noqa: BLE001 (handed to whoever waits for the keys)
            future.set_exception(exc)

    threading.Thread(target=unlock, name="unlock-signing-keys", daemon=True).start()
    return future


def read_signing_keys(specs: Sequence[Path | str], password_env: str = PASSWORD_ENV) -> list[KeyFile]:
    """Each key file's text and, for an encrypted one, its password (its ``$VAR``, ``$password_env``, a prompt).

    :raises InputError: an unreadable or malformed key file. :raises UsageError: no password source.
    """
    from netbundle.bundle.signing import is_encrypted, password_from_env
    from netbundle.errors import InputError

    files: list[KeyFile] = []
    for spec in specs:
        path, variable = parse_key_spec(spec, password_env)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read secret key {path}: {exc}") from None
        password = None
        if is_encrypted(text, str(path)):
            password = password_from_env(variable)
            if password is None:
                password = _ask(f"Password for {path}", variable, confirm=False)
        files.append(KeyFile(path, text, password))
    return files


def unlock_signing_keys(files: Sequence[KeyFile], *, show: bool) -> list[SecretKey]:
    """Decrypt and check each key (scrypt for an encrypted one, shown as a step when ``show``); refuse a key given
    twice (one signature per key counts)."""
    from netbundle.bundle.signing import parse_secret_key
    from netbundle.cli._progress import step
    from netbundle.errors import UsageError

    keys: list[SecretKey] = []
    for file in files:
        if file.password is not None and show:
            with step(f"unlocking {file.path} (scrypt)"):
                key = parse_secret_key(file.text, password=file.password, where=str(file.path))
        else:
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
    from netbundle.cli._progress import step

    if password is None:
        secret_text, public_text = generate_keypair(comment=comment, password=None)
    else:
        with step("encrypting the new secret key (scrypt)"):
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
@click.option("--json", "as_json", is_flag=True, help="Print JSON (docs/schemas/trust-show.json).")
def show(trust_file: Path, as_json: bool) -> None:
    """Check a trust file (or a .pub file), endorsements included, and list its keys."""
    from netbundle.format.results import render_result
    from netbundle.format.trust import load_trust
    from netbundle.format.trustview import TrustSummary

    click.echo(render_result(TrustSummary(str(trust_file), load_trust(trust_file)), as_json))


@trust_group.command("init", epilog=TRUST_INIT_EPILOG)
@click.option(
    "--key",
    "public_keys",
    multiple=True,
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A minisign public key (.pub) to trust; repeatable. Its name is the file's stem.",
)
@click.option(
    "--threshold",
    type=click.IntRange(1),
    default=1,
    show_default=True,
    help="How many distinct trusted keys must sign a bundle.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the trust file here (default: stdout); never overwritten without --force.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing --output.")
def init(public_keys: tuple[Path, ...], threshold: int, output: Path | None, force: bool) -> None:
    """Write the first trust file: the given public keys and a threshold (then `trust endorse` rotates keys)."""
    from netbundle._atomic import write_atomic
    from netbundle.errors import InputError
    from netbundle.format.trust import render_trust

    text = render_trust(initial_policy(public_keys, threshold))
    if output is None:
        click.echo(text, nl=False)
        return
    if output.exists() and not force:
        raise InputError(f"{output} already exists", hint="use --force to overwrite it, or another -o")
    write_atomic(output, text.encode("utf-8"))
    click.echo(f"wrote {output}: threshold {threshold} of {len(public_keys)} keys", err=True)


def initial_policy(public_keys: Sequence[Path], threshold: int) -> TrustPolicy:
    """The policy of ``trust init``: each .pub file's key, named after the file's stem.

    :raises InputError: an unreadable or malformed key file. :raises UsageError: a key twice, a bad threshold.
    """
    from netbundle.errors import InputError, UsageError
    from netbundle.format import minisign
    from netbundle.format.trust import TrustPolicy

    keys: list[PublicKey] = []
    names: list[str] = []
    for path in public_keys:
        try:
            key = minisign.parse_public_key(path.read_text(encoding="utf-8"), str(path))
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read public key {path}: {exc}") from None
        if any(known.key_id == key.key_id for known in keys):
            raise UsageError(f"{path}: key {key.key_id_hex} is given twice")
        keys.append(key)
        name = _default_name(path, key.key_id_hex)
        names.append(key.key_id_hex if name in names else name)
    if threshold > len(keys):
        raise UsageError(f"--threshold {threshold} needs at least {threshold} keys ({len(keys)} given)")
    return TrustPolicy(keys=tuple(keys), threshold=threshold, names=tuple(names))


def _default_name(public_path: Path, fallback: str) -> str:
    from netbundle.format.trust import is_key_name

    return public_path.stem if is_key_name(public_path.stem) else fallback
