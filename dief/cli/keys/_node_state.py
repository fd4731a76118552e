"""What a node's backup carries besides its keys (DESIGN §4 ⚑): its case index and its tokens.

Two extras of :func:`dief.keyring.backup_node`, each sealed under the backup passphrase like
the keys (never in clear in the backup file):

- ``case-index`` — every case the node posted: its derived id, its index (the owner key
  derives from the node secret and it), region, cycle, latest revision and the
  practitioner's own reference, from the outbox (:meth:`Outbox.index_entries`);
- ``tokens`` — the node's contributor tokens, one per (cycle, region), from its wallet.

Restoring puts the case index into the (new) outbox (:meth:`Outbox.restore_index`), with
each latest revision as backed up, or unknown (``--unknown-revisions``: the node then refuses
to revise a case until the revision is given); and the tokens into the wallet, each checked
under the issuer key the signed directory gives for its (cycle, region)
(:meth:`TokenWallet.restore`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dief.credentials import TokenWallet
from dief.crypto import b64url_decode, b64url_encode
from dief.exceptions import KeyringError
from dief.keyring import ForumDirectory, NodeSecret
from dief.node import CaseIndexEntry, Outbox
from dief.seams import ContributorCredential

__all__ = [
    "CASE_INDEX",
    "TOKENS",
    "NodeState",
    "parse_extras",
    "read_state",
    "restore_cases",
    "restore_tokens",
    "state_extras",
]

#: The names of the two extras in the backup file.
CASE_INDEX = "case-index"
TOKENS = "tokens"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Case(_Strict):
    case_id: str
    index: int = Field(ge=0)
    region: str
    cycle: str
    revision: int | None = Field(ge=1)
    reference: str | None = None


class _CaseIndex(_Strict):
    format: Literal["dief-case-index/1"] = "dief-case-index/1"
    cases: tuple[_Case, ...]


class _Token(_Strict):
    cycle: str
    region: str
    contributor: str
    token: str


class _Tokens(_Strict):
    format: Literal["dief-tokens/1"] = "dief-tokens/1"
    tokens: tuple[_Token, ...]


@dataclass(frozen=True, slots=True)
class NodeState:
    """A node's case index and tokens, as backed up."""

    cases: tuple[CaseIndexEntry, ...]
    tokens: tuple[ContributorCredential, ...]

    def __repr__(self) -> str:
        return f"NodeState(cases={len(self.cases)}, tokens={len(self.tokens)})"


def _no_key(cycle: str, region: str) -> None:  # noqa: ARG001  the key source TokenWallet calls; the state reader needs none
    return None


async def read_state(outbox: Path | None, wallet: Path | None, secret: NodeSecret) -> NodeState:
    """The case index of the outbox file *outbox* and the tokens of the wallet file *wallet*
    (either None: nothing of it). Both are only read (the node may be running)."""
    cases: list[CaseIndexEntry] = []
    if outbox is not None:
        box = Outbox(outbox)
        await box.start()
        try:
            cases = await box.index_entries()
        finally:
            await box.stop()
    tokens: list[ContributorCredential] = []
    if wallet is not None:
        with TokenWallet(secret, _no_key, path=wallet) as held:
            tokens = held.credentials()
    return NodeState(tuple(cases), tuple(tokens))


def state_extras(state: NodeState) -> dict[str, bytes]:
    """*state* as the backup's extras (JSON, sealed by the backup)."""
    index = _CaseIndex(
        cases=tuple(
            _Case(
                case_id=e.case_id,
                index=e.index,
                region=e.region,
                cycle=e.cycle,
                revision=e.revision,
                reference=e.reference,
            )
            for e in state.cases
        )
    )
    tokens = _Tokens(
        tokens=tuple(
            _Token(
                cycle=c.cycle,
                region=c.region,
                contributor=c.contributor,
                token=b64url_encode(c.token),
            )
            for c in state.tokens
        )
    )
    return {CASE_INDEX: index.model_dump_json().encode(), TOKENS: tokens.model_dump_json().encode()}


def parse_extras(extras: Mapping[str, bytes], *, unknown_revisions: bool = False) -> NodeState:
    """The :class:`NodeState` of a restored backup's extras (a backup of keys only has
    none); with *unknown_revisions*, every latest revision is forgotten.

    :raises KeyringError: an extra that is not what a node backup writes.
    """
    try:
        index = (
            _CaseIndex.model_validate_json(extras[CASE_INDEX])
            if CASE_INDEX in extras
            else _CaseIndex(cases=())
        )
        held = (
            _Tokens.model_validate_json(extras[TOKENS]) if TOKENS in extras else _Tokens(tokens=())
        )
        tokens = tuple(
            ContributorCredential(t.cycle, t.region, t.contributor, b64url_decode(t.token))
            for t in held.tokens
        )
    except (ValidationError, ValueError) as exc:
        raise KeyringError("the backup's case index or tokens are not a node backup's") from exc
    cases = tuple(
        CaseIndexEntry(
            c.case_id,
            c.index,
            c.region,
            c.cycle,
            None if unknown_revisions else c.revision,
            c.reference,
        )
        for c in index.cases
    )
    return NodeState(cases, tokens)


async def restore_cases(outbox: Path, cases: tuple[CaseIndexEntry, ...]) -> int:
    """Put *cases* into the case index of the outbox file *outbox* (created if need be);
    returns how many the index holds now."""
    box = Outbox(outbox)
    await box.start()
    try:
        await box.restore_index(cases)
        return len(await box.index_entries())
    finally:
        await box.stop()


def restore_tokens(
    wallet: Path,
    secret: NodeSecret,
    directory: ForumDirectory,
    tokens: tuple[ContributorCredential, ...],
) -> int:
    """Store *tokens* in the wallet file *wallet*, each checked under the directory's issuer
    key of its (cycle, region); returns how many were stored (a token of a pair the
    directory lists no issuer key for, or under a replaced key, is left out: the node asks
    for it again)."""
    known = [t for t in tokens if directory.issuer_key(t.cycle, t.region) is not None]
    with TokenWallet(
        secret, directory.issuer_key, path=wallet, simulation=directory.simulation
    ) as held:
        return held.restore(known)
