"""TOTP second factor (RFC 6238: SHA-1, 6 digits, 30 s), with ``cryptography``'s TOTP."""

from __future__ import annotations

import base64
import os
from urllib.parse import quote

from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor import InvalidToken
from cryptography.hazmat.primitives.twofactor.totp import TOTP

__all__ = ["TOTP_STEP", "new_totp_secret", "totp_code", "totp_step_of", "totp_uri"]

TOTP_STEP = 30
_DIGITS = 6
#: Steps either side of now a code may come from (clock drift).
_DRIFT = 1


def new_totp_secret() -> str:
    """A fresh 160-bit secret in base32 (what authenticator apps take)."""
    return base64.b32encode(os.urandom(20)).decode("ascii").rstrip("=")


def _totp(secret: str) -> TOTP:
    padded = secret + "=" * (-len(secret) % 8)
    key = base64.b32decode(padded.upper())
    # SHA-1 is what RFC 6238 authenticator apps implement; HMAC-SHA1 is not weakened by
    # SHA-1 collisions.
    return TOTP(key, _DIGITS, SHA1(), TOTP_STEP, enforce_key_length=False)  # noqa: S303


def totp_code(secret: str, at: float) -> str:
    """The code of *secret* at UNIX time *at*."""
    return _totp(secret).generate(int(at)).decode("ascii")


def totp_step_of(secret: str, code: str, at: float) -> int | None:
    """The time step *code* belongs to (within the drift window of *at*), or None."""
    code = code.strip().replace(" ", "")
    if len(code) != _DIGITS or not code.isdigit():
        return None
    totp = _totp(secret)
    now = int(at) // TOTP_STEP
    for step in range(now - _DRIFT, now + _DRIFT + 1):
        try:
            totp.verify(code.encode("ascii"), step * TOTP_STEP)
        except InvalidToken:
            continue
        return step
    return None


def totp_uri(secret: str, username: str, issuer: str = "DIEF") -> str:
    """The ``otpauth://`` URI an authenticator app reads (as a QR code or pasted)."""
    label = quote(f"{issuer}:{username}")
    return f"otpauth://totp/{label}?secret={secret}&issuer={quote(issuer)}&digits=6&period=30"
