"""What a run takes and gives back: options, result, progress callbacks, the run's error."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Protocol, TypedDict

from pydantic import SecretStr

from dief.catalogue import Catalogue
from dief.exceptions import DiefError

__all__ = [
    "NullProgress",
    "PipelineError",
    "Progress",
    "RunContext",
    "RunOptions",
    "RunResult",
    "RunSummary",
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


class RunSummary(TypedDict):
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
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
        }


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
def timed(result: RunResult, name: str) -> Iterator[None]:
    """Record how long the block took in ``result.timings[name]`` (also when it raises)."""
    t0 = time.perf_counter()
    try:
        yield
    finally:
        result.timings[name] = time.perf_counter() - t0
