"""Turn pydantic's errors into :class:`dief.exceptions.ValidationError` with our codes.

Reason codes (``FieldProblem.code``, and the error's ``code``: the first problem's):

===================  ========================================================
``missing``          a required field is absent (also ``case_id`` on withdrawal)
``unknown_field``    a field the model does not define
``invalid_value``    a value outside the vocabulary, a number out of range, …
``wrong_type``       e.g. text where a list is expected, a case that is not an object
``unknown_indicator`` a risk-indicator id not in the catalogue
``bad_date``         ``detected`` malformed, impossible, in the future or too early
``too_long``         ``summary`` over 2,000 characters
``too_short``        ``items`` empty
``malformed_json``   (loader) a line or file that is not JSON / YAML
===================  ========================================================

Messages name the field by its path (``actor_roles[0].role``, ``verification.outcome``)
and, for vocabularies, list every allowed value: the vocabulary is read from the model's own
annotation at that path, so two fields of the same name (``verification.outcome``,
``reassessment.outcome``) each list their own, and an unknown field lists the fields of the
object it is in. They echo the refused input only when it is a near-miss of an allowed
value (a typo of a vocabulary word cannot name a State) or a date-shaped string; free text
is never echoed.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import TYPE_CHECKING, Any, get_args

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from dief.exceptions import FieldProblem, ValidationError
from dief.wire._case import CaseInput, suggest

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["CaseValidationError", "format_loc", "problems_from_pydantic", "to_validation_error"]

_IDENT_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")

_EXPECTED: dict[str, str] = {
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "string_type": "text",
    "list_type": "a list",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "dict_type": "an object",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "uuid_type": "a UUID",
    "uuid_parsing": "a UUID",
    "uuid_version": "a UUID",
}


class CaseValidationError(ValidationError):
    """A refused case, with where it came from: ``line`` (1-based) and ``case_id`` if known.

    ``rejected.jsonl`` is written from ``line``, ``case_id``, ``code`` and ``message``.
    """

    def __init__(  # noqa: PLR0913  a public keyword signature, used outside dief/wire
        self,
        message: str,
        *,
        code: str | None = None,
        loc: tuple[str | int, ...] = (),
        errors: tuple[FieldProblem, ...] = (),
        line: int | None = None,
        case_id: str | None = None,
    ) -> None:
        super().__init__(message, code=code, loc=loc, errors=errors)
        self.line = line
        self.case_id = case_id


def format_loc(loc: Sequence[str | int]) -> str:
    """``("items", 0, "category")`` → ``items[0].category``; ``()`` → ``case``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out or "case"


def _found_in(annotation: object, kind: type) -> Any:  # noqa: ANN401  pydantic's error details and annotations are untyped at this point
    """The first class that is a subclass of *kind* in *annotation* (``list[X]``,
    ``X | None``, ``Annotated[X, ...]``), or None."""
    if isinstance(annotation, type) and issubclass(annotation, kind):
        return annotation
    for arg in get_args(annotation):
        found = _found_in(arg, kind)
        if found is not None:
            return found
    return None


def _model_at(root: type[BaseModel], path: Sequence[str | int]) -> type[BaseModel]:
    """The model of the object at *path* (list indexes skipped) below *root*."""
    model = root
    for part in path:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        nested = _found_in(field.annotation, BaseModel) if field is not None else None
        if nested is None:
            return model
        model = nested
    return model


def _enum_at(root: type[BaseModel], loc: Sequence[str | int]) -> type[StrEnum] | None:
    """The vocabulary of the field at *loc* (a list element's: its list's), or None."""
    path = list(loc)
    while path and isinstance(path[-1], int):
        path.pop()
    if not path or not isinstance(name := path[-1], str):
        return None
    field = _model_at(root, path[:-1]).model_fields.get(name)
    enum: type[StrEnum] | None = _found_in(field.annotation, StrEnum) if field else None
    return enum


def _last_name(loc: Sequence[str | int]) -> str | None:
    for part in reversed(loc):
        if isinstance(part, str):
            return part
    return None


def _describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "the value"


def _enum_problem(where: str, enum_cls: type[StrEnum], value: object) -> str:
    allowed = [member.value for member in enum_cls]
    guess = suggest(value, allowed) if isinstance(value, str) else None
    if guess is not None and isinstance(value, str):
        return f"{where}: {value!r} is not one of {', '.join(allowed)} (did you mean {guess!r}?)"
    return f"{where}: {_describe(value)} is not one of {', '.join(allowed)}"


