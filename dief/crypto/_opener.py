"""The opening side of the envelope: :class:`Opener` (see :mod:`dief.crypto.envelope`).

Its steps, in the order DESIGN §4 lists them: the envelope's shape, checked field by field
(:mod:`dief.crypto._opener_header`), then the data key's unwrap, the associated data and
the decryption (:mod:`dief.crypto._opener_aead`).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from dief.crypto._common import (
    DEFAULT_CACHE_SIZE,
    DEFAULT_PADDED_SIZES,
    DEFAULT_SCHEMAS,
    RECIPIENT_FIELDS,
    CacheInfo,
    OpenedEnvelope,
    PaddingRule,
    receipt_key,
)
from dief.crypto._encoding import b64url_decode
from dief.crypto._opener_aead import (
    CacheKey,
    Unwrapped,
    decrypt,
    header_aad,
    hpke_unwrap,
    unwrap_info,
)
from dief.crypto._opener_header import (
    envelope_version,
    header_strings,
    json_object,
    malformed,
    nonce_and_ciphertext,
    shown_int,
    str_field,
    within_limit,
)
from dief.crypto.keys import SUITES, KemPrivateKey
from dief.exceptions import (
    AuthenticationError,
    ConfigurationError,
    EnvelopeVersionError,
    NoRecipientKeyError,
    UnknownSuiteError,
)
from dief.wire import MAX_VALUE_BYTES

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterable, Mapping, Sequence

__all__ = ["Opener"]


class Opener:
    """Opens envelopes with the private keys it holds, by key id.

    *schemas* maps each accepted payload type to its accepted schema versions. *sizes* maps
    payload types to their allowed padded payload sizes (a type not listed: every power of
    two from 1,024 bytes); a payload of another length, or whose padding is not all spaces,
    is refused with :class:`PaddingError` (``bad_padding``) and returned without its padding
    otherwise. *cache_size* bounds the LRU cache of unwrapped DEKs (every record has its own
    DEK, so it only helps when a record is opened again). *max_value_bytes* can only lower
    the 256 KiB limit.
    """

    __slots__ = (
        "_cache",
        "_cache_size",
        "_hits",
        "_keys",
        "_max_value",
        "_misses",
        "_missing_keys",
        "_padding",
        "_schemas",
    )

    def __init__(  # noqa: PLR0913  the associated data's fields, one argument each, in the order DESIGN §4 lists them
        self,
        keys: Iterable[KemPrivateKey],
        *,
        schemas: Mapping[str, Collection[int]] = DEFAULT_SCHEMAS,
        sizes: Mapping[str, Collection[int]] = DEFAULT_PADDED_SIZES,
        cache_size: int = DEFAULT_CACHE_SIZE,
        max_value_bytes: int = MAX_VALUE_BYTES,
        missing_keys: Callable[[frozenset[str]], Iterable[KemPrivateKey]] | None = None,
    ) -> None:
        """*missing_keys*, if given, is asked for private keys of an envelope's recipient
        kids when none is held (a key the holder made and published, not yet loaded here:
        a rotation seen by the sender first); the keys it returns are held from then on."""
        if cache_size < 0:
            raise ConfigurationError("cache_size must be >= 0")
        if not 0 < max_value_bytes <= MAX_VALUE_BYTES:
            raise ConfigurationError(f"max_value_bytes must be in 1..{MAX_VALUE_BYTES}")
        self._keys: dict[str, KemPrivateKey] = {}
        for key in keys:
            self._keys[key.kid] = key
        self._schemas = {name: frozenset(versions) for name, versions in schemas.items()}
        self._padding = {name: PaddingRule.of(name, sizes) for name in self._schemas}
        self._cache: OrderedDict[CacheKey, Unwrapped] = OrderedDict()
        self._cache_size = cache_size
        self._max_value = max_value_bytes
        self._hits = 0
        self._misses = 0
        self._missing_keys = missing_keys

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

    def open(self, value: bytes | bytearray | memoryview | str) -> OpenedEnvelope:  # noqa: PLR0914  one pass of the envelope's checks in the order of DESIGN §4, each step named
        """Check and decrypt one envelope; raise an :class:`EnvelopeError` subclass if not.

        The checks run in the order :mod:`dief.crypto.envelope` documents, one step each:
        size and UTF-8 JSON object; ``v``; ``type`` and ``schema`` (versions first, so a
        newer envelope or schema is reported as such even if its shape changed); the rest
        of the shape (header strings, then recipients); ``suite``; a held recipient key;
        base64; HPKE unwrap through the DEK cache; the associated data; AES-GCM; the
        padding (the payload is returned without it).
        """
        doc = json_object(within_limit(value, self._max_value))
        version = envelope_version(doc)
        payload_type, schema = self._type_and_schema(doc)
        record_id, region, suite, nonce_text, ciphertext_text = header_strings(doc)
        pairs, held = self._recipients(doc["recipients"])
        if suite not in SUITES:
            raise UnknownSuiteError("envelope suite is not one this opener implements")
        if not held and self._missing_keys is not None:
            wanted = frozenset(kid for kid, _wrapped in pairs)
            for key in self._missing_keys(wanted):
                if key.kid in wanted:
                    self.add_key(key)
            pairs, held = self._recipients(doc["recipients"])
        if not held:
            raise self._none_held(len(pairs))
        nonce, ciphertext = nonce_and_ciphertext(nonce_text, ciphertext_text)
        (aes, rkey), used, wrapped_text = self._unwrap(suite, payload_type, region, held)
        aad = header_aad(
            record_id, nonce_text, pairs, region, schema, suite, payload_type, version, wrapped_text
        )
        return OpenedEnvelope(
            type=payload_type,
            schema=schema,
            id=record_id,
            region=region,
            suite=suite,
            kid=used,
            payload=self._padding[payload_type].unpad(decrypt(aes, nonce, ciphertext, aad)),
            receipt_key=rkey,
        )

    def _type_and_schema(self, doc: Mapping[str, object]) -> tuple[str, int]:
        """Step "type and schema": both present, the payload type one this opener accepts
        and the payload schema one of that type's accepted versions."""
        if "type" not in doc or "schema" not in doc:
            raise malformed("field 'type' or 'schema' missing")
        payload_type = str_field(doc, "type")
        supported = self._schemas.get(payload_type)
        if supported is None:
            raise EnvelopeVersionError(
                f"payload type not supported here (supported: {', '.join(sorted(self._schemas))})",
                code="unsupported_type",
            )
        schema = doc["schema"]
        if type(schema) is not int:
            raise malformed("field 'schema' must be an integer")
        if schema not in supported:
            raise EnvelopeVersionError(
                f"{payload_type} schema {shown_int(schema)} not supported "
                f"(supported: {', '.join(map(str, sorted(supported)))})"
            )
        return payload_type, schema

    def _recipients(
        self, recipients: object
    ) -> tuple[list[tuple[str, str]], list[tuple[KemPrivateKey, str]]]:
        """Step "shape", recipients: a non-empty list of ``{"kid", "wrapped"}`` string objects
        with distinct kids. Returns every (kid, wrapped text) pair in wire order (for the
        associated data) and the (held key, wrapped text) pairs of the kids held here, in
        the same order (for the unwrap)."""
        if not isinstance(recipients, list) or not recipients:
            raise malformed("field 'recipients' must be a non-empty list")
        pairs: list[tuple[str, str]] = []
        held: list[tuple[KemPrivateKey, str]] = []
        seen: set[str] = set()
        for recipient in recipients:
            if not isinstance(recipient, dict) or recipient.keys() != RECIPIENT_FIELDS:
                raise malformed("each recipient must be an object with 'kid' and 'wrapped'")
            kid, wrapped_text = recipient["kid"], recipient["wrapped"]
            if not isinstance(kid, str) or not isinstance(wrapped_text, str):
                raise malformed("recipient 'kid' and 'wrapped' must be strings")
            if kid in seen:
                raise malformed("a recipient kid appears twice")
            seen.add(kid)
            pairs.append((kid, wrapped_text))
            key = self._keys.get(kid)
            if key is not None:
                held.append((key, wrapped_text))
        return pairs, held

    def _none_held(self, recipients: int) -> NoRecipientKeyError:
        """Step "recipients": the error when none of the *recipients* kids is held here."""
        return NoRecipientKeyError(
            f"none of the envelope's {recipients} recipient key(s) is held here "
            f"(held: {', '.join(sorted(self._keys)) or 'none'})"
        )

    def _unwrap(
        self, suite: str, payload_type: str, region: str, held: Sequence[tuple[KemPrivateKey, str]]
    ) -> tuple[Unwrapped, str, str]:
        """Step "HPKE unwrap with the DEK cache": the AES-GCM of the data key with the
        record's receipt key, the kid that unwrapped it and its wrapped text (which decoded
        as base64url, now or when it was cached).

        The held recipients are tried in wire order; the first cache hit or successful
        unwrap wins. A wrapped text that is not base64url is malformed even when another
        held key might have opened; a held key of another suite is skipped.
        """
        info: bytes | None = None
        for key, wrapped_text in held:
            # Keyed by every input of the unwrap, the wrapped *text* included: a hit means
            # this exact unwrap succeeded before, so the cache changes speed, never outcomes.
            cache_key = (suite, key.kid, payload_type, region, wrapped_text)
            cached = self._cache.get(cache_key)
            if cached is not None:
                self._cache.move_to_end(cache_key)
                self._hits += 1
                return cached, key.kid, wrapped_text
            try:
                wrapped = b64url_decode(wrapped_text)
            except ValueError as exc:
                raise malformed("recipient 'wrapped' is not base64url") from exc
            if key.suite != suite:
                continue
            if info is None:
                info = unwrap_info(payload_type, region)
            dek = hpke_unwrap(suite, key, wrapped, info)
            if dek is None:
                continue
            self._misses += 1
            unwrapped = (AESGCM(dek), receipt_key(dek))
            self._remember(cache_key, unwrapped)
            return unwrapped, key.kid, wrapped_text
        raise AuthenticationError(
            "no recipient's wrapped data key opens with the held key for this type and region"
        )

    def _remember(self, cache_key: CacheKey, unwrapped: Unwrapped) -> None:
        """Keep a freshly unwrapped data key in the LRU cache (evicting the least recently
        used one beyond ``cache_size``; nothing is kept with ``cache_size=0``)."""
        if self._cache_size:
            self._cache[cache_key] = unwrapped
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
