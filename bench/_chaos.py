"""``python -m bench --chaos``: the aggregator trusts nothing and never stalls, at size.

One run, on a PostgreSQL cluster of its own (a throw-away cluster, as the tests start one:
``_throwaway_cluster`` of tests/conftest.py, imported, not copied), on the trust model: one
simulated forum (:class:`bench._common.Forum`: every party's keys in its own keyring, one
node per State and per hostile-scenario node, each holding real RFC 9474 contributor tokens
from the Secretariat's issuer):

1. **input** — N synthetic cases (``dief.synthetic.generate_cases``) posted by simulated
   national nodes (:class:`bench._nodes.NodeFleet`: validate, screen, generalise, seal,
   outbox, relay) onto an embedded broker, and, interleaved with them (a slice after every
   node batch), about H hostile records of every class of tests/integration/hostile.py
   (with the good records, decoys and replays its scenario builds around them, posted by
   the forum's scenario nodes with their real tokens) published raw on the AFR topic, each
   chain in its order;
2. **chaos** — ``dief aggregate --all`` (the installed console script, as
   tests/integration/test_sigkill.py runs it; ``DIEF_KEYRING__PATH`` the forum's folder,
   ``DIEF_KEYRING__PASSPHRASE`` its passphrase, so it verifies tokens under the signed
   directory's issuer keys) applies the backlog into PostgreSQL and is
   SIGKILLed K times at spread-out points of progress (progress = rows of
   ``applied_records``, one per distinct record finished with, read with a plain asyncpg
   query), restarted each time; and the PostgreSQL server is restarted once
   (``pg_ctl restart -m fast``: every connection dropped) between two kills;
3. **checks** — every region's cells (all cases, and without TLP:RED) equal those computed
   from the plain input (``_pipeline_helpers.expected_cells``), every record has exactly
   one ``applied_records`` row with its expected outcome (every good record applied once,
   every hostile record dead-lettered with its expected reason), the dead-letter counts of
   the database equal the hostile records' expected reasons, the hostile scenario's cases
   are stored at their expected revision and status;
4. **hostile timing** — the same scenario (hostile records among their good ones) through
   ``RegionAggregator.handle`` in-process (the forum's opening keys and real token check,
   as :func:`bench._common.aggregator_keys` gives them) on a fresh database of the same
   cluster, in
   random batches as tests/integration/test_hostile_records.py does: handle time per
   hostile record; again without the hostile records (their marginal cost); and each
   hostile record's refusal (``decode``) alone, by class.

Not run in CI (minutes of work); the command and its figures are in bench/results/README.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib.util
import json
import logging
import os
import random
import signal
import sqlite3
import statistics
import subprocess  # noqa: S404  starts and kills its own children (fixed argv)
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import asyncpg  # type: ignore[import-untyped]
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from bench._common import ROOT, Forum, LoadMeter, aggregator_keys, cycles_of, proc_cpu_seconds
from bench._nodes import InputLine, NodeFleet
from dief.aggregator import RegionAggregator, dedupe_key
from dief.aggregator.store import CaseStore
from dief.broker import EmbeddedBroker
from dief.kafka import cases_topic, dlq_topic
from dief.seams import InboundRecord
from dief.testing import MemoryDeadLetterSink
from dief.vocab import Region

# The hostile-record generator and the independent cell computation are the tests' own:
# imported from the package tests.integration (one home per concept), not copied.
from tests.integration._pipeline_helpers import Doc, expected_cells, store_cells
from tests.integration.hostile import (
    CYCLES,
    HOME,
    HOSTILE_CLASSES,
    REPLAY,
    SCENARIO_NODES,
    Delivery,
    Scenario,
    build_scenario,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from datetime import date
    from types import ModuleType

    from dief.crypto.envelope import Opener
    from dief.node import Accepted

__all__ = ["ChaosSettings", "chaos_markdown", "chaos_phase"]

#: Node batches (and the relay's batch): one hostile slice is published after each.
NODE_BATCH = 2000
#: Random batch sizes of the in-process hostile timing (as test_hostile_records).
HANDLE_MAX_BATCH = 200
#: No progress for this long while the aggregator runs: it stalled (the run fails).
STALL_SECONDS = 180.0
#: Reading the dead letters back ends after this long without a new one.
_QUIET_SECONDS = 3.0
DATABASE = "dief_chaos"


def _tests_conftest() -> ModuleType:
    """tests/conftest.py as a module (its throw-away PostgreSQL cluster), under a name of
    its own so that it is not confused with tests/integration/conftest.py."""
    name = "_dief_tests_conftest"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "tests" / "conftest.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True, slots=True)
class ChaosSettings:
    cases: int = 100_000
    hostile: int = 10_000
    kills: int = 12
    #: ``DIEF_MAX_BATCH`` of the aggregator (None: the service's default, 2,000)
    max_batch: int | None = None
    seed: int = 7
    #: kill points spread evenly over this range of progress (fractions of all records)
    first_kill: float = 0.04
    last_kill: float = 0.92
    time_limit: float = 900.0


# -- the aggregator as a child process ------------------------------------------------------


class AggregatorProcess:
    """``dief aggregate --all`` as a child process (the installed console script); after
    tests/integration/test_sigkill.py's ``Aggregator``, without pytest and on any URL."""

    def __init__(
        self,
        bootstrap: str,
        url: str,
        forum: Forum,
        log: Path,
        max_batch: int | None,
    ) -> None:
        self._argv = [
            str(Path(sys.executable).with_name("dief")),
            "aggregate",
            "--all",
            "--bootstrap",
            bootstrap,
            "--embedded",
            "--database-url",
            url,
        ]
        self._env = {
            **os.environ,
            # The keys as the service takes them: the simulated forum's folder (each
            # region's own keys and the signed directory with its issuer keys).
            "DIEF_KEYRING__PATH": str(forum.path),
            "DIEF_KEYRING__PASSPHRASE": forum.passphrase,
            # Digest publishing is not what this run measures; SIGTERM must not wait on it.
            "DIEF_DIGEST_INTERVAL": "0",
            # One log record per line (Rich wraps at the terminal's width otherwise).
            "COLUMNS": "400",
        }
        if max_batch is not None:
            self._env["DIEF_MAX_BATCH"] = str(max_batch)
        self._log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        #: CPU seconds of every aggregator process so far (read just before each signal)
        self.cpu_seconds = 0.0

    def start(self) -> None:
        with self._log.open("ab") as out:
            out.write(f"\n=== start {self.starts + 1} at {time.time():.3f}\n".encode())
            out.flush()
            self.proc = subprocess.Popen(
                self._argv, env=self._env, stdout=out, stderr=subprocess.STDOUT
            )
        self.starts += 1

    def check_alive(self) -> None:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise RuntimeError(
                f"dief aggregate exited with {self.proc.returncode}:\n{self.log_tail()}"
            )

    def log_tail(self, lines: int = 40) -> str:
        text = self._log.read_text(errors="replace") if self._log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def retried_batches(self) -> int:
        """Batches the service logged as not applied (offsets not committed, retried)."""
        if not self._log.exists():
            return 0
        return sum(
            1
            for line in self._log.read_text(errors="replace").splitlines()
            if "not applied (" in line
        )

    def kill(self) -> None:
        assert self.proc is not None
        self.cpu_seconds += proc_cpu_seconds(self.proc.pid)
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        if self.proc.returncode != -signal.SIGKILL:
            raise RuntimeError(f"dief aggregate ended with {self.proc.returncode}, not SIGKILL")

    def terminate(self, time_limit: float = 30.0) -> tuple[int, float]:
        """SIGTERM; (exit code, seconds it took)."""
        assert self.proc is not None
        self.cpu_seconds += proc_cpu_seconds(self.proc.pid)
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=time_limit)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            code = -signal.SIGKILL
        return code, time.monotonic() - t0

    def cleanup(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


class Progress:
    """Rows of ``applied_records`` (one per distinct record finished with), read with a
    plain asyncpg query; reconnects after a server restart. None while unreadable."""

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._conn: Any = None

    async def rows(self) -> int | None:
        try:
            if self._conn is None or self._conn.is_closed():
                self._conn = await asyncpg.connect(self._dsn, timeout=5)
            return int(await self._conn.fetchval("SELECT count(*) FROM applied_records"))
        except asyncpg.UndefinedTableError:
            return 0  # the aggregator has not created its schema yet
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
            await self.close()
            return None

    async def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close(timeout=2)
            self._conn = None


# -- input ------------------------------------------------------------------------------


@dataclass
class Input:
    docs: list[Doc]  # accepted synthetic case documents, in posting order
    scenario: Scenario
    deliveries: list[Delivery]  # the hostile scenario's records, in publishing order
    synthetic: dict[str, str] = field(default_factory=dict)  # dedupe key → topic
    posted_seconds: float = 0.0
    node_records: int = 0
    rejected: int = 0
    rejected_reasons: dict[str, int] = field(default_factory=dict)


def _synthetic(n: int, seed: int, ids: list[str], today: date) -> list[InputLine]:
    from dief.synthetic import generate_cases  # noqa: PLC0415  loaded where used: a phase or child process loads only what it measures

    return [
        InputLine(number, str(case.document["submitted_by"]), json.dumps(case.document).encode())
        for number, case in enumerate(
            generate_cases(n, seed=seed, indicator_ids=ids, today=today), start=1
        )
    ]


def _outbox_keys(paths: Sequence[Path]) -> Iterator[tuple[str, str]]:
    """(dedupe key, topic) of every record the nodes' outboxes hold."""
    for path in paths:
        with contextlib.closing(sqlite3.connect(path)) as db:
            for topic, value in db.execute("SELECT topic, value FROM outbox ORDER BY seq"):
                yield dedupe_key(value), topic


async def _post(  # noqa: PLR0913  the phase's inputs, passed by the bench driver
    work: Path,
    forum: Forum,
    bootstrap: str,
    lines: Sequence[InputLine],
    deliveries: Sequence[Delivery],
    *,
    catalogue_version: str,
    today: date,
    log: Callable[[str], None],
) -> tuple[set[int], NodeFleet, float]:
    """Post *lines* through the node fleet in batches, and after each batch publish a slice
    of *deliveries* raw (in order: a chain's records keep their order on their partition)."""
    accepted: set[int] = set()

    def on_accepted(items: Sequence[Accepted]) -> None:
        accepted.update(a.line for a in items)

    fleet = NodeFleet(
        work / "post", forum, bootstrap, catalogue_version=catalogue_version, today=today
    )
    fleet.on_accepted = on_accepted
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        client_id="bench-chaos-hostile",
        enable_idempotence=False,
        acks="all",
        max_request_size=2 << 20,
        request_timeout_ms=30_000,
    )
    batches = max(1, -(-len(lines) // NODE_BATCH))
    per_slice = -(-len(deliveries) // batches)
    t0 = time.monotonic()
    await producer.start()
    try:
        await fleet.start([x.state for x in lines])
        for i in range(batches):
            await fleet.submit(lines[i * NODE_BATCH : (i + 1) * NODE_BATCH])
            futures = [
                await producer.send(cases_topic(Region(HOME)), d.value, key=d.key)
                for d in deliveries[i * per_slice : (i + 1) * per_slice]
            ]
            await asyncio.gather(*futures)
            if (i + 1) % 10 == 0:
                log(f"  posted {min((i + 1) * NODE_BATCH, len(lines)):,} cases")
        await fleet.wait_published(600)
    finally:
        await producer.stop()
        await fleet.close()
    return accepted, fleet, time.monotonic() - t0


# -- the chaos run ----------------------------------------------------------------------


@dataclass
class Event:
    kind: str  # "kill" or "postgres_restart"
    target: float  # fraction of all records


def _schedule(s: ChaosSettings) -> list[Event]:
    """K kills spread evenly over [first_kill, last_kill]; the PostgreSQL restart halfway
    between the two middle kills."""
    k = s.kills
    step = (s.last_kill - s.first_kill) / max(k - 1, 1)
    events = [Event("kill", s.first_kill + i * step) for i in range(k)]
    middle = k // 2
    restart_at = s.first_kill + (middle - 0.5) * step if k > 1 else s.first_kill / 2
    events.insert(middle, Event("postgres_restart", restart_at))
    return events


async def _wait_rows(
    agg: AggregatorProcess, progress: Progress, target: int, deadline: float
) -> tuple[int, float]:
    """Wait until *target* rows; (rows, when). Fails if the aggregator exits, makes no
    progress for STALL_SECONDS, or the run's time is up."""
    last, last_change = -1, time.monotonic()
    while True:
        agg.check_alive()
        n = await progress.rows()
        now = time.monotonic()
        if n is not None:
            if n >= target:
                return n, now
            if n != last:
                last, last_change = n, now
        if now - last_change > STALL_SECONDS:
            raise RuntimeError(
                f"no progress for {STALL_SECONDS:.0f} s at {last:,} of {target:,} rows:\n"
                f"{agg.log_tail()}"
            )
        if now > deadline:
            raise RuntimeError(f"time is up at {last:,} of {target:,} rows:\n{agg.log_tail()}")
        await asyncio.sleep(0.05)


async def _first_commit_after(
    agg: AggregatorProcess, progress: Progress, rows: int, deadline: float
) -> float:
    """Seconds until the rows exceed *rows* (the aggregator committed again)."""
    t0 = time.monotonic()
    await _wait_rows(agg, progress, rows + 1, deadline)
    return time.monotonic() - t0


async def _run_chaos(  # noqa: PLR0914, PLR0913, PLR0917  one measured procedure: its steps in the order they are timed; the phase's inputs, passed by the bench driver
    s: ChaosSettings,
    agg: AggregatorProcess,
    progress: Progress,
    cluster: Any,  # noqa: ANN401  the tests' throw-away cluster (tests/kafka/conftest.py), untyped there
    total: int,
    log: Callable[[str], None],
) -> dict[str, object]:
    deadline = time.monotonic() + s.time_limit
    kills: list[dict[str, object]] = []
    restarts: list[dict[str, object]] = []
    t0 = time.monotonic()
    agg.start()
    for event in _schedule(s):
        target = int(total * event.target)
        before, _ = await _wait_rows(agg, progress, target, deadline)
        if event.kind == "kill":
            agg.kill()
            rows = await progress.rows()
            while rows is None:
                await asyncio.sleep(0.1)
                rows = await progress.rows()
            if rows >= total:
                raise RuntimeError(f"every record was applied before kill {len(kills) + 1}")
            killed_at = time.monotonic()
            agg.start()
            recovery = await _first_commit_after(agg, progress, rows, deadline)
            kills.append(
                {
                    "n": len(kills) + 1,
                    "target_fraction": round(event.target, 3),
                    "rows_at_kill": rows,
                    "fraction_at_kill": round(rows / total, 4),
                    "seconds_into_run": round(killed_at - t0, 1),
                    "restart_to_first_commit_seconds": round(recovery, 2),
                }
            )
            log(
                f"  SIGKILL {len(kills):>2} at {rows:>7,} of {total:,} rows "
                f"({rows / total:5.1%}); committing again {recovery:.1f} s after restart"
            )
        else:
            began = time.monotonic()
            await asyncio.to_thread(cluster.restart, "fast")
            outage = time.monotonic() - began
            rows = await progress.rows()
            while rows is None:
                await asyncio.sleep(0.1)
                rows = await progress.rows()
            if rows >= total:
                raise RuntimeError("every record was applied before the PostgreSQL restart")
            recovery = await _first_commit_after(agg, progress, rows, deadline)
            restarts.append(
                {
                    "rows_before": before,
                    "fraction_before": round(before / total, 4),
                    "rows_after": rows,
                    "pg_ctl_restart_seconds": round(outage, 2),
                    "seconds_into_run": round(began - t0, 1),
                    "server_back_to_first_commit_seconds": round(recovery, 2),
                }
            )
            log(
                f"  PostgreSQL restart (-m fast) at {before:>7,} rows ({before / total:5.1%}): "
                f"{outage:.1f} s down; committing again {recovery:.1f} s after"
            )
    rows, t_done = await _wait_rows(agg, progress, total, deadline)
    await asyncio.sleep(2.0)  # anything more would be a record finished twice
    after = await progress.rows()
    code, term_seconds = agg.terminate()
    waits = sum(cast("float", k["restart_to_first_commit_seconds"]) for k in kills)
    waits += sum(cast("float", r["server_back_to_first_commit_seconds"]) for r in restarts)
    return {
        "kills": kills,
        "postgres_restarts": restarts,
        "aggregator_starts": agg.starts,
        "rows_at_end": rows,
        "rows_2s_later": after,
        "first_start_to_last_record_seconds": round(t_done - t0, 2),
        "done_monotonic": t_done,
        "restart_waits_seconds": round(waits, 2),
        "aggregator_cpu_seconds": round(agg.cpu_seconds, 1),
        "batches_not_applied_and_retried": agg.retried_batches(),
        "sigterm_exit_code": code,
        "sigterm_seconds": round(term_seconds, 2),
    }


# -- checks -----------------------------------------------------------------------------


def _peek(opener: Opener, d: Delivery) -> dict[str, object]:
    """What a scenario record says (revision, owner key) if it opens, for the evidence of
    a failed check."""
    try:
        data = json.loads(opener.open(d.value).payload)
        return {"revision": data.get("revision"), "owner_key": str(data.get("owner_key"))[:8]}
    except Exception:  # noqa: BLE001  a hostile record: it need not open, in any way
        return {}


async def _check(url: str, dsn: str, inp: Input, opener: Opener) -> dict[str, object]:  # noqa: PLR0915, PLR0914, C901  one measured procedure: its steps in the order they are timed
    """Everything the run must end with; each check's result and, if false, the evidence."""
    checks: dict[str, object] = {}
    hostile = [d for d in inp.deliveries if d.reason]
    docs = [*inp.docs, *(d for d in inp.scenario.good_docs if d["region"] == HOME)]
    expected = {red: expected_cells(docs, include_red=red) for red in (True, False)}

    # (1) cells, all cases and without red, every region
    mismatched: dict[str, object] = {}
    cells = 0
    async with CaseStore(url) as store:
        for region in Region:
            for red in (True, False):
                want = expected[red].get(region.value, {})
                periods = sorted(
                    {k[0] for k in want} | set(await store.periods_with_data(region.value))
                )
                got = await store_cells(store, region.value, periods, include_red=red)
                cells += len(got)
                if got != want:
                    diff = {
                        "|".join(k): [want.get(k), got.get(k)]
                        for k in sorted(set(want) | set(got))
                        if want.get(k) != got.get(k)
                    }
                    mismatched[f"{region.value}{'' if red else ' (no red)'}"] = {
                        "cells_differing": len(diff),
                        "first": dict(list(diff.items())[:10]),
                    }
        dead = {r.value: await store.dead_letter_counts(r.value) for r in Region}
        outcomes = await store.outcome_counts()
        stored = {c.case_id: (c.revision, c.status) for c in await store.stored_cases(HOME)}
    checks["cells_equal"] = not mismatched
    checks["cells_compared"] = cells
    if mismatched:
        checks["cells_mismatch"] = mismatched

    # (2) one applied_records row per distinct record, with its expected outcome
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        rows = await conn.fetch(
            "SELECT record_id, region, outcome, applied_at FROM applied_records"
        )
    finally:
        await conn.close()
    actual = {r["record_id"]: (r["region"], r["outcome"]) for r in rows}
    applied_at = {r["record_id"]: r["applied_at"].isoformat() for r in rows}
    want_outcome: dict[str, tuple[str, set[str]]] = {}
    topic_region = {cases_topic(r): r.value for r in Region}
    for key, topic in inp.synthetic.items():
        want_outcome[key] = (topic_region[topic], {"applied"})
    kinds = {"good": "applied", "decoy": "applied"}
    for d in inp.deliveries:
        if d.kind == REPLAY:
            continue
        outcome = kinds[d.kind] if d.reason is None else f"dlq:{d.reason}"[:32]
        want_outcome[dedupe_key(d.value)] = (HOME, {outcome})
    missing = [k for k in want_outcome if k not in actual]
    extra = [k for k in actual if k not in want_outcome]
    scenario_by_key = {dedupe_key(d.value): d for d in inp.deliveries if d.kind != REPLAY}

    def described(k: str) -> dict[str, object]:
        d = scenario_by_key.get(k)
        if d is None:
            return {"synthetic": True}
        key = (d.key or b"").decode(errors="replace")
        return {"kind": d.kind, "key": key, **_peek(opener, d), "applied_at": applied_at.get(k)}

    wrong = {
        k: {
            "expected": sorted(want_outcome[k][1]),
            "region": want_outcome[k][0],
            "got": actual[k],
            **described(k),
        }
        for k in want_outcome
        if k in actual
        and (actual[k][0] != want_outcome[k][0] or actual[k][1] not in want_outcome[k][1])
    }
    checks["records_expected"] = len(want_outcome)
    checks["records_finished"] = len(actual)
    checks["every_record_finished_once"] = not missing and not extra
    checks["every_outcome_as_expected"] = not wrong
    if missing or extra or wrong:
        checks["records_missing"] = missing[:20]
        checks["records_missing_count"] = len(missing)
        checks["records_unexpected"] = extra[:20]
        checks["records_wrong_outcome"] = dict(list(wrong.items())[:20])
        checks["records_wrong_outcome_count"] = len(wrong)
    want_counts = Counter({"applied": len(inp.docs)}) + Counter(
        next(iter(o)) for key, (_, o) in want_outcome.items() if key not in inp.synthetic
    )
    checks["outcome_counts"] = dict(sorted(outcomes.items()))
    checks["outcome_counts_as_expected"] = Counter(outcomes) == want_counts
    if Counter(outcomes) != want_counts:
        checks["outcome_counts_expected"] = dict(sorted(want_counts.items()))

    # (3) dead-letter counts: each hostile record once, with its reason
    want_dead = dict(Counter(d.reason for d in hostile if d.reason))
    checks["dead_letter_counts"] = {r: c for r, c in dead.items() if c}
    checks["dead_letters_as_expected"] = dead[HOME] == want_dead and not any(
        c for r, c in dead.items() if r != HOME
    )
    if not checks["dead_letters_as_expected"]:
        checks["dead_letter_counts_expected"] = {HOME: want_dead}

    # (4) the hostile scenario's cases at their expected revision and status
    wrong_cases = {
        cid: {
            "expected": list(state),
            "got": list(stored[cid]) if cid in stored else None,
            # every record under this case id, in publishing order: what became of it
            "records": [
                {
                    "kind": d.kind,
                    **_peek(opener, d),
                    "expected_reason": d.reason,
                    "outcome": actual.get(dedupe_key(d.value), (None, None))[1],
                    "applied_at": applied_at.get(dedupe_key(d.value)),
                }
                for d in inp.deliveries
                if d.key == cid.encode()
            ],
        }
        for cid, state in inp.scenario.final.items()
        if stored.get(cid) != state
    }
    checks["scenario_cases_as_expected"] = not wrong_cases
    if wrong_cases:
        checks["scenario_cases_wrong"] = dict(list(wrong_cases.items())[:20])
    checks["all_passed"] = all(
        bool(checks[k])
        for k in (
            "cells_equal",
            "every_record_finished_once",
            "every_outcome_as_expected",
            "outcome_counts_as_expected",
            "dead_letters_as_expected",
            "scenario_cases_as_expected",
        )
    )
    return checks


async def _dlq_topic(bootstrap: str, time_limit: float = 60.0) -> dict[str, object]:
    """Records on every region's DLQ topic: all, and distinct values (a batch whose offsets
    a SIGKILL kept from committing sends its dead letters again: at least once there)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    seen: Counter[str] = Counter()
    by_region: Counter[str] = Counter()
    try:
        await consumer.topics()
        parts: list[TopicPartition] = []
        topic_region: dict[str, str] = {}
        for region in Region:
            topic = dlq_topic(region)
            topic_region[topic] = region.value
            parts.extend(
                TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])
            )
        consumer.assign(parts)
        await consumer.seek_to_beginning()
        deadline = time.monotonic() + time_limit
        quiet_since = time.monotonic()
        while time.monotonic() < deadline and time.monotonic() - quiet_since < _QUIET_SECONDS:
            batch = await consumer.getmany(timeout_ms=500, max_records=2000)
            for tp, records in batch.items():
                for r in records:
                    seen[hashlib.sha256(r.value or b"").hexdigest()] += 1
                    by_region[topic_region[tp.topic]] += 1
            if batch:
                quiet_since = time.monotonic()
    finally:
        await consumer.stop()
    return {
        "records": sum(seen.values()),
        "distinct_values": len(seen),
        "sent_more_than_once": sum(1 for n in seen.values() if n > 1),
        "by_region": dict(by_region),
    }


# -- hostile timing, in-process ---------------------------------------------------------


async def _create_database(admin_dsn: str, name: str) -> str:
    conn = await asyncpg.connect(admin_dsn, timeout=10)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return admin_dsn.replace("postgresql://", "postgresql+asyncpg://", 1).rsplit("/", 1)[0] + (
        f"/{name}"
    )


def _home_aggregator(
    forum: Forum, store: CaseStore, sink: MemoryDeadLetterSink
) -> RegionAggregator:
    """The home region's aggregator as ``dief aggregate`` holds it: its opening keys and a
    fresh real token check (its own cache) under the directory's issuer keys."""
    openers, verifier = aggregator_keys(forum.path, forum.passphrase)
    return RegionAggregator(Region(HOME), openers[Region(HOME)], store, sink, credentials=verifier)


async def _handle_all(
    url: str, forum: Forum, records: Sequence[InboundRecord], sizes: Sequence[int]
) -> tuple[float, Counter[str], MemoryDeadLetterSink]:
    sink = MemoryDeadLetterSink()
    outcomes: Counter[str] = Counter()
    elapsed = 0.0
    async with CaseStore(url) as store:
        agg = _home_aggregator(forum, store, sink)
        start = 0
        for size in sizes:
            batch = records[start : start + size]
            if not batch:
                break
            began = time.perf_counter()
            report = await agg.handle(batch)
            elapsed += time.perf_counter() - began
            outcomes.update(report.outcomes)
            start += len(batch)
    return elapsed, outcomes, sink


async def _hostile_timing(
    admin_dsn: str, forum: Forum, deliveries: Sequence[Delivery], seed: int
) -> dict[str, object]:
    # One warning per dead letter (the service logs them) would time stderr, not the
    # aggregator: quiet while measuring.
    logger = logging.getLogger("dief.aggregator")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        return await _hostile_timing_quiet(admin_dsn, forum, deliveries, seed)
    finally:
        logger.setLevel(level)


async def _hostile_timing_quiet(  # noqa: PLR0914  one measured procedure: its steps in the order they are timed
    admin_dsn: str, forum: Forum, deliveries: Sequence[Delivery], seed: int
) -> dict[str, object]:
    rng = random.Random(seed)
    topic = cases_topic(Region(HOME))
    records = [
        InboundRecord(topic, 0, offset, d.key, d.value) for offset, d in enumerate(deliveries)
    ]
    sizes: list[int] = []
    while sum(sizes) < len(records):
        sizes.append(rng.randint(1, HANDLE_MAX_BATCH))
    hostile = sum(1 for d in deliveries if d.reason)

    url = await _create_database(admin_dsn, "dief_chaos_hostile")
    elapsed, outcomes, sink = await _handle_all(url, forum, records, sizes)
    letters = Counter(d.record.offset for d in sink.sent)
    by_offset = {d.record.offset: d.reason for d in sink.sent}
    expected = {o: d.reason for o, d in enumerate(deliveries) if d.reason}
    sink_ok = all(n == 1 for n in letters.values()) and by_offset == expected

    # The same batches without the hostile records: what the good ones cost alone.
    good_idx = [i for i, d in enumerate(deliveries) if not d.reason]
    good_records = [records[i] for i in good_idx]
    good_sizes: list[int] = []
    start = 0
    for size in sizes:
        good_sizes.append(sum(1 for d in deliveries[start : start + size] if not d.reason))
        start += size
    good_url = await _create_database(admin_dsn, "dief_chaos_good")
    good_elapsed, _, _ = await _handle_all(
        good_url, forum, good_records, [n for n in good_sizes if n > 0]
    )

    # Each hostile record's refusal alone (decode: open, validate), by class.
    decode_us: dict[str, list[float]] = {}
    async with CaseStore(url) as store:
        agg = _home_aggregator(forum, store, MemoryDeadLetterSink())
        for rec, d in zip(records, deliveries, strict=True):
            if not d.reason:
                continue
            began = time.perf_counter()
            with contextlib.suppress(Exception):
                agg.decode(rec)
            decode_us.setdefault(d.kind, []).append((time.perf_counter() - began) * 1e6)
    return {
        "records": len(records),
        "hostile": hostile,
        "batches": len(sizes),
        "handle_seconds": round(elapsed, 3),
        "us_per_hostile_record": round(elapsed / hostile * 1e6, 1),
        "definition": "all handle time of the scenario (hostile records among their good "
        "ones, random batches of 1-200) / hostile records, as test_hostile_records prints it",
        "good_only_handle_seconds": round(good_elapsed, 3),
        "marginal_us_per_hostile_record": round((elapsed - good_elapsed) / hostile * 1e6, 1),
        "refusal_us_by_class": {
            k: {"median": round(statistics.median(v), 1), "mean": round(statistics.mean(v), 1)}
            for k, v in sorted(decode_us.items())
        },
        "outcomes": dict(sorted(outcomes.items())),
        "every_hostile_dead_lettered_once_with_its_reason": sink_ok,
    }


# -- the phase --------------------------------------------------------------------------


async def _forum(work: Path, lines: Sequence[InputLine], log: Callable[[str], None]) -> Forum:
    """The run's simulated forum: a node per State of *lines*, holding a token for every
    region of each cycle its cases fall in, and the hostile scenario's nodes (its posters
    and its attacker, nodes of their own: their cases count as other contributors), holding
    theirs for the scenario's cycles; all from one issuer, so the directory's token counts
    cover every pseudonym the aggregator sees."""
    wanted: dict[str, set[str]] = cycles_of(json.loads(x.raw) for x in lines)
    clash = set(wanted) & set(SCENARIO_NODES)
    if clash:
        raise RuntimeError(f"States named like hostile-scenario nodes: {sorted(clash)}")
    wanted.update({name: set(CYCLES) for name in SCENARIO_NODES})
    t = time.monotonic()
    forum = await Forum.create(work / "keys", wanted)
    log(f"  forum: {len(wanted)} simulated nodes and their tokens ({time.monotonic() - t:.1f} s)")
    return forum


async def chaos_phase(  # noqa: PLR0915, PLR0914, PLR0913  one measured procedure: its steps in the order they are timed; the phase's inputs, passed by the bench driver
    s: ChaosSettings,
    work: Path,
    *,
    catalogue_version: str,
    ids: list[str],
    today: date,
    log: Callable[[str], None],
) -> dict[str, object]:
    conftest = _tests_conftest()
    binaries = conftest._find_binaries()
    if binaries is None:
        raise RuntimeError("PostgreSQL binaries (initdb, pg_ctl) not found for --chaos")
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        cluster = stack.enter_context(conftest._throwaway_cluster(binaries))
        admin = cluster.dsn
        url = await _create_database(admin, DATABASE)
        dsn = admin.rsplit("/", 1)[0] + f"/{DATABASE}"
        log(f"chaos: PostgreSQL cluster at {admin.split('@')[1].split('/')[0]}")

        lines = _synthetic(s.cases, s.seed, ids, today)
        forum = await _forum(work, lines, log)
        # Not the synthetic generator's seed: both draw case ids from a seeded Mersenne
        # Twister, and the same seed gives the same ids (a case "posted" by two nodes).
        rng = random.Random(f"bench-chaos-hostile-{s.seed}")
        per_class = -(-s.hostile // len(HOSTILE_CLASSES))
        t = time.monotonic()
        scenario = build_scenario(
            forum.forum,
            {name: forum.node(name) for name in SCENARIO_NODES},
            rng,
            cases=max(30, per_class * 3),
            per_class=per_class,
        )
        deliveries = scenario.interleave(rng)
        hostile = [d for d in deliveries if d.reason]
        generate_hostile = time.monotonic() - t
        shared = {str(json.loads(x.raw)["case_id"]) for x in lines} & {
            str(d["case_id"]) for d in scenario.good_docs
        }
        if shared:
            raise RuntimeError(f"synthetic and hostile-scenario case ids collide: {sorted(shared)}")
        log(
            f"  {len(lines):,} synthetic cases; {len(hostile):,} hostile records "
            f"({per_class} per class x {len(HOSTILE_CLASSES)} classes) among "
            f"{len(deliveries):,} scenario records ({generate_hostile:.1f} s to make)"
        )

        (work / "chaos").mkdir(parents=True, exist_ok=True)
        async with EmbeddedBroker(log_path=work / "chaos" / "broker.log") as broker:
            t_post = time.monotonic()
            accepted, fleet, posted = await _post(
                work / "chaos",
                forum,
                broker.bootstrap,
                lines,
                deliveries,
                catalogue_version=catalogue_version,
                today=today,
                log=log,
            )
            docs = [json.loads(x.raw) for x in lines if x.line in accepted]
            inp = Input(
                docs,
                scenario,
                deliveries,
                synthetic=dict(_outbox_keys(fleet.outbox_paths())),
                posted_seconds=posted,
                node_records=fleet.times.records,
                rejected=fleet.times.rejected,
                rejected_reasons=dict(fleet.times.reasons),
            )
            del lines
            distinct = set(inp.synthetic) | {
                dedupe_key(d.value) for d in deliveries if d.kind != REPLAY
            }
            total = len(distinct)
            delivered = inp.node_records + len(deliveries)
            log(
                f"  posted in {posted:.1f} s: {inp.node_records:,} node records "
                f"({inp.rejected} cases refused) + {len(deliveries):,} raw; "
                f"{total:,} distinct records to finish"
            )

            agg = AggregatorProcess(
                broker.bootstrap, url, forum, work / "chaos" / "aggregate.log", s.max_batch
            )
            progress = Progress(dsn)
            meter = LoadMeter(lambda: {"broker": broker.pid or 0})
            meter.start()
            try:
                run = await _run_chaos(s, agg, progress, cluster, total, log)
            except BaseException:
                log(agg.log_tail())
                raise
            finally:
                agg.cleanup()
                await progress.close()
            load = meter.finish()
            # The aggregator is a new process after each kill, PostgreSQL not ours to
            # meter: "other" is everything but this process and the broker; split it.
            wall = float(load["wall_seconds"])  # type: ignore[arg-type]
            agg_cores = float(run["aggregator_cpu_seconds"]) / max(wall, 1e-9)  # type: ignore[arg-type]
            load["aggregator_cores"] = round(agg_cores, 2)
            load["postgres_and_other_cores"] = round(
                max(float(load["other_cores"]) - agg_cores, 0.0),  # type: ignore[arg-type]
                2,
            )
            seconds = float(run["first_start_to_last_record_seconds"])  # type: ignore[arg-type]
            end_to_end = float(run.pop("done_monotonic")) - t_post  # type: ignore[arg-type]
            log(
                f"  all {total:,} records finished {seconds:.1f} s after the first start "
                f"({delivered / seconds:,.0f} records/s delivered, through "
                f"{len(run['kills'])} kills and 1 restart)"  # type: ignore[arg-type]
            )
            dlq = await _dlq_topic(broker.bootstrap)
        log("  checking cells, outcomes and dead letters")
        t = time.monotonic()
        openers, _ = aggregator_keys(forum.path, forum.passphrase)
        checks = await _check(url, dsn, inp, openers[Region(HOME)])
        check_seconds = time.monotonic() - t
        log(
            f"  cells equal: {checks['cells_equal']} ({checks['cells_compared']:,} cells); "
            f"every record once: {checks['every_record_finished_once']}; outcomes: "
            f"{checks['every_outcome_as_expected']}; dead letters: "
            f"{checks['dead_letters_as_expected']}"
        )
        log("  hostile records in-process (RegionAggregator.handle)")
        timing = await _hostile_timing(admin, forum, deliveries, s.seed + 1)
        log(
            f"  {timing['us_per_hostile_record']} us per hostile record "
            f"(marginal {timing['marginal_us_per_hostile_record']} us)"
        )
    kinds = Counter(d.kind for d in deliveries)
    return {
        "benchmark": "chaos",
        "settings": {
            "cases": s.cases,
            "hostile_requested": s.hostile,
            "kills": s.kills,
            "kill_range": [s.first_kill, s.last_kill],
            "aggregator_max_batch": s.max_batch or 2000,
            "seed": s.seed,
            "postgres": "throw-away cluster (tests/conftest.py): fsync=off, "
            "synchronous_commit=off, full_page_writes=off, 127.0.0.1",
        },
        "input": {
            "forum_nodes": len(forum.states()),
            "synthetic_cases": s.cases,
            "synthetic_accepted": len(inp.docs),
            "synthetic_refused": inp.rejected,
            "synthetic_refused_reasons": inp.rejected_reasons,
            "node_records": inp.node_records,
            "hostile_records": len(hostile),
            "hostile_classes": len(HOSTILE_CLASSES),
            "hostile_reasons": dict(Counter(d.reason for d in hostile if d.reason)),
            "scenario_records": len(deliveries),
            "scenario_kinds": dict(sorted(kinds.items())),
            "records_delivered": delivered,
            "distinct_records": total,
            "post_seconds": round(inp.posted_seconds, 1),
        },
        "run": {
            **run,
            "records_per_second_delivered": round(delivered / seconds, 1),
            "records_per_second_excluding_restart_waits": round(
                delivered / max(seconds - float(run["restart_waits_seconds"]), 1e-9),  # type: ignore[arg-type]
                1,
            ),
            "distinct_records_per_second": round(total / seconds, 1),
            "first_post_to_last_record_seconds": round(end_to_end, 2),
            "records_per_second_first_post_to_last_record": round(delivered / end_to_end, 1),
            "load": load,
        },
        "dlq_topics": dlq,
        "checks": checks,
        "check_seconds": round(check_seconds, 1),
        "hostile_timing": timing,
        "chaos_seconds": round(time.monotonic() - started, 1),
    }


# -- the note ---------------------------------------------------------------------------


def chaos_markdown(r: dict[str, Any]) -> str:
    m = r["machine"]
    i, run, c, h = r["input"], r["run"], r["checks"], r["hostile_timing"]
    yes = {True: "yes", False: "**NO**"}
    out = [
        "# Chaos run: SIGKILLs, a PostgreSQL restart and hostile records",
        "",
        f"`{r['command']}` — {r['date']}, {r['total_seconds']} s in all.",
        "",
        (
            f"Machine: {m['cpus']} x {m['cpu_model']}, {m['memory_gib']} GiB, "
            f"Python {m['python']}; {m['broker']}; PostgreSQL: {r['settings']['postgres']}."
        ),
        "",
        (
            f"Trust model: one simulated forum of {i['forum_nodes']} nodes (every party's keys "
            "in its own keyring, a signed directory); every record carries its owner's signature "
            "and a real RFC 9474 contributor token from the forum's issuer, which `dief aggregate` "
            "(opened on the forum's folder, `DIEF_KEYRING__PATH`) verifies under the directory's "
            "issuer key of its (cycle, region)."
        ),
        "",
        "| figure | value |",
        "|---|---|",
        f"| synthetic cases posted by the nodes (refused by the node, why) | "
        f"{i['synthetic_cases']:,} ({i['synthetic_refused']:,}"
        + "".join(f", {k} {v:,}" for k, v in i.get("synthetic_refused_reasons", {}).items())
        + f") → {i['node_records']:,} records |",
        (
            f"| hostile records ({i['hostile_classes']} classes), raw on the AFR topic | "
            f"{i['hostile_records']:,} among {i['scenario_records']:,} scenario records |"
        ),
        (
            f"| records delivered / distinct records to finish | {i['records_delivered']:,} / "
            f"{i['distinct_records']:,} |"
        ),
        f"| SIGKILLs of `dief aggregate --all` | {len(run['kills'])} |",
        f"| PostgreSQL restarts (`pg_ctl restart -m fast`) | {len(run['postgres_restarts'])} |",
        (
            f"| posting (nodes: validate, screen, seal, outbox, relay; hostile raw) | "
            f"{i['post_seconds']} s |"
        ),
        (
            f"| aggregator: first start → last record finished (kills and restart included) | "
            f"{run['first_start_to_last_record_seconds']} s |"
        ),
        (
            f"| records/s overall, aggregator (delivered / distinct) | "
            f"{run['records_per_second_delivered']:,} / {run['distinct_records_per_second']:,} |"
        ),
        (
            f"| first post → last record finished; records/s delivered | "
            f"{run['first_post_to_last_record_seconds']} s; "
            f"{run['records_per_second_first_post_to_last_record']:,} |"
        ),
        (
            f"| records/s, aggregator, leaving out the waits from each restart to its first "
            f"commit ({run['restart_waits_seconds']} s) | "
            f"{run['records_per_second_excluding_restart_waits']:,} |"
        ),
        (
            f"| cores: aggregator / broker + this process / PostgreSQL and anything else | "
            f"{run['load']['aggregator_cores']} / {run['load']['benchmark_cores']} / "
            f"{run['load']['postgres_and_other_cores']} |"
        ),
        (
            f"| batches the aggregator logged as not applied and retried | "
            f"{run['batches_not_applied_and_retried']} |"
        ),
        (
            f"| time per hostile record, in-process (all handle time / hostile) | "
            f"{h['us_per_hostile_record']} µs |"
        ),
        (
            f"| marginal time per hostile record (minus the good records alone) | "
            f"{h['marginal_us_per_hostile_record']} µs |"
        ),
        (
            f"| cells equal to the plain input's, every region, with and without red "
            f"({c['cells_compared']:,} cells) | {yes[bool(c['cells_equal'])]} |"
        ),
        (
            f"| every record finished exactly once ({c['records_finished']:,} of "
            f"{c['records_expected']:,}) | {yes[bool(c['every_record_finished_once'])]} |"
        ),
        (
            f"| every record's outcome as expected (good: applied; hostile: its reason) | "
            f"{yes[bool(c['every_outcome_as_expected'])]} |"
        ),
        (
            f"| dead-letter counts = hostile records' reasons, once each | "
            f"{yes[bool(c['dead_letters_as_expected'])]} |"
        ),
        (
            f"| scenario cases at their expected revision and status | "
            f"{yes[bool(c['scenario_cases_as_expected'])]} |"
        ),
        (
            f"| SIGTERM at the end: exit code, seconds | {run['sigterm_exit_code']}, "
            f"{run['sigterm_seconds']} |"
        ),
        (
            f"| DLQ topics: records / distinct (a kill resends a batch's dead letters) | "
            f"{r['dlq_topics']['records']:,} / {r['dlq_topics']['distinct_values']:,} |"
        ),
        f"| phase wall time (cluster, input, chaos, checks, timing) | {r['chaos_seconds']} s |",
        "",
        f"Kills (progress = rows of `applied_records`, of {i['distinct_records']:,}):",
        "",
        "| # | rows at kill | progress | s into run | restart → first commit (s) |",
        "|---|---|---|---|---|",
    ]
    out += [
        f"| {k['n']} | {k['rows_at_kill']:,} | {k['fraction_at_kill']:.1%} | "
        f"{k['seconds_into_run']} | {k['restart_to_first_commit_seconds']} |"
        for k in run["kills"]
    ]
    for p in run["postgres_restarts"]:
        out += [
            "",
            (
                f"PostgreSQL restart at {p['rows_before']:,} rows ({p['fraction_before']:.1%}), "
                f"{p['seconds_into_run']} s into the run: `pg_ctl restart` took "
                f"{p['pg_ctl_restart_seconds']} s, first commit "
                f"{p['server_back_to_first_commit_seconds']} s after the server was back."
            ),
        ]
    out += [
        "",
        "Dead letters by reason (database): "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(c["dead_letter_counts"].get(HOME, {}).items())),
        "",
        "Refusal (decode: open, validate) per hostile record, median µs by class: "
        + ", ".join(f"{k} {v['median']}" for k, v in h["refusal_us_by_class"].items()),
        "",
    ]
    if not c["all_passed"]:
        out += ["**Checks failed**: see `checks` in the JSON file for the evidence.", ""]
    return "\n".join(out)
