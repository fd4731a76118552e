"""A re-issue renders only what a new case affects, and its folder equals a fresh build
(issue #15, incremental cost; ``dief.render._changed``).

Each test counts the renderers ``write_outputs`` calls (by the names of the modules that call
them, wrapped) and watches files' bytes and modification times. The safety property: a
folder re-issued in place holds byte for byte what a fresh build of the same store writes
into an empty one.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import pytest

import dief
from dief.aggregator.store import CaseStore
from dief.catalogue import load_catalogue
from dief.database import sqlite_url
from dief.digests import DigestSeries, RegionDigests
from dief.render import OutputIndex, _digest_files, _summary_files, write_outputs
from dief.render import _output as output
from dief.render._changed import MANIFEST
from dief.secretariat import DIMENSION_LABELS
from dief.vocab import Dimension
from tests.unit.reporting_support import History

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterable, Sequence
    from pathlib import Path

    from dief.aggregator import CaseFacts
    from dief.catalogue import Catalogue
    from dief.digests import CaseLesson
    from dief.wire import CspSummary, Digest, Lesson

CATALOGUE = load_catalogue()
P = ParamSpec("P")
R = TypeVar("R")
MONTHS = [f"2025-{m:02d}" for m in range(3, 13)] + ["2026-01", "2026-02"]
#: each renderer by the module that calls it (a digest's files, a summary's)
_RENDERERS = (
    (_digest_files, "dump_json"),
    (_digest_files, "render_digest_markdown"),
    (_digest_files, "render_digest_annex"),
    (_digest_files, "render_digest_html"),
    (_summary_files, "dump_json"),
    (_summary_files, "render_summary_markdown"),
    (_summary_files, "render_summary_annex"),
    (_summary_files, "render_summary_html"),
)
#: an old modification time, so any rewrite shows
_OLD = 1_000_000_000


def _history(seed: int = 7) -> tuple[list[CaseFacts], CaseFacts]:
    """A region's cases, and one more case in its latest month."""
    rng = random.Random(seed)
    history = History("AFR", rng, MONTHS, nodes=4, red_share=0.1)
    cases = history.batch(70)
    history.months = [MONTHS[-1]]
    return cases, history._new()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[CaseStore]:
    async with CaseStore(sqlite_url(tmp_path / "cases.db")) as s:
        yield s


