"""The linear system a reader can set up: unknowns, equalities, inequalities and bounds.

Every unknown is the true count of one cell of one issue (``Var``: issue, table, cell);
published cells fix theirs. :class:`SystemBuilder` collects rows as sparse dicts and
:meth:`SystemBuilder.freeze` turns them into a :class:`LinearSystem` of ``scipy.sparse``
matrices, ready for the LP and rank attacks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp  # type: ignore[import-untyped]  # scipy ships no type information

from dief.audit._documents import TableKey

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["LinearSystem", "Role", "SystemBuilder", "Var"]

Var = tuple[int, TableKey, str]
"""``(issue, table, cell)``: one cell's true count in one issue."""

Role = str
"""Why an unknown is reported: ``suppressed`` (a cell published as suppressed), ``red``
(a TLP:RED count: a meeting digest's cell less the summary's) or ``grouped`` (one value
a grouped cell ``(other)`` holds: fewer than k contributors, never to be determined at a
count of one or more); ``shadow`` otherwise (a count no document shows, or one that is
published: ``LinearSystem.published``)."""


@dataclass(frozen=True)
class LinearSystem:
    """``A_eq x = b_eq``, ``A_ub x <= b_ub``, ``lower <= x <= upper``; ``x`` integer.

    ``names[j]`` is unknown *j*; ``roles[j]`` says whether it is reported; ``documents[j]``
    the documents that publish it as suppressed.
    """

    names: tuple[Var, ...]
    roles: tuple[Role, ...]
    documents: tuple[tuple[str, ...], ...]
    a_eq: sp.csr_matrix
    b_eq: np.ndarray
    a_ub: sp.csr_matrix
    b_ub: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    notes: tuple[str, ...] = ()
    published: frozenset[int] = frozenset()

    @property
    def size(self) -> int:
        return len(self.names)


@dataclass
class SystemBuilder:
    """Collects unknowns and rows; a row is ``{unknown index: coefficient}`` and a constant."""

    index: dict[Var, int] = field(default_factory=dict)
    names: list[Var] = field(default_factory=list)
    roles: list[Role] = field(default_factory=list)
    documents: list[set[str]] = field(default_factory=list)
    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    eq_rows: list[tuple[dict[int, float], float]] = field(default_factory=list)
    ub_rows: list[tuple[dict[int, float], float]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: unknowns some document publishes (fixed to its count)
    published: set[int] = field(default_factory=set)

    def var(self, name: Var, *, role: Role = "shadow") -> int:
        j = self.index.get(name)
        if j is None:
            j = len(self.names)
            self.index[name] = j
            self.names.append(name)
            self.roles.append(role)
            self.documents.append(set())
            self.lower.append(0.0)
            self.upper.append(np.inf)
        elif role != "shadow" and self.roles[j] == "shadow":
            self.roles[j] = role
        return j

    def fix(self, j: int, value: float) -> None:
        self.lower[j] = max(self.lower[j], value)
        self.upper[j] = min(self.upper[j], value)

    def at_least(self, j: int, value: float) -> None:
        self.lower[j] = max(self.lower[j], value)

    def at_most(self, j: int, value: float) -> None:
        self.upper[j] = min(self.upper[j], value)

    def equal(self, terms: Mapping[int, float], constant: float = 0.0) -> None:
        """``sum(terms) == constant``."""
        row = {j: c for j, c in terms.items() if c != 0}
        if row:
            self.eq_rows.append((row, constant))
        elif abs(constant) > 1e-9:  # noqa: PLR2004  two floats closer than this are equal
            self.notes.append(f"a relation reads 0 = {constant:g}: left out")

    def less_equal(self, terms: Mapping[int, float], constant: float = 0.0) -> None:
        """``sum(terms) <= constant``."""
        row = {j: c for j, c in terms.items() if c != 0}
        if row:
            self.ub_rows.append((row, constant))

    def freeze(self) -> LinearSystem:
        n = len(self.names)
        return LinearSystem(
            names=tuple(self.names),
            roles=tuple(self.roles),
            documents=tuple(tuple(sorted(d)) for d in self.documents),
            a_eq=_matrix(self.eq_rows, n),
            b_eq=np.array([c for _, c in self.eq_rows], dtype=float),
            a_ub=_matrix(self.ub_rows, n),
            b_ub=np.array([c for _, c in self.ub_rows], dtype=float),
            lower=np.array(self.lower, dtype=float),
            upper=np.array(self.upper, dtype=float),
            notes=tuple(self.notes),
            published=frozenset(self.published),
        )


def _matrix(rows: list[tuple[dict[int, float], float]], n: int) -> sp.csr_matrix:
    data: list[float] = []
    cols: list[int] = []
    ptr = [0]
    for terms, _ in rows:
        for j, c in terms.items():
            cols.append(j)
            data.append(c)
        ptr.append(len(cols))
    return sp.csr_matrix(
        (np.array(data, dtype=float), np.array(cols, dtype=np.int64), np.array(ptr)),
        shape=(len(rows), n),
    )
