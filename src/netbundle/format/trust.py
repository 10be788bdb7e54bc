"""Which keys the installer trusts, and the check of a bundle manifest's signatures against them.

A trust policy is a set of named minisign public keys and a threshold (how many distinct trusted keys must have
signed). It is read from a trust file (format below, documented in ``docs/reference/signatures.md``) or from a
plain minisign ``.pub`` file (one key, threshold 1)::

    # netbundle trust file: comments and blank lines are ignored
    netbundle-trust 1
    threshold 2
    key release-2025 RWS8RvTMP4hAOXlMQMmX7YOuhOrL+U7zKgSbZUN8Qqj6RszjeAeHITY2
    key ci-runner RWTXaO36rQUOuwNzEiS4w2+0Xpp2mRShAeto1xpZJvZLCBN2jA0yqVN4
    endorsed release-2026 RWQ… by release-2025 dW50cnVzdGVk…

``endorsed`` adds a key that an already listed key vouched for (key rotation): the last field is the base64 of
a minisign signature file, by the endorser, over :func:`endorsement_message` of the new key. The loader verifies
it and refuses the whole file when it does not verify.

The threshold counts distinct *lineages*, not keys: an endorsed key and its endorser (and so on up the chain)
count once together. Otherwise one key holder could endorse a second key of their own and meet a threshold of 2
alone.
"""

from __future__ import annotations

import base64
import binascii
import pathlib
import re
from dataclasses import dataclass

from ..errors import (
    InputError,
    SignatureInvalidError,
    SignatureMissingError,
    ThresholdError,
    UntrustedSignerError,
)
from . import minisign

TYPE_CHECKING = False
if TYPE_CHECKING:
    import os
    from typing import List, Mapping, Optional, Sequence, Set, Tuple, Union

    from .minisign import PublicKey

TRUST_HEADER = "netbundle-trust 1"
ENDORSEMENT_CONTEXT = b"netbundle key endorsement 1\n"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")

#: Outcomes of one signature file (see :class:`SignatureCheck`).
VALID = "valid"
INVALID = "invalid"
MALFORMED = "malformed"
UNTRUSTED = "untrusted"
DUPLICATE = "duplicate"


@dataclass(frozen=True)
class TrustPolicy:
    """Trusted keys (distinct key ids), their names (same order; empty means "use the key id"), and how many
    distinct trusted keys must sign."""

    keys: Tuple[PublicKey, ...]
    threshold: int = 1
    names: Tuple[str, ...] = ()

    def __post_init__(self) -> None:
        ids = [key.key_id for key in self.keys]
        if len(set(ids)) != len(ids):
            raise ValueError("a trust policy lists each key once")
        if self.names and len(self.names) != len(self.keys):
            raise ValueError("a trust policy has one name per key, or none")
        if not 1 <= self.threshold <= max(len(self.keys), 1):
            raise ValueError("threshold {} does not fit {} keys".format(self.threshold, len(self.keys)))

    def find(self, key_id: bytes) -> Optional[PublicKey]:
        """The trusted key with this key id, or None."""
        for key in self.keys:
            if key.key_id == key_id:
                return key
        return None

    def lineage(self, key: PublicKey) -> bytes:
        """The key id that ``key``'s endorsement chain starts from (its own id when it was not endorsed, or when
        its endorser is not in this policy). Signatures of one lineage count once toward the threshold."""
        seen = {key.key_id}
        current = key
        while current.endorsed_by:
            parent = self.find(current.endorsed_by)
            if parent is None or parent.key_id in seen:
                break
            seen.add(parent.key_id)
            current = parent
        return current.key_id

    def describe(self, key: PublicKey) -> str:
        """``name (KEYID)`` for a trusted key, the bare key id otherwise."""
        for index, candidate in enumerate(self.keys):
            if candidate.key_id == key.key_id and self.names:
                return "{} ({})".format(self.names[index], key.key_id_hex)
        return key.key_id_hex


@dataclass(frozen=True)
class SignatureCheck:
    """What one signature file of a bundle turned out to be.

    ``status``: ``valid`` (by a trusted key, verifies), ``invalid`` (by a trusted key, does not verify),
    ``malformed`` (not a minisign signature), ``untrusted`` (by a key the policy does not list; not checked),
    ``duplicate`` (a second valid signature by an already counted key).
    """

    member: str
    status: str
    key_id_hex: str = ""
    trusted_comment: str = ""
    detail: str = ""
    key: Optional[PublicKey] = None


