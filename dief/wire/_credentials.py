"""Contributor-credential requests and answers (DESIGN §5 ⚑), as they travel.

A national node asks the Secretariat's credential issuer to blind-sign its contributor
message for one (cycle, region) with a :class:`CredentialRequest`, signed by its
registration key (composite ML-DSA-65 + Ed25519, context ``dief.credential-request``, over
the canonical JSON of the request without ``signature``) and sealed to the Secretariat's KEM
key as payload type :data:`TYPE_CREDENTIAL_REQUEST`. The issuer answers with a
:class:`CredentialAnswer` sealed to the ``node_kem_key`` named in the request, payload type
:data:`TYPE_CREDENTIAL_ANSWER`. Both envelopes carry the constant ``region`` label
:data:`CREDENTIAL_ENVELOPE_LABEL` (never the pair asked for), and both payloads are padded
with spaces to the next power of two from 1,024 bytes.

Building, signing, sealing and opening are in :mod:`dief.credentials`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from dief.vocab import Region
from dief.wire._envelope import SUITE_HYBRID, SUITE_X25519

__all__ = [
    "CREDENTIAL_ENVELOPE_LABEL",
    "CREDENTIAL_WIRE_VERSION",
    "TYPE_CREDENTIAL_ANSWER",
    "TYPE_CREDENTIAL_REQUEST",
    "CredentialAnswer",
    "CredentialRequest",
    "NodeKemKey",
]

#: Payload type of a sealed credential request (to the Secretariat).
TYPE_CREDENTIAL_REQUEST = "dief.credential-request"
#: Payload type of a sealed credential answer (to the requesting node).
TYPE_CREDENTIAL_ANSWER = "dief.credential-answer"
#: The envelope ``region`` field of both: a constant, so the clear header says nothing.
CREDENTIAL_ENVELOPE_LABEL = "credentials"
#: The ``v`` of both shapes.
CREDENTIAL_WIRE_VERSION = 1

_KID = r"^[a-z2-7]{20}$"
_CYCLE = r"^CSP[1-9][0-9]{0,3}$"
_B64URL = r"^[A-Za-z0-9_-]+$"
# An RSA modulus of at most 8,192 bits (1,024 bytes) is at most 1,366 base64url characters.
_MAX_RSA_B64 = 1366
# The hybrid KEM public key is 1,216 bytes: 1,622 base64url characters.
_MAX_KEM_B64 = 1622


class NodeKemKey(BaseModel):
    """The requesting node's KEM public key: where the answer is sealed to."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="DIEF node KEM key")

    suite: Literal["MLKEM768X25519-HKDFSHA256-AES256GCM", "X25519-HKDFSHA256-AES256GCM"] = Field(
        description=f"The KEM suite ({SUITE_HYBRID} or {SUITE_X25519})"
    )
    public: str = Field(
        pattern=_B64URL, max_length=_MAX_KEM_B64, description="base64url raw public key bytes"
    )


class CredentialRequest(BaseModel):
    """A node's request for one contributor token (one (cycle, region), one issuer key)."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="DIEF credential request")

    v: Literal[1] = Field(description="Format version")
    registration_kid: str = Field(
        pattern=_KID, description="Key id of the node's registration (signing) key"
    )
    issuer_kid: str = Field(
        pattern=_KID, description="Key id of the issuer key of this (cycle, region)"
    )
    cycle: str = Field(pattern=_CYCLE, description="CSP cycle of the token (CSP12)")
    region: Region = Field(description="Region of the token")
    blinded: str = Field(
        pattern=_B64URL,
        max_length=_MAX_RSA_B64,
        description="base64url RFC 9474 blinded message (the issuer modulus' length)",
    )
    node_kem_key: NodeKemKey
    signature: dict[str, str] = Field(
        description="Composite signature (ML-DSA-65 + Ed25519) by the registration key over "
        "the canonical JSON of this object without its signature member, context "
        "dief.credential-request"
    )


class CredentialAnswer(BaseModel):
    """The issuer's answer: the blind signature over the request's blinded message."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="DIEF credential answer")

    v: Literal[1] = Field(description="Format version")
    request: str = Field(
        pattern=r"^[0-9a-f]{64}$",
        description="Hex SHA-256 of the request it answers (dief.credentials.request_hash); "
        "also the Kafka record key of the answer",
    )
    issuer_kid: str = Field(pattern=_KID, description="Key id of the issuer key that signed")
    blind_signature: str = Field(
        pattern=_B64URL, max_length=_MAX_RSA_B64, description="base64url RFC 9474 blind signature"
    )
