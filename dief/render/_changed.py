"""Writing an output file only when its content changed (issue #15, incremental cost).

A re-issue writes the region's whole directory again; most documents are the same as in
the last issue. :func:`write_atomic` here leaves a file whose bytes are already what would
be written untouched (no rename, its modification time kept), so a mirror, a web server's
cache or a reader watching the folder sees only what changed.
"""

from __future__ import annotations

from pathlib import Path

from dief._files import write_atomic as _write_atomic

__all__ = ["write_atomic"]


def write_atomic(path: Path, data: str | bytes) -> bool:
    """Write *data* to *path* atomically (:func:`dief._files.write_atomic`) unless *path*
    already holds exactly that; returns whether it wrote."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        if path.stat().st_size == len(raw) and path.read_bytes() == raw:
            return False
    except OSError:
        pass  # no such file (or unreadable): write it
    _write_atomic(path, data)
    return True
