"""``python -m bench``: the pipeline against a bare aiokafka baseline, in one run.

    uv run python -m bench                      # the full run (~10 min here), SQLite
    uv run python -m bench --postgres           # the same on PostgreSQL (127.0.0.1:5432)
    uv run python -m bench --quick              # 10k cases, smaller RSS and digest sizes
    uv run python -m bench --profile            # also pyinstrument profiles of both sides
    uv run python -m bench --chaos              # 100k cases, 10k hostile records, SIGKILLs
                                                # and a PostgreSQL restart (~4 min; not in CI)
    uv run python -m bench --kafka              # pipeline and baseline on Apache Kafka (a
                                                # one-broker dief.kafka_cluster per phase)

Phases (each on a fresh embedded broker and a fresh database):

1. pipeline — N synthetic cases posted by simulated national nodes (validate, screen,
   generalise, seal, outbox, relay) and applied by the aggregator (``register_aggregators``
   in a child process: open, validate, apply, store, cells, commit); per-stage rates;
2. baseline — the very records the pipeline published (same topics, keys, sizes),
   produced with bare aiokafka with the same producer settings and batches, and consumed
   by bare aiokafka consumers with the same ``getmany`` batching and a commit per batch;
3. latency — cases offered at a fixed rate (default 1,000/s), post → applied p50/p99;
4. rss — the aggregator's peak RSS (VmHWM) while it applies 100k records to an empty store;
5. digests — digest and summary generation time at 10k / 100k / 1M stored cases (the store
   filled through ``CaseStore.apply_batch``), then the aggregator's peak RSS again while it
   applies 100k records on top of the 1M-case store.

Results: ``bench/results/pipeline[-postgresql][-quick].json`` and ``.md``.

``--chaos`` runs instead the chaos phase (:mod:`bench._chaos`): N synthetic cases posted by
the simulated nodes and about 10,000 hostile records (tests/integration/hostile.py, every
class) published raw among them; ``dief aggregate --all`` (the console script, a child
process) applies them into a throw-away PostgreSQL cluster while it is SIGKILLed at least
10 times at spread-out points of progress and restarted, and the server is restarted once;
then cells, outcomes and dead-letter counts are checked against the plain input, and the
time per hostile record is measured in-process. Results: ``bench/results/chaos[-quick].json``
and ``.md``; the process exits 1 if a check failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING

from bench._common import ROOT, Forum, cycles_of, machine, recreate_postgres
from bench._digests import digest_timings
from bench._fabricate import RecordPool
from bench._nodes import InputLine
from bench._phases import Options, baseline_phase, latency_phase, pipeline_phase, rss_phase
from bench._report import markdown
from dief.catalogue import load_catalogue
from dief.synthetic import generate_cases

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

#: The digest store's ``cases.sealed`` stand-in: digests read cell counts only, and 3 KB
#: envelopes would make the 1M-case fill write 3 GB for nothing.
STAND_IN_SEALED = b"\x00" * 64

#: Synthetic cases the RSS and digest phases' record pool is made from.
POOL_SIZE = 5000

DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/dief_bench"


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--cases", type=int, default=100_000, help="pipeline cases (100,000)")
    p.add_argument(
        "--quick",
        action="store_true",
        help="10k cases, 10 s of latency, RSS over 20k records, digests at 1k/10k/100k",
    )
    p.add_argument(
        "--postgres",
        nargs="?",
        const=DEFAULT_POSTGRES,
        default=None,
        metavar="URL",
        help=f"PostgreSQL instead of SQLite (default {DEFAULT_POSTGRES};"
        " the database is dropped and created)",
    )
    p.add_argument("--rate", type=float, default=1000.0, help="offered cases/s (1,000)")
    p.add_argument("--latency-seconds", type=float, default=30.0)
    p.add_argument(
        "--tick-ms",
        type=float,
        default=10.0,
        help="latency run: each node posts the cases due every TICK ms (10)",
    )
    p.add_argument(
        "--rss-records",
        type=int,
        default=100_000,
        help="records the aggregator applies for the RSS figures, to an empty store and "
        "again to the largest digest store (100,000)",
    )
    p.add_argument("--digest-sizes", default="10000,100000,1000000")
    p.add_argument("--phases", default=None, help="default: all (--kafka: pipeline,baseline)")
    p.add_argument(
        "--kafka",
        action="store_true",
        help="the phases on Apache Kafka (SASL_SSL, ACLs, idempotent producers; the "
        "jars of deploy/kafka/pom.xml, see ./scripts/install) instead of the embedded broker",
    )
    p.add_argument(
        "--profile",
        action="store_true",
        help="pyinstrument profiles of the pipeline's node and aggregator processes (slower)",
    )
    chaos = p.add_argument_group("chaos (--chaos)")
    chaos.add_argument(
        "--chaos",
        action="store_true",
        help="the chaos run instead of the pipeline phases (PostgreSQL binaries needed; "
        "always a throw-away cluster of its own, whatever --postgres says)",
    )
    chaos.add_argument("--hostile", type=int, default=10_000, help="hostile records (10,000)")
    chaos.add_argument("--kills", type=int, default=12, help="SIGKILLs of the aggregator (12)")
    chaos.add_argument(
        "--chaos-max-batch",
        type=int,
        default=None,
        help="DIEF_MAX_BATCH of the aggregator (its default, 2,000; --quick: 200)",
    )
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    args = p.parse_args(argv)
    if args.phases is None:
        args.phases = "pipeline,baseline" if args.kafka else "pipeline,baseline,latency,rss,digests"
    if args.kills < 1:
        p.error("--kills must be at least 1")
    if args.quick:
        args.cases = min(args.cases, 10_000)
        args.hostile = min(args.hostile, 1_000)
        if args.chaos_max_batch is None:
            args.chaos_max_batch = 200
        args.latency_seconds = min(args.latency_seconds, 10.0)
        args.rss_records = min(args.rss_records, 20_000)
        if args.digest_sizes == p.get_default("digest_sizes"):
            args.digest_sizes = "1000,10000,100000"
    return args


def _lines(n: int, seed: int, ids: list[str], today: date) -> list[InputLine]:
    out = []
    for number, case in enumerate(
        generate_cases(n, seed=seed, indicator_ids=ids, today=today), start=1
    ):
        doc = case.document
        out.append(
            InputLine(
                number, str(doc["submitted_by"]), json.dumps(doc, ensure_ascii=False).encode()
            )
        )
    return out


def _warmup(seed: int, ids: list[str], today: date) -> list[InputLine]:
    """One first-version case per region, from a set of its own (distinct case ids)."""
    seen: set[str] = set()
    out = []
    for line in _lines(200, seed + 1000, ids, today):
        doc = json.loads(line.raw)
        if doc["region"] not in seen and doc["revision"] == 1 and not doc["related_regions"]:
            seen.add(doc["region"])
            out.append(InputLine(0, line.state, line.raw))
    return out


async def _options(  # noqa: PLR0913, PLR0917  the phase's inputs, passed by the bench driver
    args: argparse.Namespace,
    work: Path,
    today: date,
    version: str,
    log: Callable[[str], None],
    result: dict[str, object],
    documents: Iterable[Mapping[str, object]],
) -> Options:
    """The run's options and its simulated forum: a node per State of *documents*, with a
    token for every region of each cycle its cases fall in (not timed: a forum is set up
    once, and nodes hold their tokens before they post)."""
    t = time.monotonic()
    forum = await Forum.create(work / "keys", cycles_of(documents))
    setup = round(time.monotonic() - t, 1)
    log(f"forum: {len(forum.states())} simulated nodes and their tokens ({setup} s)")
    result["forum_setup_seconds"] = setup
    return Options(
        work=work,
        results=args.out,
        forum=forum,
        catalogue_version=version,
        today=today,
        postgres=args.postgres,
        profile=args.profile,
        log=log,
        kafka=args.kafka,
    )


async def _run(args: argparse.Namespace) -> dict[str, object]:  # noqa: PLR0915, PLR0914, C901  one measured procedure: its steps in the order they are timed
    phases = {p.strip() for p in args.phases.split(",") if p.strip()}
    catalogue = load_catalogue()
    ids = list(catalogue.ids)
    today = datetime.now(UTC).date()
    work = Path(tempfile.mkdtemp(prefix="dief-bench-"))
    args.out.mkdir(parents=True, exist_ok=True)

    def log(text: str) -> None:
        print(text, flush=True)

    started = time.monotonic()
    result: dict[str, object] = {
        "benchmark": "pipeline",
        "command": "uv run python -m bench " + " ".join(sys.argv[1:]),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": "postgresql" if args.postgres else "sqlite",
        "machine": machine(kafka=args.kafka),
        "settings": {
            "cases": args.cases,
            "offered_rate": args.rate,
            "latency_seconds": args.latency_seconds,
            "tick_ms": args.tick_ms,
            "rss_records": args.rss_records,
            "digest_sizes": args.digest_sizes,
            "seed": args.seed,
            "profile": args.profile,
        },
    }
    try:
        warmup = _warmup(args.seed, ids, today)
        run_pipeline = "pipeline" in phases or "baseline" in phases
        lines = _lines(args.cases, args.seed, ids, today) if run_pipeline else []
        n_latency = int(args.rate * args.latency_seconds)
        latency_lines = _lines(n_latency, args.seed + 1, ids, today) if "latency" in phases else []
        pool_docs = (
            RecordPool.documents(POOL_SIZE, seed=args.seed + 2, indicator_ids=ids, today=today)
            if "rss" in phases or "digests" in phases
            else []
        )
        documents = chain(
            (json.loads(x.raw) for x in chain(warmup, lines, latency_lines)), pool_docs
        )
        opts = await _options(args, work, today, catalogue.version, log, result, documents)
        outboxes: list[Path] = []
        if run_pipeline:
            log(f"pipeline: {args.cases:,} cases ({result['database']})")
            result["pipeline"], outboxes = await pipeline_phase(opts, lines, warmup)
            del lines
            e2e = result["pipeline"]["end_to_end"]  # type: ignore[index]
            log(
                f"  end to end {e2e['cases_per_second']:,} cases/s, "
                f"{e2e['records_per_second']:,} records/s"
            )
        if "baseline" in phases:
            log("baseline: bare aiokafka on the same records")
            result["baseline"] = await baseline_phase(opts, outboxes)
            base = result["baseline"]["end_to_end"]["records_per_second"]  # type: ignore[index]
            mine = result["pipeline"]["end_to_end"]["records_per_second"]  # type: ignore[index]
            result["ratio_pipeline_to_baseline"] = round(mine / base, 3) if base else None
            log(f"  baseline {base:,} records/s; ratio {result['ratio_pipeline_to_baseline']}")
        if "latency" in phases:
            log(f"latency: {args.rate:,.0f} cases/s offered")
            result["latency"] = await latency_phase(
                opts, latency_lines, warmup, args.rate, args.tick_ms / 1000
            )
            del latency_lines
            log(f"  post→applied {result['latency']['post_to_applied_ms']}")  # type: ignore[index]
        pool: RecordPool | None = None
        if "rss" in phases or "digests" in phases:
            pool = RecordPool(
                POOL_SIZE,
                seed=args.seed + 2,
                indicator_ids=ids,
                today=today,
                version=catalogue.version,
                forum=opts.forum,
            )
        if "rss" in phases and pool is not None:
            n = args.rss_records
            log(f"rss: aggregator applying {n:,} records to an empty store")
            marks = [m for m in (10_000, 50_000) if m < n]
            rss: dict[str, object] = {
                "fresh_store": await rss_phase(opts, pool, n, [*marks, n], name="rss")
            }
            result["rss"] = rss
        if "digests" in phases and pool is not None:
            sizes = [int(x) for x in args.digest_sizes.split(",") if x.strip()]
            log(f"digests: at {', '.join(f'{s:,}' for s in sizes)} stored cases")
            url = opts.database("digests")
            (work / "digests").mkdir(parents=True, exist_ok=True)
            if args.postgres:
                await recreate_postgres(url)
            result["digests"] = await digest_timings(
                url, pool, STAND_IN_SEALED, sizes, catalogue, log=log
            )
            if "rss" in phases:
                n = args.rss_records
                log(f"rss: aggregator applying {n:,} more records to the {max(sizes):,}-case store")
                large = await rss_phase(opts, pool, n, [n], name="rss-large", database=url)
                large["stored_before"] = max(sizes)
                rss["large_store"] = large
                small = rss["fresh_store"]["checkpoints"][-1]["vmhwm_mib"]  # type: ignore[index]
                big = large["checkpoints"][-1]["vmhwm_mib"]  # type: ignore[index]
                rss["ratio_large_to_fresh"] = round(big / small, 3)
                log(f"  peak RSS {big} MiB on {max(sizes):,} stored vs {small} MiB fresh")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            log(f"work directory kept: {work}")
    result["total_seconds"] = round(time.monotonic() - started, 1)
    return result


async def _chaos(args: argparse.Namespace) -> dict[str, object]:
    # Imported here: it imports the tests' hostile-record generator (tests.integration).
    from bench._chaos import ChaosSettings, chaos_phase  # noqa: PLC0415  loaded where used: a phase or child process loads only what it measures

    catalogue = load_catalogue()
    work = Path(tempfile.mkdtemp(prefix="dief-bench-"))
    started = time.monotonic()
    result: dict[str, object] = {
        "benchmark": "chaos",
        "command": "uv run python -m bench " + " ".join(sys.argv[1:]),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": "postgresql",
        "machine": machine(),
    }
    try:
        settings = ChaosSettings(
            cases=args.cases,
            hostile=args.hostile,
            kills=args.kills,
            max_batch=args.chaos_max_batch,
            seed=args.seed,
        )
        result.update(
            await chaos_phase(
                settings,
                work,
                catalogue_version=catalogue.version,
                ids=list(catalogue.ids),
                today=datetime.now(UTC).date(),
                log=lambda text: print(text, flush=True),
            )
        )
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"work directory kept: {work}")
    result["total_seconds"] = round(time.monotonic() - started, 1)
    return result


def main_chaos(args: argparse.Namespace) -> None:
    """``python -m bench --chaos``: the chaos run; writes its JSON and Markdown notes."""
    from bench._chaos import chaos_markdown  # noqa: PLC0415  loaded where used: a phase or child process loads only what it measures

    result = asyncio.run(_chaos(args))
    stem = "chaos" + ("-quick" if args.quick else "")
    args.out.mkdir(parents=True, exist_ok=True)
    json_path = args.out / f"{stem}.json"
    md_path = args.out / f"{stem}.md"
    json_path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    note = chaos_markdown(result)
    md_path.write_text(note, encoding="utf-8")
    print()
    print(note)
    print(f"wrote {json_path} and {md_path} in {result['total_seconds']} s")
    checks = result["checks"]
    if not checks["all_passed"]:  # type: ignore[index]
        print("CHAOS CHECKS FAILED: see 'checks' in the JSON file", file=sys.stderr)
        raise SystemExit(1)


def main(argv: list[str] | None = None) -> None:
    """``python -m bench``: the pipeline bench (or ``--chaos``); writes the results."""
    args = _args(argv)
    if args.chaos:
        main_chaos(args)
        return
    result = asyncio.run(_run(args))
    stem = (
        "pipeline"
        + ("-kafka" if args.kafka else "")
        + ("-postgresql" if args.postgres else "")
        + ("-quick" if args.quick else "")
    )
    json_path = args.out / f"{stem}.json"
    md_path = args.out / f"{stem}.md"
    json_path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    md_path.write_text(markdown(result), encoding="utf-8")
    print(f"wrote {json_path} and {md_path} in {result['total_seconds']} s")


if __name__ == "__main__":
    main()
