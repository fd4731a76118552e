"""Structured logs: one JSON object per line (``--log-format json``, ``DIEF_LOG_FORMAT=json``).

Each line has ``time`` (UTC, ISO 8601, milliseconds), ``level``, ``logger``, ``event`` (the
message's template: stable, so lines of one kind group together), ``message`` (as the text
format shows it) and the record's structured fields (``extra=…`` of the logging call, e.g.
FastStream's ``topic`` and ``group_id``); an exception adds ``exc_type`` and ``exc_text``.

Nothing that could attribute a line is added: no host name, process or thread id or name,
no source file path or function. What a line says is only what the code logged, and the
code logs regions, reason codes, counts and partition coordinates, never a State, a node
name, a file name or case text (docs/architecture.md, Non-attribution).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import IO, Any

__all__ = ["JsonFormatter", "json_handler"]

#: What every LogRecord carries; only other attributes (from ``extra=``) become fields.
_STANDARD = frozenset(vars(logging.LogRecord("", logging.INFO, "", 0, "", None, None)))
_STANDARD |= {"message", "asctime", "taskName"}
_RESERVED = frozenset({"time", "level", "logger", "event", "message", "exc_type", "exc_text"})


def _plain(value: object) -> Any:  # noqa: ANN401  aiokafka's and FastStream's objects, and JSON values, are untyped here
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


class JsonFormatter(logging.Formatter):
    """A :class:`logging.Formatter` writing one JSON object per record (see the module)."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": str(record.msg),
            "message": record.getMessage(),
        }
        for name, value in vars(record).items():
            if name in _STANDARD or name.startswith("_"):
                continue
            doc[f"field_{name}" if name in _RESERVED else name] = _plain(value)
        if record.exc_info and record.exc_info[0] is not None:
            doc["exc_type"] = record.exc_info[0].__name__
            doc["exc_text"] = self.formatException(record.exc_info)
        elif record.exc_text:
            doc["exc_text"] = record.exc_text
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def json_handler(stream: IO[str] | None = None) -> logging.Handler:
    """A handler writing :class:`JsonFormatter` lines to *stream* (standard error)."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    return handler
