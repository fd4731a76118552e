"""Screening time per 2,000-character text, per language (issue 13: aim ≤ 2 ms).

The texts are the screening corpus (``tests/unit/screening_corpus/``) padded to about 2,000
characters per language:

* ``ordinary``    — ordinary lessons joined until the next would pass 2,000 characters, one
  text starting at each lesson (the texts pass: every detector scans the whole text);
* ``attributing`` — attributing texts joined the same way (every text is refused).

Each set is screened five times (``--repeat``) after one warm-up pass; the best pass is
reported (the machine is shared: the best run is the least noisy), with the median and the
machine load during the run (other processes' cores, from ``/proc/stat``). Prints a table
and writes ``bench/results/screening.json`` and ``bench/results/screening.md``.

    python3 -m uv run python -m bench.screening [--repeat 5] [--profile] [--no-write]
    python3 -m uv run python -m bench.screening --baseline   # keep this run as "before"

``--profile`` prints a pyinstrument profile of the ordinary texts of every language instead.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import statistics
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench._common import ROOT, LoadMeter
from dief.screening import Screener

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

CORPUS = ROOT / "tests" / "unit" / "screening_corpus"
RESULTS = Path(__file__).resolve().parent / "results"
LANGUAGES = ("en", "fr", "es", "ru", "ar", "zh")
SIZE = 2000
AIM_MS = 2.0
_MARK = re.compile(r"\[\[(.+?)\]\]")


@dataclass(frozen=True)
class Row:
    """One line of the results: a language and kind of text, and its times."""

    language: str
    texts: str
    count: int
    mean_characters: int
    best_ms: float
    median_ms: float
    best_cpu_ms: float
    refused: int


def _lines(name: str) -> list[str]:
    raw = (CORPUS / name).read_text("utf-8").splitlines()
    return [line for line in raw if line.strip() and not line.startswith("#")]


def _attributing(lang: str) -> list[str]:
    out = []
    for line in _lines(f"attributing_{lang}.tsv"):
        _cls, marked = line.split("\t", 1)
        out.append(_MARK.sub(lambda m: m.group(1), marked))
    return out


def padded(pieces: Sequence[str], size: int = SIZE) -> list[str]:
    """One text per piece: it and the pieces after it (cyclically) up to ``size`` chars."""
    texts = []
    for i in range(len(pieces)):
        parts: list[str] = []
        j = i
        while sum(len(p) + 1 for p in parts) + len(pieces[j % len(pieces)]) < size:
            parts.append(pieces[j % len(pieces)])
            j += 1
        texts.append(" ".join(parts))
    return texts


def corpus_texts() -> dict[tuple[str, str], list[str]]:
    """``(language, "ordinary" | "attributing")`` → texts of about 2,000 characters."""
    out = {}
    for lang in LANGUAGES:
        out[lang, "ordinary"] = padded(_lines(f"ordinary_{lang}.txt"))
        out[lang, "attributing"] = padded(_attributing(lang))
    return out


def _passes(run: Callable[[], object], repeat: int) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of ``repeat`` passes (after one warm-up pass)."""
    run()  # warm-up: caches filled, as on a running node
    wall, cpu = [], []
    for _ in range(repeat):
        started, cpu0 = time.perf_counter(), time.process_time()
        run()
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu0)
    return wall, cpu


def measure(screener: Screener, repeat: int) -> list[Row]:
    """Screen every corpus text *repeat* times; one row per (language, kind)."""
    rows = []
    for (lang, kind), texts in corpus_texts().items():

        def run(texts: list[str] = texts) -> None:
            for t in texts:
                screener.screen("summary", t)

        timings, cpu = _passes(run, repeat)
        refused = sum(1 for t in texts if screener.screen("summary", t))
        rows.append(
            Row(
                language=lang,
                texts=kind,
                count=len(texts),
                mean_characters=round(sum(map(len, texts)) / len(texts)),
                best_ms=round(1000 * min(timings) / len(texts), 3),
                median_ms=round(1000 * statistics.median(timings) / len(texts), 3),
                best_cpu_ms=round(1000 * min(cpu) / len(texts), 3),
                refused=refused,
            )
        )
    return rows


