"""Both KEM suites against published vectors (DESIGN §3 ⚑).

``cryptography``'s encapsulation is randomised, so the vectors check key derivation,
decapsulation, the HPKE key schedule and opening (files and sources in ``vectors/``):

* **X-Wing** (``MLKEM768X25519-HKDFSHA256-AES256GCM``, KEM 0x647A): the X-Wing draft's
  vectors — our private form from the 32-byte seed (``SHAKE256(seed, 96)``, the draft's
  ``expandDecapsulationKey``) gives the vector's public key; decapsulating the vector's
  ciphertext gives its shared secret; an HPKE open through the DIEF suite of a message
  sealed under that shared secret succeeds. The HPKE PQ draft's vector (KEM 0x647A,
  HKDF-SHA256, ChaCha20-Poly1305): key, decapsulation, key schedule and its encryptions
  opened by ``cryptography``.
* **X25519** (``X25519-HKDFSHA256-AES256GCM``, KEM 0x0020): RFC 9180 A.1.1 (the same KEM and
  KDF with AES-128-GCM; the RFC has no AES-256-GCM vector for this KEM): key pair from
  ``ikmR``, decapsulation, key schedule, its encryptions opened by ``cryptography``, then an
  open through the DIEF suite and a whole DIEF envelope opened with the vector's key.

The key schedule below (RFC 9180 §5.1, base mode) is first checked against the vectors' own
``key`` and ``base_nonce``, so what it derives for AES-256-GCM can be trusted.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import uuid
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric import mlkem, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from dief.crypto import KemPrivateKey, Opener, hpke_info, key_id
from dief.crypto.keys import hpke_suite
from dief.wire import CASE_SCHEMA_VERSION, SUITE_HYBRID, SUITE_X25519, TYPE_CASE
from tests.unit.envelope_helpers import b64, pad_case, reference_seal

VECTORS = Path(__file__).parent / "vectors"
XWING_LABEL = bytes.fromhex("5c2e2f2f5e5c")  # the draft's "\.//^\"
KEM_XWING, KEM_X25519, KDF_HKDF_SHA256, AEAD_AES_128, AEAD_AES_256, AEAD_CHACHA = (
    0x647A,
    0x0020,
    0x0001,
    0x0001,
    0x0002,
    0x0003,
)
AEAD_KEY_LEN = {AEAD_AES_128: 16, AEAD_AES_256: 32, AEAD_CHACHA: 32}
INFO = hpke_info(TYPE_CASE, "AFR")


def load(name: str) -> Any:  # noqa: ANN401  a JSON document or an untyped library object, as the test builds it
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


def h(text: str) -> bytes:
    return bytes.fromhex(text)


# -- RFC 9180 labelled HKDF-SHA256 and the base-mode key schedule ------------------------------


def _hmac(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.sha256).digest()


def labeled_extract(suite_id: bytes, salt: bytes, label: bytes, ikm: bytes) -> bytes:
    return _hmac(salt or b"\x00" * 32, b"HPKE-v1" + suite_id + label + ikm)


def labeled_expand(suite_id: bytes, prk: bytes, label: bytes, info: bytes, length: int) -> bytes:
    labeled = length.to_bytes(2, "big") + b"HPKE-v1" + suite_id + label + info
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = _hmac(prk, block + labeled + bytes([counter]))
        out, counter = out + block, counter + 1
    return out[:length]


def hpke_suite_id(kem: int, kdf: int, aead: int) -> bytes:
    return b"HPKE" + kem.to_bytes(2, "big") + kdf.to_bytes(2, "big") + aead.to_bytes(2, "big")


def key_schedule(kem: int, aead: int, shared_secret: bytes, info: bytes) -> tuple[bytes, bytes]:
    """RFC 9180 §5.1, base mode, HKDF-SHA256: (key, base_nonce)."""
    sid = hpke_suite_id(kem, KDF_HKDF_SHA256, aead)
    context = (
        b"\x00"
        + labeled_extract(sid, b"", b"psk_id_hash", b"")
        + labeled_extract(sid, b"", b"info_hash", info)
    )
    secret = labeled_extract(sid, shared_secret, b"secret", b"")
    key = labeled_expand(sid, secret, b"key", context, AEAD_KEY_LEN[aead])
    return key, labeled_expand(sid, secret, b"base_nonce", context, 12)


def sealed_under(kem: int, shared_secret: bytes, enc: bytes, plaintext: bytes) -> bytes:
    """``enc ‖ ct`` of a DIEF-suite (AES-256-GCM) single-shot seal whose KEM produced
    *shared_secret* with *enc*: what an HPKE implementation must open."""
    key, nonce = key_schedule(kem, AEAD_AES_256, shared_secret, INFO)
    return enc + AESGCM(key).encrypt(nonce, plaintext, b"")


def dief_envelope(key: KemPrivateKey, wrapped: bytes, dek: bytes, payload: bytes) -> bytes:
    recipients = [{"kid": key.kid, "wrapped": b64(wrapped)}]
    return reference_seal(
        pad_case(payload),
        dek=dek,
        recipients=recipients,
        suite=key.suite,
        schema=CASE_SCHEMA_VERSION,
        record_id=str(uuid.uuid4()),
    )


# -- X-Wing ------------------------------------------------------------------------------------


def xwing_decapsulate(expanded: bytes, public: bytes, ct: bytes) -> bytes:
    """X-Wing ``Decapsulate`` from the draft, on the expanded key (our private form)."""
    ss_m = mlkem.MLKEM768PrivateKey.from_seed_bytes(expanded[:64]).decapsulate(ct[:1088])
    ct_x = ct[1088:]
    dh = x25519.X25519PrivateKey.from_private_bytes(expanded[64:])
    ss_x = dh.exchange(x25519.X25519PublicKey.from_public_bytes(ct_x))
    return hashlib.sha3_256(ss_m + ss_x + ct_x + public[1184:] + XWING_LABEL).digest()


XWING = load("xwing-draft-connolly.json")["vectors"]


@pytest.mark.parametrize("vector", XWING, ids=lambda v: v["seed"][:8])
def test_xwing_key_from_the_seed_gives_the_vectors_public_key(vector: dict[str, str]) -> None:
    key = KemPrivateKey.from_xwing_seed(h(vector["seed"]))
    assert key.suite == SUITE_HYBRID
    assert key.secret_bytes() == hashlib.shake_256(h(vector["seed"])).digest(96)
    assert key.public_key.public_bytes() == h(vector["pk"])
    assert key.kid == key_id(h(vector["pk"]))
    assert KemPrivateKey(SUITE_HYBRID, key.secret_bytes()).kid == key.kid


@pytest.mark.parametrize("vector", XWING, ids=lambda v: v["seed"][:8])
def test_xwing_decapsulates_the_vectors_ciphertext_and_hpke_opens_under_it(
    vector: dict[str, str],
) -> None:
    key = KemPrivateKey.from_xwing_seed(h(vector["seed"]))
    ct, ss = h(vector["ct"]), h(vector["ss"])
    assert xwing_decapsulate(key.secret_bytes(), h(vector["pk"]), ct) == ss
    dek = os.urandom(32)
    wrapped = sealed_under(KEM_XWING, ss, ct, dek)
    assert hpke_suite(SUITE_HYBRID).decrypt(wrapped, key.hpke_key, INFO) == dek
    payload = b'{"vector":"x-wing"}'
    opened = Opener([key]).open(dief_envelope(key, wrapped, dek, payload))
    assert (opened.payload, opened.kid) == (payload, key.kid)
    wrong = sealed_under(KEM_XWING, bytes(32), ct, dek)  # any other shared secret fails
    with pytest.raises(InvalidTag):
        hpke_suite(SUITE_HYBRID).decrypt(wrong, key.hpke_key, INFO)


def test_xwing_hpke_pq_draft_vector() -> None:
    v = load("hpke-pq-xwing.json")["vector"]
    assert (v["mode"], v["kem_id"], v["kdf_id"], v["aead_id"]) == (0, KEM_XWING, 1, AEAD_CHACHA)
    assert h(v["suite_id"]) == hpke_suite_id(KEM_XWING, KDF_HKDF_SHA256, AEAD_CHACHA)
    key = KemPrivateKey.from_xwing_seed(h(v["skRm"]))
    assert key.public_key.public_bytes() == h(v["pkRm"])
    enc, ss, info = h(v["enc"]), h(v["shared_secret"]), h(v["info"])
    assert xwing_decapsulate(key.secret_bytes(), h(v["pkRm"]), enc) == ss
    assert key_schedule(KEM_XWING, AEAD_CHACHA, ss, info) == (h(v["key"]), h(v["base_nonce"]))
    first = v["encryptions"][0]
    assert h(first["nonce"]) == h(v["base_nonce"])
    # The encryptions carry "Count-<n>" as associated data, which cryptography's public
    # single-shot open does not take: they are opened under the key schedule checked above
    # (cryptography's own HPKE is checked on the DIEF suites by the envelope tests).
    chacha = ChaCha20Poly1305(h(v["key"]))
    for item in v["encryptions"]:
        assert chacha.decrypt(h(item["nonce"]), h(item["ct"]), h(item["aad"])) == h(item["pt"])


# -- X25519 ------------------------------------------------------------------------------------

A1 = load("rfc9180-a1-x25519.json")["vector"]
KEM_ID_X25519 = b"KEM" + KEM_X25519.to_bytes(2, "big")


def test_x25519_key_pair_from_ikm_and_the_vectors_public_key() -> None:
    dkp_prk = labeled_extract(KEM_ID_X25519, b"", b"dkp_prk", h(A1["ikmR"]))
    assert labeled_expand(KEM_ID_X25519, dkp_prk, b"sk", b"", 32) == h(A1["skRm"])
    key = KemPrivateKey(SUITE_X25519, h(A1["skRm"]))
    assert key.public_key.public_bytes() == h(A1["pkRm"])
    assert key.kid == key_id(h(A1["pkRm"]))


def _a1_shared(key: KemPrivateKey, enc: bytes) -> bytes:
    """DHKEM(X25519) decapsulation, RFC 9180 §4.1."""
    dh = x25519.X25519PrivateKey.from_private_bytes(key.secret_bytes()).exchange(
        x25519.X25519PublicKey.from_public_bytes(enc)
    )
    eae_prk = labeled_extract(KEM_ID_X25519, b"", b"eae_prk", dh)
    kem_context = enc + h(A1["pkRm"])
    return labeled_expand(KEM_ID_X25519, eae_prk, b"shared_secret", kem_context, 32)


def test_x25519_decapsulation_and_key_schedule() -> None:
    key = KemPrivateKey(SUITE_X25519, h(A1["skRm"]))
    enc = h(A1["enc"])
    shared = _a1_shared(key, enc)
    assert shared == h(A1["shared_secret"])
    schedule = key_schedule(KEM_X25519, AEAD_AES_128, shared, h(A1["info"]))
    assert schedule == (h(A1["key"]), h(A1["base_nonce"]))


def test_x25519_rfc_9180_encryptions_open() -> None:
    key = KemPrivateKey(SUITE_X25519, h(A1["skRm"]))
    enc, info = h(A1["enc"]), h(A1["info"])
    # Opened under the key schedule checked above (see the X-Wing vector for why).
    assert key_schedule(KEM_X25519, AEAD_AES_128, _a1_shared(key, enc), info)[0] == h(A1["key"])
    aes = AESGCM(h(A1["key"]))  # sequence numbers: base_nonce XOR seq
    for item in A1["encryptions"]:
        nonce = int.from_bytes(h(A1["base_nonce"]), "big") ^ item["seq"]
        assert nonce.to_bytes(12, "big") == h(item["nonce"])
        assert aes.decrypt(h(item["nonce"]), h(item["ct"]), h(item["aad"])) == h(item["pt"])


def test_x25519_dief_suite_opens_under_the_vectors_kem_output() -> None:
    """AES-256-GCM (the DIEF suite) with the vector's KEM output and our key schedule:
    ``cryptography`` opens it, and so does the envelope opener with the vector's key."""
    key = KemPrivateKey(SUITE_X25519, h(A1["skRm"]))
    dek = os.urandom(32)
    wrapped = sealed_under(KEM_X25519, h(A1["shared_secret"]), h(A1["enc"]), dek)
    assert hpke_suite(SUITE_X25519).decrypt(wrapped, key.hpke_key, INFO) == dek
    payload = b'{"vector":"rfc9180-a1"}'
    assert Opener([key]).open(dief_envelope(key, wrapped, dek, payload)).payload == payload
