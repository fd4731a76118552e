"""The cost of an issue against the length of history (issue #15, incremental cost).

Synthetic cases are spread over 2 and over 10 years into SQLite stores: either the same
*n* cases (``dief.synthetic.generate_cases``, one seed) over each length, or, with
``--realistic``, the realistic forum's volume (``dief.synthetic.realistic_cases``: about
40 cases per region and year, so 5x the cases over 10 years as over 2). For each length:

* ``full``: a first issue — every region's pattern and its digests and summaries written
  (``write_outputs``, JSON + Markdown + HTML + CSV, then ``write_index`` as ``dief run``
  does) into an empty folder;
* ``reissue``: one new case (the latest new case of the busiest region, held back), then
  that region's issue again into the same folder (``after``: unchanged documents are not
  rendered, ``.dief/manifest.json``), and the same re-issue from a copy of the store into
  a copy of the folder without its manifest (``before``: every document rendered, as
  before the manifest). The region's issue is its aggregator's work: its pattern and its
  digests, with the CSP summaries given (the first issue's, as ``dief run`` writes the
  Secretariat's signed ones). Built by ``write_outputs`` for one region, every summary
  would be built again with that region's row alone: not the Secretariat's work.
* ``summary``: the Secretariat's part of the re-issue, timed apart: the summary of the new
  case's cycle built again (``build_summary``, every region's rows as their first issue
  sent them and the re-issued region's new ones, the published issue as ``previous``).

Each run's CPU seconds (``time.process_time``; wall-clock beside) are split into the
pattern (``RegionDigests.load`` with its store reads and record), digest building, the
charts' series, summary building, rendering (JSON, Markdown, HTML + SVG, CSV, DOCX) and
the index; ``other`` is the rest (file comparison and writes, the manifest). The machine is
shared: compare the columns of one run (the load average is written beside them).

    python3 -m uv run python -m bench.disclosure_cost [--cases 600] [--years 2 10]
        [--realistic] [--regions AFR ...] [--no-prune] [--repeat 3]

Writes ``bench/results/disclosure_cost-<cases|realistic>.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dief.aggregator.store import CaseStore
from dief.catalogue import load_catalogue
from dief.database import sqlite_url
from dief.digests import RegionDigests
from dief.disclosure import _pattern, _prune, whole_system
from dief.disclosure._memo import clear_patterns
from dief.periods import DEFAULT_CYCLE_START_MONTH, CspCycle, Month
from dief.render import _digest_files, _output, _summary_files, write_index, write_outputs
from dief.render._changed import MANIFEST
from dief.secretariat import build_summary
from dief.synthetic import generate_cases, realistic_cases
from dief.vocab import Region
from tests.unit.record_helpers import signed_facts

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Generator

    from dief.aggregator import CaseFacts
    from dief.disclosure import RowRequirement
    from dief.wire import CspSummary

RESULTS = Path(__file__).parent / "results"
TODAY = date(2026, 10, 15)
CATALOGUE = load_catalogue()
#: the parts of an issue's CPU time (see the module's docstring)
PARTS = ("pattern", "digests", "series", "summaries", "render", "index", "other")
_RENDERERS = (
    "dump_json",
    "render_digest_markdown",
    "render_digest_annex",
    "render_digest_html",
    "render_digest_docx",
    "render_summary_markdown",
    "render_summary_annex",
    "render_summary_html",
    "render_summary_docx",
)


def batches(n: int, *, years: int, seed: int = 17) -> dict[str, list[CaseFacts]]:
    """Map each region to the facts of *n* synthetic cases over *years* years up to
    :data:`TODAY`."""
    first = date(TODAY.year - years, TODAY.month, 1)
    return signed_facts(
        generate_cases(n, seed=seed, indicator_ids=CATALOGUE.ids, today=TODAY, first_month=first),
        today=TODAY,
    )


def realistic_batches(*, years: int) -> dict[str, list[CaseFacts]]:
    """Map each region to the facts of the realistic forum over *years* years (about 40
    cases per region and year, 8 % revisions)."""
    return signed_facts(
        realistic_cases(indicator_ids=CATALOGUE.ids, today=TODAY, years=years), today=TODAY
    )


class _Split:
    """CPU seconds per part of an issue, from wrappers around ``write_outputs``' steps."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def sync(self, part: str, call: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:  # noqa: ANN401  wraps any step
            start = time.process_time()
            try:
                return call(*args, **kwargs)
            finally:
                self.seconds[part] += time.process_time() - start
                self.calls[part] += 1

        return timed

    def coro(self, part: str, call: Callable[..., Awaitable[Any]]) -> Callable[..., Any]:
        async def timed(*args: Any, **kwargs: Any) -> Any:  # noqa: ANN401  any step
            start = time.process_time()
            try:
                return await call(*args, **kwargs)
            finally:
                self.seconds[part] += time.process_time() - start

        return timed

    @contextlib.contextmanager
    def installed(self) -> Generator[None]:
        patches: list[tuple[Any, str, Any]] = [
            (_output, "_load_region", self.coro("pattern", _output._load_region)),
            (
                _output,
                "_build_cycle_summary",
                self.coro("summaries", _summary_files._build_cycle_summary),
            ),
            (RegionDigests, "digest", self.sync("digests", RegionDigests.digest)),
            (RegionDigests, "series", self.sync("series", RegionDigests.series)),
        ]
        # each renderer where the issue calls it (a region's digest files, a summary's)
        patches += [
            (module, n, self.sync("render", getattr(module, n)))
            for module in (_digest_files, _summary_files)
            for n in _RENDERERS
            if hasattr(module, n)
        ]
        saved = [(owner, name, getattr(owner, name)) for owner, name, _ in patches]
        for owner, name, new in patches:
            setattr(owner, name, new)
        try:
            yield
        finally:
            for owner, name, old in saved:
                setattr(owner, name, old)


