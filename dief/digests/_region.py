"""A region's cells read once, with their joint suppression pattern, for many digests.

Every digest of a region shares one suppression pattern (:mod:`dief.disclosure._pattern`),
which takes every period of the region. :class:`RegionDigests` reads the region's cells and
dead-letter counts once (:mod:`dief.digests._reads`) and protects them once; then each
digest, series or chart of the region costs only its own cells.
:func:`~dief.render.write_outputs` and the digest issuer (``dief.digests``) use it;
:func:`~dief.digests.build_digest` is the one-digest shortcut. Given what the region's
earlier issues listed (``earlier``, from ``CaseStore.published_suppressions``), the pattern
keeps their suppressions, and :meth:`RegionDigests.record` stores what this issue lists
(docs/digests.md, "Re-issues").
"""

from __future__ import annotations

import functools
import hashlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dief.aggregator.store import settled_read
from dief.digests._digest import assemble_digest
from dief.digests._reads import (
    _data_versions,
    _received_routes,
    _region_tallies,
    _summary_rows,
    _with_grouped,
    released_cells,
)
from dief.digests._series import DigestSeries, digest_series, series_periods
from dief.digests._tables import checklist_window, previous_period
from dief.disclosure import (
    DigestPattern,
    PeriodCells,
    collector_paused,
    digest_pattern,
    silent_tables,
    visible_tables,
    window_key,
)
from dief.disclosure import months_by_total as by_total
from dief.exceptions import UnprotectedCellError
from dief.periods import (
    DEFAULT_CYCLE_START_MONTH,
    Month,
    is_cycle,
    parse_period,
)
from dief.vocab import Region

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

    from dief.aggregator.store import CaseStore, PublishedPattern
    from dief.catalogue import Catalogue
    from dief.digests._lessons import CaseLesson
    from dief.wire import Digest, Lesson, RouteTable

__all__ = ["RegionDigests", "build_digest", "with_routes"]

log = logging.getLogger("dief.digests")


