"""What a reader of one region holds, read from output folders (DESIGN §7, §9 ⚑).

The reader is a member of one regional meeting: it holds every digest of its region (each
with the route tables other regions sent it, in the digest's ``routes`` field) and every
public CSP summary. Nothing here knows how the documents were protected: they are read as
published JSON, and every figure becomes a cell of a :class:`PublishedTable`.

Tables are named by :data:`TableKey` ``(kind, scope, period)``:

- ``("digest", "AFR", "2026-Q1")``: a meeting digest's period table (TLP:RED counted);
- ``("window", "AFR", "W2026-Q3")``: a digest checklist's four quarters (risk indicators);
- ``("summary", "AFR", "CSP12")`` and ``("summary", "global", "CSP12")``: summary tables
  (TLP:RED excluded);
- ``("route", "APG>AFR", "CSP12")``: a route table the reader's region received.

Cells are named ``"<dimension>/<value>"``, and ``"_total"`` for the table's case count. A
grouped cell (``"grouped": true``, value ``(other)``) is ``"<dimension>/(other)"``: the
cases under every value of the dimension the table does not list.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dief.audit._vocab import OTHER
from dief.exceptions import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence
    from pathlib import Path

__all__ = [
    "TOTAL",
    "Issue",
    "PublishedTable",
    "ReaderView",
    "TableKey",
    "load_reader",
    "read_issue",
]

TOTAL = "_total"

TableKey = tuple[str, str, str]
"""``(kind, scope, period)``: see the module docstring."""

#: shares and prevalences are rounded to four decimals (docs/digests.md)
_RATIO_HALF_STEP = 0.5e-4


@dataclass(frozen=True)
class PublishedTable:
    """One table as published in one issue.

    ``cells`` maps a cell name to its count, ``None`` where published as suppressed.
    ``dimensions`` are the dimensions the table lists (a value of one of them that is not
    listed counts zero; a dimension not listed says nothing). ``total_shown`` says whether
    the table publishes its case count at all (a checklist window does not).
    ``total_bounds`` are the bounds on the case count that shares or prevalences give,
    ``previous`` the counts the table gives for the previous period's cells.
    ``data_version`` is what the document states about the table's data (``data_version``,
    proposed in docs/audit.md): two issues stating the same version count the same cases.
    ``grouped`` are the dimensions with a grouped cell ``(other)``: their values not listed
    are not zero but unknowns (at least 0) that sum to it.
    """

    key: TableKey
    documents: tuple[str, ...]
    cells: Mapping[str, int | None]
    dimensions: frozenset[str]
    total_shown: bool = True
    total_bounds: tuple[float, float] | None = None
    previous: Mapping[str, int] = field(default_factory=dict)
    k: int | None = None
    data_version: str | None = None
    grouped: frozenset[str] = frozenset()
    protected: frozenset[str] = frozenset()

    def state(self, cell: str) -> str:
        """``published``, ``suppressed``, ``unlisted`` (a value a grouped cell holds),
        ``zero`` (a listed dimension without the value) or ``unknown`` (nothing said)."""
        if cell in self.cells:
            return "suppressed" if self.cells[cell] is None else "published"
        if cell == TOTAL:
            return "unknown"
        dim, _, value = cell.partition("/")
        if dim in self.grouped and value != OTHER:
            return "unlisted"
        if dim in self.dimensions:
            return "zero"
        return "unknown"

    def listed(self, dimension: str) -> list[str]:
        """The values the table lists for *dimension* (its grouped cell left out)."""
        prefix = f"{dimension}/"
        return [c[len(prefix) :] for c in self.cells if c.startswith(prefix) and not grouped(c)]


def grouped(cell: str) -> bool:
    """Whether *cell* is a grouped cell ``<dimension>/(other)``."""
    return cell.endswith(f"/{OTHER}")


@dataclass(frozen=True)
class Issue:
    """Every table of one output folder (one issue of each document)."""

    label: str
    tables: Mapping[TableKey, PublishedTable]


@dataclass(frozen=True)
class ReaderView:
    """What one region's reader holds: one or more issues, oldest first."""

    region: str
    issues: tuple[Issue, ...]
    start_month: int = 9

    @property
    def documents(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for issue in self.issues:
            for table in issue.tables.values():
                for doc in table.documents:
                    seen.setdefault(doc, None)
        return tuple(seen)


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot read {path.name}: {type(exc).__name__}") from exc
    if not isinstance(data, dict):
        raise ConfigurationError(f"{path.name} is not a JSON object")
    return data


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _bounds_from(pairs: Sequence[tuple[int, float]]) -> tuple[float, float] | None:
    """The case count a published (count, ratio = round(count / n, 4)) pins, as bounds."""
    lo, hi = 0.0, float("inf")
    for count, ratio in pairs:
        if count <= 0 or ratio <= 0:
            continue
        if ratio >= 1.0:
            lo = max(lo, float(count))
            hi = min(hi, count / (1.0 - _RATIO_HALF_STEP))
            continue
        lo = max(lo, count / (ratio + _RATIO_HALF_STEP))
        hi = min(hi, count / (ratio - _RATIO_HALF_STEP))
    return None if hi == float("inf") and lo == 0.0 else (lo, hi)  # noqa: RUF069  exact: the default lower bound, never computed


@dataclass
class _TableDraft:
    key: TableKey
    documents: list[str] = field(default_factory=list)
    cells: dict[str, int | None] = field(default_factory=dict)
    dimensions: set[str] = field(default_factory=set)
    total_shown: bool = True
    ratios: list[tuple[int, float]] = field(default_factory=list)
    previous: dict[str, int] = field(default_factory=dict)
    k: int | None = None
    data_version: str | None = None
    grouped: set[str] = field(default_factory=set)
    protected: set[str] = field(default_factory=set)

    def put(self, cell: str, count: int | None, reason: object = None) -> None:
        if self.cells.get(cell) is None:  # published anywhere -> published
            self.cells[cell] = count
        if count is None and reason == "protection":
            self.protected.add(cell)

    def freeze(self) -> PublishedTable:
        return PublishedTable(
            key=self.key,
            documents=tuple(self.documents),
            cells=dict(self.cells),
            dimensions=frozenset(self.dimensions),
            total_shown=self.total_shown,
            total_bounds=_bounds_from(self.ratios),
            previous=dict(self.previous),
            k=self.k,
            data_version=self.data_version,
            grouped=frozenset(self.grouped),
            protected=frozenset(c for c in self.protected if self.cells.get(c) is None),
        )


class _Drafts:
    def __init__(self) -> None:
        self.tables: dict[TableKey, _TableDraft] = {}

    def table(self, key: TableKey, document: str) -> _TableDraft:
        draft = self.tables.setdefault(key, _TableDraft(key))
        if document not in draft.documents:
            draft.documents.append(document)
        return draft


def _version(value: object) -> str | None:
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return str(value)
    return None


def _read_cells(draft: _TableDraft, doc: Mapping[str, Any], *, previous: bool) -> None:
    totals = doc.get("totals") or {}
    if "cases" in totals:
        cases = _count(totals.get("cases"))
        draft.put(TOTAL, cases, totals.get("reason"))
        if previous and _count(totals.get("previous")) is not None:
            draft.previous[TOTAL] = int(totals["previous"])
    dims = doc.get("dimensions") or {}
    for dim, cells in dims.items():
        draft.dimensions.add(str(dim))
        for cell in cells or []:
            is_group = cell.get("grouped") is True or cell.get("value") == OTHER
            if is_group:
                draft.grouped.add(str(dim))
            name = f"{dim}/{OTHER if is_group else cell['value']}"
            count = _count(cell.get("count"))
            draft.put(name, count, cell.get("reason"))
            if is_group:
                # its share may exceed 1 (several values per case) and its previous count
                # covers the values the previous table did not list: neither is used
                continue
            share = cell.get("share")
            if count is not None and isinstance(share, (int, float)):
                draft.ratios.append((count, float(share)))
            if previous and _count(cell.get("previous")) is not None:
                draft.previous[name] = int(cell["previous"])


def _read_digest(drafts: _Drafts, region: str, doc: Mapping[str, Any], name: str) -> None:
    period = str(doc["period"])
    draft = drafts.table(("digest", region, period), name)
    draft.k = _count(doc.get("k"))
    _read_cells(draft, doc, previous=True)
    notes = doc.get("notes") or {}
    draft.data_version = _version(notes.get("data_version"))
    window = notes.get("checklist_window") or []
    checklist = doc.get("checklist") or []
    if window:
        w = drafts.table(("window", region, f"W{window[-1]}:{','.join(window)}"), name)
        w.total_shown = False
        w.dimensions.add("risk_indicator")
        w.k = draft.k
        for entry in checklist:
            count = _count(entry.get("count"))
            w.put(f"risk_indicator/{entry['id']}", count, entry.get("reason"))
            prevalence = entry.get("prevalence")
            if count is not None and isinstance(prevalence, (int, float)):
                w.ratios.append((count, float(prevalence)))
    for route in doc.get("routes") or []:
        if route.get("withheld"):
            continue
        key = ("route", f"{route['from_region']}>{route['to_region']}", str(route["period"]))
        r = drafts.table(key, name)
        r.k = _count(route.get("k"))
        r.data_version = _version(route.get("data_version"))
        _read_cells(r, route, previous=False)


def _read_summary(drafts: _Drafts, doc: Mapping[str, Any], name: str) -> None:
    cycle = str(doc["cycle"])
    k = _count(doc.get("k"))
    regions = doc.get("regions") or {}
    for scope, table in [*regions.items(), ("global", doc.get("global") or {})]:
        draft = drafts.table(("summary", str(scope), cycle), name)
        draft.k = k
        draft.data_version = _version(table.get("data_version"))
        _read_cells(draft, table, previous=False)
    glob = drafts.table(("summary", "global", cycle), name)
    for entry in doc.get("checklist") or []:
        count = _count(entry.get("count"))
        glob.put(f"risk_indicator/{entry['id']}", count, entry.get("reason"))
        prevalence = entry.get("prevalence")
        if count is not None and isinstance(prevalence, (int, float)):
            glob.ratios.append((count, float(prevalence)))


def _json_files(folder: Path) -> Iterator[Path]:
    if folder.is_dir():
        yield from sorted(p for p in folder.iterdir() if p.suffix == ".json")


def start_month_of(folder: Path) -> int:
    """The month CSP cycles start in, from a summary's ``from`` (default September)."""
    for path in _json_files(folder / "summary"):
        first = _load(path).get("from")
        if isinstance(first, str) and len(first) == 7:  # noqa: PLR2004  7 = len("YYYY-MM"): a month's period
            return int(first[5:])
    return 9


def read_issue(folder: Path, region: str, *, label: str | None = None) -> Issue:
    """Every table a reader of *region* holds in one output folder."""
    if not (folder / "digests").is_dir() and not (folder / "summary").is_dir():
        raise ConfigurationError(f"{folder} holds no digests/ or summary/ folder")
    drafts = _Drafts()
    prefix = f"{label}:" if label else ""
    for path in _json_files(folder / "digests" / region):
        doc = _load(path)
        _read_digest(drafts, region, doc, f"{prefix}digests/{region}/{path.name}")
    for path in _json_files(folder / "summary"):
        _read_summary(drafts, _load(path), f"{prefix}summary/{path.name}")
    tables = {key: d.freeze() for key, d in drafts.tables.items()}
    return Issue(label or str(folder), tables)


def load_reader(folders: Sequence[Path], region: str) -> ReaderView:
    """The reader of *region*, holding the issues in *folders* (oldest first)."""
    if not folders:
        raise ConfigurationError("no output folder given")
    labels = [f"issue{i + 1}" if len(folders) > 1 else "" for i in range(len(folders))]
    issues = tuple(
        read_issue(f, region, label=lab or None) for f, lab in zip(folders, labels, strict=True)
    )
    return ReaderView(region, issues, start_month_of(folders[-1]))
