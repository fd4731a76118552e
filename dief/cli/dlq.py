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
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from dief.cli._console import configure_logging, kafka_options, load_or_fail, run_or_fail
from dief.kafka import (
    DeadLetterSnapshot,
    Replayed,
    StoredDeadLetter,
    read_dead_letters,
    replay_dead_letters,
    watch_dead_letters,
)
from dief.seams import DLQ_HEADERS
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

_REPLAY_NOTE = (
    "What the aggregator does with a replay: it deduplicates by the hash of the value, but "
    "only an applied record makes its bytes a duplicate, so a dead letter replayed is judged "
    "afresh. Still bad: dead-lettered again (with today's reason). Cause gone (a key since "
    "picked up, a bug since fixed): applied. The replay sees only whether a new dead letter "
    'comes; "not dead-lettered again" cannot tell applied from a duplicate (bytes applied '
    "meanwhile) or a stale revision."
)

dlq_app = typer.Typer(
    name="dlq",
    help="List, show and replay dead letters (reasons and coordinates, never payloads).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


def register(app: typer.Typer) -> None:
    """Add the ``dlq`` sub-app to *app*."""
    app.add_typer(
        dlq_app,
        name="dlq",
        help="List, show and replay dead letters (reasons and coordinates, never payloads).",
    )


# -- references, times, filters ---------------------------------------------------------

_DEDUPE_KEY = re.compile(r"v:[0-9a-f]{32}")
_COORDINATES = re.compile(r"(?P<region>[A-Za-z]+):(?P<partition>\d+):(?P<offset>\d+)")


@dataclass(frozen=True, slots=True)
class Ref:
    """A dead letter reference: a record's dedupe key (``v:`` and 32 hex digits: every dead
    letter of that value) or DLQ coordinates (``REGION:partition:offset``: one letter)."""

    key: str | None = None
    region: Region | None = None
    partition: int | None = None
    offset: int | None = None

    def matches(self, letter: StoredDeadLetter) -> bool:
        if self.key is not None:
            return _ref(letter) == self.key
        return (letter.region, letter.partition, letter.offset) == (
            self.region,
            self.partition,
            self.offset,
        )

    def __str__(self) -> str:
        if self.key is not None:
            return self.key
        assert self.region is not None
        return f"{self.region.value}:{self.partition}:{self.offset}"


def parse_ref(text: str) -> Ref:
    """A :class:`Ref` from ``v:<32 hex>`` or ``REGION:partition:offset`` (any case).

    :raises typer.BadParameter: neither form.
    """
    value = text.strip()
    if _DEDUPE_KEY.fullmatch(value.lower()):
        return Ref(key=value.lower())
    if m := _COORDINATES.fullmatch(value):
        try:
            region = Region(m["region"].upper())
        except ValueError:
            pass
        else:
            return Ref(region=region, partition=int(m["partition"]), offset=int(m["offset"]))
    raise typer.BadParameter(
        f"{text!r} is neither a record reference (v: and 32 hex digits) nor "
        "REGION:partition:offset (e.g. AFR:0:12)"
    )


def parse_time(text: str) -> datetime:
    """An ISO 8601 date or time (``2026-06-15``, ``2026-06-15T10:00``, ``…Z``, ``…+02:00``);
    a time without a zone is UTC.

    :raises typer.BadParameter: not ISO 8601.
    """
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise typer.BadParameter(
            f"{text!r} is not an ISO 8601 date or time (e.g. 2026-06-15T10:00Z)"
        ) from exc
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _reasons() -> dict[str, str]:
    from dief.aggregator import REASONS  # the aggregator's import is slow: only when used

    return dict(REASONS)


def _ref(letter: StoredDeadLetter) -> str:
    from dief.aggregator import dedupe_key

    return dedupe_key(letter.value)


@dataclass(frozen=True, slots=True)
class Selection:
    """Which dead letters a command works on: any of *reasons* (none: every reason), an
    hour at or after *since* and before *until*, any of *refs* (none: every letter)."""

    reasons: frozenset[str] = frozenset()
    since: datetime | None = None
    until: datetime | None = None
    refs: tuple[Ref, ...] = field(default=())

    def matches(self, letter: StoredDeadLetter) -> bool:
        hour = letter.hour
        return (
            (not self.reasons or letter.reason in self.reasons)
            and (self.since is None or hour >= self.since)
            and (self.until is None or hour < self.until)
            and (not self.refs or any(ref.matches(letter) for ref in self.refs))
        )

    def select(self, letters: Iterable[StoredDeadLetter]) -> list[StoredDeadLetter]:
        return [letter for letter in letters if self.matches(letter)]


def _selection(
    reasons: Sequence[str] | None,
    since: str | None,
    until: str | None,
    refs: Sequence[str] | None = None,
) -> Selection:
    known = _reasons()
    codes = frozenset(code.strip() for code in reasons or ())
    if unknown := sorted(codes - set(known)):
        raise typer.BadParameter(
            f"unknown reason code {', '.join(unknown)}; known: {', '.join(known)}",
            param_hint="--reason",
        )
    start = parse_time(since) if since else None
    end = parse_time(until) if until else None
    if start is not None and end is not None and end <= start:
        raise typer.BadParameter("--until must be later than --since")
    return Selection(codes, start, end, tuple(parse_ref(r) for r in refs or ()))


# -- rendering (headers only, never the key or the value) -------------------------------


def _clean(text: str | None) -> str:
    """Header text safe for a terminal: control characters escaped."""
    if text is None:
        return ""
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)


