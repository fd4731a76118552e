"""The sealing side of the envelope: :class:`Sealer` (see :mod:`dief.crypto.envelope`)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from dief.crypto._common import (
    DEFAULT_MAX_AGE,
    DEFAULT_MAX_RECORDS,
    DEK_LEN,
    MAX_RECORDS_LIMIT,
    NONCE_LEN,
    SealedRecord,
    check_schema,
    hpke_info,
    receipt_key,
)
from dief.crypto._encoding import b64url_encode, b64url_encode_bytes, canonical_json
from dief.crypto.keys import SUITES, KemPublicKey, hpke_suite
from dief.exceptions import ConfigurationError, OversizedEnvelopeError, UnknownSuiteError
from dief.seams import Clock, SystemClock
from dief.wire import ENVELOPE_VERSION, MAX_VALUE_BYTES

__all__ = ["Sealer"]


def _check_label(name: str, value: str) -> None:
    if not isinstance(value, str) or not value or "/" in value:
        raise ConfigurationError(f"{name} must be a non-empty string without '/'")


class Sealer:
    """Seals payload bytes of one type for one region to a fixed set of recipients.

    *recipients* are the public keys to wrap each DEK to (all of one suite; duplicates by kid
    are dropped). *suite* defaults to the recipients' suite. The DEK is replaced after
    *max_records* records or *max_age* seconds by *clock*, whichever comes first, and when the
    clock goes backwards.
    """

    __slots__ = (
        "_aes",
        "_clock",
        "_dek_created",
        "_dek_records",
        "_dek_serial",
        "_info",
        "_max_age",
        "_max_records",
        "_receipt_key",
        "_recipients",
        "_region",
        "_schema",
        "_suite",
        "_tails",
        "_type",
        "_wrapped",
    )

    def __init__(
        self,
        *,
        type: str,
        region: str,
        recipients: Iterable[KemPublicKey],
        suite: str | None = None,
        schema: int = 1,
        max_records: int = DEFAULT_MAX_RECORDS,
        max_age: float = DEFAULT_MAX_AGE,
        clock: Clock | None = None,
    ) -> None:
        _check_label("type", type)
        _check_label("region", region)
        if not 1 <= max_records <= MAX_RECORDS_LIMIT:
            raise ConfigurationError(f"max_records must be between 1 and {MAX_RECORDS_LIMIT}")
        if not max_age > 0:
            raise ConfigurationError("max_age must be positive")
        check_schema(schema)
        self._type = type
        self._region = region
        self._info = hpke_info(type, region)
        self._schema = schema
        self._max_records = max_records
        self._max_age = float(max_age)
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._suite = ""
        self._recipients: tuple[KemPublicKey, ...] = ()
        self._aes: AESGCM | None = None
        self._receipt_key = b""
        self._tails: dict[int, bytes] = {}
        self._wrapped: list[dict[str, str]] = []
        self._dek_created = 0.0
        self._dek_records = 0
        self._dek_serial = 0
        self.replace_recipients(recipients, suite=suite)

    # -- configuration -------------------------------------------------------------------

    def replace_recipients(
        self, recipients: Iterable[KemPublicKey], *, suite: str | None = None
    ) -> None:
        """Seal to *recipients* from now on (e.g. after a key rotation); starts a new DEK."""
        unique: dict[str, KemPublicKey] = {}
        for key in recipients:
            unique.setdefault(key.kid, key)
        if not unique:
            raise ConfigurationError("a sealer needs at least one recipient key")
        suites = {key.suite for key in unique.values()}
        chosen = suite if suite is not None else next(iter(suites))
        if chosen not in SUITES:
            raise UnknownSuiteError("unknown KEM suite for sealing")
        if suites != {chosen}:
            raise ConfigurationError(
                f"all recipient keys must use suite {chosen}; got {', '.join(sorted(suites))}"
            )
        self._suite = chosen
        self._recipients = tuple(unique.values())
        self.rotate_dek()

    def rotate_dek(self) -> None:
        """Drop the current DEK; the next seal makes and wraps a new one."""
        self._aes = None
        self._receipt_key = b""
        self._tails = {}

    # -- sealing -------------------------------------------------------------------------

    def seal(
        self, payload: bytes, *, schema: int | None = None, record_id: uuid.UUID | None = None
    ) -> bytes:
        """Seal *payload* into the UTF-8 JSON envelope bytes (the Kafka record value).

        *schema* overrides the sealer's payload schema version for this record; *record_id*
        sets the envelope ``id`` (a fresh uuid4 by default).
        """
        return self._seal(payload, schema, record_id)[0]

    def seal_with_receipt(
        self, payload: bytes, *, schema: int | None = None, record_id: uuid.UUID | None = None
    ) -> SealedRecord:
        """:meth:`seal`, and what the node needs to read the record's receipts: the
        envelope id and the receipt key (derived from the data key, DESIGN §8)."""
        value, rid = self._seal(payload, schema, record_id)
        return SealedRecord(value, rid.decode("ascii"), self._receipt_key)

    def _seal(
        self, payload: bytes, schema: int | None, record_id: uuid.UUID | None
    ) -> tuple[bytes, bytes]:
        """The envelope bytes and the envelope id (ASCII)."""
        aes = self._current_aes()
        tail = self._tails.get(self._schema if schema is None else schema)
        if tail is None:
            tail = self._make_tail(self._schema if schema is None else schema)
        random = os.urandom(16 + NONCE_LEN)
        nonce = random[16:]
        rid = _uuid4_text(random[:16]) if record_id is None else str(record_id).encode("ascii")
        aad = b"".join((b'{"id":"', rid, b'","nonce":"', b64url_encode_bytes(nonce), b'",', tail))
        ciphertext = aes.encrypt(nonce, payload, aad)
        value = b"".join((aad[:-1], b',"ciphertext":"', b64url_encode_bytes(ciphertext), b'"}'))
        if len(value) > MAX_VALUE_BYTES:
            raise OversizedEnvelopeError(
                f"sealed value would be {len(value)} bytes, above the {MAX_VALUE_BYTES} limit"
            )
        self._dek_records += 1
        return value, rid

    def seal_many(self, payloads: Iterable[bytes], *, schema: int | None = None) -> list[bytes]:
        """Seal each payload in turn (DEK reuse applies across the batch)."""
        seal = self.seal
        return [seal(payload, schema=schema) for payload in payloads]

    # -- introspection (no key material) -------------------------------------------------

    @property
    def suite(self) -> str:
        return self._suite

    @property
    def kids(self) -> tuple[str, ...]:
        return tuple(key.kid for key in self._recipients)

    @property
    def dek_serial(self) -> int:
        """How many DEKs this sealer has made so far."""
        return self._dek_serial

    @property
    def dek_records(self) -> int:
        """Records sealed under the current DEK."""
        return self._dek_records

    def __repr__(self) -> str:
        return (
            f"Sealer(type={self._type!r}, region={self._region!r}, suite={self._suite!r}, "
            f"kids={self.kids!r}, max_records={self._max_records}, max_age={self._max_age})"
        )

    # -- internals -----------------------------------------------------------------------

    def _current_aes(self) -> AESGCM:
        now = self._clock.now()
        aes = self._aes
        if (
            aes is None
            or self._dek_records >= self._max_records
            or not 0.0 <= now - self._dek_created < self._max_age
        ):
            aes = self._new_dek(now)
        return aes

    def _new_dek(self, now: float) -> AESGCM:
        dek = AESGCM.generate_key(bit_length=8 * DEK_LEN)
        hpke = hpke_suite(self._suite)
        wrapped = [
            {"kid": key.kid, "wrapped": b64url_encode(hpke.encrypt(dek, key.hpke_key, self._info))}
            for key in self._recipients
        ]
        self._aes = AESGCM(dek)
        self._receipt_key = receipt_key(dek)
        self._tails = {}
        self._wrapped = wrapped
        self._dek_created = now
        self._dek_records = 0
        self._dek_serial += 1
        self._make_tail(self._schema)
        return self._aes

    def _make_tail(self, schema: int) -> bytes:
        """Canonical JSON of the per-DEK header fields, without the opening brace."""
        check_schema(schema)
        header = canonical_json(
            {
                "recipients": self._wrapped,
                "region": self._region,
                "schema": schema,
                "suite": self._suite,
                "type": self._type,
                "v": ENVELOPE_VERSION,
            }
        )
        tail = header[1:]
        self._tails[schema] = tail
        return tail


def _uuid4_text(random16: bytes) -> bytes:
    """Canonical text of a version-4 UUID made from 16 random bytes (as ``uuid.uuid4``)."""
    raw = bytearray(random16)
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    h = raw.hex().encode("ascii")
    return b"-".join((h[:8], h[8:12], h[12:16], h[16:20], h[20:]))
