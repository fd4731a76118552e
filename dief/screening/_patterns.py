"""E-mail addresses, URLs and domains, phone numbers, reference numbers and identifiers in
free text: :func:`find_patterns` runs every detector.

Every detector returns ``(start, end, kind)`` spans into the text as given. The regular
expressions are compiled at import (cheap, no I/O); the heuristics that keep years,
dates, quantities, calibres and weapon designations out are in small predicate functions
next to each pattern, so they can be read and tested one by one. By concept:

- :mod:`dief.screening._patterns_contacts`: e-mail addresses, URLs and domains, phones;
- :mod:`dief.screening._patterns_references`: numbers after a cue word, reference tokens;
- :mod:`dief.screening._patterns_identifiers`: vessel, container and aircraft identifiers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dief.screening._patterns_contacts import emails, phones, urls
from dief.screening._patterns_identifiers import identifiers
from dief.screening._patterns_references import cued_numbers, reference_tokens

if TYPE_CHECKING:
    from dief.screening._findings import Span

__all__ = ["find_patterns"]


def find_patterns(text: str) -> list[Span]:
    """All e-mail, URL, phone and reference-number spans (possibly overlapping)."""
    spans: list[Span] = []
    spans.extend(identifiers(text))
    spans.extend(emails(text))
    spans.extend(urls(text))
    spans.extend(phones(text))
    spans.extend(cued_numbers(text))
    spans.extend(reference_tokens(text))
    return spans
