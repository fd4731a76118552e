"""``python -m bench.bulletins``: bulletin latency (issue 18, DESIGN §13).

    uv run python -m bench.bulletins                 # 60 s at 1 alert/s, 10 readers, 115 nodes
    uv run python -m bench.bulletins --seconds 20    # a brief run

In one process, on a fresh embedded broker: a simulated forum of ``--registered`` nodes
(115: the group key the Secretariat's issuer makes for the directory version —
:class:`~dief.secretariat.GroupKeyIssuer`, kept in its database and published on
``dief.bulletins`` — is wrapped to every one of them), three posting nodes offering TLP green
alerts at ``--rate`` per second (validate, screen, seal, outbox, relay), the AFR aggregator
applying them (``register_aggregators``) and its :class:`~dief.bulletins.BulletinCollector`
batching every ``--batch-seconds`` (short, no jitter, so that the pipeline's own delay shows),
the publisher signing and sealing each batch to the group key, and ``--readers`` nodes
reading ``dief.bulletins`` continuously and opening each batch with their copy of the key.

Reported, per (bulletin, reading node): post → opened (p50/p99) with the short batching
interval, the time a bulletin waited for its batch, and the pipeline's own delay (the two
subtracted); then the production figure, the pipeline's delay plus the wait for a batch of
the default interval (10 to 15 minutes with jitter), computed from the measured delays and
the uniform wait. Results: ``bench/results/bulletins.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition

from dief.aggregator import RegionAggregator
from dief.aggregator.store import CaseStore
from dief.broker import EmbeddedBroker
from dief.bulletins import (
    BULLETINS_TOPIC,
    DEFAULT_INTERVAL,
    DEFAULT_JITTER,
    BulletinCollector,
    BulletinPublisher,
    BulletinReader,
    BulletinSealer,
    ContributorRelease,
)
from dief.credentials import SimulatedIssuer
from dief.crypto import Opener, Sealer
from dief.database import sqlite_url
from dief.kafka import (
    KafkaDeadLetterSink,
    KafkaRecordSink,
    NodePublisher,
    TopicSpec,
    cases_topic,
    ensure_topics,
    make_broker,
)
from dief.keyring import KeyRole, SimulatedForum, open_bulletin_group_key
from dief.node import NationalNode, NodeIdentity, Outbox, OutboxRelay
from dief.secretariat import GroupKeyIssuer, GroupKeyStore
from dief.settings import KafkaSettings
from dief.vocab import Region
from dief.wire import CaseRecord, parse_case

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2026, 6, 15)
PASSPHRASE = "bench-bulletins"  # noqa: S105  # a throw-away simulated forum
POSTERS = ("poster-0", "poster-1", "poster-2")
_STATES = {"poster-0": "XAA", "poster-1": "XAB", "poster-2": "XAC"}


class _LateSink:
    """The Secretariat's sink, once the broker is up (the release is made before)."""

    def __init__(self, sinks: list[KafkaRecordSink]) -> None:
        self._sinks = sinks

    async def send(self, topic: str, key: bytes, value: bytes) -> None:
        await self._sinks[0].send(topic, key, value)


def _args() -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.bulletins", description=__doc__)
    p.add_argument("--seconds", type=float, default=60.0, help="offering time (60 s)")
    p.add_argument("--rate", type=float, default=1.0, help="alerts per second (1)")
    p.add_argument("--readers", type=int, default=10, help="consuming nodes (10)")
    p.add_argument("--registered", type=int, default=115, help="registered nodes (115)")
    p.add_argument("--batch-seconds", type=float, default=1.0, help="bench batching (1 s)")
    p.add_argument(
        "--warmup", type=int, default=3, help="first alerts left out (consumer group joins)"
    )
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    return p.parse_args()


def _doc(n: int, poster: str) -> dict[str, object]:
    return {
        "case_id": str(uuid.uuid4()),
        "kind": "alert",
        "confidence": "suspected",
        "region": "AFR",
        "related_regions": ["WEOG"],
        "detected": "2026-05",
        "items": [{"category": "small_arms", "quantity": 12}],
        "transfer_stage": "in_transit",
        "methods": ["falsified_documents"],
        "end_user_type": "criminal_organization",
        "risk_indicators": ["DOC-01"],
        "detection_source": "customs_border_control",
        "tlp": "green",
        "summary": f"Bench alert {n}.",
        "submitted_by": _STATES[poster],
    }


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def _reader_task(
    bootstrap: str, reader: BulletinReader, opened: dict[int, float], stop: asyncio.Event
) -> None:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, fetch_max_wait_ms=20)
    await consumer.start()
    try:  # noqa: PLR1702  one measured procedure: its steps in the order they are timed
        consumer.assign([TopicPartition(BULLETINS_TOPIC, 0)])
        await consumer.seek_to_beginning()
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=50)
            for records in batch.values():
                for record in records:
                    got = reader.open(record.value)
                    now = time.monotonic()
                    for entry in got.entries if got is not None else ():
                        if entry.lesson and entry.lesson.startswith("Bench alert "):
                            opened.setdefault(int(entry.lesson[12:-1]), now)
    finally:
        await consumer.stop()


