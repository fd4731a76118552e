"""Sealed envelope v1: round trips, wire form, error classes, fresh data keys and the opener
cache (padding and unlinkability: ``test_envelope_unlinkable.py``)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import pickle  # noqa: S403  the test checks that pickling a key is refused
import uuid

import pytest

from dief.crypto import (
    KemPrivateKey,
    KemPublicKey,
    Opener,
    Sealer,
    key_id,
)
from dief.exceptions import (
    AuthenticationError,
    ConfigurationError,
    EnvelopeError,
    EnvelopeVersionError,
    MalformedEnvelopeError,
    NoRecipientKeyError,
    OversizedEnvelopeError,
    UnknownSuiteError,
)
from dief.wire import (
    CASE_PADDED_SIZES,
    CASE_SCHEMA_VERSION,
    MAX_VALUE_BYTES,
    SUITE_HYBRID,
    SUITE_X25519,
    TYPE_CASE,
    TYPE_DIGEST,
    SealedEnvelope,
)
from tests.unit.envelope_helpers import b64, canonical, kem_key, reference_seal, wrap

SUITES = [SUITE_HYBRID, SUITE_X25519]
PAYLOAD = b'{"case_id": "x", "summary": "\xc3\xa9t\xc3\xa9"}'


def obj(number: int) -> bytes:
    """A small JSON object payload."""
    return b'{"n":%d}' % number


def sealer(suite: str = SUITE_HYBRID, *keys: KemPrivateKey, **kwargs: object) -> Sealer:
    recipients = [k.public_key for k in (keys or (kem_key(suite, 0),))]
    kwargs.setdefault("schema", CASE_SCHEMA_VERSION)
    return Sealer(type=TYPE_CASE, region="AFR", recipients=recipients, **kwargs)  # type: ignore[arg-type]  # the tests' keywords, some wrong on purpose


def doc(value: bytes) -> dict[str, object]:
    parsed = json.loads(value)
    assert isinstance(parsed, dict)
    return parsed


# -- round trips and wire form -------------------------------------------------------------


@pytest.mark.parametrize("suite", SUITES)
def test_round_trip_with_several_recipients_each_opens(suite: str) -> None:
    keys = [kem_key(suite, i) for i in range(3)]
    value = sealer(suite, *keys).seal(PAYLOAD)
    for key in keys:
        opened = Opener([key]).open(value)
        assert opened.payload == PAYLOAD
        assert (opened.type, opened.schema, opened.region) == (
            TYPE_CASE,
            CASE_SCHEMA_VERSION,
            "AFR",
        )
        assert opened.suite == suite
        assert opened.kid == key.kid
        assert str(uuid.UUID(opened.id)) == opened.id


@pytest.mark.parametrize("suite", SUITES)
def test_wire_form_matches_the_contract(suite: str) -> None:
    keys = [kem_key(suite, 0), kem_key(suite, 1)]
    value = sealer(suite, *keys).seal(PAYLOAD, schema=3)
    model = SealedEnvelope.model_validate_json(value)
    assert model.v == 1
    assert model.schema_ == 3
    assert model.suite == suite
    assert [r.kid for r in model.recipients] == [k.kid for k in keys]
    fields = doc(value)
    assert set(fields) == {
        "v",
        "type",
        "schema",
        "id",
        "region",
        "suite",
        "recipients",
        "nonce",
        "ciphertext",
    }
    assert len(base64_bytes(str(fields["nonce"]))) == 12
    assert "=" not in value.decode()  # we write unpadded base64url
    # the bytes are the canonical header with the ciphertext appended last
    header = {k: v for k, v in fields.items() if k != "ciphertext"}
    assert value.startswith(canonical(header)[:-1] + b',"ciphertext":"')


def base64_bytes(text: str) -> bytes:

    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_key_id_is_base32_sha256_of_raw_public_bytes() -> None:

    key = kem_key(SUITE_HYBRID, 0)
    raw = key.public_key.public_bytes()
    assert len(raw) == 1184 + 32
    expected = base64.b32encode(hashlib.sha256(raw).digest()).decode().lower()[:20]
    assert key.kid == key_id(raw) == expected
    assert len(kem_key(SUITE_X25519, 0).public_key.public_bytes()) == 32
    assert KemPublicKey(SUITE_HYBRID, raw) == key.public_key


@pytest.mark.parametrize("pad", [False, True])
@pytest.mark.parametrize("suite", SUITES)
def test_opens_an_independently_sealed_envelope_padded_or_not(suite: str, pad: bool) -> None:
    """A sealer written from the DESIGN text alone (here with padding or not) interoperates."""
    key = kem_key(suite, 0)
    dek = os.urandom(32)
    recipients = [
        {"kid": key.kid, "wrapped": b64(wrap(dek, key.public_key, TYPE_CASE, "AFR"), pad=pad)}
    ]
    # padded to the case size without a lesson
    plain = PAYLOAD + b" " * (CASE_PADDED_SIZES[0] - len(PAYLOAD))
    value = reference_seal(
        plain, dek=dek, recipients=recipients, suite=suite, pad=pad, schema=CASE_SCHEMA_VERSION
    )
    assert Opener([key]).open(value).payload == PAYLOAD


def test_seal_many_record_id_and_schema_override() -> None:
    s = sealer()
    values = s.seal_many([obj(1), obj(2), obj(3)], schema=7)
    opener = Opener([kem_key()], schemas={TYPE_CASE: {CASE_SCHEMA_VERSION, 7}})
    assert [opener.open(v).payload for v in values] == [obj(1), obj(2), obj(3)]
    assert {opener.open(v).schema for v in values} == {7}
    assert len({opener.open(v).id for v in values}) == 3
    rid = uuid.uuid4()
    assert opener.open(s.seal(obj(0), record_id=rid)).id == str(rid)
    assert opener.open(s.seal(b"")).payload == b""


def test_open_accepts_str_and_memoryview() -> None:
    value = sealer().seal(PAYLOAD)
    opener = Opener([kem_key()])
    assert opener.open(value.decode()).payload == PAYLOAD
    assert opener.open(memoryview(value)).payload == PAYLOAD


# -- error classes, one each ----------------------------------------------------------------


def mutated(value: bytes, **changes: object) -> bytes:
    fields = doc(value)
    for name, new in changes.items():
        if new is None:
            del fields[name]
        else:
            fields[name] = new
    return json.dumps(fields).encode()


@pytest.fixture(scope="module")
def sealed() -> bytes:
    return sealer().seal(PAYLOAD)


@pytest.fixture
def opener() -> Opener:
    return Opener([kem_key()])


def test_oversized_is_refused_before_parsing(opener: Opener) -> None:
    with pytest.raises(OversizedEnvelopeError):
        opener.open(b"{" * (MAX_VALUE_BYTES + 1))
    with pytest.raises(OversizedEnvelopeError):
        Opener([kem_key()], max_value_bytes=100).open(b" " * 101)


def test_sealing_an_oversized_payload_is_refused() -> None:
    digests = Sealer(type=TYPE_DIGEST, region="AFR", recipients=[kem_key().public_key])
    with pytest.raises(OversizedEnvelopeError):  # padded to 256 KiB: over the limit
        digests.seal(b"x" * (128 * 1024 + 1))
    digests.seal(b"x" * (128 * 1024))  # padded to 128 KiB: under the limit once base64-encoded


@pytest.mark.parametrize(
    "value",
    [
        b"not json",
        b"\xff\xfe{}",
        b"[1, 2]",
        b'"v"',
        b"{}",
        b'{"v": "1"}',
        b'{"v": 1.0}',
        b'{"v": true}',
        b'{"v": NaN}',
        b'{"v": 1, "v": 1}',
    ],
)
def test_not_an_envelope_is_malformed(opener: Opener, value: bytes) -> None:
    with pytest.raises(MalformedEnvelopeError) as info:
        opener.open(value)
    assert info.value.code == "malformed"


@pytest.mark.parametrize(
    "changes",
    [
        {"id": None},
        {"nonce": None},
        {"extra": "x"},
        {"id": 5},
        {"region": ["AFR"]},
        {"recipients": []},
        {"recipients": "x"},
        {"recipients": [{"kid": "a"}]},
        {"recipients": [{"kid": "a", "wrapped": "b", "x": 1}]},
        {"recipients": [{"kid": 1, "wrapped": "b"}]},
        {"schema": "1"},
        {"type": 7},
        {"ciphertext": 12},
    ],
)
def test_bad_shape_is_malformed(opener: Opener, sealed: bytes, changes: dict[str, object]) -> None:
    with pytest.raises(MalformedEnvelopeError):
        opener.open(mutated(sealed, **changes))


def test_duplicate_recipient_kid_is_malformed(opener: Opener, sealed: bytes) -> None:
    recipients = doc(sealed)["recipients"]
    assert isinstance(recipients, list)
    with pytest.raises(MalformedEnvelopeError):
        opener.open(mutated(sealed, recipients=recipients * 2))


@pytest.mark.parametrize(
    ("field", "text"),
    [
        ("nonce", "!!!!"),
        ("nonce", "AAAA"),
        ("ciphertext", "A"),
        ("ciphertext", "AAAA"),
        ("nonce", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB"),
    ],
)
def test_bad_base64_or_length_is_malformed(
    opener: Opener, sealed: bytes, field: str, text: str
) -> None:
    with pytest.raises(MalformedEnvelopeError):
        opener.open(mutated(sealed, **{field: text}))


def test_bad_wrapped_base64_is_malformed(opener: Opener, sealed: bytes) -> None:
    recipients = [{"kid": kem_key().kid, "wrapped": "not*base64"}]
    with pytest.raises(MalformedEnvelopeError):
        opener.open(mutated(sealed, recipients=recipients))


def test_versions_are_checked_before_anything_else(opener: Opener, sealed: bytes) -> None:
    with pytest.raises(EnvelopeVersionError) as info:
        opener.open(b'{"v": 2, "recipients": "whatever the v2 shape is"}')
    assert info.value.code == "unsupported_version"
    with pytest.raises(EnvelopeVersionError):
        opener.open(mutated(sealed, schema=CASE_SCHEMA_VERSION + 1, suite="X", recipients=None))
    with pytest.raises(EnvelopeVersionError) as info:
        opener.open(mutated(sealed, type="dief.other", suite="X"))
    assert info.value.code == "unsupported_type"
    with pytest.raises(EnvelopeVersionError):
        Opener([kem_key()], schemas={TYPE_DIGEST: {1}}).open(sealed)


def test_unknown_suite(opener: Opener, sealed: bytes) -> None:
    with pytest.raises(UnknownSuiteError):
        opener.open(mutated(sealed, suite="MLKEM1024P384-HKDFSHA384-AES256GCM"))


def test_no_recipient_key(sealed: bytes) -> None:
    with pytest.raises(NoRecipientKeyError) as info:
        Opener([kem_key(SUITE_HYBRID, 1)]).open(sealed)
    assert kem_key(SUITE_HYBRID, 1).kid in info.value.message  # held kids help operators
    with pytest.raises(NoRecipientKeyError):
        Opener([]).open(sealed)


def test_tampered_ciphertext_is_an_authentication_error(opener: Opener, sealed: bytes) -> None:
    ciphertext = bytearray(base64_bytes(str(doc(sealed)["ciphertext"])))
    ciphertext[0] ^= 1
    with pytest.raises(AuthenticationError):
        opener.open(mutated(sealed, ciphertext=b64(bytes(ciphertext))))


def test_error_messages_carry_no_payload_or_key_material(sealed: bytes) -> None:
    key = kem_key()
    secret_hex = key.secret_bytes().hex()
    for value in (
        sealed[:-3],
        mutated(sealed, type="evil-type-text"),
        sealed.replace(b"AFR", b"APG"),
    ):
        with pytest.raises(EnvelopeError) as info:
            Opener([key]).open(value)
        text = f"{info.value} {info.value!r}"
        assert "evil-type-text" not in text
        assert secret_hex not in text
        assert PAYLOAD.decode() not in text


# -- a fresh data key per record -------------------------------------------------------------


def wrapped_of(value: bytes) -> list[str]:
    recipients = doc(value)["recipients"]
    assert isinstance(recipients, list)
    return [r["wrapped"] for r in recipients]


def test_every_record_has_its_own_data_key() -> None:
    s = sealer()
    values = [s.seal(obj(i)) for i in range(4)]
    assert len({tuple(wrapped_of(v)) for v in values}) == 4
    opener = Opener([kem_key()])
    assert [opener.open(v).payload for v in values] == [obj(i) for i in range(4)]
    assert (opener.cache_info().misses, opener.cache_info().hits) == (4, 0)


def test_replace_recipients() -> None:
    old, new = kem_key(SUITE_HYBRID, 0), kem_key(SUITE_HYBRID, 1)
    s = sealer(SUITE_HYBRID, old)
    before = s.seal(b'{"when":"before"}')
    s.replace_recipients([new.public_key])  # a key rotation mid-stream
    after = s.seal(b'{"when":"after"}')
    assert s.kids == (new.kid,)
    both = Opener([old, new])
    assert both.open(before).payload == b'{"when":"before"}'
    assert both.open(before).kid == old.kid
    assert both.open(after).payload == b'{"when":"after"}'
    assert both.open(after).kid == new.kid
    with pytest.raises(NoRecipientKeyError):
        Opener([new]).open(before)


def test_sealer_configuration_errors() -> None:
    hybrid, x = kem_key(SUITE_HYBRID, 0).public_key, kem_key(SUITE_X25519, 0).public_key
    with pytest.raises(ConfigurationError):
        Sealer(type=TYPE_CASE, region="AFR", recipients=[])
    with pytest.raises(ConfigurationError):
        Sealer(type=TYPE_CASE, region="AFR", recipients=[hybrid, x])
    with pytest.raises(ConfigurationError):
        Sealer(type=TYPE_CASE, region="AFR", recipients=[x], suite=SUITE_HYBRID)
    with pytest.raises(ConfigurationError):
        Sealer(type="dief.case/x", region="AFR", recipients=[hybrid])
    with pytest.raises(ConfigurationError):
        Sealer(type=TYPE_CASE, region="AFR", recipients=[hybrid], sizes=[0])
    with pytest.raises(ConfigurationError):
        Sealer(type=TYPE_CASE, region="AFR", recipients=[hybrid], schema=0)
    s = Sealer(type=TYPE_CASE, region="AFR", recipients=[hybrid, hybrid])
    assert s.kids == (hybrid.kid,)  # duplicates dropped


# -- opener cache -----------------------------------------------------------------------------


def test_opener_cache_is_bounded_and_lru() -> None:
    s = sealer()
    values = [s.seal(obj(i)) for i in range(5)]
    opener = Opener([kem_key()], cache_size=2)
    for v in values:
        opener.open(v)
    info = opener.cache_info()
    assert (info.size, info.maxsize, info.misses, info.hits) == (2, 2, 5, 0)
    opener.open(values[4])
    assert opener.cache_info().hits == 1
    opener.open(values[0])  # evicted long ago
    assert opener.cache_info().misses == 6
    assert opener.cache_info().size == 2
    uncached = Opener([kem_key()], cache_size=0)
    for v in values:
        assert uncached.open(v).payload in {obj(i) for i in range(5)}
    assert uncached.cache_info().size == 0


def test_remove_key_forgets_cached_deks() -> None:
    value = sealer().seal(obj(0))
    opener = Opener([kem_key()])
    opener.open(value)
    opener.remove_key(kem_key().kid)
    assert opener.cache_info().size == 0
    with pytest.raises(NoRecipientKeyError):
        opener.open(value)
    opener.add_key(kem_key())
    assert opener.open(value).payload == obj(0)


# -- no key material in reprs -----------------------------------------------------------------


@pytest.mark.parametrize("suite", SUITES)
def test_reprs_show_no_key_material(suite: str) -> None:
    key = kem_key(suite, 0)
    s = sealer(suite, key)
    value = s.seal(PAYLOAD)
    opener = Opener([key])
    opened = opener.open(value)
    secret, public = key.secret_bytes(), key.public_key.public_bytes()
    wrapped = wrapped_of(value)[0]
    for obj in (key, key.public_key, s, opener, opened):
        text = repr(obj) + str(obj)
        for material in (secret, public, secret[:8], public[:8]):
            assert material.hex() not in text
            assert b64(material)[:12] not in text
        assert wrapped[:12] not in text
        assert "summary" not in text  # the payload is never shown
    assert key.kid in repr(key)
    with pytest.raises(TypeError):
        pickle.dumps(key)
