"""Non-attribution end to end (DESIGN §5, §11 ⚑): nothing the pipeline writes names a State.

Cases from three simulated States go through the whole pipeline in-process
(:func:`dief.pipeline.run_pipeline`) against an embedded broker this module starts, with
every logger captured at DEBUG and the Secretariat issuer's ledger recorded. Then every
record of every topic on that broker is read back, and the State codes and names (the
``submitted_by`` values of the run) are searched for in

- each record's key, headers and value, on every topic: the cases and dead-letter topics,
  ``dief.digests``, ``dief.receipts``, ``dief.routes``, ``dief.directory``,
  ``dief.credentials.requests`` and ``.answers``, ``csp.reporting``. Clear JSON is searched
  field by field; a base64 value (a sealed ciphertext, a wrapped key, a nonce, a public key,
  a signature) is searched once decoded, so random base64 text cannot match a name by
  chance while a name hidden in it would still be found;
- every file under ``--out`` (``accepted.jsonl`` and ``rejected.jsonl`` among them);
- every file of the work directory: node outboxes, the aggregator's and the Secretariat's
  databases, every party's key folder (the simulated forum's ``simulation.json``, the
  Secretariat's registry) and the signed directory;
- every row the issuer's ledger recorded (whatever ledger ``dief run`` gives it);
- every log record and everything printed.

The State codes are long and distinctive (``QXZ-9K7W-2JV4``; the input allows up to 16
characters): a three-letter code would turn up by chance in the base64 of keys, nonces and
ciphertexts. The State names are real (the screening knows them) and appear in input lines
the node must refuse, whose text must never be echoed. Each name has a space or is at least
ten letters long: the databases hold base64 text (keys, signatures) searched as raw bytes,
where a six-letter name such as "Tuvalu" turns up by chance about once in a thousand runs.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import random
import re
import uuid
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from dief.catalogue import load_catalogue
from dief.credentials import (
    CredentialClient,
    Issuance,
    IssuanceStore,
    Issuer,
    IssuerKey,
    IssuerService,
    TokenWallet,
    register_issuer,
    registrations_of,
)
from dief.crypto import RECEIPT_VALUE_BYTES
from dief.database import sqlite_url
from dief.kafka import (
    CREDENTIAL_ANSWERS_TOPIC,
    CREDENTIAL_REQUESTS_TOPIC,
    DIRECTORY_TOPIC,
    RECEIPTS_TOPIC,
    ROUTES_TOPIC,
    ConsumedRecord,
    KafkaRecordFeed,
    KafkaRecordSink,
    make_broker,
)
from dief.keyring import KeyRole, SimulatedForum, publish_directory
from dief.pipeline import RunOptions, RunResult, run_pipeline
from dief.settings import KafkaSettings
from dief.synthetic import generate_cases
from dief.testing import FakeClock, read_topics
from dief.vocab import Region

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from dief.broker import EmbeddedBroker
    from dief.seams import ContributorCredential

pytestmark = [pytest.mark.integration, pytest.mark.slow]

#: code → name of each simulated State.
STATES = {
    "QXZ-9K7W-2JV4": "Liechtenstein",
    "QJV-4M8T-7XQ1": "New Zealand",
    "QKW-3R6Y-5HZ8": "San Marino",
}
FORBIDDEN = tuple(STATES) + tuple(STATES.values())
ENVELOPE_FIELDS = {"v", "type", "schema", "id", "region", "suite", "recipients", "nonce"}
HOUR_MS = 3_600_000
#: The topics of the trust model, read whether or not the run wrote to them.
TRUST_TOPICS = (DIRECTORY_TOPIC, ROUTES_TOPIC, CREDENTIAL_REQUESTS_TOPIC, CREDENTIAL_ANSWERS_TOPIC)
LONG = 10  # forbidden strings this long are searched in base64 text as well
_BASE64 = re.compile(r"[A-Za-z0-9_\-+/]{16,}={0,2}")


def _find(text: str) -> list[str]:
    """Which forbidden strings occur in *text* (case-insensitive)."""
    low = text.lower()
    return [word for word in FORBIDDEN if word.lower() in low]


def _find_bytes(data: bytes) -> list[str]:
    low = data.lower()
    return [word for word in FORBIDDEN if word.lower().encode("utf-8") in low]


def _b64(text: str) -> bytes | None:
    """*text* decoded, if it is base64 (standard or URL-safe, padded or not)."""
    if not _BASE64.fullmatch(text):
        return None
    padded = text + "=" * (-len(text) % 4)
    try:
        if "-" in text or "_" in text:
            return base64.urlsafe_b64decode(padded)
        return base64.b64decode(padded, validate=True)
    except ValueError:
        return None


def _find_json(item: Any) -> list[str]:  # noqa: ANN401  any JSON value
    """Forbidden strings in a JSON value: keys and strings searched as text, base64 strings
    searched once decoded (random base64 text would otherwise match a name by chance)."""
    if isinstance(item, dict):
        return [w for k, v in item.items() for w in _find(str(k)) + _find_json(v)]
    if isinstance(item, list):
        return [w for v in item for w in _find_json(v)]
    if isinstance(item, str):
        decoded = _b64(item)
        if decoded is None:
            return _find(item)
        # The long codes and names cannot occur in random base64 by chance: search the
        # text for them too; a short name only in the decoded bytes.
        return _find_bytes(decoded) + [w for w in _find(item) if len(w) >= LONG]
    return _find(json.dumps(item))


def _find_value(data: bytes) -> list[str]:
    """Forbidden strings in a record value: as JSON if it is JSON, else its bytes."""
    try:
        parsed = json.loads(data)
    except ValueError:
        return _find_bytes(data)
    return _find_json(parsed)


# -- input ----------------------------------------------------------------------------------


def _refused_lines(template: dict[str, object]) -> list[str]:
    """Lines naming the submitting State that the node must refuse without echoing them."""
    (code_a, name_a), (code_b, name_b), (code_c, name_c) = STATES.items()
    lines = [
        # The State names itself in the lessons-learned text.
        {**template, "case_id": str(uuid.uuid4()), "submitted_by": code_a,
         "summary": f"Customs officers of {name_a} found forged end-user papers."},
        {**template, "case_id": str(uuid.uuid4()), "submitted_by": code_b,
         "summary": f"A broker from {name_b} arranged the transfer through a shell firm."},
        # Its code where a region belongs, and in a malformed field.
        {**template, "case_id": str(uuid.uuid4()), "submitted_by": code_c, "region": code_c},
        {**template, "case_id": str(uuid.uuid4()), "submitted_by": code_c.lower()},
        {**template, "case_id": str(uuid.uuid4()), "submitted_by": code_a,
         "transfer_stage": f"seized_by_{name_c}"},
    ]  # fmt: skip
    text = [json.dumps(line) for line in lines]
    text.append('{"submitted_by": "' + code_b + '", "summary": "' + name_a + " ...")  # not JSON
    return text


@dataclass(frozen=True, slots=True)
class Scenario:
    input: Path
    out: Path
    work: Path
    accepted_lines: int
    refused_lines: int


def _write_input(path: Path) -> tuple[int, int]:
    today = datetime.now(UTC).date()
    ids = list(load_catalogue().ids)
    cases = [c.document for c in generate_cases(150, seed=5, indicator_ids=ids, today=today)]
    # Every simulated State of the generator becomes one of ours, consistently, so that a
    # case and its revisions come from the same node.
    originals = sorted({str(c["submitted_by"]) for c in cases})
    codes = list(STATES)
    mapping = {state: codes[i % len(codes)] for i, state in enumerate(originals)}
    lines = [
        json.dumps({**case, "submitted_by": mapping[str(case["submitted_by"])]}) for case in cases
    ]
    refused = _refused_lines({k: v for k, v in cases[0].items() if k != "case_id"})
    for offset, line in enumerate(refused):
        lines.insert(10 + 20 * offset, line)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(cases), len(refused)


# -- capture --------------------------------------------------------------------------------


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def all_logs() -> Iterator[_Capture]:
    """Every log record of every logger at DEBUG, whatever levels earlier code set."""
    capture = _Capture()
    root = logging.getLogger()
    saved_root = root.level
    saved: dict[str, tuple[int, bool, bool]] = {}
    for name, logger in logging.Logger.manager.loggerDict.items():
        if isinstance(logger, logging.Logger):
            saved[name] = (logger.level, logger.propagate, logger.disabled)
            logger.setLevel(logging.NOTSET)
            logger.propagate = True
            logger.disabled = False
    root.setLevel(logging.DEBUG)
    root.addHandler(capture)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        root.setLevel(saved_root)
        for name, (level, propagate, disabled) in saved.items():
            logger = logging.getLogger(name)
            logger.setLevel(level)
            logger.propagate = propagate
            logger.disabled = disabled


# -- the run --------------------------------------------------------------------------------


@pytest.fixture
def issued(monkeypatch: pytest.MonkeyPatch) -> list[Issuance]:
    """Every row any issuer of the run records in its ledger (whatever that ledger is)."""
    rows: list[Issuance] = []
    original = Issuer.__init__

    class Recording:
        def __init__(self, ledger: Any) -> None:  # noqa: ANN401  the issuer's ledger, whatever its kind
            self._ledger = ledger

        async def claim(self, issuance: Issuance) -> bytes:
            rows.append(issuance)
            digest: bytes = await self._ledger.claim(issuance)
            return digest

        def __getattr__(self, name: str) -> Any:  # noqa: ANN401  the wrapped ledger's attribute
            return getattr(self._ledger, name)

    def recording_init(self: Issuer, keys: Any, registrations: Any, ledger: Any) -> None:  # noqa: ANN401  Issuer.__init__'s arguments, passed through
        original(self, keys, registrations, Recording(ledger))

    monkeypatch.setattr(Issuer, "__init__", recording_init)
    return rows


async def test_nothing_names_a_state(
    module_broker: EmbeddedBroker,
    all_logs: _Capture,
    issued: list[Issuance],
    capfd: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    input_path = tmp_path / "input" / "cases.jsonl"
    input_path.parent.mkdir()
    accepted_lines, refused_lines = _write_input(input_path)
    text = input_path.read_text(encoding="utf-8")
    assert all(word in text for word in FORBIDDEN)  # the input does name them
    scenario = Scenario(
        input_path, tmp_path / "out", tmp_path / "work", accepted_lines, refused_lines
    )

    result = await run_pipeline(
        RunOptions(
            input=scenario.input,
            out=scenario.out,
            work_dir=scenario.work,
            bootstrap=module_broker.bootstrap,
            today=datetime.now(UTC).date(),
            timeout=180.0,
        )
    )
    assert (result.accepted, result.rejected) == (accepted_lines, refused_lines)
    assert result.published == result.accepted  # each case to its own region only
    assert result.applied == result.published

    records = await read_topics(
        module_broker.bootstrap,
        expected=2 * result.published + result.dead_lettered,  # records, receipts, letters
        idle=1.0,
    )
    _check_records(records, result)
    trust = await read_topics(module_broker.bootstrap, TRUST_TOPICS, idle=0.5)
    assert {r.topic for r in trust} <= set(TRUST_TOPICS)  # each topic exists (else an error)
    _check_records(trust, None)
    _check_rejected(scenario)
    _check_files(scenario.out, minimum=10)
    assert (scenario.out / "accepted.jsonl").is_file()
    outboxes = list((scenario.work / "run" / "nodes").glob("*"))
    assert len([p for p in outboxes if p.suffix == ".sqlite"]) == len(STATES)
    _check_stores(scenario.work)
    _check_files(scenario.work, minimum=len(STATES) + 3)
    _check_ledger(issued)
    _check_logs(all_logs.records)
    printed = capfd.readouterr()
    assert _find(printed.out + printed.err) == []


def _clear_fields(value: bytes, where: str) -> str:
    """The clear part of a sealed envelope, as text: every field but the ciphertext and the
    wrapped DEKs; the nonce is checked to be 12 bytes and left out (random base64)."""
    envelope = json.loads(value)
    clear = {k: v for k, v in envelope.items() if k != "ciphertext"}
    assert set(clear) == ENVELOPE_FIELDS, where
    nonce = clear.pop("nonce")
    assert len(base64.urlsafe_b64decode(nonce + "=" * (-len(nonce) % 4))) == 12, where
    clear["recipients"] = [
        {k: v for k, v in rcpt.items() if k != "wrapped"} for rcpt in clear["recipients"]
    ]
    return json.dumps(clear)


def _check_records(records: list[ConsumedRecord], result: RunResult | None) -> None:
    """Every record, whatever its topic: key, headers, timestamp and value (see the module
    doc); the shapes of the topics the run counts; with *result*, their numbers."""
    case_records = receipts = 0
    for r in records:
        where = f"{r.topic}[{r.partition}]@{r.offset}"
        assert r.key is not None, where
        assert r.value is not None, where
        assert _find_bytes(r.key) == [], where
        for name, value in r.headers:
            assert _find(name) == [], where
            assert _find_bytes(value) == [], where
        assert _find_value(r.value) == [], where
        if re.fullmatch(r"dief\.[a-z]+\.(cases|dlq)", r.topic):
            assert r.timestamp_ms % HOUR_MS == 0, f"{where}: timestamp not coarsened to the hour"
            case_records += 1
            assert uuid.UUID(r.key.decode("ascii")), where  # the key is the case id
            assert _find(_clear_fields(r.value, where)) == [], where
        elif r.topic in {"dief.digests", ROUTES_TOPIC}:
            assert _find(_clear_fields(r.value, where)) == [], where
        elif r.topic == RECEIPTS_TOPIC:  # a hash for a key, one length, all else sealed
            assert r.timestamp_ms % HOUR_MS == 0, f"{where}: timestamp not coarsened to the hour"
            assert re.fullmatch(rb"[0-9a-f]{64}", r.key), where
            assert len(r.value) == RECEIPT_VALUE_BYTES, where
            assert r.headers == (), where
            receipts += 1
        elif r.topic == "csp.reporting":  # public-safe JSON, searched whole as well
            assert _find_bytes(r.value) == [], where
    if result is not None:
        assert case_records == result.published + result.dead_lettered
        assert receipts == result.published  # every record of the run opened


def _check_rejected(scenario: Scenario) -> None:
    text = (scenario.out / "rejected.jsonl").read_text(encoding="utf-8")
    rows = [json.loads(line) for line in text.splitlines()]
    assert len(rows) == scenario.refused_lines
    assert {r["reason"] for r in rows} >= {"screening", "malformed_json", "invalid_value"}
    assert _find(text) == []


def _contents(path: Path) -> Iterator[tuple[str, bytes]]:
    """A file's bytes, or each member of a zip container (DOCX) uncompressed."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                yield f"{path.name}!{member}", archive.read(member)
    else:
        yield path.name, path.read_bytes()


