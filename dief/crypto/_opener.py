"""The opening side of the envelope: :class:`Opener` (see :mod:`dief.crypto.envelope`)."""

from __future__ import annotations

import json
from collections import OrderedDict
from json.encoder import encode_basestring
from typing import TYPE_CHECKING, NoReturn

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from dief.crypto._common import (
    DEFAULT_CACHE_SIZE,
    DEFAULT_PADDED_SIZES,
    DEFAULT_SCHEMAS,
    DEK_LEN,
    ENVELOPE_FIELDS,
    NONCE_LEN,
    RECIPIENT_FIELDS,
    TAG_LEN,
    CacheInfo,
    OpenedEnvelope,
    PaddingRule,
    hpke_info,
    receipt_key,
)
from dief.crypto._encoding import b64url_decode
from dief.crypto.keys import SUITES, KemPrivateKey, hpke_suite
from dief.exceptions import (
    AuthenticationError,
    ConfigurationError,
    EnvelopeVersionError,
    MalformedEnvelopeError,
    NoRecipientKeyError,
    OversizedEnvelopeError,
    UnknownSuiteError,
)
from dief.wire import ENVELOPE_VERSION, MAX_VALUE_BYTES

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterable, Mapping, Sequence

__all__ = ["Opener"]


def _reject_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate key")
    return result


def _reject_constant(_: str) -> object:
    raise ValueError("NaN and Infinity are not JSON")


_DECODER = json.JSONDecoder(object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant)


_SHOWN_BELOW = 1000  # an input integer is shown in an error only below this magnitude


def _small(number: int) -> str:
    """An integer from the input, shown only when short."""
    return str(number) if -_SHOWN_BELOW < number < _SHOWN_BELOW else "(out of range)"


def _malformed(what: str) -> MalformedEnvelopeError:
    return MalformedEnvelopeError(f"malformed envelope: {what}")


def _not_strings(doc: Mapping[str, object]) -> NoReturn:
    """Raise for the first of the header fields that must be strings and is not."""
    for name in _STRING_FIELDS:
        _str_field(doc, name)
    raise AssertionError("called with string fields")  # pragma: no cover


def _str_field(doc: Mapping[str, object], name: str) -> str:
    value = doc[name]
    if not isinstance(value, str):
        raise _malformed(f"field {name!r} must be a string")
    return value


#: The cache key: every input of the unwrap, compared exactly. ``type`` and ``region`` stand
#: for the HPKE ``info`` they make (equal pairs make equal ``info``), kid for the held key.
_CacheKey = tuple[str, str, str, str, str]
#: What the cache keeps of an unwrapped data key: its AES-GCM and the record's receipt key
#: (derived once per unwrap, so a cache hit costs nothing more).
_Unwrapped = tuple[AESGCM, bytes]

#: Field names of the header, as they appear in the associated data (sorted keys).
_STRING_FIELDS = ("id", "region", "suite", "nonce", "ciphertext")


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
        self._cache: OrderedDict[_CacheKey, _Unwrapped] = OrderedDict()
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
        doc = _json_object(_within_limit(value, self._max_value))
        version = _version(doc)
        payload_type, schema = self._type_and_schema(doc)
        record_id, region, suite, nonce_text, ciphertext_text = _header_strings(doc)
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
        nonce, ciphertext = _nonce_and_ciphertext(nonce_text, ciphertext_text)
        (aes, rkey), used, wrapped_text = self._unwrap(suite, payload_type, region, held)
        aad = _header_aad(
            record_id, nonce_text, pairs, region, schema, suite, payload_type, version, wrapped_text
        )
        return OpenedEnvelope(
            type=payload_type,
            schema=schema,
            id=record_id,
            region=region,
            suite=suite,
            kid=used,
            payload=self._padding[payload_type].unpad(_decrypt(aes, nonce, ciphertext, aad)),
            receipt_key=rkey,
        )

    def _type_and_schema(self, doc: Mapping[str, object]) -> tuple[str, int]:
        """Step "type and schema": both present, the payload type one this opener accepts
        and the payload schema one of that type's accepted versions."""
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
        return payload_type, schema

    def _recipients(
        self, recipients: object
    ) -> tuple[list[tuple[str, str]], list[tuple[KemPrivateKey, str]]]:
        """Step "shape", recipients: a non-empty list of ``{"kid", "wrapped"}`` string objects
        with distinct kids. Returns every (kid, wrapped text) pair in wire order (for the
        associated data) and the (held key, wrapped text) pairs of the kids held here, in
        the same order (for the unwrap)."""
        if not isinstance(recipients, list) or not recipients:
            raise _malformed("field 'recipients' must be a non-empty list")
        pairs: list[tuple[str, str]] = []
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
    ) -> tuple[_Unwrapped, str, str]:
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
                raise _malformed("recipient 'wrapped' is not base64url") from exc
            if key.suite != suite:
                continue
            if info is None:
                info = _hpke_info(payload_type, region)
            dek = _hpke_unwrap(suite, key, wrapped, info)
            if dek is None:
                continue
            self._misses += 1
            unwrapped = (AESGCM(dek), receipt_key(dek))
            self._remember(cache_key, unwrapped)
            return unwrapped, key.kid, wrapped_text
        raise AuthenticationError(
            "no recipient's wrapped data key opens with the held key for this type and region"
        )

    def _remember(self, cache_key: _CacheKey, unwrapped: _Unwrapped) -> None:
        """Keep a freshly unwrapped data key in the LRU cache (evicting the least recently
        used one beyond ``cache_size``; nothing is kept with ``cache_size=0``)."""
        if self._cache_size:
            self._cache[cache_key] = unwrapped
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)


