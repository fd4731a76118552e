"""Console helpers shared by the CLI commands: logging, progress bars, error exit."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from typing import Annotated, Any, Protocol, TypeVar

import typer
from pydantic import SecretStr
from pydantic_settings import BaseSettings
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

from dief.database import sqlite_path, sqlite_url
from dief.exceptions import ConfigurationError, DiefError
from dief.observability import json_handler
from dief.settings import (
    KeyringSettings,
    LogFormat,
    LoggingSettings,
    load_settings,
    read_passphrase_file,
)

__all__ = [
    "FORMAT_OPTION",
    "LOG_FORMAT_OPTION",
    "BootstrapOpt",
    "EmbeddedOpt",
    "ManagedService",
    "OutOpt",
    "RichProgress",
    "configure_logging",
    "database_url_option",
    "err_console",
    "fail",
    "kafka_options",
    "keyring_passphrase",
    "load_or_fail",
    "passphrase_from_file",
    "prompt_passphrase",
    "run_or_fail",
    "run_service",
    "stored_database",
]

T = TypeVar("T")
S = TypeVar("S", bound=BaseSettings)

#: ``--format``: ``Annotated[SomeFormat, FORMAT_OPTION]`` (each command has its own enum).
FORMAT_OPTION = typer.Option("--format", case_sensitive=False, help="Output format")
#: ``--log-format``: ``Annotated[LogFormat | None, LOG_FORMAT_OPTION]`` of the services.
LOG_FORMAT_OPTION = typer.Option(
    "--log-format",
    case_sensitive=False,
    help="Logs as Rich text or one JSON object per line (default: DIEF_LOG_FORMAT, else text)",
)
OutOpt = Annotated[
    Path | None, typer.Option("--out", help="Write to this file (default: standard output)")
]


def database_url_option(database: str, default: Path, file: str) -> Any:  # noqa: ANN401  typer.Option is typed Any (the Annotated option it makes)
    """``--database-url`` of a command reading *database* (e.g. "Aggregator"), whose service
    keeps it in *default* and whose SQLite file ``dief run`` leaves as *file*:
    ``Annotated[str | None, database_url_option(...)]`` (see :func:`stored_database`)."""
    return typer.Option(
        "--database-url",
        help=f"{database} database (default: DIEF_DATABASE_URL, else the service's "
        f"{default} if it exists, else the one `dief run` leaves in DIEF_WORK_DIR/run/{file})",
    )


def stored_database(url: SecretStr, *, given: bool, last_run: Path, what: str) -> str:
    """The database a reading command (``dief digest``, ``dief summary``) opens: *url* if it
    was *given* (``--database-url`` or ``DIEF_DATABASE_URL``) or is not a SQLite file or
    that file exists; else *last_run* (``dief run``'s file) if it exists.

    :raises ConfigurationError: a SQLite file that does not exist (the store would create
        an empty database and report nothing).
    """
    value = url.get_secret_value()
    path = sqlite_path(value)
    if path is None or path.is_file():
        return value
    if given:
        raise ConfigurationError(f"no {what} database at {path}")
    if last_run.is_file():
        return sqlite_url(last_run)
    raise ConfigurationError(
        f"no {what} database at {path} or {last_run}: run its service, `dief run` or "
        "`dief demo` first, or pass --database-url"
    )


err_console = Console(stderr=True)

_LABELS = {
    "keys": "making the forum's keys",
    "broker": "starting the broker",
    "aggregators_start": "starting the regional aggregators",
    "post": "validating, screening and sealing",
    "publish": "publishing to the broker",
    "aggregate": "applying in the regional aggregators",
    "aggregators_join": "aggregators joining their topics",
    "lessons": "opening the shareable lessons",
    "routes": "exchanging route tables",
    "digests": "issuing digests, signing summaries",
    "outputs": "writing digests and summaries",
}


def configure_logging(verbose: bool = False, log_format: LogFormat | None = None) -> None:
    """Log to stderr; FastStream's and aiokafka's per-message chatter only when verbose.

    *log_format* (``--log-format``, else ``DIEF_LOG_FORMAT``, else text): Rich-formatted
    text, or one JSON object per line (:class:`dief.observability.JsonFormatter`: time,
    level, logger, event, message and the record's fields, nothing that attributes a line).
    """
    level = logging.INFO if verbose else logging.WARNING
    chosen = load_or_fail(LoggingSettings, {"log_format": log_format}, connects=False).log_format
    handler: logging.Handler
    if chosen is LogFormat.JSON:
        handler = json_handler(sys.stderr)
    else:
        handler = RichHandler(console=err_console, show_path=False, rich_tracebacks=False)
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)
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


def load_or_fail(
    cls: type[S], /, overrides: Mapping[str, Any] | None = None, *, connects: bool = True
) -> S:
    """:func:`dief.settings.load_settings` (the environment, *overrides* on top; the CA file
    checked if the command *connects* to the broker); an invalid setting exits with one line
    naming its environment variable."""
    try:
        return load_settings(cls, overrides, connects=connects)
    except ConfigurationError as exc:
        raise fail(exc) from exc


#: The broker options every command that reaches a broker takes (one definition): the
#: overrides of ``DIEF_KAFKA__BOOTSTRAP`` and ``DIEF_KAFKA__EMBEDDED``; the rest of
#: ``DIEF_KAFKA__*`` (security protocol, SASL, CA file) comes from the environment only.
#: Turned into settings overrides by :func:`kafka_options`.
BootstrapOpt = Annotated[
    str | None,
    typer.Option("--bootstrap", help="Broker HOST:PORT (default: DIEF_KAFKA__BOOTSTRAP)"),
]
EmbeddedOpt = Annotated[
    bool, typer.Option("--embedded", help="The broker is the embedded Tansu (no idempotence)")
]


def kafka_options(bootstrap: str | None, embedded: bool) -> dict[str, Any]:
    """``--bootstrap`` and ``--embedded`` as overrides of ``DIEF_KAFKA__*`` (``--embedded``
    only turns it on)."""
    return {"bootstrap": bootstrap or None, "embedded": True if embedded else None}


class ManagedService(Protocol):
    """A service with a lifecycle: ``start``, ``run`` until *stop* is set, ``stop``."""

    async def start(self) -> None: ...

    async def run(self, stop: asyncio.Event) -> None: ...

    async def stop(self) -> None: ...


def run_service(make: Callable[[], ManagedService], announce: Callable[[], None]) -> None:
    """Build the service (in the event loop), start it, *announce* it, serve it until
    SIGTERM or SIGINT, then stop it; a DiefError exits with one line.

    The signals are caught from before the start: a service that is already consuming
    while the rest of it starts (the aggregator applies records while its route and
    directory clients join) finishes starting, then stops cleanly instead of dying."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        service = make()
        await service.start()  # a start that fails cleans up after itself
        try:
            if not stop.is_set():
                announce()
                await service.run(stop)
        finally:
            await service.stop()

    run_or_fail(main())


def passphrase_from_file(path: Path) -> SecretStr:
    """The first line of *path* (``--passphrase-file``)."""
    return read_passphrase_file(path, "--passphrase-file")


def prompt_passphrase() -> SecretStr:
    """Ask on the terminal; without one, say how to give the passphrase instead."""
    if not sys.stdin.isatty():
        raise typer.BadParameter(
            "no keyring passphrase: use --passphrase-file or set DIEF_KEYRING__PASSPHRASE "
            "or DIEF_KEYRING__PASSPHRASE_FILE"
        )
    return SecretStr(typer.prompt("Keyring passphrase", hide_input=True))


def keyring_passphrase(keyring: KeyringSettings, pass_file: Path | None) -> SecretStr:
    """``--passphrase-file``, else ``DIEF_KEYRING__PASSPHRASE``, else the first line of
    ``DIEF_KEYRING__PASSPHRASE_FILE``, else the prompt on a terminal. An unreadable file
    exits with one line."""
    try:
        if pass_file is not None:
            return passphrase_from_file(pass_file)
        configured = keyring.read_passphrase()
    except ConfigurationError as exc:
        raise fail(exc) from exc
    return configured if configured is not None else prompt_passphrase()


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
