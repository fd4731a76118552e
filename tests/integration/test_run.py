"""``dief run`` end to end, as the console script in a subprocess (DESIGN §9 ⚑).

One JSON Lines file of a few hundred synthetic cases with four bad lines goes through the
whole pipeline (nodes, embedded broker, regional aggregators, outputs). The run's outputs
are checked against what the input implies: the digest files for every period with data,
the CSP summaries, ``accepted.jsonl`` (the case id each accepted line received),
``rejected.jsonl`` and the counts in ``run.json``. The same input run
against a broker the test started (``--bootstrap``) and with PostgreSQL
(``--database-url``) must give byte-identical digests and summaries. A run that cannot
reach its broker exits non-zero with a one-line reason.

Each run gets its own work directory (``DIEF_WORK_DIR``) and ``--out``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dief.broker import EmbeddedBroker, pick_free_port
from dief.catalogue import load_catalogue
from dief.periods import CspCycle, Month
from dief.synthetic import generate_cases, write_jsonl

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DIEF = Path(sys.executable).parent / "dief"
RUN_TIMEOUT = 240.0
CASES = 300
SEED = 11

#: Text inside the refused lines that must never be echoed anywhere.
MALFORMED_MARK = "ZQ-MALFORMED-7731"
ENUM_MARK = "zq_teleportation_7732"
COUNTRY_TEXT = "through Burkina Faso"


@dataclass(frozen=True, slots=True)
class BadLine:
    line: int
    case_id: str | None
    reason: str
    text: str


@dataclass(frozen=True, slots=True)
class Batch:
    path: Path
    lines: int
    bad: tuple[BadLine, ...]
    good: tuple[dict[str, object], ...]


@dataclass(frozen=True, slots=True)
class RunOutcome:
    returncode: int
    stdout: str
    stderr: str
    out: Path
    work: Path


def _today() -> datetime:
    return datetime.now(UTC)


def _env(work: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIEF_")}
    env.update({"DIEF_WORK_DIR": str(work), "COLUMNS": "200", **extra})
    return env


def dief_run(tmp: Path, batch_path: Path, *args: str, **env: str) -> RunOutcome:
    """``dief run --input … --out tmp/out`` in *tmp*, with ``DIEF_WORK_DIR=tmp/work``."""
    out, work = tmp / "out", tmp / "work"
    proc = subprocess.run(
        [str(DIEF), "run", "--input", str(batch_path), "--out", str(out), *args],
        cwd=tmp,
        env=_env(work, **env),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    return RunOutcome(proc.returncode, proc.stdout, proc.stderr, out, work)


def _bad_lines() -> list[tuple[str, str | None, str, str]]:
    """(raw line, case_id, reason, refused text) for each bad line."""
    good = {
        "kind": "case",
        "confidence": "suspected",
        "region": "AFR",
        "detected": f"{_today().year - 1}-11",
        "items": [{"category": "small_arms", "quantity": 12}],
        "transfer_stage": "in_transit",
        "methods": ["falsified_documents"],
        "transport_modes": ["land"],
        "end_user_type": "criminal_organization",
        "detection_source": "customs_border_control",
        "actions_taken": ["seizure"],
        "tlp": "amber",
        "submitted_by": "NGA",
    }
    enum_id, country_id, missing_id = (str(uuid.uuid4()) for _ in range(3))
    malformed = '{"region": "AFR", "summary": "' + MALFORMED_MARK + '", "items": [,}'
    enum_bad = {**good, "case_id": enum_id, "transfer_stage": ENUM_MARK}
    summary = f"Rifles were diverted {COUNTRY_TEXT} by a broker using forged papers."
    country = {**good, "case_id": country_id, "summary": summary}
    missing = {k: v for k, v in {**good, "case_id": missing_id}.items() if k != "submitted_by"}
    return [
        (malformed, None, "malformed_json", MALFORMED_MARK),
        (json.dumps(enum_bad), enum_id, "invalid_value", ENUM_MARK),
        (json.dumps(country), country_id, "screening", COUNTRY_TEXT),
        (json.dumps(missing), missing_id, "missing_submitted_by", missing_id),
    ]


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Batch:
    """A few hundred synthetic cases with four bad lines at fixed 1-based positions."""
    base = tmp_path_factory.mktemp("batch")
    generated = base / "generated.jsonl"
    write_jsonl(
        generate_cases(
            CASES, seed=SEED, indicator_ids=list(load_catalogue().ids), today=_today().date()
        ),
        generated,
    )
    lines = generated.read_text(encoding="utf-8").splitlines()
    good = tuple(json.loads(line) for line in lines)
    positions = (3, 77, 150, len(lines) + 4)  # 1-based lines in the final file
    bad: list[BadLine] = []
    for position, (raw, case_id, reason, text) in zip(positions, _bad_lines(), strict=True):
        lines.insert(position - 1, raw)
        bad.append(BadLine(position, case_id, reason, text))
    path = base / "cases.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for b in bad:
        assert lines[b.line - 1].count(b.text) >= 1  # the refused text is in the input
    return Batch(path, len(lines), tuple(bad), good)


@pytest.fixture(scope="module")
def embedded_run(batch: Batch, tmp_path_factory: pytest.TempPathFactory) -> RunOutcome:
    """The default run: embedded broker, SQLite."""
    return dief_run(tmp_path_factory.mktemp("embedded"), batch.path)


def _expected_periods(good: tuple[dict[str, object], ...]) -> dict[str, set[str]]:
    """Region → every month, quarter, half-cycle and cycle in which a case counts (latest revision
    active), computed from the input alone."""
    latest: dict[str, dict[str, object]] = {}
    for case in good:
        cid = str(case["case_id"])
        if cid not in latest or int(str(case["revision"])) > int(str(latest[cid]["revision"])):
            latest[cid] = case
    periods: dict[str, set[str]] = {}
    for case in latest.values():
        if case["status"] != "active":
            continue
        month = Month.parse(str(case["detected"])[:7])
        periods.setdefault(str(case["region"]), set()).update(
            {str(month), str(month.quarter), str(month.half()), str(CspCycle.of(month))}
        )
    return periods


def _records_of(case: dict[str, object]) -> int:
    """Records a case makes: one, to its own region (related regions learn of it through
    route tables)."""
    del case
    return 1


def _tree(root: Path) -> dict[str, bytes]:
    """Every output but ``run.json`` (timings), for comparing two runs. A CSP summary is
    signed with the run's own keys, so its ``signature`` is checked present and left out."""
    tree = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.name in {"run.json", "accepted.jsonl"}:
            continue  # timings; case ids derived from each run's fresh node secrets
        if ".dief" in path.relative_to(root).parts:
            continue  # the render manifest: hashes of the files compared here
        data = path.read_bytes()
        if path.parent.name == "summary" and path.suffix == ".json":
            doc = json.loads(data)
            assert doc.pop("signature"), f"{path} is not signed"
            assert doc.pop("issued_at"), f"{path} has no issue time"
            data = json.dumps(doc, sort_keys=True).encode()
        # a data_version is the period's cases' ids and revisions, folded (random to a
        # reader); each run's node gives its cases fresh ids, so two runs state their own
        # tokens for the same figures: present, and left out of the comparison
        data = _DATA_VERSION.sub(b'"data_version": "-"', data)
        # a route table a digest shows carries its issue hour: two runs either side of an
        # hour differ there only (seen as a flaky "same outputs" failure at hh:00)
        data = _ISSUED_AT.sub(b'"issued_at": "-"', data)
        tree[str(path.relative_to(root))] = data
    return tree