def is_key_name(name: str) -> bool:
    """Whether ``name`` can name a key in a trust file (letters, digits, ``.``, ``_``, ``@``, ``-``)."""
    return bool(_NAME.fullmatch(name))


def endorsement_message(new_key: PublicKey) -> bytes:
    """The bytes an endorser signs to vouch for ``new_key``: a fixed context line, then the key line.

    The context line keeps an endorsement from ever being mistaken for a bundle signature (and back).
    """
    return ENDORSEMENT_CONTEXT + new_key.to_base64().encode("ascii") + b"\n"


def parse_trust(text: str, where: str, backend: Optional[str] = None) -> TrustPolicy:
    """Read a trust file, or a minisign .pub file (one key, threshold 1).

    :param where: names the file in error messages.
    :param backend: the Ed25519 backend that checks endorsements (None: the best available).
    :raises InputError: malformed file, duplicate names or keys, a threshold above the number of lineages.
    :raises SignatureInvalidError: an ``endorsed`` line whose endorsement does not verify.
    """
    lines = _statements(text)
    if lines and lines[0][1].split()[0] == TRUST_HEADER.split()[0] and lines[0][1] != TRUST_HEADER:
        raise InputError(
            "{}:{}: unsupported trust file header {!r} (expected {!r})".format(
                where, lines[0][0], lines[0][1], TRUST_HEADER
            )
        )
    if not lines or lines[0][1] != TRUST_HEADER:
        try:
            key = minisign.parse_public_key(text, where)
        except InputError as exc:
            raise InputError(
                "{} is neither a trust file (its first line must be {!r}) nor a minisign public key ({})".format(
                    where, TRUST_HEADER, exc.message[len(where) + 1 :]
                ),
                hint="see docs/reference/signatures.md for the trust file format",
            ) from None
        return TrustPolicy(keys=(key,), threshold=1, names=(key.key_id_hex,))
    problems: List[str] = []
    names: List[str] = []
    keys: List[PublicKey] = []
    threshold: Optional[int] = None
    for number, line in lines[1:]:
        fields = line.split()
        here = "{}:{}".format(where, number)
        if fields[0] == "threshold":
            if threshold is not None:
                problems.append("{}: threshold is given twice".format(here))
            threshold = _threshold(fields, here, problems)
        elif fields[0] in ("key", "endorsed"):
            _add_key(fields, here, names, keys, problems, backend)
        else:
            problems.append(
                "{}: unknown statement {!r} (expected threshold, key or endorsed)".format(here, fields[0])
            )
    if not keys and not problems:
        problems.append("{}: lists no key".format(where))
    lineages = len([key for key in keys if not key.endorsed_by])
    if threshold is not None and keys and threshold > lineages:
        problems.append(
            "{}: threshold {} is more than the {} independent keys listed (an endorsed key counts with its "
            "endorser)".format(where, threshold, lineages)
        )
    if problems:
        raise InputError(
            "; ".join(problems), hint="see docs/reference/signatures.md for the trust file format"
        )
    return TrustPolicy(keys=tuple(keys), threshold=threshold or 1, names=tuple(names))


def load_trust(path: Union[str, os.PathLike[str]]) -> TrustPolicy:
    """Read a trust file or a minisign .pub file from ``path``.

    :raises InputError: unreadable or malformed (see :func:`parse_trust`).
    """
    try:
        text = pathlib.Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError("cannot read trust file {}: {}".format(path, exc)) from None
    return parse_trust(text, str(path))


def render_trust(policy: TrustPolicy) -> str:
    """A trust file of the policy: a ``key`` line per key, an ``endorsed`` line (with its endorsement, checked again
    when the file is read) per key endorsed by a key listed above it, so lineages and the threshold mean the same.
    """
    out = [TRUST_HEADER, "threshold {}".format(policy.threshold)]
    names = {
        key.key_id: (policy.names[i] if policy.names else key.key_id_hex) for i, key in enumerate(policy.keys)
    }
    listed: Set[bytes] = set()
    for key in policy.keys:
        endorser = names.get(key.endorsed_by) if key.endorsed_by in listed and key.endorsement else None
        if endorser is not None:
            out.append(_endorsed_line(names[key.key_id], key, endorser, key.endorsement))
        else:
            out.append("key {} {}".format(names[key.key_id], key.to_base64()))
        listed.add(key.key_id)
    return "\n".join(out) + "\n"


