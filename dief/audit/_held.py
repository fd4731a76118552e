"""A reader's view from documents held in memory (issue #18: the aggregator's own documents).

The audit reads published documents as JSON (:func:`~dief.audit.read_issue`, an output
folder). A regional aggregator holds the same documents without a folder: the digests it
builds from its store (the region's digests, with the route tables it received, exactly as
it publishes them) and the CSP summaries it read from ``csp.reporting``.
:func:`held_reader` makes the reader's view of them: the JSON objects are put, for the time
of one read, in a private temporary folder laid out as ``dief run`` writes one
(``digests/<region>/<period>.json``, ``summary/<cycle>.json``) and read by the very code
that reads a published folder, so both views are built the same way.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dief.audit._documents import ReaderView, read_issue
from dief.exceptions import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

__all__ = ["held_reader"]


def _name(value: object, what: str) -> str:
    text = str(value)
    if not text or not all(ch.isalnum() or ch == "-" for ch in text):
        raise ConfigurationError(f"a held {what} has no usable period ({text[:16]!r})")
    return text


def _write(path: Path, doc: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def held_reader(
    region: str,
    digests: Iterable[Mapping[str, Any]],
    summaries: Iterable[Mapping[str, Any]] = (),
    *,
    start_month: int = 9,
    label: str = "held",
) -> ReaderView:
    """The reader of *region* holding *digests* (the region's, as JSON objects: each with
    its ``period``) and *summaries* (CSP summaries, each with its ``cycle``), one issue.

    :raises ConfigurationError: a document without its period or cycle, or none at all.
    """
    with tempfile.TemporaryDirectory(prefix="dief-held-") as tmp:
        folder = Path(tmp)
        wrote = 0
        for doc in digests:
            period = _name(doc.get("period"), "digest")
            _write(folder / "digests" / region / f"{period}.json", doc)
            wrote += 1
        for doc in summaries:
            cycle = _name(doc.get("cycle"), "summary")
            _write(folder / "summary" / f"{cycle}.json", doc)
            wrote += 1
        if not wrote:
            raise ConfigurationError(f"no document of {region} is held")
        issue = read_issue(folder, region, label=label)
    return ReaderView(region, (issue,), start_month)