_DATA_VERSION = re.compile(rb'"data_version": "[0-9a-f]{16}"')
_ISSUED_AT = re.compile(rb'"issued_at": "[0-9T:+Z.-]+"')


def _assert_ok(outcome: RunOutcome) -> None:
    """The run completed: exit status 0, or 1 when input lines were refused (as ``dief
    post``), with every output written either way."""
    facts = json.loads((outcome.out / "run.json").read_text(encoding="utf-8"))
    expected = 1 if facts["rejected"] else 0
    assert outcome.returncode == expected, f"dief run failed:\n{outcome.stderr[-3000:]}"


# -- the default run ------------------------------------------------------------------------


def test_run_exits_one_for_refused_lines_and_says_where_outputs_are(
    batch: Batch, embedded_run: RunOutcome
) -> None:
    _assert_ok(embedded_run)
    assert batch.bad
    assert embedded_run.returncode == 1  # refused lines: non-zero, as dief post
    assert "Traceback" not in embedded_run.stderr
    assert f"{batch.lines} lines read" in embedded_run.stdout
    assert f"{len(batch.bad)} rejected" in embedded_run.stdout
    assert str(embedded_run.out / "digests") in embedded_run.stdout


def test_run_json_counts_add_up(batch: Batch, embedded_run: RunOutcome) -> None:
    _assert_ok(embedded_run)
    facts = json.loads((embedded_run.out / "run.json").read_text(encoding="utf-8"))
    assert set(facts) >= {
        "read",
        "accepted",
        "rejected",
        "published",
        "applied",
        "dead_lettered",
        "timings",
    }
    assert facts["read"] == batch.lines
    assert facts["rejected"] == len(batch.bad)
    assert facts["accepted"] == batch.lines - len(batch.bad)  # every other line is accepted
    assert facts["read"] == facts["accepted"] + facts["rejected"]
    # One record per case, to its own region.
    records = sum(_records_of(c) for c in batch.good)
    assert facts["published"] == records
    assert facts["applied"] + facts["dead_lettered"] == facts["published"]
    assert facts["dead_lettered"] == 0
    timings = facts["timings"]
    assert timings["total"] > 0
    assert all(isinstance(v, int | float) and v >= 0 for v in timings.values())