def render_endorsement(name: str, new_key: PublicKey, endorser: str, signature_text: str) -> str:
    """The ``endorsed`` trust-file line for ``new_key``, from the endorser's minisign signature file text."""
    token = base64.b64encode(signature_text.encode("utf-8")).decode("ascii")
    return _endorsed_line(name, new_key, endorser, token) + "\n"


def _endorsed_line(name: str, key: PublicKey, endorser: str, token: str) -> str:
    return "endorsed {} {} by {} {}".format(name, key.to_base64(), endorser, token)


def check_signatures(
    manifest: bytes, signatures: Mapping[str, bytes], policy: TrustPolicy, backend: Optional[str] = None
) -> Tuple[SignatureCheck, ...]:
    """Check every signature file (member name -> bytes) against the policy, in member-name order.

    Pure report, no decision: :func:`verify_manifest` decides. Untrusted signatures are not verified (there is no
    key to verify them with).
    """
    counted: Set[bytes] = set()
    checks: List[SignatureCheck] = []
    for member in sorted(signatures):
        check = _check_one(manifest, member, signatures[member], policy, backend)
        key = check.key
        if check.status == VALID and key is not None:
            if key.key_id in counted:
                check = SignatureCheck(member, DUPLICATE, check.key_id_hex, check.trusted_comment, key=key)
            counted.add(key.key_id)
        checks.append(check)
    return tuple(checks)


def verify_manifest(
    manifest: bytes, signatures: Mapping[str, bytes], policy: TrustPolicy, backend: Optional[str] = None
) -> Tuple[PublicKey, ...]:
    """Check the manifest's signatures against the policy; return the trusted keys whose signatures count
    (policy order).

    Every signature is checked before anything is raised, and the message lists every problem. Precedence:

    1. :class:`SignatureMissingError`: no signature file at all;
    2. :class:`SignatureInvalidError`: a malformed signature file, or a signature by a trusted key that does
       not verify (even when other signatures would meet the threshold: tampering is never outvoted);
    3. :class:`UntrustedSignerError`: signatures exist, but none is by a trusted key;
    4. :class:`ThresholdError`: fewer distinct trusted keys signed than ``policy.threshold``.
    """
    if not signatures:
        raise SignatureMissingError(
            "the bundle carries no signature", hint="sign it at build time with --sign-key KEY"
        )
    checks = check_signatures(manifest, signatures, policy, backend)
    bad = [c for c in checks if c.status in (INVALID, MALFORMED)]
    if bad:
        raise SignatureInvalidError("; ".join("{}: {}".format(c.member, c.detail) for c in bad))
    signers = [c.key for c in checks if c.status == VALID and c.key is not None]
    lineages = {policy.lineage(key) for key in signers}
    if not signers:
        raise UntrustedSignerError(
            "no signature is by a trusted key: signed by {}; trusted: {}".format(
                _key_ids(checks), ", ".join(policy.describe(k) for k in policy.keys)
            ),
            hint="if you trust the signer, add its public key to the trust file",
        )
    if len(lineages) < policy.threshold:
        raise ThresholdError(
            "{} distinct trusted signers required, {} found: {}{}{}".format(
                policy.threshold,
                len(lineages),
                ", ".join(policy.describe(k) for k in signers),
                " (keys related by endorsement count once)" if len(lineages) < len(signers) else "",
                _untrusted_note(checks),
            )
        )
    return tuple(k for k in policy.keys if any(k.key_id == s.key_id for s in signers))


def _check_one(
    manifest: bytes, member: str, raw: bytes, policy: TrustPolicy, backend: Optional[str]
) -> SignatureCheck:
    try:
        signature = minisign.parse_signature(raw.decode("utf-8"), member)
    except UnicodeDecodeError:
        return SignatureCheck(member, MALFORMED, detail="{} is not UTF-8 text".format(member))
    except SignatureInvalidError as exc:
        return SignatureCheck(member, MALFORMED, detail=exc.message)
    key = policy.find(signature.key_id)
    if key is None:
        return SignatureCheck(member, UNTRUSTED, signature.key_id_hex, signature.trusted_comment)
    try:
        minisign.verify_signature(manifest, signature, key, backend)
    except SignatureInvalidError as exc:
        return SignatureCheck(member, INVALID, signature.key_id_hex, detail=exc.message, key=key)
    return SignatureCheck(member, VALID, signature.key_id_hex, signature.trusted_comment, key=key)


