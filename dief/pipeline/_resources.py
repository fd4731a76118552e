"""The run's one resource owner: whatever started is stopped, in reverse order, always."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from types import TracebackType

__all__ = ["Resources", "reap"]

log = logging.getLogger("dief.run")

_P = ParamSpec("_P")
_T = TypeVar("_T")


class Resources(contextlib.AsyncExitStack):
    """An :class:`~contextlib.AsyncExitStack` that owns everything a run starts.

    Each resource is registered right after it starts (:meth:`enter_async_context` or
    :meth:`push_async_callback`). On exit every registered stop runs, in reverse order,
    also when another one raised: the exit stack unwinds them all. What this class adds
    is that no failure is lost and the one that matters surfaces. A failing stop is
    recorded, not raised mid-unwind (the exit stack would keep only the last of several,
    Python 3.11 does not chain them), and once everything is stopped:

    - if the run failed, its error propagates, with each failed stop logged and added to
      it as a note; a stop never hides the reason the run failed;
    - if the run succeeded, the first failed stop is raised, the others added as notes.
    """

    def __init__(self) -> None:
        super().__init__()
        self._failed: list[tuple[str, Exception]] = []

    def push_async_callback(
        self, callback: Callable[_P, Awaitable[_T]], /, *args: _P.args, **kwds: _P.kwargs
    ) -> Callable[_P, Awaitable[_T]]:
        what = getattr(callback, "__qualname__", repr(callback))

        async def stop() -> None:
            try:
                await callback(*args, **kwds)
            except Exception as error:  # noqa: BLE001  a stop that fails in any way is recorded and the other stops still run
                self._failed.append((what, error))

        super().push_async_callback(stop)
        return callback

    async def enter_async_context(self, cm: AbstractAsyncContextManager[_T, bool | None]) -> _T:
        return await super().enter_async_context(_Recorded(cm, self._failed))

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        try:
            suppressed = await super().__aexit__(exc_type, exc, tb)
        except Exception as error:  # an exit pushed with push_async_exit
            if error is exc:
                raise
            self._failed.append(("a resource", error))
            suppressed = False
        failed, self._failed = self._failed, []
        if not failed:
            return suppressed
        if exc is not None:
            for what, failure in failed:
                log.warning("could not stop %s after the run failed: %s", what, _reason(failure))
                exc.add_note(f"also, stopping {what} failed: {_reason(failure)}")
            return suppressed
        (_what, first), *others = failed
        for what, failure in others:
            log.warning("could not stop %s: %s", what, _reason(failure))
            first.add_note(f"also, stopping {what} failed: {_reason(failure)}")
        raise first


class _Recorded(Generic[_T]):
    """*cm*, its exit's failure recorded in *failed* instead of raised."""

    def __init__(
        self, cm: AbstractAsyncContextManager[_T, bool | None], failed: list[tuple[str, Exception]]
    ) -> None:
        self._cm = cm
        self._failed = failed

    async def __aenter__(self) -> _T:
        return await self._cm.__aenter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        try:
            return await self._cm.__aexit__(exc_type, exc, tb)
        except Exception as error:
            if error is exc:  # re-raised the run's error: not a failure of its own
                raise
            self._failed.append((type(self._cm).__name__, error))
            return False


def _reason(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


async def reap(task: asyncio.Future[Any]) -> None:
    """Cancel *task* if it still runs and retrieve its outcome: a failure is reported by
    the step that awaits it, and an unretrieved one prints a traceback at exit."""
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