def _within_limit(value: bytes | bytearray | memoryview | str, limit: int) -> bytes:
    """Step "size", before any parsing: the envelope as bytes (a ``str`` encoded as UTF-8;
    one with a lone surrogate is malformed), refused above *limit* bytes."""
    if isinstance(value, str):
        try:
            data = value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise _malformed("not valid Unicode text") from exc
    else:
        data = bytes(value)
    if len(data) > limit:
        raise OversizedEnvelopeError(f"envelope is {len(data)} bytes, above the {limit} byte limit")
    return data


def _json_object(data: bytes) -> dict[str, object]:
    """Step "UTF-8 JSON object": strict JSON (no duplicate keys, NaN or Infinity) whose
    top level is an object.

    The common case, a bare object, is parsed once with ``raw_decode``; anything else
    (whitespace around it, or not JSON) goes through the full ``decode`` rules, which
    decide.
    """
    try:  # noqa: PLW0717  each decode step's failure maps to the same malformed error
        text = data.decode("utf-8")
        try:
            doc, end = _DECODER.raw_decode(text)
        except ValueError:
            end = -1
        if end != len(text):
            doc = _DECODER.decode(text)
    except (ValueError, RecursionError) as exc:
        raise _malformed("not UTF-8 JSON (or a key appears twice)") from exc
    if not isinstance(doc, dict):
        raise _malformed("not a JSON object")
    return doc


def _version(doc: Mapping[str, object]) -> int:
    """Step "version": ``v`` is an integer and the envelope version this code implements."""
    version = doc.get("v")
    if type(version) is not int:
        raise _malformed("field 'v' missing or not an integer")
    if version != ENVELOPE_VERSION:
        raise EnvelopeVersionError(
            f"envelope version {_small(version)} not supported (supported: {ENVELOPE_VERSION})"
        )
    return version


def _header_strings(doc: Mapping[str, object]) -> tuple[str, str, str, str, str]:
    """Step "shape", header: exactly the envelope's fields, and ``id``, ``region``,
    ``suite``, ``nonce`` and ``ciphertext`` strings (returned in that order)."""
    if doc.keys() != ENVELOPE_FIELDS:
        missing = ENVELOPE_FIELDS - doc.keys()
        if missing:
            raise _malformed(f"missing field(s) {', '.join(sorted(missing))}")
        raise _malformed(f"{len(doc) - len(ENVELOPE_FIELDS)} unexpected field(s)")
    record_id = doc["id"]
    region = doc["region"]
    suite = doc["suite"]
    nonce_text = doc["nonce"]
    ciphertext_text = doc["ciphertext"]
    if (
        type(record_id) is not str
        or type(region) is not str
        or type(suite) is not str
        or type(nonce_text) is not str
        or type(ciphertext_text) is not str
    ):
        _not_strings(doc)
    return record_id, region, suite, nonce_text, ciphertext_text


def _nonce_and_ciphertext(nonce_text: str, ciphertext_text: str) -> tuple[bytes, bytes]:
    """Step "base64": the nonce and ciphertext decoded (strict base64url), the nonce
    :data:`NONCE_LEN` bytes and the ciphertext at least as long as the AES-GCM tag."""
    try:
        nonce = b64url_decode(nonce_text)
        ciphertext = b64url_decode(ciphertext_text)
    except ValueError as exc:
        raise _malformed("'nonce' or 'ciphertext' is not base64url") from exc
    if len(nonce) != NONCE_LEN:
        raise _malformed(f"'nonce' must be {NONCE_LEN} bytes")
    if len(ciphertext) < TAG_LEN:
        raise _malformed("'ciphertext' is shorter than the AES-GCM tag")
    return nonce, ciphertext


def _hpke_info(payload_type: str, region: str) -> bytes:
    """The HPKE ``info`` of the unwrap; a header with a lone surrogate (no UTF-8 form) is
    malformed."""
    try:
        return hpke_info(payload_type, region)
    except UnicodeEncodeError as exc:
        raise _malformed("a header field is not valid Unicode text") from exc


def _hpke_unwrap(suite: str, key: KemPrivateKey, wrapped: bytes, info: bytes) -> bytes | None:
    """The data key *wrapped* for *key*, or ``None`` when it does not open (or is not a
    :data:`DEK_LEN`-byte key): the next held recipient is tried then."""
    try:
        dek = hpke_suite(suite).decrypt(wrapped, key.hpke_key, info)
    except (InvalidTag, ValueError, TypeError):
        return None
    return dek if len(dek) == DEK_LEN else None


def _header_aad(  # noqa: PLR0913, PLR0917  the associated data's fields, one argument each, in the order DESIGN §4 lists them
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
        raise _malformed("a header field is not valid Unicode text") from exc


def _decrypt(aes: AESGCM, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
    """Step "AES-GCM": the payload, or :class:`AuthenticationError` when anything the tag
    covers was altered."""
    try:
        return aes.decrypt(nonce, ciphertext, aad)
    except InvalidTag:
        raise AuthenticationError(
            "envelope failed authentication: header, recipients, id, nonce or ciphertext "
            "was altered"
        ) from None
