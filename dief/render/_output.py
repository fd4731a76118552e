"""Writing every output of a run into the output directory (DESIGN §9 ⚑).

``digests/<REGION>/<PERIOD>.json``, ``.md``, ``.html`` and ``.csv`` (the data annex) for
every month, quarter and cycle with data, ``summary/<CYCLE>.json``, ``.md``, ``.html``,
``.docx`` and ``.csv`` for every cycle with data. The HTML digests chart counts over
time: the region's cells are read once for all its digests, so the whole directory still
costs O(cells). Every file is deterministic. JSON: two
spaces of indent, keys in the shapes' declared order (which the contract documents read
best in; every mapping the code builds is inserted in a fixed order), a trailing newline.
Files are written atomically (temporary file, then rename).

A re-issue builds and renders only what changed (issue #15, incremental cost): a digest
whose recorded inputs (:meth:`RegionDigests.inputs`: its tables, their statuses, its data
version, the catalogue, lessons and code) and files are unchanged is not built again
(:meth:`OutputFiles.reused`), nor a summary whose cycle's cells, data versions, rows'
requirements and summary before are unchanged (:func:`summary_inputs`, read back from its
JSON); each file of a document built is rendered again only when the fingerprint of what its
rendering draws on (the document's content, the charts' series, the options, the dief
version, the renderers' code and labels) differs from the one ``<out>/.dief/manifest.json``
recorded for the bytes on disk, or those bytes changed (:mod:`dief.render._changed`). A
file whose bytes are unchanged is not rewritten (its modification time kept).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from dief.digests import CaseLesson, RegionDigests
from dief.periods import DEFAULT_CYCLE_START_MONTH, is_cycle
from dief.render._changed import fingerprint
from dief.render._digest_files import _write_region_digests
from dief.render._summary_files import _build_cycle_summary, _cycle_number, _write_summary
from dief.render._writing import (
    OutputFiles,
    Ticker,
    kept_summary,
    requirements_text,
    summary_inputs,
)
from dief.render._written import OutputIndex, WrittenOutput, _json_text
from dief.routes import routed_row_cells
from dief.vocab import Region

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from dief.aggregator.store import CaseStore
    from dief.catalogue import Catalogue
    from dief.disclosure import RowRequirement
    from dief.wire import CspSummary, Lesson

__all__ = ["write_outputs"]


async def write_outputs(  # noqa: PLR0913  a public keyword signature (dief.pipeline, the CLI, tests)
    out_dir: str | Path,
    store: CaseStore,
    *,
    regions: Sequence[Region | str],
    k_meeting: int = 2,
    k_csp: int = 3,
    catalogue: Catalogue,
    start_month: int = DEFAULT_CYCLE_START_MONTH,
    lessons: Mapping[Region, Sequence[Lesson | CaseLesson] | None] | None = None,
    html: bool = True,
    docx: bool = True,
    summaries: Mapping[str, CspSummary] | None = None,
    digest_docx: bool = False,
    joint: bool = True,
    months_by_total: bool | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> OutputIndex:
    """Write every digest and CSP summary with data for *regions* under *out_dir*.

    *lessons* maps a region to its lessons (:func:`load_lessons`); the digests of a region
    not in it, or mapped to ``None``, note that lessons were omitted (no private key).
    *html* / *docx* turn those renderings off. *summaries* are summaries to write as given
    (the Secretariat's signed ones, by cycle) instead of building them from *store*.
    *digest_docx* also writes each CSP cycle's digest as a DOCX meeting paper
    (``digests/<REGION>/<CYCLE>.docx``, :func:`render_digest_docx`; off by default).

    *months_by_total* (with *joint*; default on, ``None``) publishes month digests with
    their totals and kind only (docs/digests.md, "Tables designed for the data");
    ``False`` lists every dimension in every month. *joint* (default) protects each region's
    digests and its rows of the summaries as one system (DESIGN §7); ``False`` protects
    each document type on its own (the design before, for comparisons and the tests that
    show the difference).

    The digests are an issue: every cell an earlier issue recorded in *store* as suppressed
    stays suppressed, and what this one lists is recorded
    (:meth:`RegionDigests.record`), so a later issue keeps the pattern, with the
    ``data_version`` each written digest states (:meth:`RegionDigests.record_delivered`).

    *progress* is called with (documents written, documents to write) after every region
    is read and after each document (a digest or a summary, in all its formats); a
    document none of whose files had to be rendered again counts as written
    (``OutputIndex.unchanged`` says how many).
    """
    base = Path(out_dir)
    files = OutputFiles(base)
    try:
        codes = [Region(r) for r in regions]
        # every region read first: the number of documents is then known
        loaded = await _load_regions(
            store,
            codes,
            k_meeting=k_meeting,
            start_month=start_month,
            k_csp=k_csp if joint else None,
            months_by_total=months_by_total,
        )
        write = _Writer(
            base, files, Ticker(progress, loaded.documents), catalogue, start_month, html=html
        )
        written = write.digests(loaded, lessons=lessons, docx=digest_docx)
        for source in loaded.digests.values():  # the versions the written digests state
            await source.record_delivered(store, source.periods)
        cycles = sorted({o.period for o in written if is_cycle(o.period)}, key=_cycle_number)
        written += await write.summaries(
            store,
            cycles,
            given=summaries or {},
            needs=loaded.needs,
            k=k_csp,
            regions=codes,
            docx=docx,
        )
        return OutputIndex(base, tuple(written), files.unchanged)
    finally:  # what was written is recorded, even if a later document failed
        files.manifest.save()


@dataclass(frozen=True, slots=True)
class _Writer:
    """Writes an issue's documents under *base* (a file only when it must be rendered
    again), ticking after each document."""

    base: Path
    files: OutputFiles
    tick: Ticker
    catalogue: Catalogue
    start_month: int
    html: bool

    def digests(
        self,
        loaded: _Loaded,
        *,
        lessons: Mapping[Region, Sequence[Lesson | CaseLesson] | None] | None,
        docx: bool,
    ) -> list[WrittenOutput]:
        """Every region's digests, region by region."""
        return [
            output
            for region, source in loaded.digests.items()
            for output in _write_region_digests(
                self.base / "digests" / region.value,
                source,
                region,
                catalogue=self.catalogue,
                start_month=self.start_month,
                lessons=lessons,
                html=self.html,
                docx=docx,
                tick=self.tick,
                files=self.files,
            )
        ]

    async def summaries(  # noqa: PLR0913  the summaries' options, each by name
        self,
        store: CaseStore,
        cycles: Sequence[str],
        *,
        given: Mapping[str, CspSummary],
        needs: Mapping[str, Mapping[Region, RowRequirement]],
        k: int,
        regions: Sequence[Region],
        docx: bool,
    ) -> list[WrittenOutput]:
        """Each cycle's summary in the order of *cycles*: the one *given*, else built
        from *store* (each region's rows as *needs* keeps them; the previous cycle's
        breaks ties)."""
        written: list[WrittenOutput] = []
        made: dict[str, CspSummary] = {}
        # what every summary draws on besides its cycle's cells (issue #15: a summary
        # whose inputs are all unchanged is read back, not built again)
        shared = fingerprint(
            self.files.context,
            repr(self.catalogue),
            repr((k, self.start_month, [r.value for r in regions], self.html, docx)),
        )
        read = [c for c in cycles if c not in given]
        cells = await summary_inputs(store, regions, read, start_month=self.start_month)
        prior = ""  # the inputs of the summary before (it breaks ties)
        for cycle in cycles:
            summary = given.get(cycle)
            if summary is not None:
                prior = self.files.content("summary", summary)
            else:
                inputs = fingerprint(
                    shared, cycle, cells[cycle], requirements_text(needs.get(cycle, {})), prior
                )
                prior = inputs  # (also what the summary built below is recorded with)
                folder = self.base / "summary"
                kept = kept_summary(
                    self.files, folder, cycle, inputs, html=self.html, docx=docx, text=_json_text
                )
                if kept is not None:
                    made[cycle] = kept[0]
                    written.append(
                        WrittenOutput("summary", None, cycle, *kept[1][:2], kept[2], *kept[1][2:])
                    )
                    self.tick()
                    continue
                summary = await _build_cycle_summary(
                    store,
                    cycle,
                    k=k,
                    catalogue=self.catalogue,
                    start_month=self.start_month,
                    regions=regions,
                    made=made,
                    rows=needs.get(cycle, {}),
                )
            made[cycle] = summary
            # a summary given is not one built from its inputs: nothing vouches for it
            self.files.manifest.forget_document(f"summary/{cycle}")
            output = _write_summary(
                self.base / "summary", cycle, summary, html=self.html, docx=docx, files=self.files
            )
            if cycle not in given:
                self.files.built(f"summary/{cycle}", prior, output.suppressed)
            written.append(output)
            self.tick()
        return written


