"""Which dead letters a ``dief dlq`` command works on: record references, times, reasons.

A record reference is :func:`dief.aggregator.dedupe_key` of the value (the hash the
aggregator deduplicates by); DLQ coordinates name one letter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import typer

from dief.kafka import StoredDeadLetter
from dief.vocab import Region

__all__ = ["Ref", "Selection", "parse_ref", "parse_time", "reasons", "record_ref", "selection"]

_DEDUPE_KEY = re.compile(r"v:[0-9a-f]{32}")
_COORDINATES = re.compile(r"(?P<region>[A-Za-z]+):(?P<partition>\d+):(?P<offset>\d+)")


def reasons() -> dict[str, str]:
    """Every reason code the aggregator gives, with what it means."""
    from dief.aggregator import REASONS  # noqa: PLC0415  the aggregator's import is slow: only when used

    return dict(REASONS)


def record_ref(letter: StoredDeadLetter) -> str:
    """The letter's record reference: the dedupe key of its value."""
    from dief.aggregator import dedupe_key  # noqa: PLC0415  loaded when the command runs (Kafka, SQL, rendering): the CLI starts without it

    return dedupe_key(letter.value)


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
            return record_ref(letter) == self.key
        return (letter.region, letter.partition, letter.offset) == (
            self.region,
            self.partition,
            self.offset,
        )

    def __str__(self) -> str:
        if self.key is not None:
            return self.key
        assert self.region is not None  # noqa: S101  a reference without a key has a region (parse_ref makes no other); narrows the type
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


def selection(
    reason_codes: Sequence[str] | None,
    since: str | None,
    until: str | None,
    refs: Sequence[str] | None = None,
) -> Selection:
    """The :class:`Selection` of the ``--reason``, ``--since``, ``--until`` and ``--ref``
    options.

    :raises typer.BadParameter: an unknown reason code, a bad time or reference, or
        ``--until`` not after ``--since``.
    """
    known = reasons()
    codes = frozenset(code.strip() for code in reason_codes or ())
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
