"""What a run takes and gives back: options, result, progress callbacks, the run's error."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, TypedDict

from dief.exceptions import DiefError

if TYPE_CHECKING:
    from collections.abc import Generator
    from datetime import date
    from pathlib import Path

    from pydantic import SecretStr

    from dief.catalogue import Catalogue

__all__ = [
    "NullProgress",
    "PipelineError",
    "Progress",
    "RunContext",
    "RunOptions",
    "RunResult",
    "RunSummary",
    "step",
    "timed",
]


class PipelineError(DiefError):
    """The pipeline could not complete (the reason says which step and why)."""

    code = "pipeline"


class Progress(Protocol):
    """Progress callbacks; the CLI renders them as bars."""

    def start(self, task: str, total: int) -> None:
        """A step with *total* units starts."""

    def advance(self, task: str, done: int) -> None:
        """*done* units of *task* are complete (absolute, not a delta)."""

    def finish(self, task: str) -> None:
        """*task* is complete."""


class NullProgress:
    """Reports nothing."""

    def start(self, task: str, total: int) -> None:
        pass

    def advance(self, task: str, done: int) -> None:
        pass

    def finish(self, task: str) -> None:
        pass


@dataclass(frozen=True, slots=True)
class RunOptions:
    input: Path
    out: Path
    work_dir: Path
    bootstrap: str | None = None
    database_url: str | None = None
    broker_bin: Path | None = None
    k_meeting: int = 2
    k_csp: int = 3
    start_month: int = 9
    timeout: float = 600.0
    today: date | None = None
    #: An existing forum keyring (``dief keys init``) instead of a throw-away one.
    keys: Path | None = None
    passphrase: SecretStr | None = field(default=None, repr=False)


class _RecordCounts(TypedDict, total=False):
    """Why the records differ from the cases (:meth:`RunResult.records_explained`);
    optional in the schema, as older ``run.json`` files lack them."""

    cases: int
    revisions: int
    withdrawals: int
    duplicates: int
    held: int


class RunSummary(_RecordCounts):
    """:meth:`RunResult.to_json`: the counts and step timings (seconds) of a run."""

    read: int
    accepted: int
    rejected: int
    published: int
    applied: int
    dead_lettered: int
    timings: dict[str, float]


@dataclass(slots=True)
class RunResult:
    read: int = 0
    accepted: int = 0
    rejected: int = 0
    published: int = 0
    applied: int = 0
    dead_lettered: int = 0
    #: Distinct cases among the accepted lines.
    cases: int = 0
    #: Accepted lines that revise a case an earlier line of the run posted (a record each).
    revisions: int = 0
    #: Accepted lines that withdraw a case (a record each).
    withdrawals: int = 0
    #: Lines repeating a case its node had already accepted: skipped, no record.
    duplicates: int = 0
    #: Accepted lines held (no record yet) until their contributor token arrives.
    held: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    outputs: list[Path] = field(default_factory=list)

    def to_json(self) -> RunSummary:
        return {
            "read": self.read,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "published": self.published,
            "applied": self.applied,
            "dead_lettered": self.dead_lettered,
            "cases": self.cases,
            "revisions": self.revisions,
            "withdrawals": self.withdrawals,
            "duplicates": self.duplicates,
            "held": self.held,
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
        }

    def records_explained(self) -> str:
        """Why the cases and the records differ, in one sentence with the run's numbers:
        every version of a case (its first record, each revision, its withdrawal) is a
        record of its own; repeated lines and held cases send none."""
        first = self.published - self.revisions - self.withdrawals
        text = (
            f"{self.cases:,} {_plural(self.cases, 'case')} became {self.published:,} "
            f"{_plural(self.published, 'record')}: each version of a case is a record of its "
            f"own ({first:,} first {_plural(first, 'record')}, {self.revisions:,} "
            f"{_plural(self.revisions, 'revision')}, {self.withdrawals:,} "
            f"{_plural(self.withdrawals, 'withdrawal')})"
        )
        if self.duplicates:
            text += (
                f"; {self.duplicates:,} repeated {_plural(self.duplicates, 'line')} sent nothing"
            )
        if self.held:
            text += f"; {self.held:,} held for a contributor token sent nothing yet"
        text += (
            f"; {self.applied:,} {_plural(self.applied, 'record')} applied and "
            f"{self.dead_lettered:,} dead-lettered."
        )
        return text


def _plural(n: int, word: str) -> str:
    return word if n == 1 else word + "s"


@dataclass(frozen=True, slots=True)
class RunContext:
    """What every stage may use: the options, the run's work folder, the catalogue, where
    progress goes, and the result the stages fill in."""

    options: RunOptions
    work: Path
    catalogue: Catalogue
    progress: Progress
    result: RunResult


@contextlib.contextmanager
def step(run: RunContext, name: str) -> Generator[None, None, None]:
    """A step without a count of its own, timed (:func:`timed`) and shown as a one-unit
    progress task (the console shows it running with its elapsed time, then done)."""
    run.progress.start(name, 1)
    with timed(run.result, name):
        yield
    run.progress.finish(name)


@contextlib.contextmanager
def timed(result: RunResult, name: str) -> Generator[None, None, None]:
    """Record how long the block took in ``result.timings[name]`` (also when it raises)."""
    t0 = time.perf_counter()
    try:
        yield
    finally:
        result.timings[name] = time.perf_counter() - t0
