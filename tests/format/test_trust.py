"""Trust files (keys, names, threshold, endorsements) and the verification precedence, on both backends."""

from __future__ import annotations

import base64
from dataclasses import replace
from pathlib import Path

import pytest
from tests.support.minisign_keys import (
    MINISIGN_KEY_ID_HEX,
    MINISIGN_PUB,
    fixed_key,
    flip_base64_line,
    legacy_signature,
    public,
    signature_bytes,
)

from netbundle.bundle.signing import SecretKey, endorse
from netbundle.errors import (
    InputError,
    SignatureInvalidError,
    SignatureMissingError,
    ThresholdError,
    UntrustedSignerError,
)
from netbundle.format import ed25519, trust
from netbundle.format.trust import TrustPolicy

backends = pytest.mark.parametrize("backend", ed25519.BACKENDS)
MANIFEST = b'{"format": 1, "project": "sample", "version": "1.0.0"}\n'
A, B, C, D, OUTSIDER = fixed_key(1), fixed_key(2), fixed_key(3), fixed_key(4), fixed_key(9)


def key_line(name: str, n: int) -> str:
    return f"key {name} {public(fixed_key(n)).to_base64()}"


def trust_file(*lines: str, threshold: int | None = None) -> str:
    head = ["# test trust file", trust.TRUST_HEADER, ""]
    if threshold is not None:
        head.append(f"threshold {threshold}")
    return "\n".join(head + list(lines)) + "\n"


def endorsed_line(name: str, new: int, by: str, endorser: int) -> str:
    return endorse(public(fixed_key(new)), fixed_key(endorser), name=name, endorser_name=by).rstrip("\n")


def policy(*keys: int, threshold: int = 1) -> TrustPolicy:
    return TrustPolicy(
        keys=tuple(public(fixed_key(n), f"k{n}") for n in keys),
        threshold=threshold,
        names=tuple(f"k{n}" for n in keys),
    )


def signed_by(*keys: SecretKey, data: bytes = MANIFEST) -> dict[str, bytes]:
    """Signature members by these secret keys, named as a bundle names them."""
    return {f"netbundle/signatures/{k.key_id_hex}.minisig": signature_bytes(data, k) for k in keys}


# --- trust files ---------------------------------------------------------------------------------------------


def test_trust_file_with_names_and_threshold() -> None:
    parsed = trust.parse_trust(
        trust_file(key_line("release", 1), key_line("ci", 2), threshold=2), "trust.txt"
    )
    assert parsed.threshold == 2
    assert parsed.names == ("release", "ci")
    assert [k.key_id for k in parsed.keys] == [A.key_id, B.key_id]
    assert parsed.describe(parsed.keys[1]) == f"ci ({B.key_id_hex})"
    assert parsed.describe(public(OUTSIDER)) == OUTSIDER.key_id_hex


def test_threshold_defaults_to_one() -> None:
    assert trust.parse_trust(trust_file(key_line("release", 1)), "t").threshold == 1


def test_a_minisign_pub_file_is_a_one_key_policy() -> None:
    parsed = trust.parse_trust(MINISIGN_PUB, "minisign.pub")
    assert parsed.threshold == 1
    assert parsed.names == (MINISIGN_KEY_ID_HEX,)
    assert parsed.keys[0].key_id_hex == MINISIGN_KEY_ID_HEX


def test_render_trust_round_trips() -> None:
    original = trust.parse_trust(trust_file(key_line("a", 1), key_line("b", 2), threshold=2), "t")
    assert trust.parse_trust(trust.render_trust(original), "t") == original


