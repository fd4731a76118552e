"""Shared helpers for integration tests of the node → broker → aggregator pipeline.

Import with ``from tests.integration._pipeline_helpers import ...`` (tests are packages).
Everything here is plain code, no fixtures, so a test module picks what it needs:

- :class:`Forum` — a throw-away keyring (fast KDF) and region sealers/openers.
- :func:`case_doc` — a complete plain case document, every field explicit.
- :class:`Nodes` — simulated national nodes (one :class:`NodeIdentity` and outbox per
  ``submitted_by``) that post documents through ``NationalNode`` + ``OutboxRelay`` and keep
  every sealed entry they published, so a test can redeliver the exact bytes.
- :func:`expected_cells` — the cells the DESIGN §5 counting rules give for plain case
  documents, computed without any DIEF aggregation code; :func:`store_cells` — the same
  shape read from a :class:`CaseStore`.
- :func:`database_url` — a SQLite file, or a fresh database on the session's PostgreSQL
  server dropped afterwards (in a test marked ``postgres``: :data:`DATABASE_KINDS` are the
  ``kind`` parameters for a test on both, the PostgreSQL one marked).
- :func:`running_aggregators` — in-process regional aggregators on a broker; yields a
  :class:`Processed` counter that waits on the aggregators' batch reports.
- :func:`publish_raw`, :func:`read_topic` — plain aiokafka producer and consumer
  (``assign`` + ``seek_to_beginning``; never ``end_offsets``, which Tansu answers wrongly).
- :func:`wait_until` — poll a condition until true, failing after a time limit.

Every function taking a ``bootstrap`` also takes a :class:`_brokers.BrokerStack` (one test
body on the embedded broker and on Apache Kafka): then nodes publish as ``node``, a single
region's aggregator consumes as ``aggregator-<region>``, and everything else is ``admin``.
"""

from __future__ import annotations

import asyncio
import io
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import (
    AsyncGenerator,
    Awaitable,
    Callable,
    Coroutine,
    Generator,
    Iterable,
    Mapping,
    Sequence,
)
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, TypeVar

import pytest
from aiokafka import (
    AIOKafkaClient,
    AIOKafkaConsumer,
    AIOKafkaProducer,
    ConsumerRecord,
    TopicPartition,
)

from dief.aggregator import BatchReport, RegionAggregator
from dief.credentials import SimulatedIssuer, TokenVerifier, TokenWallet
from dief.crypto.envelope import Opener, Sealer
from dief.database import sqlite_url
from dief.kafka import (
    BATCH_TIME_LIMIT,
    KafkaDeadLetterSink,
    NodePublisher,
    cases_topic,
    make_broker,
)
from dief.keyring import KdfParams, KeyRole, SimulatedForum
from dief.node import NationalNode, NodeIdentity, Outbox, OutboxRelay
from dief.periods import CspCycle
from dief.seams import OutboxEntry, ReceiptSink
from dief.settings import KafkaSettings
from dief.vocab import Region
from dief.wire import TYPE_CASE, case_id_for, case_padded_size, generalise, parse_case

from tests.integration._brokers import BrokerStack  # isort: skip  (tests/integration is on the path)

if TYPE_CHECKING:
    from pathlib import Path

    from aiokafka.structs import RecordMetadata

    from dief.aggregator.store import CaseStore

TODAY = date(2026, 6, 15)
PASSPHRASE = "integration-test-passphrase"
FAST_KDF = KdfParams(iterations=1, lanes=1, memory_kib=8)

#: (period, dimension, value, cycle) → (cases, distinct contributors), as ``CellRow`` has it.
Cells = dict[tuple[str, str, str, str], tuple[int, int]]
Doc = dict[str, object]
#: A bootstrap address (the embedded broker, PLAINTEXT) or a broker stack.
Target = str | BrokerStack


def target_settings(target: Target, user: str = "admin") -> KafkaSettings:
    """DIEF's Kafka settings for *target* as *user* (the embedded profile for a string)."""
    if isinstance(target, str):
        return KafkaSettings(bootstrap=target, embedded=True)
    return target.settings(user)


