"""The risk-indicator catalogue (DESIGN §6): a common diversion risk-factors checklist.

The data ships in the package as ``indicators.json`` (versioned). It is read lazily on the
first :func:`load_catalogue` call, never at import. Every question is phrased so that the
answer *yes* signals a diversion risk, so a licensing officer can tick through it.

>>> cat = load_catalogue()            # doctest: +SKIP
>>> cat.get("DOC-01").question        # doctest: +SKIP
"""

from __future__ import annotations

from dief.catalogue._loader import load_catalogue, parse_catalogue
from dief.catalogue._model import (
    INDICATOR_ID_PATTERN,
    Catalogue,
    Indicator,
    IndicatorGroup,
    SourceRef,
    is_well_formed_id,
)

__all__ = [
    "INDICATOR_ID_PATTERN",
    "Catalogue",
    "Indicator",
    "IndicatorGroup",
    "SourceRef",
    "is_well_formed_id",
    "load_catalogue",
    "parse_catalogue",
]