@pytest.mark.parametrize(
    ("lines", "problem"),
    [
        (["key release"], "t.txt:4: expected 'key NAME PUBLIC-KEY'"),
        (["key release not-a-key"], "t.txt:4 is not a minisign"),
        (["trust release " + public(A).to_base64()], "t.txt:4: unknown statement 'trust'"),
        (["threshold two", key_line("a", 1)], "t.txt:4: expected 'threshold N' with N >= 1"),
        (["threshold 0", key_line("a", 1)], "t.txt:4: expected 'threshold N'"),
        (["threshold 1", "threshold 1", key_line("a", 1)], "t.txt:5: threshold is given twice"),
        ([key_line("a", 1), key_line("a", 2)], "t.txt:5: key name 'a' is not a unique name"),
        ([key_line("-bad", 1)], "t.txt:4: key name '-bad'"),
        ([key_line("a", 1), key_line("b", 1)], f"t.txt:5: key {A.key_id_hex} is listed twice"),
        (["threshold 3", key_line("a", 1), key_line("b", 2)], "threshold 3 is more than the 2 independent keys"),
        (["# nothing"], "t.txt: lists no key"),
        (["endorsed b " + public(B).to_base64() + " from a xyz", key_line("a", 1)], "t.txt:4: expected 'endorsed"),
    ],
    ids=["key fields", "bad key", "unknown statement", "threshold word", "threshold zero", "threshold twice",
         "duplicate name", "bad name", "duplicate key", "threshold too high", "no key", "endorsed fields"],
)  # fmt: skip
def test_malformed_trust_files_name_the_line(lines: list[str], problem: str) -> None:
    with pytest.raises(InputError, match=problem.replace("(", r"\(")) as caught:
        trust.parse_trust(trust_file(*lines), "t.txt")
    assert "docs/reference/signatures.md" in (caught.value.hint or "")


def test_every_problem_of_a_trust_file_is_reported_at_once() -> None:
    with pytest.raises(InputError) as caught:
        trust.parse_trust(trust_file("bogus", key_line("a", 1), "key a"), "t.txt")
    assert "t.txt:4: unknown statement" in caught.value.message
    assert "t.txt:6: expected 'key NAME PUBLIC-KEY'" in caught.value.message


def test_a_newer_trust_file_version_is_refused_with_its_line() -> None:
    with pytest.raises(InputError, match=r"t.txt:2: unsupported trust file header 'netbundle-trust 2'"):
        trust.parse_trust("# new\nnetbundle-trust 2\n" + key_line("a", 1), "t.txt")


def test_a_file_that_is_neither_is_refused_as_a_public_key() -> None:
    with pytest.raises(
        InputError,
        match=r"t.txt is neither a trust file .* nor a minisign public key \(is not a minisign Ed25519",
    ):
        trust.parse_trust("key a b\n", "t.txt")


def test_load_trust_names_an_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"cannot read trust file .*missing\.txt"):
        trust.load_trust(f"{tmp_path}/missing.txt")


def test_policy_invariants() -> None:
    with pytest.raises(ValueError, match="each key once"):
        TrustPolicy(keys=(public(A), public(A)))
    with pytest.raises(ValueError, match="one name per key"):
        TrustPolicy(keys=(public(A),), names=("a", "b"))
    with pytest.raises(ValueError, match="threshold 2 does not fit 1 keys"):
        TrustPolicy(keys=(public(A),), threshold=2)


# --- endorsements (key rotation) -----------------------------------------------------------------------------


@backends
def test_a_valid_endorsement_adds_the_key_in_the_endorsers_lineage(backend: str) -> None:
    text = trust_file(key_line("old", 1), endorsed_line("new", 2, "old", 1))
    parsed = trust.parse_trust(text, "t.txt", backend)
    assert parsed.names == ("old", "new")
    assert parsed.keys[1].endorsed_by == A.key_id
    assert parsed.lineage(parsed.keys[1]) == A.key_id
    assert parsed.lineage(parsed.keys[0]) == A.key_id


@backends
def test_endorsements_chain(backend: str) -> None:
    text = trust_file(key_line("k1", 1), endorsed_line("k2", 2, "k1", 1), endorsed_line("k3", 3, "k2", 2))
    parsed = trust.parse_trust(text, "t.txt", backend)
    assert parsed.lineage(parsed.keys[2]) == A.key_id


@backends
def test_a_rendered_policy_keeps_its_endorsements_and_lineages(backend: str) -> None:
    """What build-pyz embeds: an endorsed key must not become a lineage of its own (threshold 2 would then be met
    by one key holder's two keys)."""
    text = trust_file(
        key_line("k1", 1), endorsed_line("k2", 2, "k1", 1), endorsed_line("k3", 3, "k2", 2), key_line("other", 4),
        threshold=2,
    )  # fmt: skip
    parsed = trust.parse_trust(text, "t.txt", backend)
    rendered = trust.render_trust(parsed)
    assert [line.split()[0] for line in rendered.splitlines()[2:]] == ["key", "endorsed", "endorsed", "key"]
    again = trust.parse_trust(rendered, "embedded", backend)  # the endorsements are checked again
    assert again == parsed
    assert [again.lineage(k) for k in again.keys] == [A.key_id, A.key_id, A.key_id, D.key_id]


