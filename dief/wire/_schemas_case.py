"""The case input's JSON Schema, as strict as :func:`dief.wire.parse_case` (DESIGN §9 ⚑).

The pydantic model's schema is tightened where the validator is stricter than its types:

- ``case_id``: a hyphenated UUID (the validator reads it; ``format: uuid`` alone is not
  checked by most validators);
- ``detected``: a real calendar date or month, not before the Treaty entered into force
  (December 2014); not in the future is said in the description only (below);
- the lists the validator also takes as one bare string (``methods: theft_or_loss``) take
  one here too;
- ``related_regions`` never holds the case's own ``region``;
- a withdrawal names the ``case_id`` it withdraws;
- ``risk_indicators`` are the ids of the catalogue the validator uses.

What a schema cannot say by nature, and the validator's lenient readings of the canonical
forms, are listed in ``tests/unit/test_contract_schemas.py`` (``BY_NATURE``, ``LENIENT``)
and in docs/contracts.md: there the two are allowed to disagree, everywhere else they agree.
"""

from __future__ import annotations

from typing import cast

from pydantic import JsonValue

from dief.catalogue import load_catalogue
from dief.vocab import CaseStatus, Region
from dief.wire._case import EARLIEST_DETECTED, CaseInput

__all__ = ["DETECTED_PATTERN", "UUID_TEXT_PATTERN", "scalar_list_fields", "tighten_case_input"]

JsonObject = dict[str, JsonValue]

#: A hyphenated UUID in either case (what a practitioner's own reference looks like).
UUID_TEXT_PATTERN = r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$"

_LEAP_SUFFIX = "(?:0[48]|[2468][048]|[13579][26])"
#: Leap years from 2016 (the first after the Treaty's entry into force).
_LEAP = (
    f"(?:20(?:16|[2468][048]|[3579][26])|(?:2[1-9]|[3-9][0-9]){_LEAP_SUFFIX}"
    "|(?:2[48]|[3579][26]|[468][048])00)"
)
#: Years from 2015 (December 2014 is written out on its own).
_YEAR = "(?:201[5-9]|20[2-9][0-9]|2[1-9][0-9]{2}|[3-9][0-9]{3})"
_DAY31 = "(?:0[1-9]|[12][0-9]|3[01])"
_MONTH_DAY = (
    f"(?:0[1-9]|1[0-2])|(?:0[13578]|1[02])-{_DAY31}|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    "|02-(?:0[1-9]|1[0-9]|2[0-8])"
)
#: ``YYYY-MM`` or ``YYYY-MM-DD``, a real calendar date, from December 2014.
DETECTED_PATTERN = f"^(?:{_YEAR}-(?:{_MONTH_DAY})|{_LEAP}-02-29|2014-12(?:-{_DAY31})?)$"


def scalar_list_fields() -> tuple[str, ...]:
    """The list fields the validator also takes as one bare string, read from the model."""
    fields: set[str] = set()
    for decorator in CaseInput.__pydantic_decorators__.field_validators.values():
        if decorator.cls_var_name == "_scalar_to_list":
            fields.update(decorator.info.fields)
    return tuple(sorted(fields))


def _one_or_many(array: JsonObject) -> JsonObject:
    """*array*'s schema, or one bare string that is a valid item of it."""
    description = array.pop("description", None)
    scalar: JsonObject = {"allOf": [array["items"], {"type": "string"}]}
    out: JsonObject = {"anyOf": [array, scalar]}
    if description is not None:
        out["description"] = f"{description}; one value may be given as a bare string"
    else:
        out["description"] = "A list; one value may be given as a bare string"
    for key in ("default", "title"):
        if key in array:
            out[key] = array.pop(key)
    return out


def _own_region_not_related() -> list[JsonValue]:
    """For each region: a case of that region does not list it among related regions."""
    rules: list[JsonValue] = []
    for region in Region:
        rules.append(  # noqa: PERF401  one JSON Schema rule per step, built in the order the schema reads
            {
                "if": {"properties": {"region": {"const": region.value}}, "required": ["region"]},
                "then": {
                    "properties": {
                        "related_regions": {
                            "not": {
                                "anyOf": [
                                    {"const": region.value},
                                    {"type": "array", "contains": {"const": region.value}},
                                ]
                            }
                        }
                    }
                },
            }
        )
    return rules


_WITHDRAWAL_NAMES_CASE: JsonObject = {
    "if": {
        "properties": {"status": {"const": CaseStatus.WITHDRAWN.value}},
        "required": ["status"],
    },
    "then": {"properties": {"case_id": {"type": "string"}}, "required": ["case_id"]},
}


def tighten_case_input(schema: JsonObject) -> JsonObject:
    """*schema* (the model's) made as strict as :func:`dief.wire.parse_case`."""
    properties = cast("JsonObject", schema["properties"])
    case_id = cast("JsonObject", properties["case_id"])
    case_id["anyOf"] = [{"type": "string", "pattern": UUID_TEXT_PATTERN}, {"type": "null"}]
    case_id["description"] = (
        "A case this node posted (revision, withdrawal), or the practitioner's own reference "
        "for a new case; required to withdraw"
    )
    detected = cast("JsonObject", properties["detected"])
    detected["pattern"] = DETECTED_PATTERN
    detected["description"] = (
        "YYYY-MM or YYYY-MM-DD, a real calendar date, generalised to the month; from "
        f"{EARLIEST_DETECTED} (the Arms Trade Treaty's entry into force) and not in the "
        "future (the node's date: a schema cannot check this)"
    )
    catalogue = load_catalogue()
    indicators = cast("JsonObject", properties["risk_indicators"])
    indicators["items"] = {"enum": list(catalogue.ids), "type": "string"}
    indicators["description"] = (
        f"Risk-indicator catalogue ids (catalogue version {catalogue.version})"
    )
    for name in scalar_list_fields():
        properties[name] = _one_or_many(cast("JsonObject", properties[name]))
    rules = cast("list[JsonValue]", schema.setdefault("allOf", []))
    rules.append(_WITHDRAWAL_NAMES_CASE)
    rules.extend(_own_region_not_related())
    return schema
