"""JSON log lines: one object per line, the fields it has and the ones it never has, and how
``--log-format`` / ``DIEF_LOG_FORMAT`` choose it at the CLI edge."""

from __future__ import annotations

import io
import json
import logging
from datetime import datetime
from typing import TYPE_CHECKING

import pytest
import typer

from dief.cli._console import configure_logging
from dief.observability import JsonFormatter, json_handler
from dief.settings import LogFormat

if TYPE_CHECKING:
    from collections.abc import Iterator

#: Fields that could tell where a line comes from: never in a line.
ATTRIBUTING = {
    "host", "hostname", "process", "processName", "pid", "thread", "threadName", "taskName",
    "pathname", "filename", "module", "funcName", "lineno",
}  # fmt: skip


@pytest.fixture
def stream() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    out = io.StringIO()
    logger = logging.getLogger("dief.test.json")
    handler = json_handler(out)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        yield logger, out
    finally:
        logger.removeHandler(handler)
        logger.propagate = True


def lines(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_a_line_is_one_object_with_time_level_logger_event_message(
    stream: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, out = stream
    logger.warning("dead-lettered %s[%d]@%d: %s", "dief.afr.cases", 0, 17, "malformed")
    [line] = lines(out)
    assert line["level"] == "warning"
    assert line["logger"] == "dief.test.json"
    assert line["event"] == "dead-lettered %s[%d]@%d: %s"
    assert line["message"] == "dead-lettered dief.afr.cases[0]@17: malformed"
    stamp = str(line["time"])
    assert stamp.endswith("Z")
    assert datetime.fromisoformat(stamp).utcoffset().total_seconds() == 0  # type: ignore[union-attr]  # an aware time (None fails the test)
    assert not ATTRIBUTING & set(line)


def test_structured_fields_and_exceptions(stream: tuple[logging.Logger, io.StringIO]) -> None:
    logger, out = stream
    logger.info(
        "batch applied",
        extra={"region": "AFR", "records": 12, "outcomes": {"applied": 11}, "level": "spoof"},
    )
    try:
        raise ValueError("boom")  # noqa: TRY301  a real exception, logged with its traceback
    except ValueError:
        logger.exception("failed")
    first, second = lines(out)
    assert (first["region"], first["records"], first["outcomes"]) == ("AFR", 12, {"applied": 11})
    # a field named like a line's own key does not replace it
    assert (first["level"], first["field_level"]) == ("info", "spoof")
    assert second["level"] == "error"
    assert second["exc_type"] == "ValueError"
    assert "Traceback" in str(second["exc_text"])
    assert "\n" not in out.getvalue().splitlines()[1]  # still one line
    for line in (first, second):
        assert not ATTRIBUTING & set(line)


def test_non_json_values_become_text() -> None:
    record = logging.LogRecord("x", logging.INFO, "/secret/path/France.py", 1, "m", None, None)
    record.when = datetime(2026, 6, 15)  # noqa: DTZ001  any non-JSON value (a naive one too)
    record.ids = ("a", 1)
    doc = json.loads(JsonFormatter().format(record))
    assert doc["when"] == "2026-06-15 00:00:00"
    assert doc["ids"] == ["a", 1]
    assert "France" not in json.dumps(doc)  # the source path is not a field


@pytest.fixture
def root_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)


def _root_formatter() -> logging.Formatter | None:
    [handler] = logging.getLogger().handlers
    return handler.formatter


@pytest.mark.usefixtures("root_logging")
def test_the_option_then_the_environment_choose_the_format(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DIEF_LOG_FORMAT", raising=False)
    configure_logging()
    assert not isinstance(_root_formatter(), JsonFormatter)
    configure_logging(log_format=LogFormat.JSON)
    assert isinstance(_root_formatter(), JsonFormatter)
    monkeypatch.setenv("DIEF_LOG_FORMAT", "JSON")
    configure_logging(verbose=True)
    assert isinstance(_root_formatter(), JsonFormatter)
    assert logging.getLogger().level == logging.INFO
    configure_logging(log_format=LogFormat.TEXT)  # the option wins
    assert not isinstance(_root_formatter(), JsonFormatter)


@pytest.mark.usefixtures("root_logging")
def test_an_unknown_format_in_the_environment_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DIEF_LOG_FORMAT", "yaml")
    with pytest.raises(typer.Exit) as exited:
        configure_logging()
    assert exited.value.exit_code == 1
    assert "DIEF_LOG_FORMAT" in capsys.readouterr().err