def _check_files(root: Path, *, minimum: int) -> None:
    files = [p for p in root.rglob("*") if p.is_file()]
    assert len(files) >= minimum, f"only {len(files)} files under {root}"
    leaks = {
        f"{p.parent.relative_to(root)}/{name}": found
        for p in files
        for name, data in _contents(p)
        if (found := _find_bytes(data))
    }
    assert leaks == {}


def _check_stores(work: Path) -> None:
    """The run's databases and key folders are where the file search looks: the aggregator's
    and the Secretariat's stores, and the forum's keys with its signed directory."""
    databases = {p.name for p in work.rglob("*.sqlite")}
    assert {"aggregator.sqlite", "secretariat.sqlite"} <= databases, databases
    directories = list(work.rglob("directory.json"))
    assert directories, "no signed directory under the work folder"
    for path in directories:
        assert _find_value(path.read_bytes()) == [], path
    labels = list(work.rglob("simulation.json"))
    for path in labels:  # the simulated nodes' local labels: never the States they stand for
        nodes = json.loads(path.read_bytes()).get("nodes", {})
        assert nodes, path
        assert _find(json.dumps(nodes)) == [], path


def _check_ledger(rows: list[Issuance]) -> None:
    """The issuer's ledger holds key ids and digests only."""
    assert rows, "the run's nodes got no token from the issuer"
    for row in rows:
        assert _find(f"{row.registration_kid} {row.issuer_kid}") == []
        assert _find_bytes(row.request_digest) == []


