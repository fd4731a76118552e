"""Signed summaries and digest payloads verify in any language (issue 17, DESIGN §7 ⚑).

The attacks and failures of the issue, reproduced: Python wrote ``"share": 1.0`` into the
signed bytes, a JavaScript verifier reads ``1`` and re-serialises ``1`` (RFC 8785), so the
signature failed there; a summary with a repeated key verified (two parsers, two documents,
one signature); a summary carried no issue number, so an older issue of a cycle could be
replayed as the latest.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import rfc8785

from dief.crypto import CONTEXT_CSP_SUMMARY, CONTEXT_DIGEST, Signature, SigningKey, verify
from dief.digests import DigestPayload, parse_payload, sign_payload, signing_bytes
from dief.exceptions import SignatureError, ValidationError
from dief.secretariat import (
    next_issue,
    sign_summary,
    summary_content_hash,
    summary_signing_bytes,
    verify_summary,
)
from dief.vocab import Region
from dief.wire import CspSummary

KEY = SigningKey.generate()
ISSUED = datetime(2026, 9, 1, 10, tzinfo=UTC)


def _table(share: float) -> dict[str, object]:
    return {
        "totals": {"cases": 4, "contributors": 3, "suppressed": 0},
        "dimensions": {
            "kind": [{"value": "case", "count": 4, "contributors": 3, "share": share}],
            "transfer_stage": [
                {"value": "in_transit", "count": 3, "contributors": 3, "share": 0.75},
                {"value": "stockpile", "count": None, "contributors": None, "suppressed": True},
            ],
        },
    }


def _summary(share: float = 1.0) -> CspSummary:
    return CspSummary.model_validate(
        {
            "cycle": "CSP12",
            "from": "2025-09",
            "to": "2026-08",
            "k": 3,
            "regions": {"AFR": _table(share)},
            "global": _table(share),
            "narrative": ["Café ✓ — \U0001d518nicode text stays as it is."],
            "methodology": {"rules": ["k_csp = 3"], "k": 3, "suppressed": 1},
        }
    )


def _as_javascript_writes(text: str) -> str:
    """What ``JSON.stringify(JSON.parse(text))`` gives: numbers as ECMAScript writes them
    (``1.0`` is ``1``), compact."""
    return rfc8785.dumps(json.loads(text)).decode("utf-8")


def test_a_summary_signature_verifies_over_jcs_as_a_javascript_verifier_computes_it() -> None:
    signed = sign_summary(_summary(), KEY, issue=1, issued_at=ISSUED)
    document = json.loads(signed.to_json())
    signature = Signature.from_mapping(document.pop("signature"))
    # A verifier in JavaScript: parse, drop the signature, RFC 8785, verify.
    verify(KEY.verify_key, rfc8785.dumps(document), signature, context=CONTEXT_CSP_SUMMARY)
    assert summary_signing_bytes(signed) == rfc8785.dumps(document)


def test_a_summary_re_serialised_in_javascript_still_verifies_in_python() -> None:
    signed = sign_summary(_summary(), KEY, issue=1, issued_at=ISSUED).to_json()
    rewritten = _as_javascript_writes(signed)
    assert '"share":1,' in rewritten
    assert '"share":1.0' in signed
    assert verify_summary(rewritten, KEY.verify_key).kid == KEY.kid


def test_a_summary_with_a_repeated_key_is_refused_before_verifying() -> None:
    signed = sign_summary(_summary(), KEY, issue=1, issued_at=ISSUED).to_json()
    doubled = signed.replace('"cycle":"CSP12"', '"cycle":"CSP12","cycle":"CSP11"', 1)
    assert doubled != signed
    with pytest.raises(SignatureError) as caught:
        verify_summary(doubled, KEY.verify_key)
    assert caught.value.code == "malformed"
    with pytest.raises(SignatureError):
        verify_summary(signed.encode().replace(b'"k":3,', b'"k":3,"k":3,', 1), KEY.verify_key)


def test_a_signed_summary_carries_its_issue_number_and_issue_time() -> None:
    signed = sign_summary(_summary(), KEY, issue=4, issued_at=ISSUED)
    document = json.loads(signed.to_json())
    assert document["issue"] == 4
    assert document["issued_at"] == "2026-09-01T10:00:00Z"
    # both are signed: changing the issue number breaks the signature
    document["issue"] = 5
    with pytest.raises(SignatureError):
        verify_summary(json.dumps(document), KEY.verify_key)


def test_sign_summary_stamps_the_time_when_none_is_given() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    signed = sign_summary(_summary(), KEY)
    stamped = datetime.strptime(str(signed.issued_at), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert before <= stamped <= datetime.now(UTC)
    assert signed.issue == 1


def test_an_older_issue_is_refused_when_a_newer_one_is_held() -> None:
    older = sign_summary(_summary(), KEY, issue=2, issued_at=ISSUED).to_json()
    newer = sign_summary(_summary(), KEY, issue=3, issued_at=ISSUED).to_json()
    assert verify_summary(newer, KEY.verify_key, held_issue=2).summary.issue == 3
    with pytest.raises(SignatureError) as caught:
        verify_summary(older, KEY.verify_key, held_issue=3)
    assert caught.value.code == "replayed"
    # the same issue again is not newer either
    with pytest.raises(SignatureError):
        verify_summary(newer, KEY.verify_key, held_issue=3)


def test_next_issue_follows_the_issue_held() -> None:
    assert next_issue(None) == 1
    held = sign_summary(_summary(), KEY, issue=7, issued_at=ISSUED).to_json()
    assert next_issue(held) == 8


def test_the_content_hash_ignores_issue_time_and_number() -> None:
    one = sign_summary(_summary(), KEY, issue=1, issued_at=ISSUED)
    two = sign_summary(_summary(), KEY, issue=2, issued_at=datetime(2027, 1, 1, tzinfo=UTC))
    assert summary_content_hash(one) == summary_content_hash(two)
    assert summary_content_hash(one) != summary_content_hash(sign_summary(_summary(0.5), KEY))


# -- digest payloads ---------------------------------------------------------------------------


def _payload() -> DigestPayload:
    digest = {"region": "AFR", "period": "CSP12", "k": 2, **_table(1.0)}
    return DigestPayload.model_validate(
        {
            "region": "AFR",
            "period": "CSP12",
            "version": 1,
            "issued_at": ISSUED,
            "digest": digest,
            "csp_cells": [],
        }
    )


def test_a_digest_payload_is_signed_over_jcs_and_survives_a_javascript_round_trip() -> None:
    signed = sign_payload(_payload(), KEY)
    document = json.loads(signed.model_dump_json())
    signature = Signature.from_mapping(document.pop("signature"))
    verify(KEY.verify_key, rfc8785.dumps(document), signature, context=CONTEXT_DIGEST)
    assert signing_bytes(signed) == rfc8785.dumps(document)
    rewritten = _as_javascript_writes(signed.model_dump_json()).encode()
    parsed = parse_payload(rewritten, lambda _region: [KEY.verify_key])
    assert parsed.region is Region.AFR


def test_a_digest_payload_with_a_repeated_key_is_refused() -> None:
    signed = sign_payload(_payload(), KEY).model_dump_json()
    doubled = signed.replace('"version":1', '"version":1,"version":2', 1)
    with pytest.raises(ValidationError):
        parse_payload(doubled.encode(), lambda _region: [KEY.verify_key])
