"""Digests to the Secretariat and signed summaries out (DESIGN §2, §7), on the embedded broker
and on Apache Kafka (the service as the ``secretariat`` principal).

Cases go through national nodes and the regional aggregators into a store; every region
issues its sealed, signed digests on ``dief.digests`` (plus one digest signed with the wrong
region's key); ``dief secretariat`` runs as a subprocess of the console script and publishes
the signed summaries on ``csp.reporting``, which ``dief summary verify`` accepts with the
signed forum directory (its file and the pinned root fingerprint). The forged digest ends in
``dief.afr.dlq`` with its reason, and the service stops cleanly on SIGTERM.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from dief.aggregator.store import CaseStore
from dief.catalogue import load_catalogue
from dief.crypto import Sealer
from dief.database import sqlite_url
from dief.digests import (
    RegionDigests,
    build_payload,
    issue_every_digest,
    payload_bytes,
    sign_payload,
)
from dief.kafka import CSP_TOPIC, DIGESTS_TOPIC, KafkaRecordSink, dlq_topic, make_broker
from dief.keyring import KeyRole
from dief.seams import coarse_hour
from dief.secretariat import build_summary, verify_summary
from dief.vocab import Region
from dief.wire import TYPE_DIGEST, CspSummary
from tests.integration._pipeline_helpers import (
    PASSPHRASE,
    TODAY,
    Forum,
    Nodes,
    case_doc,
    read_topic,
    running_aggregators,
)

if TYPE_CHECKING:
    from tests.integration._brokers import BrokerStack

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DIEF = Path(sys.executable).parent / "dief"
CATALOGUE = load_catalogue()
MONTHS = ("2025-07", "2025-10", "2026-01", "2026-02", "2026-05")  # CSP11 and CSP12
SUBMITTERS = ("S-ONE", "S-TWO", "S-THREE", "S-FOUR")
STOP_TIMEOUT = 15.0


def _docs(seed: int) -> list[dict[str, object]]:
    rng = random.Random(seed)
    docs: list[dict[str, object]] = []
    for region in Region:
        docs.extend(
            case_doc(
                rng.choice(SUBMITTERS),
                region.value,
                detected=rng.choice(MONTHS),
                methods=rng.sample(["falsified_documents", "shell_company", "other"], 2),
                transport_modes=[rng.choice(["sea", "air", "land"])],
                tlp=rng.choice(["green", "amber", "red"]),
            )
            for _ in range(12)
        )
    return docs


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIEF_")}
    env.update({"DIEF_WORK_DIR": str(tmp_path / ".dief"), "COLUMNS": "200"})
    return env


async def _dief(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run,
        [str(DIEF), *args],
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _unsigned(doc: dict[str, object]) -> dict[str, object]:
    # the signature and the signing time are not what a summary reports
    return {k: v for k, v in doc.items() if k not in {"signature", "issued_at"}}


async def test_digests_to_signed_summaries_through_dief_secretariat(
    broker_stack: BrokerStack, tmp_path: Path
) -> None:
    bootstrap = broker_stack
    forum = Forum(tmp_path / "keys")
    directory = forum.path / "directory.json"
    fingerprint = forum.ring.root_fingerprint
    pass_file = tmp_path / "passphrase"
    pass_file.write_text(PASSPHRASE + "\n", encoding="utf-8")

    # cases through nodes and aggregators into the store
    async with CaseStore(sqlite_url(tmp_path / "aggregator.sqlite")) as store:
        nodes = Nodes(forum, bootstrap, tmp_path)
        try:
            async with running_aggregators(bootstrap, forum, store) as processed:
                sent = await nodes.post(_docs(5))
                await processed.wait_for(len(sent), time_limit=60)
        finally:
            await nodes.close()
        assert processed.outcomes["applied"] == len(sent)

        # every region's digests, and a forged one, on dief.digests
        producer = make_broker(broker_stack.settings("aggregator-afr"))
        await producer.connect()
        try:
            sink = KafkaRecordSink(producer)
            published, cycles = await issue_every_digest(
                store, forum.ring, dict.fromkeys(Region, sink), catalogue=CATALOGUE, k_meeting=2
            )
            draft = await build_payload(
                store,
                Region.AFR,
                "CSP12",
                version=9,
                issued_at=coarse_hour(0),
                catalogue=CATALOGUE,
            )
            forged = sign_payload(draft, forum.ring.signing_key(KeyRole.REGION, "EEG"))
            sealer = Sealer(
                type=TYPE_DIGEST,
                region="AFR",
                recipients=forum.ring.sealing_keys(KeyRole.SECRETARIAT),
            )
            await sink.send(DIGESTS_TOPIC, b"AFR", sealer.seal(payload_bytes(forged)))
        finally:
            await producer.stop()
        assert cycles == {"CSP11", "CSP12"}
        assert {d.region for d in published} == set(Region)
        expected: dict[str, CspSummary] = {}
        for c in sorted(cycles):  # the previous cycle's summary breaks ties
            prior = expected.get(f"CSP{int(c[3:]) - 1}")
            # one protected system: what each region's joint pattern required of its row
            rows = {
                r: (
                    await RegionDigests.load(
                        store, r, k=2, k_csp=3, earlier=await store.published_suppressions(r)
                    )
                ).pattern.rows[c]
                for r in Region
            }
            expected[c] = await build_summary(
                store, c, k=3, catalogue=CATALOGUE, prior_cycle=prior, rows=rows
            )

    # the Secretariat service, as deployed
    database = sqlite_url(tmp_path / "secretariat.sqlite")
    err_path = tmp_path / "secretariat.err"
    with err_path.open("wb") as err:
        proc = await asyncio.create_subprocess_exec(
            str(DIEF),
            "secretariat",
            "--bootstrap",
            broker_stack.bootstrap,
            *(["--embedded"] if broker_stack.embedded else []),
            "--keys",
            str(forum.path),
            "--passphrase-file",
            str(pass_file),
            "--database-url",
            database,
            cwd=tmp_path,
            env={**_env(tmp_path), **broker_stack.env("secretariat")},
            stdout=asyncio.subprocess.DEVNULL,
            stderr=err,
        )
    try:
        records = await read_topic(bootstrap, CSP_TOPIC, len(cycles), time_limit=90)
        dead = await read_topic(bootstrap, dlq_topic(Region.AFR), 1, time_limit=10)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.wait_for(proc.wait(), STOP_TIMEOUT)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise
    errors = err_path.read_text(encoding="utf-8", errors="replace")
    assert code == 0, errors[-3000:]  # SIGTERM: a clean stop
    assert "Traceback" not in errors

    # one signed summary per cycle, keyed by cycle, equal to one built from the store
    by_cycle = {r.key.decode(): r.value for r in records}
    assert set(by_cycle) == cycles
    trusted = forum.ring.verify_keys(KeyRole.SECRETARIAT)
    for cycle, value in by_cycle.items():
        verified = verify_summary(value, trusted)
        assert verified.summary.cycle == cycle
        assert _unsigned(json.loads(value)) == _unsigned(
            expected[cycle].model_dump(mode="json", by_alias=True)
        )
    assert expected["CSP12"].methodology.suppressed > 0

    # `dief summary verify` with the signed directory, as any State would check it
    path = tmp_path / "CSP12.json"
    path.write_bytes(by_cycle["CSP12"])
    checked = await _dief(
        tmp_path,
        "summary",
        "verify",
        str(path),
        "--directory",
        str(directory),
        "--root-fingerprint",
        fingerprint,
    )
    assert (checked.returncode, checked.stdout.split(":")[0]) == (0, "valid"), checked.stderr
    doc = json.loads(by_cycle["CSP12"])
    # a count the signature covers (the global total's cases may be hidden at this volume)
    doc["global"]["totals"]["suppressed"] += 1
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    checked = await _dief(
        tmp_path,
        "summary",
        "verify",
        str(path),
        "--directory",
        str(directory),
        "--root-fingerprint",
        fingerprint,
    )
    assert checked.returncode == 1
    assert checked.stdout.startswith("invalid: ")
    assert "does not verify" in checked.stdout

    # the forged digest: dead-lettered to the region it claims, with the reason
    (letter,) = dead
    headers = dict(letter.headers)
    assert letter.key == b"AFR"
    assert headers["dief-reason"] == b"bad_signature"
    assert headers["dief-source-topic"] == DIGESTS_TOPIC.encode()
    assert headers["dief-detail"].startswith(b"digest of AFR 'CSP12'")

    # `dief summary` renders what the service stored: the published, signed document
    shown = await _dief(tmp_path, "summary", "--cycle", "CSP12", "--database-url", database)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout) == json.loads(by_cycle["CSP12"])
    assert TODAY.year == 2026  # the months above lie before the helpers' "today"