#: whether this run's month digests list their totals and kind only (default: the tables'
#: default, months by total; ``--full-months``: every dimension)
MONTHS_BY_TOTAL: list[bool | None] = [None]


class _Seen:
    """What an issue sent the Secretariat (each cycle's rows, by region) and the summaries
    it wrote, read off ``write_outputs``' steps."""

    def __init__(self) -> None:
        self.needs: dict[str, dict[Region, RowRequirement]] = defaultdict(dict)
        self.summaries: dict[str, CspSummary] = {}

    @contextlib.contextmanager
    def installed(self) -> Generator[None]:
        # write_outputs' own names for its steps (the summary writer is imported there)
        load, write = _output._load_regions, getattr(_output, "_write_summary")  # noqa: B009  not exported

        async def loaded(*args: Any, **kwargs: Any) -> Any:  # noqa: ANN401  wraps the step
            out = await load(*args, **kwargs)
            for cycle, rows in out.needs.items():
                self.needs[cycle].update(rows)
            return out

        def written(folder: Path, cycle: str, summary: CspSummary, **kwargs: Any) -> Any:  # noqa: ANN401  wraps the step
            self.summaries[cycle] = summary
            return write(folder, cycle, summary, **kwargs)

        saved = {"_load_regions": load, "_write_summary": write}
        for name, spy in (("_load_regions", loaded), ("_write_summary", written)):
            setattr(_output, name, spy)
        try:
            yield
        finally:
            for name, step in saved.items():
                setattr(_output, name, step)


