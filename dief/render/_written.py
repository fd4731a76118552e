"""What :func:`~dief.render.write_outputs` wrote (:class:`OutputIndex`: one
:class:`WrittenOutput` per digest or summary, with its files), and the canonical JSON text
of an output document (:func:`dump_json`: two spaces of indent, keys in the shapes'
declared order, a trailing newline; DESIGN §9 ⚑).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from pathlib import Path

    from pydantic import BaseModel

__all__ = ["OutputIndex", "WrittenOutput", "dump_json"]


@dataclass(frozen=True, slots=True)
class WrittenOutput:
    """One digest or summary, as JSON, Markdown, HTML and (summaries) DOCX."""

    kind: Literal["digest", "summary"]
    region: str | None
    period: str
    json_path: Path
    markdown_path: Path
    suppressed: int
    html_path: Path | None = None
    docx_path: Path | None = None
    #: The CSV data annex (one row per cell; docs/documents.md).
    csv_path: Path | None = None

    @property
    def paths(self) -> tuple[Path, ...]:
        extra = (p for p in (self.html_path, self.docx_path, self.csv_path) if p is not None)
        return (self.json_path, self.markdown_path, *extra)


@dataclass(frozen=True, slots=True)
class OutputIndex:
    """What :func:`~dief.render.write_outputs` wrote."""

    out_dir: Path
    outputs: tuple[WrittenOutput, ...]
    #: documents none of whose files had to be rendered again (their inputs unchanged)
    unchanged: int = 0

    @property
    def paths(self) -> tuple[Path, ...]:
        return tuple(p for o in self.outputs for p in o.paths)

    @property
    def digests(self) -> tuple[WrittenOutput, ...]:
        return tuple(o for o in self.outputs if o.kind == "digest")

    @property
    def summaries(self) -> tuple[WrittenOutput, ...]:
        return tuple(o for o in self.outputs if o.kind == "summary")


def dump_json(model: BaseModel) -> str:
    """The canonical text of an output document (wire names, indent 2, trailing newline)."""
    return _json_text(model)


def _json_text(model: BaseModel) -> str:
    """:func:`dump_json`'s text (also what a summary read back is checked against)."""
    data = model.model_dump(mode="json", by_alias=True)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