def client_options(target: Target, user: str = "admin") -> dict[str, object]:
    """The aiokafka keyword arguments (``bootstrap_servers`` included) for *target* as *user*."""
    if isinstance(target, str):
        return {"bootstrap_servers": target}
    return target.client_options(user)


# -- keys -------------------------------------------------------------------------------


_T = TypeVar("_T")


class Forum:
    """A local forum keyring in a temporary directory (DESIGN §4), unlocked."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.ring = SimulatedForum.create(path, PASSPHRASE)
        #: the Secretariat's issuer, answering the simulated nodes in process
        self.issuer = SimulatedIssuer(self.ring)

    def verifier(self) -> TokenVerifier:
        """The aggregators' check of contributor tokens (the directory's issuer keys)."""
        return self.issuer.verifier()

    def sealer(self, region: Region | str, *, keys_of: Region | str | None = None) -> Sealer:
        """A case sealer labelled *region*, wrapping to *keys_of*'s key (default: the same
        region; another region makes a record the labelled region cannot open)."""
        return Sealer(
            type=TYPE_CASE,
            region=str(region),
            recipients=self.ring.sealing_keys(KeyRole.REGION, str(keys_of or region)),
        )

    def opener(self, region: Region | str) -> Opener:
        return Opener(self.ring.opening_keys(KeyRole.REGION, str(region)))


# -- cases ------------------------------------------------------------------------------


def case_doc(submitted_by: str, region: str, **fields: object) -> Doc:
    """A valid case document with every field explicit (override any with *fields*)."""
    doc: Doc = {
        "case_id": str(uuid.uuid4()),
        "revision": 1,
        "status": "active",
        "kind": "case",
        "confidence": "suspected",
        "region": region,
        "related_regions": [],
        "detected": "2026-01",
        "items": [{"category": "small_arms", "quantity": 12}],
        "transfer_stage": "in_transit",
        "methods": ["falsified_documents"],
        "transport_modes": ["sea"],
        "end_user_type": "criminal_organization",
        "risk_indicators": ["DOC-01"],
        "detection_source": "customs_border_control",
        "actions_taken": ["seizure"],
        "tlp": "amber",
        "submitted_by": submitted_by,
    }
    doc.update(fields)
    return doc


def revise(doc: Doc, revision: int, **fields: object) -> Doc:
    """A later revision of *doc* by the same submitter."""
    return {**doc, "revision": revision, **fields}


def _cycles(docs: Sequence[Doc]) -> set[str]:
    """The CSP cycles of *docs*' detection months."""
    return {str(parse_case(d, today=TODAY).detected_month.cycle()) for d in docs}


