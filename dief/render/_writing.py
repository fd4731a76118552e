"""What an issue writes, file by file: :class:`OutputFiles` renders a file only when the
manifest does not already vouch for its bytes (:mod:`dief.render._changed`) and counts the
documents left unchanged; :class:`Ticker` reports the documents written to a progress
callback."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dief.render._changed import Manifest, fingerprint, render_context, write_atomic

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from pathlib import Path

    from pydantic import BaseModel

__all__ = ["OutputFiles", "Ticker"]


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
