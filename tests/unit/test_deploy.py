"""compose.yaml and deploy/ are checked here, not run (no container engine on CI)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from dief.vocab import Region

ROOT = Path(__file__).resolve().parents[2]
#: The aggregators' principal in the ACL script: a shell variable, expanded per region.
AGGREGATOR_PRINCIPAL = "User:aggregator-${region}"


def _compose() -> dict[str, Any]:  # YAML: any shape, checked by the tests
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
    assert svc["secrets"][:2] == aggregator["secrets"][:2]  # CA, root fingerprint
    assert set(svc["depends_on"]) == {"kafka-setup", "postgres"}
    for name in (
        "DIEF_KAFKA__SECURITY_PROTOCOL",
        "DIEF_KEYRING__PASSPHRASE_FILE",
        "DIEF_DIRECTORY__ROOT_FINGERPRINT_FILE",
    ):
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
        ("User:secretariat", "Write", "dief.directory"),
        ("User:secretariat", "Read", "dief.directory"),
        ("User:secretariat", "Describe", "dief.directory"),
        ("User:secretariat", "Read", "dief.credentials.requests"),
        ("User:secretariat", "Describe", "dief.credentials.requests"),
        ("User:secretariat", "Read", "dief-issuer"),
        ("User:secretariat", "Write", "dief.credentials.answers"),
        # each directory version's bulletin group key release (DESIGN §13)
        ("User:secretariat", "Write", "dief.bulletins"),
        # refused digests go to the DLQ of the region they claim (docs/secretariat.md)
        ("User:secretariat", "Write", "dief.${region}.dlq"),
    }
    for region in Region:  # the loop covers every region
        assert region.topic_code in script.split("for region in ", 1)[1].split(";", 1)[0]
    aggregators = {g for g in _acl_grants(script) if g[0] == AGGREGATOR_PRINCIPAL}
    assert (AGGREGATOR_PRINCIPAL, "Write", "dief.digests") in aggregators


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
        ("User:node", "Read", "dief.directory"),
        ("User:node", "Describe", "dief.directory"),
        ("User:node", "Write", "dief.credentials.requests"),
        ("User:node", "Describe", "dief.credentials.requests"),
        ("User:node", "Read", "dief.credentials.answers"),
        ("User:node", "Describe", "dief.credentials.answers"),
        ("User:node", "Read", "dief.bulletins"),
        ("User:node", "Describe", "dief.bulletins"),
    }


def test_image_installs_the_lock_file_exactly() -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    assert "uv sync --locked" in dockerfile


def test_each_service_gets_only_its_own_keys_and_its_own_passphrase() -> None:
    """DESIGN §4: no service can unlock another party's keys (issue 12, problem 1: every
    service once had the same passphrase)."""
    services = _compose()["services"]
    assert isinstance(services, dict)
    dief_services = {
        name: svc
        for name, svc in services.items()
        if isinstance(svc, dict) and "DIEF_KEYRING__PATH" in svc.get("environment", {})
    }
    assert set(dief_services) == {
        *(f"aggregator-{r.topic_code}" for r in Region),
        "secretariat",
        "node",
    }
    passphrases: dict[str, str] = {}
    for name, svc in dief_services.items():
        keys = svc["environment"]["DIEF_KEYRING__PATH"]
        mounts = [
            v for v in svc["volumes"] if isinstance(v, str) and v.startswith("./deploy/keys/")
        ]
        assert len(mounts) == 1, name
        assert mounts[0].endswith(f":{keys}:ro"), name
        sources = [s["source"] for s in svc["secrets"] if isinstance(s, dict)]
        assert len(sources) == 1, name
        passphrases[name] = sources[0]
        assert "forum-root-fingerprint" in svc["secrets"], name
    assert len(set(passphrases.values())) == len(passphrases)  # one passphrase per party
    assert "keyring-passphrase" not in _compose()["secrets"]  # no shared one left


def test_acl_script_creates_the_directory_compacted_and_the_new_topics() -> None:
    raw = (ROOT / "deploy" / "kafka" / "setup.sh").read_text(encoding="utf-8")
    script = " ".join(raw.replace("\\\n", " ").split())
    directory = "--topic dief.directory --partitions 1 --replication-factor 3"
    assert f"{directory} --config cleanup.policy=compact" in script
    for topic in ("dief.routes", "dief.credentials.requests", "dief.credentials.answers"):
        assert f"--create --if-not-exists --topic {topic} " in script
    grants = _acl_grants(raw)
    assert ("User:aggregator-${region}", "Read", "dief.directory") in grants
    assert ("User:aggregator-${region}", "Write", "dief.routes") in grants
    assert ("User:node", "Write", "dief.routes") not in grants
