"""Operability on the embedded broker: the services' ``/metrics``, ``/healthz``, ``/readyz``
and logs, as an operator sees them.

- An aggregator service in process, with the endpoint on a free port: records a few good
  and a few bad, then the counters show exactly what was applied, refused as a duplicate or
  stale, and dead-lettered by reason; the lag drains to 0; ``/readyz`` is 503 before the
  service starts and after it stops, 200 while it runs.
- The Secretariat service likewise: refused digests counted by reason and destination.
- The canary: ``dief aggregate`` and ``dief node`` as subprocesses, once with text logs and
  once with JSON logs, over cases whose ``submitted_by`` is a State ("FRA", "France"): no
  line they write, and no label their endpoints serve, names the State, the node, or says
  the cases' summary text.

Waiting is on conditions (a counter's value, a port closed) with a deadline, never a fixed
sleep.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from consumers.aggregator import AggregatorService
from consumers.secretariat import SecretariatService
from dief.broker import EmbeddedBroker, pick_free_port
from dief.credentials import SimulatedIssuer, TokenWallet
from dief.database import sqlite_url
from dief.kafka import DIGESTS_TOPIC, cases_topic
from dief.keyring import SimulatedForum
from dief.observability import Observability
from dief.seams import OutboxEntry
from dief.secretariat import SecretariatStore
from dief.settings import (
    AggregatorSettings,
    KafkaSettings,
    KeyringSettings,
    MetricsSettings,
    SecretariatSettings,
)
from dief.vocab import Region
from tests.integration._pipeline_helpers import (
    PASSPHRASE,
    Forum,
    Nodes,
    case_doc,
    publish_raw,
    revise,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DIEF = Path(sys.executable).parent / "dief"
AFR = Region.AFR
TIME_LIMIT = 60.0

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def http_get(port: int, path: str) -> tuple[int, bytes]:
    """(status, body) of a GET on the loopback endpoint; (0, b"") if nothing listens."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except (urllib.error.URLError, ConnectionError):
        return 0, b""


async def get(port: int, path: str) -> tuple[int, bytes]:
    return await asyncio.to_thread(http_get, port, path)


def parse(body: bytes) -> Samples:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body.decode())
        for s in family.samples
    }


