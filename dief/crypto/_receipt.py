"""Sealing and opening receipts (DESIGN §8 ⚑; the shapes are in :mod:`dief.wire`).

A receipt is keyed by the record's receipt id (:func:`receipt_id` of its envelope id) and
encrypted with AES-256-GCM under the record's receipt key (:func:`receipt_key` of its data
key), a random 12-byte nonce and the receipt id as associated data::

    {"v":1,"nonce":"<base64url>","ciphertext":"<base64url>"}

The plaintext is padded to :data:`dief.wire.RECEIPT_PLAINTEXT_BYTES`, so every receipt value
has the same length (:data:`RECEIPT_VALUE_BYTES`).
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from dief.crypto._common import DEK_LEN, NONCE_LEN, TAG_LEN, receipt_id
from dief.crypto._encoding import b64url_decode, b64url_encode_bytes
from dief.exceptions import (
    AuthenticationError,
    ConfigurationError,
    EnvelopeVersionError,
    MalformedEnvelopeError,
)
from dief.wire import (
    RECEIPT_PLAINTEXT_BYTES,
    RECEIPT_VERSION,
    Receipt,
    ReceiptOutcome,
    parse_receipt_plaintext,
    receipt_plaintext,
)

if TYPE_CHECKING:
    from dief.vocab import Region

__all__ = ["RECEIPT_VALUE_BYTES", "open_receipt", "seal_receipt"]


def _b64_len(n: int) -> int:
    return (4 * n + 2) // 3


#: The length of every receipt value (the Kafka record value), in bytes.
RECEIPT_VALUE_BYTES = (
    len(b'{"v":1,"nonce":"","ciphertext":""}')
    + _b64_len(NONCE_LEN)
    + _b64_len(RECEIPT_PLAINTEXT_BYTES + TAG_LEN)
)
_FIELDS = frozenset({"v", "nonce", "ciphertext"})


def _check_key(key: bytes) -> None:
    if len(key) != DEK_LEN:
        raise ConfigurationError(f"a receipt key is {DEK_LEN} bytes")


def seal_receipt(
    key: bytes,
    envelope_id: str,
    outcome: ReceiptOutcome,
    reason: str | None,
    region: Region | str,
) -> tuple[str, bytes]:
    """The receipt of the record *envelope_id*: (receipt id, the record value).

    :raises ValueError: the receipt would not fit the padded size (a reason code longer
        than 48 characters).
    """
    _check_key(key)
    rid = receipt_id(envelope_id)
    nonce = os.urandom(NONCE_LEN)
    plaintext = receipt_plaintext(envelope_id, outcome, reason, region)
    ciphertext = AESGCM(key).encrypt(nonce, plaintext, rid.encode("ascii"))
    value = b"".join(
        (
            b'{"v":1,"nonce":"',
            b64url_encode_bytes(nonce),
            b'","ciphertext":"',
            b64url_encode_bytes(ciphertext),
            b'"}',
        )
    )
    return rid, value


def open_receipt(key: bytes, rid: str, value: bytes) -> Receipt:
    """The receipt in *value*, the record value of a receipt keyed *rid*, opened with *key*.

    :raises MalformedEnvelopeError: not a receipt value, or a plaintext that is not a padded
        receipt about the record *rid* names;
    :raises EnvelopeVersionError: another receipt format version;
    :raises AuthenticationError: *key* does not open it (another record's receipt, or
        anything altered).
    """
    _check_key(key)
    nonce, ciphertext = _parse_value(value)
    try:
        plaintext = AESGCM(key).decrypt(nonce, ciphertext, rid.encode("ascii"))
    except (InvalidTag, UnicodeEncodeError):
        raise AuthenticationError("the receipt does not open with this record's key") from None
    try:
        receipt = parse_receipt_plaintext(plaintext)
    except ValueError as exc:
        raise MalformedEnvelopeError(f"malformed receipt: {exc}") from None
    if receipt_id(receipt.id) != rid:
        raise MalformedEnvelopeError("malformed receipt: it is about another record")
    return receipt


def _parse_value(value: bytes) -> tuple[bytes, bytes]:
    """The nonce and the ciphertext of a receipt value (checked before any decryption)."""
    if len(value) > 2 * RECEIPT_VALUE_BYTES:
        raise MalformedEnvelopeError("malformed receipt: too long")
    try:
        doc = json.loads(value)
    except ValueError:
        raise MalformedEnvelopeError("malformed receipt: not UTF-8 JSON") from None
    if not isinstance(doc, dict) or doc.keys() != _FIELDS:
        raise MalformedEnvelopeError("malformed receipt: not an object of v, nonce, ciphertext")
    if type(doc["v"]) is not int or doc["v"] != RECEIPT_VERSION:
        raise EnvelopeVersionError("receipt version not supported")
    nonce_text, ciphertext_text = doc["nonce"], doc["ciphertext"]
    if not isinstance(nonce_text, str) or not isinstance(ciphertext_text, str):
        raise MalformedEnvelopeError("malformed receipt: nonce and ciphertext are strings")
    try:
        nonce, ciphertext = b64url_decode(nonce_text), b64url_decode(ciphertext_text)
    except ValueError:
        raise MalformedEnvelopeError("malformed receipt: not base64url") from None
    if len(nonce) != NONCE_LEN or len(ciphertext) != RECEIPT_PLAINTEXT_BYTES + TAG_LEN:
        raise MalformedEnvelopeError("malformed receipt: wrong nonce or ciphertext length")
    return nonce, ciphertext
