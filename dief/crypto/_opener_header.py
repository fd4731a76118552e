"""The envelope's shape, checked step by step before any key is used
(:class:`~dief.crypto._opener.Opener`): size, strict UTF-8 JSON object, version, the
header's string fields, base64."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, NoReturn

from dief.crypto._common import ENVELOPE_FIELDS, NONCE_LEN, TAG_LEN
from dief.crypto._encoding import b64url_decode
from dief.exceptions import EnvelopeVersionError, MalformedEnvelopeError, OversizedEnvelopeError
from dief.wire import ENVELOPE_VERSION

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "envelope_version",
    "header_strings",
    "json_object",
    "malformed",
    "nonce_and_ciphertext",
    "shown_int",
    "str_field",
    "within_limit",
]


def _reject_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate key")
    return result


def _reject_constant(_: str) -> object:
    raise ValueError("NaN and Infinity are not JSON")


_DECODER = json.JSONDecoder(object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant)


_SHOWN_BELOW = 1000  # an input integer is shown in an error only below this magnitude


def shown_int(number: int) -> str:
    """An integer from the input, shown only when short."""
    return str(number) if -_SHOWN_BELOW < number < _SHOWN_BELOW else "(out of range)"


def malformed(what: str) -> MalformedEnvelopeError:
    return MalformedEnvelopeError(f"malformed envelope: {what}")


def _not_strings(doc: Mapping[str, object]) -> NoReturn:
    """Raise for the first of the header fields that must be strings and is not."""
    for name in _STRING_FIELDS:
        str_field(doc, name)
    raise AssertionError("called with string fields")  # pragma: no cover


def str_field(doc: Mapping[str, object], name: str) -> str:
    value = doc[name]
    if not isinstance(value, str):
        raise malformed(f"field {name!r} must be a string")
    return value


#: Field names of the header, as they appear in the associated data (sorted keys).
_STRING_FIELDS = ("id", "region", "suite", "nonce", "ciphertext")


def within_limit(value: bytes | bytearray | memoryview | str, limit: int) -> bytes:
    """Step "size", before any parsing: the envelope as bytes (a ``str`` encoded as UTF-8;
    one with a lone surrogate is malformed), refused above *limit* bytes."""
    if isinstance(value, str):
        try:
            data = value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise malformed("not valid Unicode text") from exc
    else:
        data = bytes(value)
    if len(data) > limit:
        raise OversizedEnvelopeError(f"envelope is {len(data)} bytes, above the {limit} byte limit")
    return data


def json_object(data: bytes) -> dict[str, object]:
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
        raise malformed("not UTF-8 JSON (or a key appears twice)") from exc
    if not isinstance(doc, dict):
        raise malformed("not a JSON object")
    return doc


def envelope_version(doc: Mapping[str, object]) -> int:
    """Step "version": ``v`` is an integer and the envelope version this code implements."""
    version = doc.get("v")
    if type(version) is not int:
        raise malformed("field 'v' missing or not an integer")
    if version != ENVELOPE_VERSION:
        raise EnvelopeVersionError(
            f"envelope version {shown_int(version)} not supported (supported: {ENVELOPE_VERSION})"
        )
    return version


def header_strings(doc: Mapping[str, object]) -> tuple[str, str, str, str, str]:
    """Step "shape", header: exactly the envelope's fields, and ``id``, ``region``,
    ``suite``, ``nonce`` and ``ciphertext`` strings (returned in that order)."""
    if doc.keys() != ENVELOPE_FIELDS:
        missing = ENVELOPE_FIELDS - doc.keys()
        if missing:
            raise malformed(f"missing field(s) {', '.join(sorted(missing))}")
        raise malformed(f"{len(doc) - len(ENVELOPE_FIELDS)} unexpected field(s)")
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


def nonce_and_ciphertext(nonce_text: str, ciphertext_text: str) -> tuple[bytes, bytes]:
    """Step "base64": the nonce and ciphertext decoded (strict base64url), the nonce
    :data:`NONCE_LEN` bytes and the ciphertext at least as long as the AES-GCM tag."""
    try:
        nonce = b64url_decode(nonce_text)
        ciphertext = b64url_decode(ciphertext_text)
    except ValueError as exc:
        raise malformed("'nonce' or 'ciphertext' is not base64url") from exc
    if len(nonce) != NONCE_LEN:
        raise malformed(f"'nonce' must be {NONCE_LEN} bytes")
    if len(ciphertext) < TAG_LEN:
        raise malformed("'ciphertext' is shorter than the AES-GCM tag")
    return nonce, ciphertext
