"""The realistic-volume synthetic forum the utility tests use (dief.synthetic.realistic_cases)."""

from __future__ import annotations

from collections import Counter
from datetime import date

from dief.catalogue import load_catalogue
from dief.synthetic import FORUM_STATES, realistic_cases
from dief.wire import parse_case

TODAY = date(2026, 12, 1)
IDS = load_catalogue().ids


def test_about_forty_cases_per_region_per_year_from_sixty_states() -> None:
    docs = [c.document for c in realistic_cases(indicator_ids=IDS, today=TODAY, years=3)]
    first = [d for d in docs if d["revision"] == 1]
    assert len(first) == 40 * 5 * 3
    per_region = Counter(str(d["region"]) for d in first)
    assert all(25 * 3 <= n <= 55 * 3 for n in per_region.values()), per_region
    assert sum(len(s) for s in FORUM_STATES.values()) == 60
    assert len({d["submitted_by"] for d in docs}) >= 55  # nearly every State posts
    months = sorted(str(d["detected"])[:7] for d in first)
    assert months[0] >= "2024-01"  # three years: 2024-01 ... 2026-12
    assert months[-1] <= "2026-12"
    assert len(docs) > len(first)  # revisions and withdrawals
    for doc in docs[:50]:  # valid case inputs
        parse_case({k: v for k, v in doc.items() if k != "submitted_by"}, today=TODAY)


def test_the_forum_is_deterministic_for_a_seed() -> None:
    one = [c.document for c in realistic_cases(indicator_ids=IDS, today=TODAY, seed=3)]
    two = [c.document for c in realistic_cases(indicator_ids=IDS, today=TODAY, seed=3)]
    assert one == two
