"""The reference national node in TypeScript against the Python services (issue 17).

The forum is set up party by party with the ``dief keys`` commands (simulation flag: the
cheap passphrase KDF and RSA-2048 issuer keys); the national node is ``reference-node/``
(TypeScript, its own keys made by ``node dist/src/cli.js init``, registered with ``dief keys
register`` like any node). Then, on the embedded broker:

- ``dief secretariat`` (issuer and summaries, waiting for AFR's digests only) and ``dief
  aggregate --region AFR`` run as subprocesses;
- the TypeScript node verifies the signed directory under the pinned root, gets a token for
  every region of the cycle through the credential exchange (blinding and finalising in
  TypeScript, the Python issuer signing), posts its cases (derived case ids, owner
  signatures, padding, X-Wing sealing, murmur2 partitions) and four deliberately bad
  records, and reads its receipts;
- its cases are applied (the cells count them), its bad records are dead-lettered with the
  right reasons (receipts and DLQ headers agree), and it verifies every summary the Python
  Secretariat signs.

Waiting is on conditions with deadlines, never a fixed sleep.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from aiokafka.partitioner import murmur2
from typer.testing import CliRunner

from dief.bulletins import BULLETINS_TOPIC, GROUP_KEY_PREFIX, BulletinSealer
from dief.cli import app
from dief.crypto import KemPrivateKey, SigningKey
from dief.kafka import CSP_TOPIC, cases_topic, dlq_topic
from dief.keyring import KeyRole, group_public_key, open_party, verify_directory
from dief.periods import CspCycle, Month
from dief.testing import read_topics
from dief.vocab import Region
from dief.wire import BulletinEntry, BulletinGroupKeyRelease

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from dief.broker import EmbeddedBroker

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
NODE_DIR = ROOT / "reference-node"
CLI = NODE_DIR / "dist" / "src" / "cli.js"
DIEF = Path(sys.executable).parent / "dief"
REGIONS = tuple(r.value for r in Region)
FINGERPRINT = re.compile(r"root fingerprint: ([0-9a-f]{64})")
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
NODE_TIMEOUT = 240.0
#: The reason each deliberately bad record must be dead-lettered with.
HOSTILE = {
    "owner_sig": "ownership",
    "token": "bad_credential",
    "padding": "bad_padding",
    "indicator": "unknown_indicator",
}


def _node() -> str:
    node = shutil.which("node")
    if node is None or not CLI.is_file():
        reason = "Node.js or the built reference node missing (scripts/install builds it)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return node


@dataclass(frozen=True, slots=True)
class Service:
    proc: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path

    def output(self) -> str:
        return self.stdout.read_text(encoding="utf-8", errors="replace")

    def errors(self) -> str:
        return self.stderr.read_text(encoding="utf-8", errors="replace")


@dataclass(frozen=True, slots=True)
class Forum:
    base: Path
    fingerprint: str
    directory: Path
    secretariat: Path
    afr: Path
    node_state: Path
    cycle: str

    def passphrase(self, party: Path) -> Path:
        return self.base / "secrets" / f"{party.name}.pass"


def _cli(*args: str) -> str:
    done = CliRunner().invoke(app, list(args))
    assert done.exit_code == 0, f"dief {' '.join(args[:2])}: {done.output}"
    return done.output


def _party(base: Path, name: str) -> tuple[Path, Path]:
    secret = base / "secrets" / f"{name}.pass"
    secret.parent.mkdir(parents=True, exist_ok=True)
    secret.write_text(f"the {name} passphrase (test only)\n", encoding="utf-8")
    return base / "keys" / name, secret


def _make_forum(base: Path, node: str) -> Forum:
    """Root, Secretariat, five regions, the TypeScript node registered, issuer keys of the
    previous cycle, the directory issued: only public files travel between parties."""
    root, root_pass = _party(base, "root")
    out = _cli("keys", "init-root", str(root), "--simulation", "--passphrase-file", str(root_pass))
    match = FINGERPRINT.search(out)
    assert match is not None, out
    sec, sec_pass = _party(base, "secretariat")
    _cli("keys", "init-secretariat", str(sec), "--simulation", "--passphrase-file", str(sec_pass))
    cert = base / "directory-cert.json"
    _cli("keys", "certify-directory-key", str(root), str(sec / "directory-key-request.json"),
         "--out", str(cert), "--passphrase-file", str(root_pass))  # fmt: skip
    _cli("keys", "install-certificate", str(sec), str(cert), "--root-fingerprint", match[1])
    regions: dict[str, Path] = {}
    for code in REGIONS:
        region, region_pass = _party(base, f"region-{code.lower()}")
        regions[code] = region
        _cli("keys", "init-region", code, str(region), "--simulation",
             "--passphrase-file", str(region_pass))  # fmt: skip
        signed = base / f"{code}-signed.json"
        _cli("keys", "certify-region-keys", str(root), str(region / "bundle.json"),
             "--out", str(signed), "--passphrase-file", str(root_pass))  # fmt: skip
        _cli("keys", "add-region", str(sec), str(signed))
    state = base / "ts-node"
    init = subprocess.run(
        [node, str(CLI), "init", "--state", str(state)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert init.returncode == 0, init.stderr
    _cli("keys", "register", str(sec), str(state / "registration.json"))
    current = CspCycle.of(Month.of(datetime.now(UTC).date()), start_month=9)
    cycle = str(current.previous())
    _cli("keys", "issuer-keys", str(sec), cycle, "--passphrase-file", str(sec_pass))
    directory = base / "directory.json"
    _cli("keys", "directory", "issue", str(sec), "--out", str(directory),
         "--passphrase-file", str(sec_pass))  # fmt: skip
    return Forum(base, match[1], directory, sec, regions["AFR"], state, cycle)


def _env(forum: Forum, party: Path, bootstrap: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIEF_")}
    env.update(
        {
            "DIEF_KEYRING__PATH": str(party),
            "DIEF_KEYRING__PASSPHRASE_FILE": str(forum.passphrase(party)),
            "DIEF_DIRECTORY__ROOT_FINGERPRINT": forum.fingerprint,
            "DIEF_DIRECTORY__FILE": str(forum.directory),
            "DIEF_KAFKA__BOOTSTRAP": bootstrap,
            "DIEF_KAFKA__EMBEDDED": "true",
            **extra,
        }
    )
    return env


def _start(forum: Forum, name: str, env: dict[str, str], *args: str) -> Service:
    out, err = forum.base / f"{name}.out", forum.base / f"{name}.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen(
            [str(DIEF), *args], cwd=forum.base, env=env, stdout=stdout, stderr=stderr
        )
    return Service(proc, out, err)


def _stop(service: Service) -> None:
    if service.proc.poll() is None:
        service.proc.send_signal(signal.SIGTERM)
    try:
        service.proc.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        service.proc.kill()
        service.proc.wait(timeout=STOP_TIMEOUT)


def _wait_for(condition: Callable[[], bool], timeout: float, what: str, *watched: Service) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        for service in watched:
            if service.proc.poll() is not None:
                pytest.fail(f"{what}: a service exited:\n{service.errors()[-3000:]}")
        if time.monotonic() > deadline:
            errors = "\n".join(s.errors()[-2000:] for s in watched)
            pytest.fail(f"{what}: not within {timeout:g}s; stderr:\n{errors}")
        time.sleep(0.2)


def _query(db: Path, sql: str, *params: object) -> list[tuple[Any, ...]]:
    if not db.exists():
        return []
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1.0) as conn:
            return list(conn.execute(sql, params))
    except sqlite3.OperationalError:
        return []


def _cases(cycle: str) -> list[dict[str, Any]]:
    """Three AFR cases of *cycle*: two with small arms, one with the Working Group's fields."""
    first = CspCycle.parse(cycle, start_month=9).first
    base: dict[str, Any] = {
        "kind": "case",
        "confidence": "suspected",
        "region": "AFR",
        "detected": f"{first}-14",
        "items": [{"category": "small_arms", "quantity": 12}],
        "transfer_stage": "in_transit",
        "methods": ["falsified_documents"],
        "transport_modes": ["sea"],
        "end_user_type": "criminal_organization",
        "risk_indicators": ["DOC-01"],
        "detection_source": "customs_border_control",
        "actions_taken": ["seizure"],
        "tlp": "amber",
    }
    second = {**base, "methods": ["falsified_documents", "complex_routing"], "tlp": "green"}
    third = {
        **base,
        "items": [{"category": "ammunition", "quantity": 5000}],
        "transfer_type": "trans_shipment",
        "maritime": ["transshipment_at_sea"],
        "actor_roles": [{"role": "broker", "registered": "no"}],
        "verification": {"check": "documentary", "outcome": "inconsistent"},
        "reassessment": {"reassessed": True, "outcome": "suspended"},
        "summary": "Documents were re-used for a second shipment; check the dates.",
    }
    return [base, second, third]


