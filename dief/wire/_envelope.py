"""The sealed envelope v1 as it travels on the wire (DESIGN §3 ⚑).

This is only the JSON shape; sealing and opening live in :mod:`dief.crypto.envelope`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ENVELOPE_VERSION",
    "MAX_VALUE_BYTES",
    "SUITE_HYBRID",
    "SUITE_X25519",
    "TYPE_CASE",
    "TYPE_DIGEST",
    "Recipient",
    "SealedEnvelope",
]

ENVELOPE_VERSION = 1
MAX_VALUE_BYTES = 256 * 1024
SUITE_HYBRID = "MLKEM768X25519-HKDFSHA256-AES256GCM"
SUITE_X25519 = "X25519-HKDFSHA256-AES256GCM"
#: Payload type of a case record (DESIGN §2, §5).
TYPE_CASE = "dief.case"
#: Payload type of a sealed regional digest (DESIGN §2, §7).
TYPE_DIGEST = "dief.digest"

_B64URL = r"^[A-Za-z0-9_-]*={0,2}$"


class Recipient(BaseModel):
    """One holder of a key that can unwrap the data key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kid: str = Field(
        description="Key id: first 20 chars of base32(SHA-256(public key bytes)), lower case"
    )
    wrapped: str = Field(pattern=_B64URL, description="base64url HPKE ciphertext of the DEK")


class SealedEnvelope(BaseModel):
    """Kafka record value: UTF-8 JSON. AAD = canonical JSON of every field but ``ciphertext``."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="DIEF sealed envelope v1")

    v: Literal[1] = Field(description="Envelope version")
    type: str = Field(description="Payload type: dief.case or dief.digest")
    schema_: int = Field(alias="schema", ge=1, description="Payload schema version")
    id: str = Field(description="uuid4, unique per record")
    region: str = Field(description="Region code the payload is sealed for")
    suite: str = Field(description=f"{SUITE_HYBRID} (default) or {SUITE_X25519}")
    recipients: list[Recipient] = Field(min_length=1)
    nonce: str = Field(pattern=_B64URL, description="base64url, 12 bytes")
    ciphertext: str = Field(pattern=_B64URL, description="base64url AES-256-GCM output")
