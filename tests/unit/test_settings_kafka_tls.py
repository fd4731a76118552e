"""A Kafka CA file that cannot be used is a :class:`ConfigurationError` naming
``DIEF_KAFKA__CA_FILE`` and the path, raised at the edge (before any service starts) with
the OS error as its cause; constructors do no I/O."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

from dief.cli import app
from dief.exceptions import ConfigurationError
from dief.kafka import NodePublisher, make_broker
from dief.keyring import SimulatedForum
from dief.settings import AggregatorSettings, KafkaSettings, SecretariatSettings, load_settings

if TYPE_CHECKING:
    from pathlib import Path

PASSPHRASE = "kafka-tls-test"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.upper().startswith("DIEF_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def missing_ca(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    path = tmp_path / "no-such-ca.pem"
    monkeypatch.setenv("DIEF_KAFKA__SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("DIEF_KAFKA__CA_FILE", str(path))
    return path


def test_load_settings_refuses_a_missing_ca_file_naming_the_variable(missing_ca: Path) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(AggregatorSettings)
    assert "DIEF_KAFKA__CA_FILE" in caught.value.message
    assert str(missing_ca) in caught.value.message
    assert isinstance(caught.value.__cause__, FileNotFoundError)


def test_a_ca_file_without_a_certificate_is_refused_too(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate\n", encoding="utf-8")
    settings = KafkaSettings(security_protocol="SSL", ca_file=bad)
    with pytest.raises(ConfigurationError, match="DIEF_KAFKA__CA_FILE"):
        settings.tls_context()


def test_commands_that_do_not_connect_do_not_read_it(missing_ca: Path) -> None:
    settings = load_settings(SecretariatSettings, connects=False)
    assert settings.kafka.ca_file == missing_ca


@pytest.fixture(scope="module")
def forum(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A whole forum keyring: the services get as far as connecting."""
    path = tmp_path_factory.mktemp("forum") / "keys"
    SimulatedForum.create(path, PASSPHRASE, nodes=["node"])
    return path


@pytest.mark.parametrize("command", [["aggregate", "--all"], ["node"], ["secretariat"]])
def test_the_services_stop_at_the_edge_with_one_line(
    monkeypatch: pytest.MonkeyPatch, missing_ca: Path, forum: Path, command: list[str]
) -> None:
    monkeypatch.setenv("DIEF_KEYRING__PATH", str(forum))
    monkeypatch.setenv("DIEF_KEYRING__PASSPHRASE", PASSPHRASE)
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert "DIEF_KAFKA__CA_FILE" in lines[0]
    assert str(missing_ca) in " ".join(result.output.split())


async def test_the_node_publisher_reads_the_ca_file_when_it_connects_not_before(
    tmp_path: Path,
) -> None:
    settings = KafkaSettings(security_protocol="SSL", ca_file=tmp_path / "missing.pem")
    publisher = NodePublisher(settings)  # no I/O here
    with pytest.raises(ConfigurationError, match="DIEF_KAFKA__CA_FILE") as caught:
        await publisher.connect()
    assert isinstance(caught.value.__cause__, FileNotFoundError)
    await publisher.close()


def test_make_broker_raises_a_configuration_error_not_a_file_error(tmp_path: Path) -> None:
    settings = KafkaSettings(security_protocol="SASL_SSL", ca_file=tmp_path / "missing.pem")
    with pytest.raises(ConfigurationError, match=r"missing\.pem"):
        make_broker(settings)