def _markdown(run: dict[str, Any], baseline: dict[str, Any] | None) -> str:
    load = run["load"]
    lines = [
        "# Screening time per 2,000-character text",
        "",
        (
            f"`python3 -m uv run python -m bench.screening` — {run['when']}, Python "
            f"{run['python']}, best of {run['repeat']} passes after a warm-up (wall time; CPU "
            f"time of this process beside it). Machine load during the run: other processes "
            f"{load['other_cores']} cores, load average {load['loadavg_before']} before."
        ),
        "",
    ]
    before: dict[tuple[str, str], dict[str, Any]] = {}
    if baseline is not None:
        before = {(r["language"], r["texts"]): r for r in baseline["rows"]}
        bl = baseline["load"]
        what = baseline.get("note") or "`--baseline`"
        lines += [
            (
                f"Before: the baseline run of {baseline['when']} ({what}; other processes "
                f"{bl['other_cores']} cores, load average {bl['loadavg_before']})."
            ),
            "",
        ]
    head = "| language | texts | count | mean chars | best ms/text | median | best CPU ms |"
    rule = "|---|---|---|---|---|---|---|"
    if before:
        head += " before: best ms | before: CPU ms |"
        rule += "---|---|"
    lines += [f"{head} refused | ≤ {AIM_MS:g} ms |", f"{rule}---|---|"]
    for r in run["rows"]:
        met = "yes" if r["best_ms"] <= AIM_MS else "no"
        row = (
            f"| {r['language']} | {r['texts']} | {r['count']} | {r['mean_characters']} "
            f"| {r['best_ms']:.2f} | {r['median_ms']:.2f} | {r['best_cpu_ms']:.2f} |"
        )
        b = before.get((r["language"], r["texts"]))
        if before:
            row += f" {b['best_ms']:.2f} | {b['best_cpu_ms']:.2f} |" if b else " - | - |"
        lines.append(f"{row} {r['refused']} | {met} |")
    return "\n".join(lines) + "\n"


def profile(screener: Screener) -> None:
    """Print where screening the ordinary texts spends its time (pyinstrument)."""
    from pyinstrument import Profiler  # noqa: PLC0415  loaded where used: a phase or child process loads only what it measures

    texts = [t for (_, kind), ts in corpus_texts().items() if kind == "ordinary" for t in ts]
    profiler = Profiler(interval=0.0002)
    profiler.start()
    for _ in range(20):
        for t in texts:
            screener.screen("summary", t)
    profiler.stop()
    print(profiler.output_text(unicode=True, color=False, show_all=False))


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m bench.screening``: measure, print the table, write the results."""
    parser = argparse.ArgumentParser(prog="python -m bench.screening", description=__doc__)
    parser.add_argument("--repeat", type=int, default=5, help="timed passes (best is kept)")
    parser.add_argument("--profile", action="store_true", help="pyinstrument profile instead")
    parser.add_argument("--no-write", action="store_true", help="do not write bench/results")
    parser.add_argument(
        "--baseline", action="store_true", help="keep this run as the 'before' of later runs"
    )
    args = parser.parse_args(argv)
    screener = Screener()
    screener.warm()
    if args.profile:
        profile(screener)
        return
    meter = LoadMeter()
    meter.start()
    rows = measure(screener, args.repeat)
    run: dict[str, Any] = {
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "python": platform.python_version(),
        "repeat": args.repeat,
        "load": meter.finish(),
        "rows": [asdict(r) for r in rows],
    }
    path = RESULTS / "screening.json"
    previous = json.loads(path.read_text("utf-8")) if path.exists() else {}
    baseline = run if args.baseline else previous.get("baseline")
    table = _markdown(run, None if args.baseline else baseline)
    print(table)
    if not args.no_write:
        RESULTS.mkdir(exist_ok=True)
        doc = {**run, "baseline": baseline}
        path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", "utf-8")
        (RESULTS / "screening.md").write_text(table, "utf-8")


if __name__ == "__main__":
    main()
