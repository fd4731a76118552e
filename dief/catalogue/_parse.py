"""Parse and check one catalogue version (a JSON document) into a :class:`Catalogue`.

Everything is checked: unknown keys (a typo must not silently drop a field), ids, stages,
transfer types, sources against the bibliography, and the ``changes`` note. A broken file
raises :class:`~dief.exceptions.ConfigurationError` saying what and where.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from dief.catalogue._model import (
    APPLICABLE_TRANSFER_TYPES,
    Catalogue,
    CatalogueChanges,
    Indicator,
    IndicatorGroup,
    is_well_formed_id,
    version_key,
)
from dief.catalogue._sources import CitationStyle, Source, SourceRef
from dief.exceptions import ConfigurationError
from dief.vocab import TransferStage, TransferType

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["parse_catalogue"]

_TOP_KEYS = {"version", "title", "convention", "changes", "groups", "sources", "indicators"}
_SOURCE_KEYS = {"title", "body", "year", "symbol", "url", "authors", "series", "note", "style"}
_ENTRY_KEYS = {"id", "title", "question", "stages", "transfer_types", "sources"}
_REF_KEYS = {"ref", "pinpoint"}
_CHANGE_KEYS = {"previous", "added", "retitled", "reworded", "note"}
_YEARS = range(1900, 2101)


def parse_catalogue(data: bytes | str) -> Catalogue:
    """Build a :class:`Catalogue` from JSON; ``ConfigurationError`` says what is wrong."""
    try:
        raw = json.loads(data)
    except ValueError as exc:
        raise ConfigurationError(f"risk-indicator catalogue is not valid JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigurationError("risk-indicator catalogue must be a JSON object")
    try:
        return _build(raw)
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigurationError(f"risk-indicator catalogue is malformed: {exc}") from exc


def _object(value: object, what: str) -> dict[str, object]:
    if not isinstance(value, dict):
        raise TypeError(f"{what} must be an object")
    return value


def _only(obj: Mapping[str, object], allowed: set[str], what: str) -> None:
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise ValueError(f"{what}: unknown key(s) {unknown}; allowed: {sorted(allowed)}")


def _str(obj: Mapping[str, object], key: str, what: str = "") -> str:
    if key not in obj:
        raise KeyError(f"{what + ': ' if what else ''}{key!r} is missing")
    value = obj[key]
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what + ': ' if what else ''}{key!r} must be a non-empty string")
    return value


def _opt_str(obj: Mapping[str, object], key: str, what: str) -> str | None:
    return _str(obj, key, what) if obj.get(key) is not None else None


def _str_list(value: object, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError(f"{what} must be a list of strings")
    if len(set(value)) != len(value):
        raise ValueError(f"{what} names a value twice")
    return value


def _build(raw: dict[str, object]) -> Catalogue:
    _only(raw, _TOP_KEYS, "catalogue")
    version = _str(raw, "version")
    version_key(version)
    groups_raw = _object(raw["groups"], "'groups'")
    groups = {IndicatorGroup(key): str(title) for key, title in groups_raw.items()}
    missing = set(IndicatorGroup) - set(groups)
    if missing:
        raise ValueError(f"groups without a title: {sorted(missing)}")
    sources = {
        key: _source(key, _object(value, f"source {key!r}"))
        for key, value in _object(raw["sources"], "'sources'").items()
    }
    entries_raw = raw["indicators"]
    if not isinstance(entries_raw, list):
        raise TypeError("'indicators' must be a list")
    indicators: list[Indicator] = []
    seen: set[str] = set()
    for entry in entries_raw:
        indicator = _indicator(_object(entry, "every indicator"), sources)
        if indicator.id in seen:
            raise ValueError(f"indicator id {indicator.id!r} appears twice")
        seen.add(indicator.id)
        indicators.append(indicator)
    title = raw.get("title")
    return Catalogue(
        version=version,
        title=title if isinstance(title, str) else "Risk-indicator catalogue",
        groups=groups,
        indicators=tuple(indicators),
        sources=sources,
        changes=_changes(raw.get("changes"), seen),
    )


def _source(key: str, obj: dict[str, object]) -> Source:
    what = f"source {key!r}"
    _only(obj, _SOURCE_KEYS, what)
    if "year" not in obj:
        raise KeyError(f"{what}: 'year' is missing (null when the document has none)")
    year = obj["year"]
    if year is not None and (
        not isinstance(year, int) or isinstance(year, bool) or year not in _YEARS
    ):
        raise ValueError(f"{what}: 'year' must be a year or null")
    return Source(
        key=key,
        title=_str(obj, "title", what),
        body=_str(obj, "body", what),
        year=year,
        symbol=_opt_str(obj, "symbol", what),
        url=_opt_str(obj, "url", what),
        authors=_opt_str(obj, "authors", what),
        series=_opt_str(obj, "series", what),
        note=_opt_str(obj, "note", what),
        style=CitationStyle(_opt_str(obj, "style", what) or CitationStyle.WORK.value),
    )


def _indicator(entry: dict[str, object], sources: Mapping[str, Source]) -> Indicator:
    ind_id = _str(entry, "id")
    if not is_well_formed_id(ind_id):
        raise ValueError(f"indicator id {ind_id!r} is not <GROUP>-<nn>")
    _only(entry, _ENTRY_KEYS, ind_id)
    stages = _str_list(entry["stages"], f"{ind_id}: 'stages'")
    if not stages:
        raise ValueError(f"{ind_id}: 'stages' must be a non-empty list")
    refs_raw = entry["sources"]
    if not isinstance(refs_raw, list) or not refs_raw:
        raise ValueError(f"{ind_id}: 'sources' must be a non-empty list")
    question = _str(entry, "question", ind_id)
    if not question.endswith("?"):
        raise ValueError(f"{ind_id}: the checklist question must end with '?'")
    if "\n" in question:
        raise ValueError(f"{ind_id}: the checklist question must be one line")
    return Indicator(
        id=ind_id,
        group=IndicatorGroup(ind_id.split("-", 1)[0]),
        title=_str(entry, "title", ind_id),
        question=question,
        stages=tuple(TransferStage(stage) for stage in stages),
        sources=tuple(
            _ref(ind_id, _object(ref, f"{ind_id}: a source"), sources) for ref in refs_raw
        ),
        transfer_types=_transfer_types(ind_id, entry),
    )


def _transfer_types(ind_id: str, entry: Mapping[str, object]) -> tuple[TransferType, ...]:
    """``transfer_types`` as given, else every type (a file written before they existed)."""
    if "transfer_types" not in entry:
        return APPLICABLE_TRANSFER_TYPES
    names = _str_list(entry["transfer_types"], f"{ind_id}: 'transfer_types'")
    if not names:
        raise ValueError(f"{ind_id}: 'transfer_types' must be a non-empty list")
    types = tuple(TransferType(name) for name in names)
    if TransferType.UNKNOWN in types:
        raise ValueError(f"{ind_id}: 'transfer_types' cannot name 'unknown'; write the types out")
    return types


def _ref(ind_id: str, ref: dict[str, object], sources: Mapping[str, Source]) -> SourceRef:
    _only(ref, _REF_KEYS, f"{ind_id}: a source")
    key = _str(ref, "ref", ind_id)
    source = sources.get(key)
    if source is None:
        raise ValueError(f"{ind_id}: unknown source {key!r}")
    return SourceRef(source=source, pinpoint=_opt_str(ref, "pinpoint", ind_id))


def _changes(value: object, ids: set[str]) -> CatalogueChanges:
    if value is None:
        return CatalogueChanges()
    obj = _object(value, "'changes'")
    _only(obj, _CHANGE_KEYS, "'changes'")
    added = _str_list(obj.get("added", []), "'changes.added'")
    stray = sorted(set(added) - ids)
    if stray:
        raise ValueError(f"'changes.added' names ids not in this version: {stray}")
    retitled = {str(k): str(v) for k, v in _object(obj.get("retitled", {}), "'retitled'").items()}
    reworded = {str(k): str(v) for k, v in _object(obj.get("reworded", {}), "'reworded'").items()}
    previous = _opt_str(obj, "previous", "'changes'")
    if previous is not None:
        version_key(previous)
    return CatalogueChanges(
        previous=previous,
        added=tuple(added),
        retitled=retitled,
        reworded=reworded,
        note=_opt_str(obj, "note", "'changes'"),
    )
