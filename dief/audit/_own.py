"""The reader's own cases: lower bounds on the cells they count in (DESIGN §7).

Read from the case input a node posted (JSON Lines, or a JSON object or list; DESIGN §5),
or from already-derived facts (``{"region", "month", "tlp", "values": [[dim, value], …]}``).
Only the fields whose counting is fixed by DESIGN §5 are mapped (kind, confidence, transfer
stage and type, end user, detection source, item categories, methods, transport modes,
risk indicators, actions taken): a field left unmapped only gives the reader a weaker
bound, never a wrong one. The latest line of a ``case_id`` wins; a withdrawal removes it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dief.audit._periods import cycle_of, half_of
from dief.exceptions import ConfigurationError

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["OwnCase", "load_own_cases", "own_case"]

_SINGLE = {
    "kind": "kind",
    "confidence": "confidence",
    "transfer_stage": "transfer_stage",
    "transfer_type": "transfer_type",
    "end_user_type": "end_user_type",
    "detection_source": "detection_source",
}
_LISTS = {
    "methods": "method",
    "transport_modes": "transport_mode",
    "risk_indicators": "risk_indicator",
    "actions_taken": "action_taken",
}
_DEFAULTS = {"kind": "case", "end_user_type": "unknown"}


@dataclass(frozen=True)
class OwnCase:
    """One of the reader's own counted cases: where it counts, and under which values."""

    region: str
    month: str
    red: bool
    values: tuple[tuple[str, str], ...]
    related_regions: tuple[str, ...] = ()

    @property
    def quarter(self) -> str:
        return f"{self.month[:4]}-Q{(int(self.month[5:7]) - 1) // 3 + 1}"

    def cycle(self, start_month: int) -> str:
        return cycle_of(self.month, start_month)

    def half(self, start_month: int) -> str:
        """``CSPn-H1`` or ``CSPn-H2``: the half-cycle the case counts in."""
        return half_of(self.month, start_month)


def own_case(raw: Mapping[str, Any]) -> OwnCase:
    """One case input (or derived facts) as an :class:`OwnCase`."""
    month = str(raw.get("month") or raw.get("detected") or "")[:7]
    if len(month) != 7 or "region" not in raw:  # noqa: PLR2004  7 = len("YYYY-MM"): a month's period
        raise ConfigurationError("an own case needs a region and a detected month")
    pairs: set[tuple[str, str]] = set()
    if "values" in raw:
        pairs.update((str(d), str(v)) for d, v in raw["values"])
    else:
        for field, dim in _SINGLE.items():
            value = raw.get(field, _DEFAULTS.get(field))
            if value is not None:
                pairs.add((dim, str(value)))
        for field, dim in _LISTS.items():
            pairs.update((dim, str(v)) for v in raw.get(field) or [])
        for item in raw.get("items") or []:
            if isinstance(item, Mapping) and "category" in item:
                pairs.add(("item_category", str(item["category"])))
    return OwnCase(
        region=str(raw["region"]),
        month=month,
        red=str(raw.get("tlp", "amber")) == "red",
        values=tuple(sorted(pairs)),
        related_regions=tuple(str(r) for r in raw.get("related_regions") or []),
    )


def _objects(text: str) -> list[Mapping[str, Any]]:
    stripped = text.strip()
    if stripped.startswith("["):
        data = json.loads(stripped)
        return [d for d in data if isinstance(d, Mapping)]
    if stripped.startswith("{") and "\n{" not in stripped:
        return [json.loads(stripped)]
    return [json.loads(line) for line in stripped.splitlines() if line.strip()]


def load_own_cases(path: Path) -> tuple[OwnCase, ...]:
    """The reader's counted cases in *path* (latest line per ``case_id``; withdrawn left out)."""
    try:
        objects = _objects(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(
            f"cannot read own cases from {path.name}: {type(exc).__name__}"
        ) from exc
    latest: dict[str, Mapping[str, Any]] = {}
    for n, raw in enumerate(objects):
        latest[str(raw.get("case_id") or f"line-{n}")] = raw
    cases = [own_case(raw) for raw in latest.values() if raw.get("status", "active") == "active"]
    return tuple(cases)
