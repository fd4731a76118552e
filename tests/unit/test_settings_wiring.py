"""A setting that is accepted does something: ``DIEF_RELAY_BACKOFF_MAX`` caps the node
relay's backoff, and the Kafka group has no partition count (topics are created by ``dief
broker`` / ``deploy/kafka/setup.sh``), so ``DIEF_KAFKA__PARTITIONS`` is refused, not
silently ignored. The node's keys and tokens: ``DIEF_CREDENTIALS_FILE`` (the wallet, beside
the outbox by default), ``DIEF_NODE`` in a simulated forum, and cases sealed to the region
keys the signed directory lists when each is sealed (a rotation needs no restart; a key
file in the node's folder is never a recipient)."""

from __future__ import annotations

import json
import os
import re
import sqlite3
from itertools import starmap
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, SecretStr
from typer.testing import CliRunner

import producers.node
from dief.cli import app
from dief.credentials import Issuer, IssuerKey, MemoryLedger, registrations_of
from dief.crypto import KemPrivateKey, b64url_encode
from dief.exceptions import ConfigurationError
from dief.keyring import SimulatedForum
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

    keys = tmp_path / "keys"
    SimulatedForum.create(keys, PASSPHRASE, nodes=["node"])
    relays: list[dict[str, Any]] = []

    class FakeRelay:
        def __init__(self, outbox: object, publisher: object, **options: Any) -> None:  # noqa: ANN401  the relay's signature; the options as the service passes them
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
    assert options["max_delay"] == settings.relay_max_delay_seconds == 300.0  # noqa: RUF069  production; a configured value, exact


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
    """Each field is read as an attribute (``settings.<field>``) by some code: not an
    assignment or an annotation (``x.name = …``, ``x.name: T``), but ``if x.name:`` is."""
    code = _sources()
    written = r"(?!\s*(?:=[^=]|:\s*[A-Za-z_\[]))"
    unread = [name for name in model.model_fields if not re.search(rf"\.{name}\b{written}", code)]
    assert unread == []


# -- the node's keys and tokens ---------------------------------------------------------------

CYCLE = "CSP13"
CASE = {
    "kind": "case",
    "confidence": "suspected",
    "region": "AFR",
    "detected": "2026-10",
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


@pytest.fixture
def forum(tmp_path: Path) -> SimulatedForum:
    return SimulatedForum.create(
        tmp_path / "keys", PASSPHRASE, nodes=["alpha", "bravo"], cycles=[CYCLE]
    )


async def _give_tokens(
    service: producers.node.NodeService, forum: SimulatedForum, label: str
) -> None:
    """The node's AFR token of :data:`CYCLE`, blind-signed by the issuer in process."""
    sec = forum.secretariat()
    issuer = Issuer(
        [IssuerKey(CYCLE, "AFR", sec.issuer_private_key(CYCLE, "AFR"), simulation=True)],
        registrations_of(sec),
        MemoryLedger(),
    )
    request = service.wallet.request(CYCLE, "AFR")
    keys = forum.node(label)
    blind = await issuer.sign(
        keys.registration_kid, request.issuer_kid, CYCLE, "AFR", request.blinded
    )
    service.wallet.accept(request.issuer_kid, blind)


def _sealed_recipients(outbox: Path) -> list[set[str]]:

    with sqlite3.connect(outbox) as db:
        values = list(starmap(bytes, db.execute("SELECT value FROM outbox ORDER BY seq")))
    return [{r["kid"] for r in json.loads(v)["recipients"]} for v in values]


async def test_the_node_keeps_its_tokens_beside_the_outbox_or_in_dief_credentials_file(
    forum: SimulatedForum, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:

    outbox = tmp_path / "node" / "outbox.sqlite"
    settings = load_settings(
        NodeSettings, {"keyring": {"path": forum.path}, "node": "alpha", "outbox": outbox}
    )
    assert settings.wallet_path == tmp_path / "node" / "outbox.tokens.sqlite"
    service = producers.node.NodeService(settings, SecretStr(PASSPHRASE))
    await service.start()
    try:
        await _give_tokens(service, forum, "alpha")
    finally:
        await service.stop()
    assert settings.wallet_path.is_file()
    # the token is there again after a restart
    again = producers.node.NodeService(settings, SecretStr(PASSPHRASE))
    await again.start()
    try:
        assert again.wallet.credential(CYCLE, "AFR") is not None
    finally:
        await again.stop()

    monkeypatch.setenv("DIEF_CREDENTIALS_FILE", str(tmp_path / "elsewhere.sqlite"))
    moved = load_settings(NodeSettings, {"outbox": outbox})
    assert moved.wallet_path == tmp_path / "elsewhere.sqlite"


async def test_dief_node_names_a_node_of_the_simulated_forum(
    forum: SimulatedForum, tmp_path: Path
) -> None:

    settings = load_settings(
        NodeSettings,
        {"keyring": {"path": forum.path}, "node": "zulu", "outbox": tmp_path / "o.sqlite"},
    )
    with pytest.raises(ConfigurationError, match="no node labelled"):
        await producers.node.NodeService(settings, SecretStr(PASSPHRASE)).start()


async def test_cases_are_sealed_to_the_directorys_region_keys_at_each_seal(
    forum: SimulatedForum, tmp_path: Path
) -> None:
    """A rogue key file in the node's folder is never a recipient; a region KEM rotation in
    a newer directory is used from the next case on, without a restart."""
    rogue = KemPrivateKey.generate()
    folder = forum.node_path("alpha")
    (folder / "public").mkdir()
    (folder / "public" / f"{rogue.kid}.json").write_text(
        json.dumps({"kid": rogue.kid, "kind": "kem", "role": "region", "region": "AFR",
                    "alg": rogue.suite, "public": b64url_encode(rogue.public_key.public_bytes())})
    )  # fmt: skip
    outbox = tmp_path / "outbox.sqlite"
    settings = load_settings(
        NodeSettings, {"keyring": {"path": forum.path}, "node": "alpha", "outbox": outbox}
    )
    cases = tmp_path / "cases.jsonl"
    service = producers.node.NodeService(settings, SecretStr(PASSPHRASE))
    await service.start()
    try:
        await _give_tokens(service, forum, "alpha")
        cases.write_text(json.dumps(CASE) + "\n", encoding="utf-8")
        [first] = await service.post([cases])
        assert len(first.report.accepted) == 1
        listed = {k.kid for k in forum.directory.region_kem_keys("AFR")}

        # the region rotates its KEM key; the Secretariat issues a new directory
        sec = forum.secretariat()
        sec.add_region(forum.region("AFR").endorse_kem())
        newer = sec.issue_directory()
        assert service.directory.offer(newer.raw).version == newer.version
        rotated = {k.kid for k in newer.region_kem_keys("AFR")}
        assert len(rotated) == 2
        assert listed < rotated

        cases.write_text(json.dumps({**CASE, "tlp": "green"}) + "\n", encoding="utf-8")
        [second] = await service.post([cases])
        assert len(second.report.accepted) == 1
    finally:
        await service.stop()
    before, after = _sealed_recipients(outbox)
    assert before == listed
    assert after == rotated
    assert rogue.kid not in before | after
