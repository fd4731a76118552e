"""Synthetic forums as the aggregators would store them: each case signed by its State's
node and turned into the facts ``CaseStore.apply_batch`` takes (one construction for the
disclosure benches and the utility tests).

- :func:`signed_facts`: region → facts, in posting order, of any synthetic lines;
- :func:`realistic_forum`: the realistic DIEF volume (``dief.synthetic.realistic_cases``:
  about 40 cases per region and year, 60 active States);
- :func:`demo_forum`: the ``dief demo`` volume (``generate_cases``, 2,500 cases).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from typing import TYPE_CHECKING

from dief.catalogue import load_catalogue
from dief.synthetic import generate_cases, realistic_cases
from dief.wire import parse_case
from tests.unit.record_helpers import record_facts, signed_record

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import date

    from dief.aggregator import CaseFacts
    from dief.synthetic import SyntheticCase

__all__ = ["demo_forum", "realistic_forum", "signed_facts"]

#: the demo's size and seed (``tests/integration/test_utility.py``'s demo forum)
DEMO_CASES = 2500
DEMO_SEED = 7


def signed_facts(lines: Iterable[SyntheticCase], *, today: date) -> dict[str, list[CaseFacts]]:
    """Map each region to the facts of *lines* in posting order, each case signed as its
    State's node would (one owner key per case, the revision counted per case)."""
    indexes: dict[str, int] = {}
    revisions: dict[str, int] = {}
    out: dict[str, list[CaseFacts]] = defaultdict(list)
    for line in lines:
        doc = dict(line.document)
        state = str(doc.pop("submitted_by"))
        case = parse_case(doc, today=today)
        case_id = str(case.case_id)
        revision = case.revision or revisions.get(case_id, 0) + 1
        revisions[case_id] = revision
        index = indexes.setdefault(case_id, len(indexes))
        secret = hashlib.sha256(state.encode()).digest()
        record = signed_record(case, secret=secret, index=index, revision=revision)
        out[str(record.region)].append(record_facts(record, sealed=record.to_json()))
    return out


def realistic_forum(*, today: date, years: int = 3) -> dict[str, list[CaseFacts]]:
    """Region → facts of the realistic forum over *years* years up to *today*."""
    ids = load_catalogue().ids
    return signed_facts(realistic_cases(indicator_ids=ids, today=today, years=years), today=today)


def demo_forum(*, today: date) -> dict[str, list[CaseFacts]]:
    """Region → facts of the demo forum (2,500 cases, seed 7) up to *today*."""
    ids = load_catalogue().ids
    lines = generate_cases(DEMO_CASES, seed=DEMO_SEED, indicator_ids=ids, today=today)
    return signed_facts(lines, today=today)