def test_run_explains_why_cases_and_records_differ(embedded_run: RunOutcome) -> None:
    _assert_ok(embedded_run)
    facts = json.loads((embedded_run.out / "run.json").read_text(encoding="utf-8"))
    lines = (embedded_run.out / "accepted.jsonl").read_text(encoding="utf-8").splitlines()
    accepted = [json.loads(line) for line in lines]
    assert facts["cases"] == len({a["case_id"] for a in accepted})
    assert (facts["held"], facts["duplicates"]) == (0, 0)
    later = facts["revisions"] + facts["withdrawals"]
    assert later == sum(a["revision"] > 1 for a in accepted)
    assert facts["published"] == facts["cases"] + later
    said = f"{facts['cases']:,} cases became {facts['published']:,} records"
    assert said in embedded_run.stdout
    assert f"{facts['revisions']:,} revision" in embedded_run.stdout
    index = (embedded_run.out / "index.html").read_text(encoding="utf-8")
    assert said in index
    assert "<script" not in index
    for path in (embedded_run.out / "summary").iterdir():
        assert f'href="summary/{path.name}"' in index
    assert "writing digests and summaries" in embedded_run.stderr


def test_rejected_jsonl_names_line_case_and_reason_never_the_text(
    batch: Batch, embedded_run: RunOutcome
) -> None:
    _assert_ok(embedded_run)
    text = (embedded_run.out / "rejected.jsonl").read_text(encoding="utf-8")
    rows = [json.loads(line) for line in text.splitlines()]
    assert [set(r) for r in rows] == [{"line", "case_id", "reason", "message"}] * len(rows)
    got = [(r["line"], r["case_id"], r["reason"]) for r in rows]
    assert got == [(b.line, b.case_id, b.reason) for b in batch.bad]
    assert all(isinstance(r["message"], str) and r["message"] for r in rows)
    for bad in batch.bad:
        if bad.reason != "missing_submitted_by":  # its "text" is the case id, listed on purpose
            assert bad.text not in text
    assert "Burkina" not in text


def test_accepted_jsonl_gives_each_accepted_line_its_derived_case_id(
    batch: Batch, embedded_run: RunOutcome
) -> None:
    _assert_ok(embedded_run)
    text = (embedded_run.out / "accepted.jsonl").read_text(encoding="utf-8")
    rows = [json.loads(line) for line in text.splitlines()]
    assert [set(r) for r in rows] == [{"line", "case_id", "revision"}] * len(rows)
    bad = {b.line for b in batch.bad}
    assert [r["line"] for r in rows] == [n for n in range(1, batch.lines + 1) if n not in bad]
    assert all(uuid.UUID(r["case_id"]).version == 8 for r in rows)
    # Each input reference names one derived case; its revisions keep that id, and the
    # reference itself (the practitioner's own) is never what the case travels under.
    by_reference: dict[str, set[str]] = {}
    for row, case in zip(rows, batch.good, strict=True):
        assert row["revision"] == case.get("revision", 1)
        by_reference.setdefault(str(case["case_id"]), set()).add(row["case_id"])
    assert all(len(ids) == 1 for ids in by_reference.values())
    assert not set(by_reference) & {r["case_id"] for r in rows}