@dataclass(frozen=True, slots=True)
class RegionDigests:
    """Every cell of one region (TLP:RED included), its dead letters and its pattern;
    ``periods``: the periods with data (``CaseStore.periods_with_data``)."""

    region: Region
    periods: tuple[str, ...]
    tallies: Mapping[str, PeriodCells]
    dead: Mapping[str, int]
    pattern: DigestPattern
    start_month: int = DEFAULT_CYCLE_START_MONTH
    #: route tables other regions sent this region (``dief.routes``), as given
    routes: tuple[RouteTable, ...] = ()
    #: months published by their total only (the joint design: the pattern keeps their
    #: other cells in the sums, unlisted)
    coarse: bool = False
    #: (period, data version): what each digest states as ``notes.data_version``, a token
    #: renewed whenever the period's cases change (``CaseStore.data_versions``, docs/audit.md)
    versions: tuple[tuple[str, str], ...] = ()

    @property
    def k(self) -> int:
        return self.pattern.k

    @classmethod
    async def load(  # noqa: PLR0913  a public keyword signature (one keyword per option)
        cls,
        store: CaseStore,
        region: Region | str,
        *,
        k: int = 2,
        start_month: int = DEFAULT_CYCLE_START_MONTH,
        periods: Iterable[str] = (),
        earlier: PublishedPattern | None = None,
        k_csp: int | None = 3,
        months_by_total: bool | None = None,
        group_rare: bool = False,
        bulletins: bool = True,
    ) -> RegionDigests:
        """Read every period of *region* with data, and protect them together.

        *periods*: digests to be written that may have no data of their own (an empty
        cycle, issued so the Secretariat hears from every region): their checklist
        windows are covered too. *earlier*: what the region's published digests listed
        (``store.published_suppressions(region)``): every cell they suppressed stays
        suppressed, listed at count 0 if it lost its cases, and the counts they published
        are taken as public (:func:`~dief.disclosure.digest_pattern`). Building for
        publishing, pass it and :meth:`record` what was published.

        *k_csp*: the CSP summaries' k. The region's rows of the summaries (its cycle cells
        without TLP:RED) are protected jointly with the digests, and
        ``pattern.rows`` says what each cycle's summary must suppress (DESIGN §7, "one
        system"); ``None`` protects the digests alone (tests, comparisons).
        *months_by_total* (with *k_csp*; default
        :data:`~dief.disclosure._design.MONTHS_BY_TOTAL_BY_DEFAULT`, on): month digests
        publish their totals and ``kind`` only (docs/digests.md, "Tables designed for the
        data"); ``False`` lists every dimension in every month. Values with
        fewer than *k* contributors are grouped as ``(other)`` with *group_rare* (opt-in:
        measured worse, docs/digests.md), its contributors counted exactly
        (:meth:`CaseStore.grouped_rows`). *bulletins* (default): the region's released
        bulletins are cases every reader knows, lower bounds in the pattern
        (:func:`~dief.digests._reads.released_cells`); ``False`` leaves them out (comparisons).

        The cells and the data versions the digests state (``versions``) are of one
        moment: the versions are read before the cells and again after them, and a batch
        applied in between makes it read again (*earlier*'s unchanged periods narrowed to
        those still at their issued version); after a few tries,
        :class:`~dief.exceptions.StoreChangingError` (docs/audit.md, "Cells of unchanged
        tables"). The pattern is computed once, from the read that held.

        (Over 80 lines for its keyword signature and this docstring; the body, about 50
        lines, reads once and protects once, each step a function of its own.)
        """
        if k < 1:
            raise ValueError("k is at least 1")
        code = Region(region)
        months_by_total = by_total(months_by_total)
        extra = sorted({str(parse_period(p, start_month=start_month)) for p in periods})
        coarse = months_by_total and k_csp is not None
        read = await settled_read(
            functools.partial(store.data_versions, code.value),
            functools.partial(
                _store_read,
                store,
                code,
                earlier,
                k=k,
                k_csp=k_csp,
                bulletins=bulletins,
                start_month=start_month,
                grouped=coarse if group_rare else None,
            ),
            region=code.value,
            reader="its digests",
        )
        tallies, earlier = read.tallies, read.earlier
        pattern = _protected(
            code,
            functools.partial(
                digest_pattern,
                tallies,
                k=k,
                start_month=start_month,
                periods=extra,
                earlier=earlier,
                rows=read.rows,
                k_summary=k_csp,
                months_by_total=months_by_total,
                group_rare=group_rare,
                known_cases=read.known or None,
            ),
            already=silent_tables(earlier),
            start_month=start_month,
            bound=len(tallies) + len(extra),
        )
        return cls(
            code,
            read.wanted,
            tallies,
            read.dead,
            pattern,
            start_month,
            read.routes,
            coarse,
            read.versions,
        )

    @classmethod
    async def for_issue(  # noqa: PLR0913  the digest settings, each by keyword
        cls,
        store: CaseStore,
        region: Region | str,
        *,
        k: int,
        k_csp: int | None,
        start_month: int = DEFAULT_CYCLE_START_MONTH,
        periods: Iterable[str] = (),
    ) -> RegionDigests:
        """The region's digests as an issue publishes them: :meth:`load` keeping what the
        region's published issues suppressed (``store.published_suppressions``) and
        with its released bulletins as known cases. The one loader of
        :func:`~dief.digests.publish_digests`, :func:`build_digest` and the release rule's
        documents (``dief.bulletins.own_digests``), so they build the same digests."""
        return await cls.load(
            store,
            region,
            k=k,
            start_month=start_month,
            periods=periods,
            earlier=await store.published_suppressions(Region(region).value),
            k_csp=k_csp,
        )

    async def record(self, store: CaseStore, periods: Iterable[str] | None = None) -> int:
        """Record in *store* what the digests of *periods* (default: every table of the
        pattern) list: each cell's published count, or that it is suppressed
        (``CaseStore.record_suppressions``), so the next issue keeps the pattern. Call it
        before the digests leave (a record of an issue that then failed only keeps more
        cells suppressed), and :meth:`record_delivered` once they have. Returns the rows
        written."""
        tables = None if periods is None else visible_tables(periods, start_month=self.start_month)
        with collector_paused():  # every listed cell (dief._gc_pause; never across an await)
            listed = self.pattern.listed(tables)
        return await store.record_suppressions(self.region.value, listed)

    async def record_delivered(self, store: CaseStore, periods: Iterable[str]) -> None:
        """Record the ``data_version`` the digests of *periods* stated, once they have left
        (``CaseStore.record_issued_versions``): the next issue takes a period still at that
        version as linked by every reader, and never hides again a cell this issue
        published there. Only after delivery: a version recorded for an issue no reader got
        would make the next issue take as public what no one holds."""
        issued = {str(parse_period(p, start_month=self.start_month)) for p in periods}
        versions = {p: v for p, v in self.versions if p in issued}
        await store.record_issued_versions(self.region.value, versions)

    def digest(
        self,
        period: str,
        *,
        catalogue: Catalogue,
        lessons: Sequence[Lesson | CaseLesson] | None = (),
    ) -> Digest:
        """The digest of *period* (see :func:`~dief.digests.build_digest`), with the
        route tables of *period* this region received (field ``routes``, as given)."""
        digest = assemble_digest(
            self.region,
            parse_period(period, start_month=self.start_month),
            self.tallies,
            self.dead,
            k=self.k,
            catalogue=catalogue,
            lessons=lessons,
            pattern=self.pattern,
            start_month=self.start_month,
            coarse=self.coarse,
        )
        version = dict(self.versions).get(digest.period)
        if version is not None:  # docs/audit.md: two issues stating it count the same cases
            notes = digest.notes.model_copy(update={"data_version": version})
            digest = digest.model_copy(update={"notes": notes})
        return with_routes(digest, self.routes)

    def inputs(self, periods: Iterable[str]) -> dict[str, str]:
        """Per period of *periods*, a fingerprint (SHA-256, hex) of everything of the
        region its :meth:`digest` and default :meth:`series` read: the cells of every
        table they show (the period, the one before, the checklist's windows and their
        quarters, the charts' periods) with each cell's status in the pattern (covered,
        suppressed, secondary, unlisted, withheld dimensions), ``k``, the start month, the
        design, the period's data version, the dead letters and the route tables of the
        period. Two issues of equal fingerprints build the same digest and series from
        the same catalogue and lessons (issue #15: a re-issue builds only the others)."""
        reads = {p: _tables_read(p, self.start_month) for p in periods}
        views = _table_views(self, {t for tables in reads.values() for t in tables})
        versions = dict(self.versions)
        dead = repr(sorted(self.dead.items()))
        out: dict[str, str] = {}
        for period, tables in reads.items():
            routes = [
                r.model_dump_json() for r in self.routes if r.period == period
            ]  # with_routes keeps those sent to this region; the rest cannot change it
            parts = [
                self.region.value,
                period,
                repr((self.k, self.start_month, self.coarse, versions.get(period))),
                dead,
                repr(routes),
                *(f"{t}\n{views[t]}" for t in sorted(tables)),
            ]
            out[period] = _digest_of(parts)
        return out

    def series(self, period: str, *, length: int | None = None) -> DigestSeries:
        """The charts' series of *period*'s digest (see :func:`~dief.digests.load_series`);
        a month's, in the joint design, has totals only (a month publishes nothing else)."""
        parsed = parse_period(period, start_month=self.start_month)
        series = digest_series(
            self.tallies,
            parsed,
            k=self.k,
            length=length,
            pattern=self.pattern,
            start_month=self.start_month,
        )
        if self.coarse and isinstance(parsed, Month):
            return DigestSeries(series.periods, series.totals, {})
        return series


