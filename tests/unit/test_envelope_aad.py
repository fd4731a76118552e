"""The opener builds the associated data directly; it must be the canonical JSON, byte for byte.

DESIGN §3 ⚑: AAD = canonical JSON (sorted keys, no spaces, UTF-8) of every field except
``ciphertext``. The opener writes it field by field instead of calling
:func:`dief.crypto.canonical_json`; these tests compare the two on random headers (any
Unicode a JSON string can carry: quotes, backslashes, control characters, non-BMP), and open
envelopes sealed straight from the spec with such headers.
"""

from __future__ import annotations

import json
import os
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dief.crypto import Opener, canonical_json
from dief.crypto._opener_aead import _associated_data
from dief.exceptions import MalformedEnvelopeError
from dief.wire import SUITE_HYBRID, SUITE_X25519, TYPE_CASE
from tests.unit.envelope_helpers import b64, kem_key, pad_case, reference_seal, wrap

#: reference_seal writes payload schema 1
SCHEMAS = {TYPE_CASE: {1}}
PAYLOAD = b'{"payload":1}'
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Any text JSON can carry and UTF-8 can encode (lone surrogates are tested separately).
texts = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
tricky = st.sampled_from(['"', "\\", "\n", "\x00", "\x1f", "\x7f", "é", "\u2028", "😀", "</"])
header_texts = st.one_of(texts, st.lists(tricky, max_size=5).map("".join))
# What strict base64url decoding accepts, which the opener quotes without scanning.
base64url_texts = st.from_regex(r"[A-Za-z0-9_-]*={0,2}", fullmatch=True)


@pytest.mark.slow
@SETTINGS
@given(
    record_id=header_texts,
    nonce=st.one_of(header_texts, base64url_texts),
    recipients=st.lists(
        st.tuples(header_texts, st.one_of(header_texts, base64url_texts)), min_size=1, max_size=3
    ),
    region=header_texts,
    schema=st.integers(-(2**70), 2**70),
    suite=header_texts,
    payload_type=header_texts,
    version=st.integers(0, 3),
    data=st.data(),
)
def test_associated_data_is_the_canonical_json(
    record_id: str,
    nonce: str,
    recipients: list[tuple[str, str]],
    region: str,
    schema: int,
    suite: str,
    payload_type: str,
    version: int,
    data: st.DataObject,
) -> None:
    header = {
        "v": version,
        "type": payload_type,
        "schema": schema,
        "id": record_id,
        "region": region,
        "suite": suite,
        "recipients": [{"kid": k, "wrapped": w} for k, w in recipients],
        "nonce": nonce,
    }
    # The opener marks as plain only texts that decoded as base64url; any of those may be.
    candidates = [nonce, *(w for _, w in recipients)]
    decodable = [t for t in candidates if re.fullmatch(r"[A-Za-z0-9_-]*={0,2}", t)]
    plain = tuple(data.draw(st.lists(st.sampled_from(decodable), unique=True))) if decodable else ()
    expected = canonical_json(header)
    for marked in ((), plain):
        built = _associated_data(
            record_id, nonce, recipients, region, schema, suite, payload_type, version, marked
        )
        assert built == expected


@SETTINGS
@given(
    suite=st.sampled_from([SUITE_HYBRID, SUITE_X25519]),
    record_id=header_texts,
    region=header_texts,
    pad=st.booleans(),
)
def test_opens_spec_sealed_envelopes_with_unusual_header_text(
    suite: str, record_id: str, region: str, pad: bool
) -> None:
    """Sealed from the DESIGN text (json.dumps with ASCII escapes on the wire): opens."""
    key = kem_key(suite, 0)
    dek = os.urandom(32)
    wrapped = b64(wrap(dek, key.public_key, TYPE_CASE, region), pad=pad)
    value = reference_seal(
        pad_case(PAYLOAD),
        dek=dek,
        recipients=[{"kid": key.kid, "wrapped": wrapped}],
        region=region,
        suite=suite,
        pad=pad,
        record_id=record_id or "x",
    )
    opened = Opener([key], schemas=SCHEMAS).open(value)
    assert (opened.payload, opened.id, opened.region) == (PAYLOAD, record_id or "x", region)


@pytest.mark.parametrize("field", ["id", "region", "other_kid"])
def test_a_lone_surrogate_in_a_header_field_is_malformed(field: str) -> None:
    r"""``"\ud800"`` parses as JSON but has no UTF-8 form: refused as malformed, not a crash."""
    key = kem_key(SUITE_X25519, 0)
    dek = os.urandom(32)
    doc = json.loads(
        reference_seal(
            b"p",
            dek=dek,
            recipients=[
                {"kid": key.kid, "wrapped": b64(wrap(dek, key.public_key, TYPE_CASE, "AFR"))}
            ],
            suite=SUITE_X25519,
        )
    )
    if field == "other_kid":
        doc["recipients"].append({"kid": "\ud800", "wrapped": "AAAA"})
    else:
        doc[field] += "\ud800"
    value = json.dumps(doc).encode()  # ASCII escapes: valid UTF-8 JSON on the wire
    with pytest.raises(MalformedEnvelopeError) as info:
        Opener([key], schemas=SCHEMAS).open(value)
    assert info.value.code == "malformed"
