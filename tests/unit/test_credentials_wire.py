"""Credential requests and answers on the wire (and as files): signed by the node's
registration key, sealed to the Secretariat; answers sealed to the requesting node."""

from __future__ import annotations

import json
from itertools import starmap
from typing import TYPE_CHECKING

import pytest
from pydantic import ValidationError as PydanticValidationError

from dief.credentials import (
    CREDENTIAL_ANSWERS_TOPIC,
    CREDENTIAL_REQUESTS_TOPIC,
    Issuer,
    MemoryLedger,
    TokenVerifier,
    TokenWallet,
    accept_answer,
    build_request,
    handle_request,
    open_answer,
    open_request,
    read_answer,
    read_request,
    request_hash,
    seal_request,
    verify_request,
    write_answer,
    write_request,
)
from dief.crypto import KemPrivateKey, Opener, Sealer, SigningKey
from dief.exceptions import CredentialError, EnvelopeError, NoRecipientKeyError
from dief.vocab import Region
from dief.wire import (
    TYPE_CREDENTIAL_ANSWER,
    TYPE_CREDENTIAL_REQUEST,
    CredentialAnswer,
    CredentialRequest,
)
from tests.unit.record_helpers import clear_text
from tests.unit.test_credentials_support import (
    PAIRS,
    Registry,
    issuer_key,
    node_secret,
    public_lookup,
)

if TYPE_CHECKING:
    from pathlib import Path

SECRETARIAT = KemPrivateKey.generate()
NODE_KEM = KemPrivateKey.generate()


def _parties() -> tuple[Issuer, Registry, SigningKey, TokenWallet]:
    registry = Registry()
    issuer = Issuer(list(starmap(issuer_key, PAIRS)), registry, MemoryLedger())
    reg = registry.register()
    wallet = TokenWallet(node_secret(6), public_lookup(), simulation=True)
    return issuer, registry, reg, wallet


def _request(wallet: TokenWallet, reg: SigningKey) -> CredentialRequest:
    return build_request(
        wallet.request("CSP12", "AFR"), registration_key=reg, node_kem_key=NODE_KEM.public_key
    )


def test_topic_names() -> None:
    assert CREDENTIAL_REQUESTS_TOPIC == "dief.credentials.requests"
    assert CREDENTIAL_ANSWERS_TOPIC == "dief.credentials.answers"


async def test_a_request_travels_sealed_and_signed_and_its_answer_gives_a_token() -> None:
    issuer, registry, reg, wallet = _parties()
    request = _request(wallet, reg)
    value = seal_request(request, SECRETARIAT.public_key)
    header = json.loads(value)
    assert header["region"] == "credentials"  # the clear header names no cycle or region
    # (outside the random fields: the KEM ciphertext in a wrapped key is 1,500 characters)
    assert "CSP12" not in clear_text(value)
    answer_value = await handle_request(
        value, opening_keys=[SECRETARIAT], registrations=registry, issuer=issuer
    )
    credential = accept_answer(wallet, answer_value, NODE_KEM)
    assert wallet.credential("CSP12", "AFR") == credential
    assert TokenVerifier(public_lookup(), simulation=True).verify(credential)
    answer = open_answer(answer_value, NODE_KEM)
    assert answer.request == request_hash(request)
    with pytest.raises(NoRecipientKeyError):
        open_answer(answer_value, SECRETARIAT)  # only the requesting node opens its answer


async def test_the_same_request_rebuilt_has_the_same_hash() -> None:
    _, _, reg, wallet = _parties()
    first, second = _request(wallet, reg), _request(wallet, reg)
    assert first.signature != second.signature or first == second
    assert request_hash(first) == request_hash(second)
    assert len(request_hash(first)) == 64


def test_a_request_signed_by_another_key_is_refused() -> None:
    """The attack: a node asks in another registration's name (to use up its allowance or
    to get a second token) — the signature must be by that very registration key."""
    _, registry, reg, wallet = _parties()
    other = registry.register()
    request = _request(wallet, reg)
    forged = request.model_copy(update={"registration_kid": other.kid})
    with pytest.raises(CredentialError) as caught:
        verify_request(forged, registry)
    assert caught.value.code == "bad_request"
    stranger = SigningKey.generate()
    unregistered = _request(wallet, stranger)
    with pytest.raises(CredentialError) as unknown:
        verify_request(unregistered, registry)
    assert unknown.value.code == "unknown_registration"
    verify_request(request, registry)


