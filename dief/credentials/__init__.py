"""Contributor credentials (DESIGN §5 ⚑): RFC 9474 blind-signed pseudonyms, one per node and
(cycle, region), so an aggregator can count contributors without anyone inventing them and
without the issuer learning which pseudonym is whose.

- Node side: :func:`pseudonym` and :func:`contributor_message` (derived from the node secret,
  the same formula as :class:`dief.testing.FakeCredentials`); :class:`TokenWallet`, the node's
  :class:`~dief.seams.CredentialSource` (``missing``, ``request``, ``accept``), whose
  requests are identical each time, so a lost answer or a restored node is never locked out;
  :func:`plan_requests` and :func:`cycles_to_request` (all five regions, this cycle and the
  previous one, each after its own random delay).
- Issuer side (the Secretariat): :class:`IssuerKey` (3,072-bit RSA, one per (cycle, region);
  2,048 only with ``simulation=True``), :class:`Issuer` (one blinded message per
  registration and issuer key, the identical one again, a different one refused with
  ``already_issued``; re-registrations counted apart), its ledger :class:`IssuanceLedger`
  (:class:`MemoryLedger`, :class:`IssuanceStore` on SQLite or PostgreSQL) and
  :class:`IssuedCount` (what the directory publishes).
- Aggregator side: :class:`TokenVerifier`, the :class:`~dief.seams.CredentialCheck` (one RSA
  verification per pseudonym, cached; distinct pseudonyms above tokens issued reported by
  ``over_issued``).
- The exchange over Kafka: :class:`IssuerService` (the Secretariat reads
  ``dief.credentials.requests`` in the group :data:`ISSUER_GROUP_ID`, :func:`register_issuer`,
  answers on ``dief.credentials.answers``, refuses bad requests by reason code, reports
  :data:`TokenCounts` for the directory) and :class:`CredentialClient` (a node plans, sends
  and resends its requests, follows the answers, fills its wallet and tells ``on_token``;
  the same as files offline).
- Simulations (``dief run``, ``dief demo``, benchmarks, tests): :class:`SimulatedIssuer`
  answers a :class:`~dief.keyring.SimulatedForum`'s nodes in process, through the same
  :class:`Issuer`; :class:`SimulatedNode`.
- Requests and answers (:mod:`dief.wire` shapes): :func:`build_request`,
  :func:`seal_request`, :func:`handle_request`, :func:`accept_answer` and their steps, the
  file forms, and the topic names :data:`CREDENTIAL_REQUESTS_TOPIC` and
  :data:`CREDENTIAL_ANSWERS_TOPIC` (answers are keyed by :func:`request_hash`).

The blind signature scheme itself is :mod:`dief.crypto`'s :class:`~dief.crypto.BlindRsaVariant`
(:data:`TOKEN_VARIANT` is RSABSSA-SHA384-PSS-Randomized).
"""

from __future__ import annotations

from dief.credentials._client import (
    DEFAULT_MAX_DELAY,
    DEFAULT_RESEND_AFTER,
    DEFAULT_RETRY_AFTER,
    CredentialClient,
    CredentialDirectory,
    TokenHook,
)
from dief.credentials._derive import (
    PREFIX_LEN,
    BlindingInputs,
    blinding_inputs,
    check_pair,
    contributor_message,
    pseudonym,
)
from dief.credentials._exchange import (
    CONTEXT_CREDENTIAL_REQUEST,
    accept_answer,
    answer_request,
    build_request,
    handle_request,
    open_answer,
    open_request,
    read_answer,
    read_request,
    request_hash,
    seal_answer,
    seal_request,
    verify_request,
    write_answer,
    write_request,
)
from dief.credentials._issuer import TOKEN_VARIANT, Issuer, Registration, RegistrationLookup
from dief.credentials._keys import (
    ISSUER_KEY_BITS,
    SIMULATION_KEY_BITS,
    IssuerKey,
    check_issuer_public_key,
    issuer_key_id,
)
from dief.credentials._ledger import (
    Issuance,
    IssuanceLedger,
    IssuanceStore,
    IssuedCount,
    MemoryLedger,
)
from dief.credentials._registry import registrations_of
from dief.credentials._schedule import PlannedRequest, cycles_to_request, plan_requests
from dief.credentials._service import (
    ISSUER_GROUP_ID,
    CountsHook,
    IssuerReport,
    IssuerService,
    TokenCounts,
    register_issuer,
)
from dief.credentials._simulation import SimulatedIssuer, SimulatedNode
from dief.credentials._verifier import (
    DEFAULT_TOKEN_CACHE_SIZE,
    IssuedLookup,
    PseudonymExcess,
    TokenVerifier,
)
from dief.credentials._wallet import IssuerKeyLookup, TokenRequest, TokenWallet

# The topic names live with the other topics (created by dief.kafka.dief_topics).
from dief.kafka._topics import CREDENTIAL_ANSWERS_TOPIC, CREDENTIAL_REQUESTS_TOPIC

__all__ = [
    "CONTEXT_CREDENTIAL_REQUEST",
    "CREDENTIAL_ANSWERS_TOPIC",
    "CREDENTIAL_REQUESTS_TOPIC",
    "DEFAULT_MAX_DELAY",
    "DEFAULT_RESEND_AFTER",
    "DEFAULT_RETRY_AFTER",
    "DEFAULT_TOKEN_CACHE_SIZE",
    "ISSUER_GROUP_ID",
    "ISSUER_KEY_BITS",
    "PREFIX_LEN",
    "SIMULATION_KEY_BITS",
    "TOKEN_VARIANT",
    "BlindingInputs",
    "CountsHook",
    "CredentialClient",
    "CredentialDirectory",
    "Issuance",
    "IssuanceLedger",
    "IssuanceStore",
    "IssuedCount",
    "IssuedLookup",
    "Issuer",
    "IssuerKey",
    "IssuerKeyLookup",
    "IssuerReport",
    "IssuerService",
    "MemoryLedger",
    "PlannedRequest",
    "PseudonymExcess",
    "Registration",
    "RegistrationLookup",
    "SimulatedIssuer",
    "SimulatedNode",
    "TokenCounts",
    "TokenHook",
    "TokenRequest",
    "TokenVerifier",
    "TokenWallet",
    "accept_answer",
    "answer_request",
    "blinding_inputs",
    "build_request",
    "check_issuer_public_key",
    "check_pair",
    "contributor_message",
    "cycles_to_request",
    "handle_request",
    "issuer_key_id",
    "open_answer",
    "open_request",
    "plan_requests",
    "pseudonym",
    "read_answer",
    "read_request",
    "register_issuer",
    "registrations_of",
    "request_hash",
    "seal_answer",
    "seal_request",
    "verify_request",
    "write_answer",
    "write_request",
]
