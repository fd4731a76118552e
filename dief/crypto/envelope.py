"""Sealing and opening the sealed envelope v1 (DESIGN §3 ⚑).

Wire form (see :mod:`dief.crypto.wire`)::

    {"v": 1, "type": "dief.case", "schema": 1, "id": "<uuid4>", "region": "AFR",
     "suite": "MLKEM768X25519-HKDFSHA256-AES256GCM",
     "recipients": [{"kid": "...", "wrapped": "<base64url>"}, ...],
     "nonce": "<base64url, 12 bytes>", "ciphertext": "<base64url>"}

* content: AES-256-GCM under a random 256-bit data key (DEK), 12-byte random nonce;
  associated data = canonical JSON (:func:`dief.crypto.canonical_json`) of every field except
  ``ciphertext``, i.e. of the fields *as they appear on the wire*;
* DEK wrapping: RFC 9180 HPKE single-shot, ``info = b"dief/v1/dek/" + type + b"/" + region``;
* base64url: written without padding, read with or without (strict, canonical only).

Reuse. A :class:`Sealer` keeps one DEK, and its wrapped forms, for up to ``max_records``
records or ``max_age`` seconds (whichever comes first), so a seal costs one AES-GCM plus
string joins. An :class:`Opener` keeps the unwrapped DEKs in a bounded LRU cache. The cache
key is SHA-256 over *every input of the unwrap* — suite, recipient kid, HPKE ``info`` (type
and region) and the ``wrapped`` text — not over ``wrapped`` alone: a hit then means the very
same HPKE decryption already succeeded, so opening with a warm cache accepts exactly what
opening with a cold one accepts. Keyed by ``wrapped`` alone, a sender that knows a DEK (any
sealer does) could re-use a wrapped DEK under a different recipient kid, type or region and
have it accepted only while the cache is warm. Everything else in the header is bound by the
AES-GCM associated data, cached DEK or not.

Opening checks, in order: size (before parsing); UTF-8 JSON object; ``v``; ``type`` and the
payload ``schema`` against the supported set (so a future envelope version or schema is
reported as such even if its shape changed); the rest of the shape; ``suite``; the
recipients against the held kids; base64; HPKE unwrap; AES-GCM. Each failure has its own
:class:`dief.exceptions.EnvelopeError` subclass.

Neither class is thread-safe; use one per thread or event loop.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections import OrderedDict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from dief.crypto._encoding import (
    b64url_decode,
    b64url_encode,
    b64url_encode_bytes,
    canonical_json,
)
from dief.crypto.clock import Clock, SystemClock
from dief.crypto.keys import SUITES, KemPrivateKey, KemPublicKey, hpke_suite
from dief.crypto.wire import ENVELOPE_VERSION, MAX_VALUE_BYTES
from dief.exceptions import (
    AuthenticationError,
    ConfigurationError,
    EnvelopeVersionError,
    MalformedEnvelopeError,
    NoRecipientKeyError,
    OversizedEnvelopeError,
    UnknownSuiteError,
)

__all__ = [
    "DEFAULT_CACHE_SIZE",
    "DEFAULT_MAX_AGE",
    "DEFAULT_MAX_RECORDS",
    "DEFAULT_SCHEMAS",
    "TYPE_CASE",
    "TYPE_DIGEST",
    "CacheInfo",
    "OpenedEnvelope",
    "Opener",
    "Sealer",
    "hpke_info",
]

TYPE_CASE = "dief.case"
TYPE_DIGEST = "dief.digest"
DEFAULT_SCHEMAS: Mapping[str, frozenset[int]] = {
    TYPE_CASE: frozenset({1}),
    TYPE_DIGEST: frozenset({1}),
}
"""Payload schema versions an :class:`Opener` accepts by default, per payload type."""

DEFAULT_MAX_RECORDS = 100_000
DEFAULT_MAX_AGE = 3600.0
DEFAULT_CACHE_SIZE = 1024

_NONCE_LEN = 12
_DEK_LEN = 32
_TAG_LEN = 16
_MAX_RECORDS_LIMIT = 2**32  # random 96-bit nonces: NIST SP 800-38D §8.3 bound per key
_FIELDS = frozenset(
    {"v", "type", "schema", "id", "region", "suite", "recipients", "nonce", "ciphertext"}
)
_RECIPIENT_FIELDS = frozenset({"kid", "wrapped"})


def hpke_info(payload_type: str, region: str) -> bytes:
    """HPKE ``info`` for a data key: ``b"dief/v1/dek/" + type + b"/" + region``."""
    return b"dief/v1/dek/" + payload_type.encode("utf-8") + b"/" + region.encode("utf-8")


@dataclass(frozen=True, slots=True)
class OpenedEnvelope:
    """What :meth:`Opener.open` returns. ``repr`` leaves the payload out."""

    type: str
    schema: int
    id: str
    region: str
    suite: str
    kid: str
    """Key id of the held key that unwrapped the data key."""
    payload: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class CacheInfo:
    """Opener DEK-cache statistics."""

    hits: int
    misses: int
    size: int
    maxsize: int


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
        if not 1 <= max_records <= _MAX_RECORDS_LIMIT:
            raise ConfigurationError(f"max_records must be between 1 and {_MAX_RECORDS_LIMIT}")
        if not max_age > 0:
            raise ConfigurationError("max_age must be positive")
        _check_schema(schema)
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
        self._tails = {}

    # -- sealing -------------------------------------------------------------------------

    def seal(
        self, payload: bytes, *, schema: int | None = None, record_id: uuid.UUID | None = None
    ) -> bytes:
        """Seal *payload* into the UTF-8 JSON envelope bytes (the Kafka record value).

        *schema* overrides the sealer's payload schema version for this record; *record_id*
        sets the envelope ``id`` (a fresh uuid4 by default).
        """
        aes = self._current_aes()
        tail = self._tails.get(self._schema if schema is None else schema)
        if tail is None:
            tail = self._make_tail(self._schema if schema is None else schema)
        random = os.urandom(16 + _NONCE_LEN)
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
        return value

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
        dek = AESGCM.generate_key(bit_length=8 * _DEK_LEN)
        hpke = hpke_suite(self._suite)
        wrapped = [
            {"kid": key.kid, "wrapped": b64url_encode(hpke.encrypt(dek, key.hpke_key, self._info))}
            for key in self._recipients
        ]
        self._aes = AESGCM(dek)
        self._tails = {}
        self._wrapped = wrapped
        self._dek_created = now
        self._dek_records = 0
        self._dek_serial += 1
        self._make_tail(self._schema)
        return self._aes

    def _make_tail(self, schema: int) -> bytes:
        """Canonical JSON of the per-DEK header fields, without the opening brace."""
        _check_schema(schema)
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


def _check_schema(schema: int) -> None:
    if type(schema) is not int or schema < 1:
        raise ConfigurationError("payload schema version must be an integer >= 1")


def _reject_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate key")
    return result


def _reject_constant(_: str) -> object:
    raise ValueError("NaN and Infinity are not JSON")


_DECODER = json.JSONDecoder(object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant)


def _small(number: int) -> str:
    """An integer from the input, shown only when short."""
    return str(number) if -1000 < number < 1000 else "(out of range)"


def _malformed(what: str) -> MalformedEnvelopeError:
    return MalformedEnvelopeError(f"malformed envelope: {what}")


def _str_field(doc: Mapping[str, object], name: str) -> str:
    value = doc[name]
    if not isinstance(value, str):
        raise _malformed(f"field {name!r} must be a string")
    return value


def _cache_key(suite: str, kid: str, info: bytes, wrapped_text: str) -> bytes:
    """SHA-256 over every input of the unwrap, each length-prefixed (unambiguous)."""
    parts = (suite.encode(), kid.encode(), info, wrapped_text.encode())
    return hashlib.sha256(
        b"".join([len(part).to_bytes(4, "big") + part for part in parts])
    ).digest()


class Opener:
    """Opens envelopes with the private keys it holds, by key id.

    *schemas* maps each accepted payload type to its accepted schema versions. *cache_size*
    bounds the LRU cache of unwrapped DEKs. *max_value_bytes* can only lower the 256 KiB
    limit.
    """

    __slots__ = ("_cache", "_cache_size", "_hits", "_keys", "_max_value", "_misses", "_schemas")

    def __init__(
        self,
        keys: Iterable[KemPrivateKey],
        *,
        schemas: Mapping[str, Collection[int]] = DEFAULT_SCHEMAS,
        cache_size: int = DEFAULT_CACHE_SIZE,
        max_value_bytes: int = MAX_VALUE_BYTES,
    ) -> None:
        if cache_size < 0:
            raise ConfigurationError("cache_size must be >= 0")
        if not 0 < max_value_bytes <= MAX_VALUE_BYTES:
            raise ConfigurationError(f"max_value_bytes must be in 1..{MAX_VALUE_BYTES}")
        self._keys: dict[str, KemPrivateKey] = {}
        for key in keys:
            self._keys[key.kid] = key
        self._schemas = {name: frozenset(versions) for name, versions in schemas.items()}
        self._cache: OrderedDict[bytes, AESGCM] = OrderedDict()
        self._cache_size = cache_size
        self._max_value = max_value_bytes
        self._hits = 0
        self._misses = 0

    def add_key(self, key: KemPrivateKey) -> None:
        """Hold one more private key (e.g. after a rotation)."""
        self._keys[key.kid] = key

    def remove_key(self, kid: str) -> None:
        """Stop holding the key *kid* (after retirement) and forget the DEKs it unwrapped."""
        self._keys.pop(kid, None)
        self.clear_cache()

    @property
    def kids(self) -> frozenset[str]:
        return frozenset(self._keys)

    def cache_info(self) -> CacheInfo:
        return CacheInfo(self._hits, self._misses, len(self._cache), self._cache_size)

    def clear_cache(self) -> None:
        self._cache.clear()

    def __repr__(self) -> str:
        return (
            f"Opener(kids={sorted(self._keys)!r}, types={sorted(self._schemas)!r}, "
            f"cache={len(self._cache)}/{self._cache_size})"
        )

    def open(self, value: bytes | bytearray | memoryview | str) -> OpenedEnvelope:
        """Check and decrypt one envelope; raise an :class:`EnvelopeError` subclass if not."""
        if isinstance(value, str):
            try:
                data = value.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise _malformed("not valid Unicode text") from exc
        else:
            data = bytes(value)
        if len(data) > self._max_value:
            raise OversizedEnvelopeError(
                f"envelope is {len(data)} bytes, above the {self._max_value} byte limit"
            )
        try:
            doc = _DECODER.decode(data.decode("utf-8"))
        except (ValueError, RecursionError) as exc:
            raise _malformed("not UTF-8 JSON (or a key appears twice)") from exc
        if not isinstance(doc, dict):
            raise _malformed("not a JSON object")

        # Versions first, so a newer envelope or schema is reported as such.
        if "v" not in doc or type(doc["v"]) is not int:
            raise _malformed("field 'v' missing or not an integer")
        if doc["v"] != ENVELOPE_VERSION:
            raise EnvelopeVersionError(
                f"envelope version {_small(doc['v'])} not supported (supported: {ENVELOPE_VERSION})"
            )
        if "type" not in doc or "schema" not in doc:
            raise _malformed("field 'type' or 'schema' missing")
        payload_type = _str_field(doc, "type")
        supported = self._schemas.get(payload_type)
        if supported is None:
            raise EnvelopeVersionError(
                f"payload type not supported here (supported: {', '.join(sorted(self._schemas))})",
                code="unsupported_type",
            )
        schema = doc["schema"]
        if type(schema) is not int:
            raise _malformed("field 'schema' must be an integer")
        if schema not in supported:
            raise EnvelopeVersionError(
                f"{payload_type} schema {_small(schema)} not supported "
                f"(supported: {', '.join(map(str, sorted(supported)))})"
            )

        missing = _FIELDS - doc.keys()
        if missing:
            raise _malformed(f"missing field(s) {', '.join(sorted(missing))}")
        if len(doc) != len(_FIELDS):
            raise _malformed(f"{len(doc) - len(_FIELDS)} unexpected field(s)")
        record_id = _str_field(doc, "id")
        region = _str_field(doc, "region")
        suite = _str_field(doc, "suite")
        nonce_text = _str_field(doc, "nonce")
        ciphertext_text = _str_field(doc, "ciphertext")
        recipients = doc["recipients"]
        if not isinstance(recipients, list) or not recipients:
            raise _malformed("field 'recipients' must be a non-empty list")
        held: list[tuple[KemPrivateKey, str]] = []
        seen: set[str] = set()
        for recipient in recipients:
            if not isinstance(recipient, dict) or recipient.keys() != _RECIPIENT_FIELDS:
                raise _malformed("each recipient must be an object with 'kid' and 'wrapped'")
            kid, wrapped_text = recipient["kid"], recipient["wrapped"]
            if not isinstance(kid, str) or not isinstance(wrapped_text, str):
                raise _malformed("recipient 'kid' and 'wrapped' must be strings")
            if kid in seen:
                raise _malformed("a recipient kid appears twice")
            seen.add(kid)
            key = self._keys.get(kid)
            if key is not None:
                held.append((key, wrapped_text))

        if suite not in SUITES:
            raise UnknownSuiteError("envelope suite is not one this opener implements")
        if not held:
            raise NoRecipientKeyError(
                f"none of the envelope's {len(recipients)} recipient key(s) is held here "
                f"(held: {', '.join(sorted(self._keys)) or 'none'})"
            )
        try:
            nonce = b64url_decode(nonce_text)
            ciphertext = b64url_decode(ciphertext_text)
        except ValueError as exc:
            raise _malformed("'nonce' or 'ciphertext' is not base64url") from exc
        if len(nonce) != _NONCE_LEN:
            raise _malformed(f"'nonce' must be {_NONCE_LEN} bytes")
        if len(ciphertext) < _TAG_LEN:
            raise _malformed("'ciphertext' is shorter than the AES-GCM tag")

        info = hpke_info(payload_type, region)
        aes, used = self._unwrap(suite, info, held)
        del doc["ciphertext"]
        try:
            payload = aes.decrypt(nonce, ciphertext, canonical_json(doc))
        except InvalidTag:
            raise AuthenticationError(
                "envelope failed authentication: header, recipients, id, nonce or ciphertext "
                "was altered"
            ) from None
        return OpenedEnvelope(
            type=payload_type,
            schema=schema,
            id=record_id,
            region=region,
            suite=suite,
            kid=used,
            payload=payload,
        )

    def _unwrap(
        self, suite: str, info: bytes, held: Sequence[tuple[KemPrivateKey, str]]
    ) -> tuple[AESGCM, str]:
        for key, wrapped_text in held:
            # Keyed by the wrapped *text*: a hit means this exact text was decoded and
            # unwrapped successfully before, so the cache changes speed, never outcomes.
            cache_key = _cache_key(suite, key.kid, info, wrapped_text)
            aes = self._cache.get(cache_key)
            if aes is not None:
                self._cache.move_to_end(cache_key)
                self._hits += 1
                return aes, key.kid
            try:
                wrapped = b64url_decode(wrapped_text)
            except ValueError as exc:
                raise _malformed("recipient 'wrapped' is not base64url") from exc
            if key.suite != suite:
                continue
            try:
                dek = hpke_suite(suite).decrypt(wrapped, key.hpke_key, info)
            except (InvalidTag, ValueError, TypeError):
                continue
            if len(dek) != _DEK_LEN:
                continue
            self._misses += 1
            aes = AESGCM(dek)
            if self._cache_size:
                self._cache[cache_key] = aes
                if len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
            return aes, key.kid
        raise AuthenticationError(
            "no recipient's wrapped data key opens with the held key for this type and region"
        )
