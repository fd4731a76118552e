"""Receipts, the cryptography and the padding (DESIGN §8 ⚑): the receipt key is HKDF-SHA256
of the record's data key, both ends derive the same one, a receipt opens only with it and
only as the receipt of its own record, and every receipt has the same length."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import uuid

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from dief.crypto import (
    RECEIPT_VALUE_BYTES,
    Opener,
    Sealer,
    b64url_decode,
    open_receipt,
    receipt_id,
    receipt_key,
    seal_receipt,
)
from dief.exceptions import (
    AuthenticationError,
    ConfigurationError,
    EnvelopeVersionError,
    MalformedEnvelopeError,
)
from dief.vocab import Region
from dief.wire import (
    CASE_SCHEMA_VERSION,
    RECEIPT_PLAINTEXT_BYTES,
    ReceiptOutcome,
    parse_receipt_plaintext,
    receipt_plaintext,
)
from tests.unit.envelope_helpers import b64, kem_key

DEK = bytes(range(32))
#: HKDF-SHA256(IKM = 00 01 … 1f, salt = "", info = "dief/v1/receipt", L = 32), computed once
#: with RFC 5869's two HMAC steps (test_receipt_key_matches_rfc_5869_computed_here).
DEK_RECEIPT_KEY = "8a06c8623841ed9461587b222e7cf4bf7f5b4e532f59af4cefe3746c6ddea880"


def sealer() -> Sealer:
    recipients = [kem_key().public_key]
    return Sealer(type="dief.case", region="AFR", recipients=recipients, schema=CASE_SCHEMA_VERSION)


def payload(text: str) -> bytes:
    return b'{"p":"%s"}' % text.encode()


def test_receipt_key_is_hkdf_sha256_of_the_dek_with_the_receipt_label() -> None:
    expected = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"", info=b"dief/v1/receipt").derive(
        DEK
    )
    assert receipt_key(DEK) == expected
    assert receipt_key(DEK).hex() == DEK_RECEIPT_KEY


def test_receipt_key_matches_rfc_5869_computed_here() -> None:
    prk = hmac.new(b"", DEK, hashlib.sha256).digest()  # extract, empty salt
    okm = hmac.new(prk, b"dief/v1/receipt" + b"\x01", hashlib.sha256).digest()  # expand, T(1)
    assert okm.hex() == DEK_RECEIPT_KEY


def test_receipt_key_needs_a_32_byte_dek() -> None:
    with pytest.raises(ConfigurationError):
        receipt_key(DEK[:16])


def test_receipt_id_hashes_the_label_and_the_envelope_id() -> None:
    eid = "0b6f8f2e-8a4c-4d3e-9f1a-2c3b4d5e6f70"
    expected = hashlib.sha256(b"dief/v1/receipt-id/" + eid.encode()).hexdigest()
    assert receipt_id(eid) == expected
    assert len(receipt_id(eid)) == 64


def test_sealer_and_opener_derive_the_same_receipt_key_cold_and_cached() -> None:
    seal = sealer()
    opener = Opener([kem_key()])
    sealed = [seal.seal_with_receipt(payload(f"payload {i}")) for i in range(3)]
    for record in sealed:
        opened = opener.open(record.value)
        assert opened.id == record.envelope_id
        assert opened.receipt_key == record.receipt_key
        assert receipt_id(opened.id) == record.receipt_id
    again = opener.open(sealed[0].value)  # a redelivery: the key comes from the cache
    assert (again.receipt_key, opener.cache_info().hits) == (sealed[0].receipt_key, 1)
    uncached = Opener([kem_key()], cache_size=0).open(sealed[0].value)
    assert uncached.receipt_key == sealed[0].receipt_key


def test_every_record_has_its_own_receipt_key_and_seal_is_unchanged() -> None:
    seal = sealer()
    first, second = seal.seal_with_receipt(payload("a")), seal.seal_with_receipt(payload("b"))
    assert first.receipt_key != second.receipt_key  # one DEK per record
    assert first.receipt_id != second.receipt_id
    assert Opener([kem_key()]).open(seal.seal(payload("c"))).payload == payload("c")


def test_keys_stay_out_of_repr() -> None:
    record = sealer().seal_with_receipt(payload("secret payload"))
    opened = Opener([kem_key()]).open(record.value)
    for thing in (record, opened):
        text = repr(thing)
        assert record.receipt_key.hex() not in text
        assert repr(record.receipt_key) not in text
        assert "secret payload" not in text


@pytest.mark.parametrize("outcome", list(ReceiptOutcome))
def test_a_receipt_opens_with_its_key_and_says_what_was_sealed(outcome: ReceiptOutcome) -> None:
    key, eid = os.urandom(32), str(uuid.uuid4())
    reason = "wrong_cycle" if outcome is ReceiptOutcome.DEAD_LETTERED else None
    rid, value = seal_receipt(key, eid, outcome, reason, Region.GRULAC)
    assert rid == receipt_id(eid)
    receipt = open_receipt(key, rid, value)
    assert (receipt.id, receipt.outcome, receipt.reason, receipt.region) == (
        eid,
        outcome,
        reason,
        Region.GRULAC,
    )


def test_every_receipt_value_has_the_same_length() -> None:
    lengths = set()
    for outcome in ReceiptOutcome:
        for region in Region:
            for reason in (None, "x", "database_refused", "z" * 48):
                if (reason is None) != (outcome is not ReceiptOutcome.DEAD_LETTERED):
                    continue
                _, value = seal_receipt(os.urandom(32), str(uuid.uuid4()), outcome, reason, region)
                lengths.add(len(value))
    assert lengths == {RECEIPT_VALUE_BYTES}
    doc = json.loads(value)
    assert set(doc) == {"v", "nonce", "ciphertext"}
    assert len(b64url_decode(doc["nonce"])) == 12
    assert len(b64url_decode(doc["ciphertext"])) == RECEIPT_PLAINTEXT_BYTES + 16


def _flip(text: str) -> str:
    return ("B" if text[0] == "A" else "A") + text[1:]


def test_anything_altered_or_the_wrong_key_is_refused() -> None:
    key, eid = os.urandom(32), str(uuid.uuid4())
    rid, value = seal_receipt(key, eid, ReceiptOutcome.APPLIED, None, "AFR")
    doc = json.loads(value)
    with pytest.raises(AuthenticationError):
        open_receipt(os.urandom(32), rid, value)  # another record's key
    with pytest.raises(AuthenticationError):
        open_receipt(key, receipt_id(str(uuid.uuid4())), value)  # under another receipt id
    for field in ("nonce", "ciphertext"):
        altered = json.dumps({**doc, field: _flip(doc[field])}).encode()
        with pytest.raises(AuthenticationError):
            open_receipt(key, rid, altered)
    with pytest.raises(EnvelopeVersionError):
        open_receipt(key, rid, json.dumps({**doc, "v": 2}).encode())
    for bad in (b"", b"[]", b"not json", json.dumps({**doc, "x": 1}).encode(), b"{" * 2000):
        with pytest.raises(MalformedEnvelopeError):
            open_receipt(key, rid, bad)


def test_a_receipt_about_another_record_is_refused() -> None:
    """Sealed under the right key and receipt id, the plaintext names another envelope:
    it is not this record's receipt."""
    key, mine, other = os.urandom(32), str(uuid.uuid4()), str(uuid.uuid4())
    rid, nonce = receipt_id(mine), os.urandom(12)
    plain = receipt_plaintext(other, ReceiptOutcome.APPLIED, None, "AFR")
    ciphertext = AESGCM(key).encrypt(nonce, plain, rid.encode())
    value = json.dumps({"v": 1, "nonce": b64(nonce), "ciphertext": b64(ciphertext)}).encode()
    with pytest.raises(MalformedEnvelopeError, match="another record"):
        open_receipt(key, rid, value)