@dataclass(frozen=True, slots=True)
class _StoreRead:
    """What :meth:`RegionDigests.load` reads from the store, every cell as of ``versions``
    (:func:`~dief.aggregator.store.settled_read`); ``earlier`` as of them too."""

    wanted: tuple[str, ...]
    tallies: dict[str, PeriodCells]
    rows: dict[str, PeriodCells] | None
    known: dict[str, PeriodCells]
    earlier: PublishedPattern | None
    dead: Mapping[str, int]
    routes: tuple[RouteTable, ...]
    versions: tuple[tuple[str, str], ...]


async def _store_read(  # noqa: PLR0913  the reads' settings, each by keyword
    store: CaseStore,
    code: Region,
    earlier: PublishedPattern | None,
    versions: Mapping[str, tuple[int, str]],
    *,
    k: int,
    k_csp: int | None,
    bulletins: bool,
    start_month: int,
    grouped: bool | None,
) -> _StoreRead:
    """Everything :meth:`RegionDigests.load` reads from the store, once: the cells, the
    summary rows, the released bulletins' cells, the grouped values' contributors (unless
    *grouped* is ``None``; ``True``: months by total), the dead letters and the route
    tables; *earlier* narrowed to the periods still unchanged at *versions*
    (:meth:`PublishedPattern.as_of`): the data versions read before the cells."""
    if earlier is not None:
        earlier = earlier.as_of({p: token for p, (_, token) in versions.items()})
    wanted, tallies = await _region_tallies(store, code.value, earlier)
    rows, known = await _joint_inputs(
        store, code, wanted, earlier, k_csp=k_csp, bulletins=bulletins, start_month=start_month
    )
    if grouped is not None:
        tallies = await _with_grouped(
            store, code.value, tallies, k=k, earlier=earlier, coarse=grouped
        )
    return _StoreRead(
        tuple(wanted),
        tallies,
        rows,
        known,
        earlier,
        await store.dead_letter_counts(code.value),
        await _received_routes(store, code.value),
        _data_versions(versions),
    )


