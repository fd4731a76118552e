"""The keyed steps of opening an envelope (:class:`~dief.crypto._opener.Opener`): the
HPKE unwrap of the data key, the associated data (the canonical header, built
directly), AES-GCM."""

from __future__ import annotations

from json.encoder import encode_basestring
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from dief.crypto._common import DEK_LEN, hpke_info
from dief.crypto._opener_header import malformed
from dief.crypto.keys import KemPrivateKey, hpke_suite
from dief.exceptions import AuthenticationError

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["CacheKey", "Unwrapped", "decrypt", "header_aad", "hpke_unwrap", "unwrap_info"]


#: The cache key: every input of the unwrap, compared exactly. ``type`` and ``region`` stand
#: for the HPKE ``info`` they make (equal pairs make equal ``info``), kid for the held key.
CacheKey = tuple[str, str, str, str, str]
#: What the cache keeps of an unwrapped data key: its AES-GCM and the record's receipt key
#: (derived once per unwrap, so a cache hit costs nothing more).
Unwrapped = tuple[AESGCM, bytes]


def _associated_data(  # noqa: PLR0913, PLR0917  the associated data's fields, one argument each, in the order DESIGN §4 lists them
    record_id: str,
    nonce: str,
    recipients: Sequence[tuple[str, str]],
    region: str,
    schema: int,
    suite: str,
    payload_type: str,
    version: int,
    plain: tuple[str, ...] = (),
) -> bytes:
    """:func:`dief.crypto.canonical_json` of the envelope without ``ciphertext``, built directly.

    The arguments are the checked header fields (*recipients* as (kid, wrapped) pairs, in
    wire order). Keys are written in sorted order and strings quoted by the very function
    ``json.dumps(ensure_ascii=False)`` uses, so the bytes are the canonical JSON's (a test
    compares the two on random envelopes). A ``nonce`` or ``wrapped`` text in *plain* is
    known to be base64url (it decoded strictly), which JSON never escapes: it is quoted
    without the scan. Raises ``UnicodeEncodeError`` for a lone surrogate, as encoding the
    canonical JSON would.
    """
    q = encode_basestring
    listed = ",".join(
        [
            '{"kid":' + q(kid) + ',"wrapped":' + ('"' + w + '"' if w in plain else q(w)) + "}"
            for kid, w in recipients
        ]
    )
    quoted_nonce = '"' + nonce + '"' if nonce in plain else q(nonce)
    return (
        f'{{"id":{q(record_id)},"nonce":{quoted_nonce},"recipients":[{listed}],'
        f'"region":{q(region)},"schema":{schema},"suite":{q(suite)},'
        f'"type":{q(payload_type)},"v":{version}}}'
    ).encode()


def unwrap_info(payload_type: str, region: str) -> bytes:
    """The HPKE ``info`` of the unwrap; a header with a lone surrogate (no UTF-8 form) is
    malformed."""
    try:
        return hpke_info(payload_type, region)
    except UnicodeEncodeError as exc:
        raise malformed("a header field is not valid Unicode text") from exc


def hpke_unwrap(suite: str, key: KemPrivateKey, wrapped: bytes, info: bytes) -> bytes | None:
    """The data key *wrapped* for *key*, or ``None`` when it does not open (or is not a
    :data:`DEK_LEN`-byte key): the next held recipient is tried then."""
    try:
        dek = hpke_suite(suite).decrypt(wrapped, key.hpke_key, info)
    except (InvalidTag, ValueError, TypeError):
        return None
    return dek if len(dek) == DEK_LEN else None


def header_aad(  # noqa: PLR0913, PLR0917  the associated data's fields, one argument each, in the order DESIGN §4 lists them
    record_id: str,
    nonce_text: str,
    pairs: Sequence[tuple[str, str]],
    region: str,
    schema: int,
    suite: str,
    payload_type: str,
    version: int,
    wrapped_text: str,
) -> bytes:
    r"""Step "associated data": :func:`_associated_data` of the checked header, with the
    nonce and the wrapped text that unwrapped (both decoded as base64url) quoted without
    the scan. A lone surrogate (from a ``\ud8xx`` escape) has no UTF-8 form to
    authenticate: malformed."""
    try:
        return _associated_data(
            record_id,
            nonce_text,
            pairs,
            region,
            schema,
            suite,
            payload_type,
            version,
            plain=(nonce_text, wrapped_text),
        )
    except UnicodeEncodeError as exc:
        raise malformed("a header field is not valid Unicode text") from exc


def decrypt(aes: AESGCM, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
    """Step "AES-GCM": the payload, or :class:`AuthenticationError` when anything the tag
    covers was altered."""
    try:
        return aes.decrypt(nonce, ciphertext, aad)
    except InvalidTag:
        raise AuthenticationError(
            "envelope failed authentication: header, recipients, id, nonce or ciphertext "
            "was altered"
        ) from None
