"""The forum's keys for a run: a simulated forum, every party in its own keyring (DESIGN §4).

``dief run`` and ``dief demo`` build (or load, with ``--keys``) a :class:`SimulatedForum`:
the root, the Secretariat, five regions and one node per State of the input, each in its
own keyring folder, flagged simulation (a cheaper passphrase KDF and RSA-2048 issuer keys,
allowed there only). Nothing a run does reaches around the directory: nodes seal to the
region keys the signed directory lists, aggregators open with their own region's keys
only, and each node's contributor tokens are real RFC 9474 blind signatures from the
Secretariat's issuer, requested for all five regions of each cycle the node posts in and
verified by the aggregators under the directory's issuer key of that (cycle, region).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dief.credentials import SimulatedIssuer, SimulatedNode, TokenVerifier
from dief.exceptions import ConfigurationError
from dief.keyring import KeyRole, SimulatedForum
from dief.vocab import Region

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from pathlib import Path

    from dief.crypto import KemPrivateKey, KemPublicKey
    from dief.pipeline._options import RunOptions

__all__ = ["ForumKeys", "SimulatedNode", "load_keys", "node_label"]


def node_label(index: int) -> str:
    """The local label of the run's *index*-th node (never the State it stands for)."""
    return f"node-{index:03d}"


@dataclass(frozen=True, slots=True)
class ForumKeys:
    """The run's forum, each region's keys (sealing: what the directory lists; opening:
    the region's own private keys), the aggregators' token verifier, and the nodes."""

    forum: SimulatedForum
    sealing: dict[Region, list[KemPublicKey]]
    opening: dict[Region, list[KemPrivateKey]]
    verifier: TokenVerifier
    nodes: Mapping[str, SimulatedNode]


async def load_keys(
    options: RunOptions, work: Path, node_cycles: Mapping[str, Iterable[str]]
) -> ForumKeys:
    """The run's forum with one node per label of *node_cycles*, holding a token for each
    region of each cycle listed for it."""
    cycles = sorted({c for wanted in node_cycles.values() for c in wanted})
    forum = _forum(options, work, list(node_cycles), cycles)
    issuer = SimulatedIssuer(forum)
    nodes = await issuer.issue(node_cycles)
    return ForumKeys(
        forum,
        sealing={r: forum.sealing_keys(KeyRole.REGION, r.value) for r in Region},
        opening={r: forum.opening_keys(KeyRole.REGION, r.value) for r in Region},
        verifier=issuer.verifier(),
        nodes=nodes,
    )


def _forum(options: RunOptions, work: Path, labels: list[str], cycles: list[str]) -> SimulatedForum:
    """A throw-away forum for this run (its passphrase is never stored), or the existing
    simulated forum of ``--keys`` (``dief keys init``: digests' lessons stay readable
    afterwards with ``dief digest --keys``, and summaries verify against its directory),
    extended by the run's nodes and cycles; the directory is issued once."""
    if options.keys is None:
        return SimulatedForum.create(
            work / "keys", secrets.token_urlsafe(24), nodes=labels, cycles=cycles
        )
    if options.passphrase is None:
        raise ConfigurationError(f"the forum keyring {options.keys} needs its passphrase")
    forum = SimulatedForum.load(options.keys, options.passphrase.get_secret_value())
    forum.extend(nodes=labels, cycles=cycles)
    return forum