async def run(args: argparse.Namespace) -> dict[str, object]:  # noqa: PLR0915, PLR0914, C901  one measured procedure: its steps in the order they are timed
    """One run of the bulletin bench on a local forum; the results as a dict."""
    work = Path(tempfile.mkdtemp(prefix="dief-bench-bulletins-"))
    t0 = time.monotonic()
    forum = SimulatedForum.create(work / "forum", PASSPHRASE)
    names = [f"node-{i:03d}" for i in range(args.registered - len(POSTERS))]
    forum.extend(nodes=names)
    issuer = SimulatedIssuer(forum)
    cycle = str(parse_case(_doc(0, POSTERS[0]), today=TODAY).detected_month.cycle(9))
    posters = await issuer.issue({p: [cycle] for p in POSTERS})
    setup_s = time.monotonic() - t0
    directory = forum.directory
    signer = forum.secretariat().ring.signing_key(directory.document.certificate.subject_kid)
    # the Secretariat's issuer: one release per directory version, kept in its database
    group_keys = GroupKeyStore(sqlite_url(work / "secretariat.sqlite"))
    await group_keys.start()
    t1 = time.perf_counter()
    issuer_sink: list[KafkaRecordSink] = []
    secretariat = GroupKeyIssuer(group_keys, lambda _d: signer, _LateSink(issuer_sink))
    release = await secretariat.release_for(directory)
    wrap_ms = (time.perf_counter() - t1) * 1000
    group = open_bulletin_group_key(release, directory, forum.node(names[0]).kem_key())
    readers = [
        BulletinReader(
            [open_bulletin_group_key(release, directory, forum.node(n).kem_key())], directory
        )
        for n in names[: args.readers]
    ]
    offered: dict[int, float] = {}
    queued: dict[int, float] = {}
    sent: dict[int, float] = {}
    opened: list[dict[int, float]] = [{} for _ in readers]
    async with EmbeddedBroker() as embedded:
        bootstrap = embedded.bootstrap
        await ensure_topics(bootstrap, [TopicSpec(BULLETINS_TOPIC)])
        settings = KafkaSettings(bootstrap=bootstrap, embedded=True)
        store = CaseStore(sqlite_url(work / "agg.sqlite"))
        await store.start()
        collector = BulletinCollector(
            "AFR",
            release=ContributorRelease(store),
            interval=args.batch_seconds,
            jitter=0.0,
        )

        def applied(record: CaseRecord) -> None:
            if record.summary and record.summary.startswith("Bench alert "):
                queued[int(record.summary[12:-1])] = time.monotonic()
            collector.offer(record)

        broker = make_broker(settings)
        from consumers.aggregator import register_aggregators  # noqa: PLC0415  loaded where used: a phase or child process loads only what it measures

        aggregator = RegionAggregator(
            Region.AFR,
            Opener(forum.opening_keys(KeyRole.REGION, "AFR")),
            store,
            KafkaDeadLetterSink(broker, Region.AFR),
            credentials=issuer.verifier(),
            applied=applied,
        )
        register_aggregators(broker, {Region.AFR: aggregator}, embedded=True)
        sealer = BulletinSealer("AFR", forum.signing_key(KeyRole.REGION, "AFR"), group.public_key)
        publisher = BulletinPublisher(collector, sealer, KafkaRecordSink(broker))
        await broker.start()
        issuer_sink.append(KafkaRecordSink(broker))
        await secretariat.publish(directory)  # the same release, on dief.bulletins
        stop = asyncio.Event()
        tasks = [
            asyncio.create_task(_reader_task(bootstrap, r, o, stop))
            for r, o in zip(readers, opened, strict=True)
        ]

        async def publish_loop() -> None:
            while not stop.is_set():
                await asyncio.sleep(max(0.0, collector.due_at - time.time()))
                for entry in await publisher.tick():
                    if entry.lesson:
                        sent[int(entry.lesson[12:-1])] = time.monotonic()

        tasks.append(asyncio.create_task(publish_loop()))
        publisher_client = NodePublisher(settings, client_id="bench-node")
        outboxes = {}
        for p in POSTERS:
            outboxes[p] = Outbox(work / f"{p}.sqlite")
            await outboxes[p].start()
        nodes = {
            p: NationalNode(
                NodeIdentity(posters[p].secret),
                outboxes[p],
                {
                    r: Sealer(
                        type="dief.case",
                        region=r.value,
                        recipients=forum.sealing_keys(KeyRole.REGION, r.value),
                    )
                    for r in Region
                },
                {r: cases_topic(r) for r in Region},
                credentials=posters[p].wallet,
            )
            for p in POSTERS
        }
        total = int(args.seconds * args.rate)
        start = time.monotonic()
        for n in range(total):
            due = start + n / args.rate
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            poster = POSTERS[n % len(POSTERS)]
            offered[n] = time.monotonic()
            report = await nodes[poster].submit([(1, parse_case(_doc(n, poster), today=TODAY))])
            assert not report.rejected, report.rejected
            await OutboxRelay(outboxes[poster], publisher_client).drain_once()
        deadline = time.monotonic() + 30 + 2 * args.batch_seconds
        while time.monotonic() < deadline and any(len(o) < total for o in opened):  # noqa: ASYNC110  # a bounded poll of plain dicts
            await asyncio.sleep(0.1)
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        await broker.stop()
        await publisher_client.close()
        for box in outboxes.values():
            await box.stop()
        await store.stop()
    await group_keys.stop()
    return _report(
        args, total, offered, queued, sent, opened, wrap_ms, setup_s, len(release.wrapped)
    )


