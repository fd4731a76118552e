"""What a node's intake reports for each input line: accepted (with the case id the node
derived), already posted, or refused; and the ``accepted.jsonl`` / ``rejected.jsonl``
files (DESIGN §9 ⚑)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from dief.exceptions import DiefError

__all__ = [
    "Accepted",
    "AlreadyPosted",
    "Rejection",
    "SubmitReport",
    "rejection",
    "write_accepted",
    "write_rejections",
]


@dataclass(frozen=True, slots=True)
class Accepted:
    """A case the node accepted: in the outbox, sealed and waiting for the broker, or
    ``held`` (unsealed) until the contributor token of its (cycle, region) arrives.
    ``case_id`` is the id the node derived (what the practitioner keeps to revise or
    withdraw); ``receipts`` are the receipt ids of its records (none while held)."""

    line: int
    case_id: str
    revision: int
    records: int
    receipts: tuple[str, ...] = ()
    held: bool = False


@dataclass(frozen=True, slots=True)
class AlreadyPosted:
    """An input line whose case this node already accepted (from an earlier file, or an
    earlier line of this one): skipped, so it is never sent twice under a new id."""

    line: int
    case_id: str
    revision: int


@dataclass(frozen=True, slots=True)
class Rejection:
    """A refused input: where, which case (if known), a reason code and a message.

    The message describes the problem and its location; it never quotes free text.
    """

    line: int
    case_id: str | None
    reason: str
    message: str


def rejection(line: int, case_id: str | None, exc: DiefError) -> Rejection:
    return Rejection(line=line, case_id=case_id, reason=exc.code, message=exc.message)


def write_rejections(path: Path, rejections: Iterable[Rejection]) -> None:
    """Write ``rejected.jsonl``: one object per refused input, never the refused text
    (DESIGN §9 ⚑)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for r in sorted(rejections, key=lambda r: r.line):
            row = {"line": r.line, "case_id": r.case_id, "reason": r.reason, "message": r.message}
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def write_accepted(path: Path, accepted: Iterable[Accepted]) -> None:
    """Write ``accepted.jsonl``: one object per accepted input line, ``{"line", "case_id",
    "revision"}`` with the case id the node derived (DESIGN §9 ⚑)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for a in sorted(accepted, key=lambda a: a.line):
            row = {"line": a.line, "case_id": a.case_id, "revision": a.revision}
            fh.write(json.dumps(row) + "\n")


@dataclass(slots=True)
class SubmitReport:
    """What became of each input line: accepted, already posted (skipped) or refused."""

    accepted: list[Accepted] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    already: list[AlreadyPosted] = field(default_factory=list)

    @property
    def records(self) -> int:
        return sum(a.records for a in self.accepted)

    @property
    def held(self) -> int:
        """Accepted revisions held for a contributor token."""
        return sum(a.held for a in self.accepted)
