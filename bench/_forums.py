"""Synthetic forums as the aggregators would store them: each case signed by its State's
node and turned into the facts ``CaseStore.apply_batch`` takes (one construction for the
disclosure benches and the utility tests).

- ``tests.unit.record_helpers.signed_facts``: region → facts, in posting order, of any
  synthetic lines (re-exported);
- :func:`realistic_forum`: the realistic DIEF volume (``dief.synthetic.realistic_cases``:
  about 40 cases per region and year, 60 active States);
- :func:`demo_forum`: the ``dief demo`` volume (``generate_cases``, 2,500 cases).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dief.catalogue import load_catalogue
from dief.synthetic import generate_cases, realistic_cases
from tests.unit.record_helpers import bulletin_facts, signed_facts

if TYPE_CHECKING:
    from datetime import date

    from dief.aggregator import CaseFacts

__all__ = ["bulletin_facts", "demo_forum", "realistic_forum", "signed_facts"]

#: the demo's size and seed (``tests/integration/test_utility.py``'s demo forum)
DEMO_CASES = 2500
DEMO_SEED = 7


def realistic_forum(*, today: date, years: int = 3) -> dict[str, list[CaseFacts]]:
    """Region → facts of the realistic forum over *years* years up to *today*."""
    ids = load_catalogue().ids
    return signed_facts(realistic_cases(indicator_ids=ids, today=today, years=years), today=today)


def demo_forum(*, today: date) -> dict[str, list[CaseFacts]]:
    """Region → facts of the demo forum (2,500 cases, seed 7) up to *today*."""
    ids = load_catalogue().ids
    lines = generate_cases(DEMO_CASES, seed=DEMO_SEED, indicator_ids=ids, today=today)
    return signed_facts(lines, today=today)