@backends
def test_an_endorsement_by_another_key_does_not_verify(backend: str) -> None:
    forged = endorsed_line("new", 2, "old", 1).replace(
        endorsed_line("new", 2, "old", 1).split()[-1], endorsed_line("new", 2, "old", 3).split()[-1]
    )
    with pytest.raises(SignatureInvalidError, match=r"t.txt:5: .*endorsement"):
        trust.parse_trust(trust_file(key_line("old", 1), forged), "t.txt", backend)


@backends
def test_an_endorsement_of_another_key_does_not_verify(backend: str) -> None:
    """The endorsement signs the endorsed key: it cannot be moved to another key."""
    line = endorsed_line("new", 2, "old", 1).replace(public(B).to_base64(), public(C).to_base64())
    with pytest.raises(
        SignatureInvalidError, match=f"endorsement of key {C.key_id_hex} by old does not verify"
    ):
        trust.parse_trust(trust_file(key_line("old", 1), line), "t.txt", backend)


@backends
def test_a_tampered_endorsement_does_not_verify(backend: str) -> None:
    line = endorsed_line("new", 2, "old", 1)
    token = line.split()[-1]
    signature_text = base64.b64decode(token).decode()
    tampered = base64.b64encode(flip_base64_line(signature_text, 1, 30).encode()).decode()
    with pytest.raises(SignatureInvalidError, match="does not verify"):
        trust.parse_trust(trust_file(key_line("old", 1), line.replace(token, tampered)), "t.txt", backend)


@pytest.mark.parametrize(
    ("token", "problem"),
    [
        ("!!!", "not base64 of a minisign signature"),
        (base64.b64encode(b"hello").decode(), "not a minisign signature"),
    ],
)
def test_an_endorsement_that_is_not_a_signature_is_refused(token: str, problem: str) -> None:
    line = f"endorsed new {public(B).to_base64()} by old {token}"
    with pytest.raises(SignatureInvalidError, match=problem):
        trust.parse_trust(trust_file(key_line("old", 1), line), "t.txt")


def test_the_endorser_must_be_listed_above() -> None:
    text = trust_file(endorsed_line("new", 2, "old", 1), key_line("old", 1))
    with pytest.raises(InputError, match=r"t.txt:4: endorser 'old' is not a key listed above this line"):
        trust.parse_trust(text, "t.txt")


def test_an_unknown_endorser_is_refused() -> None:
    text = trust_file(key_line("old", 1), endorsed_line("new", 2, "ghost", 3))
    with pytest.raises(InputError, match="endorser 'ghost' is not a key listed"):
        trust.parse_trust(text, "t.txt")


def test_a_bundle_signature_is_not_an_endorsement() -> None:
    """The endorsement message has its own context line, so a signature over other data never passes."""
    token = base64.b64encode(signature_bytes(public(B).to_base64().encode() + b"\n", A)).decode()
    line = f"endorsed new {public(B).to_base64()} by old {token}"
    with pytest.raises(SignatureInvalidError, match="does not verify"):
        trust.parse_trust(trust_file(key_line("old", 1), line), "t.txt")


def test_threshold_counts_lineages_when_parsing() -> None:
    text = trust_file(key_line("old", 1), endorsed_line("new", 2, "old", 1), threshold=2)
    with pytest.raises(InputError, match="threshold 2 is more than the 1 independent keys"):
        trust.parse_trust(text, "t.txt")


# --- verification precedence ---------------------------------------------------------------------------------


@backends
def test_one_trusted_signature_verifies(backend: str) -> None:
    assert trust.verify_manifest(MANIFEST, signed_by(A), policy(1, 2), backend) == (public(A, "k1"),)


@backends
def test_signers_are_returned_in_policy_order(backend: str) -> None:
    signers = trust.verify_manifest(MANIFEST, signed_by(B, A, OUTSIDER), policy(1, 2, threshold=2), backend)
    assert [k.key_id for k in signers] == [A.key_id, B.key_id]


def test_no_signature_is_missing() -> None:
    with pytest.raises(SignatureMissingError, match="carries no signature") as caught:
        trust.verify_manifest(MANIFEST, {}, policy(1))
    assert caught.value.exit_code == 12


@backends
def test_a_changed_manifest_is_invalid(backend: str) -> None:
    with pytest.raises(SignatureInvalidError, match="does not verify") as caught:
        trust.verify_manifest(MANIFEST + b" ", signed_by(A), policy(1), backend)
    assert caught.value.exit_code == 13