def _report(  # noqa: PLR0913, PLR0917  the phase's inputs, passed by the bench driver
    args: argparse.Namespace,
    total: int,
    offered: dict[int, float],
    queued: dict[int, float],
    sent: dict[int, float],
    opened: list[dict[int, float]],
    wrap_ms: float,
    setup_s: float,
    wrapped: int,
) -> dict[str, object]:
    end_to_end: list[float] = []
    own: list[float] = []
    waits = [sent[n] - queued[n] for n in sent if n in queued and n >= args.warmup]
    for per_node in opened:
        for n, t in per_node.items():
            if n >= args.warmup and n in offered and n in sent and n in queued:
                end_to_end.append(t - offered[n])
                own.append(t - offered[n] - (sent[n] - queued[n]))
    rng = random.Random(1)
    # production: the pipeline's own delay plus a wait uniform over a 10-15 min interval
    prod = [
        d + rng.uniform(0, DEFAULT_INTERVAL + rng.uniform(0, DEFAULT_JITTER))
        for d in own
        for _ in range(20)
    ]
    ms = lambda v: round(v * 1000, 1)  # noqa: E731  # a local formatter
    return {
        "alerts_offered": total,
        "rate_per_s": args.rate,
        "readers": args.readers,
        "registered_nodes": wrapped,
        "group_key_wrap_ms": round(wrap_ms, 1),
        "setup_s": round(setup_s, 1),
        "opened_pairs": len(end_to_end),
        "expected_pairs": (total - args.warmup) * args.readers,
        "warmup_alerts_left_out": args.warmup,
        "bench_batch_interval_s": args.batch_seconds,
        "post_to_opened_ms": {"p50": ms(_pct(end_to_end, 0.5)), "p99": ms(_pct(end_to_end, 0.99))},
        "wait_for_batch_ms": {"p50": ms(_pct(waits, 0.5)), "p99": ms(_pct(waits, 0.99))},
        "pipeline_own_ms": {
            "p50": ms(_pct(own, 0.5)),
            "p99": ms(_pct(own, 0.99)),
            "mean": ms(statistics.fmean(own)) if own else None,
        },
        "production_interval_s": [DEFAULT_INTERVAL, DEFAULT_INTERVAL + DEFAULT_JITTER],
        "production_post_to_opened_s": {
            "p50": round(_pct(prod, 0.5), 1),
            "p99": round(_pct(prod, 0.99), 1),
        },
    }


def main() -> None:
    """``python -m bench.bulletins``: run and print the results as JSON."""
    args = _args()
    result = asyncio.run(run(args))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bulletins.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = ["# Bulletin latency (python -m bench.bulletins)", ""]
    lines += [f"- {k}: {v}" for k, v in result.items()]
    (args.out / "bulletins.md").write_text("\n".join(lines) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
