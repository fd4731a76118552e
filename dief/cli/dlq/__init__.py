"""``dief dlq list|show|replay``: the dead letters on ``dief.<region>.dlq``, read back and
replayed, **never their payloads**.

A dead letter's value is the refused record's sealed envelope and its key is (at best) a
case id: neither is ever printed, in any encoding. What is shown is what the headers say
(the reason code, its detail, the source topic, partition and offset), the DLQ coordinates,
the hour, the value's size, and a record reference: :func:`dief.aggregator.dedupe_key` of
the value, the hash the aggregator deduplicates by.

Reading assigns the DLQ partitions without a consumer group (nothing is committed) and
stops at the end each partition had when reading started (:func:`dief.kafka.read_to_end`).
The broker is the one the services use: ``--bootstrap`` / ``--embedded`` over
``DIEF_KAFKA__*``, and the regions default to ``DIEF_REGIONS`` (all five) as for ``dief
aggregate`` (:class:`dief.settings.AggregatorSettings`).

Here are the commands and their calls into :mod:`dief.kafka` (the seam the tests replace:
``read_dead_letters``, ``replay_dead_letters``, ``watch_dead_letters``, ``_interactive``);
selecting letters is in ``_select``, showing them in ``_render``, replay reports in
``_replay``, the shared options in ``_options``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from dief.cli._console import (
    BootstrapOpt,
    EmbeddedOpt,
    configure_logging,
    kafka_options,
    load_or_fail,
    run_or_fail,
)
from dief.cli.dlq._options import (
    JsonOpt,
    ReasonOpt,
    RefOpt,
    RegionOpt,
    SinceOpt,
    TimeoutOpt,
    UntilOpt,
    VerboseOpt,
)
from dief.cli.dlq._render import (
    clean,
    console,
    header,
    letter_row,
    print_json,
    show_one,
    summary,
    table,
)
from dief.cli.dlq._replay import (
    REPLAY_NOTE,
    Outcome,
    Tracker,
    announce,
    distinct,
    outcomes,
    tally,
)
from dief.cli.dlq._select import Ref, Selection, parse_ref, parse_time, reasons, selection
from dief.kafka import (
    DeadLetterSnapshot,
    StoredDeadLetter,
    read_dead_letters,
    replay_dead_letters,
    watch_dead_letters,
)
from dief.settings import AggregatorSettings, KafkaSettings
from dief.vocab import Region

__all__ = [
    "Ref",
    "Selection",
    "dlq_app",
    "letter_row",
    "parse_ref",
    "parse_time",
    "register",
]

dlq_app = typer.Typer(  # noqa: RUF067  the commands live here: tests replace this module's Kafka calls (test_dlq_cli)
    name="dlq",
    help="List, show and replay dead letters (reasons and coordinates, never payloads).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


def register(app: typer.Typer) -> None:  # noqa: RUF067  the commands live here: tests replace this module's Kafka calls (test_dlq_cli)
    """Add the ``dlq`` sub-app to *app*."""
    app.add_typer(
        dlq_app,
        name="dlq",
        help="List, show and replay dead letters (reasons and coordinates, never payloads).",
    )


def _settings(  # noqa: RUF067  the commands live here: tests replace this module's Kafka calls (test_dlq_cli)
    regions: Sequence[Region] | None, bootstrap: str | None, embedded: bool
) -> AggregatorSettings:
    return load_or_fail(
        AggregatorSettings,
        {
            "regions": list(dict.fromkeys(regions)) if regions else None,
            "kafka": kafka_options(bootstrap, embedded),
        },
    )


def _read(kafka: KafkaSettings, regions: Sequence[Region], time_limit: float) -> DeadLetterSnapshot:  # noqa: RUF067  the commands live here: tests replace this module's Kafka calls (test_dlq_cli)
    return run_or_fail(read_dead_letters(kafka, regions, time_limit=time_limit))


# -- list -----------------------------------------------------------------------------


@dlq_app.command(  # noqa: RUF067  the commands live here: tests replace this module's Kafka calls (test_dlq_cli)
    "list",
    help="One row per dead letter: region, DLQ partition:offset, hour, reason, detail, "
    "source topic, partition and offset, record reference; then a count by reason. Never a "
    "payload.",
)
def list_letters(
    region: RegionOpt = None,
    reason: ReasonOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    ref: RefOpt = None,
    as_json: JsonOpt = False,
    bootstrap: BootstrapOpt = None,
    embedded: EmbeddedOpt = False,
    timeout: TimeoutOpt = 30.0,
    verbose: VerboseOpt = False,
) -> None:
    configure_logging(verbose)
    chosen = selection(reason, since, until, ref)
    settings = _settings(region, bootstrap, embedded)
    letters = chosen.select(_read(settings.kafka, settings.regions, timeout).letters)
    out = console()
    if as_json:
        for letter in letters:
            print_json(out, letter_row(letter))
        Console(stderr=True, highlight=False).print(Text(summary(letters)), soft_wrap=True)
        return
    if letters:
        out.print(table(letters))
    out.print(Text(summary(letters)), soft_wrap=True)


# -- show -----------------------------------------------------------------------------


@dlq_app.command(  # noqa: RUF067  the commands live here: tests replace this module's Kafka calls (test_dlq_cli)
    "show",
    help="One dead letter, or every dead letter of one record: its headers, what its reason "
    "means, its value's size. Never the value or the key.",
)
def show(
    ref: Annotated[
        str,
        typer.Argument(help="A record reference (v:…) or REGION:partition:offset (AFR:0:12)"),
    ],
    region: RegionOpt = None,
    as_json: JsonOpt = False,
    bootstrap: BootstrapOpt = None,
    embedded: EmbeddedOpt = False,
    timeout: TimeoutOpt = 30.0,
    verbose: VerboseOpt = False,
) -> None:
    configure_logging(verbose)
    wanted = parse_ref(ref)
    settings = _settings(region, bootstrap, embedded)
    regions = [wanted.region] if wanted.region is not None else settings.regions
    letters = [
        letter
        for letter in _read(settings.kafka, regions, timeout).letters
        if wanted.matches(letter)
    ]
    if not letters:
        where = ", ".join(r.value for r in regions)
        Console(stderr=True, highlight=False).print(
            Text.assemble(("error", "bold red"), f": no dead letter {wanted} in {where}")
        )
        raise typer.Exit(1)
    meanings = reasons()
    out = console()
    for i, letter in enumerate(letters):
        if as_json:
            row = letter_row(letter)
            row["meaning"] = meanings.get(letter.reason)
            row["headers"] = {clean(name): header(name, raw) for name, raw in letter.headers}
            print_json(out, row)
            continue
        if i:
            out.print()
        show_one(out, letter, meanings)


# -- replay ---------------------------------------------------------------------------


def _interactive() -> bool:  # noqa: RUF067  the commands live here: tests replace this module's Kafka calls (test_dlq_cli)
    """Whether a person can answer the confirmation (standard input is a terminal)."""
    return sys.stdin is not None and sys.stdin.isatty()


async def _replay_and_watch(  # noqa: RUF067  the commands live here: tests replace this module's Kafka calls (test_dlq_cli)
    kafka: KafkaSettings,
    regions: Sequence[Region],
    letters: Sequence[StoredDeadLetter],
    ends: DeadLetterSnapshot,
    *,
    wait: float,
    time_limit: float,
) -> list[Outcome]:
    # Where each DLQ partition ends now, just before the replay: only what comes after it
    # can be the replayed records dead-lettered again.
    now = await read_dead_letters(kafka, regions, start=ends.ends, time_limit=time_limit)
    replayed = await replay_dead_letters(kafka, letters)
    done = Tracker(replayed)
    new: Sequence[StoredDeadLetter] = ()
    if done.expected:
        new = await watch_dead_letters(kafka, regions, now.ends, done=done, time_limit=wait)
    return outcomes(replayed, new)


@dlq_app.command(  # noqa: RUF067  the commands live here: tests replace this module's Kafka calls (test_dlq_cli)
    "replay",
    help="Re-send the selected dead letters' original key and value to their cases topic "
    "(acks=all, timestamp to the hour, no headers), then report for each whether it was "
    "dead-lettered again within --wait seconds. Without --yes it lists what it would send "
    "and asks first; it refuses to run without --yes when no one can answer. A record "
    "dead-lettered several times is sent once.\n\n" + REPLAY_NOTE,
)
def replay(
    region: RegionOpt = None,
    reason: ReasonOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    ref: RefOpt = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Send without asking")] = False,
    wait: Annotated[
        float,
        typer.Option(
            "--wait", min=0.0, help="Seconds to watch the DLQ for replayed records coming back"
        ),
    ] = 60.0,
    bootstrap: BootstrapOpt = None,
    embedded: EmbeddedOpt = False,
    timeout: TimeoutOpt = 30.0,
    verbose: VerboseOpt = False,
) -> None:
    configure_logging(verbose)
    if not yes and not _interactive():
        raise typer.BadParameter(
            "replay re-sends records: confirm with --yes when not run from a terminal",
            param_hint="--yes",
        )
    wanted = selection(reason, since, until, ref)
    settings = _settings(region, bootstrap, embedded)
    snapshot = _read(settings.kafka, settings.regions, timeout)
    chosen = wanted.select(snapshot.letters)
    letters = distinct(chosen)
    out = console()
    if not letters:
        out.print(Text("no dead letters selected; nothing to replay"))
        return
    out.print(table(letters))
    records = announce(out, letters, len(chosen))
    if not yes:
        typer.confirm(f"Re-send {records} to their cases topics?", abort=True)
    results = run_or_fail(
        _replay_and_watch(
            settings.kafka, settings.regions, letters, snapshot, wait=wait, time_limit=timeout
        )
    )
    if tally(out, results, wait) < len(results):
        raise typer.Exit(1)
