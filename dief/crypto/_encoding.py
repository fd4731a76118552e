"""Byte encodings shared by the envelope, the signatures and the keyring files.

* **base64url**: we *write* the URL-safe alphabet without ``=`` padding (RFC 7515 §2 style:
  shorter, and the same text in JSON, URLs and Kafka headers). We *read* both the unpadded and
  the correctly padded form, but nothing else: characters outside the alphabet, wrong padding
  and non-canonical encodings (non-zero unused bits in the last character) are refused, so
  one byte string has exactly one accepted text (two, counting padding).
* **canonical JSON**: ``json.dumps(sort_keys=True, separators=(",", ":"),
  ensure_ascii=False)`` encoded as UTF-8. This is the associated data of the envelope and the
  to-be-signed form of digests and summaries.
"""

from __future__ import annotations

import binascii
import json

__all__ = ["b64url_decode", "b64url_encode", "b64url_encode_bytes", "canonical_json"]

# URL-safe to standard alphabet; "+" and "/" become "!" so strict decoding refuses them.
_URL_TO_STD = bytes.maketrans(b"-_+/", b"+/!!")
# Valid last characters when 4 (one byte) or 2 (two bytes) bits of the last character are unused.
_LAST_CHAR_OK = {2: frozenset(b"AQgw"), 1: frozenset(b"AEIMQUYcgkosw048")}


_STD_TO_URL = bytes.maketrans(b"+/", b"-_")


# base64 never leaves 3 characters missing from a 4-character group
_UNPADDABLE = 3


def b64url_encode_bytes(data: bytes) -> bytes:
    """Unpadded base64url of *data*, as ASCII bytes."""
    return binascii.b2a_base64(data, newline=False).translate(_STD_TO_URL).rstrip(b"=")


def b64url_encode(data: bytes) -> str:
    """Unpadded base64url text of *data*."""
    return b64url_encode_bytes(data).decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strictly decode base64url *text*, padded or not; raise ``ValueError`` when invalid.

    The error message never contains the text.
    """
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        raise ValueError("not base64url text") from None
    body = raw.rstrip(b"=")
    missing = -len(body) % 4
    if missing == _UNPADDABLE or (len(raw) != len(body) and len(raw) - len(body) != missing):
        raise ValueError("bad base64url length or padding")
    if missing and body[-1] not in _LAST_CHAR_OK[missing]:
        raise ValueError("non-canonical base64url (unused bits set)")
    try:
        return binascii.a2b_base64(body.translate(_URL_TO_STD) + b"=" * missing, strict_mode=True)
    except binascii.Error:
        raise ValueError("not base64url text") from None


def canonical_json(value: object) -> bytes:
    """Canonical UTF-8 JSON of *value*: sorted keys, no whitespace, no ASCII escaping."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")
