"""Composite ML-DSA-65 + Ed25519 detached signatures."""

from __future__ import annotations

import base64
import json
import pickle  # noqa: S403  the test checks that pickling a key is refused

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dief.crypto import (
    CONTEXT_CSP_SUMMARY,
    CONTEXT_DIGEST,
    SIGNATURE_ALG,
    Signature,
    SigningKey,
    VerifyKey,
    canonical_json,
    key_id,
    sign,
    sign_json,
    verify,
    verify_json,
)
from dief.exceptions import ConfigurationError, SignatureError
from tests.unit.envelope_helpers import signing_key

DOC = {"region": "AFR", "period": "2026-05", "totals": {"cases": 12, "contributors": 4}}


def test_sign_verify_round_trip_and_json_form() -> None:
    key = signing_key(0)
    sig = sign(key, b"payload", context=CONTEXT_DIGEST)
    assert verify(key.verify_key, b"payload", sig, context=CONTEXT_DIGEST) == key.verify_key
    parsed = json.loads(sig.to_json())
    assert set(parsed) == {"alg", "kid", "mldsa65", "ed25519"}
    assert parsed["alg"] == SIGNATURE_ALG
    assert parsed["kid"] == key.kid
    assert len(base64.urlsafe_b64decode(parsed["mldsa65"] + "==")) == 3309
    assert len(base64.urlsafe_b64decode(parsed["ed25519"] + "==")) == 64
    again = Signature.from_json(sig.to_json())
    assert again == sig
    assert Signature.from_mapping(parsed) == sig
    verify(key.verify_key, b"payload", again, context=CONTEXT_DIGEST)


def test_kid_covers_both_public_keys() -> None:
    key = signing_key(0)
    raw = key.verify_key.public_bytes()
    assert len(raw) == 1952 + 32
    assert key.kid == key_id(raw)
    assert VerifyKey(raw) == key.verify_key


def test_json_documents_verify_in_any_key_order() -> None:
    key = signing_key(0)
    sig = sign_json(key, DOC, context=CONTEXT_CSP_SUMMARY)
    reordered = json.loads(json.dumps(DOC, sort_keys=False))
    reordered = dict(reversed(list(reordered.items())))
    verify_json([key.verify_key], reordered, sig, context=CONTEXT_CSP_SUMMARY)
    with pytest.raises(SignatureError):
        verify_json(
            [key.verify_key], {**DOC, "period": "2026-06"}, sig, context=CONTEXT_CSP_SUMMARY
        )


def test_context_separates_kinds_of_document() -> None:
    key = signing_key(0)
    sig = sign(key, canonical_json(DOC), context=CONTEXT_DIGEST)
    with pytest.raises(SignatureError):
        verify(key.verify_key, canonical_json(DOC), sig, context=CONTEXT_CSP_SUMMARY)


def _with(sig: Signature, **changes: str) -> Signature:
    return sig.model_copy(update=changes)


def _other_sig(payload: bytes) -> Signature:
    return signing_key(1).sign(payload)


@pytest.mark.parametrize("broken", ["mldsa65", "ed25519"])
def test_both_signatures_are_required(broken: str) -> None:
    """Replacing either half with a valid signature of another key still fails."""
    key = signing_key(0)
    sig = key.sign(b"x")
    foreign = _other_sig(b"x")
    forged = _with(sig, **{broken: getattr(foreign, broken)})
    with pytest.raises(SignatureError):
        verify(key.verify_key, b"x", forged)
    with pytest.raises(SignatureError):
        verify(key.verify_key, b"x", _with(sig, **{broken: ""}))


def test_unknown_or_mismatched_kid_fails() -> None:
    key, other = signing_key(0), signing_key(1)
    sig = key.sign(b"x")
    with pytest.raises(SignatureError):
        verify([other.verify_key], b"x", sig)
    with pytest.raises(SignatureError):
        other.verify_key.verify(b"x", sig)
    assert (
        verify({key.kid: key.verify_key, other.kid: other.verify_key}, b"x", sig) == key.verify_key
    )


@settings(max_examples=60, deadline=None)
@given(payload=st.binary(max_size=64), index=st.integers(min_value=0), bit=st.integers(0, 7))
def test_any_bit_flip_of_the_payload_fails(payload: bytes, index: int, bit: int) -> None:
    key = signing_key(0)
    sig = key.sign(payload)
    verify(key.verify_key, payload, sig)
    if not payload:
        payload, flipped = b"", b"\x00"
    else:
        changed = bytearray(payload)
        changed[index % len(payload)] ^= 1 << bit
        flipped = bytes(changed)
    with pytest.raises(SignatureError):
        verify(key.verify_key, flipped, sig)


@pytest.mark.parametrize(
    "text",
    [
        "{}",
        "not json",
        '{"alg": "Ed25519", "kid": "aaaaaaaaaaaaaaaaaaaa", "mldsa65": "", "ed25519": ""}',
        '{"alg": "MLDSA65+Ed25519", "kid": "BAD", "mldsa65": "", "ed25519": ""}',
        '{"alg": "MLDSA65+Ed25519", "kid": "aaaaaaaaaaaaaaaaaaaa", "mldsa65": "**", "ed25519": ""}',
    ],
)
def test_malformed_signature_objects(text: str) -> None:
    with pytest.raises(SignatureError):
        Signature.from_json(text)


def test_bad_context_is_refused() -> None:

    with pytest.raises(ConfigurationError):
        signing_key(0).sign(b"x", context="")
    with pytest.raises(ConfigurationError):
        signing_key(0).sign(b"x", context="a\x00b")


def test_keys_round_trip_and_hide_material() -> None:
    key = signing_key(0)
    again = SigningKey(key.secret_bytes())
    assert again.kid == key.kid
    verify(key.verify_key, b"m", again.sign(b"m"))
    secret = key.secret_bytes()
    for obj in (key, key.verify_key, key.sign(b"m")):
        text = repr(obj) + str(obj)
        assert secret.hex() not in text
        assert secret[:8].hex() not in text
        assert base64.urlsafe_b64encode(secret[:9]).decode() not in text
    assert key.kid in repr(key)
    with pytest.raises(TypeError):
        pickle.dumps(key)
