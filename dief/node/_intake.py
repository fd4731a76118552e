"""Files of cases into the node: posting them (a file posted before is not posted twice) and
the watched intake directory (DESIGN §9).

A file whose exact bytes were all accepted before is skipped unless posted *again*: a node
restarted between posting a file and moving it away must not post its cases twice. The
intake directory is polled; a file is posted once it has not changed for a moment, then
moved to ``done/`` with its refusals beside it (``<name>.rejected.jsonl``). File names stay
on the node: they may name the State, and the log is local.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from dief.exceptions import ConfigurationError, StorageError
from dief.node._reports import Rejection, SubmitReport, write_rejections
from dief.wire import load_cases

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence
    from pathlib import Path

    from dief.node._node import NationalNode
    from dief.node._outbox import Outbox

__all__ = ["INTAKE_SUFFIXES", "FileResult", "post_files", "watch_intake"]

log = logging.getLogger("dief.node")

#: The refusal of a file that holds no case at all (an empty file, or only blank lines).
_NO_CASES = Rejection(
    line=1, case_id=None, reason="no_cases", message="the file holds no case to post"
)
#: The files the intake directory posts, by suffix.
INTAKE_SUFFIXES = frozenset({".json", ".jsonl", ".ndjson", ".yaml", ".yml"})


@dataclass(frozen=True, slots=True)
class FileResult:
    """What became of one file: its report, or that all of it was posted before; under
    four eyes, how many of its cases are held awaiting a second officer's approval."""

    path: Path
    report: SubmitReport
    duplicate: bool = False
    awaiting_approval: int = 0


async def post_files(
    node: NationalNode, outbox: Outbox, paths: Sequence[Path], *, again: bool = False
) -> list[FileResult]:
    """Validate, screen, seal and write the cases in *paths* to the outbox.

    A file whose exact bytes were all accepted before is skipped (``FileResult.duplicate``)
    unless *again*. In any other file, each new case this node already accepted is reported
    as already posted and skipped (unless *again*), so re-posting a corrected file never
    sends its good cases twice. A file with no case is refused (``no_cases``).

    :raises ConfigurationError: a file cannot be read.
    """
    today = datetime.now(UTC).date()
    results = []
    for path in paths:
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError as exc:
            raise ConfigurationError(f"cannot read {path}: {exc.strerror}") from exc
        if not again and await outbox.seen(digest):
            results.append(FileResult(path, SubmitReport(), duplicate=True))
            continue
        items = list(load_cases(path, today=today))
        if not items:
            report = SubmitReport(rejected=[_NO_CASES])
        else:
            report = await node.submit(items, source=digest, again=again)
        results.append(FileResult(path, report))
    return results


async def watch_intake(
    intake: Path,
    post: Callable[[Path], Awaitable[FileResult]],
    stop: asyncio.Event,
    *,
    settle_seconds: float = 1.0,
    tick_seconds: float = 1.0,
) -> None:
    """Post each case file that appears in *intake* (once it has not been modified for
    *settle_seconds*: it may be half-written) and move it to ``done/``, until *stop* is
    set. A file that cannot be read is logged once and tried again when it changes; an
    outbox that cannot take a file leaves it for the next tick."""
    done = intake / "done"
    done.mkdir(parents=True, exist_ok=True)
    unreadable: set[tuple[Path, float]] = set()  # logged once, retried when it changes
    while not stop.is_set():
        for path in await asyncio.to_thread(_candidates, intake):
            try:
                if not path.is_file() or (path, path.stat().st_mtime) in unreadable:
                    continue
                if time.time() - path.stat().st_mtime < settle_seconds:
                    continue  # perhaps still being written: next tick
                result = await post(path)
            except StorageError as exc:
                # The outbox cannot take it now (disk full, locked): nothing was
                # written, the file stays, and the next tick tries again.
                log.error("intake: outbox unavailable (%s); will retry", exc.message)  # noqa: TRY400  the reason only, never a traceback (its locals may hold case text)
                break
            except (ConfigurationError, OSError) as exc:
                # A file that vanished or cannot be read never stops the node.
                with contextlib.suppress(OSError):
                    unreadable.add((path, path.stat().st_mtime))
                cause = exc if isinstance(exc, OSError) else exc.__cause__
                why = cause.strerror if isinstance(cause, OSError) else "unreadable"
                log.error("intake: %s: skipped, it cannot be read (%s)", path.name, why)  # noqa: TRY400  the reason only, never a traceback (its locals may hold case text)
                continue
            _file_away(path, done, result)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=tick_seconds)


def _candidates(intake: Path) -> list[Path]:
    """The case files in *intake*, by name (a directory listing: run in a worker thread)."""
    return sorted(p for p in intake.iterdir() if p.suffix in INTAKE_SUFFIXES)


def _file_away(path: Path, done: Path, result: FileResult) -> None:
    """Move a posted file to *done* with its refusals beside it, and log what it held."""
    try:
        shutil.move(path, done / path.name)
    except OSError as exc:
        # Its cases are in the outbox: the next tick finds the file posted (or, if a line
        # was refused, each new case already posted) and moves it.
        log.error("intake: %s: posted, but could not be moved (%s)", path.name, exc.strerror)  # noqa: TRY400  the reason only, never a traceback (its locals may hold case text)
        return
    if result.report.rejected:
        write_rejections(done / f"{path.name}.rejected.jsonl", result.report.rejected)
    # File names stay on this node (they may name the State; the log is local).
    if result.duplicate:
        log.info("intake: %s: all of it was posted before; moved to done/", path.name)
        return
    log.info(
        "intake: %s: %d accepted, %d awaiting approval, %d already posted, %d refused%s",
        path.name,
        len(result.report.accepted),
        result.awaiting_approval,
        len(result.report.already),
        len(result.report.rejected),
        f" (report: done/{path.name}.rejected.jsonl)" if result.report.rejected else "",
    )
