"""Console helpers shared by the CLI commands: logging, progress bars, error exit."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any, Protocol, TypeVar

import typer
from pydantic import SecretStr
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
from rich.text import Text

from dief.exceptions import ConfigurationError, DiefError
from dief.settings import KafkaSettings

__all__ = [
    "FORMAT_OPTION",
    "ManagedService",
    "OutOpt",
    "RichProgress",
    "Service",
    "configure_logging",
    "database_url_option",
    "err_console",
    "fail",
    "kafka_overrides",
    "passphrase_from_file",
    "prompt_passphrase",
    "run_or_fail",
    "run_service",
    "serve",
]

T = TypeVar("T")

#: ``--format``: ``Annotated[SomeFormat, FORMAT_OPTION]`` (each command has its own enum).
FORMAT_OPTION = typer.Option("--format", case_sensitive=False, help="Output format")
OutOpt = Annotated[
    Path | None, typer.Option("--out", help="Write to this file (default: standard output)")
]


def database_url_option(database: str, file: str) -> Any:
    """``--database-url`` of a command reading *database* (e.g. "Aggregator"), whose SQLite
    file ``dief run`` leaves as *file*: ``Annotated[str | None, database_url_option(...)]``."""
    return typer.Option(
        "--database-url",
        help=f"{database} database (default: DIEF_DATABASE_URL, else the SQLite file "
        f"`dief run` leaves in DIEF_WORK_DIR/run/{file})",
    )


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
    for noisy in ("faststream", "dief.kafka"):
        logging.getLogger(noisy).setLevel(logging.INFO if verbose else logging.ERROR)
    # aiokafka logs every failed connection attempt at ERROR; DIEF reports broker failures
    # itself (a one-line reason, the relay's retry warnings), so they show only when verbose.
    logging.getLogger("aiokafka").setLevel(logging.INFO if verbose else logging.CRITICAL)
    asyncio_logger = logging.getLogger("asyncio")
    if verbose:
        asyncio_logger.removeFilter(_not_unclosed_producer)
    else:
        asyncio_logger.addFilter(_not_unclosed_producer)


def _not_unclosed_producer(record: logging.LogRecord) -> bool:
    """FastStream drops the aiokafka producer whose start failed (broker unreachable), and
    its finaliser then reports "Unclosed AIOKafkaProducer" at exit, after DIEF has already
    given the reason in one line. Shown with --verbose only."""
    return not str(record.msg).startswith("Unclosed AIOKafkaProducer")


def fail(exc: DiefError) -> typer.Exit:
    """Print a DiefError as a one-line reason and return the exit to raise."""
    # The message is plain text (paths, broker errors with brackets), never Rich markup,
    # and stays on one line however narrow the terminal.
    err_console.print(
        Text.assemble(("error", "bold red"), ": ", exc.message.replace("\n", " ")),
        soft_wrap=True,
    )
    return typer.Exit(code=1)


def run_or_fail(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)``; a DiefError is printed as one line and exits with 1."""
    try:
        return asyncio.run(main)
    except DiefError as exc:
        raise fail(exc) from exc


def kafka_overrides(kafka: KafkaSettings, bootstrap: str | None, embedded: bool) -> None:
    """Apply ``--bootstrap`` and ``--embedded`` to *kafka* (``--embedded`` only turns it on)."""
    if bootstrap:
        kafka.bootstrap = bootstrap
    kafka.embedded = embedded or kafka.embedded


class Service(Protocol):
    """A long-running service: serves until *stop* is set."""

    async def run(self, stop: asyncio.Event) -> None: ...


async def serve(service: Service, stop: asyncio.Event) -> None:
    """Run *service* until SIGTERM or SIGINT sets *stop*."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await service.run(stop)


class ManagedService(Service, Protocol):
    """A service with a lifecycle: ``start``, ``run`` until stopped, ``stop``."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def run_service(make: Callable[[], ManagedService], announce: Callable[[], None]) -> None:
    """Build the service (in the event loop), start it, *announce* it, serve it until
    SIGTERM or SIGINT, then stop it; a DiefError exits with one line."""

    async def main() -> None:
        service = make()
        await service.start()
        announce()
        try:
            await serve(service, asyncio.Event())
        finally:
            await service.stop()

    run_or_fail(main())


def passphrase_from_file(path: Path) -> SecretStr:
    """The first line of *path* (``--passphrase-file``)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigurationError(f"cannot read the passphrase file {path}") from exc
    if not lines or not lines[0]:
        raise ConfigurationError(f"the passphrase file {path} is empty")
    return SecretStr(lines[0])


def prompt_passphrase() -> SecretStr:
    """Ask on the terminal; without one, say how to give the passphrase instead."""
    if not sys.stdin.isatty():
        raise typer.BadParameter(
            "no keyring passphrase: use --passphrase-file or set DIEF_KEYRING__PASSPHRASE"
        )
    return SecretStr(typer.prompt("Keyring passphrase", hide_input=True))


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
