"""`dief run --keys`: the pipeline on an existing simulated forum (``dief keys init``), its
summaries verifying against the forum's signed directory afterwards."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import pytest
from pydantic import SecretStr

from dief.catalogue import load_catalogue
from dief.exceptions import ConfigurationError
from dief.keyring import KeyRole, SimulatedForum
from dief.pipeline import RunOptions, run_pipeline
from dief.secretariat import verify_summary
from dief.synthetic import generate_cases, write_jsonl

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TODAY = date(2026, 11, 22)
PASSPHRASE = "a forum passphrase for the test"


async def test_run_on_an_existing_forum_signs_with_its_keys(tmp_path: Path) -> None:
    forum = tmp_path / "forum"
    SimulatedForum.create(forum, PASSPHRASE)
    cases = tmp_path / "cases.jsonl"
    write_jsonl(
        generate_cases(150, seed=3, indicator_ids=list(load_catalogue().ids), today=TODAY), cases
    )
    options = RunOptions(
        input=cases,
        out=tmp_path / "out",
        work_dir=tmp_path / "work",
        today=TODAY,
        keys=forum,
        passphrase=SecretStr(PASSPHRASE),
    )
    result = await run_pipeline(options)
    assert result.applied + result.dead_lettered == result.published > 0
    directory = SimulatedForum.load(forum, PASSPHRASE).directory
    summaries = sorted((tmp_path / "out" / "summary").glob("CSP*.json"))
    assert summaries
    for path in summaries:
        verified = verify_summary(path.read_bytes(), directory.verify_keys(KeyRole.SECRETARIAT))
        assert verified is not None
    # The throw-away forum was not made: the run used the given keys.
    assert not (tmp_path / "work" / "run" / "keys").exists()


async def test_a_keyring_without_its_passphrase_is_refused(tmp_path: Path) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_text("", encoding="utf-8")
    options = RunOptions(
        input=cases, out=tmp_path / "out", work_dir=tmp_path / "work", keys=tmp_path / "forum"
    )
    with pytest.raises(ConfigurationError, match="needs its passphrase"):
        await run_pipeline(options)