async def _issue(
    out: Path,
    store: CaseStore,
    regions: list[Region],
    *,
    seen: _Seen | None = None,
    summaries: dict[str, CspSummary] | None = None,
) -> dict[str, Any]:
    """One issue of *regions* into *out* (``write_outputs``, then ``write_index``), timed;
    *summaries* given (written as they are), what it sent and wrote into *seen*."""
    split = _Split()
    wall, cpu = time.perf_counter(), time.process_time()
    with split.installed(), (seen or _Seen()).installed():
        index = await write_outputs(
            out,
            store,
            regions=regions,
            catalogue=CATALOGUE,
            docx=False,
            months_by_total=MONTHS_BY_TOTAL[0],
            summaries=summaries,
        )
        start = time.process_time()
        write_index(index)
        split.seconds["index"] += time.process_time() - start
    total = time.process_time() - cpu
    parts = {p: round(split.seconds.get(p, 0.0), 2) for p in PARTS if p != "other"}
    parts["other"] = round(total - sum(split.seconds.values()), 2)
    return {
        "wall": round(time.perf_counter() - wall, 2),
        "cpu": round(total, 2),
        "parts": parts,
        "documents": len(index.outputs),
        "unchanged": index.unchanged,
        "rendered_calls": split.calls.get("render", 0),
        # digests built (the rest reused from the earlier issue's files, issue #15)
        "digests_built": split.calls.get("digests", 0),
    }


def _newest_case(items: list[CaseFacts]) -> CaseFacts:
    """The latest-month case of *items* that has only one version (a new case)."""
    versions: dict[str, int] = defaultdict(int)
    for facts in items:
        versions[facts.case_id] += 1
    single = [f for f in items if versions[f.case_id] == 1]
    return max(single, key=lambda f: f.month)


async def _summary(store: CaseStore, cycle: str, seen: _Seen, again: _Seen) -> dict[str, Any]:
    """The Secretariat's summary of *cycle* built again after a region's re-issue: every
    region's rows as *seen* (the first issue) sent them, the re-issued region's as *again*
    sent them; the summary *seen* wrote is the published issue. Timed."""
    rows = {**seen.needs.get(cycle, {}), **again.needs.get(cycle, {})}
    number = int(cycle[3:])
    wall, cpu = time.perf_counter(), time.process_time()
    await build_summary(
        store,
        cycle,
        k=3,
        catalogue=CATALOGUE,
        regions=list(Region),
        previous=seen.summaries.get(cycle),
        prior_cycle=seen.summaries.get(f"CSP{number - 1}"),
        rows=rows,
    )
    return {
        "wall": round(time.perf_counter() - wall, 2),
        "cpu": round(time.process_time() - cpu, 2),
    }


def _copy_store(source: Path, target: Path) -> None:
    """A consistent copy of an SQLite store that is open (the backup API)."""
    with (
        contextlib.closing(sqlite3.connect(source)) as src,
        contextlib.closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)


async def _run(
    facts: dict[str, list[CaseFacts]], work: Path, *, regions: list[Region]
) -> dict[str, Any]:
    clear_patterns()
    held = {r.value: list(facts.get(r.value, [])) for r in regions}
    region = max(held, key=lambda r: len(held[r]))
    extra = _newest_case(held[region])
    held[region].remove(extra)
    out: dict[str, Any] = {"region": region, "cases": sum(len(v) for v in held.values()) + 1}
    db, docs = work / "after.db", work / "after"
    async with CaseStore(sqlite_url(db)) as store:
        for code, items in held.items():
            for start in range(0, len(items), 500):
                await store.apply_batch(code, items[start : start + 500])
        out["load_before"] = os.getloadavg()[0]
        seen, again = _Seen(), _Seen()
        out["full"] = await _issue(docs, store, regions, seen=seen)
        out["periods"] = len(await store.periods_with_data(region))
        await store.apply_batch(region, [extra])
        _copy_store(db, work / "before.db")
        shutil.copytree(docs, work / "before")
        (work / "before" / MANIFEST).unlink()
        clear_patterns()
        given = dict(seen.summaries)
        out["reissue"] = await _issue(docs, store, [Region(region)], seen=again, summaries=given)
        cycle = str(CspCycle.of(Month.parse(extra.month), start_month=DEFAULT_CYCLE_START_MONTH))
        out["summary"] = await _summary(store, cycle, seen, again)
    clear_patterns()
    async with CaseStore(sqlite_url(work / "before.db")) as store:
        out["reissue_before"] = await _issue(
            work / "before", store, [Region(region)], summaries=given
        )
    out["load_after"] = os.getloadavg()[0]
    return out


