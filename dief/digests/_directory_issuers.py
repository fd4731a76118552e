"""Each served region's digest issuer, kept to the current forum directory.

The aggregator service issues digests on a schedule while the directory may change under
it: an issuer seals to the Secretariat's KEM keys the directory listed when it was made,
so a new directory version makes a new issuer, which keeps its predecessor's route issuer
(what the region already sent on ``dief.routes``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING

from dief.catalogue import load_catalogue
from dief.digests._publish import DigestIssuer
from dief.digests._schedule import issuer_from_keyring
from dief.periods import DEFAULT_CYCLE_START_MONTH
from dief.vocab import Region

if TYPE_CHECKING:
    from dief.keyring import KeySource
    from dief.seams import Clock, RecordSink

__all__ = ["DirectoryIssuers"]


class DirectoryIssuers(Mapping[Region, DigestIssuer]):
    """Each region's digest issuer, made again when the directory changes (the
    Secretariat's KEM keys as the directory lists them), keeping its route issuer (what it
    sent). Made at once for every region of *sinks*, so a missing key fails here.

    *make* builds one issuer (:func:`issuer_from_keyring`, with route tables protected
    with *k_meeting* and the directory's ``k_csp``).

    :raises KeyNotFoundError: the ring holds no active signing key of a region.
    :raises ConfigurationError: the ring holds no active Secretariat KEM public key.
    """

    def __init__(  # noqa: PLR0913  public keyword constructor, used by consumers/aggregator.py
        self,
        ring: KeySource,
        sinks: Mapping[Region, RecordSink],
        *,
        k_meeting: int = 2,
        start_month: int = DEFAULT_CYCLE_START_MONTH,
        clock: Clock | None = None,
        make: Callable[..., DigestIssuer] = issuer_from_keyring,
    ) -> None:
        self._ring = ring
        self._sinks = dict(sinks)
        self._k_meeting = k_meeting
        self._start_month = start_month
        self._clock = clock
        self._make = make
        self._catalogue = load_catalogue()
        self._made: dict[Region, tuple[int, DigestIssuer]] = {}
        for region in self._sinks:
            self[region]

    def __repr__(self) -> str:
        return f"DirectoryIssuers(regions={[r.value for r in self._sinks]})"

    def __getitem__(self, region: Region) -> DigestIssuer:
        version = self._ring.directory.version
        held = self._made.get(region)
        if held is not None and held[0] == version:
            return held[1]
        issuer = self._make(
            self._ring,
            region,
            self._sinks[region],
            catalogue=self._catalogue,
            k_meeting=self._k_meeting,
            start_month=self._start_month,
            clock=self._clock,
            routes=True,
            k_csp=self._ring.directory.parameters.k_csp,
            route_issuer=held[1].routes if held is not None else None,
        )
        self._made[region] = (version, issuer)
        return issuer

    def __iter__(self) -> Iterator[Region]:
        return iter(self._sinks)

    def __len__(self) -> int:
        return len(self._sinks)
