"""Random small systems for the check-4 tests (``test_bounds_cone``, ``test_check4_reduced``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dief.disclosure._suppression import Group, Key

if TYPE_CHECKING:
    import random


def quarter_tables(rng: random.Random) -> tuple[dict[Key, int], list[Group]]:
    """A quarter of two or three months from a few random cases: each table's total, its
    kinds (one per case) and item categories (one or two per case), the quarter the sum of
    its months; only cells that count a case are listed."""
    months = [f"2026-0{m}" for m in range(1, rng.randint(3, 4))]
    counts: dict[Key, int] = {}

    def add(key: Key) -> None:
        counts[key] = counts.get(key, 0) + 1

    for month in months:
        for _ in range(rng.randint(1, 4)):
            items = rng.sample(("small_arms", "ammunition", "parts"), rng.choice((1, 1, 2)))
            kind = rng.choice(("case", "alert"))
            for table in (month, "2026-Q1"):
                add((table, "_total", "_all"))
                add((table, "kind", kind))
                for item in items:
                    add((table, "item_category", item))
    groups: list[Group] = []
    for table in [*months, "2026-Q1"]:
        kinds = tuple(k for k in counts if k[0] == table and k[1] == "kind")
        groups.append(Group((table, "_total", "_all"), kinds))
    for key in [k for k in counts if k[0] == "2026-Q1"]:
        members = tuple((m, *key[1:]) for m in months if (m, *key[1:]) in counts)
        groups.append(Group(key, members))
    return counts, groups