def _run_sync(coro: Coroutine[object, object, _T]) -> _T:
    """Run *coro* to its end from synchronous test code, on a thread of its own (the
    test's event loop may be running)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


class Nodes:
    """Simulated national nodes, one per ``submitted_by``, posting to one broker."""

    def __init__(self, forum: Forum, bootstrap: Target, work: Path) -> None:
        self._forum = forum
        self._work = work
        self._identities: dict[str, NodeIdentity] = {}
        self._labels: dict[str, str] = {}
        self._outboxes: dict[str, Outbox] = {}
        #: each doc's case id (its submitter's reference) → the case id its node derived
        self.case_ids: dict[str, str] = {}
        self._sealers = {r: forum.sealer(r) for r in Region}
        self._publisher = NodePublisher(target_settings(bootstrap, "node"), client_id="dief-node")
        #: every sealed entry published, in order
        self.sent: list[OutboxEntry] = []

    def _label(self, submitter: str) -> str:
        """The submitter's node label in the forum (never the submitter itself)."""
        return self._labels.setdefault(submitter, f"node-{len(self._labels):03d}")

    def identity(self, submitter: str) -> NodeIdentity:
        if submitter not in self._identities:
            (node,) = _run_sync(self._forum.issuer.issue({self._label(submitter): []})).values()
            self._identities[submitter] = NodeIdentity(node.secret)
        return self._identities[submitter]

    async def tokens(self, submitter: str, cycles: Iterable[str]) -> TokenWallet:
        """The submitter's wallet, holding a token for every region of *cycles*."""
        self.identity(submitter)
        made = await self._forum.issuer.issue({self._label(submitter): cycles})
        return made[self._label(submitter)].wallet

    def credentials(self, submitter: str, cycle: str | None = None) -> TokenWallet:
        """The submitter's wallet (with every region's token of *cycle*, if given)."""
        return _run_sync(self.tokens(submitter, [cycle] if cycle else []))

    def case_id(self, doc: Doc) -> str:
        """The id *doc*'s case travels under (after it was posted)."""
        return self.case_ids[str(doc["case_id"])]

    async def _outbox(self, submitter: str) -> Outbox:
        if submitter not in self._outboxes:
            box = Outbox(self._work / f"node-{len(self._outboxes):03d}.sqlite")
            await box.start()
            self._outboxes[submitter] = box
        return self._outboxes[submitter]

    async def post(self, docs: Sequence[Doc]) -> list[OutboxEntry]:
        """Post *docs* through each submitter's node and publish them; returns the entries
        published (each case to its own region). Every doc must be accepted."""
        by_node: dict[str, list[Doc]] = defaultdict(list)
        for doc in docs:
            by_node[str(doc["submitted_by"])].append(doc)
        published: list[OutboxEntry] = []
        for submitter, mine in by_node.items():
            outbox = await self._outbox(submitter)
            node = NationalNode(
                self.identity(submitter),
                outbox,
                self._sealers,
                {r: cases_topic(r) for r in Region},
                credentials=await self.tokens(submitter, _cycles(mine)),
            )
            items = [(i + 1, parse_case(d, today=TODAY)) for i, d in enumerate(mine)]
            report = await node.submit(items)
            assert report.rejected == [], [(r.line, r.reason, r.message) for r in report.rejected]
            for accepted in report.accepted:
                reference = mine[accepted.line - 1].get("case_id")
                if reference is not None:
                    self.case_ids.setdefault(str(reference), accepted.case_id)
            pending = await outbox.pending(1_000_000)
            await OutboxRelay(outbox, self._publisher).drain_once()
            published.extend(p.entry for p in pending)
        self.sent.extend(published)
        return published

    def seal_as(self, submitter: str, doc: Doc, *, sealer: Sealer | None = None) -> OutboxEntry:  # noqa: PLR0914  the record's parts built in the order the node seals them
        """Seal *doc* as *submitter*'s node would, bypassing the outbox's revision check
        (for stale revisions a real node refuses to send again); *sealer* overrides the
        doc's region's sealer (for records a node should not have sent). A case posted by
        another node keeps its id but is signed with *submitter*'s own key: a forgery."""
        case = parse_case(doc, today=TODAY)
        ident = self.identity(submitter)
        cycle = CspCycle.of(case.detected_month)
        reference = str(doc["case_id"])
        outbox = self._outboxes.get(submitter)
        known = None if outbox is None else outbox.lookup(reference)
        key = ident.owner_key(known.index if known is not None else 10**6 + len(self.sent))
        raw = key.public_key().public_bytes_raw()
        case_id = self.case_ids.get(reference) or case_id_for(str(case.region), str(cycle), raw)
        unsigned = generalise(
            case, case_id=case_id, revision=int(str(doc["revision"])), owner_key=raw, cycle=cycle
        )
        wallet = self.credentials(submitter, str(cycle))
        credential = wallet.credential(str(cycle), str(case.region))
        assert credential is not None
        envelope_id = uuid.uuid4()
        record = unsigned.sign(credential, str(envelope_id), key.sign)
        region = Region(str(doc["region"]))
        value = (sealer or self._sealers[region]).seal(
            record.to_json(), pad_to=case_padded_size(record), record_id=envelope_id
        )
        return OutboxEntry(cases_topic(region), case_id.encode(), value, 0)

    async def close(self) -> None:
        await self._publisher.close()
        for box in self._outboxes.values():
            await box.stop()


