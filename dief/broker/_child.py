"""The broker's child process, outside any event loop: spawning it tied to our lifetime,
waiting for it to exit by a bounded poll, and reading the tail of its log file.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import re
import signal
import subprocess  # noqa: S404  runs the broker binary with a fixed argv, never a shell
import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

__all__ = ["format_tail", "read_tail", "spawn", "wait_exit"]

_TAIL_BYTES = 16 * 1024
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _parent_death_signal() -> Callable[[], None] | None:
    """On Linux, a pre-exec hook that makes the kernel SIGTERM the broker if we die.

    This is what keeps a broker from outliving a Python process killed with SIGKILL. The
    libc lookup happens here, in the parent; the hook only makes one system call.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1

    def hook() -> None:
        prctl(pr_set_pdeathsig, int(signal.SIGTERM), 0, 0, 0)

    return hook


def spawn(argv: list[str], log_path: Path) -> subprocess.Popen[bytes]:
    """fork/exec the broker with its output appended to *log_path* (returns at once; no
    event loop is involved on purpose)."""
    with log_path.open("ab") as log:
        return subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches us, and we stop the broker
            preexec_fn=_parent_death_signal(),  # noqa: PLW1509  one prctl call; the parent-death signal has no other way in
        )


async def wait_exit(proc: subprocess.Popen[bytes], time_limit: float) -> bool:
    """Poll until *proc* has exited (True) or *time_limit* seconds passed (False)."""
    deadline = time.monotonic() + time_limit
    delay = 0.005
    while proc.poll() is None:
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.1)
    return True


def read_tail(log_path: Path, lines: int) -> str:
    """The last *lines* non-blank lines of *log_path*, without terminal colour codes ("" if
    it cannot be read)."""
    try:
        with log_path.open("rb") as log:
            log.seek(0, os.SEEK_END)
            size = log.tell()
            log.seek(max(0, size - _TAIL_BYTES))
            data = log.read()
    except OSError:
        return ""
    text = _ANSI.sub("", data.decode("utf-8", errors="replace"))
    return "\n".join(line for line in text.splitlines()[-lines:] if line.strip())


def format_tail(tail: str) -> str:
    """*tail* as the end of an error message."""
    if not tail:
        return " It wrote no output."
    indented = "\n".join(f"    {line}" for line in tail.splitlines())
    return f" Its last output:\n{indented}"
