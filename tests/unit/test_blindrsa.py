"""RFC 9474 blind RSA: every Appendix A test vector, byte for byte, and the attacks on the
protocol's steps (a tampered blind signature, a faulty signer, out-of-range inputs)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

import dief.crypto._blindrsa as module
from dief.crypto import (
    BLIND_RSA_VARIANTS,
    RSABSSA_SHA384_PSS_DETERMINISTIC,
    RSABSSA_SHA384_PSS_RANDOMIZED,
    RSABSSA_SHA384_PSSZERO_DETERMINISTIC,
    RSABSSA_SHA384_PSSZERO_RANDOMIZED,
    BlindRsaVariant,
)
from dief.crypto._blindrsa import emsa_pss_encode
from dief.exceptions import CredentialError

VECTORS_FILE = Path(__file__).parent / "vectors" / "rfc9474.json"
VECTORS: list[dict[str, Any]] = json.loads(VECTORS_FILE.read_text())["vectors"]


def _int(text: str) -> int:
    return int(text, 16)


def _bytes(text: str) -> bytes:
    return bytes.fromhex(text)


@cache
def _private_key(p: str, q: str, d: str, e: str) -> rsa.RSAPrivateKey:
    pi, qi, di, ei = _int(p), _int(q), _int(d), _int(e)
    numbers = rsa.RSAPrivateNumbers(
        p=pi,
        q=qi,
        d=di,
        dmp1=rsa.rsa_crt_dmp1(di, pi),
        dmq1=rsa.rsa_crt_dmq1(di, qi),
        iqmp=rsa.rsa_crt_iqmp(pi, qi),
        public_numbers=rsa.RSAPublicNumbers(ei, pi * qi),
    )
    return numbers.private_key()


def _key(vector: dict[str, Any]) -> rsa.RSAPrivateKey:
    key = _private_key(vector["p"], vector["q"], vector["d"], vector["e"])
    assert key.public_key().public_numbers().n == _int(vector["n"])
    return key


def _inv(vector: dict[str, Any]) -> bytes:
    return _int(vector["inv"]).to_bytes(len(vector["blinded_msg"]) // 2, "big")


def _r(vector: dict[str, Any]) -> int:
    return pow(_int(vector["inv"]), -1, _int(vector["n"]))


def test_the_vector_file_has_every_variant_once() -> None:
    assert sorted(v["name"] for v in VECTORS) == sorted(BLIND_RSA_VARIANTS)
    assert len(VECTORS) == 4


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_rfc9474_vector_byte_for_byte(vector: dict[str, Any]) -> None:
    variant = BLIND_RSA_VARIANTS[vector["name"]]
    assert variant.salt_length == _int(vector["sLen"])
    assert variant.randomized == (_int(vector["is_randomized"]) == 1)
    key = _key(vector)
    public = key.public_key()
    msg = _bytes(vector["msg"])
    prefix = _bytes(vector["msg_prefix"]) if variant.randomized else None

    input_msg = variant.prepare(msg, prefix=prefix)
    assert input_msg == _bytes(vector["input_msg"])

    salt = _bytes(vector["salt"])
    if "encoded_msg" in vector:
        em_bits = public.key_size - 1
        assert emsa_pss_encode(input_msg, em_bits, salt) == _bytes(vector["encoded_msg"])

    blinded = variant.blind(public, input_msg, salt=salt, r=_r(vector))
    assert blinded.blinded_msg == _bytes(vector["blinded_msg"])
    assert blinded.inv == _inv(vector)

    blind_sig = variant.blind_sign(key, blinded.blinded_msg)
    assert blind_sig == _bytes(vector["blind_sig"])

    sig = variant.finalize(public, input_msg, blind_sig, blinded.inv)
    assert sig == _bytes(vector["sig"])
    variant.verify(public, input_msg, sig)
    assert variant.is_valid(public, input_msg, sig)


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_rfc9474_signature_is_standard_rsa_pss(vector: dict[str, Any]) -> None:
    """The final signature verifies with ``cryptography``'s own RSA-PSS (no blind code)."""
    variant = BLIND_RSA_VARIANTS[vector["name"]]
    public = _key(vector).public_key()
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=variant.salt_length)
    message = _bytes(vector["input_msg"])
    public.verify(_bytes(vector["sig"]), message, pss, hashes.SHA384())  # raises if not
    # the same check refuses the signature over any other message
    with pytest.raises(InvalidSignature):
        public.verify(_bytes(vector["sig"]), message + b"!", pss, hashes.SHA384())


