"""A setting that is accepted does something: ``DIEF_RELAY_BACKOFF_MAX`` caps the node
relay's backoff, and the Kafka group has no partition count (topics are created by ``dief
broker`` / ``deploy/kafka/setup.sh``), so ``DIEF_KAFKA__PARTITIONS`` is refused, not
silently ignored."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, SecretStr
from typer.testing import CliRunner

from dief.cli import app
from dief.exceptions import ConfigurationError
from dief.keyring import KdfParams, Keyring
from dief.seams import Backoff
from dief.settings import (
    AggregatorSettings,
    BrokerSettings,
    KafkaSettings,
    KeyringSettings,
    KeysSettings,
    NodeSettings,
    RunSettings,
    SecretariatSettings,
    load_settings,
)

ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = "settings-wiring-test"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.upper().startswith("DIEF_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


async def test_the_node_relay_backs_off_at_most_relay_backoff_max(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import producers.node

    keys = tmp_path / "keys"
    Keyring.init_forum(
        keys, PASSPHRASE, nodes=["node"], kdf=KdfParams(iterations=1, lanes=1, memory_kib=8)
    )
    relays: list[dict[str, Any]] = []

    class FakeRelay:
        def __init__(self, outbox: object, publisher: object, **options: Any) -> None:
            relays.append(options)

        async def close(self) -> None:
            pass

    monkeypatch.setattr(producers.node, "OutboxRelay", FakeRelay)
    monkeypatch.setenv("DIEF_RELAY_BACKOFF_MAX", "4.5")
    settings = load_settings(
        NodeSettings, {"keyring": {"path": keys}, "outbox": tmp_path / "outbox.sqlite"}
    )
    service = producers.node.NodeService(settings, SecretStr(PASSPHRASE))
    await service.start()
    await service.stop()
    [options] = relays
    assert options["backoff"] == Backoff(maximum=4.5)
    assert options["batch"] == settings.relay_batch
    assert options["max_delay"] == settings.relay_max_delay_seconds == 300.0  # production


def test_kafka_settings_have_no_partition_count() -> None:
    assert "partitions" not in KafkaSettings.model_fields


def test_an_unknown_kafka_or_keyring_variable_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIEF_KAFKA__PARTITIONS", "6")
    with pytest.raises(ConfigurationError, match="DIEF_KAFKA__PARTITIONS"):
        load_settings(NodeSettings)
    result = CliRunner().invoke(app, ["node"])
    assert result.exit_code == 1
    assert "DIEF_KAFKA__PARTITIONS" in result.output
    monkeypatch.delenv("DIEF_KAFKA__PARTITIONS")
    monkeypatch.setenv("DIEF_KEYRING__PASSPRHASE", "typo")
    with pytest.raises(ConfigurationError, match="DIEF_KEYRING__PASSPRHASE"):
        load_settings(AggregatorSettings)


def _sources() -> str:
    paths = [*ROOT.glob("dief/**/*.py"), *ROOT.glob("consumers/*.py"), *ROOT.glob("producers/*.py")]
    return "\n".join(p.read_text(encoding="utf-8") for p in paths)


@pytest.mark.parametrize(
    "model",
    [
        NodeSettings,
        AggregatorSettings,
        SecretariatSettings,
        RunSettings,
        BrokerSettings,
        KeysSettings,
        KafkaSettings,
        KeyringSettings,
    ],
)
def test_every_setting_is_read_somewhere(model: type[BaseModel]) -> None:
    """Each field is read as an attribute (``settings.<field>``) by some code."""
    code = _sources()
    unread = [
        name for name in model.model_fields if not re.search(rf"\.{name}\b(?!\s*[:=][^=])", code)
    ]
    assert unread == []
