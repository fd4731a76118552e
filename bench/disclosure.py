"""Utility and build time of the protected documents (issue #15): one protected system
against each document protected on its own.

On a copy of an aggregator store (the ``dief demo`` store, or any ``dief run`` one), or on
a synthetic forum built for the run (``--forum realistic``: about 40 cases per region and
year over three years, the volume of a real DIEF region; ``--forum demo``: 2,500 cases —
the two forums of ``tests/integration/test_utility.py``), with the record of earlier
issues cleared (a first issue), writes every digest and summary
(JSON and Markdown) twice — ``write_outputs(joint=False)``, the documents protected one by
one as before, and ``joint=True``, one protected system — and reports for each:

* the utility figure per document type (``dief.audit.folder_utility``: the share of
  (case, dimension value) facts in published cells), cells and totals published;
* region-period totals with at least 2 contributors that are hidden, per period kind;
* the time ``write_outputs`` took.

    python3 -m uv run python -m bench.disclosure STORE.sqlite [--no-write]
    python3 -m uv run python -m bench.disclosure --forum realistic [--regions AFR EEG]
        [--full-months] [--no-plan]

The joint documents are built with the default tables (months by total, totals planned;
docs/digests.md, "Tables designed for the data"); ``--full-months`` lists every dimension
in every month, ``--no-plan`` leaves out the totals plan
(``dief.disclosure._pattern.PLAN_TOTALS``): the defaults before session 13, to compare.

Writes ``bench/results/disclosure[-FORUM].json`` and ``.md``. Long: a few minutes for the
demo.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sqlite3
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from bench._forums import bulletin_facts, demo_forum, realistic_forum
from dief.aggregator.store import CaseStore
from dief.audit import (
    OwnCase,
    audit_baseline,
    bulletin_case,
    check_bulletin,
    folder_utility,
    load_reader,
)
from dief.catalogue import load_catalogue
from dief.database import sqlite_url
from dief.disclosure import _pattern, merge_rows
from dief.render import write_outputs
from dief.vocab import Region

RESULTS = Path(__file__).parent / "results"
#: the forums' last day (tests/integration/test_utility.py's)
TODAY = date(2026, 12, 1)
#: the least number of contributors of a total counted as "hidden with k contributors"
K_MEETING = 2


def _kind(period: str) -> str:
    if "-H" in period:
        return "half"
    return "cycle" if period.startswith("CSP") else "quarter" if "-Q" in period else "month"


async def _cases_and_totals(
    store: CaseStore, out: Path, regions: list[Region]
) -> tuple[list[OwnCase], dict[str, Any]]:
    cases: list[OwnCase] = []
    hidden: dict[str, list[int]] = {}
    for region in regions:
        cases.extend(
            OwnCase(region.value, case.month, case.tlp == "red", case.values)
            for case in await store.stored_cases(region.value)
            if case.status == "active"
        )
        periods = await store.periods_with_data(region.value)
        tallies = merge_rows(await store.cell_rows(region.value, periods, include_red=True))
        for period in periods:
            total = tallies.get(period, {}).get(("_total", "_all"))
            if total is None or total.contributors < K_MEETING:
                continue
            path = out / "digests" / region.value / f"{period}.json"
            row = hidden.setdefault(_kind(period), [0, 0])
            row[1] += 1
            row[0] += not path.is_file() or json.loads(path.read_text())["totals"]["cases"] is None
    return cases, {k: {"hidden": h, "of": n} for k, (h, n) in sorted(hidden.items())}


#: how many of a region's latest cases the bulletin release check is timed on
BULLETINS_TIMED = 10


def _bulletin_check(out: Path, cases: list[OwnCase], region: str) -> dict[str, Any]:
    """Seconds the bulletin release check takes on the documents in *out* (DESIGN §13): the
    reader's baseline once, then a check for each of the region's latest cases as a
    bulletin candidate (CPU-bound, wall seconds as the release rule sees them)."""
    started = time.perf_counter()
    base = audit_baseline(load_reader([out], region))
    baseline = time.perf_counter() - started
    latest = sorted((c for c in cases if c.region == region and not c.red), key=lambda c: c.month)[
        -BULLETINS_TIMED:
    ]
    seconds: list[float] = []
    answers: dict[str, int] = {}
    for case in latest:
        candidate = bulletin_case(bulletin_facts(case), region)
        if candidate is None:
            continue
        result = check_bulletin(base, candidate)
        seconds.append(result.seconds)
        answers[result.by] = answers.get(result.by, 0) + 1
    seconds.sort()
    return {
        "region": region,
        "baseline_s": round(baseline, 2),
        "checks": len(seconds),
        "median_s": round(seconds[len(seconds) // 2], 3) if seconds else None,
        "max_s": round(seconds[-1], 3) if seconds else None,
        "answered_by": answers,
    }


async def _forum_store(forum: str, work: Path, regions: list[Region]) -> Path:
    """A store holding the synthetic *forum*'s cases of *regions* (no issue yet)."""
    batches = realistic_forum(today=TODAY) if forum == "realistic" else demo_forum(today=TODAY)
    db = work / f"{forum}.sqlite"
    async with CaseStore(sqlite_url(db)) as store:
        for region in regions:
            facts = batches.get(region.value, [])
            for start in range(0, len(facts), 500):
                await store.apply_batch(region.value, facts[start : start + 500])
    return db


