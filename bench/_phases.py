"""The timed phases of ``python -m bench``: pipeline, bare aiokafka baseline, latency, RSS.

Every phase starts a fresh embedded broker (Tansu keeps records in memory; with ``--kafka``
a fresh one-broker Apache Kafka, :mod:`bench._brokers`) and a fresh
database, starts its consumer in a child process, warms up (one record per region topic
goes all the way through, so group joins, connections and DEK unwraps are behind us), and
only then starts the clock.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import statistics
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiokafka import AIOKafkaProducer

from bench._brokers import BenchBroker, start_broker
from bench._common import Child, Forum, LoadMeter, recreate_postgres
from bench._nodes import InputLine, NodeFleet
from bench._profile import ProcessProfile
from dief.database import sqlite_url
from dief.kafka import cases_topic
from dief.vocab import Region

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from datetime import date
    from pathlib import Path

    from bench._fabricate import RecordPool
    from dief.node import Accepted

__all__ = ["Options", "baseline_phase", "latency_phase", "pipeline_phase", "rss_phase"]

#: The relay's batch (OutboxRelay default) and the producer settings of make_broker().
RELAY_BATCH = 2000
PRODUCER = {
    "acks": "all",
    "enable_idempotence": False,
    "linger_ms": 5,
    "max_batch_size": 1 << 20,
    "request_timeout_ms": 15_000,
}


@dataclass(frozen=True, slots=True)
class Options:
    work: Path
    results: Path
    forum: Forum
    catalogue_version: str
    today: date
    postgres: str | None
    profile: bool
    log: Callable[[str], None]
    timeout: float = 1800.0
    #: Apache Kafka (a fresh one-broker cluster per phase) instead of the embedded broker.
    kafka: bool = False

    def database(self, name: str) -> str:
        """The phase's own database: a SQLite file, or ``<database>_<phase>`` on PostgreSQL."""
        if self.postgres:
            from sqlalchemy.engine import make_url  # noqa: PLC0415  loaded where used: a phase or child process loads only what it measures

            url = make_url(self.postgres)
            return url.set(database=f"{url.database}_{name}").render_as_string(hide_password=False)
        return sqlite_url(self.work / name / "aggregator.sqlite")


def _producer(broker: BenchBroker) -> dict[str, object]:
    """:data:`PRODUCER`, idempotent where DIEF's producers are (on Apache Kafka)."""
    return {**PRODUCER, "enable_idempotence": not broker.embedded}


def _rate(n: float, seconds: float) -> float:
    return round(n / seconds, 1) if seconds > 0 else 0.0


async def _aggregator(  # noqa: PLR0913  the phase's inputs, passed by the bench driver
    opts: Options,
    name: str,
    broker: BenchBroker,
    *,
    keys: bool = False,
    profile: bool = False,
    fresh_db: bool = True,
    database: str | None = None,
) -> Child:
    (opts.work / name).mkdir(parents=True, exist_ok=True)
    if opts.postgres and fresh_db:
        await recreate_postgres(opts.database(name))
    cfg: dict[str, object] = {
        "mode": "aggregator",
        "kafka": broker.child_config(),
        "keys_dir": str(opts.forum.path),
        "passphrase": opts.forum.passphrase,
        "database_url": database or opts.database(name),
        "keys": keys,
        "profile_path": str(opts.results / f"profile-{name}-aggregator.txt") if profile else "",
    }
    return Child(f"{name}-aggregator", cfg, opts.work / name)


async def _broker(opts: Options, name: str) -> BenchBroker:
    return await start_broker(opts.work, name, kafka=opts.kafka)