def _unknown_field(root: type[BaseModel], loc: tuple[str | int, ...]) -> str:
    parent = loc[:-1]
    name = loc[-1]
    fields = list(_model_at(root, parent).model_fields)
    where = format_loc(parent) + " has" if parent else "the case has"
    guess = suggest(name, fields) if isinstance(name, str) else None
    # The name is repeated only when it is a near-miss of a real field: an arbitrary key
    # could be free text (even a State's name), which refusals never echo.
    if guess is not None and isinstance(name, str) and _IDENT_RE.match(name):
        hint = f"did you mean {guess!r}?"
        return f"{format_loc(loc)}: unknown field ({hint}); allowed: {', '.join(fields)}"
    return f"{where} an unknown field; allowed: {', '.join(fields)}"


def _one(err: Any, root: type[BaseModel]) -> FieldProblem:  # noqa: ANN401, C901, PLR0911  pydantic's error details and annotations are untyped at this point; one flat table from pydantic's error type to the problem kind
    kind: str = err["type"]
    loc: tuple[str | int, ...] = tuple(err["loc"])
    value = err.get("input")
    ctx = err.get("ctx") or {}
    where = format_loc(loc)
    name = _last_name(loc)

    if kind == "missing":
        return FieldProblem(loc, "missing", f"{where}: required field is missing")
    if kind == "missing_case_id":
        loc = ("case_id",)
        return FieldProblem(loc, "missing", f"case_id: {err['msg']}")
    if kind == "extra_forbidden":
        return FieldProblem(loc, "unknown_field", _unknown_field(root, loc))
    if kind == "enum" and (enum := _enum_at(root, loc)) is not None:
        return FieldProblem(loc, "invalid_value", _enum_problem(where, enum, value))
    if kind in {"unknown_indicator", "bad_date", "invalid_value", "wrong_type"}:
        return FieldProblem(loc, kind, f"{where}: {err['msg']}")
    if kind == "invalid_quantity":
        return FieldProblem(loc, "invalid_value", f"{where}: {err['msg']}")
    if kind == "string_too_long":
        length = len(value) if isinstance(value, str) else "too many"
        limit = ctx.get("max_length")
        return FieldProblem(
            loc, "too_long", f"{where}: {length} characters; at most {limit} allowed"
        )
    if kind == "too_short":
        return FieldProblem(loc, "too_short", f"{where}: at least one entry is required")
    if kind in {"greater_than_equal", "greater_than"}:
        bound = ctx.get("ge", ctx.get("gt"))
        return FieldProblem(loc, "invalid_value", f"{where}: must be at least {bound}")
    if kind == "string_pattern_mismatch" and name == "submitted_by":
        return FieldProblem(
            loc,
            "invalid_value",
            f"{where}: expected a State code in capitals (ISO 3166-1 alpha-3, e.g. 'XYZ')",
        )
    if kind in _EXPECTED:
        if not loc:
            return FieldProblem(loc, "wrong_type", "case: expected a JSON object with the case")
        return FieldProblem(loc, "wrong_type", f"{where}: expected {_EXPECTED[kind]}")
    # Pydantic's own messages describe the constraint, not the input.
    return FieldProblem(loc, "invalid_value", f"{where}: {err['msg']}")


def problems_from_pydantic(
    exc: PydanticValidationError, model: type[BaseModel] = CaseInput
) -> tuple[FieldProblem, ...]:
    """One :class:`FieldProblem` per pydantic error of validating *model*, in pydantic's
    order."""
    errors = exc.errors(include_url=False, include_context=True)
    return tuple(_one(err, model) for err in errors)


def to_validation_error(
    problems: Sequence[FieldProblem],
    *,
    line: int | None = None,
    case_id: str | None = None,
) -> CaseValidationError:
    """Bundle problems into one error; its code is the first problem's."""
    text = "; ".join(p.message for p in problems) or "invalid case"
    if line is not None:
        text = f"line {line}: {text}"
    first = problems[0] if problems else None
    return CaseValidationError(
        text,
        code=first.code if first else "invalid_value",
        loc=first.loc if first and len(problems) == 1 else (),
        errors=tuple(problems),
        line=line,
        case_id=case_id,
    )