def _hour(letter: StoredDeadLetter) -> str:
    return letter.hour.strftime("%Y-%m-%dT%H:00Z")


def _source(letter: StoredDeadLetter) -> str:
    partition = "?" if letter.source_partition is None else letter.source_partition
    offset = "?" if letter.source_offset is None else letter.source_offset
    return f"{_clean(letter.source_topic) or '?'}[{partition}]@{offset}"


def letter_row(letter: StoredDeadLetter) -> dict[str, Any]:
    """One dead letter as the ``--json`` lines give it: what the headers say, where it is,
    its hour, its value's size and its record reference; never the key or the value."""
    return {
        "ref": _ref(letter),
        "region": letter.region.value,
        "dlq_topic": letter.topic,
        "partition": letter.partition,
        "offset": letter.offset,
        "hour": _hour(letter),
        "reason": _clean(letter.reason),
        "detail": _clean(letter.detail),
        "source_topic": _clean(letter.source_topic) or None,
        "source_partition": letter.source_partition,
        "source_offset": letter.source_offset,
        "value_size": letter.value_size,
    }


def _console() -> Console:
    console = Console(highlight=False, soft_wrap=False)
    if not console.is_terminal:
        console.width = max(console.width, 160)  # pipes and files: never truncate a reference
    return console


def _table(letters: Sequence[StoredDeadLetter]) -> Table:
    table = Table(title_justify="left")
    for name in ("region", "dlq", "hour", "reason", "detail", "source", "ref"):
        table.add_column(name, no_wrap=name not in ("detail", "source"), overflow="fold")
    for letter in letters:
        table.add_row(
            letter.region.value,
            f"{letter.partition}:{letter.offset}",
            _hour(letter),
            Text(_clean(letter.reason) or "?"),
            Text(_clean(letter.detail)),
            Text(_source(letter)),
            _ref(letter),
        )
    return table


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _summary(letters: Sequence[StoredDeadLetter]) -> str:
    if not letters:
        return "no dead letters"
    counts = Counter(_clean(letter.reason) or "?" for letter in letters)
    by_reason = ", ".join(f"{reason} {n}" for reason, n in sorted(counts.items()))
    return f"{_plural(len(letters), 'dead letter')}: {by_reason}"


def _print_json(console: Console, obj: dict[str, Any]) -> None:
    console.print(Text(json.dumps(obj, ensure_ascii=False, sort_keys=False)), soft_wrap=True)


# -- options --------------------------------------------------------------------------

RegionOpt = Annotated[
    list[Region] | None,
    typer.Option("--region", help="Region (repeatable; default: DIEF_REGIONS, else all five)"),
]
ReasonOpt = Annotated[
    list[str] | None,
    typer.Option("--reason", help="Reason code, see `dief dlq show` (repeatable)"),
]
SinceOpt = Annotated[
    str | None,
    typer.Option(
        "--since",
        help="Only dead letters from this hour on (ISO 8601, UTC unless a zone is given; "
        "record times are known to the hour only)",
    ),
]
UntilOpt = Annotated[
    str | None,
    typer.Option("--until", help="Only dead letters from before this hour (ISO 8601)"),
]
RefOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--ref", help="Only this record (v:… reference) or REGION:partition:offset (repeatable)"
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="JSON Lines on standard output")]
BootstrapOpt = Annotated[
    str | None,
    typer.Option("--bootstrap", help="Broker HOST:PORT (default: DIEF_KAFKA__BOOTSTRAP)"),
]
EmbeddedOpt = Annotated[
    bool, typer.Option("--embedded", help="The broker is the embedded Tansu (no idempotence)")
]
TimeoutOpt = Annotated[
    float,
    typer.Option("--timeout", min=1.0, help="Seconds to read the dead-letter topics at most"),
]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Log more")]