def _cycle_of(month: str) -> str:
    year, mm = int(month[:4]), int(month[5:7])
    return f"CSP{year - 2013 if mm >= 9 else year - 2014}"


def _pairs(doc: Doc) -> set[tuple[str, str]]:
    def many(name: str) -> list[str]:
        value = doc[name]
        assert isinstance(value, list)
        return [str(v) for v in value]

    items = doc["items"]
    assert isinstance(items, list)
    pairs = {("_total", "_all")}
    pairs.update(
        (dim, str(doc[dim]))
        for dim in ("kind", "confidence", "transfer_stage", "end_user_type", "detection_source")
    )
    pairs.update(("item_category", str(i["category"])) for i in items)
    pairs.update(("method", v) for v in many("methods"))
    pairs.update(("transport_mode", v) for v in many("transport_modes"))
    pairs.update(("risk_indicator", v) for v in many("risk_indicators"))
    pairs.update(("action_taken", v) for v in many("actions_taken"))
    pairs |= _working_group_pairs(doc)
    return pairs


def _working_group_pairs(doc: Doc) -> set[tuple[str, str]]:
    """The Working Group's dimensions (docs/case-model.md), from the plain document: the
    transfer type always (``unknown`` when not given); each maritime feature; each actor's
    role, and as ``unregistered_actor`` when registered is ``no``; the check and its
    outcome; the reassessment's outcome, ``pending`` or ``not_reassessed``; each item's
    subcategory."""
    pairs = {("transfer_type", str(doc.get("transfer_type", "unknown")))}
    maritime = doc.get("maritime", [])
    assert isinstance(maritime, list)
    pairs.update(("maritime", str(m)) for m in maritime)
    actors = doc.get("actor_roles", [])
    assert isinstance(actors, list)
    for actor in actors:
        pairs.add(("actor_role", actor["role"]))
        if actor.get("registered") == "no":
            pairs.add(("unregistered_actor", actor["role"]))
    verification = doc.get("verification")
    if isinstance(verification, dict):
        pairs.add(("verification", verification["check"]))
        if verification.get("outcome") is not None:
            pairs.add(("verification_outcome", verification["outcome"]))
    reassessment = doc.get("reassessment")
    if isinstance(reassessment, dict):
        if not reassessment["reassessed"]:
            pairs.add(("reassessment", "not_reassessed"))
        else:
            pairs.add(("reassessment", reassessment.get("outcome") or "pending"))
    items = doc["items"]
    assert isinstance(items, list)
    pairs.update(("item_subcategory", i["subcategory"]) for i in items if i.get("subcategory"))
    return pairs


def expected_cells(docs: Iterable[Doc], *, include_red: bool = True) -> dict[str, Cells]:
    """Region → cells, by DESIGN §5 stated plainly: a case's owner is whoever posted it
    first; its latest revision from that owner counts, in its own region only, unless
    withdrawn; once per distinct value, in its month, quarter, half-cycle and cycle;
    contributors are distinct submitters per cycle."""
    owner: dict[str, object] = {}
    latest: dict[str, Doc] = {}
    for doc in docs:
        cid = str(doc["case_id"])
        owner.setdefault(cid, doc["submitted_by"])
        if doc["submitted_by"] != owner[cid]:
            continue  # a forged revision
        if cid not in latest or int(str(doc["revision"])) > int(str(latest[cid]["revision"])):
            latest[cid] = doc
    cases: dict[str, dict[tuple[str, str, str, str], set[str]]] = defaultdict(
        lambda: defaultdict(set)
    )
    counts: dict[str, Counter[tuple[str, str, str, str]]] = defaultdict(Counter)
    for doc in latest.values():
        if doc["status"] != "active" or (doc["tlp"] == "red" and not include_red):
            continue
        month = str(doc["detected"])[:7]
        year, mm = month[:4], int(month[5:7])
        cycle = _cycle_of(month)
        region = str(doc["region"])
        half = f"{cycle}-H1" if mm in {9, 10, 11, 12, 1, 2} else f"{cycle}-H2"  # September start
        for period in (month, f"{year}-Q{(mm - 1) // 3 + 1}", half, cycle):
            for dim, value in _pairs(doc):
                key = (period, dim, value, cycle)
                counts[region][key] += 1
                cases[region][key].add(str(doc["submitted_by"]))
    return {
        region: {k: (n, len(cases[region][k])) for k, n in by_key.items()}
        for region, by_key in counts.items()
    }


