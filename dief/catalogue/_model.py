"""Value objects of the risk-indicator catalogue (frozen dataclasses, no I/O)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from dief.vocab import TransferStage

__all__ = ["INDICATOR_ID_PATTERN", "Catalogue", "Indicator", "IndicatorGroup", "SourceRef"]

INDICATOR_ID_PATTERN = r"^(DOC|EU|ACT|RTE|TRX|CTX|ITM|PDV)-[0-9]{2}$"
"""Well-formed indicator ids (DESIGN §6 ⚑): ``<GROUP>-<nn>``."""

_ID_RE = re.compile(INDICATOR_ID_PATTERN)


class IndicatorGroup(StrEnum):
    """The eight indicator groups (DESIGN §6 ⚑)."""

    DOC = "DOC"
    EU = "EU"
    ACT = "ACT"
    RTE = "RTE"
    TRX = "TRX"
    CTX = "CTX"
    ITM = "ITM"
    PDV = "PDV"


def is_well_formed_id(indicator_id: str) -> bool:
    """Whether *indicator_id* has the ``<GROUP>-<nn>`` form (not whether it exists)."""
    return _ID_RE.match(indicator_id) is not None


@dataclass(frozen=True, slots=True)
class SourceRef:
    """A public source an indicator rests on, with an optional pinpoint (article, chapter)."""

    key: str
    citation: str
    url: str | None = None
    pinpoint: str | None = None

    def __str__(self) -> str:
        return f"{self.citation}, {self.pinpoint}" if self.pinpoint else self.citation


@dataclass(frozen=True, slots=True)
class Indicator:
    """One checklist entry. ``question`` is phrased so that *yes* signals a risk."""

    id: str
    group: IndicatorGroup
    title: str
    question: str
    stages: tuple[TransferStage, ...]
    sources: tuple[SourceRef, ...]


@dataclass(frozen=True)
class Catalogue:
    """A versioned, ordered set of indicators; iterate it, or look ids up with :meth:`get`."""

    version: str
    title: str
    groups: dict[IndicatorGroup, str]
    indicators: tuple[Indicator, ...]
    _by_id: dict[str, Indicator] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {ind.id: ind for ind in self.indicators})

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(ind.id for ind in self.indicators)

    def get(self, indicator_id: str) -> Indicator | None:
        """The indicator with this id, or ``None``."""
        return self._by_id.get(indicator_id)

    def __getitem__(self, indicator_id: str) -> Indicator:
        return self._by_id[indicator_id]

    def __contains__(self, indicator_id: object) -> bool:
        return indicator_id in self._by_id

    def __iter__(self) -> Iterator[Indicator]:
        return iter(self.indicators)

    def __len__(self) -> int:
        return len(self.indicators)

    def in_group(self, group: IndicatorGroup) -> tuple[Indicator, ...]:
        return tuple(ind for ind in self.indicators if ind.group is group)

    def for_stage(self, stage: TransferStage) -> tuple[Indicator, ...]:
        return tuple(ind for ind in self.indicators if stage in ind.stages)
