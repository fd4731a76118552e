"""Writing output files atomically: a temporary file beside the target, then a rename.

(Keyring files have their own writer with fsync and file modes: :mod:`dief.keyring._files`.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dief.exceptions import ConfigurationError

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["write_atomic"]


def write_atomic(path: Path, data: str | bytes) -> None:
    r"""Write *data* (text as UTF-8 with ``\n`` line ends) to *path*, creating its folder.

    A reader sees the old file or the new one, never half of one. Raises
    :class:`ConfigurationError` naming *path* if it cannot be written.
    """
    try:  # noqa: PLW0717  every failure of the write maps to one ConfigurationError
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        if isinstance(data, bytes):
            tmp.write_bytes(data)
        else:
            tmp.write_text(data, encoding="utf-8", newline="\n")
        tmp.replace(path)
    except OSError as exc:
        raise ConfigurationError(f"cannot write {path}: {exc.strerror or exc}") from exc
