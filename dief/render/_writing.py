"""What an issue writes, file by file: :class:`OutputFiles` renders a file only when the
manifest does not already vouch for its bytes (:mod:`dief.render._changed`) and counts the
documents left unchanged, and (:meth:`OutputFiles.reused`) a document whose recorded
inputs and files are unchanged is not built at all; :func:`summary_inputs` fingerprints
what a summary reads of the store; :class:`Ticker` reports the documents written to a
progress callback."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dief.periods import CspCycle
from dief.render._changed import Manifest, fingerprint, render_context, write_atomic
from dief.secretariat import summary_cells
from dief.wire import CspSummary

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from pathlib import Path

    from pydantic import BaseModel

    from dief.aggregator.store import CaseStore
    from dief.disclosure import RowRequirement
    from dief.vocab import Region

__all__ = ["OutputFiles", "Ticker", "kept_summary", "requirements_text", "summary_inputs"]


async def summary_inputs(
    store: CaseStore, regions: Sequence[Region], cycles: Sequence[str], *, start_month: int
) -> dict[str, str]:
    """Per cycle of *cycles*, a fingerprint of what :func:`~dief.secretariat.build_summary`
    reads of *store*: every region's cells (no TLP:RED) of the cycle and of the cycle
    before, and each region's data version of the cycle, read together
    (:func:`~dief.secretariat.summary_cells`). One read per region."""
    before = {
        c: str(p.previous())
        if (p := CspCycle.parse(c, start_month=start_month)).number > 1
        else None
        for c in cycles
    }
    wanted = sorted({*cycles, *(b for b in before.values() if b is not None)})
    parts: dict[str, list[str]] = {c: [] for c in cycles}
    for region in regions:
        cells, versions = await summary_cells(store, region.value, wanted)
        for cycle, prior in before.items():
            then = sorted(cells.get(prior, {}).items()) if prior is not None else None
            now = sorted(cells.get(cycle, {}).items())
            parts[cycle].append(repr((region.value, now, then, versions.get(cycle))))
    return {cycle: fingerprint(*texts) for cycle, texts in parts.items()}


def requirements_text(rows: Mapping[Region, RowRequirement]) -> str:
    """*rows* (what each region's pattern requires of a summary's rows) in a fixed order
    (the routed and the pinned cells only where there are any: the text of a requirement
    without is as before, so its summary's fingerprint stays)."""
    return repr(
        sorted(
            (r.value, req.cycle, sorted(req.hidden), sorted(req.known), req.relations)
            + ((sorted(req.routed),) if req.routed else ())
            + (("pinned", sorted(req.pinned)) if req.pinned else ())
            for r, req in rows.items()
        )
    )


class OutputFiles:
    """Renders an output file only when the manifest does not already vouch for it, and
    counts the documents none of whose files were rendered."""

    def __init__(self, folder: Path) -> None:
        self.manifest = Manifest.load(folder)
        self.context = render_context()
        self.unchanged = 0
        self._rendered = False

    def content(self, kind: str, model: BaseModel) -> str:
        """The fingerprint of *model* (a digest or summary) as the renderers read it."""
        return fingerprint(self.context, kind, model.model_dump_json(by_alias=True))

    def reused(self, name: str, inputs: str, paths: Iterable[Path]) -> int | None:
        """The number of cells document *name* suppresses when it need not be built at
        all: the manifest records it built from *inputs* (everything building it reads)
        and every file of it, *paths*, holds the bytes recorded; then it counts as
        unchanged. Else ``None``, and what was recorded of it is dropped until
        :meth:`built` (a run stopped half-way never vouches for a half-written one)."""
        suppressed = self.manifest.document(name, inputs)
        if suppressed is not None and all(self.manifest.intact(p) for p in paths):
            self.unchanged += 1
            return suppressed
        self.manifest.forget_document(name)
        return None

    def built(self, name: str, inputs: str, suppressed: int) -> None:
        """Document *name* was built from *inputs* and all its files are written."""
        self.manifest.note_document(name, inputs, suppressed)

    def put(self, path: Path, inputs: str, render: Callable[[], str | bytes]) -> None:
        """Render *path* from *inputs* with *render*, unless it already holds that."""
        if self.manifest.current(path, inputs):
            return
        data = render()
        write_atomic(path, data)
        self.manifest.note(path, inputs, data)
        self._rendered = True

    def done(self) -> None:
        """One document finished: count it if nothing of it was rendered."""
        if not self._rendered:
            self.unchanged += 1
        self._rendered = False


class Ticker:
    """Counts the documents written and reports (done, total) to a progress callback."""

    def __init__(self, progress: Callable[[int, int], None] | None, total: int) -> None:
        self._progress, self._total, self._done = progress, total, 0
        if progress is not None:
            progress(0, total)

    def __call__(self) -> None:
        self._done += 1
        if self._progress is not None:
            self._progress(self._done, self._total)


def kept_summary(  # noqa: PLR0913  the summary's place, its inputs and the formats, each by name
    files: OutputFiles,
    folder: Path,
    cycle: str,
    inputs: str,
    *,
    html: bool,
    docx: bool,
    text: Callable[[BaseModel], str],
) -> tuple[CspSummary, tuple[Path, Path, Path | None, Path | None, Path], int] | None:
    """The summary of *cycle* as its files hold it, its paths (JSON, Markdown, HTML, DOCX,
    CSV) and its suppressed cells, when the manifest records it built from *inputs* and
    every file holds the bytes recorded (read back from its JSON, which must be exactly
    *text* of what it reads as: the next cycle's summary draws on it), else ``None`` (it
    is then built; what was recorded of it is dropped)."""
    name = f"summary/{cycle}"
    json_path, md, csv = (folder / f"{cycle}.{ext}" for ext in ("json", "md", "csv"))
    html_path = folder / f"{cycle}.html" if html else None
    docx_path = folder / f"{cycle}.docx" if docx else None
    paths = (json_path, md, html_path, docx_path, csv)
    summary: CspSummary | None = None
    if files.manifest.document(name, inputs) is not None:
        try:
            raw = json_path.read_text("utf-8")
            summary = CspSummary.model_validate_json(raw)
        except (OSError, ValueError):  # pydantic's ValidationError is a ValueError
            summary = None
        if summary is not None and text(summary) != raw:
            summary = None
    present = [p for p in paths if p is not None]
    suppressed = files.reused(name, inputs, present) if summary is not None else None
    if summary is None or suppressed is None:
        files.manifest.forget_document(name)
        return None
    return summary, paths, suppressed