def _settings(
    regions: Sequence[Region] | None, bootstrap: str | None, embedded: bool
) -> AggregatorSettings:
    return load_or_fail(
        AggregatorSettings,
        {
            "regions": list(dict.fromkeys(regions)) if regions else None,
            "kafka": kafka_options(bootstrap, embedded),
        },
    )


def _read(kafka: KafkaSettings, regions: Sequence[Region], time_limit: float) -> DeadLetterSnapshot:
    return run_or_fail(read_dead_letters(kafka, regions, time_limit=time_limit))


# -- list -----------------------------------------------------------------------------


@dlq_app.command(
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
    selection = _selection(reason, since, until, ref)
    settings = _settings(region, bootstrap, embedded)
    letters = selection.select(_read(settings.kafka, settings.regions, timeout).letters)
    console = _console()
    if as_json:
        for letter in letters:
            _print_json(console, letter_row(letter))
        Console(stderr=True, highlight=False).print(Text(_summary(letters)), soft_wrap=True)
        return
    if letters:
        console.print(_table(letters))
    console.print(Text(_summary(letters)), soft_wrap=True)


# -- show -----------------------------------------------------------------------------


def _header_text(name: str, raw: bytes) -> str | None:
    """A header's text: DIEF's own in full (control characters escaped); any other only if
    it is short printable text (FastStream's ``content-type``, ``correlation_id``), else
    None (only its size is shown)."""
    text = raw.decode("utf-8", errors="replace")
    if name in DLQ_HEADERS:
        return _clean(text)
    return text if len(raw) <= 100 and text.isprintable() else None


def _header(name: str, raw: bytes) -> str:
    text = _header_text(name, raw)
    return f"<{len(raw)} bytes>" if text is None else text


def _show_one(console: Console, letter: StoredDeadLetter, meanings: dict[str, str]) -> None:
    reason = _clean(letter.reason) or "?"
    meaning = meanings.get(letter.reason, "not a reason code this version knows")
    lines = [
        (
            "dead letter",
            f"{letter.coordinates} ({letter.topic} partition {letter.partition} "
            f"offset {letter.offset})",
        ),
        ("record ref", _ref(letter)),
        ("hour", _hour(letter)),
        ("reason", f"{reason}: {meaning}"),
        ("detail", _clean(letter.detail) or "-"),
        ("source", _source(letter)),
        ("value", f"{letter.value_size} bytes, sealed (never shown)"),
    ]
    for name, value in lines:
        console.print(Text.assemble((f"{name:<12}", "bold"), value), soft_wrap=True)
    console.print(Text("headers", style="bold"))
    for name, raw in letter.headers:
        text = _header_text(name, raw)
        shown = f"<{len(raw)} bytes>" if text is None else json.dumps(text, ensure_ascii=False)
        console.print(Text(f"  {_clean(name)}: {shown}"), soft_wrap=True)


@dlq_app.command(
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
    meanings = _reasons()
    console = _console()
    for i, letter in enumerate(letters):
        if as_json:
            row = letter_row(letter)
            row["meaning"] = meanings.get(letter.reason)
            row["headers"] = {_clean(name): _header(name, raw) for name, raw in letter.headers}
            _print_json(console, row)
            continue
        if i:
            console.print()
        _show_one(console, letter, meanings)


# -- replay ---------------------------------------------------------------------------


def _interactive() -> bool:
    """Whether a person can answer the confirmation (standard input is a terminal)."""
    return sys.stdin is not None and sys.stdin.isatty()


def _distinct(letters: Sequence[StoredDeadLetter]) -> list[StoredDeadLetter]:
    """One letter per (region, record): the latest, so a record dead-lettered twice is
    replayed once."""
    latest: dict[tuple[Region, str], StoredDeadLetter] = {}
    for letter in letters:
        latest[(letter.region, _ref(letter))] = letter
    return sorted(latest.values(), key=lambda x: (x.region.value, x.partition, x.offset))


@dataclass(frozen=True, slots=True)
class _Outcome:
    replayed: Replayed
    again: StoredDeadLetter | None


def _outcomes(replayed: Sequence[Replayed], new: Sequence[StoredDeadLetter]) -> list[_Outcome]:
    first: dict[tuple[Region, str], StoredDeadLetter] = {}
    for letter in new:
        first.setdefault((letter.region, _ref(letter)), letter)
    return [
        _Outcome(r, first.get((r.letter.region, _ref(r.letter))) if r.sent else None)
        for r in replayed
    ]


def _report(console: Console, outcome: _Outcome, wait: float) -> None:
    r = outcome.replayed
    head = f"{r.letter.coordinates} {_ref(r.letter)}: "
    if not r.sent:
        console.print(Text.assemble(head, ("not re-sent", "red"), f": {_clean(r.error)}"))
        return
    where = f"re-sent to {r.topic}[{r.partition}]@{r.offset}"
    if outcome.again is not None:
        again = outcome.again
        console.print(
            Text.assemble(
                head,
                f"{where}; ",
                ("dead-lettered again", "yellow"),
                f": {_clean(again.reason) or '?'} ({again.coordinates})",
            ),
            soft_wrap=True,
        )
        return
    console.print(
        Text(f"{head}{where}; not dead-lettered again within {wait:g} s (applied, or a duplicate)"),
        soft_wrap=True,
    )


async def _replay_and_watch(
    kafka: KafkaSettings,
    regions: Sequence[Region],
    letters: Sequence[StoredDeadLetter],
    ends: DeadLetterSnapshot,
    *,
    wait: float,
    time_limit: float,
) -> list[_Outcome]:
    # Where each DLQ partition ends now, just before the replay: only what comes after it
    # can be the replayed records dead-lettered again.
    now = await read_dead_letters(kafka, regions, start=ends.ends, time_limit=time_limit)
    replayed = await replay_dead_letters(kafka, letters)
    expected = {(r.letter.region, _ref(r.letter)) for r in replayed if r.sent}
    seen: set[tuple[Region, str]] = set()
    looked = 0

    def done(new: Sequence[StoredDeadLetter]) -> bool:
        nonlocal looked  # the list only grows: hash each letter once
        seen.update((letter.region, _ref(letter)) for letter in new[looked:])
        looked = len(new)
        return expected <= seen

    new: Sequence[StoredDeadLetter] = ()
    if expected:
        new = await watch_dead_letters(kafka, regions, now.ends, done=done, time_limit=wait)
    return _outcomes(replayed, new)


@dlq_app.command(
    "replay",
    help="Re-send the selected dead letters' original key and value to their cases topic "
    "(acks=all, timestamp to the hour, no headers), then report for each whether it was "
    "dead-lettered again within --wait seconds. Without --yes it lists what it would send "
    "and asks first; it refuses to run without --yes when no one can answer. A record "
    "dead-lettered several times is sent once.\n\n" + _REPLAY_NOTE,
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
    selection = _selection(reason, since, until, ref)
    settings = _settings(region, bootstrap, embedded)
    snapshot = _read(settings.kafka, settings.regions, timeout)
    chosen = selection.select(snapshot.letters)
    letters = _distinct(chosen)
    console = _console()
    if not letters:
        console.print(Text("no dead letters selected; nothing to replay"))
        return
    console.print(_table(letters))
    skipped = sum(letter.replay_topic is None for letter in letters)
    records = _plural(len(letters), "record")
    console.print(
        Text(
            f"{records} to re-send (from {_plural(len(chosen), 'dead letter')}"
            + (f"; {skipped} without their cases topic as source, not sent" if skipped else "")
            + ")"
        ),
        soft_wrap=True,
    )
    if not yes:
        typer.confirm(f"Re-send {records} to their cases topics?", abort=True)
    outcomes = run_or_fail(
        _replay_and_watch(
            settings.kafka, settings.regions, letters, snapshot, wait=wait, time_limit=timeout
        )
    )
    for outcome in outcomes:
        _report(console, outcome, wait)
    sent = sum(o.replayed.sent for o in outcomes)
    again = sum(o.again is not None for o in outcomes)
    console.print(
        Text(
            f"re-sent {sent} of {len(outcomes)}: {again} dead-lettered again, {sent - again} "
            f"not dead-lettered again within {wait:g} s"
        ),
        soft_wrap=True,
    )
    if sent < len(outcomes):
        raise typer.Exit(1)
