"""The checklist as text, Markdown or JSON, and the table of counts per group and stage."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import TYPE_CHECKING

from dief.catalogue._model import Catalogue, Indicator, IndicatorGroup
from dief.vocab import TransferStage, TransferType

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["ChecklistFormat", "render_checklist", "stage_count_table"]


class ChecklistFormat(StrEnum):
    TEXT = "text"
    MARKDOWN = "markdown"
    JSON = "json"


def render_checklist(
    catalogue: Catalogue,
    fmt: ChecklistFormat = ChecklistFormat.TEXT,
    *,
    stage: TransferStage | None = None,
    transfer_type: TransferType | None = None,
) -> str:
    """The indicators of :meth:`Catalogue.checklist` (*stage*, *transfer_type*) grouped by
    group, each with its question, id, stages and sources."""
    chosen = catalogue.checklist(stage, transfer_type)
    grouped = [(group, [ind for ind in chosen if ind.group is group]) for group in IndicatorGroup]
    grouped = [(group, items) for group, items in grouped if items]
    if fmt is ChecklistFormat.JSON:
        return _json(catalogue, grouped, stage, transfer_type, len(chosen))
    scope = (
        f"stage: {stage.value if stage else 'all'} · "
        f"transfer type: {transfer_type.value if transfer_type else 'all'} · "
        f"{len(chosen)} questions; the answer yes signals a diversion risk"
    )
    if fmt is ChecklistFormat.MARKDOWN:
        return _markdown(catalogue, grouped, scope)
    return _text(catalogue, grouped, scope)


def _sources(ind: Indicator) -> str:
    return "; ".join(str(ref) for ref in ind.sources)


def _stages(ind: Indicator) -> str:
    return ", ".join(stage.value for stage in ind.stages)


def _text(
    catalogue: Catalogue, grouped: Sequence[tuple[IndicatorGroup, list[Indicator]]], scope: str
) -> str:
    lines = [f"{catalogue.title} (version {catalogue.version})", scope]
    for group, items in grouped:
        lines += ["", f"{group.value} — {catalogue.groups[group]}"]
        for ind in items:
            lines += [
                f"  [ ] {ind.question}",
                f"      {ind.id} · {ind.title}",
                f"      stages: {_stages(ind)}",
                f"      sources: {_sources(ind)}",
            ]
    return "\n".join(lines) + "\n"


def _markdown(
    catalogue: Catalogue, grouped: Sequence[tuple[IndicatorGroup, list[Indicator]]], scope: str
) -> str:
    lines = [f"# {catalogue.title} (version {catalogue.version})", "", f"_{scope}_"]
    for group, items in grouped:
        lines += ["", f"## {group.value} — {catalogue.groups[group]}", ""]
        for ind in items:
            lines += [
                f"- [ ] {ind.question}  ",
                f"  **{ind.id}** {ind.title} · stages: {_stages(ind)} · sources: {_sources(ind)}",
            ]
    return "\n".join(lines) + "\n"


def _json(
    catalogue: Catalogue,
    grouped: Sequence[tuple[IndicatorGroup, list[Indicator]]],
    stage: TransferStage | None,
    transfer_type: TransferType | None,
    count: int,
) -> str:
    doc = {
        "version": catalogue.version,
        "title": catalogue.title,
        "stage": stage.value if stage else None,
        "transfer_type": transfer_type.value if transfer_type else None,
        "count": count,
        "groups": [
            {
                "group": group.value,
                "title": catalogue.groups[group],
                "indicators": [
                    {
                        "id": ind.id,
                        "title": ind.title,
                        "question": ind.question,
                        "stages": [s.value for s in ind.stages],
                        "transfer_types": [t.value for t in ind.transfer_types],
                        "sources": [
                            {
                                "ref": ref.key,
                                "citation": ref.citation,
                                "pinpoint": ref.pinpoint,
                                "url": ref.url,
                            }
                            for ref in ind.sources
                        ],
                    }
                    for ind in items
                ],
            }
            for group, items in grouped
        ],
    }
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def stage_count_table(catalogue: Catalogue) -> str:
    """A Markdown table: indicators per group (rows) and transfer stage (columns), with the
    number of entries per group and the totals (an entry counts once per stage it names)."""
    counts = catalogue.stage_counts()
    stages = list(TransferStage)
    header = ["group", *(s.value for s in stages), "entries"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for group in IndicatorGroup:
        cells = [str(counts[group][s]) for s in stages]
        lines.append(
            f"| {group.value} | " + " | ".join(cells) + f" | {len(catalogue.in_group(group))} |"
        )
    totals = [str(sum(counts[g][s] for g in IndicatorGroup)) for s in stages]
    lines.append("| **total** | " + " | ".join(totals) + f" | {len(catalogue)} |")
    return "\n".join(lines) + "\n"
