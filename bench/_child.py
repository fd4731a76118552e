"""The consuming side of a benchmark phase, in a process of its own.

``python -m bench._child`` reads one JSON line of configuration on stdin, starts its
consumers, writes one JSON event per line on stdout, and stops when stdin says ``stop``
(or closes). Times are ``time.monotonic()`` (CLOCK_MONOTONIC: comparable across processes).

- ``aggregator``: the real wiring of ``dief aggregate`` — ``register_aggregators`` with a
  :class:`RegionAggregator` per region and one :class:`CaseStore` — with timing wrappers;
  keys from the benchmark's simulated forum (each region's own opening keys, and one
  :class:`dief.credentials.TokenVerifier` over the signed directory's issuer keys, shared
  by the five regions: one RSA verification per pseudonym, then its cache).
- ``baseline``: bare aiokafka, one consumer group per region topic, the same
  ``getmany(timeout_ms=50, max_records=2000)`` loop FastStream runs, and ``commit()``
  after each batch, and nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench._brokers import child_client_options, child_settings
from bench._profile import ProcessProfile

if TYPE_CHECKING:
    from dief.seams import InboundRecord

Emit = Callable[[dict[str, object]], None]


def _emit(event: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(event, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def _stdin_stop(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    def read() -> None:
        for line in sys.stdin:
            if line.strip() == "stop":
                break
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=read, daemon=True).start()


def _cpu_seconds() -> float:
    fields = Path("/proc/self/stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()
    import os  # noqa: PLC0415  loaded where used: a phase or child process loads only what it measures

    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _aggregator(
    cfg: dict[str, Any], emit: Emit, stop: asyncio.Event, on_ready: Callable[[], None]
) -> dict[str, object]:
    from bench._common import aggregator_keys  # noqa: PLC0415  loaded where used: a phase or child process loads only what it measures
    from consumers.aggregator import register_aggregators  # noqa: PLC0415  loaded where used: a phase or child process loads only what it measures
    from dief.aggregator import BatchReport, RegionAggregator  # noqa: PLC0415  loaded where used: a phase or child process loads only what it measures
    from dief.aggregator.store import CaseStore  # noqa: PLC0415  loaded where used: a phase or child process loads only what it measures
    from dief.kafka import KafkaDeadLetterSink, make_broker  # noqa: PLC0415  loaded where used: a phase or child process loads only what it measures
    from dief.vocab import Region  # noqa: PLC0415  loaded where used: a phase or child process loads only what it measures

    totals: dict[str, Any] = {
        "apply_seconds": 0.0,
        "handle_seconds": 0.0,
        "batches": 0,
        "records": 0,
    }
    outcomes: Counter[str] = Counter()
    report_keys = bool(cfg.get("keys"))

    class TimedStore(CaseStore):
        async def apply_batch(self, region: str, records: Sequence[Any], **kw: Any) -> Any:  # noqa: ANN401  forwards to RegionAggregator.apply_batch as it is
            t0 = time.perf_counter()
            try:
                return await super().apply_batch(region, records, **kw)
            finally:
                totals["apply_seconds"] += time.perf_counter() - t0

    class TimedAggregator(RegionAggregator):
        async def handle(self, records: Sequence[InboundRecord]) -> BatchReport:
            t0 = time.perf_counter()
            started = time.monotonic()
            report = await super().handle(records)
            done = time.monotonic()
            totals["handle_seconds"] += time.perf_counter() - t0
            totals["batches"] += 1
            totals["records"] += len(records)
            outcomes.update(report.outcomes)
            event: dict[str, object] = {
                "ev": "batch",
                "t0": started,
                "t": done,
                "n": len(records),
                "counted": sum(n for k, n in report.outcomes.items() if k != "duplicate"),
            }
            if report_keys:
                event["keys"] = [r.key.decode() if r.key else "" for r in records]
            emit(event)
            return report

    store = TimedStore(cfg["database_url"])
    await store.start()
    openers, verifier = aggregator_keys(Path(cfg["keys_dir"]), cfg["passphrase"])
    settings = child_settings(cfg)
    broker = make_broker(settings, client_id="dief-aggregator")
    aggregators = {
        r: TimedAggregator(
            r,
            openers[r],
            store,
            KafkaDeadLetterSink(broker, r),
            credentials=verifier,
        )
        for r in Region
    }
    register_aggregators(
        broker,
        aggregators,
        embedded=settings.embedded,
        max_records=int(cfg.get("max_records", 2000)),
    )
    await broker.start()
    on_ready()
    emit({"ev": "ready", "t": time.monotonic()})
    await stop.wait()
    await broker.stop()
    await store.stop()
    totals["outcomes"] = dict(outcomes)
    totals["token_rsa_verifications"] = verifier.rsa_verifications
    totals["token_cache"] = verifier.cache_len
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in totals.items()}


async def _baseline(
    cfg: dict[str, Any], emit: Emit, stop: asyncio.Event, on_ready: Callable[[], None]
) -> dict[str, object]:
    from aiokafka import AIOKafkaConsumer  # noqa: PLC0415  loaded where used: a phase or child process loads only what it measures

    from consumers.aggregator import EMBEDDED_SESSION_TIMEOUT_MS  # noqa: PLC0415  loaded where used: a phase or child process loads only what it measures
    from dief.kafka import DEFAULT_SESSION_TIMEOUT_MS  # noqa: PLC0415  loaded where used: a phase or child process loads only what it measures

    session_ms = (
        EMBEDDED_SESSION_TIMEOUT_MS if child_settings(cfg).embedded else DEFAULT_SESSION_TIMEOUT_MS
    )

    totals = {"records": 0, "bytes": 0, "batches": 0}
    consumers: list[AIOKafkaConsumer] = []

    async def consume(topic: str) -> None:
        consumer = AIOKafkaConsumer(
            topic,
            **child_client_options(cfg),
            group_id=f"bench-baseline-{topic}",
            client_id="bench-baseline",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            session_timeout_ms=session_ms,
            heartbeat_interval_ms=session_ms // 4,
        )
        consumers.append(consumer)
        await consumer.start()
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=50, max_records=2000)
            if not batches:
                await asyncio.sleep(0.05)
                continue
            records = list(chain(*batches.values()))
            await consumer.commit()
            totals["records"] += len(records)
            totals["bytes"] += sum(len(r.value or b"") for r in records)
            totals["batches"] += 1
            emit({"ev": "batch", "t": time.monotonic(), "n": len(records), "counted": len(records)})

    tasks = [asyncio.ensure_future(consume(t)) for t in cfg["topics"]]
    on_ready()
    emit({"ev": "ready", "t": time.monotonic()})
    await stop.wait()
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    for consumer in consumers:
        with contextlib.suppress(Exception):
            await consumer.stop()
    return dict(totals)


async def _main() -> None:
    cfg: dict[str, Any] = json.loads(sys.stdin.readline())
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    stop = asyncio.Event()
    _stdin_stop(asyncio.get_running_loop(), stop)
    profile = ProcessProfile(enabled=bool(cfg.get("profile_path")))
    runner = _aggregator if cfg["mode"] == "aggregator" else _baseline
    stats = await runner(cfg, _emit, stop, profile.start)
    top = profile.stop(Path(cfg["profile_path"]) if cfg.get("profile_path") else None)
    _emit({"ev": "stats", "stats": stats, "cpu_seconds": _cpu_seconds(), "profile": top})


if __name__ == "__main__":
    asyncio.run(_main())
