r"""Case identity and ownership (DESIGN §5 ⚑): the pure, public half, shared by the node
(which signs) and the aggregator (which verifies).

- A **case id** is a version-8 UUID: the first 16 bytes of SHA-256 over
  ``b"dief/v2/case-id\x00" + region + b"/" + cycle + b"/" + owner key`` (the raw 32-byte
  Ed25519 public key), with the version and variant bits set. It binds the case to its
  region, its CSP cycle and its owner key: nobody can claim an id they did not derive, and
  an id cannot count in another region or cycle.
- The **owner signature** is Ed25519 over ``b"dief/v2/owner\x00"`` + the JCS canonical
  JSON (:func:`dief.crypto.canonical_json`) of the record as sent, without ``owner_sig``.
  The record carries its envelope's id (``envelope_id``), so the signature covers it too.
  Padding is never signed.

The private half (owner keys derived from the node secret and a case index) is in
:mod:`dief.node`.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "CASE_ID_LABEL",
    "OWNER_KEY_BYTES",
    "OWNER_SIG_BYTES",
    "OWNER_SIG_LABEL",
    "b64url",
    "case_id_for",
    "owner_message",
    "ownership_problem",
    "unb64url",
]

#: Domain label of the case-id hash.
CASE_ID_LABEL = b"dief/v2/case-id\x00"
#: Domain prefix of the owner signature.
OWNER_SIG_LABEL = b"dief/v2/owner\x00"
OWNER_KEY_BYTES = 32
OWNER_SIG_BYTES = 64


def b64url(data: bytes) -> str:
    """Unpadded base64url text (as :func:`dief.crypto.b64url_encode`)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    """base64url *text* without padding, as bytes. The record schema's patterns admit only
    the canonical form of each fixed length, so this is exact for them."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def case_id_for(region: str, cycle: str, owner_key: bytes) -> str:
    """The case id of the case owned by *owner_key* (raw 32 bytes) in *region* and *cycle*."""
    if len(owner_key) != OWNER_KEY_BYTES:
        raise ValueError(f"an owner key is {OWNER_KEY_BYTES} bytes")
    digest = bytearray(
        hashlib.sha256(
            b"".join((CASE_ID_LABEL, region.encode(), b"/", cycle.encode(), b"/", owner_key))
        ).digest()[:16]
    )
    digest[6] = (digest[6] & 0x0F) | 0x80  # version 8
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 9562 variant
    return str(uuid.UUID(bytes=bytes(digest)))


def owner_message(record: Mapping[str, object]) -> bytes:
    """What ``owner_sig`` signs: the domain prefix and the canonical JSON of *record* (the
    record's JSON object as sent; ``owner_sig`` itself is left out)."""
    # dief.crypto imports dief.wire, so its encoder is imported when first used.
    from dief.crypto import canonical_json  # noqa: PLC0415  dief.crypto imports dief.wire: imported when first used

    unsigned = {k: v for k, v in record.items() if k != "owner_sig"}
    return OWNER_SIG_LABEL + canonical_json(unsigned)


def ownership_problem(record: Mapping[str, object], envelope_id: str) -> str | None:
    """Why *record* (its JSON object as sent, already schema-valid) does not prove its
    ownership, or None when it does: its ``envelope_id`` is its envelope's, its ``case_id``
    derives from its ``owner_key``, ``region`` and ``cycle``, and ``owner_sig`` verifies.
    The answer names fields only."""
    if record.get("envelope_id") != envelope_id:
        return "envelope_id is not the id of the envelope it came in"
    owner_key = unb64url(str(record["owner_key"]))
    if case_id_for(str(record["region"]), str(record["cycle"]), owner_key) != record["case_id"]:
        return "case_id does not derive from owner_key, region and cycle"
    try:
        Ed25519PublicKey.from_public_bytes(owner_key).verify(
            unb64url(str(record["owner_sig"])), owner_message(record)
        )
    except (InvalidSignature, ValueError):
        return "owner_sig does not verify under owner_key"
    return None
