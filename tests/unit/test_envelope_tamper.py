"""Tampering: any change to any field is detected, with a warm DEK cache as with a cold one."""

from __future__ import annotations

import functools
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dief.crypto import Opener, Sealer
from dief.exceptions import AuthenticationError, EnvelopeError
from dief.wire import SUITE_HYBRID, SUITE_X25519, TYPE_CASE, TYPE_DIGEST
from tests.unit.envelope_helpers import b64, kem_key, pad_case, reference_seal, unb64, unwrap

PAYLOAD = b'{"case_id": "c1", "methods": ["shell_company"]}'
ALL_SCHEMAS = {TYPE_CASE: {1, 2, 3, 4}, TYPE_DIGEST: {1, 2, 3, 4}}
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@functools.cache
def envelope(suite: str) -> bytes:
    """One envelope with two recipients, both held by the openers below."""
    keys = [kem_key(suite, 0).public_key, kem_key(suite, 1).public_key]
    return Sealer(type=TYPE_CASE, region="AFR", recipients=keys, suite=suite).seal(PAYLOAD)


def fresh_opener(suite: str) -> Opener:
    return Opener([kem_key(suite, 0), kem_key(suite, 1)], schemas=ALL_SCHEMAS)


@functools.cache
def warm_opener(suite: str) -> Opener:
    opener = fresh_opener(suite)
    assert opener.open(envelope(suite)).payload == PAYLOAD  # the DEK is now cached
    return opener


def assert_refused(suite: str, value: bytes) -> None:
    for opener in (warm_opener(suite), fresh_opener(suite)):
        with pytest.raises(EnvelopeError):
            opener.open(value)
    assert warm_opener(suite).open(envelope(suite)).payload == PAYLOAD  # still fine


suites = st.sampled_from([SUITE_HYBRID, SUITE_X25519])


@SETTINGS
@given(suite=suites, data=st.data())
def test_flipping_any_bit_of_the_value_is_detected(suite: str, data: st.DataObject) -> None:
    value = bytearray(envelope(suite))
    position = data.draw(st.integers(0, len(value) - 1), label="position")
    value[position] ^= 1 << data.draw(st.integers(0, 7), label="bit")
    assert_refused(suite, bytes(value))


FIELDS = ["v", "type", "schema", "id", "region", "suite", "nonce", "ciphertext",
          ("recipients", 0, "kid"), ("recipients", 0, "wrapped"),
          ("recipients", 1, "kid"), ("recipients", 1, "wrapped")]  # fmt: skip
REPLACEMENTS = st.sampled_from(
    list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=./é\x00")
)


@SETTINGS
@given(suite=suites, field=st.sampled_from(FIELDS), data=st.data())
def test_changing_any_field_value_is_detected(
    suite: str, field: str | tuple[str, int, str], data: st.DataObject
) -> None:
    """Re-serialised as valid JSON, with every schema version accepted, it still fails."""
    doc = json.loads(envelope(suite))
    path = (field,) if isinstance(field, str) else field
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    old = parent[path[-1]]
    if isinstance(old, int):
        new: object = data.draw(st.integers(0, 3).filter(lambda n: n != old), label="int")
    else:
        index = data.draw(st.integers(0, len(old) - 1), label="index")
        char = data.draw(REPLACEMENTS.filter(lambda c: c != old[index]), label="char")
        new = old[:index] + char + old[index + 1 :]
    parent[path[-1]] = new
    assert_refused(suite, json.dumps(doc, separators=(",", ":")).encode())


# -- plausible tampering, each an AuthenticationError -----------------------------------------


def tampered(suite: str, **changes: object) -> bytes:
    doc = json.loads(envelope(suite))
    doc.update(changes)
    return json.dumps(doc).encode()


def recipients(suite: str) -> list[dict[str, str]]:
    value = json.loads(envelope(suite))["recipients"]
    assert isinstance(value, list)
    return value


@pytest.mark.parametrize("suite", [SUITE_HYBRID, SUITE_X25519])
@pytest.mark.parametrize(
    "change",
    [
        "region",
        "type",
        "schema",
        "id",
        "nonce",
        "reorder",
        "drop_recipient",
        "swap_kids",
        "swap_wrapped",
        "repeat_wrapped",
    ],
)
def test_plausible_header_changes_fail_authentication(suite: str, change: str) -> None:
    r0, r1 = recipients(suite)
    k0, k1, w0, w1 = r0["kid"], r1["kid"], r0["wrapped"], r1["wrapped"]
    by_name: dict[str, dict[str, object]] = {
        "region": {"region": "APG"},
        "type": {"type": TYPE_DIGEST},
        "schema": {"schema": 4},
        "id": {"id": "00000000-0000-4000-8000-000000000000"},
        "nonce": {"nonce": b64(bytes(12))},
        "reorder": {"recipients": [r1, r0]},
        "drop_recipient": {"recipients": [r0]},
        "swap_kids": {"recipients": [{"kid": k1, "wrapped": w0}, {"kid": k0, "wrapped": w1}]},
        "swap_wrapped": {"recipients": [{"kid": k0, "wrapped": w1}, {"kid": k1, "wrapped": w0}]},
        "repeat_wrapped": {"recipients": [r0, {"kid": k1, "wrapped": w0}]},
    }
    changes = by_name[change]
    value = tampered(suite, **changes)
    for opener in (warm_opener(suite), fresh_opener(suite)):
        with pytest.raises(AuthenticationError):
            opener.open(value)


# -- an insider who knows a DEK cannot use the cache to skip the HPKE binding -----------------


@pytest.mark.parametrize("suite", [SUITE_HYBRID, SUITE_X25519])
@pytest.mark.parametrize(
    "change", [{"payload_type": TYPE_DIGEST}, {"region": "APG"}, {"kid_swap": True}]
)
def test_reused_wrapped_dek_under_other_context_fails_even_when_cached(
    suite: str, change: dict[str, object]
) -> None:
    """A sender knows the DEKs it made. Re-using one wrapped DEK under another type, region
    or recipient kid, with a correct AES-GCM tag for the new header, must fail as it would
    without the cache (the HPKE info and the unwrapping key differ)."""
    r0, r1 = recipients(suite)
    dek = unwrap(unb64(r0["wrapped"]), kem_key(suite, 0), TYPE_CASE, "AFR")
    if change.get("kid_swap"):
        forged_recipients = [{"kid": r1["kid"], "wrapped": r0["wrapped"]}]
        forged = reference_seal(PAYLOAD, dek=dek, recipients=forged_recipients, suite=suite)
    else:
        forged = reference_seal(
            b"forged", dek=dek, recipients=[r0], suite=suite,
            payload_type=str(change.get("payload_type", TYPE_CASE)),
            region=str(change.get("region", "AFR")),
        )  # fmt: skip
    warm = warm_opener(suite)
    hits_before = warm.cache_info().hits
    for opener in (warm, fresh_opener(suite)):
        with pytest.raises(AuthenticationError):
            opener.open(forged)
    assert warm.cache_info().hits == hits_before  # no cache entry matched the forgery
    # Control: the same insider with the original context is (rightly) accepted.
    control = reference_seal(pad_case(b'{"same":"context"}'), dek=dek, recipients=[r0], suite=suite)
    assert fresh_opener(suite).open(control).payload == b'{"same":"context"}'
