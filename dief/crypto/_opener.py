"""The opening side of the envelope: :class:`Opener` (see :mod:`dief.crypto.envelope`)."""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Collection, Iterable, Mapping, Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from dief.crypto._common import (
    DEFAULT_CACHE_SIZE,
    DEFAULT_SCHEMAS,
    DEK_LEN,
    ENVELOPE_FIELDS,
    NONCE_LEN,
    RECIPIENT_FIELDS,
    TAG_LEN,
    CacheInfo,
    OpenedEnvelope,
    hpke_info,
)
from dief.crypto._encoding import b64url_decode, canonical_json
from dief.crypto.keys import SUITES, KemPrivateKey, hpke_suite
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

__all__ = ["Opener"]


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

        missing = ENVELOPE_FIELDS - doc.keys()
        if missing:
            raise _malformed(f"missing field(s) {', '.join(sorted(missing))}")
        if len(doc) != len(ENVELOPE_FIELDS):
            raise _malformed(f"{len(doc) - len(ENVELOPE_FIELDS)} unexpected field(s)")
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
            if not isinstance(recipient, dict) or recipient.keys() != RECIPIENT_FIELDS:
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
        if len(nonce) != NONCE_LEN:
            raise _malformed(f"'nonce' must be {NONCE_LEN} bytes")
        if len(ciphertext) < TAG_LEN:
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
            if len(dek) != DEK_LEN:
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
