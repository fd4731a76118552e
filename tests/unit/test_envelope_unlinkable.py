"""Unlinkable envelopes (DESIGN §3 ⚑, §11; issue 12 problem 5), written as the attacks.

* A reader of a topic (the broker operator included) groups one node's records by any clear
  field they share: a reused data key put the same ``wrapped`` value on every record it
  sealed. Two records of one sealer now share no clear field but type, region, suite, ``v``
  and ``schema``, and no receipt key.
* Sizes: a record's size told the length and script of its lesson. Records padded to one
  size per kind have the same size whatever they say.
* Padding that a receiver must refuse (``bad_padding``): a length that is not an allowed
  size, a byte after the payload that is not a space, no padding at all.
"""

from __future__ import annotations

import json
import os

import pytest

from dief.crypto import (
    DEFAULT_PADDED_SIZES,
    MIN_PADDED_SIZE,
    KemPrivateKey,
    Opener,
    PaddingRule,
    Sealer,
)
from dief.exceptions import ConfigurationError, PaddingError, ValidationError
from dief.wire import (
    CASE_PADDED_SIZES,
    CASE_SCHEMA_VERSION,
    SUITE_HYBRID,
    SUITE_X25519,
    TYPE_CASE,
    TYPE_DIGEST,
)
from tests.unit.envelope_helpers import b64, kem_key, reference_seal, wrap

SUITES = [SUITE_HYBRID, SUITE_X25519]
WITHOUT_LESSON, WITH_LESSON = CASE_PADDED_SIZES
#: The envelope fields every record of one type, region and suite shares by design.
SHARED = {"type", "region", "suite", "v", "schema"}


def case_sealer(suite: str = SUITE_HYBRID, *keys: KemPrivateKey) -> Sealer:
    recipients = [k.public_key for k in (keys or (kem_key(suite, 0), kem_key(suite, 1)))]
    return Sealer(type=TYPE_CASE, region="AFR", recipients=recipients, schema=CASE_SCHEMA_VERSION)


def fields(value: bytes) -> dict[str, object]:
    parsed = json.loads(value)
    assert isinstance(parsed, dict)
    return parsed


def record(cycle: str, lesson: str | None) -> bytes:
    """A case-record-like payload of one node in *cycle* (compact JSON)."""
    doc: dict[str, object] = {"cycle": cycle, "contributor": "c" * 32, "summary": lesson}
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


# -- linking by a clear field ------------------------------------------------------------------


@pytest.mark.parametrize("suite", SUITES)
def test_two_records_of_one_sealer_share_no_clear_field_but_the_public_ones(suite: str) -> None:
    sealer = case_sealer(suite)
    first = sealer.seal_with_receipt(record("CSP12", None), pad_to=WITHOUT_LESSON)
    second = sealer.seal_with_receipt(record("CSP13", None), pad_to=WITHOUT_LESSON)
    a, b = fields(first.value), fields(second.value)
    assert a.keys() == b.keys()
    equal = {name for name in a if a[name] == b[name]}
    assert equal == SHARED
    wrapped_a = {r["wrapped"] for r in a["recipients"]}  # type: ignore[attr-defined]  # JSON: the recipients list
    wrapped_b = {r["wrapped"] for r in b["recipients"]}  # type: ignore[attr-defined]  # JSON: the recipients list
    assert len(wrapped_a) == len(wrapped_b) == 2  # one per recipient, each different
    assert not wrapped_a & wrapped_b
    assert first.receipt_key != second.receipt_key
    for value in (first.value, second.value):  # both still open for every recipient
        assert Opener([kem_key(suite, 1)]).open(value).payload.startswith(b'{"cycle"')


def test_many_records_of_one_sealer_never_repeat_a_wrapped_value() -> None:
    sealer = case_sealer(SUITE_X25519, kem_key(SUITE_X25519, 0))
    values = sealer.seal_many([record("CSP13", None)] * 50, pad_to=WITHOUT_LESSON)
    wrapped = [fields(v)["recipients"][0]["wrapped"] for v in values]  # type: ignore[index]  # JSON: the recipients list
    assert len(set(wrapped)) == 50


