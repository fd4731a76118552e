"""Read and check the catalogue data shipped in the package (``indicators.json``)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from dief.catalogue._model import (
    Catalogue,
    Indicator,
    IndicatorGroup,
    SourceRef,
    is_well_formed_id,
)
from dief.exceptions import ConfigurationError
from dief.vocab import TransferStage

__all__ = ["load_catalogue", "parse_catalogue"]

_DATA_FILE = "indicators.json"


@cache
def load_catalogue() -> Catalogue:
    """The catalogue shipped with the package; read on first call, then cached."""
    data = resources.files("dief.catalogue").joinpath(_DATA_FILE).read_bytes()
    return parse_catalogue(data)


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


def _str(obj: dict[str, object], key: str) -> str:
    value = obj[key]
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{key!r} must be a non-empty string")
    return value


def _build(raw: dict[str, object]) -> Catalogue:
    version = _str(raw, "version")
    groups_raw = raw["groups"]
    sources_raw = raw["sources"]
    entries_raw = raw["indicators"]
    if not isinstance(groups_raw, dict) or not isinstance(sources_raw, dict):
        raise TypeError("'groups' and 'sources' must be objects")
    if not isinstance(entries_raw, list):
        raise TypeError("'indicators' must be a list")
    groups = {IndicatorGroup(key): str(title) for key, title in groups_raw.items()}
    missing = set(IndicatorGroup) - set(groups)
    if missing:
        raise ValueError(f"groups without a title: {sorted(missing)}")

    indicators: list[Indicator] = []
    seen: set[str] = set()
    for entry in entries_raw:
        if not isinstance(entry, dict):
            raise TypeError("every indicator must be an object")
        ind_id = _str(entry, "id")
        if not is_well_formed_id(ind_id):
            raise ValueError(f"indicator id {ind_id!r} is not <GROUP>-<nn>")
        if ind_id in seen:
            raise ValueError(f"indicator id {ind_id!r} appears twice")
        seen.add(ind_id)
        stages_raw = entry["stages"]
        refs_raw = entry["sources"]
        if not isinstance(stages_raw, list) or not stages_raw:
            raise ValueError(f"{ind_id}: 'stages' must be a non-empty list")
        if not isinstance(refs_raw, list) or not refs_raw:
            raise ValueError(f"{ind_id}: 'sources' must be a non-empty list")
        refs: list[SourceRef] = []
        for ref in refs_raw:
            key = _str(ref, "ref")
            source = sources_raw.get(key)
            if not isinstance(source, dict):
                raise ValueError(f"{ind_id}: unknown source {key!r}")
            url = source.get("url")
            pinpoint = ref.get("pinpoint")
            refs.append(
                SourceRef(
                    key=key,
                    citation=_str(source, "citation"),
                    url=url if isinstance(url, str) else None,
                    pinpoint=pinpoint if isinstance(pinpoint, str) else None,
                )
            )
        question = _str(entry, "question")
        if not question.endswith("?"):
            raise ValueError(f"{ind_id}: the checklist question must end with '?'")
        indicators.append(
            Indicator(
                id=ind_id,
                group=IndicatorGroup(ind_id.split("-", 1)[0]),
                title=_str(entry, "title"),
                question=question,
                stages=tuple(TransferStage(stage) for stage in stages_raw),
                sources=tuple(refs),
            )
        )
    title = raw.get("title")
    return Catalogue(
        version=version,
        title=title if isinstance(title, str) else "Risk-indicator catalogue",
        groups=groups,
        indicators=tuple(indicators),
    )
