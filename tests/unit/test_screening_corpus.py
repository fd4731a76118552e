"""Measured screening: recall per class and language, false refusals, time per text.

The corpus (``tests/unit/screening_corpus/``) holds, per UN language, attributing texts
(``attributing_<lang>.tsv``: ``class<TAB>text`` with the attributing span between ``[[``
and ``]]``) and ordinary diversion lessons that must pass (``ordinary_<lang>.txt``). An
attributing text counts as caught when a finding overlaps its marked span. The tables
are printed (``pytest -s``) and the targets asserted:

* recall >= 95 % for names, short forms, demonyms, codes, contacts and identifiers;
* recall >= 85 % for places, persons, companies and first-person references;
* false refusals <= 3 % of the ordinary lessons, in every language.

Every target holds per class in every language (each cell of the table), not only on
average. Screening time per 2,000-character text is printed, not asserted.
"""

from __future__ import annotations

import re
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from dief.screening import Screener, default_screener

CORPUS = Path(__file__).with_name("screening_corpus")
LANGUAGES = ("en", "fr", "es", "ru", "ar", "zh")
TARGETS: dict[str, float] = {
    "name": 0.95,
    "short_form": 0.95,
    "demonym": 0.95,
    "code": 0.95,
    "contact": 0.95,
    "identifier": 0.95,
    "place": 0.85,
    "person": 0.85,
    "company": 0.85,
    "first_person": 0.85,
}
MAX_FALSE_REFUSALS = 0.03
_MARK = re.compile(r"\[\[(.+?)\]\]")


@dataclass(frozen=True)
class Item:
    lang: str
    cls: str
    text: str
    start: int
    end: int


def _attributing(lang: str) -> list[Item]:
    items = []
    for raw in (CORPUS / f"attributing_{lang}.tsv").read_text("utf-8").splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        cls, marked = raw.split("\t", 1)
        m = _MARK.search(marked)
        assert m is not None, raw
        assert cls in TARGETS, raw
        text = marked[: m.start()] + m.group(1) + marked[m.end() :]
        items.append(Item(lang, cls, text, m.start(), m.start() + len(m.group(1))))
    return items


def _ordinary(lang: str) -> list[str]:
    lines = (CORPUS / f"ordinary_{lang}.txt").read_text("utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


def _caught(screener: Screener, item: Item) -> bool:
    return any(
        f.start < item.end and item.start < f.end for f in screener.screen("summary", item.text)
    )


@pytest.fixture(scope="module")
def screener() -> Screener:
    s = default_screener()
    s.warm()
    return s


def test_corpus_size() -> None:
    attributing = [i for lang in LANGUAGES for i in _attributing(lang)]
    ordinary = [t for lang in LANGUAGES for t in _ordinary(lang)]
    assert len(attributing) >= 300
    assert len(ordinary) >= 150
    for lang in LANGUAGES:
        assert {i.cls for i in _attributing(lang)} == set(TARGETS), lang
        assert len(_ordinary(lang)) >= 25, lang
    assert all(len(t) <= 2000 for t in ordinary)


def test_recall_and_false_refusals(screener: Screener) -> None:  # noqa: C901, PLR0912  one pass over the corpus, counting each class
    cells: dict[tuple[str, str], list[bool]] = {}
    missed: list[str] = []
    for lang in LANGUAGES:
        for item in _attributing(lang):
            ok = _caught(screener, item)
            cells.setdefault((item.cls, lang), []).append(ok)
            if not ok:
                missed.append(f"{lang} {item.cls}: {item.text}")
    refused: dict[str, list[bool]] = {}
    wrongly: list[str] = []
    for lang in LANGUAGES:
        for text in _ordinary(lang):
            findings = screener.screen("summary", text)
            refused.setdefault(lang, []).append(bool(findings))
            if findings:
                shown = [(text[f.start : f.end], f.kind.value) for f in findings]
                wrongly.append(f"{lang}: {shown} in {text[:60]}...")

    def pct(values: list[bool]) -> str:
        return f"{100 * sum(values) / len(values):5.1f}" if values else "    -"

    header = f"{'class':<14}" + "".join(f"{lang:>8}" for lang in LANGUAGES) + f"{'all':>8}  target"
    lines = ["", "recall (%) per class and language", header]
    for cls, target in TARGETS.items():
        row = [cells.get((cls, lang), []) for lang in LANGUAGES]
        pooled = [v for r in row for v in r]
        lines.append(
            f"{cls:<14}"
            + "".join(f"{pct(r):>8}" for r in row)
            + f"{pct(pooled):>8}  >= {100 * target:.0f}"
        )
    per_lang = [
        [v for (c, lang), vs in cells.items() if lang == code for v in vs] for code in LANGUAGES
    ]
    lines.append(f"{'all classes':<14}" + "".join(f"{pct(r):>8}" for r in per_lang))  # noqa: FURB113  the report's lines in the order they print
    lines.append("")
    lines.append("false refusals (%) of ordinary lessons per language")
    lines.append(
        f"{'':<14}"
        + "".join(f"{lang:>8}" for lang in LANGUAGES)
        + f"  target <= {100 * MAX_FALSE_REFUSALS:.0f}"
    )
    lines.append(f"{'refused':<14}" + "".join(f"{pct(refused[lang]):>8}" for lang in LANGUAGES))
    lines.append(f"{'lessons':<14}" + "".join(f"{len(refused[lang]):>8}" for lang in LANGUAGES))
    if missed:
        lines += ["", "missed:", *missed]
    if wrongly:
        lines += ["", "refused ordinary lessons:", *wrongly]
    print("\n".join(lines))  # noqa: T201  the corpus report, printed for the test log (pytest -s)

    failures = []
    for (cls, lang), values in sorted(cells.items()):
        recall = sum(values) / len(values)
        if recall < TARGETS[cls]:
            failures.append(f"recall {cls}/{lang} = {recall:.2f} < {TARGETS[cls]}")
    for lang, values in refused.items():
        rate = sum(values) / len(values)
        if rate > MAX_FALSE_REFUSALS:
            failures.append(f"false refusals {lang} = {rate:.3f} > {MAX_FALSE_REFUSALS}")
    assert failures == []


def test_screening_time_per_2000_character_text(screener: Screener) -> None:
    """Mean screening time of ~2,000-character texts per language (printed, not asserted;
    the texts, ordinary lessons joined, must pass)."""
    lines = ["", "screening time per 2,000-character text"]
    for lang in LANGUAGES:
        lessons = _ordinary(lang)
        texts = []
        for i in range(len(lessons)):
            parts: list[str] = []
            j = i
            while sum(len(p) + 1 for p in parts) + len(lessons[j % len(lessons)]) < 2000:
                parts.append(lessons[j % len(lessons)])
                j += 1
            texts.append(" ".join(parts))
        # Ordinary lessons joined stay ordinary: what is timed is a text that passes.
        assert [t for t in texts if screener.screen("summary", t)] == [], lang
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            for t in texts:
                screener.screen("summary", t)
            timings.append((time.perf_counter() - started) / len(texts))
        mean_chars = sum(map(len, texts)) / len(texts)
        lines.append(
            f"{lang}: {1000 * statistics.median(timings):.2f} ms per text "
            f"({len(texts)} texts of {mean_chars:.0f} characters on average)"
        )
    print("\n".join(lines))  # noqa: T201  the corpus report, printed for the test log (pytest -s)