# -- linking by size ---------------------------------------------------------------------------


def test_records_of_two_cycles_have_one_size_with_a_lesson_and_one_without() -> None:
    sealer = case_sealer()
    short = record("CSP12", "Short.")
    long_arabic = record("CSP13", "دروس " * 300)  # longer, and in another script
    long_latin = record("CSP13", "Lesson text. " * 120)
    with_lesson = [sealer.seal(p, pad_to=WITH_LESSON) for p in (short, long_arabic, long_latin)]
    without = [sealer.seal(record(c, None), pad_to=WITHOUT_LESSON) for c in ("CSP12", "CSP13")]
    assert len({len(v) for v in with_lesson}) == 1
    assert len({len(v) for v in without}) == 1
    assert len(with_lesson[0]) != len(without[0])  # what the size tells: a lesson or not
    opener = Opener([kem_key()], schemas={TYPE_CASE: {CASE_SCHEMA_VERSION}})
    assert opener.open(with_lesson[1]).payload == long_arabic  # returned without the padding


def test_other_types_pad_to_the_next_power_of_two_from_1024() -> None:
    sealer = Sealer(type=TYPE_DIGEST, region="AFR", recipients=[kem_key().public_key])
    opener = Opener([kem_key()])
    sizes = {}
    for length in (2, 1000, 1024, 1025, 3000, 5000):
        payload = b'{"x":"' + b"a" * max(0, length - 8) + b'"}'
        value = sealer.seal(payload)
        sizes[length] = len(value)
        assert opener.open(value).payload == payload
    assert sizes[2] == sizes[1000] == sizes[1024]  # all 1,024 bytes padded
    assert sizes[1025] < sizes[3000]  # 2,048 and 4,096
    assert sizes[3000] < sizes[5000]  # 4,096 and 8,192
    assert [PaddingRule().size_for(n) for n in (0, 1024, 1025, 4097)] == [1024, 1024, 2048, 8192]


def test_case_records_pad_by_default_to_the_smallest_case_size_that_fits() -> None:
    assert DEFAULT_PADDED_SIZES[TYPE_CASE] == frozenset(CASE_PADDED_SIZES)
    sealer, opener = case_sealer(), Opener([kem_key()], schemas={TYPE_CASE: {CASE_SCHEMA_VERSION}})
    small, big = record("CSP13", None), record("CSP13", "x" * (WITHOUT_LESSON + 10))
    assert len(sealer.seal(small)) < len(sealer.seal(big))
    assert opener.open(sealer.seal(big)).payload == big


# -- a node refuses what would not fit ---------------------------------------------------------


def test_a_payload_that_does_not_fit_its_size_is_refused_at_sealing() -> None:
    sealer = case_sealer()
    too_big = record("CSP13", "x" * WITHOUT_LESSON)
    with pytest.raises(ValidationError) as info:
        sealer.seal(too_big, pad_to=WITHOUT_LESSON)
    assert info.value.code == "record_too_large"
    assert "xxxx" not in str(info.value)  # the refused text is never echoed
    with pytest.raises(ValidationError):
        sealer.seal(record("CSP13", "x" * WITH_LESSON))  # larger than every case size


@pytest.mark.parametrize("pad_to", [4096, 6000, 0, -1])
def test_a_size_receivers_would_refuse_is_a_configuration_error(pad_to: int) -> None:
    with pytest.raises(ConfigurationError):
        case_sealer().seal(record("CSP13", None), pad_to=pad_to)


def test_a_payload_ending_with_a_space_cannot_be_padded() -> None:
    with pytest.raises(ConfigurationError):
        case_sealer().seal(b'{"a":1} ')


# -- a receiver refuses wrong padding ----------------------------------------------------------


