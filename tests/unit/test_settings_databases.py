"""Database URLs: a plain ``sqlite:///`` or ``postgresql://`` URL gets the async driver at
the edge, and ``dief aggregate`` and ``dief digest`` share one default database, defined in
:mod:`dief.settings` (``dief digest`` falls back to the last ``dief run``'s only when that
file does not exist)."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

import consumers.aggregator
from dief.aggregator.store import CaseStore
from dief.cli import app
from dief.cli import digest as digest_cli
from dief.database import async_url, sqlite_path, sqlite_url
from dief.exceptions import ConfigurationError
from dief.settings import (
    AGGREGATOR_DATABASE,
    AggregatorSettings,
    RunSettings,
    SecretariatSettings,
    load_settings,
)

DIGEST = ["digest", "--region", "AFR", "--period", "2026-01", "--format", "json"]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.upper().startswith("DIEF_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DIEF_WORK_DIR", str(tmp_path / "work"))


def _create(path: Path) -> None:
    """An (empty) aggregator database at *path*."""
    path.parent.mkdir(parents=True, exist_ok=True)

    async def make() -> None:
        async with CaseStore(sqlite_url(path)):
            pass

    asyncio.run(make())


# -- 5. plain URLs get the async driver ----------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///dief.sqlite", "sqlite+aiosqlite:///dief.sqlite"),
        ("sqlite:////abs/dief.sqlite", "sqlite+aiosqlite:////abs/dief.sqlite"),
        ("SQLite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("postgresql://u:p@db:5432/dief", "postgresql+asyncpg://u:p@db:5432/dief"),
        ("postgres://u:p@db/dief", "postgresql+asyncpg://u:p@db/dief"),
        ("postgresql+asyncpg://u@db/dief", "postgresql+asyncpg://u@db/dief"),
    ],
)
def test_async_url(given: str, expected: str) -> None:
    assert async_url(given) == expected


def test_sqlite_path_of_both_spellings() -> None:
    assert sqlite_path("sqlite:///a/b.sqlite") == Path("a/b.sqlite")
    assert sqlite_path("sqlite+aiosqlite:////abs/b.sqlite") == Path("/abs/b.sqlite")
    assert sqlite_path("sqlite://") is None
    assert sqlite_path("postgresql://db/dief") is None


@pytest.mark.parametrize("cls", [AggregatorSettings, SecretariatSettings, RunSettings])
def test_settings_normalise_the_database_url(
    monkeypatch: pytest.MonkeyPatch, cls: type[AggregatorSettings]
) -> None:
    monkeypatch.setenv("DIEF_DATABASE_URL", "postgresql://agg:pw@db/dief")
    settings = load_settings(cls)
    assert isinstance(settings.database_url, SecretStr)
    assert settings.database_url.get_secret_value() == "postgresql+asyncpg://agg:pw@db/dief"
    given = load_settings(cls, {"database_url": "sqlite:///given.sqlite"})
    assert given.database_url is not None
    assert given.database_url.get_secret_value() == "sqlite+aiosqlite:///given.sqlite"


def test_dief_digest_accepts_a_plain_sqlite_url(tmp_path: Path) -> None:
    db = tmp_path / "plain.sqlite"
    _create(db)
    result = CliRunner().invoke(app, [*DIGEST, "--database-url", f"sqlite:///{db}"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["region"] == "AFR"


def test_dief_aggregate_passes_the_normalised_url_to_the_service(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen = _capture_aggregator(monkeypatch)
    result = CliRunner().invoke(app, ["aggregate", "--all", "--database-url", "sqlite:///a.db"])
    assert result.exit_code == 1
    assert "captured" in result.output
    assert [s.database_url.get_secret_value() for s in seen] == ["sqlite+aiosqlite:///a.db"]


# -- 6. one default database for dief aggregate and dief digest ----------------------------


def _capture_aggregator(monkeypatch: pytest.MonkeyPatch) -> list[AggregatorSettings]:

    seen: list[AggregatorSettings] = []

    class FakeService:
        def __init__(self, settings: AggregatorSettings, passphrase: SecretStr | None) -> None:
            seen.append(settings)

        async def start(self) -> None:
            raise ConfigurationError("captured")

    monkeypatch.setattr(consumers.aggregator, "AggregatorService", FakeService)
    monkeypatch.setenv("DIEF_KEYRING__PASSPHRASE", "not used")
    return seen


def test_dief_aggregate_writes_the_default_database(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _capture_aggregator(monkeypatch)
    result = CliRunner().invoke(app, ["aggregate", "--all"])
    assert result.exit_code == 1
    [settings] = seen
    assert settings.database_url.get_secret_value() == sqlite_url(AGGREGATOR_DATABASE)


def test_dief_digest_reads_the_database_dief_aggregate_writes(tmp_path: Path) -> None:
    _create(tmp_path / AGGREGATOR_DATABASE)  # what `dief aggregate` makes by default
    assert not (tmp_path / "work").exists()  # and no `dief run` database
    result = CliRunner().invoke(app, DIGEST)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["period"] == "2026-01"


def test_the_service_database_comes_before_the_last_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:

    opened: list[str] = []
    real = digest_cli._render

    async def spy(**kwargs: object) -> tuple[str, dict[str, float]]:
        opened.append(str(kwargs["url"]))
        return await real(**kwargs)  # type: ignore[arg-type]  # a spy: forwards the keywords as received

    monkeypatch.setattr(digest_cli, "_render", spy)
    run_db = tmp_path / "work" / "run" / "aggregator.sqlite"
    _create(run_db)
    runner = CliRunner()
    assert runner.invoke(app, DIGEST).exit_code == 0  # only the run's: it is used
    _create(tmp_path / AGGREGATOR_DATABASE)
    assert runner.invoke(app, DIGEST).exit_code == 0  # the service's now exists: it wins
    assert opened == [sqlite_url(run_db), sqlite_url(AGGREGATOR_DATABASE)]


def test_a_configured_database_that_does_not_exist_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _create(tmp_path / "work" / "run" / "aggregator.sqlite")  # not a fallback for it
    monkeypatch.setenv("DIEF_DATABASE_URL", f"sqlite:///{tmp_path / 'nowhere.sqlite'}")
    result = CliRunner().invoke(app, DIGEST)
    assert result.exit_code == 1
    assert "no aggregator database at" in result.stderr
    assert not (tmp_path / "nowhere.sqlite").exists()
