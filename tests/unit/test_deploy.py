"""compose.yaml and deploy/ are checked here, not run (no container engine on CI)."""

from __future__ import annotations

from pathlib import Path

import yaml

from dief.vocab import Region

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict[str, object]:
    data = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_compose_has_three_kraft_brokers_and_an_aggregator_per_region() -> None:
    services = _compose()["services"]
    assert isinstance(services, dict)
    brokers = [name for name in services if name.startswith("kafka-") and name != "kafka-setup"]
    assert len(brokers) == 3
    for region in Region:
        svc = services[f"aggregator-{region.topic_code}"]
        assert svc["command"] == ["dief", "aggregate", "--region", region.value]
        assert svc["environment"]["DIEF_KAFKA__USERNAME"] == f"aggregator-{region.topic_code}"


def test_compose_uses_tls_and_scram_and_commits_no_secret() -> None:
    text = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    assert "SASL_SSL" in text
    assert "SCRAM-SHA-512" in text
    assert "PASSWORD:" not in text.replace("POSTGRES_PASSWORD_FILE:", "")


def test_acl_script_gives_each_aggregator_only_its_prefix() -> None:
    script = (ROOT / "deploy" / "kafka" / "setup.sh").read_text(encoding="utf-8")
    assert "for region in afr apg eeg grulac weog; do" in script
    assert '--topic "dief.${region}." --resource-pattern-type prefixed' in script
    assert 'KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND: "false"' in (ROOT / "compose.yaml").read_text()


def test_compose_runs_the_secretariat_like_the_aggregators() -> None:
    services = _compose()["services"]
    assert isinstance(services, dict)
    svc = services["secretariat"]
    aggregator = services["aggregator-afr"]
    assert svc["command"] == ["dief", "secretariat"]
    assert svc["environment"]["DIEF_KAFKA__USERNAME"] == "secretariat"
    keys = svc["environment"]["DIEF_KEYRING__PATH"]
    assert svc["volumes"] == [f"./deploy/keys/secretariat:{keys}:ro"]
    assert svc["env_file"] == "./deploy/secrets/secretariat.env"  # password, database URL
    assert svc["secrets"] == aggregator["secrets"]
    assert set(svc["depends_on"]) == {"kafka-setup", "postgres"}
    for name in ("DIEF_KAFKA__SECURITY_PROTOCOL", "DIEF_KEYRING__PASSPHRASE_FILE"):
        assert svc["environment"][name] == aggregator["environment"][name]
    init = (ROOT / "deploy" / "postgres" / "init.sql").read_text(encoding="utf-8")
    assert "CREATE DATABASE dief_secretariat OWNER secretariat;" in init


def _acl_grants(script: str) -> set[tuple[str, str, str]]:
    """(principal, operation, resource) of every `acl --add` line (continuations joined)."""
    grants: set[tuple[str, str, str]] = set()
    for command in script.replace("\\\n", " ").splitlines():
        words = command.split()
        if words[:2] != ["acl", "--add"]:
            continue
        principal = words[words.index("--allow-principal") + 1].strip('"')
        kind = "--topic" if "--topic" in words else "--group"
        resource = words[words.index(kind) + 1].strip('"')
        for i, word in enumerate(words):
            if word == "--operation":
                grants.add((principal, words[i + 1], resource))
    return grants


def test_acl_script_grants_the_secretariat_what_it_does() -> None:
    script = (ROOT / "deploy" / "kafka" / "setup.sh").read_text(encoding="utf-8")
    grants = {g for g in _acl_grants(script) if g[0] == "User:secretariat"}
    assert grants == {
        ("User:secretariat", "Read", "dief.digests"),
        ("User:secretariat", "Describe", "dief.digests"),
        ("User:secretariat", "Read", "dief-secretariat"),
        ("User:secretariat", "Write", "csp.reporting"),
        # refused digests go to the DLQ of the region they claim (docs/secretariat.md)
        ("User:secretariat", "Write", "dief.${region}.dlq"),
    }
    for region in Region:  # the loop covers every region
        assert region.topic_code in script.split("for region in ", 1)[1].split(";", 1)[0]
    aggregators = {g for g in _acl_grants(script) if g[0] == "User:aggregator-${region}"}
    assert ("User:aggregator-${region}", "Write", "dief.digests") in aggregators


def test_acl_script_lets_aggregators_write_receipts_and_nodes_only_read_them() -> None:
    script = (ROOT / "deploy" / "kafka" / "setup.sh").read_text(encoding="utf-8")
    assert "--topic dief.receipts --partitions 1" in script
    grants = _acl_grants(script)
    assert ("User:aggregator-${region}", "Write", "dief.receipts") in grants
    nodes = {g for g in grants if g[0] == "User:node"}
    assert nodes == {
        ("User:node", "Write", "dief.${region}.cases"),
        ("User:node", "Describe", "dief.${region}.cases"),
        ("User:node", "Read", "dief.receipts"),
        ("User:node", "Describe", "dief.receipts"),
    }


def test_image_installs_the_lock_file_exactly() -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    assert "uv sync --locked" in dockerfile
