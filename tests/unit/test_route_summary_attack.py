"""Route tables against the CSP summary's cross-region suppressions (#15).

docs/digests.md "Route tables", "Known limits": a reader of the receiving region holds the
route table its region received, the public summary and its own region's digest. Can it pin
a cell either one suppressed?

It could (the smallest reproduction found; a strict xfail until the fix): the
Secretariat, not told of the route table, pins a cell for the reader
(``test_the_reproduction_holds``). One cycle, one
single-valued dimension (``transfer_stage``: ``in_transit``, ``at_import``), three
regions, every region's row requirement given to the Secretariat, k_csp = 3, k_meeting = 2:

- AFR (sender): 5 in transit, 3 at import, every cell from at least 3 States: its row
  rules publish every cell, so the cap of a route cell of ``in_transit`` is 5;
- APG: 1 in transit from one State (primary), 4 at import;
- EEG (receiver, the reader): 3 and 4, its cycle digest publishes them.

(Session 9 changed the numbers, from 6/4, 1/3 and 2/2: a cell hidden for protection now
counts at least k for the Secretariat, docs/digests.md "A hidden cell's reason is a
bound", and with APG's 3 at import hidden beside its total of 4 it hid AFR's total too,
so the old numbers no longer reproduce the leak.)

The Secretariat protects APG's ``in_transit`` against every meeting one at a time: EEG's
meeting knows its own row, so with the global ``in_transit`` published AFR's row cells
are hidden too (``reader_pick``); AFR's meeting knows AFR's row but not EEG's. Then AFR's
route table to EEG publishes ``in_transit`` = 5 (all five pass through EEG; 3 States, at
its cap): EEG's reader learns AFR ``in_transit`` >= 5, and with the global sum and its own
row, APG ``in_transit`` <= 1: the one-State cell is pinned at 1 (and AFR's row with it).
A route table carries what the sender's meeting knows of its row to the receiver's meeting
(the caps are that knowledge, summary count or digest floor alike), and the summary is
checked against each meeting alone, never two pooled. With 4 of the 5 routed nothing is
pinned (the guard below).

Session 19: that summary (AFR's row hidden, the global ``in_transit`` published) pinned
APG's one-State cell for AFR's own meeting already, route or not (9 - 5 is APG's and
EEG's, and EEG's, hidden to protect another, counts at least 3); the Secretariat now checks
each meeting's bounds too and hides the global cells instead, so the reproduction no longer
arises (``test_the_reproduction_no_longer_arises``); the checks below still hold.

The fix (session 7, docs/digests.md "Route tables and the summary"): the sender's summary
row requirement names the row cells its route tables publish, and to which region
(``RowRequirement.routed``, built with ``listed_cells`` and ``routed_cells`` as the sender
builds it), and the Secretariat checks EEG's meeting with AFR's routed cells taken as
known: nothing is pinned, whichever cap the table was protected with.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from dief.aggregator import TOTAL
from dief.audit import Issue, PublishedTable, ReaderView, audit
from dief.disclosure import GLOBAL, RowRequirement
from dief.routes import SenderCells, listed_cells, protect_route, routed_cells
from dief.secretariat import summary_tables
from tests.unit.route_helpers import cycle_tally

if TYPE_CHECKING:
    from collections.abc import Mapping

    from dief.disclosure import CellId, PeriodCells

    Listed = dict[CellId, int | None]

CYCLE = "CSP12"
STAGE = "transfer_stage"
TRANSIT, IMPORT = (STAGE, "in_transit"), (STAGE, "at_import")
SENDER, OTHER, READER = "AFR", "APG", "EEG"
K_CSP, K_MEETING = 3, 2


#: each region's non-red cells of the cycle (no TLP:RED case anywhere)
CELLS: dict[str, PeriodCells] = {
    SENDER: {TOTAL: cycle_tally(8, 4), TRANSIT: cycle_tally(5, 3), IMPORT: cycle_tally(3, 3)},
    OTHER: {TOTAL: cycle_tally(5, 3), TRANSIT: cycle_tally(1, 1), IMPORT: cycle_tally(4, 3)},
    READER: {TOTAL: cycle_tally(7, 4), TRANSIT: cycle_tally(3, 3), IMPORT: cycle_tally(4, 3)},
}


def _name(cell: CellId) -> str:
    return "_total" if cell == TOTAL else f"{cell[0]}/{cell[1]}"


def _table(key: tuple[str, str, str], cells: Mapping[str, int | None], k: int) -> PublishedTable:
    return PublishedTable(key, ("/".join(key),), cells, frozenset({STAGE}), k=k)


def _summary(
    routed: frozenset[tuple[str, CellId]] = frozenset(),
) -> tuple[dict[tuple[str, str, str], PublishedTable], frozenset[CellId]]:
    """The summary as the Secretariat protects it (every region's row requirement given:
    each meeting taken to know its own row; the sender's names the row cells its route
    tables publish, *routed*), and the sender's row cells it hides."""
    regions = [SENDER, OTHER, READER]
    rows = {r: RowRequirement(CYCLE) for r in regions}
    rows[SENDER] = RowRequirement(CYCLE, routed=routed)
    done = summary_tables(CELLS, regions, k=K_CSP, rows=rows)
    tables: dict[tuple[str, str, str], PublishedTable] = {}
    for scope in [*regions, GLOBAL]:
        name = "global" if scope == GLOBAL else scope
        cells = {
            _name((key[1], key[2])): done.count_as_published(key)
            for key in done.counts
            if key[0] == scope
        }
        tables["summary", name, CYCLE] = _table(("summary", name, CYCLE), cells, K_CSP)
    hidden = frozenset((k[1], k[2]) for k in done.protection.suppressed if k[0] == SENDER)
    return tables, hidden


