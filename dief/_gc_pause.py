"""Python's cycle collector paused while a pattern or a summary is computed (issue #15,
cost).

A region's joint pattern allocates millions of small tuples, dicts and sets, and keeps many
of them to the end: every few thousand allocations the collector runs, and a full
collection walks every live object, the region's whole history. At 3,000 cases over 10
years that was about a third of a region's re-issue (0.44 s of 1.45 s, four full
collections) and of its first issue. The computation makes no reference cycles that must
go before it ends (what it drops, reference counting frees at once), so the collector is
paused for its length, and runs as usual after: a region's pattern (the memo's
``remembered``), the Secretariat's protection of a summary, and the loops that turn a
region's stored cells into objects (``CaseStore.cell_rows``, ``merge_rows``, the record's
read and write).

Never across an ``await``: the collector is the process's, and other tasks (a portal's
requests) would run without it for as long as the database took, or for good if it never
answered. Only synchronous work is paused.

:func:`collector_paused` nests, and is safe from several threads: the collector resumes
when the last computation leaves, and only if it ran when the first came in.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Generator

__all__ = ["collector_paused"]


class _Pause:
    """How many computations are in (under its lock), and whether the collector ran
    before the first."""

    lock = threading.Lock()
    depth = 0
    resume = False


@contextlib.contextmanager
def collector_paused() -> Generator[None]:
    """The cycle collector off for the ``with`` block (see the module docstring)."""
    with _Pause.lock:
        if _Pause.depth == 0:
            _Pause.resume = gc.isenabled()
            gc.disable()
        _Pause.depth += 1
    try:
        yield
    finally:
        with _Pause.lock:
            _Pause.depth -= 1
            if _Pause.depth == 0 and _Pause.resume:
                gc.enable()