async def _load_regions(  # noqa: PLR0913  keyword options passed through from write_outputs
    store: CaseStore,
    codes: Sequence[Region],
    *,
    k_meeting: int,
    start_month: int,
    k_csp: int | None,
    months_by_total: bool | None,
) -> _Loaded:
    """Each region's digests of this issue, and what each cycle's summary must keep of
    each region's rows."""
    needs: dict[str, dict[Region, RowRequirement]] = {}
    sources: dict[Region, RegionDigests] = {}
    for region in codes:
        source = sources[region] = await _load_region(
            store,
            region,
            k=k_meeting,
            start_month=start_month,
            k_csp=k_csp,
            months_by_total=months_by_total,
        )
        for cycle, need in source.pattern.rows.items():
            # with the row cells its route tables published, as its cycle digest sends
            # them (build_payload): the summary is checked against the receiving meetings
            routed = await routed_row_cells(store, region.value, cycle)
            needs.setdefault(cycle, {})[region] = replace(need, routed=routed)
    return _Loaded(sources, needs)


@dataclass(frozen=True, slots=True)
class _Loaded:
    """Every region read (the number of documents is then known)."""

    digests: dict[Region, RegionDigests]
    #: by cycle, then region: what the cycle's summary must keep of the region's rows
    needs: dict[str, dict[Region, RowRequirement]]

    @property
    def documents(self) -> int:
        """The digests of every region, and one summary per cycle with data."""
        sources = self.digests.values()
        total = sum(len(s.periods) for s in sources)
        return total + len({p for s in sources for p in s.periods if is_cycle(p)})


async def _load_region(  # noqa: PLR0913  keyword options passed through from write_outputs
    store: CaseStore,
    region: Region,
    *,
    k: int,
    start_month: int,
    k_csp: int | None,
    months_by_total: bool | None = None,
) -> RegionDigests:
    """Every cell of *region* and its dead letters, read once, with the issue recorded.

    One read serves all the region's digests (and the charts' series) with one suppression
    pattern for all of them (DESIGN §7): the directory costs O(cells), not
    O(digests x cells). The cells earlier issues suppressed stay suppressed (re-issue
    stability), and what this issue lists is recorded before any file is written.
    """
    source = await RegionDigests.load(
        store,
        region,
        k=k,
        start_month=start_month,
        earlier=await store.published_suppressions(region.value),
        k_csp=k_csp,
        months_by_total=months_by_total,
    )
    await source.record(store)
    return source
