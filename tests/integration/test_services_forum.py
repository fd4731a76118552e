"""The long-running services on a forum set up party by party (DESIGN §4, §5, §11; issue 12).

The forum is made with the per-party commands (``dief keys init-root``, ``init-secretariat``,
``init-region`` for each of the five regions, ``init-node`` twice, certificates, bundles,
registrations, issuer keys for this and the previous cycle, ``directory issue``), each party
under its own passphrase, flagged ``--simulation`` (the cheap passphrase KDF; RSA-2048 issuer
keys). Then the services run as an operator runs them, each a subprocess of the console
script with its own keyring only and the root fingerprint pinned:

- ``dief secretariat`` (``DIEF_PUBLISH_DIRECTORY=true``): the issuer, and the directory
  published on ``dief.directory``;
- ``dief aggregate --region AFR`` with no directory file: it reads the directory from the
  topic;
- ``dief node`` for the first node, with the directory file and an intake folder, whose
  keyring folder also holds a rogue region KEM key file.

The node gets its contributor tokens over Kafka, a posted case is applied (receipt
``applied``); a node holding only its own keyring cannot open it; the rogue key is no
recipient; a region KEM rotation (a new directory version) reaches the running node without
a restart, and its next case is sealed to the new key too (and still applied).

Waiting is on conditions with deadlines, never a fixed sleep.
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
from typer.testing import CliRunner

from dief.cli import app
from dief.crypto import KemPrivateKey, Opener, b64url_encode
from dief.exceptions import KeyNotFoundError, NoRecipientKeyError
from dief.kafka import cases_topic
from dief.keyring import KeyRole, NodeKeys, SecretariatKeys, open_party
from dief.periods import CspCycle, Month
from dief.testing import read_topics
from dief.vocab import Region

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from dief.broker import EmbeddedBroker

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DIEF = Path(sys.executable).parent / "dief"
START_TIMEOUT = 60.0
TOKEN_TIMEOUT = 60.0
APPLY_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
REGIONS = tuple(r.value for r in Region)
FINGERPRINT = re.compile(r"root fingerprint: ([0-9a-f]{64})")
NEW_KEM = re.compile(r"new KEM key ([a-z2-7]{20})")


@dataclass(frozen=True, slots=True)
class Party:
    """One party's keyring folder and its passphrase file (its own passphrase)."""

    path: Path
    passphrase: Path


@dataclass(frozen=True, slots=True)
class Forum:
    root_dir: Path
    fingerprint: str
    directory: Path
    root: Party
    secretariat: Party
    regions: dict[str, Party]
    nodes: tuple[Party, Party]
    cycles: tuple[str, str]
    rogue_kid: str


@dataclass(frozen=True, slots=True)
class Service:
    proc: subprocess.Popen[bytes]
    stderr: Path
    stdout: Path

    def errors(self) -> str:
        return self.stderr.read_text(encoding="utf-8", errors="replace")

    def output(self) -> str:
        return self.stdout.read_text(encoding="utf-8", errors="replace")


def _cli(*args: str) -> str:
    """Run ``dief *args`` in process (the setup commands); their output."""
    done = CliRunner().invoke(app, list(args))
    assert done.exit_code == 0, f"dief {' '.join(args[:2])}: {done.output}"
    return done.output


def _party(base: Path, name: str) -> Party:
    secret = base / "secrets" / f"{name}.pass"
    secret.parent.mkdir(parents=True, exist_ok=True)
    secret.write_text(f"the {name} passphrase (test only)\n", encoding="utf-8")
    return Party(base / "keys" / name, secret)


def _cycles() -> tuple[str, str]:
    current = CspCycle.of(Month.of(datetime.now(UTC).date()), start_month=9)
    return str(current.previous()), str(current)


def _rogue_key_files(folder: Path) -> str:
    """A region KEM public key file that no directory lists, dropped into *folder* (as the
    former one-keyring forum would have read it); its kid."""
    rogue = KemPrivateKey.generate()
    entry = {
        "format": "dief-public-key/1",
        "kid": rogue.kid,
        "kind": "kem",
        "role": "region",
        "region": "AFR",
        "alg": rogue.suite,
        "created": "2026-01-01T00:00:00Z",
        "active": True,
        "retired": False,
        "public": b64url_encode(rogue.public_key.public_bytes()),
    }
    (folder / "public").mkdir(exist_ok=True)
    (folder / "public" / f"{rogue.kid}.json").write_text(json.dumps(entry), encoding="utf-8")
    (folder / f"{rogue.kid}.json").write_text(json.dumps(entry), encoding="utf-8")
    return rogue.kid