def _check_logs(records: list[logging.LogRecord]) -> None:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    names = {r.name.split(".")[0] for r in records}
    assert {"dief", "aiokafka"} <= names, names  # the capture saw the library and the client
    assert any(r.levelno == logging.DEBUG for r in records)
    leaks = [line for r in records if _find(line := formatter.format(r))]
    assert leaks == []


# -- the search itself ------------------------------------------------------------------------


def test_the_search_finds_a_state_however_it_is_written(tmp_path: Path) -> None:
    """Each check above fails on the leak it exists for (and not on random base64)."""
    code, name = next(iter(STATES.items()))
    hidden = base64.urlsafe_b64encode(f"posted by {code}".encode()).decode().rstrip("=")
    assert _find_value(json.dumps({"v": 1, "ciphertext": hidden}).encode()) == [code]
    named = {"entries": [{"kid": "a" * 32, "note": f"node of {name}"}]}
    assert _find_value(json.dumps(named).encode()) == [name]
    assert _find_bytes(base64.b64encode(name.encode())) == []  # why values are decoded
    noise = random.Random(4).randbytes(1 << 20)
    assert _find_value(json.dumps({"c": base64.b64encode(noise).decode()}).encode()) == []

    # A simulated node labelled by its State, and a ledger row naming one.
    for part in ("aggregator", "secretariat"):
        (tmp_path / f"{part}.sqlite").write_bytes(b"")
    (tmp_path / "directory.json").write_text("{}")
    (tmp_path / "simulation.json").write_text(json.dumps({"nodes": {code: "node-001"}}))
    with pytest.raises(AssertionError):
        _check_stores(tmp_path)
    with pytest.raises(AssertionError):
        _check_ledger([Issuance(f"reg-{code}", "b" * 32, bytes(32))])