async def _joint_inputs(  # noqa: PLR0913  the reads' settings, each by keyword
    store: CaseStore,
    code: Region,
    wanted: Sequence[str],
    earlier: PublishedPattern | None,
    *,
    k_csp: int | None,
    bulletins: bool,
    start_month: int,
) -> tuple[dict[str, PeriodCells] | None, dict[str, PeriodCells]]:
    """The region's rows of the CSP summaries of its cycles among *wanted* (``None``
    without *k_csp*), and the cells of its released bulletins (none without *bulletins*)."""
    cycles = [p for p in wanted if is_cycle(p)]
    rows = None if k_csp is None else await _summary_rows(store, code.value, cycles, earlier)
    known = await released_cells(store, code.value, start_month=start_month) if bulletins else {}
    return rows, known


def _protected(
    code: Region,
    pattern: Callable[..., DigestPattern],
    *,
    already: frozenset[str],
    start_month: int,
    bound: int,
) -> DigestPattern:
    """``pattern(silent=...)``, silencing the table of each cell no suppression can protect
    (:class:`UnprotectedCellError`, a first issue: docs/digests.md "A cell no suppression
    can protect") and building again: at most *bound* tables (the region's). A cell of a
    table already silent, or of one that is no digest's period (a checklist window, a
    summary row), raises again: the caller withholds the region's whole issue. One log
    line per silenced table, naming the table and the cell's dimension and value, never a
    State or a count."""
    silent: set[str] = set()
    while True:
        try:
            return pattern(silent=frozenset(silent))
        except UnprotectedCellError as exc:
            table, dimension, value = exc.cell
            if table in silent or table in already or len(silent) >= bound:
                raise
            try:
                parse_period(table, start_month=start_month)
            except ValueError:
                raise exc from None
            log.warning(
                "%s: table %s lists nothing: disclosure control cannot protect %s/%s in it",
                code.value,
                table,
                dimension,
                value,
            )
            silent.add(table)


def _digest_of(parts: Iterable[str]) -> str:
    """The SHA-256 (hex) of *parts*, each length-prefixed (no two lists collide)."""
    digest = hashlib.sha256()
    for part in parts:
        raw = part.encode("utf-8")
        digest.update(len(raw).to_bytes(8, "big"))
        digest.update(raw)
    return digest.hexdigest()


