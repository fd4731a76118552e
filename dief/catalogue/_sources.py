"""The catalogue's bibliography: structured public sources and the citation built from them.

Every source names its ``title``, its issuing ``body`` and its ``year`` (``None`` only for a
document maintained online without one edition year, or a series of reports: the year is
never guessed), with the document ``symbol`` where it has one and is known for certain.
An indicator cites a source at document level; a ``pinpoint`` (an article, a chapter) only
where it was checked against the document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["CitationStyle", "Source", "SourceRef"]

_UN_SYMBOL = re.compile(r"^(A|S|E)/")


class CitationStyle(StrEnum):
    """How the citation string is built from a source's fields."""

    WORK = "work"
    """A report or guideline: ``Body, 'Title', Series (year, note), symbol``."""
    INSTRUMENT = "instrument"
    """A treaty, resolution or regulation, cited by its own name: ``Title (note or year)``."""
    DESCRIPTIVE = "descriptive"
    """A document or series without one exact title: ``Body, description (note or year)``."""


@dataclass(frozen=True, slots=True)
class Source:
    """One bibliography entry (DESIGN §6): the citation is built from these fields."""

    key: str
    title: str
    body: str
    year: int | None
    symbol: str | None = None
    url: str | None = None
    authors: str | None = None
    series: str | None = None
    note: str | None = None
    style: CitationStyle = CitationStyle.WORK

    @property
    def citation(self) -> str:
        """The citation string, e.g. ``OSCE, 'Handbook of Best Practices on ...' (2003)``."""
        if self.style is CitationStyle.INSTRUMENT:
            text = self.title + self._paren(instrument=True)
        else:
            title = self.title if self.style is CitationStyle.DESCRIPTIVE else f"'{self.title}'"
            lead = self.authors or self.body
            series = f", {self.series}" if self.series else ""
            text = f"{lead}, {title}{series}{self._paren(instrument=False)}"
        if self.symbol:
            prefix = "UN doc. " if _UN_SYMBOL.match(self.symbol) else ""
            text += f", {prefix}{self.symbol}"
        return text

    def _paren(self, *, instrument: bool) -> str:
        year = str(self.year) if self.year is not None else None
        if instrument or self.style is CitationStyle.DESCRIPTIVE:
            parts = [self.note or year]
        else:
            parts = [year, self.note]
        if self.authors:
            parts.insert(0, self.body)
        shown = [part for part in parts if part]
        return f" ({', '.join(shown)})" if shown else ""


@dataclass(frozen=True, slots=True)
class SourceRef:
    """An indicator's reference to a source, with an optional checked pinpoint."""

    source: Source
    pinpoint: str | None = None

    @property
    def key(self) -> str:
        return self.source.key

    @property
    def citation(self) -> str:
        return self.source.citation

    @property
    def url(self) -> str | None:
        return self.source.url

    def __str__(self) -> str:
        return f"{self.citation}, {self.pinpoint}" if self.pinpoint else self.citation
