"""The case form, built from the case input model (:class:`dief.wire.CaseInput`) itself.

Each field of the model becomes a form field by its type: a vocabulary a choice list, a
list of a vocabulary a set of check boxes, a nested model a group, a list of models rows, a
text a text box; the risk indicators are the catalogue's checklist. So a field the model
gains appears in the form without a change here. :func:`read_form` turns the posted form
back into the input document, :func:`check_case` validates it as the node does and screens
its free text, each problem placed at its field (and span).
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel

from dief.exceptions import ValidationError
from dief.portal._i18n import N_
from dief.wire import CaseInput, parse_case

if typing.TYPE_CHECKING:
    from datetime import date

    from pydantic.fields import FieldInfo

    from dief.screening import Finding, TextScreener

__all__ = [
    "FIELD_KINDS",
    "KIND_MESSAGES",
    "FormField",
    "Problem",
    "case_fields",
    "check_case",
    "html_name",
    "read_form",
    "rows_to_show",
    "value_at",
]

#: Fields the portal sets itself (identity, revision, withdrawal) or that never apply.
_MANAGED = frozenset({"case_id", "revision", "status", "submitted_by"})
#: Rows of a list of models shown beyond those filled in.
_SPARE_ROWS = 2
_LONG_TEXT = 200

Kind = Literal["choice", "flag", "checks", "text", "textarea", "group", "rows", "indicators"]
FIELD_KINDS: tuple[Kind, ...] = typing.get_args(Kind)

#: What each kind of screening finding means, for the officer (no refused text).
KIND_MESSAGES: dict[str, str] = {
    "place": N_("a country or territory name or code"),
    "demonym": N_("a nationality word"),
    "city": N_("a capital, city, port or free zone"),
    "person": N_("a person's name"),
    "organization": N_("a company or organisation name"),
    "national_reference": N_("a reference to your own State ('our ministry')"),
    "email": N_("an e-mail address"),
    "phone": N_("a phone number"),
    "url": N_("a web address or domain"),
    "reference_number": N_("a licence, contract or permit number"),
    "identifier": N_("a vessel, container or aircraft identifier"),
    "forum_term": N_("a term on the forum's own list"),
}


@dataclass(frozen=True, slots=True)
class FormField:
    """One field of the form: *key* is the model's name (labels), *path* where it sits."""

    key: str
    path: tuple[str | int, ...]
    kind: Kind
    choices: tuple[str, ...] = ()
    required: bool = False
    max_length: int | None = None
    children: tuple[FormField, ...] = ()
    max_rows: int = 0

    @property
    def name(self) -> str:
        return html_name(self.path)

    def at(self, index: int) -> FormField:
        """A row's copy of this (rows) field's children under *index*."""
        return _rebase(self, (*self.path, index))


@dataclass(frozen=True, slots=True)
class Problem:
    """A problem at a field (``name`` as in the form; ``""``: the whole case)."""

    name: str
    code: str
    message: str
    spans: tuple[tuple[int, int, str], ...] = field(default=())

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "code": self.code, "message": self.message,
                "spans": [list(s) for s in self.spans]}  # fmt: skip

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Problem:
        spans = tuple((int(a), int(b), str(k)) for a, b, k in data.get("spans", []))
        return cls(str(data["name"]), str(data["code"]), str(data["message"]), spans)


def html_name(path: Iterable[str | int]) -> str:
    return "-".join(str(p) for p in path)


def _rebase(f: FormField, prefix: tuple[str | int, ...]) -> FormField:
    children = tuple(_rebase(c, (*prefix, c.key)) for c in f.children)
    if f.kind == "rows":
        return FormField(f.key, prefix, "group", children=children)
    return FormField(f.key, prefix, f.kind, f.choices, f.required, f.max_length, children)


def _unwrap(annotation: object) -> tuple[Any, bool]:
    """The annotation without ``Annotated`` and ``None`` (and whether None was allowed)."""
    optional = False
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in {typing.Union, types.UnionType}:
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            optional = optional or len(args) < len(typing.get_args(annotation))
            if len(args) != 1:
                return annotation, optional  # e.g. Quantity: int | QuantityBand
            annotation = args[0]
        else:
            return annotation, optional


def _is_enum(tp: object) -> bool:
    return isinstance(tp, type) and issubclass(tp, StrEnum)


def _is_model(tp: object) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _max_length(info: FieldInfo) -> int | None:
    for meta in info.metadata:
        value = getattr(meta, "max_length", None)
        if isinstance(value, int):
            return value
    return None


