"""Settings come from the environment once, at the CLI edge, under one spelling
(``DIEF_`` prefix, ``__`` nesting), and the commands honour them: ``dief summary`` and
``dief summary verify`` read ``DIEF_KEYRING__PATH`` and ``DIEF_KEYRING__PASSPHRASE``;
``dief keys`` names and reads ``DIEF_KEYRING__PASSPHRASE``; nothing else in ``dief/`` reads
the environment."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

import consumers.aggregator
from dief.aggregator.store import CaseStore
from dief.catalogue import load_catalogue
from dief.cli import app
from dief.database import sqlite_url
from dief.exceptions import ConfigurationError
from dief.keyring import KeyRole, SimulatedForum
from dief.secretariat import SecretariatStore, build_summary, sign_summary
from dief.settings import (
    AggregatorSettings,
    KafkaSettings,
    KeyringSettings,
    NodeSettings,
    RunSettings,
    SecretariatSettings,
    load_settings,
)

if TYPE_CHECKING:
    from pydantic import SecretStr

ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = "settings-environment-test"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No DIEF_ variable from outside, and defaults (``.dief/…``) resolve under tmp_path."""
    for name in list(os.environ):
        if name.upper().startswith("DIEF_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")


@pytest.fixture(scope="module")
def forum(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A simulated forum (``dief keys init``): summaries verify against its directory."""
    path = tmp_path_factory.mktemp("forum") / "keys"
    SimulatedForum.create(path, PASSPHRASE, nodes=["node"])
    return path


@pytest.fixture(scope="module")
def signed_summary(forum: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CSP12 summary (of no cases) signed with the forum's Secretariat key."""
    base = tmp_path_factory.mktemp("summary")
    ring = SimulatedForum.load(forum, PASSPHRASE)

    async def build() -> str:
        async with CaseStore(sqlite_url(base / "aggregator.sqlite")) as store:
            summary = await build_summary(store, "CSP12", catalogue=load_catalogue())
        return sign_summary(summary, ring.signing_key(KeyRole.SECRETARIAT)).to_json()

    path = base / "CSP12.json"
    path.write_text(asyncio.run(build()), encoding="utf-8")
    return path


def _flat(text: str) -> str:
    return " ".join(text.split())


# -- 1. dief summary / dief summary verify honour DIEF_KEYRING__* -------------------------


def test_summary_verify_finds_the_keyring_at_dief_keyring_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, forum: Path, signed_summary: Path
) -> None:
    monkeypatch.setenv("DIEF_KEYRING__PATH", str(forum))
    monkeypatch.setenv("DIEF_WORK_DIR", str(tmp_path / "no-run-here"))
    result = CliRunner().invoke(app, ["summary", "verify", str(signed_summary)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("valid: CSP12 signed by Secretariat key")


def test_summary_rebuild_unlocks_the_keyring_of_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, forum: Path
) -> None:
    url = sqlite_url(tmp_path / "secretariat.sqlite")

    async def make() -> None:
        async with SecretariatStore(url):
            pass

    asyncio.run(make())
    monkeypatch.setenv("DIEF_KEYRING__PATH", str(forum))
    monkeypatch.setenv("DIEF_WORK_DIR", str(tmp_path / "no-run-here"))
    args = ["summary", "--cycle", "CSP12", "--rebuild", "--database-url", url]
    runner = CliRunner()

    monkeypatch.setenv("DIEF_KEYRING__PASSPHRASE", "not the passphrase")
    wrong = runner.invoke(app, args)
    assert wrong.exit_code == 1
    assert "wrong passphrase" in _flat(wrong.output)

    monkeypatch.setenv("DIEF_KEYRING__PASSPHRASE", PASSPHRASE)
    right = runner.invoke(app, args)
    # The keyring opened: what stops the rebuild now is the empty store, not the keys.
    assert right.exit_code == 1
    assert "no CSP12 digest from" in _flat(right.output), right.output


def test_the_passphrase_file_option_wins_over_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:

    seen: list[SecretStr | None] = []

    class FakeService:
        def __init__(self, settings: AggregatorSettings, passphrase: SecretStr | None) -> None:
            seen.append(passphrase)

        async def start(self) -> None:
            raise ConfigurationError("captured")

    monkeypatch.setattr(consumers.aggregator, "AggregatorService", FakeService)
    monkeypatch.setenv("DIEF_KEYRING__PASSPHRASE", "from the environment")
    pass_file = tmp_path / "pass"
    pass_file.write_text("from the file\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["aggregate", "--all", "--passphrase-file", str(pass_file)])
    assert result.exit_code == 1
    assert "captured" in result.output
    assert [p.get_secret_value() for p in seen if p is not None] == ["from the file"]


def test_a_missing_passphrase_file_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-passphrase"
    monkeypatch.setenv("DIEF_KEYRING__PASSPHRASE_FILE", str(missing))
    keyring = load_settings(NodeSettings).keyring
    with pytest.raises(ConfigurationError, match="DIEF_KEYRING__PASSPHRASE_FILE") as caught:
        keyring.read_passphrase()
    assert str(missing) in caught.value.message
    assert isinstance(caught.value.__cause__, FileNotFoundError)


# -- 4. one spelling: DIEF_KEYRING__PASSPHRASE ----------------------------------------------


def test_dief_keys_help_names_the_variable_the_services_read() -> None:
    result = CliRunner().invoke(app, ["keys", "init", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "DIEF_KEYRING__PASSPHRASE" in _flat(result.output)
    assert not re.search(r"DIEF_KEYRING_[A-Z]", result.output)


def test_dief_keys_reads_the_passphrase_file_variable_too(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pass_file = tmp_path / "pass"
    pass_file.write_text("from the variable\n", encoding="utf-8")
    monkeypatch.setenv("DIEF_KEYRING__PASSPHRASE_FILE", str(pass_file))
    result = CliRunner().invoke(app, ["keys", "init", str(tmp_path / "keys")])
    assert result.exit_code == 0, result.output
    forum = SimulatedForum.load(tmp_path / "keys", "from the variable")
    assert forum.signing_key(KeyRole.SECRETARIAT)  # the passphrase of the variable opens it


def test_no_file_names_the_single_underscore_keyring_variables() -> None:
    """Every help text, doc and deployment file spells the keyring variables with ``__``."""
    single = re.compile(r"DIEF_KEYRING_[A-Z]")
    paths = [
        *ROOT.glob("dief/**/*.py"),
        *ROOT.glob("consumers/*.py"),
        *ROOT.glob("producers/*.py"),
        *ROOT.glob("docs/*.md"),
        *ROOT.glob("deploy/**/*"),
        ROOT / "README.md",
        ROOT / "compose.yaml",
    ]
    offenders = [
        str(p.relative_to(ROOT))
        for p in paths
        if p.is_file() and single.search(p.read_text(encoding="utf-8", errors="replace"))
    ]
    assert offenders == []


# -- the edge: one settings class per service, nothing else reads the environment ----------


def _sources() -> list[Path]:
    return [*ROOT.glob("dief/**/*.py"), *ROOT.glob("consumers/*.py"), *ROOT.glob("producers/*.py")]


def test_nothing_in_dief_but_the_settings_reads_the_environment() -> None:
    reads = re.compile(r"\bos\.environ\b|\bgetenv\(|\benviron\[|from os import environ")
    offenders = [
        str(p.relative_to(ROOT))
        for p in _sources()
        if ROOT / "dief" / "settings" not in p.parents
        and reads.search(p.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_service_settings_are_defined_in_dief_settings_and_built_at_the_cli_edge() -> None:
    """``BaseSettings`` subclasses live in dief/settings/ only, and only dief/cli builds
    them from the environment (the services take them as arguments)."""
    defines = re.compile(r"class \w+\((?:pydantic_settings\.)?BaseSettings\)")
    builds = re.compile(
        r"\b(?:Node|Aggregator|Secretariat|Run|Broker|Keys)Settings\(\s*\)|\bload_settings\("
    )
    defined, built = [], []
    for path in _sources():
        text = path.read_text(encoding="utf-8")
        name = str(path.relative_to(ROOT))
        if defines.search(text) and not name.startswith("dief/settings/"):
            defined.append(name)
        if builds.search(text) and not name.startswith(("dief/cli/", "dief/settings/")):
            built.append(name)
    assert defined == []
    assert built == []


def test_secrets_are_secret_strings_and_never_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIEF_KAFKA__PASSWORD", "kafka-pw-123")
    monkeypatch.setenv("DIEF_KEYRING__PASSPHRASE", "keyring-pp-456")
    monkeypatch.setenv("DIEF_DATABASE_URL", "postgresql://agg:db-pw-789@db/dief")
    for cls in (NodeSettings, AggregatorSettings, SecretariatSettings, RunSettings):
        settings = load_settings(cls)
        shown = repr(settings) + str(settings)
        for secret in ("kafka-pw-123", "keyring-pp-456", "db-pw-789"):
            assert secret not in shown, (cls.__name__, secret)
    for model, field in (
        (KafkaSettings, "password"),
        (KeyringSettings, "passphrase"),
        (AggregatorSettings, "database_url"),
        (SecretariatSettings, "database_url"),
        (RunSettings, "database_url"),
    ):
        assert "SecretStr" in str(model.model_fields[field].annotation), (model, field)


def test_settings_are_built_once_and_frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(NodeSettings, {"node": "alpha", "kafka": {"bootstrap": "k:1"}})
    monkeypatch.setenv("DIEF_NODE", "changed later")
    assert settings.node == "alpha"
    assert settings.kafka.bootstrap == "k:1"
    with pytest.raises(ValueError, match="frozen"):
        settings.node = "other"
    with pytest.raises(ValueError, match="frozen"):
        settings.kafka.bootstrap = "other:2"


def test_an_invalid_variable_is_one_line_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIEF_CYCLE_START_MONTH", "13")
    result = CliRunner().invoke(app, ["aggregate", "--all"])
    assert result.exit_code == 1
    assert "DIEF_CYCLE_START_MONTH" in result.output
    assert "Traceback" not in result.output
