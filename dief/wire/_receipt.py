"""A receipt: what a regional aggregator tells the posting node about one record (DESIGN §8 ⚑).

On the wire (topic ``dief.receipts``) a receipt is a record whose key is the **receipt id**,
hex SHA-256 of ``b"dief/v1/receipt-id/" + envelope id``, and whose value is
:class:`SealedReceipt`: ``{"v":1,"nonce":…,"ciphertext":…}``, AES-256-GCM under the
record's receipt key (HKDF-SHA256 of the record's data key, label ``dief/v1/receipt``) with
the receipt id as associated data. The plaintext is :class:`Receipt` as compact JSON,
padded with spaces to :data:`RECEIPT_PLAINTEXT_BYTES`, so every receipt has the same
length whatever it says. Sealing and opening are in :mod:`dief.crypto`.
"""

from __future__ import annotations

from enum import StrEnum
from json.encoder import encode_basestring_ascii
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic import ValidationError as PydanticValidationError

from dief.vocab import Region

__all__ = [
    "RECEIPT_PLAINTEXT_BYTES",
    "RECEIPT_VERSION",
    "Receipt",
    "ReceiptOutcome",
    "SealedReceipt",
    "parse_receipt_plaintext",
    "receipt_plaintext",
]

#: The receipt's value format (``v``).
RECEIPT_VERSION = 1
#: Every receipt plaintext is padded with spaces to exactly this many bytes (the longest
#: valid one, a dead letter with a 48-character reason in GRULAC, is 149).
RECEIPT_PLAINTEXT_BYTES = 256

_UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
_REASON = r"^[a-z][a-z0-9_]{0,47}$"
_B64URL = r"^[A-Za-z0-9_-]*$"


class ReceiptOutcome(StrEnum):
    """What became of a record, as its receipt says."""

    APPLIED = "applied"  # counted in the record's region
    DUPLICATE = "duplicate"  # these exact bytes were taken before: a redelivery or a replay
    STALE = "stale"  # a revision not above the one the aggregator holds: ignored
    DEAD_LETTERED = "dead_lettered"  # refused after opening; ``reason`` says why


class Receipt(BaseModel):
    """The plaintext of a receipt (before padding)."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="DIEF receipt (plaintext)")

    id: str = Field(pattern=_UUID, description="The envelope id of the record it is about")
    outcome: ReceiptOutcome
    reason: str | None = Field(
        pattern=_REASON,
        description="The dead letter's reason code (dief.aggregator.REASONS) when the "
        "outcome is dead_lettered, else null",
    )
    region: Region = Field(description="The region whose aggregator judged the record")

    @model_validator(mode="after")
    def _reason_with_dead_letters_only(self) -> Self:
        if (self.reason is not None) != (self.outcome is ReceiptOutcome.DEAD_LETTERED):
            raise ValueError("reason is given exactly when the outcome is dead_lettered")
        return self


class SealedReceipt(BaseModel):
    """A receipt's Kafka record value: UTF-8 JSON, always the same length."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="DIEF sealed receipt v1")

    v: Literal[1] = Field(description="Receipt format version")
    nonce: str = Field(pattern=_B64URL, description="base64url, 12 bytes")
    ciphertext: str = Field(
        pattern=_B64URL,
        description="base64url AES-256-GCM output (the padded plaintext and the tag) under "
        "the record's receipt key; associated data = the receipt id (the record key)",
    )


def receipt_plaintext(
    envelope_id: str, outcome: ReceiptOutcome, reason: str | None, region: Region | str
) -> bytes:
    """The padded plaintext of a receipt: compact JSON, then spaces up to
    :data:`RECEIPT_PLAINTEXT_BYTES`. :raises ValueError: it would not fit."""
    # What json.dumps(..., separators=(",", ":")) writes, without its dict machinery.
    q = encode_basestring_ascii
    body = (
        f'{{"id":{q(envelope_id)},"outcome":{q(str(outcome))},'
        f'"reason":{"null" if reason is None else q(reason)},"region":{q(str(region))}}}'
    ).encode("ascii")
    if len(body) > RECEIPT_PLAINTEXT_BYTES:
        raise ValueError(f"a receipt would be {len(body)} bytes, above the padded size")
    return body.ljust(RECEIPT_PLAINTEXT_BYTES, b" ")


def parse_receipt_plaintext(data: bytes) -> Receipt:
    """The :class:`Receipt` in a padded plaintext. :raises ValueError: not exactly
    :data:`RECEIPT_PLAINTEXT_BYTES` bytes, padded with anything but spaces, or not a
    receipt (the message names no content)."""
    if len(data) != RECEIPT_PLAINTEXT_BYTES:
        raise ValueError("a receipt plaintext has the wrong length")
    body = data.rstrip(b" ")
    if not body.endswith(b"}"):
        raise ValueError("a receipt plaintext is not JSON padded with spaces")
    try:
        return Receipt.model_validate_json(body)
    except PydanticValidationError:
        raise ValueError("a receipt plaintext is not a receipt") from None
