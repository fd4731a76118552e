"""The joint pattern's cost (issue #15): computed once per region and input and reused;
a re-issue re-protects only the piece new data reaches; unchanged files are not rewritten."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, cast

from dief.disclosure import (
    Group,
    Key,
    PeriodCells,
    Tally,
    digest_pattern,
    pieces_enabled,
    whole_system,
)
from dief.disclosure._choice import widen
from dief.disclosure._memo import clear_patterns
from dief.disclosure._pieces import affected_piece, bound_links
from dief.render._changed import write_atomic

if TYPE_CHECKING:
    from collections.abc import Callable

TOTAL = ("_total", "_all")


def _tallies(extra: int = 0) -> dict[str, PeriodCells]:
    def t(count: int, contributors: int) -> Tally:
        return Tally(count, contributors, ("CSP12",))

    month = {
        TOTAL: t(5 + extra, 3),
        ("kind", "case"): t(4 + extra, 3),
        ("kind", "attempt"): t(1, 1),
    }
    return {"2026-01": month, "2026-Q1": dict(month), "CSP12": dict(month)}


def test_an_equal_input_reuses_the_pattern_and_a_new_case_recomputes_it() -> None:
    clear_patterns()
    first = digest_pattern(_tallies(), k=2, start_month=9)
    # equal cells in new objects, and a digest of a period with data named: the same input
    again = digest_pattern(_tallies(), k=2, start_month=9, periods=["CSP12"])
    assert again is first
    assert ("2026-01", "kind", "attempt") in first.suppressed
    changed = digest_pattern(_tallies(extra=1), k=2, start_month=9)
    assert changed is not first
    assert changed.counts[("2026-01", "_total", "_all")] == 6
    assert digest_pattern(_tallies(), k=3, start_month=9) is not first


def test_a_reissue_protects_only_the_piece_new_data_reaches() -> None:
    # two old quarters published unchanged, each with two hidden cells linked only to each
    # other; a new quarter (months c, d) whose month d is new
    def g(marginal: Key, *members: Key) -> Group:
        return Group(marginal, members)

    old = [(q, "kind", v) for q in ("Q0", "Q1") for v in ("x", "y")]
    groups = [
        g(("Q0", "_total", "_all"), ("Q0", "kind", "x"), ("Q0", "kind", "y")),
        g(("Q1", "_total", "_all"), ("Q1", "kind", "x"), ("Q1", "kind", "y")),
        g(("Q2", "_total", "_all"), ("c", "_total", "_all"), ("d", "_total", "_all")),
        g(("d", "_total", "_all"), ("d", "kind", "x"), ("d", "kind", "y")),
    ]
    counts = {key: 3 for group in groups for key in group.cells}
    recorded = {*(k for k in counts if k[0] in ("Q0", "Q1", "c", "Q2")), *old}
    public = {k for k in recorded if k[1] == "_total"}
    piece = affected_piece(
        counts, groups, [], public=public, recorded=recorded, primary=set(), never_seeds=()
    )
    assert piece is not None
    assert {k[0] for k in piece} == {"d"}  # Q2's total is public: the walk stops there
    # a published cell now below k is new information too
    piece = affected_piece(
        counts,
        groups,
        [],
        public=public,
        recorded=recorded,
        primary={("Q1", "_total", "_all")},
        never_seeds=(),
    )
    assert piece is not None
    assert ("Q1", "kind", "x") in piece
    assert not {k for k in piece if k[0] == "Q0"}


def test_whole_system_turns_the_pieces_off_in_its_block() -> None:
    assert pieces_enabled()
    with whole_system():
        assert not pieces_enabled()
    assert pieces_enabled()


def test_an_output_file_whose_content_did_not_change_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "d" / "CSP12.md"
    assert write_atomic(path, "one\n")
    os.utime(path, (1_000_000, 1_000_000))
    assert not write_atomic(path, "one\n")
    assert path.stat().st_mtime == 1_000_000
    assert write_atomic(path, b"two\n")
    assert path.read_text() == "two\n"


def test_a_walk_that_finds_no_published_cell_settles_its_whole_linked_set() -> None:
    a, b, c = (("Q", "kind", v) for v in "abc")
    groups = [Group(a, (b,)), Group(b, (c,))]
    groups_of = {a: [0], b: [0, 1], c: [1]}
    dead: set[Key] = set()
    hidden = {a, b, c}

    def by_size(key: Key) -> tuple[int, bool, tuple[int, int, str]]:
        return (1, False, (0, 0, key[2]))

    pick = widen(
        a, groups, groups_of, by_size, lambda k: k not in hidden, hidden.__contains__, dead
    )
    assert pick is None
    assert dead == {a, b, c}
    # any cell of the set is settled without a walk (here a walk would find nothing either)
    calls: list[Key] = []
    record = cast("Callable[[Key], bool]", calls.append)  # None: never a candidate
    assert widen(c, groups, groups_of, by_size, record, hidden.__contains__, dead) is None
    assert calls == []


def test_check_four_links_hold_every_cell_to_its_total_and_the_items_together() -> None:
    counts = {
        ("Q", "_total", "_all"): 3,
        ("Q", "kind", "case"): 3,
        ("Q", "item_category", "small_arms"): 2,
        ("Q", "item_category", "ammunition"): 2,
    }
    links = bound_links(counts)
    assert Group(("Q", "_total", "_all"), (("Q", "kind", "case"),)) in links
    items = [g for g in links if len(g.members) == 2]
    assert [set(g.members) for g in items] == [
        {("Q", "item_category", "small_arms"), ("Q", "item_category", "ammunition")}
    ]