def _field(key: str, info: FieldInfo, path: tuple[str | int, ...]) -> FormField:  # noqa: PLR0911  a flat ladder of field kinds
    tp, _ = _unwrap(info.annotation)
    required = info.is_required()
    if key == "risk_indicators":
        return FormField(key, path, "indicators", max_length=_max_length(info))
    if _is_enum(tp):
        return FormField(key, path, "choice", tuple(v.value for v in tp), required)
    if tp is bool:
        return FormField(key, path, "flag", ("true", "false"), required)
    if typing.get_origin(tp) is list:
        (inner,) = typing.get_args(tp)
        inner, _ = _unwrap(inner)
        if _is_enum(inner):
            return FormField(key, path, "checks", tuple(v.value for v in inner), required)
        if _is_model(inner):
            children = _fields_of(inner, path)
            rows = _max_length(info) or 10
            return FormField(key, path, "rows", (), required, children=children, max_rows=rows)
    if _is_model(tp):
        return FormField(key, path, "group", (), required, children=_fields_of(tp, path))
    length = _max_length(info)
    kind: Kind = "textarea" if length is not None and length > _LONG_TEXT else "text"
    return FormField(key, path, kind, (), required, length)


def _fields_of(model: type[BaseModel], prefix: tuple[str | int, ...]) -> tuple[FormField, ...]:
    return tuple(
        _field(key, info, (*prefix, key))
        for key, info in model.model_fields.items()
        if not (prefix == () and key in _MANAGED)
    )


def case_fields() -> tuple[FormField, ...]:
    """The form's fields, in the model's order."""
    return _fields_of(CaseInput, ())


def value_at(data: object, path: Iterable[str | int]) -> Any:  # noqa: ANN401  a JSON value, for the templates
    """The value at *path* of a nested document (None where absent)."""
    for part in path:
        if isinstance(part, int):
            data = data[part] if isinstance(data, list) and part < len(data) else None
        else:
            data = data.get(part) if isinstance(data, Mapping) else None
        if data is None:
            return None
    return data


def rows_to_show(f: FormField, value: object) -> int:
    filled = len(value) if isinstance(value, list) else 0
    return max(1, min(f.max_rows, filled + _SPARE_ROWS))


class _Form(typing.Protocol):
    def get(self, key: str, /) -> Any: ...  # noqa: ANN401  Starlette's form values (str or UploadFile) are untyped

    def getlist(self, key: str) -> list[Any]: ...


def _read(f: FormField, form: _Form) -> Any:  # noqa: ANN401  a JSON value of the case body
    if f.kind in {"checks", "indicators"}:
        values = [str(v).strip() for v in form.getlist(f.name)]
        return [v for v in values if v] or None
    if f.kind == "group":
        got = {c.key: v for c in f.children if (v := _read(c, form)) is not None}
        return got or None
    if f.kind == "rows":
        rows = []
        for i in range(f.max_rows):
            row = _read(f.at(i), form)
            if row is not None:
                rows.append(row)
        return rows or None
    raw = form.get(f.name)
    text = str(raw).strip() if raw is not None else ""
    if f.kind == "flag":
        return {"true": True, "false": False}.get(text, text or None)
    if f.kind == "textarea":
        text = str(raw or "").replace("\r\n", "\n").strip()
    return text or None


def read_form(form: _Form) -> dict[str, Any]:
    """The case input document of a posted form (empty fields left out)."""
    return {f.key: v for f in case_fields() if (v := _read(f, form)) is not None}


def _free_text(data: Mapping[str, Any]) -> dict[str, str]:
    return {
        f.name: data[f.key]
        for f in case_fields()
        if f.kind in {"text", "textarea"}
        and f.key != "detected"
        and isinstance(data.get(f.key), str)
    }


def check_case(
    data: Mapping[str, Any], screener: TextScreener, *, today: date
) -> tuple[CaseInput | None, list[Problem]]:
    """Validate *data* as the node does and screen its free text; the case (None when it
    is refused) and every problem at its field. Screening messages give the span's offsets
    and kind, never the text."""
    problems: list[Problem] = []
    case: CaseInput | None = None
    try:
        case = parse_case(dict(data), today=today)
    except ValidationError as exc:
        problems.extend(Problem(html_name(p.loc), p.code, p.message) for p in exc.errors or ())
        if not exc.errors:
            problems.append(Problem(html_name(exc.loc), exc.code, exc.message))
    for name, text in _free_text(data).items():
        findings: list[Finding] = screener.screen(name, text)
        if findings:
            spans = tuple((f.start, f.end, f.kind.value) for f in findings)
            problems.append(Problem(name, "screening", N_("could name a State"), spans))
    return (case if not problems else None), problems