async def _one(
    source: Path,
    work: Path,
    *,
    joint: bool,
    regions: list[Region],
    months_by_total: bool | None = None,
) -> dict[str, Any]:
    db = work / f"{'joint' if joint else 'apart'}.sqlite"
    shutil.copy(source, db)
    with sqlite3.connect(db) as conn:  # a first issue: no earlier record
        conn.execute("DELETE FROM digest_cells")
        conn.execute("DELETE FROM issued_versions")
    out = work / f"out-{'joint' if joint else 'apart'}"
    async with CaseStore(sqlite_url(db)) as store:
        started = time.perf_counter()
        await write_outputs(
            out,
            store,
            regions=regions,
            catalogue=load_catalogue(),
            html=False,
            docx=False,
            joint=joint,
            months_by_total=months_by_total,
        )
        seconds = time.perf_counter() - started
        cases, totals = await _cases_and_totals(store, out, regions)
    utility = folder_utility(out, cases, [r.value for r in regions])
    bulletins = _bulletin_check(out, cases, regions[0].value) if joint else None
    return {
        "joint": joint,
        "bulletin_check": bulletins,
        "write_outputs_seconds": round(seconds, 1),
        "hidden_totals": totals,
        "utility": {
            t: {
                "share": round(u.share, 4),
                "facts": u.facts,
                "cells": [u.published_cells, u.cells],
                "totals": [u.published_totals, u.totals],
            }
            for t, u in utility.items()
        },
    }


def _markdown(runs: list[dict[str, Any]], source: str) -> str:
    kinds = sorted({t for r in runs for t in r["utility"]})
    lines = [
        "# Disclosure control: utility and build time (issue #15)",
        "",
        f"{source}; a first issue. JSON + Markdown only.",
        "",
        "| document type | " + " | ".join("joint" if r["joint"] else "apart" for r in runs) + " |",
        "|---|" + "---|" * len(runs),
    ]
    for kind in kinds:
        cells = [
            f"{r['utility'][kind]['share']:.1%}" if kind in r["utility"] else "-" for r in runs
        ]
        lines.append(f"| {kind} (facts published) | " + " | ".join(cells) + " |")
    for kind in ("month", "quarter", "half", "cycle"):
        cells = [
            "{hidden}/{of}".format(**r["hidden_totals"][kind])
            if kind in r["hidden_totals"]
            else "-"
            for r in runs
        ]
        lines.append(
            f"| {kind} totals hidden (>= {K_MEETING} contributors) | " + " | ".join(cells) + " |"
        )
    lines.append(
        "| write_outputs (s) | " + " | ".join(str(r["write_outputs_seconds"]) for r in runs) + " |"
    )
    for run in runs:
        check = run.get("bulletin_check")
        if check:
            lines += [
                "",
                (
                    f"Bulletin release check on the joint documents, {check['region']}: "
                    f"baseline {check['baseline_s']} s, then {check['checks']} candidates "
                    f"(the latest cases): median {check['median_s']} s, "
                    f"at most {check['max_s']} s; answered by {check['answered_by']}."
                ),
            ]
    return "\n".join(lines) + "\n"


def main() -> None:
    """``python -m bench.disclosure STORE`` or ``--forum realistic|demo``: utility and cost
    of the disclosure pattern, as Markdown."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("store", type=Path, nargs="?")
    parser.add_argument("--forum", choices=("realistic", "demo"))
    parser.add_argument("--regions", nargs="+", default=None, help="default: every region")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument(
        "--full-months", action="store_true", help="month digests list every dimension"
    )
    parser.add_argument(
        "--no-plan", action="store_true", help="no totals plan (_pattern.PLAN_TOTALS off)"
    )
    args = parser.parse_args()
    if args.no_plan:
        _pattern.PLAN_TOTALS = False
    if (args.store is None) == (args.forum is None):
        parser.error("give a store or --forum, not both")
    regions = [Region(r) for r in args.regions] if args.regions else list(Region)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.forum:
            source = asyncio.run(_forum_store(args.forum, work, regions))
            names = ", ".join(r.value for r in regions)
            what = f"Forum: `{args.forum}` (bench._forums), regions {names}"
        else:
            source, what = (
                args.store,
                f"Store: `{args.store.name}` (a copy, earlier issues' record cleared)",
            )
        runs = [
            asyncio.run(
                _one(
                    source,
                    work,
                    joint=j,
                    regions=regions,
                    months_by_total=False if args.full_months else None,
                )
            )
            for j in (False, True)
        ]
    if args.full_months:
        what += "; full months"
    if args.no_plan:
        what += "; no totals plan"
    text = _markdown(runs, what)
    print(text)
    if not args.no_write:
        name = f"disclosure-{args.forum}" if args.forum else "disclosure"
        name += "-full-months" if args.full_months else ""
        name += "-no-plan" if args.no_plan else ""
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / f"{name}.json").write_text(json.dumps(runs, indent=2) + "\n")
        (RESULTS / f"{name}.md").write_text(text)


if __name__ == "__main__":
    main()