@backends
def test_tampering_is_never_outvoted(backend: str) -> None:
    """One bad signature by a trusted key fails verification even when the others meet the threshold."""
    signatures = signed_by(A, B)
    signatures.update(signed_by(C, data=b"another manifest"))
    with pytest.raises(SignatureInvalidError, match=C.key_id_hex):
        trust.verify_manifest(MANIFEST, signatures, policy(1, 2, 3), backend)


@pytest.mark.parametrize("raw", [b"\xff\xfe not utf-8", b"untrusted comment: x\ngarbage\n"])
def test_a_malformed_signature_file_is_invalid(raw: bytes) -> None:
    signatures = {**signed_by(A), "netbundle/signatures/0000000000000000.minisig": raw}
    with pytest.raises(SignatureInvalidError, match=r"0000000000000000\.minisig"):
        trust.verify_manifest(MANIFEST, signatures, policy(1))


@backends
def test_a_legacy_signature_by_a_trusted_key_is_invalid(backend: str) -> None:
    signatures = {"netbundle/signatures/legacy.minisig": legacy_signature(MANIFEST, A)}
    with pytest.raises(SignatureInvalidError, match="legacy non-prehashed"):
        trust.verify_manifest(MANIFEST, signatures, policy(1), backend)


@backends
def test_only_untrusted_signers(backend: str) -> None:
    with pytest.raises(UntrustedSignerError, match=f"signed by {OUTSIDER.key_id_hex}; trusted: k1") as caught:
        trust.verify_manifest(MANIFEST, signed_by(OUTSIDER), policy(1), backend)
    assert caught.value.exit_code == 14
    assert caught.value.hint


@backends
def test_threshold_two_with_one_signer(backend: str) -> None:
    with pytest.raises(ThresholdError, match=r"2 distinct trusted signers required, 1 found: k1 \(.*\) \(also signed by untrusted") as caught:  # fmt: skip
        trust.verify_manifest(MANIFEST, signed_by(A, OUTSIDER), policy(1, 2, threshold=2), backend)
    assert caught.value.exit_code == 15


@backends
def test_a_second_signature_by_the_same_key_counts_once(backend: str) -> None:
    signatures = {
        "netbundle/signatures/a.minisig": signature_bytes(MANIFEST, A, "first"),
        "netbundle/signatures/b.minisig": signature_bytes(MANIFEST, A, "second"),
    }
    checks = trust.check_signatures(MANIFEST, signatures, policy(1, 2), backend)
    assert [c.status for c in checks] == [trust.VALID, trust.DUPLICATE]
    with pytest.raises(ThresholdError, match="1 found"):
        trust.verify_manifest(MANIFEST, signatures, policy(1, 2, threshold=2), backend)


@backends
def test_an_endorsed_key_and_its_endorser_count_once(backend: str) -> None:
    text = trust_file(
        key_line("old", 1), key_line("other", 3), endorsed_line("new", 2, "old", 1), threshold=2
    )
    parsed = trust.parse_trust(text, "t.txt", backend)
    with pytest.raises(ThresholdError, match="keys related by endorsement count once"):
        trust.verify_manifest(MANIFEST, signed_by(A, B), parsed, backend)
    signers = trust.verify_manifest(MANIFEST, signed_by(B, C), parsed, backend)
    assert [k.comment for k in signers] == ["other", "new"]


@backends
def test_check_signatures_reports_each_file(backend: str) -> None:
    signatures = {
        **signed_by(A),
        **signed_by(OUTSIDER),
        "netbundle/signatures/bad.minisig": signature_bytes(b"other", B),
        "netbundle/signatures/junk.minisig": b"junk",
    }
    checks = {
        c.member.rsplit("/", 1)[1]: c
        for c in trust.check_signatures(MANIFEST, signatures, policy(1, 2), backend)
    }
    assert checks[f"{A.key_id_hex}.minisig"].status == trust.VALID
    assert checks[f"{A.key_id_hex}.minisig"].trusted_comment == "bundle test"
    assert checks[f"{OUTSIDER.key_id_hex}.minisig"].status == trust.UNTRUSTED
    assert checks["bad.minisig"].status == trust.INVALID
    assert checks["junk.minisig"].status == trust.MALFORMED


def test_lineage_stops_at_an_endorser_outside_the_policy() -> None:
    orphan = replace(public(B), endorsed_by=OUTSIDER.key_id)
    assert TrustPolicy(keys=(orphan,)).lineage(orphan) == B.key_id