# -- the credential exchange and the directory over the broker ------------------------------

#: 2026-10-01, in CSP13: the nodes ask for CSP13 and CSP12 (cycles start in September).
EXCHANGE_START = datetime(2026, 10, 1, tzinfo=UTC).timestamp()
EXCHANGE_CYCLES = ("CSP12", "CSP13")


async def test_the_credential_exchange_and_the_directory_name_no_state(
    module_broker: EmbeddedBroker, all_logs: _Capture, tmp_path: Path
) -> None:
    """Nodes labelled locally by their State codes (the naive label a State would give its
    own node) get their tokens from the issuer service over ``dief.credentials.*``, with
    the issuer's ledger in a database, and the next directory is published on
    ``dief.directory``: no code reaches a topic, the ledger, the Secretariat's, the root's or
    a region's folder, the directory or a log. Only ``simulation.json``, the local label of
    each simulated node (what a node knows of itself), may hold them."""
    codes = list(STATES)[:2]
    forum = SimulatedForum.create(tmp_path / "forum", "pw", nodes=codes, cycles=EXCHANGE_CYCLES)
    directory = forum.directory
    sec = forum.secretariat()
    wanted = {(c, r.value) for c in EXCHANGE_CYCLES for r in Region}
    settings = KafkaSettings(bootstrap=module_broker.bootstrap, embedded=True)
    ledger_path = tmp_path / "issuer" / "ledger.sqlite"
    ledger_path.parent.mkdir()
    async with IssuanceStore(sqlite_url(ledger_path)) as ledger:
        issuer = Issuer(
            [IssuerKey(c, r, sec.issuer_private_key(c, r), simulation=True) for c, r in wanted],
            registrations_of(sec),
            ledger,
        )
        issuer_broker = make_broker(settings, client_id="dief-issuer")
        service = IssuerService(
            issuer,
            opening_keys=forum.opening_keys(KeyRole.SECRETARIAT),
            registrations=registrations_of(sec),
            sink=KafkaRecordSink(issuer_broker),
            on_counts=sec.set_token_counts,
        )
        register_issuer(issuer_broker, service, embedded=True)
        node_broker = make_broker(settings, client_id="dief-node")
        clients, done = [], []
        for label in codes:
            keys = forum.node(label)
            wallet = TokenWallet(keys.node_secret(label), directory.issuer_key, simulation=True)
            complete = asyncio.Event()

            def on_token(
                _: ContributorCredential,
                wallet: TokenWallet = wallet,
                complete: asyncio.Event = complete,
            ) -> None:
                if {(c.cycle, c.region) for c in wallet.credentials()} >= wanted:
                    complete.set()

            clients.append(
                CredentialClient(
                    wallet,
                    registration_key=keys.registration_key(),
                    kem_key=keys.kem_key(),
                    directory=lambda: directory,
                    sink=KafkaRecordSink(node_broker),
                    feed=KafkaRecordFeed(settings, CREDENTIAL_ANSWERS_TOPIC, client_id="dief-node"),
                    clock=FakeClock(EXCHANGE_START),
                    max_delay=0.0,
                    on_token=on_token,
                )
            )
            done.append(complete)
        await issuer_broker.start()
        await node_broker.connect()
        stop = asyncio.Event()
        tasks = [asyncio.create_task(client.run(stop)) for client in clients]
        try:
            async with asyncio.timeout(90.0):
                await asyncio.gather(*(event.wait() for event in done))
            await publish_directory(KafkaRecordSink(issuer_broker), forum.issue_directory())
        finally:
            stop.set()
            await asyncio.wait_for(asyncio.gather(*tasks), 30.0)
            await node_broker.stop()
            await issuer_broker.stop()

    # every record is on the broker by now: at least a request, an answer and a directory
    records = await read_topics(module_broker.bootstrap, TRUST_TOPICS, expected=3)
    assert {r.topic for r in records} >= {
        CREDENTIAL_REQUESTS_TOPIC,
        CREDENTIAL_ANSWERS_TOPIC,
        DIRECTORY_TOPIC,
    }
    _check_records(records, None)
    local = list((tmp_path / "forum").rglob("simulation.json"))
    assert len(local) == 1
    assert _find_bytes(local[0].read_bytes()) == codes  # the test's premise: labels are codes
    local[0].unlink()
    _check_files(tmp_path / "forum", minimum=10)
    _check_files(tmp_path / "issuer", minimum=1)
    _check_logs(all_logs.records)
