"""A whole forum in one folder, one keyring per party: ``dief keys init``, demos and tests.

::

    <dir>/simulation.json         the flag, the root fingerprint, local node labels → folders
    <dir>/root/                   the forum root
    <dir>/secretariat/            the Secretariat (state, registry, directory history)
    <dir>/regions/<R>/            each region (its recovery keyring in <R>/recovery/)
    <dir>/nodes/node-<n>/         each national node
    <dir>/directory.json          the current signed directory

Every keyring is flagged ``simulation`` (a cheap passphrase KDF, RSA-2048 issuer keys) and
the directory says so: no production party accepts it as real. Node labels stay in
``simulation.json``; the directory and the registry know nodes by key ids only.

Besides each party's keys, :class:`SimulatedForum` answers the questions a service asks
(:class:`dief.keyring.KeySource`: ``sealing_keys``, ``opening_keys``, ``signing_key``,
``verify_keys``, ``node_secret``), public keys always from the verified directory.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from dief.exceptions import ConfigurationError, KeyNotFoundError, KeyringError
from dief.keyring._directory import ForumDirectory, verify_directory
from dief.keyring._files import read_model, write_atomic
from dief.keyring._model import KeyRole, NodeSecret, check_node_name
from dief.keyring._parties import NodeKeys, RegionKeys, RootKeys
from dief.keyring._party import Purpose
from dief.keyring._secretariat import SecretariatKeys
from dief.vocab import Region
from dief.wire import SUITE_HYBRID, DirectoryRole, ForumParameters

if TYPE_CHECKING:
    from collections.abc import Iterable

    from dief.crypto import KemPrivateKey, KemPublicKey, SigningKey, VerifyKey
    from dief.seams import Clock

__all__ = ["SIMULATION_DAYS", "SimulatedForum", "simulation_parameters"]

#: Validity of a simulated forum's directory key and directory.
SIMULATION_DAYS = 365.0


class _Sim(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    format: str = "dief-simulation/1"
    simulation: bool = True
    root_fingerprint: str
    nodes: dict[str, str] = {}


def simulation_parameters(
    *, k_meeting: int = 2, k_csp: int = 3, cycle_start_month: int = 9
) -> ForumParameters:
    return ForumParameters(
        regions=tuple(r.value for r in Region),
        cycle_start_month=cycle_start_month,
        k_meeting=k_meeting,
        k_csp=k_csp,
        simulation=True,
    )


class SimulatedForum:  # noqa: PLR0904  one object per keyring role; its public methods are the role's operations
    """Every party of a forum, each in its own keyring under the folder (a simulation)."""

    __slots__ = ("_clock", "_directory", "_meta", "_passphrase", "_path")

    def __init__(self, path: Path, meta: _Sim, passphrase: str, clock: Clock | None) -> None:
        self._path = path
        self._meta = meta
        self._passphrase = passphrase
        self._clock = clock
        self._directory: ForumDirectory | None = None

    @classmethod
    def create(  # noqa: PLR0913  a public keyword signature, used outside dief/keyring
        cls,
        path: str | Path,
        passphrase: str,
        *,
        nodes: Iterable[str] = (),
        suite: str = SUITE_HYBRID,
        cycles: Iterable[str] = (),
        parameters: ForumParameters | None = None,
        clock: Clock | None = None,
    ) -> SimulatedForum:
        """Make the forum: root, Secretariat, five regions, *nodes*, issuer keys of
        *cycles*; the directory is issued."""
        root_dir = Path(path)
        if root_dir.exists() and (not root_dir.is_dir() or any(root_dir.iterdir())):
            raise KeyringError(f"{root_dir} exists and is not an empty directory")
        names = [check_node_name(name) for name in nodes]
        if len(set(names)) != len(names):
            raise ConfigurationError("node names must be unique")
        params = parameters if parameters is not None else simulation_parameters()
        if not params.simulation:
            raise ConfigurationError("a simulated forum's parameters must say simulation")
        root = RootKeys.create(root_dir / "root", passphrase, simulation=True, clock=clock)
        meta = _Sim(root_fingerprint=root.fingerprint)
        forum = cls(root_dir, meta, passphrase, clock)
        forum._save()
        sec = SecretariatKeys.create(
            root_dir / "secretariat", passphrase, params, suite=suite, clock=clock
        )
        cert = root.certify_directory_key(sec.directory_key_request(), days=SIMULATION_DAYS)
        sec.install_certificate(cert, root.fingerprint)
        for region in params.regions:
            keys = RegionKeys.create(
                root_dir / "regions" / region,
                region,
                passphrase,
                suite=suite,
                simulation=True,
                clock=clock,
            )
            sec.add_region(root.certify_region_keys(keys.bundle()))
        for name in names:
            forum._add_node(sec, name, suite)
        for cycle in cycles:
            sec.new_issuer_keys(cycle)
        forum._issue(sec)
        return forum

    @classmethod
    def load(
        cls, path: str | Path, passphrase: str, *, clock: Clock | None = None
    ) -> SimulatedForum:
        root_dir = Path(path)
        if not (root_dir / "simulation.json").is_file():
            raise KeyringError(f"{root_dir} is not a simulated forum (no simulation.json)")
        return cls(root_dir, read_model(root_dir / "simulation.json", _Sim), passphrase, clock)

    def __repr__(self) -> str:
        return f"SimulatedForum(nodes={len(self._meta.nodes)}, simulation=True)"

    # -- parties -----------------------------------------------------------------------------

    @property
    def path(self) -> Path:
        return self._path

    @property
    def root_fingerprint(self) -> str:
        return self._meta.root_fingerprint

    def root(self) -> RootKeys:
        return RootKeys.load(self._path / "root", passphrase=self._passphrase, clock=self._clock)

    def secretariat(self) -> SecretariatKeys:
        return SecretariatKeys.load(
            self._path / "secretariat", passphrase=self._passphrase, clock=self._clock
        )

    def region(self, region: str) -> RegionKeys:
        folder = self._path / "regions" / str(region)
        if not folder.is_dir():
            raise KeyNotFoundError(f"no region {region!r} in this forum")
        return RegionKeys.load(folder, passphrase=self._passphrase, clock=self._clock)

    def node_names(self) -> tuple[str, ...]:
        """The local labels of the simulated nodes (never in the directory)."""
        return tuple(sorted(self._meta.nodes))

    def node(self, name: str) -> NodeKeys:
        folder = self._meta.nodes.get(name)
        if folder is None:
            raise KeyNotFoundError(f"no node labelled {name!r} in this simulation")
        return NodeKeys.load(
            self._path / "nodes" / folder, passphrase=self._passphrase, clock=self._clock
        )

    def node_path(self, name: str) -> Path:
        return self._path / "nodes" / self._meta.nodes[name]

    def add_node(self, name: str, *, suite: str = SUITE_HYBRID) -> NodeKeys:
        """A new node labelled *name* (locally), registered; the directory is re-issued."""
        sec = self.secretariat()
        node = self._add_node(sec, check_node_name(name), suite)
        self._issue(sec)
        return node

    def _add_node(self, sec: SecretariatKeys, name: str, suite: str) -> NodeKeys:
        if name in self._meta.nodes:
            raise KeyringError(f"node {name!r} exists already")
        folder = f"node-{len(self._meta.nodes) + 1:03d}"
        node = NodeKeys.create(
            self._path / "nodes" / folder,
            self._passphrase,
            suite=suite,
            simulation=True,
            clock=self._clock,
        )
        sec.register(node.registration())
        self._meta = self._meta.model_copy(update={"nodes": {**self._meta.nodes, name: folder}})
        self._save()
        return node

    def add_cycle(self, cycle: str) -> None:
        """Issuer keys for *cycle* (RSA-2048), then a new directory."""
        self.extend(cycles=[cycle])

    def extend(self, *, nodes: Iterable[str] = (), cycles: Iterable[str] = ()) -> None:
        """New nodes (registered) and issuer keys for new cycles, then one new directory
        (nothing is issued when there is nothing new)."""
        names = [check_node_name(name) for name in nodes if name not in self._meta.nodes]
        known = self.directory
        new_cycles = sorted(
            {c for c in cycles if known.issuer_key(c, known.parameters.regions[0]) is None}
        )
        if not names and not new_cycles:
            return
        sec = self.secretariat()
        for name in names:
            self._add_node(sec, name, SUITE_HYBRID)
        for cycle in new_cycles:
            sec.new_issuer_keys(cycle)
        self._issue(sec)

    def issue_directory(self) -> ForumDirectory:
        return self._issue(self.secretariat())

    def _issue(self, sec: SecretariatKeys) -> ForumDirectory:
        directory = sec.issue_directory(days=SIMULATION_DAYS)
        write_atomic(self._path / "directory.json", directory.raw, mode=0o644)
        self._directory = directory
        return directory

    def _save(self) -> None:
        data = json.dumps(self._meta.model_dump(), indent=1).encode()
        write_atomic(self._path / "simulation.json", data, mode=0o644)

    @property
    def directory(self) -> ForumDirectory:
        """The current directory, verified against the pinned root."""
        if self._directory is None:
            raw = (self._path / "directory.json").read_bytes()
            self._directory = verify_directory(raw, self.root_fingerprint, None, _now(self._clock))
        return self._directory

    # -- the questions the one-keyring forum answered ------------------------------------------

    def sealing_keys(self, role: KeyRole, region: str | None = None) -> list[KemPublicKey]:
        """Active KEM keys of a region or the Secretariat, from the directory."""
        found = (
            self.directory.region_kem_keys(str(region))
            if role is KeyRole.REGION
            else self.directory.secretariat_kem_keys()
        )
        if not found:
            raise KeyNotFoundError(f"no active {role.value} KEM key in the directory")
        return found

    def opening_keys(self, role: KeyRole, region: str | None = None) -> list[KemPrivateKey]:
        """The party's own KEM private keys that the directory lets open (not revoked)."""
        if role is KeyRole.REGION:
            kids = self.directory.region_opening_kids(str(region))
            keys = self.region(str(region)).kem_keys()
        else:
            kids = self.directory.secretariat_opening_kids()
            sec = self.secretariat().ring
            keys = [sec.kem_key(k.kid) for k in sec.list_keys() if k.kid in kids]
        return [k for k in keys if k.kid in kids]

    def signing_key(self, role: KeyRole, region: str | None = None) -> SigningKey:
        if role is KeyRole.REGION:
            return self.region(str(region)).signing_key()
        sec = self.secretariat().ring
        return sec.signing_key(sec.active(Purpose.SIGN).kid)

    def verify_keys(
        self, role: KeyRole | DirectoryRole, region: str | None = None
    ) -> list[VerifyKey]:
        return self.directory.verify_keys(role, region)

    def node_secret(self, name: str) -> NodeSecret:
        return self.node(name).node_secret(name)


def _now(clock: Clock | None) -> float:
    return clock.now() if clock is not None else time.time()
