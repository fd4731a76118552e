"""Writing every output of a run into the output directory (DESIGN §9 ⚑).

``digests/<REGION>/<PERIOD>.json`` and ``.md`` for every month, quarter and cycle with data,
``summary/<CYCLE>.json`` and ``.md`` for every cycle with data. JSON is deterministic: two
spaces of indent, keys in the shapes' declared order (which the contract documents read
best in; every mapping the code builds is inserted in a fixed order), a trailing newline.
Files are written atomically (temporary file, then rename).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from dief.catalogue import Catalogue
from dief.exceptions import ConfigurationError
from dief.periods import DEFAULT_CYCLE_START_MONTH, parse_period
from dief.reporting._digest import build_digest
from dief.reporting._markdown import render_digest_markdown, render_summary_markdown
from dief.reporting._summary import build_summary
from dief.shapes import Lesson
from dief.storage import CaseStore
from dief.vocab import Region

__all__ = ["OutputIndex", "WrittenOutput", "dump_json", "write_outputs"]

_KIND_RANK = {"month": 0, "quarter": 1, "cycle": 2}


@dataclass(frozen=True, slots=True)
class WrittenOutput:
    """One digest or summary, as JSON and Markdown."""

    kind: Literal["digest", "summary"]
    region: str | None
    period: str
    json_path: Path
    markdown_path: Path
    suppressed: int

    @property
    def paths(self) -> tuple[Path, Path]:
        return (self.json_path, self.markdown_path)


@dataclass(frozen=True, slots=True)
class OutputIndex:
    """What :func:`write_outputs` wrote."""

    out_dir: Path
    outputs: tuple[WrittenOutput, ...]

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
    data = model.model_dump(mode="json", by_alias=True)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text, encoding="utf-8", newline="\n")
        os.replace(tmp, path)
    except OSError as exc:
        raise ConfigurationError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _period_order(period: str, start_month: int) -> tuple[int, str]:
    return (_KIND_RANK[parse_period(period, start_month=start_month).kind], period)


async def write_outputs(
    out_dir: str | Path,
    store: CaseStore,
    *,
    regions: Sequence[Region | str],
    k_meeting: int = 2,
    k_csp: int = 3,
    catalogue: Catalogue,
    start_month: int = DEFAULT_CYCLE_START_MONTH,
    lessons: dict[Region, Sequence[Lesson]] | None = None,
) -> OutputIndex:
    """Write every digest and CSP summary with data for *regions* under *out_dir*."""
    base = Path(out_dir)
    codes = [Region(r) for r in regions]
    written: list[WrittenOutput] = []
    cycles: set[str] = set()
    for region in codes:
        periods = await store.periods_with_data(region.value)
        for period in sorted(periods, key=lambda p: _period_order(p, start_month)):
            if period.startswith("CSP"):
                cycles.add(period)
            digest = await build_digest(
                store,
                region,
                period,
                k=k_meeting,
                catalogue=catalogue,
                start_month=start_month,
                lessons=(lessons or {}).get(region, ()),
            )
            folder = base / "digests" / region.value
            json_path, md_path = folder / f"{period}.json", folder / f"{period}.md"
            _write(json_path, dump_json(digest))
            _write(md_path, render_digest_markdown(digest))
            written.append(
                WrittenOutput(
                    "digest",
                    region.value,
                    period,
                    json_path,
                    md_path,
                    digest.notes.suppressed_cells,
                )
            )
    for cycle in sorted(cycles, key=lambda c: int(c[3:])):
        summary = await build_summary(
            store, cycle, k=k_csp, catalogue=catalogue, start_month=start_month, regions=codes
        )
        folder = base / "summary"
        json_path, md_path = folder / f"{cycle}.json", folder / f"{cycle}.md"
        _write(json_path, dump_json(summary))
        _write(md_path, render_summary_markdown(summary))
        written.append(
            WrittenOutput(
                "summary", None, cycle, json_path, md_path, summary.methodology.suppressed
            )
        )
    return OutputIndex(base, tuple(written))