def _make_forum(base: Path) -> Forum:
    """Every party makes its own keys; only public files travel (docs/forum-setup.md)."""
    sim = "--simulation"
    root = _party(base, "root")
    out = _cli("keys", "init-root", str(root.path), sim, "--passphrase-file", str(root.passphrase))
    match = FINGERPRINT.search(out)
    assert match is not None, out
    fingerprint = match[1]
    sec = _party(base, "secretariat")
    _cli("keys", "init-secretariat", str(sec.path), sim, "--passphrase-file", str(sec.passphrase))
    cert = base / "directory-cert.json"
    _cli("keys", "certify-directory-key", str(root.path),
         str(sec.path / "directory-key-request.json"), "--out", str(cert),
         "--passphrase-file", str(root.passphrase))  # fmt: skip
    _cli("keys", "install-certificate", str(sec.path), str(cert), "--root-fingerprint", fingerprint)
    regions: dict[str, Party] = {}
    for code in REGIONS:
        region = regions[code] = _party(base, f"region-{code.lower()}")
        _cli("keys", "init-region", code, str(region.path), sim,
             "--passphrase-file", str(region.passphrase))  # fmt: skip
        signed = base / f"{code}-signed.json"
        _cli("keys", "certify-region-keys", str(root.path), str(region.path / "bundle.json"),
             "--out", str(signed), "--passphrase-file", str(root.passphrase))  # fmt: skip
        _cli("keys", "add-region", str(sec.path), str(signed))
    nodes = (_party(base, "node-1"), _party(base, "node-2"))
    for node in nodes:
        _cli("keys", "init-node", str(node.path), sim, "--passphrase-file", str(node.passphrase))
        _cli("keys", "register", str(sec.path), str(node.path / "registration.json"))
    cycles = _cycles()
    for cycle in cycles:
        _cli("keys", "issuer-keys", str(sec.path), cycle, "--passphrase-file", str(sec.passphrase))
    directory = base / "directory.json"
    _cli("keys", "directory", "issue", str(sec.path), "--out", str(directory),
         "--passphrase-file", str(sec.passphrase))  # fmt: skip
    rogue = _rogue_key_files(nodes[0].path)
    return Forum(base, fingerprint, directory, root, sec, regions, nodes, cycles, rogue)


def _env(forum: Forum, party: Party, bootstrap: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIEF_")}
    env.update(
        {
            "DIEF_KEYRING__PATH": str(party.path),
            "DIEF_KEYRING__PASSPHRASE_FILE": str(party.passphrase),
            "DIEF_DIRECTORY__ROOT_FINGERPRINT": forum.fingerprint,
            "DIEF_KAFKA__BOOTSTRAP": bootstrap,
            "DIEF_KAFKA__EMBEDDED": "true",
            "COLUMNS": "200",
            **extra,
        }
    )
    return env


def _start(forum: Forum, name: str, env: dict[str, str], *args: str) -> Service:
    out, err = forum.root_dir / f"{name}.out", forum.root_dir / f"{name}.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen(
            [str(DIEF), *args], cwd=forum.root_dir, env=env, stdout=stdout, stderr=stderr
        )
    return Service(proc, err, out)


def _stop(service: Service) -> int:
    if service.proc.poll() is None:
        service.proc.send_signal(signal.SIGTERM)
    try:
        return service.proc.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        service.proc.kill()
        service.proc.wait(timeout=STOP_TIMEOUT)
        raise


def wait_for(condition: Callable[[], bool], timeout: float, what: str, *watched: Service) -> None:
    """Poll *condition* until true; fail with *what* and the services' errors otherwise."""
    deadline = time.monotonic() + timeout
    while not condition():
        for service in watched:
            if service.proc.poll() is not None:
                pytest.fail(f"{what}: a service exited with {service.proc.returncode}:\n"
                            f"{service.errors()[-3000:]}")  # fmt: skip
        if time.monotonic() > deadline:
            errors = "\n".join(s.errors()[-2000:] for s in watched)
            pytest.fail(f"{what}: not within {timeout:g}s; stderr:\n{errors}")
        time.sleep(0.2)


def _query(db: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    """Rows of *sql* on a database another process writes; [] while it is not ready."""
    if not db.exists():
        return []
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1.0) as conn:
            return list(conn.execute(sql, params))
    except sqlite3.OperationalError:
        return []


