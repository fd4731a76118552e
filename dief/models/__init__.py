"""Case models (DESIGN §5 ⚑): the practitioner's input and the generalised record.

- :class:`CaseInput` / :func:`parse_case` / :func:`load_cases` — what a practitioner
  submits (JSON, YAML, JSON Lines), validated with errors that name each field.
- :class:`CaseRecord` / :func:`generalise` — the payload sealed in a ``dief.case``
  envelope: month instead of date, bands instead of quantities, pseudonyms instead of
  any State identity.
"""

from __future__ import annotations

from dief.models._case import EARLIEST_DETECTED, SUMMARY_MAX_CHARS, CaseInput, ItemInput
from dief.models._errors import CaseValidationError, format_loc
from dief.models._loading import CaseFormat, detect_format, load_cases, parse_case
from dief.models._record import (
    CASE_PAYLOAD_TYPE,
    CASE_SCHEMA_VERSION,
    CaseRecord,
    RecordItem,
    generalise,
)

__all__ = [
    "CASE_PAYLOAD_TYPE",
    "CASE_SCHEMA_VERSION",
    "EARLIEST_DETECTED",
    "SUMMARY_MAX_CHARS",
    "CaseFormat",
    "CaseInput",
    "CaseRecord",
    "CaseValidationError",
    "ItemInput",
    "RecordItem",
    "detect_format",
    "format_loc",
    "generalise",
    "load_cases",
    "parse_case",
]
