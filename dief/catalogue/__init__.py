"""The risk-indicator catalogue (DESIGN §6): a common diversion risk-factors checklist.

Every version ships in the package as ``versions/<version>.json``: ids are never removed or
reused across versions, and every version a record may name ships with the aggregator.
They are read lazily on the first :func:`load_catalogue` / :func:`load_catalogues` call,
never at import. Every question is phrased so that the answer *yes* signals a diversion
risk, so a licensing officer can tick through it; :meth:`Catalogue.checklist` filters by
transfer stage and transfer type. Sources are cited from the bibliography shipped with each
version (:class:`Source`: title, issuing body, year, document symbol).

>>> cat = load_catalogue()            # doctest: +SKIP
>>> cat.checklist(TransferStage.PRE_TRANSFER, TransferType.EXPORT)  # doctest: +SKIP
"""

from __future__ import annotations

from dief.catalogue._loader import (
    catalogue_version,
    check_succession,
    check_versions,
    load_catalogue,
    load_catalogues,
    shipped_versions,
)
from dief.catalogue._model import (
    APPLICABLE_TRANSFER_TYPES,
    INDICATOR_ID_PATTERN,
    Catalogue,
    CatalogueChanges,
    Indicator,
    IndicatorGroup,
    is_well_formed_id,
    version_key,
)
from dief.catalogue._parse import parse_catalogue
from dief.catalogue._render import (
    ChecklistFormat,
    render_checklist,
    stage_count_table,
)
from dief.catalogue._sources import CitationStyle, Source, SourceRef

__all__ = [
    "APPLICABLE_TRANSFER_TYPES",
    "INDICATOR_ID_PATTERN",
    "Catalogue",
    "CatalogueChanges",
    "ChecklistFormat",
    "CitationStyle",
    "Indicator",
    "IndicatorGroup",
    "Source",
    "SourceRef",
    "catalogue_version",
    "check_succession",
    "check_versions",
    "is_well_formed_id",
    "load_catalogue",
    "load_catalogues",
    "parse_catalogue",
    "render_checklist",
    "shipped_versions",
    "stage_count_table",
    "version_key",
]
