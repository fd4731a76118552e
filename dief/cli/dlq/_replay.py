"""What ``dief dlq replay`` sends and what it reports: one letter per record, then for each
whether it came back to the DLQ (dead-lettered again) within the wait."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.text import Text

from dief.cli.dlq._render import clean, plural
from dief.cli.dlq._select import record_ref
from dief.kafka import Replayed, StoredDeadLetter
from dief.vocab import Region

__all__ = [
    "REPLAY_NOTE",
    "Outcome",
    "Tracker",
    "announce",
    "distinct",
    "outcomes",
    "report",
    "tally",
]

REPLAY_NOTE = (
    "What the aggregator does with a replay: it deduplicates by the hash of the value, but "
    "only an applied record makes its bytes a duplicate, so a dead letter replayed is judged "
    "afresh. Still bad: dead-lettered again (with today's reason). Cause gone (a key since "
    "picked up, a bug since fixed): applied. The replay sees only whether a new dead letter "
    'comes; "not dead-lettered again" cannot tell applied from a duplicate (bytes applied '
    "meanwhile) or a stale revision."
)


def distinct(letters: Sequence[StoredDeadLetter]) -> list[StoredDeadLetter]:
    """One letter per (region, record): the latest, so a record dead-lettered twice is
    replayed once."""
    latest: dict[tuple[Region, str], StoredDeadLetter] = {}
    for letter in letters:
        latest[letter.region, record_ref(letter)] = letter
    return sorted(latest.values(), key=lambda x: (x.region.value, x.partition, x.offset))


@dataclass(frozen=True, slots=True)
class Outcome:
    """One replayed letter and, if it came back, its new dead letter."""

    replayed: Replayed
    again: StoredDeadLetter | None


class Tracker:
    """The ``done`` test of watching the DLQ: every record sent has come back."""

    def __init__(self, replayed: Sequence[Replayed]) -> None:
        self.expected = {(r.letter.region, record_ref(r.letter)) for r in replayed if r.sent}
        self._seen: set[tuple[Region, str]] = set()
        self._looked = 0

    def __call__(self, new: Sequence[StoredDeadLetter]) -> bool:
        # the list only grows: hash each letter once
        self._seen.update((letter.region, record_ref(letter)) for letter in new[self._looked :])
        self._looked = len(new)
        return self.expected <= self._seen


def outcomes(replayed: Sequence[Replayed], new: Sequence[StoredDeadLetter]) -> list[Outcome]:
    """Each replayed letter with the first new dead letter of its record, if any."""
    first: dict[tuple[Region, str], StoredDeadLetter] = {}
    for letter in new:
        first.setdefault((letter.region, record_ref(letter)), letter)
    return [
        Outcome(r, first.get((r.letter.region, record_ref(r.letter))) if r.sent else None)
        for r in replayed
    ]


def announce(out: Console, letters: Sequence[StoredDeadLetter], chosen: int) -> str:
    """Say how many records will be re-sent (from *chosen* letters); return "N record(s)"."""
    skipped = sum(letter.replay_topic is None for letter in letters)
    records = plural(len(letters), "record")
    out.print(
        Text(
            f"{records} to re-send (from {plural(chosen, 'dead letter')}"
            + (f"; {skipped} without their cases topic as source, not sent" if skipped else "")
            + ")"
        ),
        soft_wrap=True,
    )
    return records


def report(out: Console, outcome: Outcome, wait: float) -> None:
    """One line: not re-sent (why), dead-lettered again (why), or not seen again."""
    r = outcome.replayed
    head = f"{r.letter.coordinates} {record_ref(r.letter)}: "
    if not r.sent:
        out.print(Text.assemble(head, ("not re-sent", "red"), f": {clean(r.error)}"))
        return
    where = f"re-sent to {r.topic}[{r.partition}]@{r.offset}"
    if outcome.again is not None:
        again = outcome.again
        out.print(
            Text.assemble(
                head,
                f"{where}; ",
                ("dead-lettered again", "yellow"),
                f": {clean(again.reason) or '?'} ({again.coordinates})",
            ),
            soft_wrap=True,
        )
        return
    out.print(
        Text(f"{head}{where}; not dead-lettered again within {wait:g} s (applied, or a duplicate)"),
        soft_wrap=True,
    )


def tally(out: Console, results: Sequence[Outcome], wait: float) -> int:
    """Report every outcome and the totals; return how many were re-sent."""
    for outcome in results:
        report(out, outcome, wait)
    sent = sum(o.replayed.sent for o in results)
    again = sum(o.again is not None for o in results)
    out.print(
        Text(
            f"re-sent {sent} of {len(results)}: {again} dead-lettered again, {sent - again} "
            f"not dead-lettered again within {wait:g} s"
        ),
        soft_wrap=True,
    )
    return sent
