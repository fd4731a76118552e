"""How ``dief dlq`` shows dead letters: what the headers say, where the letter is, its hour,
its value's size and its record reference; never the key or the value, in any encoding."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from dief.cli.dlq._select import record_ref
from dief.kafka import StoredDeadLetter
from dief.seams import DLQ_HEADERS

__all__ = [
    "clean",
    "console",
    "header",
    "header_text",
    "letter_row",
    "plural",
    "print_json",
    "show_one",
    "summary",
    "table",
]


def clean(text: str | None) -> str:
    """Header text safe for a terminal: control characters escaped."""
    if text is None:
        return ""
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)


def _hour(letter: StoredDeadLetter) -> str:
    return letter.hour.strftime("%Y-%m-%dT%H:00Z")


def _source(letter: StoredDeadLetter) -> str:
    partition = "?" if letter.source_partition is None else letter.source_partition
    offset = "?" if letter.source_offset is None else letter.source_offset
    return f"{clean(letter.source_topic) or '?'}[{partition}]@{offset}"


def letter_row(letter: StoredDeadLetter) -> dict[str, Any]:
    """One dead letter as the ``--json`` lines give it: what the headers say, where it is,
    its hour, its value's size and its record reference; never the key or the value."""
    return {
        "ref": record_ref(letter),
        "region": letter.region.value,
        "dlq_topic": letter.topic,
        "partition": letter.partition,
        "offset": letter.offset,
        "hour": _hour(letter),
        "reason": clean(letter.reason),
        "detail": clean(letter.detail),
        "source_topic": clean(letter.source_topic) or None,
        "source_partition": letter.source_partition,
        "source_offset": letter.source_offset,
        "value_size": letter.value_size,
    }


def console() -> Console:
    """Standard output; wide enough when it is not a terminal."""
    out = Console(highlight=False, soft_wrap=False)
    if not out.is_terminal:
        out.width = max(out.width, 160)  # pipes and files: never truncate a reference
    return out


def table(letters: Sequence[StoredDeadLetter]) -> Table:
    """One row per letter."""
    rows = Table(title_justify="left")
    for name in ("region", "dlq", "hour", "reason", "detail", "source", "ref"):
        rows.add_column(name, no_wrap=name not in {"detail", "source"}, overflow="fold")
    for letter in letters:
        rows.add_row(
            letter.region.value,
            f"{letter.partition}:{letter.offset}",
            _hour(letter),
            Text(clean(letter.reason) or "?"),
            Text(clean(letter.detail)),
            Text(_source(letter)),
            record_ref(letter),
        )
    return rows


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def summary(letters: Sequence[StoredDeadLetter]) -> str:
    """How many letters, by reason."""
    if not letters:
        return "no dead letters"
    counts = Counter(clean(letter.reason) or "?" for letter in letters)
    by_reason = ", ".join(f"{reason} {n}" for reason, n in sorted(counts.items()))
    return f"{plural(len(letters), 'dead letter')}: {by_reason}"


def print_json(out: Console, obj: dict[str, Any]) -> None:
    out.print(Text(json.dumps(obj, ensure_ascii=False, sort_keys=False)), soft_wrap=True)


#: The longest header of another origin shown as text (bytes).
_SHORT = 100


def header_text(name: str, raw: bytes) -> str | None:
    """A header's text: DIEF's own in full (control characters escaped); any other only if
    it is short printable text (FastStream's ``content-type``, ``correlation_id``), else
    None (only its size is shown)."""
    text = raw.decode("utf-8", errors="replace")
    if name in DLQ_HEADERS:
        return clean(text)
    return text if len(raw) <= _SHORT and text.isprintable() else None


def header(name: str, raw: bytes) -> str:
    """A header's text, or its size when it is not shown."""
    text = header_text(name, raw)
    return f"<{len(raw)} bytes>" if text is None else text


def show_one(out: Console, letter: StoredDeadLetter, meanings: dict[str, str]) -> None:
    """One letter in full: coordinates, reference, hour, reason and meaning, headers."""
    reason = clean(letter.reason) or "?"
    meaning = meanings.get(letter.reason, "not a reason code this version knows")
    lines = [
        (
            "dead letter",
            (
                f"{letter.coordinates} ({letter.topic} partition {letter.partition} "
                f"offset {letter.offset})"
            ),
        ),
        ("record ref", record_ref(letter)),
        ("hour", _hour(letter)),
        ("reason", f"{reason}: {meaning}"),
        ("detail", clean(letter.detail) or "-"),
        ("source", _source(letter)),
        ("value", f"{letter.value_size} bytes, sealed (never shown)"),
    ]
    for name, value in lines:
        out.print(Text.assemble((f"{name:<12}", "bold"), value), soft_wrap=True)
    out.print(Text("headers", style="bold"))
    for name, raw in letter.headers:
        text = header_text(name, raw)
        shown = f"<{len(raw)} bytes>" if text is None else json.dumps(text, ensure_ascii=False)
        out.print(Text(f"  {clean(name)}: {shown}"), soft_wrap=True)