def _key_ids(checks: Sequence[SignatureCheck]) -> str:
    return ", ".join(sorted({c.key_id_hex for c in checks if c.key_id_hex}))


def _untrusted_note(checks: Sequence[SignatureCheck]) -> str:
    untrusted = sorted({c.key_id_hex for c in checks if c.status == UNTRUSTED})
    return " (also signed by untrusted {})".format(", ".join(untrusted)) if untrusted else ""


def _statements(text: str) -> List[Tuple[int, str]]:
    """(line number, stripped line) of every line that is not blank or a ``#`` comment."""
    found: List[Tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            found.append((number, stripped))
    return found


def _threshold(fields: Sequence[str], here: str, problems: List[str]) -> Optional[int]:
    if len(fields) != 2 or not fields[1].isdigit() or int(fields[1]) < 1:
        problems.append("{}: expected 'threshold N' with N >= 1".format(here))
        return None
    return int(fields[1])


def _add_key(
    fields: Sequence[str],
    here: str,
    names: List[str],
    keys: List[PublicKey],
    problems: List[str],
    backend: Optional[str],
) -> None:
    """Parse a ``key`` or ``endorsed`` line and append its key, or record why it cannot be used."""
    expected = 3 if fields[0] == "key" else 6
    if len(fields) != expected or (fields[0] == "endorsed" and fields[3] != "by"):
        form = (
            "key NAME PUBLIC-KEY"
            if fields[0] == "key"
            else "endorsed NAME PUBLIC-KEY by ENDORSER ENDORSEMENT"
        )
        problems.append("{}: expected '{}'".format(here, form))
        return
    name = fields[1]
    try:
        key = minisign.parse_public_key(fields[2], here)
    except InputError as exc:
        problems.append(exc.message)
        return
    key = minisign.PublicKey(key_id=key.key_id, key=key.key, comment=name)
    if not is_key_name(name) or name in names:
        problems.append(
            "{}: key name {!r} is not a unique name of letters, digits, '.', '_', '@', '-'".format(here, name)
        )
        return
    if any(k.key_id == key.key_id for k in keys):
        problems.append("{}: key {} is listed twice".format(here, key.key_id_hex))
        return
    if fields[0] == "endorsed":
        endorser = dict(zip(names, keys)).get(fields[4])
        if endorser is None:
            problems.append("{}: endorser {!r} is not a key listed above this line".format(here, fields[4]))
            return
        _check_endorsement(key, endorser, fields[5], here, backend)
        key = minisign.PublicKey(
            key_id=key.key_id, key=key.key, comment=name, endorsed_by=endorser.key_id, endorsement=fields[5]
        )
    names.append(name)
    keys.append(key)


def _check_endorsement(
    key: PublicKey, endorser: PublicKey, token: str, here: str, backend: Optional[str]
) -> None:
    """Verify that ``endorser`` signed :func:`endorsement_message` of ``key``."""
    try:
        text = base64.b64decode(token.encode("ascii"), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        raise SignatureInvalidError(
            "{}: the endorsement is not base64 of a minisign signature".format(here)
        ) from None
    signature = minisign.parse_signature(text, "{} (endorsement)".format(here))
    try:
        minisign.verify_signature(endorsement_message(key), signature, endorser, backend)
    except SignatureInvalidError as exc:
        raise SignatureInvalidError(
            "{}: the endorsement of key {} by {} does not verify ({})".format(
                here, key.key_id_hex, endorser.comment or endorser.key_id_hex, exc.message
            ),
            hint="re-create it with `netbundle trust endorse` using the endorser's secret key",
        ) from None


def merge_policies(policies: Sequence[TrustPolicy]) -> TrustPolicy:
    """One policy: every key once (first name wins), the highest threshold.

    :raises ValueError: no policy given.
    """
    if not policies:
        raise ValueError("merge_policies needs at least one policy")
    keys: List[PublicKey] = []
    names: List[str] = []
    for policy in policies:
        for index, key in enumerate(policy.keys):
            if any(known.key_id == key.key_id for known in keys):
                continue
            name = policy.names[index] if policy.names else key.key_id_hex
            if name in names:
                name = "{}-{}".format(name, key.key_id_hex)
            keys.append(key)
            names.append(name)
    threshold = max(policy.threshold for policy in policies)
    return TrustPolicy(keys=tuple(keys), threshold=threshold, names=tuple(names))
