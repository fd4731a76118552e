"""The sealing side of the envelope: :class:`Sealer` (see :mod:`dief.crypto.envelope`)."""

from __future__ import annotations

import os
from json.encoder import encode_basestring
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from dief.crypto._common import (
    DEFAULT_PADDED_SIZES,
    DEFAULT_SCHEMAS,
    DEK_LEN,
    NONCE_LEN,
    PADDING_BYTE,
    PaddingRule,
    SealedRecord,
    check_schema,
    hpke_info,
    receipt_key,
)
from dief.crypto._encoding import b64url_encode_bytes
from dief.crypto.keys import SUITES, KemPublicKey, hpke_suite
from dief.exceptions import ConfigurationError, OversizedEnvelopeError, UnknownSuiteError
from dief.wire import ENVELOPE_VERSION, MAX_VALUE_BYTES

if TYPE_CHECKING:
    import uuid
    from collections.abc import Collection, Iterable

__all__ = ["Sealer"]


def _check_label(name: str, value: str) -> None:
    if not isinstance(value, str) or not value or "/" in value:
        raise ConfigurationError(f"{name} must be a non-empty string without '/'")


class Sealer:
    """Seals payloads of one type for one region to a fixed set of recipients.

    Every :meth:`seal` draws a fresh data key (DEK) and wraps it to each recipient (DESIGN
    §3 ⚑): no two records share a ``wrapped`` value, a DEK or a receipt key.

    *recipients* are the public keys to wrap each DEK to (all of one suite; duplicates by kid
    are dropped). *suite* defaults to the recipients' suite; *schema* to the newest payload
    schema of *type* in :data:`DEFAULT_SCHEMAS` (1 for other types). *sizes* are the padded
    payload sizes receivers accept for this type (by default :data:`DEFAULT_PADDED_SIZES`;
    a type not listed there pads to powers of two from 1,024 bytes).
    """

    __slots__ = (
        "_after_recipients",
        "_hpke",
        "_info",
        "_padding",
        "_recipients",
        "_region",
        "_schema",
        "_suite",
        "_tails",
        "_type",
        "_wrapped_heads",
    )

    def __init__(  # noqa: PLR0913  the public keyword signature (type is the envelope's field name, DESIGN §4); used outside dief/crypto
        self,
        *,
        type: str,  # noqa: A002  the public keyword signature (type is the envelope's field name, DESIGN §4); used outside dief/crypto
        region: str,
        recipients: Iterable[KemPublicKey],
        suite: str | None = None,
        schema: int | None = None,
        sizes: Collection[int] | None = None,
    ) -> None:
        _check_label("type", type)
        _check_label("region", region)
        if schema is None:
            schema = max(DEFAULT_SCHEMAS.get(type, (1,)))
        check_schema(schema)
        self._type = type
        self._region = region
        self._info = hpke_info(type, region)
        self._schema = schema
        self._padding = PaddingRule.of(
            type, {type: sizes} if sizes is not None else DEFAULT_PADDED_SIZES
        )
        self._suite = ""
        self._recipients: tuple[KemPublicKey, ...] = ()
        self._wrapped_heads: tuple[bytes, ...] = ()
        self._after_recipients = b""
        self._tails: dict[int, bytes] = {}
        self.replace_recipients(recipients, suite=suite)

    # -- configuration -------------------------------------------------------------------

    def replace_recipients(
        self, recipients: Iterable[KemPublicKey], *, suite: str | None = None
    ) -> None:
        """Seal to *recipients* from now on (e.g. after a key rotation)."""
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
        self._hpke = hpke_suite(chosen)
        self._recipients = tuple(unique.values())
        # The header around the wrapped values, as canonical JSON writes it (sorted keys;
        # kids are base32, the wrapped values base64url: neither needs escaping).
        self._wrapped_heads = tuple(
            b'{"kid":' + encode_basestring(key.kid).encode() + b',"wrapped":"'
            for key in self._recipients
        )
        self._after_recipients = f'],"region":{encode_basestring(self._region)},"schema":'.encode()
        self._tails = {}

    # -- sealing -------------------------------------------------------------------------

    def seal(
        self,
        payload: bytes,
        *,
        pad_to: int | None = None,
        schema: int | None = None,
        record_id: uuid.UUID | None = None,
    ) -> bytes:
        """Seal *payload* into the UTF-8 JSON envelope bytes (the Kafka record value).

        The payload is padded with trailing spaces to *pad_to* bytes (one of the sizes
        receivers accept for this type), or by default to the smallest accepted size that
        holds it. *schema* overrides the sealer's payload schema version for this record;
        *record_id* sets the envelope ``id`` (a fresh uuid4 by default).

        :raises ValidationError: (``record_too_large``) the payload does not fit *pad_to*
            (or any accepted size);
        :raises ConfigurationError: *pad_to* is not a size receivers accept, or the payload
            ends with a space (its padding could not be told apart);
        :raises OversizedEnvelopeError: the envelope would exceed the 256 KiB limit.
        """
        return self._seal(payload, pad_to, schema, record_id)[0]

    def seal_with_receipt(
        self,
        payload: bytes,
        *,
        pad_to: int | None = None,
        schema: int | None = None,
        record_id: uuid.UUID | None = None,
    ) -> SealedRecord:
        """:meth:`seal`, and what the node needs to read the record's receipts: the
        envelope id and the receipt key (derived from the record's own data key, DESIGN §8)."""
        value, rid, rkey = self._seal(payload, pad_to, schema, record_id)
        return SealedRecord(value, rid.decode("ascii"), rkey)

    def seal_many(
        self, payloads: Iterable[bytes], *, pad_to: int | None = None, schema: int | None = None
    ) -> list[bytes]:
        """Seal each payload in turn, each under its own data key."""
        seal = self.seal
        return [seal(payload, pad_to=pad_to, schema=schema) for payload in payloads]

    def _seal(
        self,
        payload: bytes,
        pad_to: int | None,
        schema: int | None,
        record_id: uuid.UUID | None,
    ) -> tuple[bytes, bytes, bytes]:
        """The envelope bytes, the envelope id (ASCII) and the record's receipt key."""
        padded = self._pad(payload, pad_to)
        tail = self._tail(self._schema if schema is None else schema)
        dek = AESGCM.generate_key(bit_length=8 * DEK_LEN)
        encrypt, info = self._hpke.encrypt, self._info
        listed = b"},".join(
            [
                head + b64url_encode_bytes(encrypt(dek, key.hpke_key, info)) + b'"'
                for head, key in zip(self._wrapped_heads, self._recipients, strict=True)
            ]
        )
        random = os.urandom(16 + NONCE_LEN)
        nonce = random[16:]
        rid = _uuid4_text(random[:16]) if record_id is None else str(record_id).encode("ascii")
        aad = b"".join(
            (
                b'{"id":"',
                rid,
                b'","nonce":"',
                b64url_encode_bytes(nonce),
                b'","recipients":[',
                listed,
                b"}",
                tail,
            )
        )
        ciphertext = AESGCM(dek).encrypt(nonce, padded, aad)
        value = b"".join((aad[:-1], b',"ciphertext":"', b64url_encode_bytes(ciphertext), b'"}'))
        if len(value) > MAX_VALUE_BYTES:
            raise OversizedEnvelopeError(
                f"sealed value would be {len(value)} bytes, above the {MAX_VALUE_BYTES} limit"
            )
        return value, rid, receipt_key(dek)

    def _pad(self, payload: bytes, pad_to: int | None) -> bytes:
        """*payload* padded with trailing spaces to its padded size (DESIGN §3 ⚑)."""
        length = len(payload)
        if payload.endswith(PADDING_BYTE):
            raise ConfigurationError("a payload to seal must not end with a space")
        rule = self._padding
        size = rule.size_for(length) if pad_to is None else rule.check_pad_to(pad_to, length)
        return payload + PADDING_BYTE * (size - length)

    def _tail(self, schema: int) -> bytes:
        """The header after the recipients list, for payload schema *schema*."""
        tail = self._tails.get(schema)
        if tail is None:
            check_schema(schema)
            tail = b"".join(
                (
                    self._after_recipients,
                    str(schema).encode("ascii"),
                    b',"suite":',
                    encode_basestring(self._suite).encode(),
                    b',"type":',
                    encode_basestring(self._type).encode(),
                    b',"v":',
                    str(ENVELOPE_VERSION).encode("ascii"),
                    b"}",
                )
            )
            self._tails[schema] = tail
        return tail

    # -- introspection (no key material) -------------------------------------------------

    @property
    def suite(self) -> str:
        return self._suite

    @property
    def kids(self) -> tuple[str, ...]:
        return tuple(key.kid for key in self._recipients)

    @property
    def padded_sizes(self) -> frozenset[int] | None:
        """The padded sizes this sealer pads to (``None``: powers of two from 1,024)."""
        return self._padding.sizes

    def __repr__(self) -> str:
        return (
            f"Sealer(type={self._type!r}, region={self._region!r}, suite={self._suite!r}, "
            f"kids={self.kids!r})"
        )


def _uuid4_text(random16: bytes) -> bytes:
    """Canonical text of a version-4 UUID made from 16 random bytes (as ``uuid.uuid4``)."""
    raw = bytearray(random16)
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    h = raw.hex().encode("ascii")
    return b"-".join((h[:8], h[8:12], h[12:16], h[16:20], h[20:]))
