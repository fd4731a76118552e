"""Unlinkability on the wire (DESIGN §3, §11 ⚑; issue 12, problem 5): whoever reads a cases
topic cannot group one State's records.

``dief run`` (:func:`dief.pipeline.run_pipeline`, on an embedded broker this module starts)
posts cases of four States; each posts in two CSP cycles and two regions, with and without
a lesson, and revises one case. Every record of every cases topic is read back, and each is
taken apart into what anyone sees in clear: the key, the headers, the timestamp below the
hour, the value's size, and every envelope field (``recipients`` entries field by field,
each ``wrapped`` among them). Which State posted a record is known only to the test, from
``accepted.jsonl`` (each accepted line with the case id its node derived; the record's key).

The checks:

- :func:`linking_values`: no clear value is shared by records of two or more cases of one
  State only (a value common to several States' records, or unique to one record, links
  nothing; revisions of one case share their case id by design);
- :func:`size_findings`: every record's size is one of exactly two, one per kind (with or
  without a lesson), whatever the lesson's length;
- :func:`timestamp_findings`: no timestamp carries anything below the hour.

Each check is shown to catch the naive variant it exists for, by feeding it records of the
run doctored as a naive node would have sent them: a data key reused for two of a State's
records (the same ``wrapped``), a per-node header, padding to the lesson's length, and a
timestamp to the millisecond.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections import defaultdict
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

import pytest

from dief.catalogue import load_catalogue
from dief.kafka import ConsumedRecord, cases_topic
from dief.periods import Month
from dief.pipeline import RunOptions, run_pipeline
from dief.synthetic import generate_cases
from dief.testing import read_topics
from dief.vocab import Region

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping, Sequence
    from pathlib import Path

    from dief.broker import EmbeddedBroker

pytestmark = [pytest.mark.integration, pytest.mark.slow]

HOUR_MS = 3_600_000
STATES = ("NGA", "MEX", "HRV", "IDN")
WATCHED = STATES[0]  # the State the brief follows; every State is checked alike
REGIONS = (Region.AFR, Region.WEOG)
CASES_PER_CELL = 2  # per State, cycle, region and kind: a State's records can be grouped
CASES_TOPICS = [cases_topic(r) for r in Region]


@dataclasses.dataclass(frozen=True, slots=True)
class Posted:
    """What the test knows of a record and nobody on the wire should: who posted it."""

    state: str
    case_id: str
    lesson: bool


# -- the checks -------------------------------------------------------------------------------


def clear_values(record: ConsumedRecord) -> Iterator[tuple[str, str]]:
    """Everything a reader of the topic sees of *record*, as (what, value) pairs."""
    assert record.key is not None
    assert record.value is not None
    yield "key", record.key.hex()
    for name, value in record.headers:
        yield f"header {name}", value.hex()
    yield "timestamp below the hour", str(record.timestamp_ms % HOUR_MS)
    yield "size", str(len(record.value))
    envelope = json.loads(record.value)
    for name, value in envelope.items():
        if name == "recipients":
            for recipient in value:
                for field, item in recipient.items():
                    yield f"recipients.{field}", json.dumps(item)
        else:
            yield name, json.dumps(value)


def linking_values(records: Iterable[ConsumedRecord], posted: Mapping[bytes, Posted]) -> list[str]:
    """The clear values shared by records of two or more cases, all of one State."""
    owners: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
    for record in records:
        assert record.key is not None
        who = posted[record.key]
        for seen in clear_values(record):
            owners[seen].add((who.state, who.case_id))
    found = []
    for (what, value), holders in sorted(owners.items()):
        cases = {case for _, case in holders}
        states = {state for state, _ in holders}
        if len(cases) >= 2 and len(states) == 1:
            found.append(f"{what} {value[:24]}… on {len(cases)} cases of one State")
    return found


def size_findings(records: Iterable[ConsumedRecord], posted: Mapping[bytes, Posted]) -> list[str]:
    """Sizes that are not exactly one per kind (with or without a lesson) on each topic.

    Also ciphertexts not of exactly two lengths in all. (An envelope names its region in
    clear, so its size differs by topic by the length of the region code, and only so.)"""
    sizes: dict[tuple[str, bool], set[int]] = defaultdict(set)
    ciphertexts: set[int] = set()
    for record in records:
        assert record.key is not None
        assert record.value is not None
        sizes[record.topic, posted[record.key].lesson].add(len(record.value))
        ciphertexts.add(len(str(_envelope(record)["ciphertext"])))
    found = [
        f"{topic}: {len(s)} sizes of records {'with' if lesson else 'without'} a lesson"
        for (topic, lesson), s in sorted(sizes.items())
        if len(s) != 1
    ]
    for topic in sorted({t for t, _ in sizes}):
        per_topic = sizes[topic, True] | sizes[topic, False]
        if len(per_topic) != 2:
            found.append(f"{topic}: {len(per_topic)} record sizes, not 2")
    if len(ciphertexts) != 2:
        found.append(f"{len(ciphertexts)} ciphertext lengths in all, not 2")
    return found


def timestamp_findings(records: Iterable[ConsumedRecord]) -> list[str]:
    return [
        f"{r.topic}[{r.partition}]@{r.offset}: timestamp {r.timestamp_ms} below the hour"
        for r in records
        if r.timestamp_ms % HOUR_MS
    ]


# -- input ----------------------------------------------------------------------------------


def _months(today: date) -> tuple[str, str]:
    """Two months in two different CSP cycles (twelve months apart), both in the past."""
    now = Month.of(today)
    recent = Month.from_index(now.index - 2)
    return str(recent), str(Month.from_index(recent.index - 12))


def _write_input(path: Path, today: date) -> tuple[list[str], dict[int, tuple[str, bool]]]:
    """The input lines, and for each line number its State and whether it has a lesson."""
    ids = list(load_catalogue().ids)
    pool = [
        c.document
        for c in generate_cases(400, seed=11, indicator_ids=ids, today=today)
        if c.document.get("revision", 1) == 1 and c.document.get("summary")
    ]
    lines: list[str] = []
    meta: dict[int, tuple[str, bool]] = {}

    def add(doc: dict[str, object], state: str, lesson: bool) -> None:
        lines.append(json.dumps(doc, ensure_ascii=False))
        meta[len(lines)] = (state, lesson)

    source = iter(pool)
    for state in STATES:  # noqa: PLR1702  one loop per dimension of the generated data
        first: dict[str, object] | None = None
        for month in _months(today):
            for region in REGIONS:
                for lesson in (True, False):
                    for _ in range(CASES_PER_CELL):
                        doc = {**next(source), "case_id": str(uuid.uuid4())}
                        doc.update(submitted_by=state, region=region.value, related_regions=[])
                        doc.update(detected=month, status="active")
                        if not lesson:
                            doc.pop("summary", None)
                        add(doc, state, lesson)
                        first = first or doc
        assert first is not None
        add({**first, "revision": 2, "confidence": "confirmed"}, state, lesson=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return lines, meta


def _posted(out: Path, meta: Mapping[int, tuple[str, bool]]) -> dict[bytes, Posted]:
    """Record key (the case id its node derived) → who posted it, from accepted.jsonl."""
    posted: dict[bytes, Posted] = {}
    for row in map(json.loads, (out / "accepted.jsonl").read_text().splitlines()):
        state, lesson = meta[row["line"]]
        case_id = str(row["case_id"])
        posted.setdefault(case_id.encode(), Posted(state, case_id, lesson))
    return posted


# -- the run --------------------------------------------------------------------------------


async def test_a_states_records_are_not_set_apart(
    module_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    today = datetime.now(UTC).date()
    input_path = tmp_path / "cases.jsonl"
    lines, meta = _write_input(input_path, today)
    result = await run_pipeline(
        RunOptions(
            input=input_path,
            out=tmp_path / "out",
            work_dir=tmp_path / "work",
            bootstrap=module_broker.bootstrap,
            today=today,
            timeout=180.0,
        )
    )
    assert (result.accepted, result.rejected) == (len(lines), 0)
    assert result.applied == result.published == len(lines)  # one record per case revision
    records = await read_topics(module_broker.bootstrap, CASES_TOPICS, expected=len(lines))
    assert len(records) == len(lines)
    posted = _posted(tmp_path / "out", meta)
    assert {r.key for r in records} == set(posted)
    _check_premises(records, posted)

    assert linking_values(records, posted) == []
    assert size_findings(records, posted) == []
    assert timestamp_findings(records) == []

    _naive_variants_are_caught(records, posted)


def _check_premises(records: Sequence[ConsumedRecord], posted: Mapping[bytes, Posted]) -> None:
    """The input does what the test claims: the watched State's records lie in two cycles
    and two regions, and every (region, kind) has records of several States."""
    mine = [r for r in records if r.key is not None and posted[r.key].state == WATCHED]
    assert {r.topic for r in mine} == {cases_topic(r) for r in REGIONS}
    assert len(mine) == len(REGIONS) * 2 * 2 * CASES_PER_CELL + 1  # 2 cycles, 2 kinds, 1 rev
    groups: dict[tuple[str, bool], set[str]] = defaultdict(set)
    for r in records:
        assert r.key is not None
        groups[r.topic, posted[r.key].lesson].add(posted[r.key].state)
    assert len(groups) == len(REGIONS) * 2
    assert all(len(states) == len(STATES) for states in groups.values()), groups


# -- the naive variants -----------------------------------------------------------------------


def _envelope(record: ConsumedRecord) -> dict[str, object]:
    assert record.value is not None
    envelope: dict[str, object] = json.loads(record.value)
    return envelope


def _with_envelope(record: ConsumedRecord, envelope: Mapping[str, object]) -> ConsumedRecord:
    return dataclasses.replace(record, value=json.dumps(envelope).encode())


def _naive_variants_are_caught(
    records: Sequence[ConsumedRecord], posted: Mapping[bytes, Posted]
) -> None:
    mine = [r for r in records if r.key is not None and posted[r.key].state == WATCHED]
    first = next(r for r in mine if r.key is not None)
    second = next(r for r in mine if r.key != first.key and r.topic != first.topic)

    # A data key reused for two records (DESIGN §3): the same wrapped DEK in clear on both.
    reused = _envelope(second)
    wrapped = _envelope(first)["recipients"][0]["wrapped"]  # type: ignore[index]  # JSON: the envelope's recipients list
    reused["recipients"][0]["wrapped"] = wrapped  # type: ignore[index]  # JSON: the envelope's recipients list
    doctored = [_with_envelope(second, reused) if r is second else r for r in records]
    assert any(f.startswith("recipients.wrapped ") for f in linking_values(doctored, posted))

    # A header naming nothing, but the same on every record of one node.
    tagged = [
        dataclasses.replace(r, headers=(("dief-sender", b"7f3a"),)) if r in mine else r
        for r in records
    ]
    assert any(f.startswith("header dief-sender ") for f in linking_values(tagged, posted))

    # Padding to the lesson's length (a size per summary length) instead of a fixed size.
    def naive_pad(record: ConsumedRecord, extra: int) -> ConsumedRecord:
        assert record.value is not None
        return dataclasses.replace(record, value=record.value + b" " * extra)

    padded = [naive_pad(r, i % 3) if r in mine else r for i, r in enumerate(records)]
    assert size_findings(padded, posted) != []

    # Arrival times to the millisecond: a relay batch would group one node's records.
    stamped = [dataclasses.replace(r, timestamp_ms=r.timestamp_ms + 417) for r in mine]
    assert len(timestamp_findings(stamped)) == len(mine)
