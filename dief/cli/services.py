"""``dief post``, ``dief node`` and ``dief aggregate``: the node and aggregator services."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from dief.cli._console import (
    LOG_FORMAT_OPTION,
    BootstrapOpt,
    EmbeddedOpt,
    configure_logging,
    kafka_options,
    keyring_passphrase,
    load_or_fail,
    run_or_fail,
    run_service,
)
from dief.cli.approve import intake_hold, post_for_approval
from dief.exceptions import BrokerError
from dief.settings import AGGREGATOR_DATABASE, AggregatorSettings, LogFormat, NodeSettings
from dief.vocab import Region

if TYPE_CHECKING:
    from pydantic import SecretStr

    from dief.node import Accepted
    from producers.node import FileResult, NodeService

__all__ = ["register"]

console = Console()

KeysOpt = Annotated[
    Path | None, typer.Option("--keys", help="Keyring directory (default: DIEF_KEYRING__PATH)")
]
PassFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--passphrase-file",
        help="File holding the keyring passphrase (default: DIEF_KEYRING__PASSPHRASE, "
        "DIEF_KEYRING__PASSPHRASE_FILE, else a prompt)",
    ),
]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Log more")]
LogFormatOpt = Annotated[LogFormat | None, LOG_FORMAT_OPTION]


def _node_settings(
    name: str | None,
    keys: Path | None,
    bootstrap: str | None,
    embedded: bool,
    intake: Path | None = None,
) -> NodeSettings:
    return load_or_fail(
        NodeSettings,
        {
            "node": name or None,
            "intake_dir": intake,
            "keyring": {"path": keys},
            "kafka": kafka_options(bootstrap, embedded),
        },
    )


WAIT_HELP = (
    "Seconds to wait for the broker (default 15). Given, post also waits, within these "
    "seconds from publishing, for the aggregators' receipts and prints what became of each "
    "record: applied, dead-lettered (with its reason) or no receipt yet"
)


def post(
    files: Annotated[list[Path], typer.Argument(help="JSON, YAML or JSON Lines files of cases")],
    node: Annotated[
        str | None,
        typer.Option("--node", help="This node's name in the keyring (default: DIEF_NODE)"),
    ] = None,
    keys: KeysOpt = None,
    passphrase_file: PassFileOpt = None,
    bootstrap: BootstrapOpt = None,
    embedded: EmbeddedOpt = False,
    wait: Annotated[float | None, typer.Option("--wait", help=WAIT_HELP)] = None,
    again: Annotated[
        bool,
        typer.Option(
            "--again",
            help="Post again what this node already accepted: a whole file, or a new case it "
            "posted from an earlier file (as a new case)",
        ),
    ] = False,
    verbose: VerboseOpt = False,
    by: Annotated[
        str | None,
        typer.Option(
            "--by",
            help="Four eyes on (DIEF_FOUR_EYES): your portal account (you sign in); the "
            "cases await a second officer's `dief approve`",
        ),
    ] = None,
) -> None:
    """Post cases from files: validate, screen, seal, keep in the outbox, publish.

    With four eyes on (DIEF_FOUR_EYES=true), nothing is sealed yet: the author signs in
    (--by NAME), each valid case is held awaiting approval, and a second officer releases
    it with `dief approve DRAFT --by NAME` or in the portal (docs/portal.md).

    Free text (the summary) is refused if it could name the reporting State, in any UN
    language: countries, demonyms, codes, cities, ports, free zones, persons, companies,
    "our ministry", contacts, licence, vessel, container or aircraft numbers, however
    spelt. The refusal gives the span and its kind, never the text; write "a port in the
    region", "a broker registered abroad" instead (docs/screening.md).

    Each line is reported: the case id it received, "already posted" (with the case id it
    received then), or refused with a reason. A case whose contributor token (per cycle and
    region, from the Secretariat's issuer) the node does not hold yet is held in the outbox:
    post asks for the tokens within the wait (with the node's random delays,
    DIEF_CREDENTIAL_MAX_DELAY_SECONDS) and says how many cases are still held; `dief node`
    sends them once their tokens arrive. With --wait, each record's receipt follows.
    Exit status 0 when nothing was refused, 1 when any line was refused (the others are
    posted), a receipt said dead-lettered, or an error stopped the command.
    """
    configure_logging(verbose)
    settings = _node_settings(node, keys, bootstrap, embedded)
    if settings.four_eyes:  # held for a second officer: no keyring, nothing sealed
        raise typer.Exit(1 if run_or_fail(post_for_approval(files, by, settings)) else 0)
    passphrase = keyring_passphrase(settings.keyring, passphrase_file)
    if not verbose:  # what became of the token requests is said below, in one line
        logging.getLogger("dief.credentials").setLevel(logging.ERROR)
    raise typer.Exit(run_or_fail(_post(settings, passphrase, files, again=again, wait=wait)))


async def _post(
    settings: NodeSettings,
    passphrase: SecretStr,
    files: list[Path],
    *,
    again: bool,
    wait: float | None,
) -> int:
    """``dief post``'s work on a started node service: post *files*, ask for the tokens
    of held cases, publish, then (``--wait``) print the receipts; the exit status."""
    from producers.node import NodeService  # noqa: PLC0415  the node service, loaded when a command runs it

    service = NodeService(settings, passphrase)
    await service.start()
    try:
        results = await service.post(files, again=again)
        refused = _print_results(results)
        deadline = time.monotonic() + (wait if wait is not None else 15.0)
        if any(res.report.held for res in results):
            await _await_tokens(service, max(deadline - time.monotonic(), 0.1))
        if not await _publish(service, max(deadline - time.monotonic(), 0.1)):
            return 1 if refused else 0
        if wait is not None:
            refused += await _print_receipts(service, results, deadline - time.monotonic())
        return 1 if refused else 0
    finally:
        await service.stop()


async def _await_tokens(service: NodeService, within: float) -> None:
    """Ask for the contributor tokens of the held cases; say how many are still held."""
    held = await service.await_tokens(within)
    if held:
        console.print(
            f"[yellow]{held} cases held[/] until their contributor tokens arrive "
            "from the issuer; `dief node` seals and sends them then"
        )


async def _publish(service: NodeService, within: float) -> bool:
    """Publish the outbox's pending records; False (and why) if the broker did not take
    them (they wait in the outbox for `dief node`)."""
    try:
        sent = await service.publish_pending(within)
        console.print(f"published {sent} records")
        if left := await service.pending():
            console.print(
                f"{left} records wait for their pseudonym's random relay delay "
                "(DIEF_RELAY_MAX_DELAY_SECONDS, DESIGN §11); `dief node` sends them"
            )
    except BrokerError as exc:
        console.print(
            f"[yellow]not published yet[/] ({exc.message}): {await service.pending()} "
            "records wait in the outbox; `dief node` publishes them"
        )
        return False
    return True


def _print_results(results: Sequence[FileResult]) -> int:
    """Print what became of each line of *results*; returns how many were refused."""
    refused = 0
    for res in results:
        if res.duplicate:
            console.print(
                f"[yellow]{res.path}: already posted (same bytes); skipped[/] "
                "(use --again to post it once more)"
            )
        for a in res.report.accepted:
            console.print(f"{res.path}:{a.line}: case {a.case_id} revision {a.revision}")
        for p in res.report.already:
            console.print(
                f"[yellow]{res.path}:{p.line}: already posted as case {p.case_id} "
                f"(revision {p.revision}); skipped[/] "
                "(use --again to post it as a new case)"
            )
        for r in res.report.rejected:
            refused += 1
            console.print(f"[red]{res.path}:{r.line}: refused ({r.reason})[/] {r.message}")
    return refused


async def _print_receipts(
    service: NodeService, results: Sequence[FileResult], seconds: float
) -> int:
    """Wait up to *seconds* for the receipts of what *results* accepted, then print one
    line per record; returns how many were dead-lettered."""
    released = await service.receipt_ids(
        [(a.case_id, a.revision) for res in results for a in res.report.accepted if a.held]
    )

    def receipts(a: Accepted) -> tuple[str, ...]:
        return released.get((a.case_id, a.revision), ()) if a.held else a.receipts

    wanted = [rid for res in results for a in res.report.accepted for rid in receipts(a)]
    if not wanted:
        return 0
    try:
        states = await service.wait_for_receipts(wanted, max(seconds, 0.0))
    except BrokerError as exc:
        console.print(f"[yellow]receipts not read[/] ({exc.message}); `dief receipts` reads them")
        return 0
    dead = 0
    for res in results:
        for a in res.report.accepted:
            for rid in receipts(a):
                state = states.get(rid)
                if state is None:
                    continue
                where = state.region
                said = state.describe()
                dead += state.outcome == "dead_lettered"
                style = "red" if state.outcome == "dead_lettered" else "default"
                console.print(
                    f"{res.path}:{a.line}: case {a.case_id} revision {a.revision} in {where}: "
                    f"[{style}]{said}[/]"
                )
    return dead


def node(
    name: Annotated[
        str | None,
        typer.Option("--node", help="This node's name in the keyring (default: DIEF_NODE)"),
    ] = None,
    intake: Annotated[
        Path | None,
        typer.Option(
            "--intake", help="Directory to watch for case files (default: DIEF_INTAKE_DIR)"
        ),
    ] = None,
    keys: KeysOpt = None,
    passphrase_file: PassFileOpt = None,
    bootstrap: BootstrapOpt = None,
    embedded: EmbeddedOpt = False,
    verbose: VerboseOpt = False,
    log_format: LogFormatOpt = None,
) -> None:
    """Run a national node: watch an intake directory and relay the outbox to the broker."""
    from producers.node import NodeService  # noqa: PLC0415  loaded when the command runs (Kafka, SQL, rendering): the CLI starts without it

    configure_logging(verbose, log_format)
    settings = _node_settings(name, keys, bootstrap, embedded, intake)
    passphrase = keyring_passphrase(settings.keyring, passphrase_file)

    hold = None
    if settings.four_eyes:  # the intake folder's cases await a second officer
        hold = intake_hold(settings)
    run_service(
        lambda: NodeService(settings, passphrase, hold=hold),
        lambda: console.print(f"node running; outbox {settings.outbox}"),
    )


def aggregate(
    region: Annotated[
        list[Region] | None, typer.Option("--region", help="Region to aggregate (repeatable)")
    ] = None,
    all_regions: Annotated[bool, typer.Option("--all", help="Aggregate every region")] = False,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="SQLAlchemy URL of the database (default: DIEF_DATABASE_URL, else "
            f"{AGGREGATOR_DATABASE})",
        ),
    ] = None,
    keys: KeysOpt = None,
    passphrase_file: PassFileOpt = None,
    bootstrap: BootstrapOpt = None,
    embedded: EmbeddedOpt = False,
    verbose: VerboseOpt = False,
    log_format: LogFormatOpt = None,
) -> None:
    """Run regional aggregators: apply case records, dead-letter bad ones."""
    from consumers.aggregator import AggregatorService  # noqa: PLC0415  loaded when the command runs (Kafka, SQL, rendering): the CLI starts without it

    if not region and not all_regions:
        raise typer.BadParameter("give --region R (repeatable) or --all")
    configure_logging(verbose, log_format)
    settings = load_or_fail(
        AggregatorSettings,
        {
            "regions": list(Region) if all_regions else list(dict.fromkeys(region or [])),
            "database_url": database_url or None,
            "keyring": {"path": keys},
            "kafka": kafka_options(bootstrap, embedded),
        },
    )
    passphrase = keyring_passphrase(settings.keyring, passphrase_file)

    # start() raises BrokerError (one line) when the broker is away
    run_service(
        lambda: AggregatorService(settings, passphrase),
        lambda: console.print(f"aggregating {', '.join(r.value for r in settings.regions)}"),
    )


def register(app: typer.Typer) -> None:
    """Add ``post``, ``node`` and ``aggregate`` to *app*."""
    app.command("post")(post)
    app.command("node")(node)
    app.command("aggregate")(aggregate)
