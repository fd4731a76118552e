"""Route tables (DESIGN §5 ⚑ related_regions, §7 one system): computed from the sending
region's cases, protected jointly with its own documents, signed, sealed to the receiving
region's aggregator, refused when tampered with or unsigned.

The attack first: a reader of the receiving region who also holds the sending region's
digest compares a route cell with the digest cell it is part of (route cell <= digest
cell) and, with the digest's own sums and "every listed cell counts at least one case",
recovers a cell the digest suppressed. The reader is an exact brute force over every
integer assignment, so "no leak" means no reader can pin the cell.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from dief.aggregator import TOTAL
from dief.crypto import KemPrivateKey, Opener, Sealer, SigningKey, VerifyKey, canonical_json
from dief.disclosure import CellId, PeriodCells, Tally
from dief.exceptions import SignatureError, ValidationError
from dief.routes import (
    RouteCase,
    RouteProtection,
    SenderCells,
    bounds_hold,
    build_route_table,
    parse_route_payload,
    protect_route,
    route_cells,
    route_payload_bytes,
    sign_route_table,
)
from dief.vocab import Region
from dief.wire import ROUTE_TABLE_SCHEMA, TYPE_ROUTE_TABLE, RouteTable

if TYPE_CHECKING:
    from collections.abc import Mapping

AFR, EEG, WEOG = Region.AFR, Region.EEG, Region.WEOG
ISSUED = datetime(2026, 9, 1, 10, tzinfo=UTC)
SIGN = {r: SigningKey.generate() for r in (AFR, EEG)}
CASE, ALERT = ("kind", "case"), ("kind", "alert")
TRANSIT, IMPORT = ("transfer_stage", "in_transit"), ("transfer_stage", "at_import")
NSAG = ("end_user_type", "non_state_armed_group")
SMALL_ARMS = ("item_category", "small_arms")


def _case(who: str, *values: tuple[str, str]) -> RouteCase:
    return RouteCase(who, "CSP12", tuple(sorted(values)))


# The sending region's CSP12: six cases. Five are "case" kind from three contributors, one
# an alert from a single contributor: the digest suppresses kind=alert (primary) and so
# kind=case (secondary: total minus case would give the alert away).
SENDER_CELLS: dict[CellId, Tally] = {
    TOTAL: Tally(6, 4, ("CSP12",)),
    CASE: Tally(5, 3, ("CSP12",)),
    ALERT: Tally(1, 1, ("CSP12",)),
    TRANSIT: Tally(4, 3, ("CSP12",)),
    IMPORT: Tally(2, 2, ("CSP12",)),
    NSAG: Tally(6, 4, ("CSP12",)),
    SMALL_ARMS: Tally(6, 4, ("CSP12",)),
}
DIGEST: dict[CellId, int | None] = {
    cell: (None if cell in (CASE, ALERT) else t.count) for cell, t in SENDER_CELLS.items()
}
SENDER = SenderCells(digest=DIGEST, nonred=SENDER_CELLS, k_csp=3)
#: the five "case" cases all pass through EEG
ROUTED = [
    _case("p1", CASE, TRANSIT, NSAG, SMALL_ARMS),
    _case("p1", CASE, TRANSIT, NSAG, SMALL_ARMS),
    _case("p2", CASE, TRANSIT, NSAG, SMALL_ARMS),
    _case("p2", CASE, IMPORT, NSAG, SMALL_ARMS),
    _case("p3", CASE, IMPORT, NSAG, SMALL_ARMS),
]


def _published(table: RouteTable) -> tuple[dict[CellId, int], set[CellId]]:
    """What a reader sees of *table*: published counts and the suppressed cells listed."""
    counts: dict[CellId, int] = {}
    hidden: set[CellId] = set()
    if table.totals.cases is not None:
        counts[TOTAL] = table.totals.cases
    elif not table.withheld:
        hidden.add(TOTAL)
    for dimension, cells in table.dimensions.items():
        for cell in cells:
            key = (dimension.value, cell.value)
            if cell.count is None:
                hidden.add(key)
            else:
                counts[key] = cell.count
    return counts, hidden


def _reader(table: RouteTable, digest: Mapping[CellId, int | None]) -> dict[CellId, set[int]]:
    """Every value each suppressed digest cell can take, for a reader holding the digest
    (its kind and stage sums, listed cells >= 1) and *table* (its own sums, listed cells
    >= 1, each route cell <= its digest cell): an exact search over small integers."""
    known, route_hidden = _published(table)
    secret = sorted(c for c, n in digest.items() if n is None)
    unknown = [("d", c) for c in secret] + [("r", c) for c in sorted(route_hidden)]
    total = digest[TOTAL] or 0
    feasible: dict[CellId, set[int]] = {c: set() for c in secret}
    for values in itertools.product(range(1, total + 1), repeat=len(unknown)):
        v = dict(zip(unknown, values, strict=True))
        d = {c: (n if n is not None else v["d", c]) for c, n in digest.items()}
        r = {**known, **{c: v["r", c] for c in route_hidden}}
        if any(
            sum(d[c] for c in d if c[0] == dim) != d[TOTAL] for dim in ("kind", "transfer_stage")
        ):
            continue
        if TOTAL in r and any(
            sum(n for c, n in r.items() if c[0] == dim) != r[TOTAL]
            for dim in ("kind", "transfer_stage")
            if any(c[0] == dim for c in r)
        ):
            continue
        if any(n > d.get(c, 0) for c, n in r.items()):
            continue
        for c in secret:
            feasible[c].add(d[c])
    return feasible


def _table(cells: PeriodCells, protection: RouteProtection) -> RouteTable:
    return build_route_table(AFR, EEG, "CSP12", cells, protection, k=2, issued_at=ISSUED)


def test_a_naive_route_table_lets_a_reader_recover_a_suppressed_digest_cell() -> None:
    """The attack, against a route table protected by its own contributors only."""
    cells = route_cells(ROUTED)
    blind = SenderCells(
        digest={c: t.count for c, t in SENDER_CELLS.items()}, nonred=SENDER_CELLS, k_csp=1
    )
    naive = _table(cells, protect_route(cells, blind, k=2))
    assert naive.totals.cases == 5
    seen = _reader(naive, DIGEST)
    assert seen[ALERT] == {1}, "the route table gives the single-contributor alert away"
    assert seen[CASE] == {5}


def test_a_protected_route_table_cannot_be_differenced_against_the_senders_digest() -> None:
    cells = route_cells(ROUTED)
    table = _table(cells, protect_route(cells, SENDER, k=2))
    without_route = _reader(
        RouteTable(
            from_region=AFR, to_region=EEG, period="CSP12", k=2, issued_at=ISSUED,
            withheld=True, totals={"cases": None, "contributors": None, "withheld": True},
            dimensions={},
        ),
        DIGEST,
    )  # fmt: skip
    seen = _reader(table, DIGEST)
    assert seen == without_route, "the route table tells the reader nothing more"
    assert all(len(values) > 1 for values in seen.values())


def test_a_route_cell_of_one_contributor_is_suppressed() -> None:
    cases = [
        _case("p1", CASE, TRANSIT, NSAG, SMALL_ARMS),
        _case("p2", CASE, TRANSIT, NSAG, SMALL_ARMS),
        _case("p2", CASE, IMPORT, NSAG, ("item_category", "ammunition")),
    ]
    big = {c: Tally(20, 5, ("CSP12",)) for c in (*route_cells(cases), IMPORT)}
    sender = SenderCells(digest=dict.fromkeys(big, 20), nonred=big, k_csp=3)
    cells = route_cells(cases)
    assert cells[IMPORT] == Tally(1, 1, ("CSP12",))
    protection = protect_route(cells, sender, k=2)
    table = _table(cells, protection)
    shown = {(d.value, c.value): c for d, cs in table.dimensions.items() for c in cs}
    assert shown["transfer_stage", "at_import"].suppressed
    assert shown["transfer_stage", "at_import"].count is None
    assert shown["transfer_stage", "at_import"].contributors is None
    assert shown["item_category", "ammunition"].suppressed
    # at_import cannot be recovered as total minus in_transit: one of them goes too
    assert table.totals.cases is None or shown["transfer_stage", "in_transit"].suppressed
    assert "p1" not in table.model_dump_json()
    assert "p2" not in table.model_dump_json()


def test_a_tainted_cell_needs_slack_or_the_table_is_withheld() -> None:
    cells = {TOTAL: Tally(4, 3, ()), CASE: Tally(2, 2, ()), ALERT: Tally(2, 2, ())}
    upper = {TOTAL: 10, CASE: 10, ALERT: None}
    # published total 4 and case 2 force the alert cell to 2: a bound on the sender's cell
    assert not bounds_hold(cells, {ALERT}, {ALERT}, upper)
    assert bounds_hold(cells, {ALERT, CASE, TOTAL}, {ALERT}, upper)
    # the digest hides alert, the summary row too (two non-red contributors), and nothing
    # else the sender publishes puts a floor under it: its cap is one case
    sender = SenderCells(
        digest={TOTAL: 10, CASE: 8, ALERT: None},
        nonred={TOTAL: Tally(10, 5, ()), CASE: Tally(8, 4, ()), ALERT: Tally(2, 2, ())},
        k_csp=3,
    )
    assert sender.caps(cells)[ALERT] == 1
    protection = protect_route(cells, sender, k=2)
    assert ALERT in protection.tainted
    assert ALERT in protection.hidden
    assert not protection.withheld
    assert bounds_hold(cells, protection.hidden, protection.tainted, upper)


def test_a_cell_the_csp_summary_would_suppress_is_tainted() -> None:
    cells = route_cells(ROUTED[:2] + ROUTED[2:3])
    nonred = {c: Tally(9, 2, ()) for c in cells}  # two non-red contributors: below k_csp
    sender = SenderCells(digest=dict.fromkeys(cells, 9), nonred=nonred, k_csp=3)
    assert protect_route(cells, sender, k=2).tainted == frozenset(cells)


def _sealed(table: RouteTable, key: SigningKey, to: KemPrivateKey, region: Region = EEG) -> bytes:
    sealer = Sealer(
        type=TYPE_ROUTE_TABLE, region=region.value, recipients=[to.public_key],
        schema=ROUTE_TABLE_SCHEMA,
    )  # fmt: skip
    return sealer.seal(route_payload_bytes(sign_route_table(table, key)))


def _protected_table() -> RouteTable:
    cells = route_cells(ROUTED)
    big = {c: Tally(30, 6, ("CSP12",)) for c in cells}
    return _table(cells, protect_route(cells, SenderCells(dict.fromkeys(big, 30), big), k=2))


def _keys_for(region: Region) -> list[VerifyKey]:
    return [SIGN[region].verify_key] if region in SIGN else []


def test_a_signed_table_opens_and_verifies_for_its_receiver() -> None:
    kem = KemPrivateKey.generate()
    table = _protected_table()
    assert table.totals.cases == 5
    assert not table.withheld
    opened = Opener([kem], schemas={TYPE_ROUTE_TABLE: {1}}).open(_sealed(table, SIGN[AFR], kem))
    payload = parse_route_payload(opened.payload, _keys_for, receiver=EEG)
    assert payload.table() == table


@pytest.mark.parametrize("change", ["count", "receiver", "unsigned", "other_key"])
def test_a_tampered_or_unsigned_table_is_refused(change: str) -> None:
    table = _protected_table()
    signed = sign_route_table(table, SIGN[EEG] if change == "other_key" else SIGN[AFR])
    document = signed.model_dump(mode="json")
    if change == "count":
        document["totals"]["cases"] = 6
    elif change == "receiver":
        document["to_region"] = "WEOG"
    elif change == "unsigned":
        del document["signature"]
    data = canonical_json(document)
    with pytest.raises((SignatureError, ValidationError)) as caught:
        parse_route_payload(data, _keys_for, receiver=EEG)
    assert caught.value.code in {"bad_signature", "unsigned", "signature"}


def test_a_table_for_another_region_is_refused_even_when_well_signed() -> None:
    table = _protected_table()
    data = route_payload_bytes(sign_route_table(table, SIGN[AFR]))
    with pytest.raises(ValidationError):
        parse_route_payload(data, _keys_for, receiver=WEOG)
