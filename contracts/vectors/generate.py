"""Write the test vectors of the published contracts (docs/reference-node.md, issue 17).

Run from the repository root: ``python3 -m uv run python contracts/vectors/generate.py``.
Every vector is made by the project's own code; ``tests/unit/test_vectors.py`` checks the
committed files against the code and ``reference-node`` (``npm test``) checks them in
TypeScript. Deterministic where the contracts are (node secret, X-Wing seed, owner keys,
case ids, owner signatures, pseudonyms, blinding inputs, tokens, request hashes,
partitions); the rest (HPKE encapsulation, data keys, ML-DSA signatures, the forum's keys)
is random and checked by opening and verifying.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka.partitioner import murmur2

from dief.credentials import (
    TOKEN_VARIANT,
    TokenWallet,
    blinding_inputs,
    build_request,
    contributor_message,
    issuer_key_id,
    pseudonym,
    request_hash,
)
from dief.crypto import KemPrivateKey, Opener, Sealer, b64url_encode, seal_receipt
from dief.keyring import KeyRole, NodeSecret, SimulatedForum
from dief.node import NodeIdentity
from dief.secretariat import sign_summary
from dief.wire import (
    CASE_PADDED_SIZES,
    CASE_SCHEMA_VERSION,
    SUITE_HYBRID,
    SUITE_X25519,
    TYPE_CASE,
    CaseInput,
    CspSummary,
    ReceiptOutcome,
    generalise,
)

OUT = Path(__file__).resolve().parent
#: Fixed inputs: a node secret and an X-Wing seed anyone can reproduce.
NODE_SECRET = hashlib.sha256(b"dief test vector: node secret").digest()
XWING_SEED = hashlib.sha256(b"dief test vector: x-wing seed").digest()
X25519_SECRET = hashlib.sha256(b"dief test vector: x25519 key").digest()
CYCLE, REGION, CASE_INDEX = "CSP12", "AFR", 7
ENVELOPE_ID = "6f1c2b9e-3d4a-4e5f-8a7b-0c1d2e3f4a5b"
PASSPHRASE = "dief test vectors (public)"  # noqa: S105  # a simulated forum, thrown away

CASE_INPUT: dict[str, Any] = {
    "kind": "case",
    "confidence": "confirmed",
    "region": REGION,
    "related_regions": ["EEG", "WEOG"],
    "detected": "2025-11-17",
    "items": [
        {"category": "small_arms", "quantity": 240, "subcategory": "reactivated_firearm"},
        {"category": "ammunition", "quantity": "unknown"},
    ],
    "transfer_stage": "in_transit",
    "transfer_type": "trans_shipment",
    "methods": ["falsified_documents", "complex_routing"],
    "transport_modes": ["sea", "land"],
    "maritime": ["transshipment_at_sea", "ais_gap"],
    "actor_roles": [{"role": "broker", "registered": "no"}, {"role": "carrier"}],
    "end_user_type": "criminal_organization",
    "risk_indicators": ["DOC-01", "RTE-01"],
    "detection_source": "customs_border_control",
    "actions_taken": ["seizure", "partner_states_notified"],
    "verification": {"check": "documentary", "outcome": "inconsistent"},
    "reassessment": {"reassessed": True, "outcome": "suspended"},
    "tlp": "amber",
    "summary": "Reactivated rifles moved through two ports; the end-user certificate was "
    "re-used — a pattern worth checking (“lesson”) \U0001d518.",
}


def _write(name: str, value: dict[str, Any]) -> None:
    text = json.dumps(value, indent=1, ensure_ascii=False) + "\n"
    (OUT / name).write_text(text, encoding="utf-8")
    print(f"wrote contracts/vectors/{name}")  # noqa: T201  a script: says which file it wrote


def _envelope(suite: str, key: KemPrivateKey, secret: bytes) -> dict[str, Any]:
    payload = json.dumps({"hello": "DIEF", "n": 1}, separators=(",", ":")).encode()
    sealer = Sealer(type=TYPE_CASE, region=REGION, recipients=[key.public_key], sizes=[1024])
    sealed = sealer.seal_with_receipt(payload, record_id=uuid.UUID(ENVELOPE_ID))
    opened = Opener([key], schemas={TYPE_CASE: {CASE_SCHEMA_VERSION}}, sizes={TYPE_CASE: [1024]})
    assert opened.open(sealed.value).receipt_key == sealed.receipt_key  # noqa: S101  the generator checks its own vector (a script, not run with -O)
    rid, receipt = seal_receipt(
        sealed.receipt_key, ENVELOPE_ID, ReceiptOutcome.DEAD_LETTERED, "bad_credential", REGION
    )
    return {
        "suite": suite,
        "secret": secret.hex(),
        "kid": key.kid,
        "public": b64url_encode(key.public_key.public_bytes()),
        "type": TYPE_CASE,
        "region": REGION,
        "schema": CASE_SCHEMA_VERSION,
        "envelope": sealed.value.decode("utf-8"),
        "padded_size": 1024,
        "payload": payload.decode("utf-8"),
        "receipt_key": sealed.receipt_key.hex(),
        "receipt": {
            "id": rid,
            "value": receipt.decode("utf-8"),
            "outcome": "dead_lettered",
            "reason": "bad_credential",
        },
    }


def _token(forum: SimulatedForum, secret: NodeSecret) -> dict[str, Any]:
    private = forum.secretariat().issuer_private_key(CYCLE, REGION)
    public = private.public_key()
    kid = issuer_key_id(public)
    wallet = TokenWallet(secret, lambda _cycle, _region: public, simulation=True)
    request = wallet.request(CYCLE, REGION)
    blind_signature = TOKEN_VARIANT.blind_sign(private, request.blinded)
    credential = wallet.accept(kid, blind_signature)
    derived = blinding_inputs(secret, CYCLE, REGION, kid, public)
    contributor = pseudonym(secret, CYCLE, REGION)
    node = forum.node("vectors")
    signed = build_request(
        request, registration_key=node.registration_key(), node_kem_key=node.kem_key().public_key
    )
    return {
        "secret": NODE_SECRET.hex(),
        "cycle": CYCLE,
        "region": REGION,
        "issuer_kid": kid,
        "contributor": contributor,
        "message": contributor_message(CYCLE, REGION, contributor).decode("ascii"),
        "prefix": derived.prefix.hex(),
        "salt": derived.salt.hex(),
        "r": format(derived.r, "x"),
        "blinded": b64url_encode(request.blinded),
        "blind_signature": b64url_encode(blind_signature),
        "token": b64url_encode(credential.token),
        "request": json.loads(signed.model_dump_json()),
        "request_hash": request_hash(signed),
        "_credential": credential,
    }


def _record(token: dict[str, Any]) -> dict[str, Any]:
    identity = NodeIdentity(NodeSecret("vectors", NODE_SECRET))
    key = identity.owner_key(CASE_INDEX)
    case = CaseInput.model_validate(CASE_INPUT)
    unsigned = generalise(
        case,
        case_id=identity.case_id(CASE_INDEX, REGION, CYCLE),
        revision=1,
        owner_key=identity.owner_public(CASE_INDEX),
        cycle=CYCLE,
        catalogue_version="2026.1",
    )
    record = unsigned.sign(token["_credential"], ENVELOPE_ID, key.sign)
    return {
        "secret": NODE_SECRET.hex(),
        "case_index": CASE_INDEX,
        "region": REGION,
        "cycle": CYCLE,
        "start_month": 9,
        "catalogue_version": "2026.1",
        "envelope_id": ENVELOPE_ID,
        "input": CASE_INPUT,
        "owner_public": b64url_encode(identity.owner_public(CASE_INDEX)),
        "case_id": record.case_id,
        "record": json.loads(record.to_json()),
        "owner_sig": record.owner_sig,
        "padded_sizes": list(CASE_PADDED_SIZES),
    }


def _summary(forum: SimulatedForum) -> dict[str, Any]:
    def table(share: float) -> dict[str, Any]:
        return {
            "totals": {"cases": 4, "contributors": 3, "suppressed": 1},
            "dimensions": {
                "kind": [{"value": "case", "count": 4, "contributors": 3, "share": share}],
                "transfer_stage": [
                    {"value": "in_transit", "count": 3, "contributors": 3, "share": 0.75},
                    {"value": "stockpile", "count": None, "contributors": None, "suppressed": True},
                ],
            },
        }

    summary = CspSummary.model_validate(
        {
            "cycle": CYCLE,
            "from": "2025-09",
            "to": "2026-08",
            "k": 3,
            "regions": {REGION: table(1.0)},
            "global": table(1.0),
            "narrative": ["Reported cases rose — “in transit” most often. \U0001d518"],
            "methodology": {"rules": ["k_csp = 3"], "k": 3, "suppressed": 1},
        }
    )
    key = forum.signing_key(KeyRole.SECRETARIAT)
    signed = sign_summary(summary, key, issue=2, issued_at=datetime(2026, 9, 1, 10, tzinfo=UTC))
    return {"summary": signed.to_json(), "kid": key.kid, "cycle": CYCLE, "issue": 2}


def main() -> int:
    """Write every vector file; the exit status."""
    secret = NodeSecret("vectors", NODE_SECRET)
    hybrid = KemPrivateKey.from_xwing_seed(XWING_SEED)
    x25519 = KemPrivateKey(SUITE_X25519, X25519_SECRET)
    _write(
        "envelope.json",
        {
            "hybrid": _envelope(SUITE_HYBRID, hybrid, XWING_SEED),
            "x25519": _envelope(SUITE_X25519, x25519, X25519_SECRET),
        },
    )
    with tempfile.TemporaryDirectory() as tmp:
        forum = SimulatedForum.create(
            Path(tmp) / "forum", PASSPHRASE, nodes=["vectors"], cycles=[CYCLE]
        )
        directory = forum.directory
        token = _token(forum, secret)
        record = _record(token)
        del token["_credential"]
        _write("token.json", token)
        _write("case-record.json", record)
        _write(
            "directory.json",
            {
                "root_fingerprint": forum.root_fingerprint,
                "verify_at": directory.document.issued_at,
                "directory": directory.raw.decode("utf-8"),
                "version": directory.version,
                "region_kem_kids": {
                    r: [k.kid for k in directory.region_kem_keys(r)] for r in ("AFR",)
                },
                "secretariat_sign_kids": [
                    k.kid for k in directory.verify_keys(KeyRole.SECRETARIAT)
                ],
                "issuer_kid": token["issuer_kid"],
            },
        )
        _write("summary.json", _summary(forum))
    keys = [record["case_id"], "00000000-0000-8000-8000-000000000000", "a", "dief"]
    _write(
        "partitions.json",
        {
            "partitions": 3,
            "keys": [
                {
                    "key": key,
                    "murmur2": murmur2(key.encode()),
                    "partition": (murmur2(key.encode()) & 0x7FFFFFFF) % 3,
                }
                for key in keys
            ],
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
