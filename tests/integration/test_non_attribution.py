"""Non-attribution end to end (DESIGN §5 ⚑): nothing the pipeline writes names a State.

Cases from three simulated States go through the whole pipeline in-process
(:func:`dief.pipeline.run_pipeline`) against an embedded broker this module starts, with
every logger captured at DEBUG. Then every record of every topic on that broker is read
back, and the State codes and names are searched for in

- each record's key, headers and clear envelope fields (everything but the sealed
  ``ciphertext`` and ``wrapped`` DEK; the ``nonce`` must be 12 random bytes),
- every file under ``--out``,
- every file of the work directory, node outboxes included (they hold sealed values only),
- every log record and everything printed.

The State codes are long and distinctive (``QXZ-9K7W-2JV4``; the input allows up to 16
characters): a three-letter code would turn up by chance in the base64 of keys, nonces and
ciphertexts. The State names are real (the screening knows them) and appear in input lines
the node must refuse, whose text must never be echoed.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dief.broker import EmbeddedBroker
from dief.catalogue import load_catalogue
from dief.crypto import RECEIPT_VALUE_BYTES
from dief.kafka import RECEIPTS_TOPIC, ConsumedRecord
from dief.pipeline import RunOptions, RunResult, run_pipeline
from dief.synthetic import generate_cases
from dief.testing import read_topics

pytestmark = [pytest.mark.integration, pytest.mark.slow]

#: code → name of each simulated State.
STATES = {
    "QXZ-9K7W-2JV4": "Liechtenstein",
    "QJV-4M8T-7XQ1": "Tuvalu",
    "QKW-3R6Y-5HZ8": "San Marino",
}
FORBIDDEN = tuple(STATES) + tuple(STATES.values())
ENVELOPE_FIELDS = {"v", "type", "schema", "id", "region", "suite", "recipients", "nonce"}
HOUR_MS = 3_600_000


def _find(text: str) -> list[str]:
    """Which forbidden strings occur in *text* (case-insensitive)."""
    low = text.lower()
    return [word for word in FORBIDDEN if word.lower() in low]


def _find_bytes(data: bytes) -> list[str]:
    low = data.lower()
    return [word for word in FORBIDDEN if word.lower().encode("utf-8") in low]


# -- input ----------------------------------------------------------------------------------


def _refused_lines(template: dict[str, object]) -> list[str]:
    """Lines naming the submitting State that the node must refuse without echoing them."""
    (code_a, name_a), (code_b, name_b), (code_c, name_c) = STATES.items()
    lines = [
        # The State names itself in the lessons-learned text.
        {**template, "case_id": str(uuid.uuid4()), "submitted_by": code_a,
         "summary": f"Customs officers of {name_a} found forged end-user papers."},
        {**template, "case_id": str(uuid.uuid4()), "submitted_by": code_b,
         "summary": f"A broker from {name_b} arranged the transfer through a shell firm."},
        # Its code where a region belongs, and in a malformed field.
        {**template, "case_id": str(uuid.uuid4()), "submitted_by": code_c, "region": code_c},
        {**template, "case_id": str(uuid.uuid4()), "submitted_by": code_c.lower()},
        {**template, "case_id": str(uuid.uuid4()), "submitted_by": code_a,
         "transfer_stage": f"seized_by_{name_c}"},
    ]  # fmt: skip
    text = [json.dumps(line) for line in lines]
    text.append('{"submitted_by": "' + code_b + '", "summary": "' + name_a + " ...")  # not JSON
    return text


@dataclass(frozen=True, slots=True)
class Scenario:
    input: Path
    out: Path
    work: Path
    accepted_lines: int
    refused_lines: int


def _write_input(path: Path) -> tuple[int, int]:
    today = datetime.now(UTC).date()
    ids = list(load_catalogue().ids)
    cases = [c.document for c in generate_cases(150, seed=5, indicator_ids=ids, today=today)]
    # Every simulated State of the generator becomes one of ours, consistently, so that a
    # case and its revisions come from the same node.
    originals = sorted({str(c["submitted_by"]) for c in cases})
    codes = list(STATES)
    mapping = {state: codes[i % len(codes)] for i, state in enumerate(originals)}
    lines = []
    for case in cases:
        lines.append(json.dumps({**case, "submitted_by": mapping[str(case["submitted_by"])]}))
    refused = _refused_lines({k: v for k, v in cases[0].items() if k not in {"case_id"}})
    for offset, line in enumerate(refused):
        lines.insert(10 + 20 * offset, line)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(cases), len(refused)


# -- capture --------------------------------------------------------------------------------


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def all_logs() -> Iterator[_Capture]:
    """Every log record of every logger at DEBUG, whatever levels earlier code set."""
    capture = _Capture()
    root = logging.getLogger()
    saved_root = root.level
    saved: dict[str, tuple[int, bool, bool]] = {}
    for name, logger in logging.Logger.manager.loggerDict.items():
        if isinstance(logger, logging.Logger):
            saved[name] = (logger.level, logger.propagate, logger.disabled)
            logger.setLevel(logging.NOTSET)
            logger.propagate = True
            logger.disabled = False
    root.setLevel(logging.DEBUG)
    root.addHandler(capture)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        root.setLevel(saved_root)
        for name, (level, propagate, disabled) in saved.items():
            logger = logging.getLogger(name)
            logger.setLevel(level)
            logger.propagate = propagate
            logger.disabled = disabled


# -- the run --------------------------------------------------------------------------------


async def test_nothing_names_a_state(
    module_broker: EmbeddedBroker,
    all_logs: _Capture,
    capfd: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    input_path = tmp_path / "input" / "cases.jsonl"
    input_path.parent.mkdir()
    accepted_lines, refused_lines = _write_input(input_path)
    text = input_path.read_text(encoding="utf-8")
    assert all(word in text for word in FORBIDDEN)  # the input does name them
    scenario = Scenario(
        input_path, tmp_path / "out", tmp_path / "work", accepted_lines, refused_lines
    )

    result = await run_pipeline(
        RunOptions(
            input=scenario.input,
            out=scenario.out,
            work_dir=scenario.work,
            bootstrap=module_broker.bootstrap,
            today=datetime.now(UTC).date(),
            timeout=180.0,
        )
    )
    assert (result.accepted, result.rejected) == (accepted_lines, refused_lines)
    assert result.published == result.accepted  # each case to its own region only
    assert result.applied == result.published

    records = await read_topics(
        module_broker.bootstrap,
        expected=2 * result.published + result.dead_lettered,  # records, receipts, letters
        idle=1.0,
    )
    _check_records(records, result)
    _check_rejected(scenario)
    _check_files(scenario.out, minimum=10)
    outboxes = list((scenario.work / "run" / "nodes").glob("*"))
    assert len([p for p in outboxes if p.suffix == ".sqlite"]) == len(STATES)
    _check_files(scenario.work, minimum=len(STATES) + 3)
    _check_logs(all_logs.records)
    printed = capfd.readouterr()
    assert _find(printed.out + printed.err) == []


def _clear_fields(value: bytes, where: str) -> str:
    """The clear part of a sealed envelope, as text: every field but the ciphertext and the
    wrapped DEKs; the nonce is checked to be 12 bytes and left out (random base64)."""
    envelope = json.loads(value)
    clear = {k: v for k, v in envelope.items() if k != "ciphertext"}
    assert set(clear) == ENVELOPE_FIELDS, where
    nonce = clear.pop("nonce")
    assert len(base64.urlsafe_b64decode(nonce + "=" * (-len(nonce) % 4))) == 12, where
    clear["recipients"] = [
        {k: v for k, v in rcpt.items() if k != "wrapped"} for rcpt in clear["recipients"]
    ]
    return json.dumps(clear)


def _check_records(records: list[ConsumedRecord], result: RunResult) -> None:
    case_records = receipts = 0
    for r in records:
        where = f"{r.topic}[{r.partition}]@{r.offset}"
        assert r.key is not None, where
        assert r.value is not None, where
        assert _find_bytes(r.key) == [], where
        for name, value in r.headers:
            assert _find(name) == [], where
            assert _find_bytes(value) == [], where
        assert r.timestamp_ms % HOUR_MS == 0, f"{where}: timestamp not coarsened to the hour"
        if re.fullmatch(r"dief\.[a-z]+\.(cases|dlq)", r.topic):
            case_records += 1
            assert uuid.UUID(r.key.decode("ascii")), where  # the key is the case id
            assert _find(_clear_fields(r.value, where)) == [], where
        elif r.topic == "dief.digests":
            assert _find(_clear_fields(r.value, where)) == [], where
        elif r.topic == RECEIPTS_TOPIC:  # a hash for a key, one length, all else sealed
            assert re.fullmatch(rb"[0-9a-f]{64}", r.key), where
            assert len(r.value) == RECEIPT_VALUE_BYTES, where
            assert r.headers == (), where
            receipts += 1
        else:  # csp.reporting: public-safe JSON, searched whole
            assert _find_bytes(r.value) == [], where
    assert case_records == result.published + result.dead_lettered
    assert receipts == result.published  # every record of the run opened


def _check_rejected(scenario: Scenario) -> None:
    text = (scenario.out / "rejected.jsonl").read_text(encoding="utf-8")
    rows = [json.loads(line) for line in text.splitlines()]
    assert len(rows) == scenario.refused_lines
    assert {r["reason"] for r in rows} >= {"screening", "malformed_json", "invalid_value"}
    assert _find(text) == []


def _contents(path: Path) -> Iterator[tuple[str, bytes]]:
    """A file's bytes, or each member of a zip container (DOCX) uncompressed."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                yield f"{path.name}!{member}", archive.read(member)
    else:
        yield path.name, path.read_bytes()


def _check_files(root: Path, *, minimum: int) -> None:
    files = [p for p in root.rglob("*") if p.is_file()]
    assert len(files) >= minimum, f"only {len(files)} files under {root}"
    leaks = {
        f"{p.parent.relative_to(root)}/{name}": found
        for p in files
        for name, data in _contents(p)
        if (found := _find_bytes(data))
    }
    assert leaks == {}


def _check_logs(records: list[logging.LogRecord]) -> None:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    names = {r.name.split(".")[0] for r in records}
    assert {"dief", "aiokafka"} <= names, names  # the capture saw the library and the client
    assert any(r.levelno == logging.DEBUG for r in records)
    leaks = [line for r in records if _find(line := formatter.format(r))]
    assert leaks == []