def _tables_read(period: str, start_month: int) -> frozenset[str]:
    """The tables the digest and the charts' series of *period* read (as
    ``_tables._tables`` and :func:`~dief.digests.digest_series` name them)."""
    current = parse_period(period, start_month=start_month)
    before = previous_period(current)
    window, prior = checklist_window(current)
    names = {str(current), window_key(window[-1]), *(str(q) for q in (*window, *prior))}
    if before is not None:
        names.add(str(before))
    if prior:
        names.add(window_key(prior[-1]))
    names.update(str(p) for p in series_periods(current))
    return frozenset(names)


def _table_views(source: RegionDigests, tables: set[str]) -> dict[str, str]:
    """Each of *tables* as the digests read it: its cells and their statuses in the
    pattern (one pass over the pattern's cells, whatever the number of tables)."""
    pattern = source.pattern
    statuses: dict[str, list[tuple[str, tuple[str, ...]]]] = {t: [] for t in tables}
    # what a digest and its series ask of the pattern (``hidden``, ``published``,
    # ``listed_cell``, ``secondary``, ``tables``); why a cell is suppressed (primary, kept
    # from an earlier issue) they do not read
    # a cell listed nowhere reads as hidden whether or not the search took it
    # (``DigestPattern.hidden``), so only the listed cells' suppressions are a status
    listed_suppressed = pattern.suppressed - pattern.unlisted
    for name, keys in (("suppressed", listed_suppressed), ("unlisted", pattern.unlisted)):
        for key in keys:
            if key[0] in statuses:
                statuses[key[0]].append((name, tuple(key)))
    for table, dimension in pattern.withheld:
        if table in statuses:
            statuses[table].append(("withheld", (table, dimension)))
    for table in pattern.silent:
        if table in statuses:
            statuses[table].append(("silent", (table,)))
    return {
        t: repr(
            (
                t in pattern.tables,
                sorted(source.tallies.get(t, {}).items()),
                sorted(statuses[t]),
                sorted(pattern.secondary(t)),
            )
        )
        for t in tables
    }


def with_routes(digest: Digest, routes: Sequence[RouteTable]) -> Digest:
    """*digest* with the route tables of its period among *routes* (by sending region) in
    its ``routes`` field: "cases elsewhere whose route passes through this region"; unchanged
    when there are none."""
    shown = sorted(
        (r for r in routes if r.period == digest.period and r.to_region is digest.region),
        key=lambda r: list(Region).index(r.from_region),
    )
    if not shown:
        return digest
    return digest.model_copy(update={"routes": [r.model_dump(mode="json") for r in shown]})


async def build_digest(  # noqa: PLR0913  a public keyword signature (the CLI, tests)
    store: CaseStore,
    region: Region | str,
    period: str,
    *,
    k: int = 2,
    catalogue: Catalogue,
    start_month: int = DEFAULT_CYCLE_START_MONTH,
    lessons: Sequence[Lesson | CaseLesson] | None = (),
    k_csp: int | None = 3,
) -> Digest:
    """The trend digest of *region* for *period* (``2026-05``, ``2026-Q2`` or ``CSP12``).

    TLP:RED cases count (the digest goes to the region's own meeting only). Costs one read
    of the region's stored cells and their protection (every period: the suppression
    pattern is joint, so this digest equals the one :func:`~dief.render.write_outputs`
    writes, keeping what the region's published issues suppressed; it records nothing);
    for several digests of a region, use :class:`RegionDigests`. *lessons* are
    included when shareable (TLP amber or lower), grouped by transfer stage; dated ones
    (:class:`CaseLesson`) only when their month lies in *period*. ``lessons=None`` means
    they could not be read (rendered without the region's private key): the notes say so.
    *k_csp* is the summaries' k the region's rows are protected with
    (:meth:`RegionDigests.load`; ``None``: the digests alone).
    """
    digests = await RegionDigests.for_issue(
        store, region, k=k, k_csp=k_csp, start_month=start_month, periods=[period]
    )
    return digests.digest(period, catalogue=catalogue, lessons=lessons)
