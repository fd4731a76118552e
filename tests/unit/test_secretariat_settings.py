"""SecretariatSettings: expected regions and cycle start month from the environment, with
the CLI options as overrides."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

import consumers.secretariat
from dief.cli import app
from dief.database import sqlite_url
from dief.exceptions import ConfigurationError
from dief.secretariat import SecretariatStore
from dief.settings import SecretariatSettings
from dief.vocab import Region

if TYPE_CHECKING:
    from pathlib import Path

    from pydantic import SecretStr


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "DIEF_REGIONS",
        "DIEF_CYCLE_START_MONTH",
        "DIEF_DATABASE_URL",
        "DIEF_PUBLISH_DIRECTORY",
    ):
        monkeypatch.delenv(name, raising=False)


def test_defaults_are_every_region_and_september() -> None:
    settings = SecretariatSettings()
    assert settings.regions == list(Region)
    assert settings.cycle_start_month == 9


def test_publishing_the_directory_is_off_unless_dief_publish_directory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert SecretariatSettings().publish_directory is False
    monkeypatch.setenv("DIEF_PUBLISH_DIRECTORY", "true")
    assert SecretariatSettings().publish_directory is True


def test_the_environment_sets_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIEF_REGIONS", '["AFR", "EEG"]')
    monkeypatch.setenv("DIEF_CYCLE_START_MONTH", "1")
    settings = SecretariatSettings()
    assert settings.regions == [Region.AFR, Region.EEG]
    assert settings.cycle_start_month == 1
    monkeypatch.setenv("DIEF_REGIONS", "[]")
    with pytest.raises(ValueError, match="at least 1"):
        SecretariatSettings()


def _capture(monkeypatch: pytest.MonkeyPatch) -> list[SecretariatSettings]:
    """Replace the service with one that records its settings and refuses to start."""
    seen: list[SecretariatSettings] = []

    class FakeService:
        def __init__(self, settings: SecretariatSettings, passphrase: SecretStr | None) -> None:
            seen.append(settings)

        async def start(self) -> None:
            raise ConfigurationError("captured")

    monkeypatch.setattr(consumers.secretariat, "SecretariatService", FakeService)
    return seen


def test_dief_secretariat_uses_the_settings_and_options_override_them(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen = _capture(monkeypatch)
    monkeypatch.setenv("DIEF_REGIONS", '["AFR", "EEG"]')
    monkeypatch.setenv("DIEF_CYCLE_START_MONTH", "1")
    monkeypatch.setenv("DIEF_KEYRING__PASSPHRASE", "not used")
    runner = CliRunner()
    plain = runner.invoke(app, ["secretariat", "--keys", str(tmp_path)])
    assert plain.exit_code == 1
    assert "captured" in plain.output
    overridden = runner.invoke(
        app,
        ["secretariat", "--keys", str(tmp_path), "--region", "WEOG", "--region", "APG",
         "--region", "WEOG", "--cycle-start-month", "7"],
    )  # fmt: skip
    assert overridden.exit_code == 1
    first, second = seen
    assert (first.regions, first.cycle_start_month) == ([Region.AFR, Region.EEG], 1)
    assert (second.regions, second.cycle_start_month) == ([Region.WEOG, Region.APG], 7)


def test_dief_summary_names_only_the_expected_regions_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = sqlite_url(tmp_path / "secretariat.sqlite")

    async def make() -> None:
        async with SecretariatStore(url):
            pass

    asyncio.run(make())
    monkeypatch.setenv("DIEF_REGIONS", '["GRULAC"]')
    result = CliRunner().invoke(app, ["summary", "--cycle", "CSP12", "--database-url", url])
    assert result.exit_code == 1
    assert "no digest from GRULAC yet" in " ".join(result.output.split())
    assert "AFR" not in result.output
