"""One Alembic migration at a time per event loop, for every store that migrates.

Alembic keeps its migration context in module globals, so two stores migrating at once
(``asyncio.gather(a.start(), b.start())``, or a demo running the aggregator's store and the
portal's tables in one process) corrupt each other. Each store passes
:func:`migration_lock` to :func:`~dief.database.open_engine`.
"""

from __future__ import annotations

import asyncio
import weakref

__all__ = ["migration_lock"]

_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


def migration_lock() -> asyncio.Lock:
    """The running event loop's migration lock (made at its first use)."""
    loop = asyncio.get_running_loop()
    lock = _LOCKS.get(loop)
    if lock is None:
        lock = _LOCKS[loop] = asyncio.Lock()
    return lock
