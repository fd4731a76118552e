"""Value objects of the risk-indicator catalogue (frozen dataclasses, no I/O)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from dief.vocab import TransferStage, TransferType

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from dief.catalogue._sources import Source, SourceRef

__all__ = [
    "APPLICABLE_TRANSFER_TYPES",
    "INDICATOR_ID_PATTERN",
    "Catalogue",
    "CatalogueChanges",
    "Indicator",
    "IndicatorGroup",
    "is_well_formed_id",
    "version_key",
]

INDICATOR_ID_PATTERN = r"^(DOC|EU|ACT|RTE|TRX|CTX|ITM|PDV)-[0-9]{2}$"
"""Well-formed indicator ids (DESIGN §6 ⚑): ``<GROUP>-<nn>``."""

_ID_RE = re.compile(INDICATOR_ID_PATTERN)
_VERSION_RE = re.compile(r"^[0-9]{4}\.[0-9]{1,3}$")

APPLICABLE_TRANSFER_TYPES: tuple[TransferType, ...] = tuple(
    t for t in TransferType if t is not TransferType.UNKNOWN
)
"""The transfer types an indicator can apply to (every :class:`TransferType` but
``unknown``); an entry that names none applies to all of them."""


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


def version_key(version: str) -> tuple[int, int]:
    """Sort key of a catalogue version ``YYYY.n`` (``2026.2`` < ``2026.10``).

    :raises ValueError: not of the form ``YYYY.n``.
    """
    if not _VERSION_RE.match(version):
        raise ValueError(f"catalogue version {version!r} is not YYYY.n")
    year, number = version.split(".")
    return int(year), int(number)


@dataclass(frozen=True, slots=True)
class Indicator:
    """One checklist entry. ``question`` is phrased so that *yes* signals a risk."""

    id: str
    group: IndicatorGroup
    title: str
    question: str
    stages: tuple[TransferStage, ...]
    sources: tuple[SourceRef, ...]
    transfer_types: tuple[TransferType, ...] = APPLICABLE_TRANSFER_TYPES

    def applies_to(
        self, stage: TransferStage | None = None, transfer_type: TransferType | None = None
    ) -> bool:
        """Whether the entry belongs on the checklist for *stage* and *transfer_type*
        (``None``, and the transfer type ``unknown``, select everything)."""
        if stage is not None and stage not in self.stages:
            return False
        if transfer_type is None or transfer_type is TransferType.UNKNOWN:
            return True
        return transfer_type in self.transfer_types


@dataclass(frozen=True, slots=True)
class CatalogueChanges:
    """What a version changed against the one before it (``previous``).

    Ids are never removed or reused; a title or question may change only to make it
    clearer without changing its meaning, and each such change is listed here with why.
    """

    previous: str | None = None
    added: tuple[str, ...] = ()
    retitled: Mapping[str, str] = field(default_factory=dict)
    reworded: Mapping[str, str] = field(default_factory=dict)
    note: str | None = None


@dataclass(frozen=True)
class Catalogue:
    """A versioned, ordered set of indicators; iterate it, or look ids up with :meth:`get`."""

    version: str
    title: str
    groups: dict[IndicatorGroup, str]
    indicators: tuple[Indicator, ...]
    sources: Mapping[str, Source] = field(default_factory=dict)
    changes: CatalogueChanges = field(default_factory=CatalogueChanges)
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

    def checklist(
        self, stage: TransferStage | None = None, transfer_type: TransferType | None = None
    ) -> tuple[Indicator, ...]:
        """The indicators that apply at *stage* to a transfer of *transfer_type*, in
        catalogue order; a licensing officer preparing an export assessment asks for
        ``checklist(TransferStage.PRE_TRANSFER, TransferType.EXPORT)``."""
        return tuple(ind for ind in self.indicators if ind.applies_to(stage, transfer_type))

    def stage_counts(self) -> dict[IndicatorGroup, dict[TransferStage, int]]:
        """How many indicators of each group apply at each stage (an entry counts once per
        stage it names)."""
        counts = {g: dict.fromkeys(TransferStage, 0) for g in IndicatorGroup}
        for ind in self.indicators:
            for stage in ind.stages:
                counts[ind.group][stage] += 1
        return counts