async def pipeline_phase(  # noqa: PLR0914  one measured procedure: its steps in the order they are timed
    opts: Options, lines: Sequence[InputLine], warmup: Sequence[InputLine]
) -> tuple[dict[str, object], list[Path]]:
    """Node (validate, screen, seal, outbox, relay) → Kafka → aggregator, at full speed."""
    name = "pipeline"
    broker = await _broker(opts, name)
    child = await _aggregator(opts, name, broker, profile=opts.profile)
    fleet = NodeFleet(
        opts.work / name,
        opts.forum,
        broker.settings("node"),
        catalogue_version=opts.catalogue_version,
        today=opts.today,
    )
    profile = ProcessProfile(enabled=opts.profile)
    meter = LoadMeter(lambda: {"consumer": child.pid, "broker": broker.pid})
    try:
        await child.start()
        await fleet.start([x.state for x in [*warmup, *lines]])
        await fleet.submit(warmup)
        await child.wait_counted(fleet.times.records, 120)
        warm = child.counted
        fleet.reset_times()
        opts.log(f"  warmed up ({warm} records); posting {len(lines):,} cases")
        meter.start()
        profile.start()
        t0 = time.monotonic()
        for start in range(0, len(lines), RELAY_BATCH):
            await fleet.submit(lines[start : start + RELAY_BATCH])
        t_intake = time.monotonic()
        t_acked = await fleet.wait_published(opts.timeout)
        t_end = await child.wait_counted(warm + fleet.times.records, opts.timeout)
        top_node = profile.stop(opts.results / f"profile-{name}-node.txt" if opts.profile else None)
        load = meter.finish()
        rss = child.vmhwm_mib()
        stats = await child.stop()
    finally:
        await fleet.close()
        await child.stop()
        await broker.stop()
    times = fleet.times
    agg = stats.get("stats", {})
    records = times.records
    refused = {k: n for k, n in agg.get("outcomes", {}).items() if k.startswith("dlq:")}
    if refused:  # a benchmark of dead-lettering would not measure the pipeline
        opts.log(f"  WARNING: the aggregator dead-lettered records: {refused}")
    first_pub = times.first_publish or t0
    batches = [(t, n) for t, n in child.batches if t >= t0]
    starts = [a for a, b in child.intervals if b >= t0]
    child_start = min(starts) if starts else None
    busy = child.busy_seconds(t0)
    end_to_end = t_end - t0
    result: dict[str, object] = {
        "cases": len(lines),
        "accepted": times.accepted,
        "records": records,
        "end_to_end": {
            "seconds": round(end_to_end, 3),
            "cases_per_second": _rate(len(lines), end_to_end),
            "records_per_second": _rate(records, end_to_end),
            "definition": "first case posted to the node → last record applied (DB committed)",
            "first_publish_to_last_applied_records_per_second": _rate(records, t_end - first_pub),
        },
        "stages": {
            "node_intake": {
                "seconds": round(t_intake - t0, 3),
                "cases_per_second": _rate(len(lines), t_intake - t0),
                "what": "validate, screen, generalise, seal, outbox write (FULL fsync); "
                "first case posted to last case in an outbox",
            },
            "relay_publish": {
                "seconds": round(t_acked - first_pub, 3),
                "records_per_second": _rate(records, t_acked - first_pub),
                "what": "outbox read, publish with acks=all, mark published; first send to "
                "last acknowledgement",
            },
            "aggregator": {
                "seconds": round(t_end - (child_start or t0), 3),
                "busy_seconds": round(busy, 3),
                "records_per_second_busy": _rate(records, busy),
                "store_share_of_handler_time": round(
                    agg.get("apply_seconds", 0.0) / max(agg.get("handle_seconds", 0.0), 1e-9), 3
                ),
                "what": "open, validate, plan, store (one transaction per batch), commit; "
                "busy = wall time with a batch in hand",
                "batches": len(batches),
                "mean_batch": round(statistics.mean(n for _, n in batches), 1) if batches else 0,
                "peak_rss_mib": round(rss, 1),
                "outcomes": agg.get("outcomes", {}),
                "token_rsa_verifications": agg.get("token_rsa_verifications"),
            },
        },
        "cpu_ms_per_1000_records": {
            name: round(seconds / max(records, 1) * 1e6, 1)
            for name, seconds in load["cpu_seconds"].items()  # type: ignore[attr-defined]
        },
        "node": times.to_json(),
        "load": load,
        "profile": {"node": top_node, "aggregator": stats.get("profile")},
    }
    return result, fleet.outbox_paths()


def _outbox_records(paths: Sequence[Path]) -> list[tuple[str, bytes, bytes, int]]:
    out: list[tuple[str, bytes, bytes, int]] = []
    for path in paths:
        with sqlite3.connect(path) as db:
            rows = db.execute("SELECT topic, key, value, timestamp_ms FROM outbox ORDER BY seq")
            out.extend(rows)
    return out


async def _produce(
    producer: AIOKafkaProducer, records: Iterator[tuple[str, bytes, bytes, int | None]]
) -> int:
    """Send in relay-sized batches: every send of a batch, then every acknowledgement."""
    sent = 0
    futures: list[asyncio.Future[Any]] = []
    for topic, key, value, ts in records:
        futures.append(await producer.send(topic, value, key=key, timestamp_ms=ts))
        if len(futures) == RELAY_BATCH:
            await asyncio.gather(*futures)
            sent += len(futures)
            futures = []
    await asyncio.gather(*futures)
    return sent + len(futures)