def periods_of(cells: Mapping[str, Cells]) -> list[str]:
    return sorted({key[0] for region_cells in cells.values() for key in region_cells})


async def store_cells(
    store: CaseStore, region: str, periods: Sequence[str], *, include_red: bool = True
) -> Cells:
    rows = await store.cell_rows(region, periods, include_red=include_red)
    return {(r.period, r.dimension, r.value, r.cycle): (r.count, r.contributors) for r in rows}


# -- databases --------------------------------------------------------------------------


#: ``kind`` parameters of a test run on both databases; the PostgreSQL one is marked
#: ``postgres``, which is what gives :func:`database_url` a server.
DATABASE_KINDS = ("sqlite", pytest.param("postgresql", marks=pytest.mark.postgres))

MakeDatabase = Callable[[], AbstractContextManager[str]]
#: ``make_postgres_database`` (tests/conftest.py) while a test marked ``postgres`` runs.
_make_postgres_database: MakeDatabase | None = None


@contextmanager
def postgres_for_database_url(make: MakeDatabase) -> Generator[None, None, None]:
    """Within: :func:`database_url` makes its PostgreSQL databases with *make*. The
    integration conftest does this around every test marked ``postgres``."""
    global _make_postgres_database  # noqa: PLW0603  the maker database_url reads, set for the duration of the with block
    _make_postgres_database = make
    try:
        yield
    finally:
        _make_postgres_database = None


@asynccontextmanager
async def database_url(kind: str, tmp_path: Path) -> AsyncGenerator[str, None]:
    """``"sqlite"``: a file in *tmp_path*. ``"postgresql"``: a fresh database on the
    session's PostgreSQL server (tests/conftest.py), dropped afterwards; only in a test
    marked ``postgres``."""
    if kind == "sqlite":
        yield sqlite_url(tmp_path / "aggregator.sqlite")
        return
    assert kind == "postgresql", f"unknown database kind {kind!r}"
    if _make_postgres_database is None:
        pytest.fail(
            "database_url('postgresql', ...) in a test not marked postgres: mark it "
            "(parametrize with DATABASE_KINDS, or pytest.param(..., marks=pytest.mark.postgres))"
        )
    with _make_postgres_database() as url:
        yield url


# -- aggregators ------------------------------------------------------------------------


@dataclass
class Processed:
    """The aggregators' batch reports, summed; ``wait_for(n)`` waits until *n* records
    were finished with (applied, related, stale, forged, dead-lettered or duplicate)."""

    outcomes: Counter[str] = field(default_factory=Counter)
    by_region: Counter[str] = field(default_factory=Counter)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def __call__(self, region: Region, report: BatchReport) -> None:
        self.outcomes.update(report.outcomes)
        self.by_region[region.value] += sum(report.outcomes.values())
        self._changed.set()

    @property
    def total(self) -> int:
        return sum(self.outcomes.values())

    async def wait_for(self, n: int, time_limit: float = 20.0) -> None:
        """Wait until *n* records were finished with; on time out, fail with each region's
        count and every task's stack (where a stuck consumer waits)."""
        deadline = time.monotonic() + time_limit
        while self.total < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pytest.fail(
                    f"only {self.total} of {n} records processed: {dict(self.outcomes)}; "
                    f"by region {dict(self.by_region)}\n{_task_stacks()}"
                )
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                continue


def _task_stacks() -> str:
    """The stack of every pending task of the running loop, for a time-out's message."""
    out = io.StringIO()
    for task in asyncio.all_tasks():
        out.write(f"--- {task.get_name()}\n")
        task.print_stack(limit=12, file=out)
    return out.getvalue()


