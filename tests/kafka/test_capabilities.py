"""Capabilities, not names (DESIGN §9): a client asks the broker whether it has idempotent
producers (ApiVersions and an InitProducerId probe) instead of recognising the embedded
broker by its cluster id; every connection error says what was tried and the fix.

The attack: a Tansu that ``dief broker`` did not start (another cluster id) used to make
``dief run --bootstrap`` fail with "cannot connect to the broker: UnknownError".
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from dief.broker import accepts, pick_free_port, resolve_broker_binary, spawn
from dief.catalogue import load_catalogue
from dief.exceptions import BrokerError
from dief.kafka import NodePublisher, probe_capabilities
from dief.settings import KafkaSettings
from dief.synthetic import generate_cases, write_jsonl

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator

    from dief.kafka_cluster import KafkaCluster

pytestmark = [pytest.mark.integration]

DIEF = Path(sys.executable).parent / "dief"


@contextlib.asynccontextmanager
async def foreign_tansu(tmp: Path) -> AsyncGenerator[str, None]:
    """A Tansu broker started as any operator would, with a cluster id of its own."""
    port = pick_free_port()
    url = f"tcp://127.0.0.1:{port}"
    argv = [str(resolve_broker_binary()), "broker", "--listener-url", url]
    argv += ["--advertised-listener-url", url, "--storage-engine", "memory://tansu/"]
    proc = spawn([*argv, "--cluster-id", "someone-elses-tansu"], tmp / "tansu.log")
    try:
        deadline = time.monotonic() + 20
        while not await accepts(port):
            assert proc.poll() is None, (tmp / "tansu.log").read_text()
            assert time.monotonic() < deadline, "Tansu did not listen within 20 s"
            await asyncio.sleep(0.05)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def test_the_probe_finds_no_idempotence_on_tansu(tmp_path: Path) -> None:
    async with foreign_tansu(tmp_path) as bootstrap:
        found = await probe_capabilities(KafkaSettings(bootstrap=bootstrap))
    assert not found.idempotence
    assert not found.transactions
    assert any("InitProducerId" in note for note in found.notes)


async def test_an_idempotent_producer_on_tansu_says_what_was_tried_and_the_fix(
    tmp_path: Path,
) -> None:
    async with foreign_tansu(tmp_path) as bootstrap:
        publisher = NodePublisher(KafkaSettings(bootstrap=bootstrap, embedded=False))
        with pytest.raises(BrokerError) as caught:
            await publisher.connect()
    message = caught.value.message
    assert f"bootstrap {bootstrap}" in message
    assert "security PLAINTEXT" in message
    assert "idempotent" in message
    assert "DIEF_KAFKA__EMBEDDED" in message


async def test_an_unreachable_broker_names_the_address_and_the_fix() -> None:
    address = f"127.0.0.1:{pick_free_port()}"
    with pytest.raises(BrokerError) as caught:
        await probe_capabilities(KafkaSettings(bootstrap=address), time_limit=3.0)
    message = caught.value.message
    assert f"bootstrap {address}" in message
    assert "dief broker" in message
    assert "dief kafka" in message


@pytest.mark.slow
async def test_dief_run_works_against_a_tansu_it_did_not_start(tmp_path: Path) -> None:
    batch = tmp_path / "cases.jsonl"
    ids = list(load_catalogue().ids)
    write_jsonl(
        generate_cases(40, seed=5, indicator_ids=ids, today=dt.datetime.now(dt.UTC).date()), batch
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIEF_")}
    env["DIEF_WORK_DIR"] = str(tmp_path / "work")
    out = tmp_path / "out"
    async with foreign_tansu(tmp_path) as bootstrap:
        argv = [
            str(DIEF),
            "run",
            "--input",
            str(batch),
            "--out",
            str(out),
            "--bootstrap",
            bootstrap,
        ]
        done = await asyncio.to_thread(
            subprocess.run, argv, env=env, capture_output=True, text=True, timeout=240, check=False
        )
    assert done.returncode == 0, done.stderr
    facts = json.loads((tmp_path / "out" / "run.json").read_text(encoding="utf-8"))
    assert facts["accepted"] == 40
    assert facts["applied"] == facts["published"] > 0


@pytest.mark.kafka
async def test_the_probe_finds_idempotence_on_apache_kafka(kafka_cluster: KafkaCluster) -> None:
    found = await probe_capabilities(kafka_cluster.settings("node"))
    assert found.idempotence
    assert found.transactions
    assert found.notes == ()


@pytest.mark.kafka
async def test_a_wrong_password_names_the_user_and_the_fix_never_the_password(
    kafka_cluster: KafkaCluster,
) -> None:
    right = kafka_cluster.settings("node")
    settings = KafkaSettings.model_validate({**right.model_dump(), "password": "wrong-pass-9d1e"})
    with pytest.raises(BrokerError) as caught:
        await probe_capabilities(settings, time_limit=10.0)
    message = caught.value.message
    assert "SASL SCRAM-SHA-512 as node" in message
    assert "DIEF_KAFKA__PASSWORD" in message
    assert "wrong-pass-9d1e" not in message
    assert str(kafka_cluster.ca_file) in message
