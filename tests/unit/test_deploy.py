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
    assert 'for region in afr apg eeg grulac weog; do' in script
    assert '--topic "dief.${region}." --resource-pattern-type prefixed' in script
    assert "KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND: \"false\"" in (ROOT / "compose.yaml").read_text()


def test_image_installs_the_lock_file_exactly() -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    assert "uv sync --locked" in dockerfile
