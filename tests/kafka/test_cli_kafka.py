"""``dief kafka``: a development Apache Kafka until Ctrl-C, with each principal's client
settings in an env file that a DIEF client can use as it is; no secret on the screen."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dief.cli import app
from dief.exceptions import KafkaUnavailableError
from dief.kafka import probe_capabilities
from dief.settings import KafkaSettings
from tests.integration._brokers import local_runtime

DIEF = Path(sys.executable).with_name("dief")


def test_two_brokers_are_refused() -> None:
    result = CliRunner().invoke(app, ["kafka", "--brokers", "2"])
    assert result.exit_code == 2
    assert "1 or 3 brokers" in result.output


@pytest.mark.kafka
@pytest.mark.integration
async def test_dief_kafka_serves_until_interrupted_and_its_env_files_work(tmp_path: Path) -> None:
    try:
        local_runtime()
    except KafkaUnavailableError as exc:
        pytest.skip(f"Apache Kafka cannot run here: {exc.message}")
    env_dir = tmp_path / "env"
    out = tmp_path / "out.log"
    with out.open("wb") as log:
        proc = await asyncio.create_subprocess_exec(
            *(str(DIEF), "kafka", "--env-dir", str(env_dir), "--heap-mb", "256"),
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "COLUMNS": "200"},
        )
    try:
        node_env = env_dir / "node.env"
        async with asyncio.timeout(180):
            while "Ctrl-C to stop" not in out.read_text(errors="replace"):
                assert proc.returncode is None, out.read_text(errors="replace")
                await asyncio.sleep(0.2)
        assert node_env.stat().st_mode & 0o777 == 0o600
        values = dict(
            line.split("=", 1) for line in node_env.read_text(encoding="utf-8").splitlines()
        )
        settings = KafkaSettings.model_validate(
            {k.removeprefix("DIEF_KAFKA__").lower(): v for k, v in values.items()}
        )
        assert (await probe_capabilities(settings)).idempotence
        assert values["DIEF_KAFKA__PASSWORD"] not in out.read_text(errors="replace")
    finally:
        proc.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(proc.wait(), 60)
    assert code == 0, out.read_text(errors="replace")
    assert not node_env.exists()  # the settings go with the cluster
