"""Parse one case (:func:`parse_case`) or a whole file of them (:func:`load_cases`).

Formats: JSON (one object or a list), YAML (one mapping, a list, or several ``---``
documents), JSON Lines (one case per line; blank lines skipped). Chosen by suffix
(``.jsonl``/``.ndjson``, ``.yaml``/``.yml``, ``.json``), else sniffed from the content.

Each case comes with its 1-based line number: for JSON Lines the line it is on, for JSON
and YAML the line where the case's object starts. A bad case never stops the rest; only a
JSON or YAML file that does not parse as a whole yields a single error.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from uuid import UUID

import yaml
from pydantic import ValidationError as PydanticValidationError

from dief.exceptions import ConfigurationError, FieldProblem
from dief.wire._case import CaseInput
from dief.wire._errors import CaseValidationError, problems_from_pydantic, to_validation_error

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["CaseFormat", "detect_format", "load_cases", "parse_case"]

CaseFormat = Literal["json", "jsonl", "yaml"]

_SUFFIXES: dict[str, CaseFormat] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".yaml": "yaml",
    ".yml": "yaml",
}
_WS = " \t\r\n"


def _case_id_of(data: object) -> str | None:
    if isinstance(data, dict):
        raw = data.get("case_id")
        if isinstance(raw, str):
            try:
                return str(UUID(raw))
            except ValueError:
                return None
    return None


def parse_case(data: object, *, line: int | None = None, today: date | None = None) -> CaseInput:
    """Validate one decoded case (a dict from JSON or YAML).

    Raises :class:`CaseValidationError` (a :class:`dief.exceptions.ValidationError`) with
    one :class:`~dief.exceptions.FieldProblem` per problem. The pydantic error is not
    chained, because its text would repeat the refused input. ``today`` is the date
    against which future detection dates are refused (default: the system date).
    """
    try:
        return CaseInput.model_validate(data, context={"today": today or date.today()})  # noqa: DTZ011  the node's local calendar date, by design (the node's date refuses future detection dates)
    except PydanticValidationError as exc:
        problems = problems_from_pydantic(exc)
    raise to_validation_error(problems, line=line, case_id=_case_id_of(data))


def _malformed(line: int, code: str, what: str) -> CaseValidationError:
    problem = FieldProblem((), code, what)
    return to_validation_error([problem], line=line)


def detect_format(path: Path, head: bytes) -> CaseFormat:
    """The format of *path*: from its suffix, else from its first bytes."""
    by_suffix = _SUFFIXES.get(path.suffix.lower())
    if by_suffix is not None:
        return by_suffix
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"["):
        return "json"
    if text.startswith(b"{"):
        first_line = text.split(b"\n", 1)[0].strip()
        try:
            json.loads(first_line)
        except ValueError:
            return "json"  # an object spread over several lines
        return "jsonl"
    return "yaml"


def load_cases(
    path: str | Path,
    *,
    today: date | None = None,
    fmt: CaseFormat | None = None,
) -> Iterator[tuple[int, CaseInput | CaseValidationError]]:
    """Yield ``(line, case or error)`` for every case in *path*, in file order.

    ``ConfigurationError`` (raised at once) when the file cannot be read at all.
    """
    file = Path(path)
    try:
        with file.open("rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise ConfigurationError(f"cannot read case file {file}: {exc.strerror}") from exc
    kind = fmt or detect_format(file, head)
    today = today or date.today()  # noqa: DTZ011  the node's local calendar date, by design (the node's date refuses future detection dates)
    if kind == "jsonl":
        return _load_jsonl(file, today)
    if kind == "json":
        return _load_json(file, today)
    return _load_yaml(file, today)


def _validated(
    items: Iterator[tuple[int, object]], today: date
) -> Iterator[tuple[int, CaseInput | CaseValidationError]]:
    for line, data in items:
        try:
            yield line, parse_case(data, line=line, today=today)
        except CaseValidationError as err:
            yield line, err


def _load_jsonl(file: Path, today: date) -> Iterator[tuple[int, CaseInput | CaseValidationError]]:
    with file.open("rb") as fh:
        for line, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                data = json.loads(raw.decode("utf-8-sig"))
            except UnicodeDecodeError:
                yield line, _malformed(line, "malformed_json", "the line is not UTF-8")
                continue
            except json.JSONDecodeError as exc:
                yield (
                    line,
                    _malformed(
                        line, "malformed_json", f"not valid JSON ({exc.msg} at column {exc.colno})"
                    ),
                )
                continue
            try:
                yield line, parse_case(data, line=line, today=today)
            except CaseValidationError as err:
                yield line, err


def _read_text(file: Path) -> str | CaseValidationError:
    try:
        return file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        return _malformed(1, "malformed_json", "the file is not UTF-8")
    except OSError as exc:
        raise ConfigurationError(f"cannot read case file {file}: {exc.strerror}") from exc


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _WS:
        pos += 1
    return pos


def _json_elements(text: str) -> Iterator[tuple[int, object]]:
    """Top-level cases of a syntactically valid JSON document, with their start lines."""
    decoder = json.JSONDecoder()
    pos = _skip_ws(text, 0)
    if not text.startswith("[", pos):
        yield text.count("\n", 0, pos) + 1, decoder.raw_decode(text, pos)[0]
        return
    pos = _skip_ws(text, pos + 1)
    if text.startswith("]", pos):
        return
    while True:
        data, end = decoder.raw_decode(text, pos)
        yield text.count("\n", 0, pos) + 1, data
        pos = _skip_ws(text, end)
        if text.startswith(",", pos):
            pos = _skip_ws(text, pos + 1)
            continue
        return


def _load_json(file: Path, today: date) -> Iterator[tuple[int, CaseInput | CaseValidationError]]:
    text = _read_text(file)
    if isinstance(text, CaseValidationError):
        yield 1, text
        return
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        yield (
            exc.lineno,
            _malformed(
                exc.lineno, "malformed_json", f"not valid JSON ({exc.msg} at column {exc.colno})"
            ),
        )
        return
    yield from _validated(_json_elements(text), today)


def _yaml_elements(text: str) -> Iterator[tuple[int, object]]:
    loader = yaml.SafeLoader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            children = node.value if isinstance(node, yaml.SequenceNode) else [node]
            for child in children:
                yield child.start_mark.line + 1, loader.construct_document(child)
    finally:
        loader.dispose()


def _load_yaml(file: Path, today: date) -> Iterator[tuple[int, CaseInput | CaseValidationError]]:
    text = _read_text(file)
    if isinstance(text, CaseValidationError):
        yield 1, text
        return
    try:
        elements = list(_yaml_elements(text))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or "syntax error"
        # Only the parser's description of the problem: its context would quote the file.
        yield line, _malformed(line, "malformed_yaml", f"not valid YAML ({problem})")
        return
    yield from _validated(iter(elements), today)
