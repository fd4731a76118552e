"""The Secretariat's credential issuer of a simulated forum, answering its nodes in process.

``dief run``, ``dief demo``, the benchmarks and the tests run every party in one process:
instead of requests and answers on ``dief.credentials.*``, each simulated node's
:class:`TokenWallet` hands its requests straight to the same :class:`Issuer` (the same
checks: a registered node, one blinded message per issuer key) and finalizes the answers,
so every record carries a real RFC 9474 token that aggregators verify under the
directory's issuer key (:meth:`SimulatedIssuer.verifier`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dief.credentials._issuer import Issuer
from dief.credentials._keys import IssuerKey
from dief.credentials._ledger import MemoryLedger
from dief.credentials._registry import registrations_of
from dief.credentials._verifier import TokenVerifier
from dief.credentials._wallet import TokenWallet
from dief.vocab import Region

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from dief.keyring import NodeSecret, SimulatedForum

__all__ = ["SimulatedIssuer", "SimulatedNode"]


@dataclass(frozen=True, slots=True)
class SimulatedNode:
    """One simulated national node: its secret and its wallet of contributor tokens."""

    secret: NodeSecret = field(repr=False)
    wallet: TokenWallet


class SimulatedIssuer:
    """Issues the tokens of a :class:`SimulatedForum`'s nodes: a node missing from the forum
    is registered and issuer keys missing for a cycle are made (one new directory for
    both), then the node asks for a token for every region of each cycle, as a real node
    does at the start of a cycle."""

    def __init__(self, forum: SimulatedForum) -> None:
        self._forum = forum
        self._ledger = MemoryLedger()  # one per forum: a node asks once per issuer key
        self._nodes: dict[str, SimulatedNode] = {}

    def __repr__(self) -> str:
        return f"SimulatedIssuer(nodes={len(self._nodes)})"

    def verifier(self) -> TokenVerifier:
        """The aggregators' check, under the issuer keys of the directory as it is at each
        verification (so cycles added later verify too)."""
        forum = self._forum
        return TokenVerifier(
            lambda cycle, region: forum.directory.issuer_key(cycle, region),  # noqa: PLW0108  reads forum.directory when called: the directory of the day changes
            issued=lambda cycle, region: forum.directory.tokens_issued(cycle, region),  # noqa: PLW0108  reads forum.directory when called: the directory of the day changes
            simulation=True,
        )

    async def issue(self, node_cycles: Mapping[str, Iterable[str]]) -> dict[str, SimulatedNode]:
        """Each labelled node with a token for every region of each of its cycles (the nodes
        ask at once, as they would over the broker; the issuer signs on threads)."""
        wanted = {label: sorted(set(cycles)) for label, cycles in node_cycles.items()}
        self._forum.extend(nodes=wanted, cycles={c for cs in wanted.values() for c in cs})
        secretariat = self._forum.secretariat()
        forum = self._forum
        pairs = sorted({(c, r.value) for cs in wanted.values() for c in cs for r in Region})
        issuer = Issuer(
            [
                IssuerKey(c, r, secretariat.issuer_private_key(c, r), simulation=True)
                for c, r in pairs
            ],
            registrations_of(secretariat, live=False),
            self._ledger,
        )

        async def one_node(label: str, cycles: list[str]) -> SimulatedNode:
            node = self._nodes.get(label)
            keys = self._forum.node(label)
            if node is None:
                secret = keys.node_secret(label)
                wallet = TokenWallet(
                    secret,
                    lambda c, r: forum.directory.issuer_key(c, r),  # the directory of the day  # noqa: PLW0108  reads forum.directory when called: the directory of the day changes
                    simulation=True,
                )
                node = SimulatedNode(secret, wallet)
            wallet = node.wallet
            for cycle, region in wallet.missing(cycles, [r.value for r in Region]):
                request = wallet.request(cycle, region)
                blind = await issuer.sign(
                    keys.registration_kid, request.issuer_kid, cycle, region, request.blinded
                )
                wallet.accept(request.issuer_kid, blind)
            return node

        labels = list(wanted)
        made = await asyncio.gather(*(one_node(label, wanted[label]) for label in labels))
        self._nodes.update(zip(labels, made, strict=True))
        if pairs:
            # the directory publishes how many tokens each issuer key signed (DESIGN §5)
            secretariat.set_token_counts(await issuer.token_counts())
            forum.issue_directory()
        return dict(zip(labels, made, strict=True))
