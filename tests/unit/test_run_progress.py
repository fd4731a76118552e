"""``dief run``'s console: every step shows progress, and the run explains why its records
outnumber its cases."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import Progress

from dief.catalogue import load_catalogue
from dief.cli._console import _LABELS, RichProgress
from dief.pipeline import RunOptions, RunResult
from dief.pipeline._options import RunContext, step

if TYPE_CHECKING:
    from pathlib import Path

#: Every task the pipeline reports (dief/pipeline/_run.py and its stages).
TASKS = (
    "keys",
    "broker",
    "aggregators_start",
    "post",
    "publish",
    "aggregators_join",
    "aggregate",
    "lessons",
    "routes",
    "digests",
    "outputs",
)


class FakeProgress:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, int]] = []

    def start(self, task: str, total: int) -> None:
        self.events.append(("start", task, total))

    def advance(self, task: str, done: int) -> None:
        self.events.append(("advance", task, done))

    def finish(self, task: str) -> None:
        self.events.append(("finish", task, 0))


def _context(progress: FakeProgress, tmp_path: Path) -> RunContext:
    options = RunOptions(input=tmp_path / "in.jsonl", out=tmp_path / "out", work_dir=tmp_path)
    return RunContext(options, tmp_path, load_catalogue(), progress, RunResult())


def test_a_step_without_a_count_is_shown_and_timed(tmp_path: Path) -> None:
    progress = FakeProgress()
    run = _context(progress, tmp_path)
    with step(run, "routes"):
        assert progress.events == [("start", "routes", 1)]
    assert progress.events[-1] == ("finish", "routes", 0)
    assert run.result.timings["routes"] >= 0


def test_every_step_has_a_label_on_the_console() -> None:
    assert set(TASKS) <= set(_LABELS)
    buffer = io.StringIO()
    console = Console(file=buffer, width=120, force_terminal=False)
    with Progress(console=console) as bars:
        sink = RichProgress(bars)
        for task in TASKS:
            sink.start(task, 4)
            sink.advance(task, 2)
            sink.finish(task)
    text = buffer.getvalue()
    for task in TASKS:
        assert _LABELS[task] in text
    assert "writing digests and summaries" in text


def test_records_versus_cases_in_one_sentence() -> None:
    result = RunResult(
        read=2500,
        accepted=2500,
        published=2500,
        applied=2498,
        dead_lettered=2,
        cases=2200,
        revisions=219,
        withdrawals=81,
    )
    assert result.records_explained() == (
        "2,200 cases became 2,500 records: each version of a case is a record of its own "
        "(2,200 first records, 219 revisions, 81 withdrawals); 2,498 records applied and 2 "
        "dead-lettered."
    )
    facts = result.to_json()
    assert (facts["cases"], facts["revisions"], facts["withdrawals"]) == (2200, 219, 81)


def test_skipped_and_held_lines_are_named_when_there_are_some() -> None:
    result = RunResult(published=3, applied=3, cases=4, duplicates=1, held=1)
    text = result.records_explained()
    assert text.startswith("4 cases became 3 records:")
    assert "1 repeated line sent nothing" in text
    assert "1 held for a contributor token sent nothing yet" in text