def test_digest_and_summary_files_for_every_period_with_data(
    batch: Batch, embedded_run: RunOutcome
) -> None:
    _assert_ok(embedded_run)
    expected = _expected_periods(batch.good)
    assert len(expected) == 5  # the synthetic set covers every region
    digests = embedded_run.out / "digests"
    found: dict[str, dict[str, set[str]]] = {}  # region -> period -> file suffixes
    for path in digests.rglob("*"):
        if path.is_file():
            by_period = found.setdefault(path.parent.name, {})
            by_period.setdefault(path.stem, set()).add(path.suffix)
    assert set(found) == set(expected)
    for region, periods in expected.items():
        assert set(found[region]) == periods, region  # every period with data, no other
        for period, suffixes in found[region].items():
            assert suffixes >= {".json", ".md"}, f"{region}/{period}"
    for region, periods in expected.items():
        for period in periods:
            doc = json.loads((digests / region / f"{period}.json").read_text(encoding="utf-8"))
            assert (doc["region"], doc["period"]) == (region, period)
            assert doc["totals"]["cases"] is None or doc["totals"]["cases"] >= 1
    cycles = {
        p for periods in expected.values() for p in periods if p.startswith("CSP") and "-H" not in p
    }
    summary = embedded_run.out / "summary"
    assert {p.name for p in summary.iterdir()} == {
        f"{c}.{ext}" for c in cycles for ext in ("json", "md", "html", "docx", "csv")
    }
    for cycle in cycles:
        doc = json.loads((summary / f"{cycle}.json").read_text(encoding="utf-8"))
        assert doc["cycle"] == cycle
        assert set(doc["regions"]) <= set(expected)


def test_outputs_are_only_where_design_puts_them(embedded_run: RunOutcome) -> None:
    _assert_ok(embedded_run)
    top = {p.name for p in embedded_run.out.iterdir()}
    assert top == {
        "digests",
        "summary",
        "accepted.jsonl",
        "rejected.jsonl",
        "run.json",
        "index.html",
        ".dief",  # the manifest of what was rendered from what (dief.render._changed)
    }
    # no temp files: the one hidden name is the manifest's folder
    assert [p.name for p in embedded_run.out.rglob(".*")] == [".dief"]
    assert [p.name for p in (embedded_run.out / ".dief").iterdir()] == ["manifest.json"]


# -- the same input elsewhere ---------------------------------------------------------------


def test_bootstrap_to_a_given_broker_gives_the_same_outputs(
    batch: Batch,
    embedded_run: RunOutcome,
    module_broker: EmbeddedBroker,
    tmp_path: Path,
) -> None:
    _assert_ok(embedded_run)
    outcome = dief_run(tmp_path, batch.path, "--bootstrap", module_broker.bootstrap)
    _assert_ok(outcome)
    # The given broker was used: the run started none of its own.
    assert not (outcome.work / "run" / "broker.log").exists()
    assert _tree(outcome.out) == _tree(embedded_run.out)


@pytest.mark.postgres
def test_postgresql_gives_the_same_outputs_as_sqlite(
    batch: Batch, embedded_run: RunOutcome, postgres_url: str, tmp_path: Path
) -> None:
    _assert_ok(embedded_run)
    outcome = dief_run(tmp_path, batch.path, "--database-url", postgres_url)
    _assert_ok(outcome)
    assert not (outcome.work / "run" / "aggregator.sqlite").exists()
    assert _tree(outcome.out) == _tree(embedded_run.out)
    facts = json.loads((outcome.out / "run.json").read_text(encoding="utf-8"))
    assert facts["applied"] == facts["published"]


# -- failures -------------------------------------------------------------------------------


def _assert_one_line_failure(outcome: RunOutcome, *fragments: str) -> None:
    assert outcome.returncode != 0
    assert "Traceback" not in outcome.stderr
    lines = [line for line in outcome.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, outcome.stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0]


def test_unreachable_bootstrap_fails_with_one_line(batch: Batch, tmp_path: Path) -> None:
    address = f"127.0.0.1:{pick_free_port()}"  # nothing listens there
    outcome = dief_run(tmp_path, batch.path, "--bootstrap", address)
    _assert_one_line_failure(outcome, address)
    assert not (outcome.out / "run.json").exists()


def test_missing_input_fails_with_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "no [such] file.jsonl"  # brackets: the message is not markup
    outcome = dief_run(tmp_path, missing)
    _assert_one_line_failure(outcome, str(missing))
