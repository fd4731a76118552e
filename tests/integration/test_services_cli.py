"""The services as an operator runs them: ``dief keys init``, ``dief secretariat``,
``dief aggregate``, ``dief post`` and ``dief node``, each a subprocess of the console script
(DESIGN §9).

One simulated forum (``dief keys init``: every party's keyring in its own folder, issuer
keys for this cycle and the two before it), the Secretariat (its credential issuer answers
the nodes' token requests over Kafka) and one aggregator (``--all`` regions, its own SQLite
database) serve the module, on an embedded broker the module starts. Nodes post through it
(each gets its contributor tokens from the issuer first; without random delays here) and the
tests watch the aggregator's database for the cases they posted. The last test stops the
aggregator with SIGTERM.

Waiting is on conditions (a line printed, a file moved, a row present) with a deadline,
never a fixed sleep.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from dief.broker import EmbeddedBroker, pick_free_port
from dief.catalogue import load_catalogue
from dief.periods import CspCycle, Month
from dief.synthetic import generate_cases
from tests.unit.record_helpers import clear_text

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DIEF = Path(sys.executable).parent / "dief"
PASSPHRASE = "correct horse battery staple (test only)"
NODES = ("alpha", "bravo", "charlie")
APPLY_TIMEOUT = 60.0  # five consumer-group joins on the embedded broker come first
STOP_TIMEOUT = 10.0
CASE_LINE = re.compile(r"^(?P<path>.+):(?P<line>\d+): case (?P<id>[0-9a-f-]{36}) revision 1$")
RECEIPT_LINE = re.compile(
    r"^(?P<path>.+):(?P<line>\d+): case (?P<id>[0-9a-f-]{36}) revision 1 in "
    r"(?P<region>[A-Z]+)(?P<related> \(related copy\))?: (?P<said>.+)$"
)


@dataclass(frozen=True, slots=True)
class Forum:
    root: Path
    keys: Path
    init_stdout: str


@dataclass(frozen=True, slots=True)
class Service:
    proc: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path
    db: Path

    def output(self) -> str:
        return self.stdout.read_text(encoding="utf-8", errors="replace")

    def errors(self) -> str:
        return self.stderr.read_text(encoding="utf-8", errors="replace")


def _env(forum_root: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIEF_")}
    env.update(
        {
            "DIEF_WORK_DIR": str(forum_root / ".dief"),
            "DIEF_KEYRING__PASSPHRASE": PASSPHRASE,
            "DIEF_KEYRING__PATH": str(forum_root / "keys"),
            "DIEF_RELAY_MAX_DELAY_SECONDS": "0",  # tests: no random relay delays
            "DIEF_CREDENTIAL_MAX_DELAY_SECONDS": "0",  # nor random token request delays
            "COLUMNS": "200",
            **extra,
        }
    )
    return env


def _dief(
    forum: Forum, *args: str, timeout: float = 60.0, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(DIEF), *args],
        cwd=forum.root,
        env=_env(forum.root, **env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _start(forum: Forum, name: str, *args: str, **env: str) -> Service:
    out, err = forum.root / f"{name}.out", forum.root / f"{name}.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen(
            [str(DIEF), *args],
            cwd=forum.root,
            env=_env(forum.root, **env),
            stdout=stdout,
            stderr=stderr,
        )
    return Service(proc, out, err, forum.root / f"{name}.sqlite")


def _stop(service: Service) -> int:
    """SIGTERM, then the exit code (killing it if it does not stop in time)."""
    if service.proc.poll() is None:
        service.proc.send_signal(signal.SIGTERM)
    try:
        return service.proc.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        service.proc.kill()
        service.proc.wait(timeout=STOP_TIMEOUT)
        raise


def wait_for(condition: Callable[[], bool], timeout: float, what: str, service: Service) -> None:
    """Poll *condition* until true; fail with *what* and the service's output if it is not
    true within *timeout* seconds or the service died."""
    deadline = time.monotonic() + timeout
    while not condition():
        if service.proc.poll() is not None:
            pytest.fail(f"{what}: the service exited with {service.proc.returncode}:\n"
                        f"{service.errors()[-3000:]}")  # fmt: skip
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout:g}s; stderr:\n{service.errors()[-3000:]}")
        time.sleep(0.1)


def _query(db: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    """Rows of *sql* on a database another process writes; [] while it is not ready."""
    if not db.exists():
        return []
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1.0) as conn:
            return list(conn.execute(sql, params))
    except sqlite3.OperationalError:  # no table yet, or locked for a moment
        return []


def _applied(db: Path, case_ids: list[str]) -> set[str]:
    marks = ",".join("?" * len(case_ids))
    rows = _query(db, f"SELECT case_id FROM cases WHERE case_id IN ({marks})", *case_ids)  # noqa: S608
    return {str(r[0]) for r in rows}


def _outbox(db: Path) -> tuple[int, int]:
    """(pending, published) entries of a node outbox."""
    rows = _query(db, "SELECT published_at IS NULL, count(*) FROM outbox GROUP BY 1")
    counts = {bool(k): int(str(n)) for k, n in rows}
    return counts.get(True, 0), counts.get(False, 0)


def _derived(outbox: Path, references: list[str]) -> list[str]:
    """The case ids a node derived for the cases of *references* (the practitioners' own
    references, kept in its outbox and never sent), in their order."""
    rows = {row[0]: row[1] for row in _query(outbox, "SELECT reference, case_id FROM node_cases")}
    return [str(rows[ref]) for ref in references if ref in rows]


def _held(db: Path) -> int:
    """Cases a node outbox holds until their contributor tokens arrive."""
    return sum(int(str(n)) for (n,) in _query(db, "SELECT count(*) FROM held"))


def _cycles() -> list[str]:
    """The current CSP cycle and the two before it (the synthetic cases' months)."""
    cycle = CspCycle.of(Month.of(datetime.now(UTC).date()))
    return [str(cycle.previous().previous()), str(cycle.previous()), str(cycle)]


def _fresh_cases(n: int, *, seed: int) -> list[dict[str, object]]:
    """*n* first-revision cases with new case ids and no ``submitted_by``."""
    today = datetime.now(UTC).date()
    ids = list(load_catalogue().ids)
    docs: list[dict[str, object]] = []
    for case in generate_cases(4 * n, seed=seed, indicator_ids=ids, today=today):
        doc = dict(case.document)
        if doc["revision"] != 1 or doc["status"] != "active":
            continue
        doc.pop("submitted_by")
        doc["case_id"] = str(uuid.uuid4())
        docs.append(doc)
        if len(docs) == n:
            return docs
    raise AssertionError(f"the synthetic set has fewer than {n} first revisions")


def _write(path: Path, docs: list[dict[str, object]]) -> list[str]:
    """Write *docs* as JSON Lines; return their case ids."""
    path.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    return [str(d["case_id"]) for d in docs]


def _cases(path: Path, n: int, *, seed: int) -> list[str]:
    return _write(path, _fresh_cases(n, seed=seed))


def _records(path: Path) -> int:
    """How many records the accepted cases of *path* make (one: a case goes to its own
    region only; the regions on its route get route tables, DESIGN §5)."""
    return sum(
        1
        for doc in map(json.loads, path.read_text(encoding="utf-8").splitlines())
        if "summary" not in doc or "Burkina" not in str(doc["summary"])
    )


# -- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def forum(tmp_path_factory: pytest.TempPathFactory) -> Forum:
    root = tmp_path_factory.mktemp("forum")
    placeholder = Forum(root, root / "keys", "")
    cycles = ",".join(_cycles())
    done = _dief(
        placeholder, "keys", "init", "keys", "--nodes", ",".join(NODES), "--cycles", cycles
    )
    assert done.returncode == 0, done.stderr
    return Forum(root, root / "keys", done.stdout)


@pytest.fixture(scope="module")
def secretariat(forum: Forum, module_broker: EmbeddedBroker) -> Iterator[Service]:
    """The Secretariat: its credential issuer answers the nodes' token requests."""
    service = _start(
        forum,
        "secretariat",
        "secretariat",
        "--embedded",
        "--bootstrap",
        module_broker.bootstrap,
        "--database-url",
        f"sqlite+aiosqlite:///{forum.root / 'secretariat.sqlite'}",
    )
    try:
        wait_for(lambda: "Secretariat running" in service.errors(), 60.0, "start", service)
        yield service
    finally:
        if service.proc.poll() is None:
            service.proc.kill()
            service.proc.wait(timeout=STOP_TIMEOUT)


@pytest.fixture(scope="module")
def aggregator(
    forum: Forum, module_broker: EmbeddedBroker, secretariat: Service
) -> Iterator[Service]:
    db = forum.root / "aggregator.sqlite"
    service = _start(
        forum,
        "aggregator",
        "aggregate",
        "--all",
        "--embedded",
        "--bootstrap",
        module_broker.bootstrap,
        "--database-url",
        f"sqlite+aiosqlite:///{db}",
    )
    try:
        wait_for(lambda: "aggregating" in service.output(), 60.0, "aggregator start", service)
        yield service
    finally:
        if service.proc.poll() is None:
            service.proc.kill()
            service.proc.wait(timeout=STOP_TIMEOUT)


# -- keys -----------------------------------------------------------------------------------


def test_keys_init_creates_a_simulated_forum_one_keyring_per_party(forum: Forum) -> None:
    assert "simulated forum" in forum.init_stdout
    assert (forum.keys / "simulation.json").is_file()
    parties = [forum.keys / "root", forum.keys / "secretariat"]
    parties += [forum.keys / "regions" / r for r in ("AFR", "APG", "EEG", "GRULAC", "WEOG")]
    parties += sorted((forum.keys / "nodes").iterdir())
    assert len(parties) == 7 + len(NODES)
    for party in parties:
        assert (party / "keyring.json").is_file(), party
        for path in (party / "private").glob("*.json"):  # encrypted at rest
            assert PASSPHRASE not in path.read_text(encoding="utf-8")
    # node labels stay local: neither the directory nor the node folders name them (searched
    # outside the keys, signatures and kids, where a five-letter label turns up by chance in
    # about one run in 3,000)
    directory = clear_text((forum.keys / "directory.json").read_bytes())
    for name in NODES:
        assert name not in directory
        assert not (forum.keys / "nodes" / name).exists()
    assert f"simulated nodes: {len(NODES)}" in forum.init_stdout


# -- post -----------------------------------------------------------------------------------


def test_post_prints_a_reference_per_case_and_the_aggregator_applies_them(
    forum: Forum, aggregator: Service, module_broker: EmbeddedBroker
) -> None:
    path = forum.root / "alpha-cases.jsonl"
    ids = _cases(path, 5, seed=21)
    outbox = forum.root / "alpha-outbox.sqlite"
    done = _dief(
        forum,
        "post",
        str(path),
        "--node",
        "alpha",
        "--embedded",
        "--bootstrap",
        module_broker.bootstrap,
        DIEF_OUTBOX=str(outbox),
    )
    assert done.returncode == 0, done.stderr
    refs = [m for line in done.stdout.splitlines() if (m := CASE_LINE.match(line))]
    derived = _derived(outbox, ids)  # the ids that travel: never the references
    assert [(int(m["line"]), m["id"]) for m in refs] == list(enumerate(derived, start=1))
    assert len(derived) == len(ids)
    assert not set(derived) & set(ids)
    assert all(m["path"] == str(path) for m in refs)
    records = _records(path)
    assert f"published {records} records" in done.stdout
    assert _outbox(outbox) == (0, records)
    wait_for(
        lambda: _applied(aggregator.db, derived) == set(derived),
        APPLY_TIMEOUT,
        "the aggregator applies the posted cases",
        aggregator,
    )


def test_post_with_a_refused_case_exits_1_and_posts_the_others(
    forum: Forum, aggregator: Service, module_broker: EmbeddedBroker
) -> None:
    path = forum.root / "alpha-mixed.jsonl"
    docs = _fresh_cases(3, seed=22)
    docs[2]["summary"] = "The rifles were re-exported through Burkina Faso without a licence."
    *ids, refused_id = _write(path, docs)
    done = _dief(
        forum,
        "post",
        str(path),
        "--node",
        "alpha",
        "--embedded",
        "--bootstrap",
        module_broker.bootstrap,
        DIEF_OUTBOX=str(forum.root / "alpha-outbox.sqlite"),
    )
    assert done.returncode == 1, done.stderr
    refs = [m["id"] for line in done.stdout.splitlines() if (m := CASE_LINE.match(line))]
    derived = _derived(forum.root / "alpha-outbox.sqlite", [*ids, refused_id])
    assert refs == derived
    assert len(derived) == len(ids)  # none for the refused case
    refusal = [line for line in done.stdout.splitlines() if ":3: refused" in line]
    assert len(refusal) == 1
    assert "(screening)" in refusal[0]
    assert "Burkina" not in done.stdout + done.stderr  # the refused text is never echoed
    wait_for(
        lambda: _applied(aggregator.db, derived) == set(derived),
        APPLY_TIMEOUT,
        "the aggregator applies the accepted cases",
        aggregator,
    )


def test_post_without_a_broker_keeps_the_cases_and_a_node_publishes_them_later(
    forum: Forum, aggregator: Service, module_broker: EmbeddedBroker
) -> None:
    path = forum.root / "bravo-cases.jsonl"
    ids = _cases(path, 4, seed=23)
    outbox = forum.root / "bravo-outbox.sqlite"
    nowhere = f"127.0.0.1:{pick_free_port()}"
    done = _dief(
        forum,
        "post",
        str(path),
        "--node",
        "bravo",
        "--embedded",
        "--bootstrap",
        nowhere,
        "--wait",
        "3",
        DIEF_OUTBOX=str(outbox),
    )
    assert done.returncode == 0, done.stderr
    assert len([line for line in done.stdout.splitlines() if CASE_LINE.match(line)]) == 4
    records = _records(path)
    # no broker, so no contributor tokens: the cases are held in the outbox, unsealed
    assert f"{records} cases held until their contributor tokens arrive" in done.stdout
    assert "published 0 records" in done.stdout
    assert done.stderr == ""  # no client noise: the reasons are in the lines above
    assert _outbox(outbox) == (0, 0)
    assert _held(outbox) == records

    # The node gets its tokens, seals what was held, its relay publishes it and the
    # aggregator applies it.
    node = _start(
        forum,
        "bravo-node",
        "node",
        "--node",
        "bravo",
        "--embedded",
        "--bootstrap",
        module_broker.bootstrap,
        DIEF_OUTBOX=str(outbox),
    )
    try:
        wait_for(lambda: _outbox(outbox) == (0, records), 30.0, "the relay publishes", node)
        derived = _derived(outbox, ids)
        wait_for(
            lambda: _applied(aggregator.db, derived) == set(derived),
            APPLY_TIMEOUT,
            "the aggregator applies the relayed cases",
            aggregator,
        )
    finally:
        code = _stop(node)
    assert code == 0, node.errors()


def test_post_wait_prints_each_records_receipt_and_receipts_lists_the_cases(
    forum: Forum, aggregator: Service, module_broker: EmbeddedBroker
) -> None:
    """DESIGN §8: a node learns what became of each record it posted."""
    path = forum.root / "bravo-receipts.jsonl"
    ids = _cases(path, 3, seed=31)
    outbox = forum.root / "bravo-receipts-outbox.sqlite"
    broker = ("--embedded", "--bootstrap", module_broker.bootstrap)
    done = _dief(
        forum,
        "post",
        str(path),
        "--node",
        "bravo",
        *broker,
        "--wait",
        str(APPLY_TIMEOUT),
        DIEF_OUTBOX=str(outbox),
        timeout=APPLY_TIMEOUT + 60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    receipts = [m for line in done.stdout.splitlines() if (m := RECEIPT_LINE.match(line))]
    assert len(receipts) == _records(path)  # one per record: its own region only
    derived = _derived(outbox, ids)
    assert {m["id"] for m in receipts} == set(derived)
    # Every record was applied; under load a record may be sent twice (the relay restarts a
    # publish the broker did not acknowledge in time) and its second copy answered
    # "duplicate". Seen once in CI with the first copy's "applied" never read back: noted on
    # issue #16 to investigate, so this test accepts it but nothing else.
    assert {m["said"] for m in receipts} <= {"applied", "duplicate"}, done.stdout
    assert "applied" in {m["said"] for m in receipts}, done.stdout

    listing = _dief(forum, "receipts", "--outbox", str(outbox), *broker, "--json")
    assert listing.returncode == 0, listing.stderr
    rows = [json.loads(line) for line in listing.stdout.splitlines()]
    assert [r["case_id"] for r in rows] == derived
    assert {rec["outcome"] for r in rows for rec in r["records"]} <= {"applied", "duplicate"}
    table = _dief(forum, "receipts", "--outbox", str(outbox), "--no-read")
    assert table.returncode == 0, table.stderr
    assert f"{len(ids)} cases: " in table.stdout


def test_aggregate_without_a_broker_fails_with_one_line(forum: Forum) -> None:
    nowhere = f"127.0.0.1:{pick_free_port()}"
    done = _dief(
        forum,
        "aggregate",
        "--region",
        "AFR",
        "--embedded",
        "--bootstrap",
        nowhere,
        "--database-url",
        f"sqlite+aiosqlite:///{forum.root / 'unused.sqlite'}",
    )
    assert done.returncode == 1
    (line,) = done.stderr.splitlines()  # one line: what was tried, what failed, the fix
    assert line.startswith(
        f"error: cannot start the aggregators on the broker (bootstrap {nowhere}"
    )
    assert "KafkaConnectionError" in line
    assert "Fix: start a broker there" in line


def test_post_says_what_already_went_out_and_refuses_an_empty_file(
    forum: Forum, module_broker: EmbeddedBroker, secretariat: Service
) -> None:
    """The node never misreports: a partly refused file is not taken for posted; posting
    it again, corrected, sends only the corrected case and names the case that already went
    out; an empty file is refused, never a silent success."""
    outbox = str(forum.root / "delta-outbox.sqlite")

    def post(path: Path) -> subprocess.CompletedProcess[str]:
        return _dief(
            forum,
            "post",
            str(path),
            "--node",
            "bravo",
            "--embedded",
            "--bootstrap",
            module_broker.bootstrap,
            DIEF_OUTBOX=outbox,
        )

    docs = _fresh_cases(2, seed=31)
    for doc in docs:
        doc.pop("case_id")  # new cases, as a practitioner writes them
    good, bad = docs
    path = forum.root / "delta.jsonl"
    path.write_text(
        json.dumps(good) + "\n" + json.dumps({**bad, "summary": "Seized in Burkina Faso."}) + "\n",
        encoding="utf-8",
    )
    first = post(path)
    assert first.returncode == 1, first.stdout + first.stderr
    [sent] = [m["id"] for line in first.stdout.splitlines() if (m := CASE_LINE.match(line))]

    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n", encoding="utf-8")
    second = post(path)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "same bytes" not in second.stdout
    assert f":1: already posted as case {sent} (revision 1); skipped" in second.stdout
    [fixed] = [m["id"] for line in second.stdout.splitlines() if (m := CASE_LINE.match(line))]
    assert fixed != sent

    empty = forum.root / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    third = post(empty)
    assert third.returncode == 1
    assert "refused (no_cases)" in third.stdout


# -- node intake ----------------------------------------------------------------------------


def test_node_picks_up_a_dropped_file_moves_it_to_done_and_publishes(
    forum: Forum, aggregator: Service, module_broker: EmbeddedBroker
) -> None:
    intake = forum.root / "intake"
    intake.mkdir()
    outbox = forum.root / "charlie-outbox.sqlite"
    node = _start(
        forum,
        "charlie-node",
        "node",
        "--node",
        "charlie",
        "--intake",
        str(intake),
        "--embedded",
        "--bootstrap",
        module_broker.bootstrap,
        DIEF_OUTBOX=str(outbox),
    )
    try:
        wait_for(lambda: "node running" in node.output(), 30.0, "node start", node)
        # Something that is not a case file must not stop the node.
        (intake / "not-a-file.json").mkdir()
        # Dropped the way a file should be: written elsewhere, then renamed in.
        staged = forum.root / "staged.jsonl"
        ids = _cases(staged, 3, seed=24)
        records = _records(staged)
        staged.rename(intake / "drop.jsonl")
        done = intake / "done" / "drop.jsonl"
        wait_for(done.exists, 30.0, "the file is moved to done/", node)
        assert not (intake / "drop.jsonl").exists()
        assert not (intake / "done" / "drop.jsonl.rejected.jsonl").exists()
        wait_for(lambda: _outbox(outbox) == (0, records), 30.0, "the relay publishes", node)
        derived = _derived(outbox, ids)
        assert len(derived) == len(ids)
        wait_for(
            lambda: _applied(aggregator.db, derived) == set(derived),
            APPLY_TIMEOUT,
            "the aggregator applies the dropped cases",
            aggregator,
        )
        assert node.proc.poll() is None
    finally:
        code = _stop(node)
    assert code == 0, node.errors()
    assert "Traceback" not in node.errors()


# -- stopping -------------------------------------------------------------------------------


def test_aggregator_stops_on_sigterm_with_exit_0(aggregator: Service) -> None:
    assert aggregator.proc.poll() is None  # it served the whole module
    started = time.monotonic()
    code = _stop(aggregator)
    assert code == 0, aggregator.errors()
    assert time.monotonic() - started < STOP_TIMEOUT
    assert "Traceback" not in aggregator.errors()
