"""Utility and build time of the protected documents (issue #15): one protected system
against each document protected on its own.

On a copy of an aggregator store (the ``dief demo`` store, or any ``dief run`` one), with
the record of earlier issues cleared (a first issue), writes every digest and summary
(JSON and Markdown) twice — ``write_outputs(joint=False)``, the documents protected one by
one as before, and ``joint=True``, one protected system — and reports for each:

* the utility figure per document type (``dief.audit.folder_utility``: the share of
  (case, dimension value) facts in published cells), cells and totals published;
* region-period totals with at least 2 contributors that are hidden, per period kind;
* the time ``write_outputs`` took.

    python3 -m uv run python -m bench.disclosure STORE.sqlite [--no-write]

Writes ``bench/results/disclosure.json`` and ``.md``. Long: a few minutes for the demo.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from dief.aggregator.store import CaseStore
from dief.audit import OwnCase, folder_utility
from dief.catalogue import load_catalogue
from dief.database import sqlite_url
from dief.disclosure import merge_rows
from dief.render import write_outputs
from dief.vocab import Region

RESULTS = Path(__file__).parent / "results"


async def _cases_and_totals(store: CaseStore, out: Path) -> tuple[list[OwnCase], dict[str, Any]]:
    cases: list[OwnCase] = []
    hidden: dict[str, list[int]] = {}
    for region in Region:
        cases.extend(
            OwnCase(region.value, case.month, case.tlp == "red", case.values)
            for case in await store.stored_cases(region.value)
            if case.status == "active"
        )
        periods = await store.periods_with_data(region.value)
        tallies = merge_rows(await store.cell_rows(region.value, periods, include_red=True))
        for period in periods:
            total = tallies.get(period, {}).get(("_total", "_all"))
            if total is None or total.contributors < 2:  # noqa: PLR2004  totals with at least 2 contributors: the figure issue #15 asks for
                continue
            doc = json.loads((out / "digests" / region.value / f"{period}.json").read_text())
            kind = "cycle" if period.startswith("CSP") else "quarter" if "-Q" in period else "month"
            row = hidden.setdefault(kind, [0, 0])
            row[1] += 1
            row[0] += doc["totals"]["cases"] is None
    return cases, {k: {"hidden": h, "of": n} for k, (h, n) in sorted(hidden.items())}


async def _one(source: Path, work: Path, *, joint: bool) -> dict[str, Any]:
    db = work / f"{'joint' if joint else 'apart'}.sqlite"
    shutil.copy(source, db)
    with sqlite3.connect(db) as conn:  # a first issue: no earlier record
        conn.execute("DELETE FROM digest_cells")
    out = work / f"out-{'joint' if joint else 'apart'}"
    async with CaseStore(sqlite_url(db)) as store:
        started = time.perf_counter()
        await write_outputs(
            out,
            store,
            regions=list(Region),
            catalogue=load_catalogue(),
            html=False,
            docx=False,
            joint=joint,
        )
        seconds = time.perf_counter() - started
        cases, totals = await _cases_and_totals(store, out)
    utility = folder_utility(out, cases, [r.value for r in Region])
    return {
        "joint": joint,
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


def _markdown(runs: list[dict[str, Any]], store: str) -> str:
    kinds = sorted({t for r in runs for t in r["utility"]})
    lines = [
        "# Disclosure control: utility and build time (issue #15)",
        "",
        f"Store: `{store}` (a copy, earlier issues' record cleared). JSON + Markdown only.",
        "",
        "| document type | " + " | ".join("joint" if r["joint"] else "apart" for r in runs) + " |",
        "|---|" + "---|" * len(runs),
    ]
    for kind in kinds:
        cells = [
            f"{r['utility'][kind]['share']:.1%}" if kind in r["utility"] else "-" for r in runs
        ]
        lines.append(f"| {kind} (facts published) | " + " | ".join(cells) + " |")
    for kind in ("month", "quarter", "cycle"):
        cells = [
            "{hidden}/{of}".format(**r["hidden_totals"][kind])
            if kind in r["hidden_totals"]
            else "-"
            for r in runs
        ]
        lines.append(f"| {kind} totals hidden (>= 2 contributors) | " + " | ".join(cells) + " |")
    lines.append(
        "| write_outputs (s) | " + " | ".join(str(r["write_outputs_seconds"]) for r in runs) + " |"
    )
    return "\n".join(lines) + "\n"


def main() -> None:
    """``python -m bench.disclosure STORE``: the cost of the disclosure pattern, as Markdown."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("store", type=Path)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        runs = [asyncio.run(_one(args.store, Path(tmp), joint=j)) for j in (False, True)]
    text = _markdown(runs, args.store.name)
    print(text)
    if not args.no_write:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "disclosure.json").write_text(json.dumps(runs, indent=2) + "\n")
        (RESULTS / "disclosure.md").write_text(text)


if __name__ == "__main__":
    main()
