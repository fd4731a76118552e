"""Console helpers shared by the CLI commands: logging, progress bars, error exit."""

from __future__ import annotations

import logging

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from dief.exceptions import DiefError

__all__ = ["RichProgress", "configure_logging", "err_console", "fail"]

err_console = Console(stderr=True)

_LABELS = {
    "post": "validating, screening and sealing",
    "publish": "publishing to the broker",
    "aggregate": "applying in the regional aggregators",
}


def configure_logging(verbose: bool = False) -> None:
    """Log to stderr; FastStream's and aiokafka's per-message chatter only when verbose."""
    level = logging.INFO if verbose else logging.WARNING
    logging.basicConfig(
        level=level,
        format="%(name)s: %(message)s",
        handlers=[RichHandler(console=err_console, show_path=False, rich_tracebacks=False)],
        force=True,
    )
    for noisy in ("faststream", "aiokafka", "dief.kafka"):
        logging.getLogger(noisy).setLevel(logging.INFO if verbose else logging.ERROR)


def fail(exc: DiefError) -> typer.Exit:
    """Print a DiefError as a one-line reason and return the exit to raise."""
    err_console.print(f"[bold red]error[/]: {exc.message}")
    return typer.Exit(code=1)


class RichProgress:
    """Rich progress bars for the pipeline's long steps."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._tasks: dict[str, TaskID] = {}

    @staticmethod
    def bars() -> Progress:
        return Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err_console,
            transient=False,
        )

    def start(self, task: str, total: int) -> None:
        self._tasks[task] = self._progress.add_task(_LABELS.get(task, task), total=total)

    def advance(self, task: str, done: int) -> None:
        self._progress.update(self._tasks[task], completed=done)

    def finish(self, task: str) -> None:
        t = self._tasks[task]
        total = self._progress.tasks[t].total
        self._progress.update(t, completed=total)
