"""A realistic synthetic set of diversion cases for ``dief demo`` and the tests.

Deterministic for a seed. Activity is skewed (a few States report most cases, as in real
information exchanges), each region has its own profile of methods, items and routes, and
the set carries revisions, withdrawals and a few alerts. Summaries are written from
templates that pass the non-attribution screening (no place names, no numbers that look
like references). ``submitted_by`` names the simulated node that posts each line.

The fields of the Working Group's case model (transfer type, maritime details, actors,
verification, Article 7(7) reassessment, item subcategories) are drawn by
:mod:`dief.synthetic._working_group` with frequencies that follow the stage, transport and
methods of each case, from a generator of their own seeded by the case, so the rest of a
seeded set is the same as before they existed.

:func:`realistic_cases` draws a forum at real DIEF volume (about 40 cases per region per
year, 60 active States), for the utility tests of issue #15.
"""

from __future__ import annotations

from dief.synthetic._cases import SIMULATED_STATES, SyntheticCase, generate_cases, write_jsonl
from dief.synthetic._forum import FORUM_STATES, realistic_cases

__all__ = [
    "FORUM_STATES",
    "SIMULATED_STATES",
    "SyntheticCase",
    "generate_cases",
    "realistic_cases",
    "write_jsonl",
]