async def baseline_phase(opts: Options, outboxes: Sequence[Path]) -> dict[str, object]:
    """Bare aiokafka: the pipeline's own sealed records, produced then consumed."""
    name = "baseline"
    records = _outbox_records(outboxes)
    sizes = [len(v) for _, _, v, _ in records]
    broker = await _broker(opts, name)
    topics = [cases_topic(r) for r in Region]
    child = Child(
        f"{name}-consumer",
        {
            "mode": "baseline",
            "kafka": broker.child_config(),
            "topics": topics,
            "profile_path": str(opts.results / "profile-baseline-consumer.txt")
            if opts.profile
            else "",
        },
        opts.work / name,
    )
    (opts.work / name).mkdir(parents=True, exist_ok=True)
    producer = AIOKafkaProducer(
        **broker.client_options(), client_id="bench-baseline", **_producer(broker)
    )
    meter = LoadMeter(lambda: {"consumer": child.pid, "broker": broker.pid})
    try:
        await child.start()
        await producer.start()
        await _produce(producer, iter([(t, b"warm", os.urandom(64), None) for t in topics]))
        await child.wait_counted(len(topics), 120)
        warm = child.counted
        meter.start()
        t0 = time.monotonic()
        await _produce(producer, iter(records))
        t_acked = time.monotonic()
        t_end = await child.wait_counted(warm + len(records), opts.timeout)
        load = meter.finish()
        stats = await child.stop()
    finally:
        await producer.stop()
        await child.stop()
        await broker.stop()
    batches = [(t, n) for t, n in child.batches if t >= t0]
    return {
        "records": len(records),
        "record_bytes": {
            "mean": round(statistics.mean(sizes), 1),
            "min": min(sizes),
            "max": max(sizes),
            "total": sum(sizes),
        },
        "end_to_end": {
            "seconds": round(t_end - t0, 3),
            "records_per_second": _rate(len(records), t_end - t0),
            "definition": "first record produced → last record consumed and committed",
        },
        "produce": {
            "seconds": round(t_acked - t0, 3),
            "records_per_second": _rate(len(records), t_acked - t0),
        },
        "consume": {
            "seconds": round(t_end - (batches[0][0] if batches else t0), 3),
            "batches": len(batches),
            "mean_batch": round(statistics.mean(n for _, n in batches), 1) if batches else 0,
            "cpu_seconds": round(stats.get("cpu_seconds", 0.0), 2),
        },
        "cpu_ms_per_1000_records": {
            name: round(seconds / max(len(records), 1) * 1e6, 1)
            for name, seconds in load["cpu_seconds"].items()  # type: ignore[attr-defined]
        },
        "settings": {
            **_producer(broker),
            "send_batch": RELAY_BATCH,
            "getmany_max_records": 2000,
            "getmany_timeout_ms": 50,
            "commit": "after every batch",
            "consumer_groups": "one per region topic, in a child process",
        },
        "load": load,
        "profile": {"consumer": stats.get("profile")},
    }


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


