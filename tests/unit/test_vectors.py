"""The published test vectors (``contracts/vectors/``, docs/reference-node.md) against the code.

The vectors are what an implementer in another language checks first; here they are
checked against the Python code that made them, so a change of any contract (a label, a
padded size, the record's fields, the signature bytes) fails until the vectors are made
again (``python3 -m uv run python contracts/vectors/generate.py``). The last test runs the
reference node's own tests (``npm test`` in ``reference-node/``), which check the same
vectors in TypeScript.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from aiokafka.partitioner import murmur2
from cryptography.hazmat.primitives.asymmetric import rsa

from dief.credentials import (
    TOKEN_VARIANT,
    blinding_inputs,
    contributor_message,
    pseudonym,
    request_hash,
)
from dief.crypto import (
    KemPrivateKey,
    Opener,
    b64url_decode,
    canonical_json,
    open_receipt,
)
from dief.keyring import ForumDirectory, KeyRole, NodeSecret, verify_directory
from dief.node import NodeIdentity
from dief.secretariat import verify_summary
from dief.wire import (
    CASE_PADDED_SIZES,
    CASE_SCHEMA_VERSION,
    SUITE_X25519,
    TYPE_CASE,
    CaseInput,
    CaseRecord,
    CredentialRequest,
    case_padded_size,
    generalise,
    ownership_problem,
)

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "contracts" / "vectors"
NODE_DIR = ROOT / "reference-node"


@cache
def _vector(name: str) -> Any:  # noqa: ANN401  a JSON document, as the vector file holds it
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


def _directory() -> ForumDirectory:
    v = _vector("directory.json")
    moment = datetime.fromisoformat(v["verify_at"]).timestamp()  # "…Z": UTC
    return verify_directory(v["directory"].encode(), v["root_fingerprint"], now=moment + 3600)


@pytest.mark.parametrize("name", ["hybrid", "x25519"])
def test_the_sealed_envelope_opens_with_its_key_and_its_receipt_with_its_receipt_key(
    name: str,
) -> None:
    v = _vector("envelope.json")[name]
    secret = bytes.fromhex(v["secret"])
    key = (
        KemPrivateKey(SUITE_X25519, secret)
        if v["suite"] == SUITE_X25519
        else KemPrivateKey.from_xwing_seed(secret)
    )
    assert key.kid == v["kid"]
    opener = Opener(
        [key], schemas={TYPE_CASE: {v["schema"]}}, sizes={TYPE_CASE: [v["padded_size"]]}
    )
    opened = opener.open(v["envelope"].encode())
    assert opened.payload.decode() == v["payload"]
    assert opened.receipt_key.hex() == v["receipt_key"]
    receipt = open_receipt(opened.receipt_key, v["receipt"]["id"], v["receipt"]["value"].encode())
    assert (receipt.outcome.value, receipt.reason) == (
        v["receipt"]["outcome"],
        v["receipt"]["reason"],
    )


def test_the_case_record_is_what_the_node_derives_and_signs() -> None:
    v = _vector("case-record.json")
    assert v["padded_sizes"] == list(CASE_PADDED_SIZES), (
        "padded sizes changed: make the vectors again"
    )
    record = CaseRecord.model_validate(v["record"])
    assert ownership_problem(v["record"], v["envelope_id"]) is None
    identity = NodeIdentity(NodeSecret("vectors", bytes.fromhex(v["secret"])))
    index = v["case_index"]
    assert identity.case_id(index, v["region"], v["cycle"]) == v["case_id"] == record.case_id
    unsigned = generalise(
        CaseInput.model_validate(v["input"]),
        case_id=v["case_id"],
        revision=1,
        owner_key=identity.owner_public(index),
        cycle=v["cycle"],
        catalogue_version=v["catalogue_version"],
    )
    # Ed25519 is deterministic: the same record signs to the same bytes
    again = unsigned.sign(record.credential, v["envelope_id"], identity.owner_key(index).sign)
    assert again.owner_sig == v["owner_sig"]
    assert canonical_json(json.loads(again.to_json())) == canonical_json(v["record"])
    assert case_padded_size(record) == CASE_PADDED_SIZES[1]  # the vector carries a lesson
    # the owner signature covers every field: another revision does not verify
    assert ownership_problem({**v["record"], "revision": 2}, v["envelope_id"]) is not None


def test_the_token_is_what_the_wallet_derives_and_it_verifies_under_the_directory_key() -> None:
    v = _vector("token.json")
    secret = NodeSecret("vectors", bytes.fromhex(v["secret"]))
    public = _directory().issuer_key(v["cycle"], v["region"])
    assert isinstance(public, rsa.RSAPublicKey)
    derived = blinding_inputs(secret, v["cycle"], v["region"], v["issuer_kid"], public)
    assert (derived.prefix.hex(), derived.salt.hex(), format(derived.r, "x")) == (
        v["prefix"],
        v["salt"],
        v["r"],
    )
    assert pseudonym(secret, v["cycle"], v["region"]) == v["contributor"]
    message = contributor_message(v["cycle"], v["region"], v["contributor"])
    prepared = TOKEN_VARIANT.prepare(message, prefix=derived.prefix)
    blinded = TOKEN_VARIANT.blind(public, prepared, salt=derived.salt, r=derived.r)
    assert blinded.blinded_msg == b64url_decode(v["blinded"])
    token = b64url_decode(v["token"])
    assert token[:32] == derived.prefix
    TOKEN_VARIANT.verify(public, prepared, token[32:])
    request = CredentialRequest.model_validate(v["request"])
    assert request_hash(request) == v["request_hash"]


def test_the_signed_directory_verifies_under_its_root() -> None:
    v = _vector("directory.json")
    directory = _directory()
    assert directory.version == v["version"]
    assert [k.kid for k in directory.region_kem_keys("AFR")] == v["region_kem_kids"]["AFR"]
    assert [k.kid for k in directory.verify_keys(KeyRole.SECRETARIAT)] == v["secretariat_sign_kids"]


def test_the_signed_summary_verifies_with_the_directory_key_even_as_javascript_writes_it() -> None:
    v = _vector("summary.json")
    keys = _directory().verify_keys(KeyRole.SECRETARIAT)
    verified = verify_summary(v["summary"], keys)
    assert (verified.kid, verified.summary.issue) == (v["kid"], v["issue"])
    rewritten = rfc8785.dumps(json.loads(v["summary"]))
    assert b'"share":1,' in rewritten
    assert verify_summary(rewritten, keys).kid == v["kid"]


def test_the_partitions_are_murmur2_as_the_java_client_computes_them() -> None:
    v = _vector("partitions.json")
    for entry in v["keys"]:
        key = entry["key"].encode()
        assert murmur2(key) == entry["murmur2"]
        assert (murmur2(key) & 0x7FFFFFFF) % v["partitions"] == entry["partition"]


def test_the_record_vector_is_of_the_current_schema() -> None:
    assert _vector("envelope.json")["hybrid"]["schema"] == CASE_SCHEMA_VERSION


def _npm_or_skip() -> str:
    found = shutil.which("npm")
    if found is None or shutil.which("node") is None or not (NODE_DIR / "node_modules").is_dir():
        reason = "Node.js or reference-node/node_modules missing (scripts/install runs npm ci)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return found


@pytest.mark.slow
def test_the_reference_node_checks_the_same_vectors_in_typescript() -> None:
    npm = _npm_or_skip()
    done = subprocess.run(
        [npm, "test", "--silent"],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "# fail 0" in done.stdout
