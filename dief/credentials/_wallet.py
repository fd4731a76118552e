"""A national node's contributor tokens (DESIGN §5 ⚑): its :class:`~dief.seams.CredentialSource`.

:class:`TokenWallet` knows which tokens the node holds, builds the blinded request for a
missing one (:meth:`TokenWallet.request`, every input derived from the node secret, so the
same request every time) and takes the issuer's answer (:meth:`TokenWallet.accept`):
unblinds it, verifies the token under the issuer key of exactly that (cycle, region), and
only then stores it. Issuer public keys come from a lookup ``(cycle, region) -> key`` (the
signed directory).

Tokens and the issuer key ids of requests in flight are kept in a small SQLite file (stdlib
``sqlite3``, mode 0600, ``synchronous=FULL``) when a path is given, in memory otherwise.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Self

from cryptography.hazmat.primitives.asymmetric import rsa

from dief.credentials._derive import (
    PREFIX_LEN,
    BlindingInputs,
    blinding_inputs,
    check_pair,
    contributor_message,
    pseudonym,
)
from dief.credentials._issuer import TOKEN_VARIANT
from dief.credentials._keys import check_issuer_public_key, issuer_key_id
from dief.exceptions import ConfigurationError, CredentialError
from dief.seams import ContributorCredential

if TYPE_CHECKING:
    from pathlib import Path
    from types import TracebackType

    from dief.keyring import NodeSecret

__all__ = ["IssuerKeyLookup", "TokenRequest", "TokenWallet"]

#: ``(cycle, region) -> issuer public key`` from the signed directory (``None``: none known).
IssuerKeyLookup = Callable[[str, str], rsa.RSAPublicKey | None]

_SCHEMA = (
    (
        "CREATE TABLE IF NOT EXISTS tokens (cycle TEXT NOT NULL, region TEXT NOT NULL, "
        "contributor TEXT NOT NULL, issuer_kid TEXT NOT NULL, token BLOB NOT NULL, "
        "PRIMARY KEY (cycle, region))"
    ),
    (
        "CREATE TABLE IF NOT EXISTS pending (issuer_kid TEXT PRIMARY KEY, cycle TEXT NOT NULL, "
        "region TEXT NOT NULL)"
    ),
)


@dataclass(frozen=True, slots=True)
class TokenRequest:
    """What a node asks the issuer for: a blind signature over ``blinded`` by the issuer key
    ``issuer_kid`` of (``cycle``, ``region``)."""

    cycle: str
    region: str
    issuer_kid: str
    blinded: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class _Prepared:
    """Everything a request for one (cycle, region) is made of."""

    key: rsa.RSAPublicKey
    kid: str
    contributor: str
    derived: BlindingInputs
    input_msg: bytes = field(repr=False)


class TokenWallet:
    """A node's tokens, one per (cycle, region). Use as a context manager, or call
    :meth:`open` and :meth:`close` (an in-memory wallet needs neither)."""

    def __init__(
        self,
        secret: NodeSecret,
        issuer_keys: IssuerKeyLookup,
        *,
        path: Path | None = None,
        simulation: bool = False,
    ) -> None:
        self._secret = secret
        self._issuer_keys = issuer_keys
        self._path = path
        self._simulation = simulation
        self._tokens: dict[tuple[str, str], tuple[ContributorCredential, str]] = {}
        self._pending: dict[str, tuple[str, str]] = {}
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        where = "memory" if self._path is None else "file"
        return f"TokenWallet({where}, tokens={len(self._tokens)}, pending={len(self._pending)})"

    # -- file ------------------------------------------------------------------------------

    def open(self) -> None:
        """Open (or create) the wallet file and load it. No-op in memory or when open."""
        if self._path is None or self._db is not None:
            return
        try:  # noqa: PLW0717  every failure of the transaction maps to one StorageError
            self._path.parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(self._path, os.O_CREAT | os.O_WRONLY, 0o600))
            db = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            for statement in _SCHEMA:
                db.execute(statement)
            tokens = db.execute("SELECT cycle, region, contributor, issuer_kid, token FROM tokens")
            for cycle, region, contributor, kid, token in tokens.fetchall():
                credential = ContributorCredential(cycle, region, contributor, bytes(token))
                self._tokens[cycle, region] = (credential, kid)
            for kid, cycle, region in db.execute("SELECT issuer_kid, cycle, region FROM pending"):
                self._pending[kid] = (cycle, region)
        except (OSError, sqlite3.Error) as exc:
            raise ConfigurationError(f"cannot open the token wallet {self._path}") from exc
        self._db = db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _write(self, *statements: tuple[str, tuple[object, ...]]) -> None:
        """Run *statements* in one transaction (nothing in memory mode)."""
        if self._path is None:
            return
        if self._db is None:
            raise ConfigurationError("the token wallet is not open; call open() first")
        try:  # noqa: PLW0717  every failure of the transaction maps to one StorageError
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for statement, params in statements:
                    self._db.execute(statement, params)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise ConfigurationError(f"cannot write the token wallet {self._path}") from exc

    # -- what the node holds -----------------------------------------------------------------

    def credential(self, cycle: str, region: str) -> ContributorCredential | None:
        """The token for (*cycle*, *region*), or ``None`` until it arrived."""
        held = self._tokens.get((cycle, region))
        return None if held is None else held[0]

    def credentials(self) -> list[ContributorCredential]:
        """Every token held (for a backup), by cycle and region."""
        return [self._tokens[pair][0] for pair in sorted(self._tokens)]

    def missing(self, cycles: Iterable[str], regions: Iterable[str]) -> list[tuple[str, str]]:
        """The pairs of a cycle in *cycles* and a region in *regions* that have no token yet,
        sorted."""
        wanted = {(cycle, str(region)) for cycle in cycles for region in regions}
        return sorted(pair for pair in wanted if pair not in self._tokens)

    def pseudonym(self, cycle: str, region: str) -> str:
        return pseudonym(self._secret, cycle, region)

    # -- asking and accepting ------------------------------------------------------------------

    def _prepared(self, cycle: str, region: str) -> _Prepared:
        key = self._issuer_keys(cycle, region)
        if key is None:
            raise CredentialError(
                "no issuer key is known for that cycle and region", code="bad_request"
            )
        key = check_issuer_public_key(key, simulation=self._simulation)
        kid = issuer_key_id(key)
        derived = blinding_inputs(self._secret, cycle, region, kid, key)
        contributor = pseudonym(self._secret, cycle, region)
        message = contributor_message(cycle, region, contributor)
        return _Prepared(
            key, kid, contributor, derived, TOKEN_VARIANT.prepare(message, prefix=derived.prefix)
        )

    def request(self, cycle: str, region: str) -> TokenRequest:
        """The request for (*cycle*, *region*): identical each time for the same issuer key.

        :raises CredentialError: ``bad_request`` when the directory has no issuer key for
            the pair; ``weak_key`` when its key is not an allowed issuer key.
        """
        check_pair(cycle, region)
        prepared = self._prepared(cycle, region)
        derived, kid = prepared.derived, prepared.kid
        blinded = TOKEN_VARIANT.blind(
            prepared.key, prepared.input_msg, salt=derived.salt, r=derived.r
        )
        with self._lock:
            if self._pending.get(kid) != (cycle, region):
                self._write(
                    (
                        (
                            "INSERT OR REPLACE INTO pending (issuer_kid, cycle, region) "
                            "VALUES (?, ?, ?)"
                        ),
                        (kid, cycle, region),
                    )
                )
                self._pending[kid] = (cycle, region)
        return TokenRequest(cycle, region, kid, blinded.blinded_msg)

    def accept(self, issuer_kid: str, blind_signature: bytes) -> ContributorCredential:
        """Finalize the issuer's answer, verify the token and store it.

        :raises CredentialError: ``bad_answer`` for an answer to no request of this wallet
            or under a key the directory no longer gives for the pair; ``bad_signature``
            when the token does not verify (nothing is stored then).
        """
        pair = self._pending.get(issuer_kid)
        if pair is None:
            raise CredentialError("an answer to no request of this node", code="bad_answer")
        cycle, region = pair
        prepared = self._prepared(cycle, region)
        key, kid = prepared.key, prepared.kid
        if kid != issuer_kid:
            raise CredentialError("the issuer key of that pair has changed", code="bad_answer")
        n = key.public_numbers().n
        inv = pow(prepared.derived.r, -1, n).to_bytes((n.bit_length() + 7) // 8, "big")
        signature = TOKEN_VARIANT.finalize(key, prepared.input_msg, blind_signature, inv)
        credential = ContributorCredential(
            cycle, region, prepared.contributor, prepared.derived.prefix + signature
        )
        self._store(credential, kid)
        return credential

    def restore(self, credentials: Iterable[ContributorCredential]) -> int:
        """Take back tokens from a backup; return how many were stored.

        Each must be this node's own pseudonym for its pair and verify under the issuer key
        the directory gives for that pair now (a token under a replaced key is left out: the
        node asks for a new one).
        """
        stored = 0
        for credential in credentials:
            cycle, region = credential.cycle, credential.region
            check_pair(cycle, region)
            prepared = self._prepared(cycle, region)
            token = credential.token
            if credential.contributor != prepared.contributor or len(token) < PREFIX_LEN:
                continue
            input_msg = token[:PREFIX_LEN] + contributor_message(
                cycle, region, prepared.contributor
            )
            if TOKEN_VARIANT.is_valid(prepared.key, input_msg, token[PREFIX_LEN:]):
                self._store(credential, prepared.kid)
                stored += 1
        return stored

    def _store(self, credential: ContributorCredential, kid: str) -> None:
        with self._lock:
            self._write(
                (
                    (
                        "INSERT OR REPLACE INTO tokens (cycle, region, contributor, issuer_kid, "
                        "token) VALUES (?, ?, ?, ?, ?)"
                    ),
                    (
                        credential.cycle,
                        credential.region,
                        credential.contributor,
                        kid,
                        credential.token,
                    ),
                ),
                ("DELETE FROM pending WHERE issuer_kid = ?", (kid,)),
            )
            self._tokens[credential.cycle, credential.region] = (credential, kid)
            self._pending.pop(kid, None)