@pytest.fixture
def rendered(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How often each renderer ran (by name), counted from now on."""
    calls: Counter[str] = Counter()

    def counting(name: str, render: Callable[P, R]) -> Callable[P, R]:
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            calls[name] += 1
            return render(*args, **kwargs)

        return wrapper

    for module, name in _RENDERERS:
        monkeypatch.setattr(module, name, counting(name, getattr(module, name)))
    return calls


async def _write(
    out: Path, store: CaseStore, *, progress: Callable[[int, int], None] | None = None
) -> OutputIndex:
    return await write_outputs(
        out, store, regions=["AFR"], catalogue=CATALOGUE, docx=False, progress=progress
    )


def _files(out: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def _age(paths: list[Path]) -> None:
    for path in paths:
        os.utime(path, (_OLD, _OLD))


def _rewritten(paths: list[Path]) -> set[Path]:
    return {p for p in paths if p.exists() and p.stat().st_mtime != _OLD}


async def test_a_new_case_renders_and_rewrites_only_what_it_affects(
    tmp_path: Path, store: CaseStore, rendered: Counter[str]
) -> None:
    cases, new = _history()
    await store.apply_batch("AFR", cases)
    out = tmp_path / "out"
    first = await _write(out, store)
    documents = len(first.outputs)
    assert rendered["render_digest_html"] == len(first.digests)  # a fresh folder: everything
    assert first.unchanged == 0
    assert (out / MANIFEST).is_file()
    before = _files(out)
    paths = [p for p in before if MANIFEST.parts[0] not in p.relative_to(out).parts]
    _age(paths)
    rendered.clear()
    await store.apply_batch("AFR", [new])
    ticks: list[tuple[int, int]] = []
    second = await _write(out, store, progress=lambda done, total: ticks.append((done, total)))
    after = _files(out)
    changed = {p for p in paths if after[p] != before[p]}
    assert changed, "the new case must change some document"
    assert _rewritten(paths) == changed  # only files whose bytes changed were rewritten
    # only the documents whose inputs changed were rendered again
    assert 0 < rendered["render_digest_html"] < len(second.digests)
    assert 0 < rendered["render_digest_markdown"] < len(second.digests)
    assert second.unchanged > 0
    assert second.unchanged + rendered["dump_json"] <= documents
    # the progress counts a document left as it was as done
    assert ticks[-1] == (documents, documents)


async def test_an_edited_or_deleted_file_is_rendered_again(
    tmp_path: Path, store: CaseStore, rendered: Counter[str]
) -> None:
    cases, _ = _history()
    await store.apply_batch("AFR", cases)
    out = tmp_path / "out"
    await _write(out, store)
    before = _files(out)
    folder = out / "digests" / "AFR"
    edited, deleted = folder / "2025-Q4.md", folder / "2026-01.html"
    same_size = folder / "2025-12.json"  # edited with its size and modification time kept
    edited.write_text(edited.read_text() + "\nan edit\n")
    deleted.unlink()
    raw = bytearray(same_size.read_bytes())
    stamp = same_size.stat()
    raw[-2:-1] = b"]" if raw[-2:-1] != b"]" else b"}"
    same_size.write_bytes(bytes(raw))
    os.utime(same_size, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    others = [p for p in before if p not in {edited, deleted, same_size}]
    _age(others)
    rendered.clear()
    index = await _write(out, store)
    assert _files(out) == before  # the three are as the build writes them again
    assert rendered["render_digest_markdown"] == 1
    assert rendered["render_digest_html"] == 1
    assert rendered["dump_json"] == 1
    assert index.unchanged == len(index.outputs) - 3
    assert _rewritten([p for p in others if MANIFEST.name != p.name]) == set()


async def test_a_lost_or_unreadable_manifest_renders_everything(
    tmp_path: Path, store: CaseStore, rendered: Counter[str]
) -> None:
    cases, _ = _history()
    await store.apply_batch("AFR", cases)
    out = tmp_path / "out"
    index = await _write(out, store)
    (out / MANIFEST).write_text("{not json")
    rendered.clear()
    again = await _write(out, store)
    assert rendered["render_digest_html"] == len(index.digests)
    assert again.unchanged == 0


async def test_a_new_dief_version_renders_everything_again(
    tmp_path: Path, store: CaseStore, rendered: Counter[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cases, _ = _history()
    await store.apply_batch("AFR", cases)
    out = tmp_path / "out"
    index = await _write(out, store)
    rendered.clear()
    assert (await _write(out, store)).unchanged == len(index.outputs)
    assert sum(rendered.values()) == 0
    monkeypatch.setattr(dief, "__version__", "99.0.0")
    again = await _write(out, store)
    assert again.unchanged == 0
    assert rendered["render_digest_markdown"] == len(index.digests)
    assert rendered["render_summary_html"] == len(index.summaries)


async def test_a_changed_label_renders_again(
    tmp_path: Path, store: CaseStore, rendered: Counter[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cases, _ = _history()
    await store.apply_batch("AFR", cases)
    out = tmp_path / "out"
    index = await _write(out, store)
    rendered.clear()
    monkeypatch.setitem(DIMENSION_LABELS, Dimension.METHOD, "way of hiding the goods")
    await _write(out, store)
    assert rendered["render_digest_markdown"] == len(index.digests)
    shown = [p for p in out.rglob("*.md") if "way of hiding the goods" in p.read_text().lower()]
    assert shown, "the new label must reach the documents"


async def test_a_reissued_folder_equals_a_fresh_build(tmp_path: Path) -> None:
    """The safety property: skipping never leaves a file a fresh build would not write."""
    cases, new = _history(seed=11)
    folders: dict[str, Path] = {}
    for name in ("in_place", "fresh"):
        async with CaseStore(sqlite_url(tmp_path / f"{name}.db")) as store:
            await store.apply_batch("AFR", cases)
            first = tmp_path / name / "first"
            await _write(first, store)
            await store.apply_batch("AFR", [new])
            # in place: the re-issue into the folder of the first issue; fresh: a new folder
            folders[name] = first if name == "in_place" else tmp_path / name / "second"
            await _write(folders[name], store)
    in_place, fresh = (
        {p.relative_to(folders[n]): b for p, b in _files(folders[n]).items()}
        for n in ("in_place", "fresh")
    )
    assert in_place.keys() == fresh.keys()
    assert [p for p in in_place if in_place[p] != fresh[p]] == []


async def test_the_charts_series_is_an_input_of_the_html_only(
    tmp_path: Path, store: CaseStore, rendered: Counter[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Earlier periods' counts reach a digest's charts, not its text: a changed series
    renders every HTML digest again and nothing else."""
    cases, _ = _history()
    await store.apply_batch("AFR", cases)
    out = tmp_path / "out"
    index = await _write(out, store)
    rendered.clear()
    series = RegionDigests.series

    def other(self: RegionDigests, period: str, *, length: int | None = None) -> DigestSeries:
        drawn = series(self, period, length=length)
        return DigestSeries(drawn.periods, tuple(999 for _ in drawn.totals), drawn.dimensions)

    monkeypatch.setattr(RegionDigests, "series", other)
    inputs = RegionDigests.inputs

    def changed(self: RegionDigests, periods: Iterable[str]) -> dict[str, str]:
        return {p: f"{key} (series changed)" for p, key in inputs(self, periods).items()}

    # the digests' inputs changed with the series (else no digest is built again)
    monkeypatch.setattr(RegionDigests, "inputs", changed)
    await _write(out, store)
    assert rendered["render_digest_html"] == len(index.digests)
    assert rendered["render_digest_markdown"] == rendered["dump_json"] == 0


#: five years of months, ending with the current cycle's latest
_LONG = [f"{y}-{m:02d}" for y in range(2021, 2026) for m in range(1, 13)] + ["2026-01", "2026-02"]


async def test_a_reissue_at_a_longer_history_builds_only_what_the_new_case_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Five years, one new case in the current cycle's latest month: the digests of the
    periods it cannot reach are not built again (issue #15: their tables, statuses and
    data versions are unchanged), and the folder re-issued in place equals, byte for
    byte, a fresh build of the same store (the manifest aside: it records how each file
    was made, and a fresh folder's records the one build)."""
    rng = random.Random(23)
    history = History("AFR", rng, _LONG, nodes=5, red_share=0.1)
    cases = history.batch(140)
    history.months = [_LONG[-1]]
    new = history._new()
    built: Counter[str] = Counter()
    digest = RegionDigests.digest

    def counting(
        self: RegionDigests,
        period: str,
        *,
        catalogue: Catalogue,
        lessons: Sequence[Lesson | CaseLesson] | None = (),
    ) -> Digest:
        built[period] += 1
        return digest(self, period, catalogue=catalogue, lessons=lessons)

    monkeypatch.setattr(RegionDigests, "digest", counting)
    summary = _summary_files._build_cycle_summary

    async def summarising(store: CaseStore, cycle: str, **kwargs: Any) -> CspSummary:  # noqa: ANN401  passed through as given
        built[f"summary {cycle}"] += 1
        return await summary(store, cycle, **kwargs)

    monkeypatch.setattr(output, "_build_cycle_summary", summarising)
    folders: dict[str, Path] = {}
    reissued: OutputIndex | None = None
    for name in ("in_place", "fresh"):
        async with CaseStore(sqlite_url(tmp_path / f"{name}.db")) as store:
            await store.apply_batch("AFR", cases)
            first = tmp_path / name / "first"
            await _write(first, store)
            await store.apply_batch("AFR", [new])
            built.clear()
            folders[name] = first if name == "in_place" else tmp_path / name / "second"
            index = await _write(folders[name], store)
            if name == "in_place":
                reissued = index
                in_place_built = sum(n for p, n in built.items() if " " not in p)
                summaries_built = sum(n for p, n in built.items() if " " in p)
    assert reissued is not None
    digests = len(reissued.digests)
    assert digests > 60  # months, quarters, halves and cycles of five years
    # the new case's month, quarter, half, cycle and what they reach; not the history
    assert 0 < in_place_built < digests / 2
    # the summaries: the new case's cycle (and none before it: their cells are the same)
    assert 0 < summaries_built < len(reissued.summaries)
    assert reissued.unchanged >= len(reissued.outputs) - in_place_built - summaries_built
    in_place, fresh = (
        {
            p.relative_to(folders[n]): b
            for p, b in _files(folders[n]).items()
            if p.relative_to(folders[n]) != MANIFEST
        }
        for n in ("in_place", "fresh")
    )
    assert in_place.keys() == fresh.keys()
    assert [p for p in in_place if in_place[p] != fresh[p]] == []