def test_the_plaintext_is_compact_json_padded_with_spaces() -> None:
    eid = str(uuid.uuid4())
    plain = receipt_plaintext(eid, ReceiptOutcome.DEAD_LETTERED, "unknown_indicator", "WEOG")
    assert len(plain) == RECEIPT_PLAINTEXT_BYTES
    body = plain.rstrip(b" ")
    assert set(plain[len(body) :]) == {0x20}
    assert json.loads(body) == {
        "id": eid,
        "outcome": "dead_lettered",
        "reason": "unknown_indicator",
        "region": "WEOG",
    }
    assert body == json.dumps(json.loads(body), separators=(",", ":")).encode()
    assert parse_receipt_plaintext(plain).reason == "unknown_indicator"


def test_a_plaintext_that_is_not_a_padded_receipt_is_refused() -> None:
    eid = str(uuid.uuid4())
    good = receipt_plaintext(eid, ReceiptOutcome.APPLIED, None, "AFR")
    body = good.rstrip(b" ")
    for bad in (
        body,  # not padded
        good + b" ",  # padded too far
        body.ljust(RECEIPT_PLAINTEXT_BYTES, b"\x00"),  # padded with something else
        receipt_plaintext(eid, ReceiptOutcome.APPLIED, None, "AFR").replace(b"AFR", b"XYZ"),
        body.replace(b'"reason":null', b'"reason":"wrong_cycle"').ljust(256, b" "),
        body.replace(eid.encode(), eid.upper().encode()).ljust(256, b" "),
    ):
        with pytest.raises(ValueError, match="receipt plaintext"):
            parse_receipt_plaintext(bad)
    with pytest.raises(ValueError, match="padded size"):
        receipt_plaintext(eid, ReceiptOutcome.DEAD_LETTERED, "r" * 200, "AFR")