def test_random_round_trip_for_every_variant() -> None:
    key = _key(VECTORS[0])
    public = key.public_key()
    for variant in BLIND_RSA_VARIANTS.values():
        input_msg = variant.prepare(b"hello")
        assert len(input_msg) == len(b"hello") + (32 if variant.randomized else 0)
        blinded = variant.blind(public, input_msg)
        sig = variant.finalize(
            public, input_msg, variant.blind_sign(key, blinded.blinded_msg), blinded.inv
        )
        variant.verify(public, input_msg, sig)
        assert not variant.is_valid(public, input_msg + b"!", sig)


def test_tampered_blind_signature_is_caught_by_finalize() -> None:
    vector = VECTORS[0]
    variant = RSABSSA_SHA384_PSS_RANDOMIZED
    public = _key(vector).public_key()
    good = bytearray(_bytes(vector["blind_sig"]))
    good[-1] ^= 0x01
    with pytest.raises(CredentialError) as caught:
        variant.finalize(public, _bytes(vector["input_msg"]), bytes(good), _inv(vector))
    assert caught.value.code == "bad_signature"


def test_blind_signature_of_the_wrong_length_is_refused() -> None:
    vector = VECTORS[0]
    public = _key(vector).public_key()
    with pytest.raises(CredentialError) as caught:
        RSABSSA_SHA384_PSS_RANDOMIZED.finalize(
            public,
            _bytes(vector["input_msg"]),
            _bytes(vector["blind_sig"])[1:],
            _inv(vector),
        )
    assert caught.value.code == "bad_signature"


def test_signer_refuses_a_message_not_below_the_modulus() -> None:
    vector = VECTORS[0]
    key = _key(vector)
    n = _int(vector["n"])
    too_big = (n + 1).to_bytes(512, "big")
    with pytest.raises(CredentialError) as caught:
        RSABSSA_SHA384_PSS_RANDOMIZED.blind_sign(key, too_big)
    assert caught.value.code == "bad_request"
    with pytest.raises(CredentialError):
        RSABSSA_SHA384_PSS_RANDOMIZED.blind_sign(key, b"\x01" * 511)


def test_a_faulty_signature_is_never_answered(monkeypatch: pytest.MonkeyPatch) -> None:
    """RFC 9474 §4.3: a fault in the private operation (e.g. one CRT half) would leak a factor
    of n; the signer checks the result verifies and refuses to answer otherwise."""
    vector = VECTORS[0]
    key = _key(vector)
    real = module._rsasp1

    def faulty(numbers: rsa.RSAPrivateNumbers, m: int) -> int:
        return (real(numbers, m) + 1) % numbers.public_numbers.n

    monkeypatch.setattr(module, "_rsasp1", faulty)
    with pytest.raises(CredentialError) as caught:
        RSABSSA_SHA384_PSS_RANDOMIZED.blind_sign(key, _bytes(vector["blinded_msg"]))
    assert caught.value.code == "signing_failure"


def test_blinding_factor_must_be_invertible_and_in_range() -> None:
    vector = VECTORS[0]
    public = _key(vector).public_key()
    input_msg = _bytes(vector["input_msg"])
    for bad in (0, _int(vector["n"]), _int(vector["p"])):
        with pytest.raises(CredentialError):
            RSABSSA_SHA384_PSS_RANDOMIZED.blind(public, input_msg, r=bad)


def test_salt_and_prefix_lengths_are_checked() -> None:
    public = _key(VECTORS[0]).public_key()
    with pytest.raises(CredentialError):
        RSABSSA_SHA384_PSS_RANDOMIZED.prepare(b"m", prefix=b"short")
    with pytest.raises(CredentialError):
        RSABSSA_SHA384_PSS_DETERMINISTIC.prepare(b"m", prefix=b"\x00" * 32)
    with pytest.raises(CredentialError):
        RSABSSA_SHA384_PSS_RANDOMIZED.blind(public, b"m" * 40, salt=b"\x00" * 47)
    with pytest.raises(CredentialError):
        RSABSSA_SHA384_PSSZERO_RANDOMIZED.blind(public, b"m" * 40, salt=b"\x00")


def test_variants_by_name() -> None:
    assert BLIND_RSA_VARIANTS["RSABSSA-SHA384-PSSZERO-Deterministic"] is (
        RSABSSA_SHA384_PSSZERO_DETERMINISTIC
    )
    assert isinstance(RSABSSA_SHA384_PSS_RANDOMIZED, BlindRsaVariant)
    blinded = RSABSSA_SHA384_PSS_RANDOMIZED.blind(_key(VECTORS[0]).public_key(), b"x")
    assert blinded.inv.hex() not in repr(blinded)
