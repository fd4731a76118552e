"""A forum's own screening terms (issue 13: "Per-forum extra terms … come from a file named
in settings"): the node service builds its screener from ``DIEF_SCREENING_TERMS_FILE`` and
refuses a lesson naming one of them; without the file the same lesson passes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from dief.exceptions import ConfigurationError, ScreeningError
from dief.settings import NodeSettings
from producers.node import _screener

if TYPE_CHECKING:
    from pathlib import Path

LESSON = "The consignment was cleared by the Zorblat Directorate without a physical check."


def test_the_forum_terms_file_of_the_settings_refuses_its_terms(tmp_path: Path) -> None:
    terms = tmp_path / "terms.txt"
    terms.write_text("# national agencies\norganization\tZorblat Directorate\n", encoding="utf-8")
    screener = _screener(NodeSettings(screening_terms_file=terms))
    with pytest.raises(ScreeningError) as caught:
        screener.check({"summary": LESSON})
    assert "Zorblat" not in str(caught.value)  # the refusal never echoes the text
    _screener(NodeSettings()).check({"summary": LESSON})  # the shipped lists alone: passes


def test_an_unreadable_terms_file_stops_the_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot be read"):
        _screener(NodeSettings(screening_terms_file=tmp_path / "missing.txt"))