async def latency_phase(  # noqa: PLR0915, PLR0914  one measured procedure: its steps in the order they are timed
    opts: Options,
    lines: Sequence[InputLine],
    warmup: Sequence[InputLine],
    rate: float,
    tick: float = 0.010,
) -> dict[str, object]:
    """Post cases at a fixed offered rate (open loop): every *tick* seconds the nodes post
    the cases due by then; post → applied per case, from each case's scheduled time."""
    name = "latency"
    broker = await _broker(opts, name)
    child = await _aggregator(opts, name, broker, keys=True)
    fleet = NodeFleet(
        opts.work / name,
        opts.forum,
        broker.settings("node"),
        catalogue_version=opts.catalogue_version,
        today=opts.today,
    )
    meter = LoadMeter(lambda: {"consumer": child.pid, "broker": broker.pid})
    profile = ProcessProfile(enabled=opts.profile)
    schedule: dict[int, float] = {}
    pending: dict[str, deque[list[float]]] = {}
    latencies: list[float] = []

    def accepted(items: Sequence[Accepted]) -> None:
        for a in items:
            pending.setdefault(a.case_id, deque()).append([schedule[a.line], float(a.records)])

    def applied(t: float, keys: list[str]) -> None:
        for key in keys:
            queue = pending.get(key)
            if not queue:
                continue
            entry = queue[0]
            entry[1] -= 1
            if entry[1] <= 0:
                queue.popleft()
                latencies.append(t - entry[0])

    try:
        await child.start()
        await fleet.start([x.state for x in [*warmup, *lines]])
        await fleet.submit(warmup)
        await child.wait_counted(fleet.times.records, 120)
        warm = child.counted
        fleet.reset_times()
        fleet.on_accepted = accepted
        child.on_keys = applied
        opts.log(f"  offering {rate:,.0f} cases/s for {len(lines) / rate:.0f} s")
        meter.start()
        profile.start()
        t0 = time.monotonic() + 0.05
        i = 0
        lag = 0.0
        next_tick = t0
        while i < len(lines):
            await asyncio.sleep(max(0.0, next_tick - time.monotonic()))
            now = time.monotonic()
            next_tick = max(now, next_tick) + tick
            j = i
            while j < len(lines) and t0 + j / rate <= now:
                schedule[lines[j].line] = t0 + j / rate
                j += 1
            if j > i:
                lag = max(lag, now - (t0 + i / rate))  # the oldest case's wait
                await fleet.submit(lines[i:j])
                i = j
        t_posted = time.monotonic()
        t_end = await child.wait_counted(warm + fleet.times.records, opts.timeout)
        top_node = profile.stop(opts.results / f"profile-{name}-node.txt" if opts.profile else None)
        load = meter.finish()
        await child.stop()
    finally:
        await fleet.close()
        await child.stop()
        await broker.stop()
    ms = [x * 1000 for x in latencies]
    return {
        "offered_cases_per_second": rate,
        "cases": len(lines),
        "measured_cases": len(ms),
        "achieved_cases_per_second": _rate(len(lines), t_posted - t0),
        "post_to_applied_ms": {
            "p50": round(_percentile(ms, 0.50), 1),
            "p90": round(_percentile(ms, 0.90), 1),
            "p99": round(_percentile(ms, 0.99), 1),
            "max": round(max(ms), 1) if ms else 0.0,
            "mean": round(statistics.mean(ms), 1) if ms else 0.0,
        },
        "drain_seconds_after_last_post": round(t_end - t_posted, 3),
        "max_submit_lag_ms": round(lag * 1000, 1),
        "tick_ms": round(tick * 1000, 1),
        "definition": "scheduled post time (open loop) → the aggregator's "
        "transaction holding the case's last record committed",
        "load": load,
        "profile": {"node": top_node},
    }


async def rss_phase(  # noqa: PLR0913  the phase's inputs, passed by the bench driver
    opts: Options,
    pool: RecordPool,
    n: int,
    checkpoints: Sequence[int],
    *,
    name: str = "rss",
    database: str | None = None,
) -> dict[str, object]:
    """Peak RSS (VmHWM) of the aggregator process as it applies *n* records."""
    broker = await _broker(opts, name)
    child = await _aggregator(opts, name, broker, fresh_db=database is None, database=database)
    producer = AIOKafkaProducer(
        **broker.client_options(), client_id="bench-rss", **_producer(broker)
    )
    meter = LoadMeter(lambda: {"consumer": child.pid, "broker": broker.pid})
    marks: list[dict[str, object]] = []
    try:
        await child.start()
        await producer.start()
        idle = child.vmhwm_mib()
        meter.start()
        t0 = time.monotonic()
        records = ((t, k, v, None) for t, k, v in pool.sealed_records(n, opts.forum))
        feeding = asyncio.ensure_future(_produce(producer, records))
        for mark in sorted(c for c in checkpoints if c <= n):
            t = await child.wait_counted(mark, opts.timeout)
            marks.append(
                {
                    "applied": mark,
                    "vmhwm_mib": round(child.vmhwm_mib(), 1),
                    "vmrss_mib": round(child.vmrss_mib(), 1),
                    "seconds": round(t - t0, 1),
                }
            )
            opts.log(
                f"  {mark:>9,} applied: peak RSS {marks[-1]['vmhwm_mib']} MiB "
                f"({marks[-1]['seconds']} s)"
            )
        await feeding
        load = meter.finish()
        stats = await child.stop()
    finally:
        await producer.stop()
        await child.stop()
        await broker.stop()
    return {
        "records": n,
        "idle_vmhwm_mib": round(idle, 1),
        "checkpoints": marks,
        "aggregator_records_per_second": _rate(n, float(marks[-1]["seconds"])) if marks else 0,
        "cpu_seconds": round(stats.get("cpu_seconds", 0.0), 2),
        "load": load,
    }
