"""Credential requests and answers between a node and the issuer, over Kafka or as files
(DESIGN §5 ⚑; the shapes are :mod:`dief.wire`'s :class:`~dief.wire.CredentialRequest` and
:class:`~dief.wire.CredentialAnswer`).

Node side: :func:`build_request` (signed with the registration key, context
:data:`CONTEXT_CREDENTIAL_REQUEST`), :func:`seal_request` (to the Secretariat's KEM key),
then, for the answer, :func:`accept_answer` (open with the node's KEM key, finalize and
verify in the wallet). Issuer side: :func:`handle_request` (open, verify the signature
against the registry, sign, seal the answer to the node KEM key named in the request), or
its steps :func:`open_request`, :func:`verify_request`, :func:`answer_request` and
:func:`seal_answer`. Keys are parameters: the directory and the Kafka wiring supply them.

Both envelopes use a fresh data key, the constant ``region`` label
:data:`dief.wire.CREDENTIAL_ENVELOPE_LABEL` and a payload the sealer pads with spaces to the
next power of two from 1,024 bytes (the opener checks and strips it), so every request (and
every answer) of an issuer key size looks the same in transit. An answer is keyed on the
answers topic by :func:`request_hash` of its request, so a node picks out its own answers
without trying to open the others.
The same sealed bytes are the files of a node that works offline (:func:`write_request`,
:func:`read_answer`; the issuer uses :func:`read_request` and :func:`write_answer`).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from dief._files import write_atomic
from dief.crypto import (
    KemPrivateKey,
    KemPublicKey,
    Opener,
    Sealer,
    Signature,
    SigningKey,
    b64url_decode,
    b64url_encode,
    canonical_json,
    sign_json,
    verify_json,
)
from dief.exceptions import (
    ConfigurationError,
    CredentialError,
    MalformedEnvelopeError,
    SignatureError,
)
from dief.wire import (
    CREDENTIAL_ENVELOPE_LABEL,
    CREDENTIAL_WIRE_VERSION,
    MAX_VALUE_BYTES,
    TYPE_CREDENTIAL_ANSWER,
    TYPE_CREDENTIAL_REQUEST,
    CredentialAnswer,
    CredentialRequest,
    NodeKemKey,
    unsigned_document,
)

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from dief.credentials._issuer import Issuer, Registration, RegistrationLookup
    from dief.credentials._wallet import TokenRequest, TokenWallet
    from dief.seams import ContributorCredential

__all__ = [
    "CONTEXT_CREDENTIAL_REQUEST",
    "accept_answer",
    "answer_request",
    "build_request",
    "handle_request",
    "open_answer",
    "open_request",
    "read_answer",
    "read_request",
    "request_hash",
    "seal_answer",
    "seal_request",
    "verify_request",
    "write_answer",
    "write_request",
]

#: Signature context of a credential request (see :mod:`dief.crypto.signing`).
CONTEXT_CREDENTIAL_REQUEST = "dief.credential-request"
_HASH_LABEL = b"dief/credential-request/v1\x00"


def _refuse(code: str, message: str) -> CredentialError:
    return CredentialError(message, code=code)


# -- node side -------------------------------------------------------------------------------


def build_request(
    token_request: TokenRequest, *, registration_key: SigningKey, node_kem_key: KemPublicKey
) -> CredentialRequest:
    """The signed request for *token_request*; the answer will be sealed to *node_kem_key*."""
    unsigned = {
        "v": CREDENTIAL_WIRE_VERSION,
        "registration_kid": registration_key.kid,
        "issuer_kid": token_request.issuer_kid,
        "cycle": token_request.cycle,
        "region": token_request.region,
        "blinded": b64url_encode(token_request.blinded),
        "node_kem_key": {
            "suite": node_kem_key.suite,
            "public": b64url_encode(node_kem_key.public_bytes()),
        },
    }
    signature = sign_json(registration_key, unsigned, context=CONTEXT_CREDENTIAL_REQUEST)
    return CredentialRequest.model_validate({**unsigned, "signature": signature.model_dump()})


def request_hash(request: CredentialRequest) -> str:
    """Hex SHA-256 of the request without its signature (a domain label, then its canonical
    JSON): the same for every signing of the same request."""
    return hashlib.sha256(_HASH_LABEL + canonical_json(unsigned_document(request))).hexdigest()


def _seal(payload_type: str, model: BaseModel, recipient: KemPublicKey) -> bytes:
    """*model* as compact JSON, sealed with a fresh data key; the sealer pads it to the next
    power of two from 1,024 bytes (DESIGN §3)."""
    sealer = Sealer(type=payload_type, region=CREDENTIAL_ENVELOPE_LABEL, recipients=[recipient])
    return sealer.seal(model.model_dump_json().encode("utf-8"))


_M = TypeVar("_M", bound=BaseModel)


def _open(
    value: bytes, keys: Iterable[KemPrivateKey], payload_type: str, model: type[_M], code: str
) -> _M:
    opened = Opener(list(keys), schemas={payload_type: {CREDENTIAL_WIRE_VERSION}}).open(value)
    if opened.region != CREDENTIAL_ENVELOPE_LABEL:
        raise MalformedEnvelopeError(f"a {payload_type} envelope has the wrong region label")
    try:
        return model.model_validate_json(opened.payload)
    except PydanticValidationError as exc:
        raise _refuse(code, f"not a valid {payload_type} payload") from exc


def seal_request(request: CredentialRequest, secretariat_key: KemPublicKey) -> bytes:
    """*request* sealed to the Secretariat (payload type ``dief.credential-request``)."""
    return _seal(TYPE_CREDENTIAL_REQUEST, request, secretariat_key)


def open_answer(value: bytes, node_kem_key: KemPrivateKey) -> CredentialAnswer:
    """Open an answer sealed to this node.

    :raises EnvelopeError: not an answer envelope for this node's key.
    :raises CredentialError: ``bad_answer``: the payload is not an answer.
    """
    return _open(value, [node_kem_key], TYPE_CREDENTIAL_ANSWER, CredentialAnswer, "bad_answer")


def accept_answer(
    wallet: TokenWallet, value: bytes, node_kem_key: KemPrivateKey
) -> ContributorCredential:
    """Open an answer and let *wallet* finalize, verify and store the token."""
    answer = open_answer(value, node_kem_key)
    try:
        blind_signature = b64url_decode(answer.blind_signature)
    except ValueError as exc:
        raise _refuse("bad_answer", "the blind signature is not base64url") from exc
    return wallet.accept(answer.issuer_kid, blind_signature)


# -- issuer side ---------------------------------------------------------------------------


def open_request(value: bytes, opening_keys: Iterable[KemPrivateKey]) -> CredentialRequest:
    """Open a request sealed to the Secretariat (its signature is not checked yet).

    :raises EnvelopeError: not a request envelope for one of *opening_keys*.
    :raises CredentialError: ``bad_request``: the payload is not a request.
    """
    return _open(value, opening_keys, TYPE_CREDENTIAL_REQUEST, CredentialRequest, "bad_request")


def verify_request(request: CredentialRequest, registrations: RegistrationLookup) -> Registration:
    """The registration that signed *request*, once its signature verifies.

    :raises CredentialError: ``unknown_registration``, ``revoked_registration``, or
        ``bad_request`` (a signature that is malformed, by another key, or does not verify).
    """
    entry = registrations(request.registration_kid)
    if entry is None or entry.verify_key is None:
        raise _refuse("unknown_registration", "the registration is not known")
    if entry.revoked:
        raise _refuse("revoked_registration", "the registration is revoked")
    try:
        signature = Signature.from_mapping(request.signature)
        if signature.kid != request.registration_kid or entry.verify_key.kid != signature.kid:
            raise SignatureError("the request is not signed by its registration key")  # noqa: TRY301  a refused signature is one of the request's checks, handled with the others
        verify_json(
            entry.verify_key,
            unsigned_document(request),
            signature,
            context=CONTEXT_CREDENTIAL_REQUEST,
        )
    except SignatureError as exc:
        raise _refuse("bad_request", "the request's signature does not verify") from exc
    return entry


async def answer_request(
    request: CredentialRequest, *, registrations: RegistrationLookup, issuer: Issuer
) -> CredentialAnswer:
    """Verify *request* and have *issuer* sign it (its refusals propagate)."""
    entry = verify_request(request, registrations)
    try:
        blinded = b64url_decode(request.blinded)
    except ValueError as exc:
        raise _refuse("bad_request", "the blinded message is not base64url") from exc
    blind_signature = await issuer.sign(
        entry.kid, request.issuer_kid, request.cycle, request.region.value, blinded
    )
    return CredentialAnswer(
        v=CREDENTIAL_WIRE_VERSION,
        request=request_hash(request),
        issuer_kid=request.issuer_kid,
        blind_signature=b64url_encode(blind_signature),
    )


def _node_key(key: NodeKemKey) -> KemPublicKey:
    try:
        return KemPublicKey(key.suite, b64url_decode(key.public))
    except (ValueError, ConfigurationError) as exc:
        raise _refuse("bad_request", "the request's node KEM key is not valid") from exc


def seal_answer(answer: CredentialAnswer, request: CredentialRequest) -> bytes:
    """*answer* sealed to the node KEM key named in *request*."""
    return _seal(TYPE_CREDENTIAL_ANSWER, answer, _node_key(request.node_kem_key))


async def handle_request(
    value: bytes,
    *,
    opening_keys: Iterable[KemPrivateKey],
    registrations: RegistrationLookup,
    issuer: Issuer,
) -> bytes:
    """One sealed request in, its sealed answer out (the issuer service's whole step)."""
    request = open_request(value, opening_keys)
    node_key = _node_key(request.node_kem_key)  # checked before anything is signed
    answer = await answer_request(request, registrations=registrations, issuer=issuer)
    return _seal(TYPE_CREDENTIAL_ANSWER, answer, node_key)


# -- files -----------------------------------------------------------------------------------


def _read(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_VALUE_BYTES + 1)
    except OSError as exc:
        raise ConfigurationError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if len(data) > MAX_VALUE_BYTES:
        raise ConfigurationError(f"{path} is larger than a sealed envelope can be")
    return data


def write_request(path: Path, sealed: bytes) -> None:
    """Write a sealed request to *path* (atomically), for a node that works offline."""
    write_atomic(path, sealed)


def read_request(path: Path) -> bytes:
    """The sealed request in *path* (at most 256 KiB)."""
    return _read(path)


def write_answer(path: Path, sealed: bytes) -> None:
    """Write a sealed answer to *path* (atomically)."""
    write_atomic(path, sealed)


def read_answer(path: Path) -> bytes:
    """The sealed answer in *path* (at most 256 KiB)."""
    return _read(path)