def _markdown(runs: list[dict[str, Any]], title: str) -> str:
    lines = [
        "# The cost of an issue against the length of history (issue #15)",
        "",
        (
            f"{title}; SQLite; JSON, Markdown, HTML, CSV and index.html. `full`: every"
            " region's first issue into an empty folder; `re-issue`: one new case, then its"
            " region's issue again, the summaries given (its aggregator's work) — `before`"
            " renders every document (no manifest), `after` renders only documents whose"
            " inputs changed; `summary`: the Secretariat's summary of that case's cycle"
            " built again with every region's rows. CPU seconds (wall in brackets),"
            " shared machine (load average at the start and end of each run); with"
            " ``--repeat``, the lengths are run in turn, round after round, so each round's"
            " ratio compares runs made under about the same load."
        ),
        "",
        (
            "| years | run | cases | periods (region) | load | full | re-issue before"
            " | re-issue after | after: pattern | after: rest | before: rest"
            " | documents (unchanged after) | digests built after | summary |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        full, before, after = run["full"], run["reissue_before"], run["reissue"]
        summary = run.get("summary", {"cpu": "-", "wall": "-"})
        rest_after = round(after["cpu"] - after["parts"]["pattern"], 2)
        rest_before = round(before["cpu"] - before["parts"]["pattern"], 2)
        lines.append(
            f"| {run['years']} | {run.get('run', 1)} | {run['cases']}"
            f" | {run['periods']} ({run['region']})"
            f" | {run['load_before']:.1f} to {run['load_after']:.1f}"
            f" | {full['cpu']} ({full['wall']}) | {before['cpu']} ({before['wall']})"
            f" | {after['cpu']} ({after['wall']}) | {after['parts']['pattern']}"
            f" | {rest_after} | {rest_before}"
            f" | {after['documents']} ({after['unchanged']})"
            f" | {after.get('digests_built', '-')}"
            f" | {summary['cpu']} ({summary['wall']}) |"
        )
    lines += _ratios(runs)
    lines += ["", "CPU seconds by part:", ""]
    lines.append("| years | run | issue | " + " | ".join(PARTS) + " |")
    lines.append("|---|---|---|" + "---|" * len(PARTS))
    for run in runs:
        for name in ("full", "reissue_before", "reissue"):
            parts = run[name]["parts"]
            label = {"full": "full", "reissue_before": "re-issue before", "reissue": "re-issue"}
            lines.append(
                f"| {run['years']} | {run.get('run', 1)} | {label[name]} | "
                + " | ".join(str(parts[p]) for p in PARTS)
                + " |"
            )
    return "\n".join(lines) + "\n"


def _ratios(runs: list[dict[str, Any]]) -> list[str]:
    """The full build's CPU seconds at the last length against the first: per round (the
    lengths run in turn, so a round's two runs share about the same load), and of the
    median and the least of each length's runs (noise on a shared machine only adds)."""
    full = {(run["years"], run.get("run", 1)): run["full"]["cpu"] for run in runs}
    lengths = sorted({years for years, _ in full})
    if len(lengths) < 2:  # noqa: PLR2004  a ratio needs two lengths
        return []
    first, last = lengths[0], lengths[-1]
    of = {y: [cpu for (years, _), cpu in full.items() if years == y] for y in (first, last)}
    rounds = sorted({n for _, n in full})
    paired = [
        full[last, n] / max(full[first, n], 0.01)
        for n in rounds
        if (first, n) in full and (last, n) in full
    ]
    median = statistics.median(of[last]) / max(statistics.median(of[first]), 0.01)
    least = min(of[last]) / max(min(of[first]), 0.01)
    cases = {run["years"]: run["cases"] for run in runs}
    documents = {run["years"]: run["full"]["documents"] for run in runs}
    per_document = median * documents[first] / max(documents[last], 1)
    return [
        "",
        (
            f"Full build, {last} years against {first} ({cases[last]} cases against"
            f" {cases[first]}): {median:.2f}x (medians of {len(of[last])} and"
            f" {len(of[first])} runs), {least:.2f}x (least of each); by round: "
            + ", ".join(f"{r:.2f}x" for r in paired)
            + "."
        ),
        "",
        (
            f"Per document written ({documents[last]} documents against"
            f' {documents[first]}; docs/digests.md, "The full build\'s bound"):'
            f" {per_document:.2f}x (medians)."
        ),
    ]


def _warm_up() -> None:
    """One small issue first, so the first measured one does not pay the imports (SciPy,
    the templates) that every later one is spared."""
    facts = batches(60, years=1, seed=5)
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(
            _run(facts, Path(tmp), regions=[Region(max(facts, key=lambda r: len(facts[r])))])
        )


def main() -> None:
    """Run the bench for each length of history and write its results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=600)
    parser.add_argument("--years", type=int, nargs="+", default=[2, 10])
    parser.add_argument("--realistic", action="store_true", help="realistic_cases' volume")
    parser.add_argument("--regions", nargs="+", default=[r.value for r in Region])
    parser.add_argument("--whole", action="store_true", help="whole_system() patterns")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of every length, run in turn")
    parser.add_argument(
        "--no-prune",
        dest="prune",
        action="store_false",
        help="first issues not pruned (PRUNE_BY_DEFAULT off; the default before session 16)",
    )
    parser.add_argument(
        "--full-months",
        action="store_true",
        help="month digests list every dimension (the default before session 13)",
    )
    parser.add_argument(
        "--no-plan", action="store_true", help="no totals plan (_pattern.PLAN_TOTALS off)"
    )
    args = parser.parse_args()
    _prune.PRUNE_BY_DEFAULT = args.prune
    if args.no_plan:
        _pattern.PLAN_TOTALS = False
    MONTHS_BY_TOTAL[0] = False if args.full_months else None
    regions = [Region(r) for r in args.regions]
    runs = []
    _warm_up()
    for round_ in range(1, args.repeat + 1):
        for years in args.years:
            facts = (
                realistic_batches(years=years)
                if args.realistic
                else batches(args.cases, years=years)
            )
            with tempfile.TemporaryDirectory() as tmp:
                mode = whole_system() if args.whole else contextlib.nullcontext()
                with mode:
                    run = asyncio.run(_run(facts, Path(tmp), regions=regions))
            run.update(years=years, run=round_, whole=args.whole, prune=args.prune)
            print(json.dumps(run), flush=True)
            runs.append(run)
    name = "realistic" if args.realistic else str(args.cases)
    name += "" if args.prune else "-unpruned"
    name += ("-full-months" if args.full_months else "") + ("-no-plan" if args.no_plan else "")
    title = (
        "The realistic forum (`realistic_cases`, about 40 cases per region and year)"
        if args.realistic
        else f"{args.cases} synthetic cases (seed 17) over each length"
    )
    if not args.prune:
        title += ", first issues not pruned"
    if args.full_months:
        title += ", full months"
    if args.no_plan:
        title += ", no totals plan"
    if len(regions) < len(Region):
        title += ", regions " + ", ".join(r.value for r in regions)
    text = _markdown(runs, title)
    print(text)
    if not args.no_write:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / f"disclosure_cost-{name}.json").write_text(json.dumps(runs, indent=2) + "\n")
        (RESULTS / f"disclosure_cost-{name}.md").write_text(text)


if __name__ == "__main__":
    main()
