"""Strict JSON for documents that are signed or verified: a repeated key, ``NaN`` or
``Infinity`` is refused (two parsers reading different values from one document is how a
signed document is made to say two things)."""

from __future__ import annotations

import json

__all__ = ["loads_strict"]


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError("duplicate key")
        out[key] = value
    return out


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def loads_strict(data: bytes | str) -> object:
    """Parse *data* as strict JSON.

    :raises ValueError: not JSON (``json.JSONDecodeError``), a repeated key, a non-JSON
        constant, or bytes that are not UTF-8 (``UnicodeDecodeError``).
    """
    return json.loads(data, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