def _route(routed: int, *, summary_hidden: frozenset[CellId]) -> tuple[PublishedTable, Listed]:
    """The sender's route table to the reader's region: *routed* of its cases in transit
    pass there (from 3 States), protected as ``publish_route_tables`` does; and what it
    lists (``listed_cells``, what the sender records and names in its summary row)."""
    route = {TOTAL: cycle_tally(routed, 3), TRANSIT: cycle_tally(routed, 3)}
    digest = {cell: tally.count for cell, tally in CELLS[SENDER].items()}  # it publishes all
    sender = SenderCells(
        digest=digest, nonred=CELLS[SENDER], k_csp=K_CSP, summary_hidden=summary_hidden
    )
    protection = protect_route(route, sender, k=K_MEETING)
    if protection.withheld or protection.hidden:  # not an AssertionError: a guard
        pytest.fail("the route table is no longer published whole: the scenario changed")
    listed = listed_cells(route, protection)
    cells: dict[str, int | None] = {_name(c): n for c, n in listed.items()}
    return _table(("route", f"{SENDER}>{READER}", CYCLE), cells, K_MEETING), listed


def _pinned(
    *, routed: int | None, summary_known: bool = False, told: bool = True
) -> set[tuple[str, str]]:
    """The suppressed cells of other regions the reader determines (its own row aside:
    its digest publishes it). With *told*, the sender's row requirement names the row
    cells its route table publishes (``routed_cells``), and the Secretariat protects the
    summary with that."""
    tables, hidden = _summary()
    if routed is not None:
        route, listed = _route(routed, summary_hidden=hidden if summary_known else frozenset())
        if told:
            tables, _ = _summary(routed_cells({READER: listed}))
        tables[route.key] = route
    digest = {_name(c): t.count for c, t in CELLS[READER].items()}
    tables["digest", READER, CYCLE] = _table(("digest", READER, CYCLE), digest, K_MEETING)
    report = audit(ReaderView(READER, (Issue("", tables),)))
    return {
        (c.table, c.cell) for c in report.determined if not c.table.endswith(READER + "/" + CYCLE)
    }


def test_the_summary_alone_pins_no_cell_of_another_region() -> None:
    assert _pinned(routed=None) == set()


def test_the_reproduction_no_longer_arises() -> None:
    """What the leak needed: the Secretariat hiding the sender's row for EEG's meeting,
    the global ``in_transit`` (9) published, and the sender's route table publishing
    ``in_transit`` at its cap (5 of 5). That summary pinned APG's one-State cell for AFR's
    own meeting already, route or not (AFR knows its row: 9 - 5 is APG's and EEG's, and
    EEG's, hidden "to protect another", counts at least 3): since session 19 the
    Secretariat checks each meeting's bounds too (``reader_pick``'s check 3) and hides the
    global cells instead. The route table at its cap then pins nothing, told or not."""
    tables, hidden = _summary()
    assert hidden == frozenset()
    assert tables["summary", "global", CYCLE].cells["transfer_stage/in_transit"] is None
    route, listed = _route(5, summary_hidden=hidden)
    assert route.cells == {"_total": 5, "transfer_stage/in_transit": 5}
    assert routed_cells({READER: listed}) == {(READER, TOTAL), (READER, TRANSIT)}
    assert _pinned(routed=5, told=False) == set()


def test_a_route_cell_below_the_sender_cell_pins_nothing() -> None:
    assert _pinned(routed=4) == set()
    assert _pinned(routed=4, told=False) == set()


@pytest.mark.parametrize("summary_known", [False, True], ids=["row-count-cap", "digest-cap"])
def test_a_route_cell_at_the_sender_cell_pins_nothing(summary_known: bool) -> None:
    """All five pass through EEG. Without the published summary the cap is the row's count;
    with it (the sender's row hidden, ``summary_hidden``) the cap is the sender's digest
    count: 5 either way. The sender's summary row requirement names the routed cells
    (``_total`` and ``in_transit`` to EEG), the Secretariat takes them as known to EEG's
    meeting, and APG's one-State ``in_transit`` stays protected."""
    assert _pinned(routed=5, summary_known=summary_known) == set()