@dataclass(frozen=True, slots=True)
class Run:
    forum: Forum
    bootstrap: str
    node: str
    aggregator_db: Path
    posted: list[dict[str, Any]]
    services: tuple[Service, Service]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, module_broker: EmbeddedBroker) -> Iterator[Run]:
    node = _node()
    forum = _make_forum(tmp_path_factory.mktemp("reference-node"), node)
    bootstrap = module_broker.bootstrap
    sec = _start(
        forum,
        "secretariat",
        _env(
            forum,
            forum.secretariat,
            bootstrap,
            DIEF_REGIONS='["AFR"]',
            DIEF_DATABASE_URL=f"sqlite:///{forum.base / 'secretariat.sqlite'}",
        ),
        "secretariat",
    )
    started = [sec]
    try:
        _wait_for(lambda: "Secretariat running" in sec.errors(), START_TIMEOUT, "secretariat", sec)
        agg_db = forum.base / "aggregator.sqlite"
        agg = _start(
            forum,
            "aggregator",
            _env(forum, forum.afr, bootstrap, DIEF_DIGEST_INTERVAL="0"),
            "aggregate", "--region", "AFR", "--database-url", f"sqlite:///{agg_db}",
        )  # fmt: skip
        started.append(agg)
        _wait_for(lambda: "aggregating AFR" in agg.output(), START_TIMEOUT, "aggregator", agg)
        cases = forum.base / "cases.jsonl"
        cases.write_text("".join(json.dumps(c) + "\n" for c in _cases(forum.cycle)))
        done = subprocess.run(
            [node, str(CLI), "post", "--state", str(forum.node_state),
             "--directory", str(forum.directory), "--root-fingerprint", forum.fingerprint,
             "--bootstrap", bootstrap, "--cases", str(cases), "--hostile", ",".join(HOSTILE),
             "--timeout", "120"],
            capture_output=True, text=True, timeout=NODE_TIMEOUT, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr + sec.errors()[-2000:] + agg.errors()[-2000:]
        posted = json.loads(done.stdout)
        yield Run(forum, bootstrap, node, agg_db, posted, (sec, agg))
    finally:
        for service in reversed(started):
            _stop(service)


def test_the_typescript_nodes_cases_are_applied_and_counted(run: Run) -> None:
    cases = [p for p in run.posted if p["kind"] == "case"]
    assert len(cases) == 3
    assert [(p["receipt"] or {}).get("outcome") for p in cases] == ["applied"] * 3, cases
    ids = sorted(p["case_id"] for p in cases)
    rows = _query(run.aggregator_db, "SELECT case_id FROM cases WHERE region = 'AFR'")
    assert sorted(str(r[0]) for r in rows) == ids
    cells = {
        (str(d), str(v)): (int(n), int(c))
        for d, v, n, c in _query(
            run.aggregator_db,
            "SELECT dimension, value, n, contributors FROM cell_totals "
            "WHERE region = 'AFR' AND period = ?",
            run.forum.cycle,
        )
    }
    # one node: one contributor; the cases count once per distinct value
    assert cells["item_category", "small_arms"] == (2, 1)
    assert cells["item_category", "ammunition"] == (1, 1)
    assert cells["method", "falsified_documents"] == (3, 1)
    assert cells["method", "complex_routing"] == (1, 1)


async def test_its_records_are_on_the_partition_murmur2_gives_their_case_id(run: Run) -> None:
    records = await read_topics(
        run.bootstrap, [cases_topic("AFR")], expected=len(run.posted), time_limit=30.0
    )
    for record in records:
        assert record.key is not None
        assert record.partition == (murmur2(record.key) & 0x7FFFFFFF) % 3
        assert record.headers == ()
        assert record.timestamp_ms % 3_600_000 == 0  # coarsened to the hour


async def test_its_bad_records_are_dead_lettered_with_the_right_reasons(run: Run) -> None:
    hostile = {p["kind"].removeprefix("hostile:"): p for p in run.posted if p["kind"] != "case"}
    assert set(hostile) == set(HOSTILE)
    for kind, reason in HOSTILE.items():
        receipt = hostile[kind]["receipt"]
        if kind == "padding":
            assert receipt is None  # refused before the receipt key is handed out
        else:
            assert receipt == {
                "id": hostile[kind]["envelope_id"],
                "outcome": "dead_lettered",
                "reason": reason,
                "region": "AFR",
            }
    letters = await read_topics(
        run.bootstrap, [dlq_topic("AFR")], expected=len(HOSTILE), time_limit=60.0
    )
    reasons = {}
    for letter in letters:
        assert letter.value is not None
        envelope_id = json.loads(letter.value)["id"]
        reasons[envelope_id] = dict(letter.headers)["dief-reason"].decode()
    assert reasons == {hostile[k]["envelope_id"]: reason for k, reason in HOSTILE.items()}


def test_it_verifies_every_summary_the_secretariat_signs(run: Run) -> None:
    forum = run.forum
    region_pass = forum.passphrase(forum.afr)
    published = subprocess.run(
        [str(DIEF), "publish-digests", "--region", "AFR", "--period", forum.cycle,
         "--database-url", f"sqlite:///{run.aggregator_db}", "--embedded",
         "--passphrase-file", str(region_pass)],
        env=_env(forum, forum.afr, run.bootstrap), cwd=forum.base,
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert published.returncode == 0, published.stdout + published.stderr
    assert "version" in published.stdout, published.stdout
    # the Secretariat (waiting for AFR's digests only) signs and publishes the summary
    summaries = asyncio.run(read_topics(run.bootstrap, [CSP_TOPIC], expected=1, time_limit=90.0))
    assert [r.key for r in summaries] == [forum.cycle.encode()]
    done = subprocess.run(
        [run.node, str(CLI), "verify-summaries", "--state", str(forum.node_state),
         "--directory", str(forum.directory), "--root-fingerprint", forum.fingerprint,
         "--bootstrap", run.bootstrap, "--expect", str(len(summaries)), "--timeout", "60"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    checks = json.loads(done.stdout)
    assert len(checks) == len(summaries)
    assert all(c["ok"] for c in checks), checks
    assert [c["summary"]["cycle"] for c in checks] == [forum.cycle]
    assert all(c["summary"]["issue"] >= 1 for c in checks)


async def test_it_opens_a_bulletin_the_python_region_sealed(run: Run) -> None:
    """The Secretariat service published the directory's bulletin group key release at
    start; the AFR region, with its own keyring, seals a signed batch to it. The TypeScript
    node takes its copy of the key from the release, opens the batch and verifies the
    region's signature; a batch signed by a stranger, and one sealed to a key it does not
    hold, are ignored."""
    forum = run.forum
    raw = forum.directory.read_bytes()
    directory = verify_directory(raw, forum.fingerprint, None, time.time())
    key = GROUP_KEY_PREFIX + f"v{directory.version}".encode()
    records = await read_topics(run.bootstrap, [BULLETINS_TOPIC], expected=1)
    (release_raw, *_) = [r.value for r in records if r.key == key and r.value]
    release = BulletinGroupKeyRelease.model_validate_json(release_raw)
    public = group_public_key(release, directory)
    passphrase = forum.passphrase(forum.afr).read_text(encoding="utf-8").splitlines()[0]
    region = open_party(forum.afr, passphrase, root_fingerprint=forum.fingerprint, directory=raw)
    entry = BulletinEntry(
        bulletin_id="b" * 32,
        action="publish",
        kind="alert",
        item_categories=("small_arms",),
        transfer_stage="in_transit",
        route_regions=("AFR", "WEOG"),
        risk_indicators=("DOC-01",),
        month="2026-05",
        lesson="Check the end-user certificate against the issuing authority.",
    )
    files = []
    for name, sealer in (
        ("good", BulletinSealer("AFR", region.signing_key(KeyRole.REGION, "AFR"), public)),
        ("stranger", BulletinSealer("AFR", SigningKey.generate(), public)),
        (
            "other-key",
            BulletinSealer(
                "AFR",
                region.signing_key(KeyRole.REGION, "AFR"),
                KemPrivateKey.generate().public_key,
            ),
        ),
    ):
        path = forum.base / f"bulletin-{name}.bin"
        path.write_bytes(sealer.seal([entry]))
        files.append(str(path))
    release_file = forum.base / "group-key-release.json"
    release_file.write_bytes(release_raw)
    done = await asyncio.to_thread(
        subprocess.run,
        [run.node, str(CLI), "open-bulletins", "--state", str(forum.node_state),
         "--directory", str(forum.directory), "--root-fingerprint", forum.fingerprint,
         "--release", str(release_file), *files],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    good, stranger, other = (json.loads(line) for line in done.stdout.splitlines())
    assert good["region"] == "AFR"
    (opened,) = good["entries"]
    assert opened == entry.model_dump(mode="json")
    assert stranger == {"ignored": "bad_signature"}
    assert "ignored" in other