def _case(cycle: str) -> dict[str, object]:
    """A valid new AFR case detected in the first month of *cycle*."""
    month = CspCycle.parse(cycle, start_month=9).first
    return {
        "case_id": str(uuid.uuid4()),
        "kind": "case",
        "confidence": "suspected",
        "region": "AFR",
        "related_regions": [],
        "detected": str(month),
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


@dataclass(frozen=True, slots=True)
class Running:
    forum: Forum
    bootstrap: str
    secretariat: Service
    aggregator: Service
    node: Service
    aggregator_db: Path
    outbox: Path
    wallet: Path
    intake: Path

    @property
    def services(self) -> tuple[Service, Service, Service]:
        return (self.secretariat, self.aggregator, self.node)

    def post(self, name: str, cycle: str) -> None:
        """Drop a one-case file into the node's intake, the way a file should arrive."""
        staged = self.forum.root_dir / f"{name}.staged"
        staged.write_text(json.dumps(_case(cycle)) + "\n", encoding="utf-8")
        staged.rename(self.intake / f"{name}.jsonl")

    def receipts(self) -> list[tuple[str, str | None]]:
        rows = _query(self.outbox, "SELECT case_id, outcome FROM receipts ORDER BY created_at")
        return [(str(c), None if o is None else str(o)) for c, o in rows]

    def tokens(self) -> set[tuple[str, str]]:
        rows = _query(self.wallet, "SELECT cycle, region FROM tokens")
        return {(str(c), str(r)) for c, r in rows}


@pytest.fixture(scope="module")
def running(
    tmp_path_factory: pytest.TempPathFactory, module_broker: EmbeddedBroker
) -> Iterator[Running]:
    forum = _make_forum(tmp_path_factory.mktemp("forum"))
    bootstrap = module_broker.bootstrap
    base = forum.root_dir
    sec = _start(
        forum,
        "secretariat",
        _env(
            forum,
            forum.secretariat,
            bootstrap,
            DIEF_PUBLISH_DIRECTORY="true",
            DIEF_DATABASE_URL=f"sqlite:///{base / 'secretariat.sqlite'}",
        ),
        "secretariat",
    )
    started: list[Service] = [sec]
    try:
        wait_for(lambda: "Secretariat running" in sec.errors(), START_TIMEOUT, "secretariat", sec)
        agg_db = base / "aggregator.sqlite"
        agg = _start(
            forum,
            "aggregator",
            _env(forum, forum.regions["AFR"], bootstrap, DIEF_DIGEST_INTERVAL="0"),
            "aggregate", "--region", "AFR", "--database-url", f"sqlite:///{agg_db}",
        )  # fmt: skip
        started.append(agg)
        wait_for(lambda: "aggregating AFR" in agg.output(), START_TIMEOUT, "aggregator", agg)
        intake = base / "intake"
        intake.mkdir()
        outbox = base / "node-1-outbox.sqlite"
        node = _start(
            forum,
            "node",
            _env(
                forum,
                forum.nodes[0],
                bootstrap,
                DIEF_DIRECTORY__FILE=str(forum.directory),
                DIEF_OUTBOX=str(outbox),
                DIEF_INTAKE_DIR=str(intake),
                DIEF_RELAY_MAX_DELAY_SECONDS="0",
                DIEF_CREDENTIAL_MAX_DELAY_SECONDS="0",
            ),
            "node",
        )
        started.append(node)
        wait_for(lambda: "node running" in node.output(), START_TIMEOUT, "node", node)
        yield Running(
            forum, bootstrap, sec, agg, node, agg_db, outbox,
            base / "node-1-outbox.tokens.sqlite", intake,
        )  # fmt: skip
    finally:
        for service in reversed(started):
            _stop(service)


def test_the_node_gets_its_tokens_over_kafka_and_its_case_is_applied(running: Running) -> None:
    wanted = {(c, r) for c in running.forum.cycles for r in REGIONS}
    wait_for(
        lambda: running.tokens() == wanted,
        TOKEN_TIMEOUT,
        "the node holds a token per region of this and the previous cycle",
        *running.services,
    )
    running.post("first", running.forum.cycles[1])
    wait_for(
        lambda: [o for _c, o in running.receipts()] == ["applied"],
        APPLY_TIMEOUT,
        "the aggregator applies the case and the node reads its receipt",
        *running.services,
    )
    [(case_id, _)] = running.receipts()
    rows = _query(running.aggregator_db, "SELECT case_id FROM cases WHERE region = 'AFR'")
    assert [str(r[0]) for r in rows] == [case_id]
    # the issuer's answers were counted for the next directory: one token per key so far
    state = SecretariatKeys.load(running.forum.secretariat.path).state()
    issued = {(k.cycle, k.region): k.tokens for k in state.keys if k.cycle is not None}
    assert issued == dict.fromkeys(wanted, 1)


async def _afr_records(running: Running, expected: int) -> list[bytes]:
    records = await read_topics(
        running.bootstrap, [cases_topic(Region.AFR)], expected=expected, time_limit=30.0
    )
    return [r.value for r in records if r.value is not None]


async def test_a_node_with_its_own_keyring_only_cannot_open_the_case(running: Running) -> None:
    wait_for(lambda: len(running.receipts()) >= 1, APPLY_TIMEOUT, "a case", *running.services)
    [value, *_] = await _afr_records(running, 1)
    forum = running.forum
    for node in forum.nodes:
        view = open_party(
            node.path,
            node.passphrase.read_text(encoding="utf-8").splitlines()[0],
            root_fingerprint=forum.fingerprint,
            directory=forum.directory.read_bytes(),
        )
        with pytest.raises(KeyNotFoundError):
            view.opening_keys(KeyRole.REGION, "AFR")
        own = NodeKeys.load(
            node.path, passphrase=node.passphrase.read_text(encoding="utf-8").splitlines()[0]
        )
        with pytest.raises(NoRecipientKeyError):
            Opener([own.kem_key()]).open(value)
    # the region's own keyring does open it (the records are not simply unreadable)
    region = open_party(
        forum.regions["AFR"].path,
        forum.regions["AFR"].passphrase.read_text(encoding="utf-8").splitlines()[0],
        root_fingerprint=forum.fingerprint,
        directory=forum.directory.read_bytes(),
    )
    assert Opener(region.opening_keys(KeyRole.REGION, "AFR")).open(value).region == "AFR"


async def test_a_rogue_key_file_in_the_node_folder_is_no_recipient(running: Running) -> None:
    wait_for(lambda: len(running.receipts()) >= 1, APPLY_TIMEOUT, "a case", *running.services)
    directory = json.loads(running.forum.directory.read_bytes())
    listed = {
        k["kid"] for k in directory["keys"] if k["role"] == "region-kem" and k["region"] == "AFR"
    }
    for value in await _afr_records(running, 1):
        kids = {r["kid"] for r in json.loads(value)["recipients"]}
        assert running.forum.rogue_kid not in kids
        assert kids <= listed


async def test_a_region_kem_rotation_reaches_the_running_node_without_a_restart(
    running: Running,
) -> None:
    wait_for(lambda: len(running.receipts()) >= 1, APPLY_TIMEOUT, "a case", *running.services)
    forum = running.forum
    afr = forum.regions["AFR"]
    rotation = forum.root_dir / "afr-rotation.json"
    out = _cli("keys", "endorse-kem", str(afr.path), "--out", str(rotation),
               "--passphrase-file", str(afr.passphrase))  # fmt: skip
    match = NEW_KEM.search(out)
    assert match is not None, out
    new_kid = match[1]
    _cli("keys", "add-region", str(forum.secretariat.path), str(rotation))
    _cli("keys", "directory", "issue", str(forum.secretariat.path),
         "--passphrase-file", str(forum.secretariat.passphrase))  # fmt: skip
    # The running Secretariat publishes the new version; the node follows dief.directory
    # and warns about the change of AFR's keys (DESIGN §4).
    wait_for(
        lambda: "forum directory v2" in running.node.errors(),
        APPLY_TIMEOUT,
        "the node holds directory v2",
        *running.services,
    )
    before = len(running.receipts())
    running.post("second", forum.cycles[1])
    wait_for(
        lambda: (
            len(running.receipts()) == before + 1
            and all(o == "applied" for _c, o in running.receipts())
        ),
        APPLY_TIMEOUT,
        "the case sealed after the rotation is applied",
        *running.services,
    )
    values = await _afr_records(running, before + 1)
    # The topic has several partitions: records come back in partition order, not in the
    # order they were posted, so the case sealed after the rotation is found by its keys.
    kid_sets = [{r["kid"] for r in json.loads(v)["recipients"]} for v in values]
    rotated = [kids for kids in kid_sets if new_kid in kids]
    assert len(rotated) == 1  # the case sealed after the rotation, and only it
    assert len(rotated[0]) == 2  # the new key and the old one (a declared rotation)
    assert running.node.proc.poll() is None  # no restart
