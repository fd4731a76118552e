"""The joint protection's cost against the length of history (issue #15, incremental cost).

The same synthetic cases (``dief.synthetic.generate_cases``, one seed) are spread over 2
and over 10 years into two SQLite stores. For each, and for each way of computing the
pattern (``pieces``: the default, a first issue built cycle by cycle and a re-issue
re-protecting only the piece new data affects; ``whole``: the region's whole system every
time, :func:`dief.disclosure.whole_system`, the baseline of the same run):

* ``full``: a first issue — every region's pattern (``RegionDigests.load``) and its digests
  and summaries written (``write_outputs``, JSON + Markdown + HTML), the record kept;
* ``reissue``: one new case in the latest month of one region, then that region's issue
  again (its pattern with the record, and every digest of it written, unchanged files
  left alone).

Seconds are wall-clock and CPU (``time.process_time``) on this machine, which other work
shares: compare the columns of one run, not runs.

    python3 -m uv run python -m bench.disclosure_cost [--cases 1000] [--years 2 10]

Writes ``bench/results/disclosure_cost-<cases>.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from dief.aggregator import CaseFacts, case_values
from dief.aggregator.store import CaseStore
from dief.catalogue import load_catalogue
from dief.database import sqlite_url
from dief.disclosure import whole_system
from dief.disclosure._memo import clear_patterns
from dief.render import write_outputs
from dief.synthetic import generate_cases
from dief.vocab import Region
from dief.wire import CaseRecord, parse_case

RESULTS = Path(__file__).parent / "results"
TODAY = date(2026, 10, 15)
CATALOGUE = load_catalogue()


def _facts(record: CaseRecord, raw: bytes) -> CaseFacts:
    return CaseFacts(
        record_id=str(uuid.uuid4()),
        case_id=str(record.case_id),
        revision=record.revision,
        region=str(record.region),
        status=str(record.status),
        contributor=record.contributor,
        owner_key=record.owner_key,
        month=record.detected_month,
        cycle=record.cycle,
        tlp=str(record.tlp),
        values=case_values(record),
        sealed=raw,
    )


def batches(n: int, *, years: int, seed: int = 17) -> dict[str, list[CaseFacts]]:
    """region → facts of *n* synthetic cases over *years* years up to :data:`TODAY`."""
    from tests.unit.record_helpers import signed_record  # bench only: a node's signing

    first = date(TODAY.year - years, TODAY.month, 1)
    indexes: dict[str, int] = {}
    revisions: dict[str, int] = {}
    out: dict[str, list[CaseFacts]] = defaultdict(list)
    lines = generate_cases(
        n, seed=seed, indicator_ids=CATALOGUE.ids, today=TODAY, first_month=first
    )
    for line in lines:
        doc = dict(line.document)
        state = str(doc.pop("submitted_by"))
        case = parse_case(doc, today=TODAY)
        case_id = str(case.case_id)
        revision = case.revision or revisions.get(case_id, 0) + 1
        revisions[case_id] = revision
        index = indexes.setdefault(case_id, len(indexes))
        secret = hashlib.sha256(state.encode()).digest()
        record = signed_record(case, secret=secret, index=index, revision=revision)
        out[str(record.region)].append(_facts(record, record.to_json()))
    return out


@contextlib.contextmanager
def _timer(into: dict[str, Any], name: str) -> Iterator[None]:
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    into[name] = {
        "wall": round(time.perf_counter() - wall, 2),
        "cpu": round(time.process_time() - cpu, 2),
    }


def _mode(whole: bool) -> contextlib.AbstractContextManager[None]:
    return whole_system() if whole else contextlib.nullcontext()


async def _run(facts: dict[str, list[CaseFacts]], work: Path, *, whole: bool) -> dict[str, Any]:
    clear_patterns()
    held = {region: list(items) for region, items in facts.items()}
    region = max(held, key=lambda r: len(held[r]))
    extra = held[region].pop()  # the "new case" of the re-issue
    out: dict[str, Any] = {"region": region}
    async with CaseStore(sqlite_url(work / f"{'whole' if whole else 'pieces'}.db")) as store:
        for code, items in held.items():
            for start in range(0, len(items), 500):
                await store.apply_batch(code, items[start : start + 500])
        docs = work / f"out-{'whole' if whole else 'pieces'}"
        with _mode(whole), _timer(out, "full"):
            index = await write_outputs(
                docs, store, regions=list(Region), catalogue=CATALOGUE, docx=False
            )
        out["documents"] = len(index.outputs)
        out["periods"] = len(await store.periods_with_data(region))
        await store.apply_batch(region, [extra])
        with _mode(whole), _timer(out, "reissue"):
            await write_outputs(docs, store, regions=[region], catalogue=CATALOGUE, docx=False)
    return out


def _markdown(runs: list[dict[str, Any]], cases: int) -> str:
    lines = [
        "# Joint protection: cost against history (issue #15)",
        "",
        f"{cases} synthetic cases (seed 17) over 2 and 10 years; SQLite; JSON, Markdown,"
        " HTML. `full`: every region's first issue (`write_outputs`); `reissue`: one new"
        " case, then its region's issue again. Wall / CPU seconds, one run, shared machine.",
        "",
        "| years | pattern | periods | full wall | full CPU | re-issue wall | re-issue CPU |",
        "|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        lines.append(
            f"| {run['years']} | {'whole' if run['whole'] else 'pieces'} | {run['periods']}"
            f" ({run['region']}) | {run['full']['wall']} | {run['full']['cpu']}"
            f" | {run['reissue']['wall']} | {run['reissue']['cpu']} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--years", type=int, nargs="+", default=[2, 10])
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    runs = []
    for years in args.years:
        facts = batches(args.cases, years=years)
        for whole in (True, False):
            with tempfile.TemporaryDirectory() as tmp:
                run = asyncio.run(_run(facts, Path(tmp), whole=whole))
            run.update(years=years, whole=whole)
            print(run, flush=True)
            runs.append(run)
    text = _markdown(runs, args.cases)
    print(text)
    if not args.no_write:
        RESULTS.mkdir(exist_ok=True)
        name = f"disclosure_cost-{args.cases}"
        (RESULTS / f"{name}.json").write_text(json.dumps(runs, indent=2) + "\n")
        (RESULTS / f"{name}.md").write_text(text)


if __name__ == "__main__":
    main()