def sample(found: Samples, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


async def scrape_until(
    port: int, done: Callable[[Samples], bool], what: str, time_limit: float = TIME_LIMIT
) -> Samples:
    """Scrape ``/metrics`` until *done* holds; fail with *what* after *time_limit* seconds."""
    deadline = time.monotonic() + time_limit
    while True:
        status, body = await get(port, "/metrics")
        assert status == 200, body
        found = parse(body)
        if done(found):
            return found
        if time.monotonic() > deadline:
            shown = {k: v for k, v in found.items() if k[0].startswith("dief_")}
            pytest.fail(f"{what}: not within {time_limit:g}s; last scrape: {shown}")
        await asyncio.sleep(0.1)


def raw(value: bytes, key: bytes | None = None) -> OutboxEntry:
    return OutboxEntry(cases_topic(AFR), key or str(uuid.uuid4()).encode(), value, 0)


# -- keys and tokens: a simulated forum's per-party keys, real tokens --------------------------

#: The cycle of the cases posted here (detected 2026-01): the directory lists its issuer keys.
CYCLES = ("CSP12",)


async def fill_wallet(forum: SimulatedForum, label: str, path: Path) -> None:
    """The wallet file of the forum's node *label* with a token per region of
    :data:`CYCLES`, blind-signed by the Secretariat's issuer in process (what the exchange
    over Kafka, or its files offline, would have brought)."""
    node = (await SimulatedIssuer(forum).issue({label: CYCLES}))[label]
    with TokenWallet(node.secret, forum.directory.issuer_key, path=path, simulation=True) as kept:
        assert kept.restore(node.wallet.credentials()) == len(CYCLES) * len(Region)


# -- the aggregator in process ------------------------------------------------------------


async def test_the_aggregator_counts_what_it_applied_and_dead_lettered(
    module_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    bootstrap = module_broker.bootstrap
    submitters = ("S0", "S1")
    forum = Forum(tmp_path / "keys")
    nodes = Nodes(forum, bootstrap, tmp_path / "nodes")
    for submitter in submitters:  # tokens before the service reads the directory
        await nodes.tokens(submitter, CYCLES)
    port = pick_free_port()
    settings = AggregatorSettings(
        regions=[AFR],
        kafka=KafkaSettings(bootstrap=bootstrap, embedded=True),
        keyring=KeyringSettings(path=forum.path),
        database_url=SecretStr(sqlite_url(tmp_path / "aggregator.sqlite")),
        digest_interval=0,
        metrics=MetricsSettings(port=port),
    )
    # The endpoint is the test's, kept up around the service's life, so that /readyz can
    # be asked before the service starts and after it stops.
    observability = Observability(settings.metrics)
    service = AggregatorService(settings, SecretStr(PASSPHRASE), observability=observability)
    await observability.start()
    try:
        assert (await get(port, "/healthz"))[0] == 200
        status, body = await get(port, "/readyz")
        assert (status, json.loads(body)) == (503, {"status": "not ready", "reason": "not started"})

        # Waiting on the topic before the service starts, one case's records in order:
        # 5 cases applied, a revision 2 applied, then revision 1 redelivered (duplicate) and
        # sealed anew (stale); and three records dead-lettered.
        good = [case_doc(f"S{i % 2}", "AFR") for i in range(5)]
        sent = await nodes.post(good)
        await nodes.post([revise(good[0], 2)])
        await publish_raw(
            bootstrap,
            [
                sent[0],  # the same bytes again
                nodes.seal_as("S0", good[0]),  # revision 1 again, sealed anew
                raw(b"\xff\xfe not an envelope"),
                raw(forum.sealer("AFR", keys_of="APG").seal(b"{}")),
                replace(nodes.seal_as("S1", case_doc("S1", "AFR")), key=b"not-the-case-id"),
            ],
        )

        await service.start()
        try:
            deadline = time.monotonic() + TIME_LIMIT
            while (status := (await get(port, "/readyz"))[0]) != 200:
                assert time.monotonic() < deadline, f"/readyz still {status} while running"
                await asyncio.sleep(0.1)

            def finished(found: Samples) -> bool:
                records = sum(
                    v for (name, _), v in found.items() if name == "dief_aggregator_records_total"
                )
                letters = sum(
                    v
                    for (name, _), v in found.items()
                    if name == "dief_aggregator_dead_letters_total"
                )
                return records + letters >= 11

            found = await scrape_until(port, finished, "11 records finished with")
            records = "dief_aggregator_records_total"
            assert sample(found, records, region="AFR", outcome="applied") == 6
            assert sample(found, records, region="AFR", outcome="duplicate") == 1
            assert sample(found, records, region="AFR", outcome="stale") == 1
            assert sample(found, records, region="AFR", outcome="related") == 0
            letters = {
                dict(labels)["reason"]: v
                for (name, labels), v in found.items()
                if name == "dief_aggregator_dead_letters_total" and v
            }
            assert letters == {"malformed": 1, "no_recipient_key": 1, "key_mismatch": 1}
            assert sample(found, "dief_aggregator_batch_duration_seconds_count", region="AFR") >= 1
            assert sample(found, "dief_aggregator_batch_failures_total", region="AFR") == 0

            # every partition fetched from drains to lag 0 (fetch high watermarks)
            def drained(found: Samples) -> bool:
                lags = [v for (n, _), v in found.items() if n == "dief_aggregator_consumer_lag"]
                return bool(lags) and not any(lags)

            found = await scrape_until(port, drained, "the consumer lag drained to 0")
            partitions = {
                dict(labels)["partition"]
                for name, labels in found
                if name == "dief_aggregator_consumer_lag"
            }
            assert partitions <= {"0", "1", "2"}
            assert {dict(labels)["region"] for (name, labels) in found if "lag" in name} == {"AFR"}

            # label values are regions, codes, outcomes and partitions only
            for name, labels in found:
                if name.startswith("dief_"):
                    for key, label in labels:
                        assert re.fullmatch(r"[A-Za-z0-9_.+]+", label), (name, key, label)
        finally:
            await service.stop()
        status, body = await get(port, "/readyz")
        assert (status, json.loads(body)) == (503, {"status": "not ready", "reason": "stopped"})
        assert (await get(port, "/healthz"))[0] == 200
        # what was counted is still there to scrape
        found = parse((await get(port, "/metrics"))[1])
        assert sample(found, "dief_aggregator_records_total", region="AFR", outcome="applied") == 6
    finally:
        await observability.stop()
        await nodes.close()
    assert http_get(port, "/healthz") == (0, b"")


async def test_the_secretariat_counts_refused_digests_and_is_ready_while_running(
    module_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    forum = Forum(tmp_path / "keys")
    settings = SecretariatSettings(
        kafka=KafkaSettings(bootstrap=module_broker.bootstrap, embedded=True),
        keyring=KeyringSettings(path=forum.path),
        database_url=SecretStr(sqlite_url(tmp_path / "secretariat.sqlite")),
        metrics=MetricsSettings(port=pick_free_port()),
    )
    port = settings.metrics.port
    assert port is not None
    async with SecretariatStore(settings.database_url.get_secret_value()) as store:
        await store.record_withheld("CSP12", "a cell no suppression can protect")
    observability = Observability(settings.metrics)
    service = SecretariatService(settings, SecretStr(PASSPHRASE), observability=observability)
    await observability.start()
    try:
        assert (await get(port, "/readyz"))[0] == 503
        await publish_raw(
            module_broker.bootstrap,
            [
                OutboxEntry(DIGESTS_TOPIC, b"AFR", b"not a digest", 0),  # to AFR's DLQ
                OutboxEntry(DIGESTS_TOPIC, b"nobody", b"not a digest", 0),  # kept
            ],
        )
        await service.start()
        try:
            assert (await get(port, "/readyz"))[0] == 200
            refused = "dief_secretariat_digests_refused_total"

            def counted(found: Samples) -> bool:
                return (
                    sample(found, refused, reason="malformed", destination="dlq") >= 1
                    and sample(found, refused, reason="malformed", destination="kept") >= 1
                )

            found = await scrape_until(port, counted, "the two refusals counted")
            assert sample(found, refused, reason="malformed", destination="dlq") == 1
            assert sample(found, refused, reason="malformed", destination="kept") == 1
            assert sample(found, "dief_secretariat_digests_received_total", outcome="refused") == 2
            assert sample(found, "dief_secretariat_batch_failures_total") == 0
            # what the store holds withheld (before the first batch too: tests/unit)
            assert sample(found, "dief_secretariat_cycles_withheld") == 1
        finally:
            await service.stop()
        status, body = await get(port, "/readyz")
        assert (status, json.loads(body)["reason"]) == (503, "stopped")
    finally:
        await observability.stop()


# -- the canary: the services as subprocesses, in both log formats --------------------------

STATE_CODE = "FRA"
STATE_NAME = "France"
NODE_NAME = "marianne"
SUMMARY = "Quokka-lantern canary: the consignment left the bonded warehouse on a forged permit."


@dataclass
class Proc:
    proc: subprocess.Popen[bytes]
    out: Path
    err: Path

    def text(self) -> str:
        return self.out.read_text(errors="replace") + self.err.read_text(errors="replace")


def _env(keys: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIEF_")}
    env.update(
        {
            "DIEF_KEYRING__PASSPHRASE": PASSPHRASE,
            "DIEF_KEYRING__PATH": str(keys),
            "DIEF_RELAY_MAX_DELAY_SECONDS": "0",  # tests: no random relay delays
            "COLUMNS": "400",  # Rich would otherwise wrap a long line in two
            **extra,
        }
    )
    return env


def _start(root: Path, name: str, args: list[str], **env: str) -> Proc:
    """``dief *args*`` in *root* (a folder of the canary's), with the canary's keyring."""
    out, err = root / f"{name}.out", root / f"{name}.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen(
            [str(DIEF), *args],
            cwd=root,
            env=_env(root.parent / "keys", **env),
            stdout=stdout,
            stderr=stderr,
        )
    return Proc(proc, out, err)


def _stop(proc: Proc) -> int:
    if proc.proc.poll() is None:
        proc.proc.send_signal(signal.SIGTERM)
    try:
        return proc.proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.proc.kill()
        proc.proc.wait(timeout=20)
        raise


def _wait(check: Callable[[], bool], what: str, *procs: Proc) -> None:
    deadline = time.monotonic() + TIME_LIMIT
    while not check():
        for p in procs:
            if p.proc.poll() is not None:
                pytest.fail(f"{what}: a service exited ({p.proc.returncode}):\n{p.text()[-3000:]}")
        if time.monotonic() > deadline:
            logs = "\n".join(p.text()[-2000:] for p in procs)
            pytest.fail(f"{what}: not within {TIME_LIMIT:g}s\n{logs}")
        time.sleep(0.1)


def _cases(region: Region) -> tuple[list[dict[str, object]], int]:
    """Cases of *region* submitted by the State, and how many of them the node accepts: the
    last two are refused, one for naming the State in its summary, one for giving the
    State's name where its code belongs."""
    docs = [
        case_doc(STATE_CODE, region.value, detected="2026-01-14", summary=SUMMARY) for _ in range(6)
    ]
    docs.extend(
        (
            case_doc(STATE_CODE, region.value, summary=f"{SUMMARY} Seized by {STATE_NAME}."),
            case_doc(STATE_NAME, region.value, summary=SUMMARY),
        )
    )
    for doc in docs:
        doc.pop("case_id")
    return docs, 6


def _scrape(port: int) -> Samples:
    status, body = http_get(port, "/metrics")
    return parse(body) if status == 200 else {}


def _applied(port: int, region: Region) -> float:
    return sample(
        _scrape(port), "dief_aggregator_records_total", region=region.value, outcome="applied"
    )


@pytest.fixture(scope="module")
def canary_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("canary")
    SimulatedForum.create(root / "keys", PASSPHRASE, nodes=[NODE_NAME], cycles=CYCLES)
    return root


@pytest.fixture
def services(canary_root: Path, module_broker: EmbeddedBroker) -> Iterator[list[Proc]]:
    started: list[Proc] = []
    yield started
    for proc in started:
        if proc.proc.poll() is None:
            proc.proc.kill()
            proc.proc.wait(timeout=20)


@pytest.mark.parametrize(("log_format", "region"), [("text", Region.APG), ("json", Region.WEOG)])
def test_no_log_line_or_label_names_the_state_the_node_or_the_summary(
    canary_root: Path,
    module_broker: EmbeddedBroker,
    services: list[Proc],
    log_format: str,
    region: Region,
) -> None:
    root = canary_root / log_format
    intake = root / "intake"
    intake.mkdir(parents=True)
    # the node's tokens, as the exchange would have brought them (no issuer runs here)
    forum = SimulatedForum.load(canary_root / "keys", PASSPHRASE)
    asyncio.run(fill_wallet(forum, NODE_NAME, root / "outbox.tokens.sqlite"))
    agg_port, node_port = pick_free_port(), pick_free_port()
    common = ["--bootstrap", module_broker.bootstrap, "--embedded", "--verbose"]
    # the text run takes the format from the environment, the JSON run from the option
    fmt_env = {"DIEF_LOG_FORMAT": log_format} if log_format == "text" else {}
    fmt_opt = ["--log-format", log_format] if log_format == "json" else []
    aggregator = _start(
        root,
        "aggregator",
        ["aggregate", "--region", region.value, "--database-url",
         sqlite_url(root / "aggregator.sqlite"), *common, *fmt_opt],
        DIEF_METRICS__PORT=str(agg_port),
        **fmt_env,
    )  # fmt: skip
    services.append(aggregator)
    node = _start(
        root,
        "node",
        ["node", "--node", NODE_NAME, "--intake", str(intake), *common, *fmt_opt],
        DIEF_METRICS__PORT=str(node_port),
        DIEF_OUTBOX=str(root / "outbox.sqlite"),
        **fmt_env,
    )  # fmt: skip
    services.append(node)
    _wait(lambda: http_get(agg_port, "/readyz")[0] == 200, "aggregator ready", aggregator, node)
    _wait(lambda: http_get(node_port, "/readyz")[0] == 200, "node ready", aggregator, node)

    docs, accepted = _cases(region)
    staged = root / "batch-1.jsonl"
    staged.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    os.utime(staged, (time.time() - 5, time.time() - 5))  # settled: taken at the next tick
    staged.rename(intake / staged.name)
    _wait(lambda: _applied(agg_port, region) >= accepted, "cases applied", aggregator, node)
    # and a record that is not a case at all: dead-lettered
    asyncio.run(publish_raw(module_broker.bootstrap, [OutboxEntry(
        cases_topic(region), b"k", f"{STATE_NAME} {NODE_NAME} {SUMMARY}".encode(), 0
    )]))  # fmt: skip

    def dead_lettered() -> bool:
        letters = sample(
            _scrape(agg_port),
            "dief_aggregator_dead_letters_total",
            region=region.value,
            reason="malformed",
        )
        return letters >= 1

    _wait(dead_lettered, "the bad record dead-lettered", aggregator, node)
    # the relay marks what was acknowledged within a second: then the outbox is empty
    _wait(
        lambda: sample(_scrape(node_port), "dief_node_outbox_pending") == 0,
        "the outbox emptied",
        aggregator,
        node,
    )
    node_metrics = _scrape(node_port)
    assert sample(node_metrics, "dief_node_records_published_total") >= accepted
    assert sample(node_metrics, "dief_node_outbox_oldest_pending_age_seconds") == 0
    assert sample(node_metrics, "dief_node_relay_failures_total") == 0
    agg_metrics = _scrape(agg_port)
    assert _applied(agg_port, region) == accepted

    assert _stop(node) == 0
    assert _stop(aggregator) == 0
    assert http_get(agg_port, "/healthz") == (0, b"")
    assert http_get(node_port, "/healthz") == (0, b"")

    # the canary: nothing that names the State, the node or the case text, anywhere
    forbidden = [
        re.compile(rf"\b{STATE_CODE}\b"),
        re.compile(STATE_NAME, re.IGNORECASE),
        re.compile(NODE_NAME, re.IGNORECASE),
        re.compile(re.escape(SUMMARY[:24]), re.IGNORECASE),
        re.compile(r"forged permit", re.IGNORECASE),
    ]
    written = {p.err.name: p.err.read_text(errors="replace") for p in (aggregator, node)}
    written.update({p.out.name: p.out.read_text(errors="replace") for p in (aggregator, node)})
    # Rich pads lines to the terminal's width: the words, one space apart
    written = {name: re.sub(r"[ \t]+", " ", text) for name, text in written.items()}
    for where, text in written.items():
        for pattern in forbidden:
            found = pattern.search(text)
            assert found is None, f"{log_format} {where} says {found[0]!r}: {text[max(0, found.start() - 200):found.end() + 200]}"  # fmt: skip  # noqa: E501
    labels = [
        value
        for scraped in (node_metrics, agg_metrics)
        for (_name, pairs) in scraped
        for _key, value in pairs
    ]
    for pattern in forbidden:
        assert not any(pattern.search(v) for v in labels), pattern.pattern

    # something was logged in the format asked for: with --verbose, at least the start-up
    for name in ("aggregator.err", "node.err"):
        lines = [line for line in written[name].splitlines() if line.strip()]
        assert lines, f"{log_format}: {name} logged nothing"
        if log_format == "json":
            for line in lines:
                doc = json.loads(line)
                assert {"time", "level", "logger", "event", "message"} <= set(doc), line