def sealed_plain(
    plaintext: bytes, payload_type: str = TYPE_CASE, schema: int = CASE_SCHEMA_VERSION
) -> bytes:
    """*plaintext* sealed as it stands (no padding added): a sender that does not pad, or
    pads wrongly, with a valid key and data key."""
    key = kem_key()
    dek = os.urandom(32)
    recipients = [{"kid": key.kid, "wrapped": b64(wrap(dek, key.public_key, payload_type, "AFR"))}]
    return reference_seal(
        plaintext, dek=dek, recipients=recipients, payload_type=payload_type, schema=schema
    )


def case_opener() -> Opener:
    return Opener([kem_key()], schemas={TYPE_CASE: {CASE_SCHEMA_VERSION}, TYPE_DIGEST: {1}})


PAYLOAD = record("CSP13", None)


def padded(payload: bytes, size: int, filler: bytes = b" ") -> bytes:
    return payload + filler * (size - len(payload))


@pytest.mark.parametrize(
    ("name", "plaintext"),
    [
        ("missing padding", PAYLOAD),
        ("length not allowed", padded(PAYLOAD, WITHOUT_LESSON + 1)),
        ("one byte short", padded(PAYLOAD, WITHOUT_LESSON - 1)),
        ("a power of two is not a case size", padded(PAYLOAD, 8192)),
        ("NUL bytes", padded(PAYLOAD, WITHOUT_LESSON, b"\x00")),
        ("newlines", padded(PAYLOAD, WITHOUT_LESSON, b"\n")),
        ("tabs", padded(PAYLOAD, WITHOUT_LESSON, b"\t")),
        ("a letter in the padding", padded(PAYLOAD + b"   x", WITHOUT_LESSON)),
        ("a letter at the end", padded(PAYLOAD, WITHOUT_LESSON - 1) + b"x"),
        ("hidden text", padded(PAYLOAD + b"hidden", WITHOUT_LESSON)),
    ],
)
def test_wrong_padding_is_refused_as_bad_padding(name: str, plaintext: bytes) -> None:
    value = sealed_plain(plaintext)
    with pytest.raises(PaddingError) as info:
        case_opener().open(value)
    assert info.value.code == "bad_padding", name


@pytest.mark.parametrize("size", [MIN_PADDED_SIZE - 1, 1536, 3000, 512])
def test_other_types_refuse_a_length_that_is_not_a_power_of_two_from_1024(size: int) -> None:
    with pytest.raises(PaddingError):
        case_opener().open(sealed_plain(padded(PAYLOAD, size), TYPE_DIGEST, 1))
    payload = case_opener().open(sealed_plain(padded(PAYLOAD, 2048), TYPE_DIGEST, 1)).payload
    assert payload == PAYLOAD


def test_correct_padding_from_an_independent_sealer_opens_without_it() -> None:
    for size in CASE_PADDED_SIZES:
        assert case_opener().open(sealed_plain(padded(PAYLOAD, size))).payload == PAYLOAD
    exact = b'{"x":"' + b"a" * (WITHOUT_LESSON - 8) + b'"}'  # fills its size: no padding
    assert case_opener().open(sealed_plain(exact)).payload == exact


def test_an_opener_takes_the_allowed_sizes_per_type() -> None:
    value = sealed_plain(padded(PAYLOAD, 3000), TYPE_DIGEST, 1)
    custom = Opener([kem_key()], sizes={TYPE_DIGEST: {3000}})
    assert custom.open(value).payload == PAYLOAD
    with pytest.raises(PaddingError):
        custom.open(sealed_plain(padded(PAYLOAD, 2048), TYPE_DIGEST, 1))
    with pytest.raises(ConfigurationError):
        Opener([kem_key()], sizes={TYPE_DIGEST: {0}})


def test_the_cache_only_helps_a_redelivery() -> None:
    sealer, opener = case_sealer(), Opener([kem_key()], schemas={TYPE_CASE: {CASE_SCHEMA_VERSION}})
    values = sealer.seal_many([PAYLOAD] * 3)
    for value in values:
        opener.open(value)
    assert (opener.cache_info().hits, opener.cache_info().misses) == (0, 3)
    opener.open(values[0])  # the same record delivered again
    assert opener.cache_info().hits == 1