def test_a_tampered_request_is_refused() -> None:
    _, registry, reg, wallet = _parties()
    request = _request(wallet, reg)
    changes: tuple[tuple[str, object], ...] = (
        ("cycle", "CSP13"),
        ("region", Region.WEOG),
        ("issuer_kid", "d" * 20),
    )
    for field, value in changes:
        with pytest.raises(CredentialError):
            verify_request(request.model_copy(update={field: value}), registry)


async def test_a_request_the_issuer_refuses_gets_no_answer() -> None:
    issuer, registry, reg, wallet = _parties()
    await handle_request(
        seal_request(_request(wallet, reg), SECRETARIAT.public_key),
        opening_keys=[SECRETARIAT],
        registrations=registry,
        issuer=issuer,
    )
    other = TokenWallet(node_secret(7), public_lookup(), simulation=True)
    with pytest.raises(CredentialError) as caught:
        await handle_request(
            seal_request(_request(other, reg), SECRETARIAT.public_key),
            opening_keys=[SECRETARIAT],
            registrations=registry,
            issuer=issuer,
        )
    assert caught.value.code == "already_issued"


def test_shapes_are_strict() -> None:
    _, _, reg, wallet = _parties()
    request = _request(wallet, reg)
    data = json.loads(request.model_dump_json())
    assert data["v"] == 1
    assert data["node_kem_key"]["suite"] == NODE_KEM.suite
    with pytest.raises(PydanticValidationError, match="extra"):
        CredentialRequest.model_validate({**data, "extra": 1})
    with pytest.raises(PydanticValidationError, match="v"):
        CredentialRequest.model_validate({**data, "v": 2})
    with pytest.raises(PydanticValidationError, match="request"):
        CredentialAnswer.model_validate(
            {"v": 1, "request": "x", "issuer_kid": "a" * 20, "blind_signature": "AA"}
        )


def test_an_envelope_of_the_wrong_type_is_not_a_request() -> None:
    sealer = Sealer(
        type=TYPE_CREDENTIAL_ANSWER, region="credentials", recipients=[SECRETARIAT.public_key]
    )
    with pytest.raises(EnvelopeError):
        open_request(sealer.seal(b"{}"), [SECRETARIAT])
    opener = Opener([SECRETARIAT], schemas={TYPE_CREDENTIAL_REQUEST: {1}})
    assert opener.kids == {SECRETARIAT.kid}


async def test_requests_and_answers_as_files_for_an_offline_node(tmp_path: Path) -> None:
    issuer, registry, reg, wallet = _parties()
    request_file = tmp_path / "out" / "request.dief"
    write_request(request_file, seal_request(_request(wallet, reg), SECRETARIAT.public_key))
    answer_file = tmp_path / "in" / "answer.dief"
    write_answer(
        answer_file,
        await handle_request(
            read_request(request_file),
            opening_keys=[SECRETARIAT],
            registrations=registry,
            issuer=issuer,
        ),
    )
    credential = accept_answer(wallet, read_answer(answer_file), NODE_KEM)
    assert credential.region == "AFR"
    (tmp_path / "junk").write_bytes(b"not an envelope")
    with pytest.raises(EnvelopeError):
        open_answer(read_answer(tmp_path / "junk"), NODE_KEM)


def test_requests_look_alike_in_transit() -> None:
    """Requests of different nodes and pairs have one size (padded payloads) and the
    envelope's clear header names neither the cycle nor the region."""
    _, _, reg, _ = _parties()
    opener = Opener([SECRETARIAT], schemas={TYPE_CREDENTIAL_REQUEST: {1}})
    sizes = set()
    for byte, (cycle, region) in zip((1, 2, 3), PAIRS, strict=True):
        wallet = TokenWallet(node_secret(byte), public_lookup(), simulation=True)
        request = build_request(
            wallet.request(cycle, region), registration_key=reg, node_kem_key=NODE_KEM.public_key
        )
        value = seal_request(request, SECRETARIAT.public_key)
        sizes.add(len(value))
        header = json.loads(value)
        assert header["region"] == "credentials"
        assert header["type"] == TYPE_CREDENTIAL_REQUEST
        assert opener.open(value).region == "credentials"
    assert len(sizes) == 1
