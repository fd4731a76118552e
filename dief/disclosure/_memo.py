"""The joint pattern of a region, computed once per input and reused (issue #15, cost).

:func:`~dief.disclosure.digest_pattern` is deterministic: the same cells, earlier record and
settings give the same pattern. Every digest of a region's issue, its charts' series, the
route tables it sends and the summary rows it requires are built from the same input, and
several of them (:func:`~dief.digests.build_digest` for one digest, the portal, the route
publisher) ask for it separately. :func:`remembered` keeps the last few patterns keyed by
their whole input (compared exactly, never by a hash alone), so the region's pattern is
computed once per issue; a new case changes the input and computes it again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from typing import TYPE_CHECKING, TypeVar

from dief._gc_pause import collector_paused

if TYPE_CHECKING:
    from dief.disclosure._cells import PeriodCells

__all__ = ["clear_patterns", "freeze_cells", "remembered"]

_T = TypeVar("_T")
#: patterns kept (one per region and input: the five regions of an issue, and a few more)
SIZE = 16
_cache: OrderedDict[Hashable, object] = OrderedDict()
_lock = threading.Lock()


def freeze_cells(tallies: Mapping[str, PeriodCells]) -> tuple[object, ...]:
    """*tallies* as a hashable value: every (table, cell, count, contributors, exact)."""
    return tuple(
        (name, tuple(sorted((c, t.count, t.contributors, t.exact) for c, t in cells.items())))
        for name, cells in sorted(tallies.items())
    )


def _freeze(value: object) -> Hashable:
    if isinstance(value, Mapping):
        if all(isinstance(v, Mapping) for v in value.values()):
            return ("cells", freeze_cells(value))
        return ("map", tuple(sorted((repr(k), _freeze(v)) for k, v in value.items())))
    if hasattr(value, "suppressed") and hasattr(value, "counts"):  # a PublishedPattern
        suppressed = getattr(value, "suppressed")  # noqa: B009 (duck-typed record)
        counts = getattr(value, "counts")  # noqa: B009 (duck-typed record)
        return ("record", frozenset(suppressed), frozenset(counts.items()))
    if isinstance(value, tuple):
        return tuple(_freeze(v) for v in value)
    if not isinstance(value, Hashable):
        raise TypeError(f"a pattern's input is not hashable: {type(value).__name__}")
    return value


def remembered(
    settings: tuple[object, ...], tallies: Mapping[str, PeriodCells], compute: Callable[[], _T]
) -> _T:
    """``compute()``, or the result an equal input (*settings* and *tallies*) gave before."""
    with collector_paused():  # the key too: a copy of every cell (dief._gc_pause)
        key = (_freeze(settings), freeze_cells(tallies))
        with _lock:
            if key in _cache:
                _cache.move_to_end(key)
                return _cache[key]  # type: ignore[return-value]  # stored by this function
        value = compute()
    with _lock:
        _cache[key] = value
        while len(_cache) > SIZE:
            _cache.popitem(last=False)
    return value


def clear_patterns() -> None:
    """Forget every remembered pattern (tests that time a computation)."""
    with _lock:
        _cache.clear()
