"""The :class:`Screener`: lazy, cached tables; one pass per detector; overlap resolution."""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from dief.exceptions import FieldProblem, ScreeningError
from dief.screening._entities import find_entities
from dief.screening._findings import Finding, FindingKind, describe_findings, resolve_overlaps
from dief.screening._normalize import match_view, pattern_view
from dief.screening._patterns import find_patterns
from dief.screening._places import find_codes, find_places
from dief.screening._tables import PlaceTables, build_place_tables, read_extra_terms

if TYPE_CHECKING:
    import os
    from collections.abc import Iterable, Mapping

__all__ = ["Screener", "TextScreener", "default_screener", "raise_for_findings"]


@runtime_checkable
class TextScreener(Protocol):
    """What the node needs: screen one field, or check several and raise on any finding."""

    def screen(self, field: str, text: str) -> list[Finding]: ...

    def check(self, fields: Mapping[str, str | None]) -> None: ...


@lru_cache(maxsize=8)
def _tables(
    extra_places: tuple[str, ...],
    extra_allowed: tuple[str, ...],
    extra_terms: tuple[tuple[str, FindingKind], ...] = (),
) -> PlaceTables:
    return build_place_tables(extra_places, extra_allowed, extra_terms)


class Screener:
    """Refuses free text that could attribute a case to a State (DESIGN §5 ⚑).

    Construction does no work; the name tables are built on the first :meth:`screen` and
    shared (cached per distinct ``extra_places`` / ``extra_allowed``), after which the
    screener holds no mutable state and is safe to share between tasks and threads.

    ``extra_places`` adds phrases a node wants refused as places (its cities, ports,
    ministries); ``extra_allowed`` adds region-level phrases that contain a country word
    but must pass (see ``data/allowed_regions.txt``). A refused phrase always beats an
    allowed one of the same length.

    ``extra_terms`` names a UTF-8 file of per-forum terms (national agency names, local
    places): one term per line, ``#`` starts a comment, and a line ``kind<TAB>term``
    reports the term as that kind (``organization``, ``city``, ``person`` …; default
    ``forum_term``). Terms match like names (case, diacritics, homoglyphs and invisible
    characters do not matter). The file is read with the tables, on first use.
    """

    __slots__ = ("_extra_allowed", "_extra_places", "_extra_terms", "_lock", "_tables")

    def __init__(
        self,
        *,
        extra_places: Iterable[str] = (),
        extra_allowed: Iterable[str] = (),
        extra_terms: str | os.PathLike[str] | None = None,
    ) -> None:
        self._extra_places = tuple(sorted(set(extra_places)))
        self._extra_allowed = tuple(sorted(set(extra_allowed)))
        self._extra_terms = Path(extra_terms) if extra_terms is not None else None
        self._tables: PlaceTables | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        terms = "" if self._extra_terms is None else ", extra_terms=file"
        return (
            f"Screener(extra_places={len(self._extra_places)}, "
            f"extra_allowed={len(self._extra_allowed)}{terms})"
        )

    def warm(self) -> None:
        """Build the tables now (e.g. at node start-up) instead of on the first text."""
        self._get_tables()

    def _get_tables(self) -> PlaceTables:
        tables = self._tables
        if tables is None:
            with self._lock:
                tables = self._tables
                if tables is None:
                    terms: tuple[tuple[str, FindingKind], ...] = ()
                    if self._extra_terms is not None:
                        terms = tuple(sorted(set(read_extra_terms(self._extra_terms))))
                    tables = _tables(self._extra_places, self._extra_allowed, terms)
                    self._tables = tables
        return tables

    def screen(self, field: str, text: str) -> list[Finding]:
        """Every refused span of ``text``, in order; empty when the text may be sealed."""
        if not text:
            return []
        tables = self._get_tables()
        spans = find_places(text, match_view(text), tables)
        view = pattern_view(text, tables.confusables)
        shown = view.text
        found = find_codes(shown, tables)
        found.extend(find_patterns(shown))
        found.extend(find_entities(shown))
        if view.starts is None:
            spans.extend(found)
        else:
            spans.extend((*view.span(a, b), kind) for a, b, kind in found if a < b)
        return resolve_overlaps(field, spans)

    def screen_fields(self, fields: Mapping[str, str | None]) -> list[Finding]:
        """:meth:`screen` over several fields (``None`` values are skipped)."""
        findings: list[Finding] = []
        for name, text in fields.items():
            if text:
                findings.extend(self.screen(name, text))
        return findings

    def check(self, fields: Mapping[str, str | None]) -> None:
        """Raise :class:`~dief.exceptions.ScreeningError` if any field has a finding."""
        raise_for_findings(self.screen_fields(fields))


def raise_for_findings(findings: Iterable[Finding]) -> None:
    """Raise one :class:`ScreeningError` naming every span, or return if there are none.

    The message reads ``summary[34:40]: country or territory name or code; ...``: field,
    character offsets and kind, never the text. ``spans`` holds ``(field, start, end,
    kind)`` and ``errors`` one :class:`FieldProblem` per span.
    """
    found = list(findings)
    if not found:
        return
    message = (
        "free text could attribute the case and was refused "
        f"({len(found)} span{'s' if len(found) != 1 else ''}): {describe_findings(found)}"
    )
    error = ScreeningError(message, spans=tuple(f.as_span() for f in found))
    error.errors = tuple(
        FieldProblem((f.field,), f"screening.{f.kind.value}", f.describe()) for f in found
    )
    raise error


_DEFAULT: Screener | None = None
_DEFAULT_LOCK = threading.Lock()


def default_screener() -> Screener:
    """The process-wide :class:`Screener` with the shipped tables only."""
    global _DEFAULT  # noqa: PLW0603  the process-wide screener, built once on first use (no I/O at import)
    if _DEFAULT is None:
        with _DEFAULT_LOCK:
            if _DEFAULT is None:
                _DEFAULT = Screener()
    return _DEFAULT