@asynccontextmanager
async def running_aggregators(
    bootstrap: Target,
    forum: Forum,
    store: CaseStore,
    regions: Iterable[Region] = tuple(Region),
    *,
    receipts: ReceiptSink | None = None,
    time_limit: float = BATCH_TIME_LIMIT,
) -> AsyncGenerator[Processed, None]:
    """Regional aggregators as ``dief aggregate`` wires them, consuming from *bootstrap*
    (group ids ``dief-aggregator-<region>``: use a broker of the test's own), sending their
    receipts to *receipts* if given; a batch still running after *time_limit* seconds
    comes again."""
    from consumers.aggregator import register_aggregators  # noqa: PLC0415  consumers/ (the services' package, which imports dief) loaded only by tests that run an aggregator

    regions = tuple(regions)
    user = f"aggregator-{regions[0].topic_code}" if len(regions) == 1 else "admin"
    settings = target_settings(bootstrap, user)
    broker = make_broker(settings)
    processed = Processed()
    aggregators = {
        r: RegionAggregator(
            r,
            forum.opener(r),
            store,
            KafkaDeadLetterSink(broker, r),
            receipts=receipts,
            credentials=forum.verifier(),
        )
        for r in regions
    }
    register_aggregators(
        broker,
        aggregators,
        embedded=settings.embedded,
        on_report=processed,
        time_limit=time_limit,
    )
    await broker.start()
    try:
        yield processed
    finally:
        await broker.stop()


# -- plain Kafka clients ----------------------------------------------------------------


async def publish_raw(bootstrap: Target, entries: Iterable[OutboxEntry]) -> list[RecordMetadata]:
    """Publish (topic, key, value) as given, awaiting every acknowledgement; returns
    where each record landed (topic, partition, offset)."""
    producer = AIOKafkaProducer(
        **client_options(bootstrap),
        enable_idempotence=False,
        acks="all",
        max_request_size=2 << 20,
    )
    await producer.start()
    try:
        futures = [await producer.send(e.topic, e.value, key=e.key) for e in entries]
        return list(await asyncio.gather(*futures))
    finally:
        await producer.stop()


async def read_topic(
    bootstrap: Target, topic: str, n: int, time_limit: float = 15.0
) -> list[ConsumerRecord]:
    """The first *n* records of every partition of *topic* (fails if fewer arrive in time);
    then reads briefly on to report any extra record."""
    consumer = AIOKafkaConsumer(**client_options(bootstrap), enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = await topic_partitions(bootstrap, topic)
        consumer.assign([TopicPartition(topic, p) for p in partitions])
        await consumer.seek_to_beginning()
        found: list[ConsumerRecord] = []
        deadline = time.monotonic() + time_limit
        while len(found) < n and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            found.extend(r for records in batch.values() for r in records)
        extra = await consumer.getmany(timeout_ms=300)
        found.extend(r for records in extra.values() for r in records)
    finally:
        await consumer.stop()
    assert len(found) >= n, f"{topic}: {len(found)} of {n} records within {time_limit}s"
    return found


async def topic_partitions(target: Target, topic: str, time_limit: float = 15.0) -> list[int]:
    """The partitions of *topic*, from Metadata requests of aiokafka's public client until
    the broker lists the topic (a consumer has no public call for it: its own metadata
    names no topic on Apache Kafka until it tracks one; ``dief.kafka._read`` reads them the
    same way)."""
    client = AIOKafkaClient(**client_options(target))
    await client.bootstrap()
    found: set[int] = set()
    try:

        async def listed() -> bool:
            metadata = await client.fetch_all_metadata()
            found.update(metadata.partitions_for_topic(topic) or ())
            return bool(found)

        await wait_until(listed, time_limit, f"topic {topic} in the broker's metadata", 0.2)
    finally:
        await client.close()
    return sorted(found)


async def wait_until(
    check: Callable[[], bool | Awaitable[bool]], time_limit: float, what: str, every: float = 0.05
) -> None:
    """Poll *check* until it is true; fail with *what* after *time_limit* seconds."""
    deadline = time.monotonic() + time_limit
    while True:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {time_limit}s waiting for {what}")
        await asyncio.sleep(every)
