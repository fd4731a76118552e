"""``dief digest`` on an aggregator database, and the HTML outputs in headless Chromium.

The database is filled through ``CaseStore.apply_batch`` with real sealed cases (the
aggregator's own write path), so the command reads exactly what ``dief run`` leaves. The
browser tests need the Debian package ``chromium``; without it they skip and say so.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import re
import subprocess
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

from dief.aggregator import CaseFacts, case_values
from dief.aggregator.store import CaseStore
from dief.catalogue import load_catalogue
from dief.cli import app
from dief.crypto import KemPrivateKey, Opener, Sealer, b64url_encode
from dief.database import sqlite_url
from dief.digests import parse_payload
from dief.kafka import DIGESTS_TOPIC
from dief.keyring import KeyRole, SimulatedForum
from dief.render import render_summary_html
from dief.secretariat import build_summary
from dief.testing import read_topics
from dief.vocab import Dimension, TransferStage
from dief.wire import SUITE_X25519, TYPE_CASE, CaseRecord, Digest, parse_case
from tests.unit.record_helpers import seal_record, signed_record

if TYPE_CHECKING:
    from dief.broker import EmbeddedBroker

pytestmark = pytest.mark.integration

PASSPHRASE = "digest-cli-test-passphrase"
MONTHS = ("2025-10", "2025-11", "2025-12", "2026-01", "2026-02", "2026-03")
LESSON = "Licence stamps differed from the issuing ministry's register ({stage}, {n})."
CHROMIUM = Path("/usr/bin/chromium")


@dataclass(frozen=True)
class Forum:
    url: str
    keys: Path
    root_fingerprint: str
    passphrase_file: Path
    lessons: dict[str, set[str]]  # month -> shareable lesson texts


def _record(rng: random.Random, month: str, node: int, n: int) -> CaseRecord:
    stage = rng.choice([s.value for s in TransferStage])
    tlp = rng.choice(["amber", "green", "clear", "red", "amber_strict"])
    case = parse_case(
        {
            "confidence": rng.choice(["confirmed", "suspected"]),
            "region": "AFR",
            "detected": month,
            "items": [{"category": rng.choice(["small_arms", "ammunition"]), "quantity": 50}],
            "transfer_stage": stage,
            "methods": [rng.choice(["falsified_documents", "illicit_brokering"])],
            "risk_indicators": rng.sample(["DOC-01", "EU-01", "RTE-01", "TRX-01"], 2),
            "detection_source": "licensing_review",
            "summary": LESSON.format(stage=stage, n=n),
            "tlp": tlp,
        },
        today=date(2026, 6, 1),
    )
    return signed_record(case, secret=hashlib.sha256(f"node-{node}".encode()).digest(), index=n)


def _facts(rec: CaseRecord, sealed: bytes) -> CaseFacts:
    return CaseFacts(
        record_id=str(uuid.uuid4()),
        case_id=rec.case_id,
        revision=rec.revision,
        region=rec.region.value,
        status=rec.status.value,
        contributor=rec.contributor,
        owner_key=rec.owner_key,
        month=rec.detected_month,
        cycle=rec.cycle,
        tlp=rec.tlp.value,
        values=case_values(rec),
        sealed=sealed,
    )


@pytest.fixture(scope="module")
def forum(tmp_path_factory: pytest.TempPathFactory) -> Forum:
    base = tmp_path_factory.mktemp("digest-cli")
    ring = SimulatedForum.create(base / "keys", PASSPHRASE)
    sealer = Sealer(
        type=TYPE_CASE, region="AFR", recipients=ring.sealing_keys(KeyRole.REGION, "AFR")
    )
    (base / "passphrase").write_text(PASSPHRASE + "\n", encoding="utf-8")
    rng = random.Random(17)
    facts: list[CaseFacts] = []
    lessons: dict[str, set[str]] = {}
    for n in range(160):
        month = rng.choice(MONTHS)
        rec = _record(rng, month, min(int(rng.paretovariate(1.3)) - 1, 5), n)
        facts.append(_facts(rec, seal_record(sealer, rec)))
        if rec.tlp.meeting_may_read and rec.summary:
            lessons.setdefault(month, set()).add(rec.summary)
    url = sqlite_url(base / "aggregator.sqlite")

    async def fill() -> None:
        async with CaseStore(url) as store:
            await store.apply_batch("AFR", facts)

    asyncio.run(fill())
    return Forum(url, base / "keys", ring.root_fingerprint, base / "passphrase", lessons)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_digest_json_without_keys_omits_lessons(forum: Forum, runner: CliRunner) -> None:
    result = runner.invoke(
        app,
        [
            "digest",
            "--region",
            "afr",
            "--period",
            "2026-Q1",
            "--format",
            "json",
            "--database-url",
            forum.url,
        ],
    )
    assert result.exit_code == 0, result.output
    digest = Digest.model_validate_json(result.stdout)
    assert digest.region.value == "AFR"
    assert digest.period == "2026-Q1"
    assert digest.totals.cases is not None
    assert digest.totals.cases > 0
    assert digest.lessons == []
    assert digest.notes.lessons_omitted
    assert "lessons omitted" in result.stderr
    assert json.loads(result.stdout)["notes"]["lessons_omitted"] is True


def test_digest_with_keys_includes_the_periods_shareable_lessons(
    forum: Forum, runner: CliRunner, tmp_path: Path
) -> None:
    out = tmp_path / "digest.json"
    result = runner.invoke(
        app,
        [
            "digest",
            "--region",
            "AFR",
            "--period",
            "2026-01",
            "--format",
            "json",
            "--database-url",
            forum.url,
            "--keys",
            str(forum.keys),
            "--passphrase-file",
            str(forum.passphrase_file),
            "--out",
            str(out),
            "--timings",
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert re.search(r"digest \d+ ms", result.stderr)
    digest = Digest.model_validate_json(out.read_text(encoding="utf-8"))
    assert not digest.notes.lessons_omitted
    shown = {lesson.text for lesson in digest.lessons}
    assert shown
    assert shown <= forum.lessons["2026-01"]
    assert PASSPHRASE not in result.output


def _digest_args(forum: Forum, *more: str) -> list[str]:
    return [
        "digest",
        "--region",
        "AFR",
        "--period",
        "2026-01",
        "--format",
        "json",
        "--database-url",
        forum.url,
        "--passphrase-file",
        str(forum.passphrase_file),
        *more,
    ]


def test_the_regions_own_keyring_opens_lessons_with_the_signed_directory(
    forum: Forum, runner: CliRunner
) -> None:
    """A region's aggregator holds its own keyring and the directory: its keys open only
    what the directory lists for it; without the directory it is told what is missing."""
    region = forum.keys / "regions" / "AFR"
    directory = forum.keys / "directory.json"
    pinned = ["--directory", str(directory), "--root-fingerprint", forum.root_fingerprint]
    result = runner.invoke(app, _digest_args(forum, "--keys", str(region), *pinned))
    assert result.exit_code == 0, result.output
    digest = Digest.model_validate_json(result.stdout)
    assert {lesson.text for lesson in digest.lessons} <= forum.lessons["2026-01"]
    assert digest.lessons
    result = runner.invoke(app, _digest_args(forum, "--keys", str(region)))
    assert result.exit_code == 1
    assert "DIEF_DIRECTORY__ROOT_FINGERPRINT" in " ".join(result.output.split())
    result = runner.invoke(
        app,
        _digest_args(forum, "--keys", str(region), *pinned[2:]),  # the root, no directory
    )
    assert result.exit_code == 1
    assert "signed forum directory" in " ".join(result.output.split())
    # another region's keyring holds no AFR key: it cannot open AFR's lessons
    eeg = forum.keys / "regions" / "EEG"
    result = runner.invoke(app, _digest_args(forum, "--keys", str(eeg), *pinned))
    assert result.exit_code == 1
    assert "holds no region AFR private key" in result.output


def test_digest_markdown_and_html(forum: Forum, runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["digest", "--region", "AFR", "--period", "CSP12", "--database-url", forum.url]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# DIEF trend digest: African Group (AFR), CSP12")
    out = tmp_path / "AFR" / "CSP12.html"
    result = runner.invoke(
        app,
        [
            "digest",
            "--region",
            "AFR",
            "--period",
            "CSP12",
            "--format",
            "html",
            "--out",
            str(out),
            "--database-url",
            forum.url,
            "--k-meeting",
            "3",
        ],
    )
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "cells with fewer than 3 distinct contributors" in html
    assert html.count('<svg class="chart lines"') >= 5


def test_digest_errors(forum: Forum, runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["digest", "--region", "AFR", "--period", "2026-13", "--database-url", forum.url]
    )
    assert result.exit_code == 2
    assert "--period" in result.output
    assert "range" in result.output
    result = runner.invoke(
        app,
        ["digest", "--region", "AFR", "--period", "2026-01"],
        env={"DIEF_WORK_DIR": str(tmp_path / "nowhere"), "DIEF_DATABASE_URL": None},
    )
    assert result.exit_code == 1
    assert "no aggregator database at" in result.stderr
    assert not (tmp_path / "nowhere").exists(), "no empty database is created"
    wrong = tmp_path / "wrong"
    wrong.write_text("not the passphrase\n", encoding="utf-8")
    result = runner.invoke(
        app,
        [
            "digest",
            "--region",
            "AFR",
            "--period",
            "2026-01",
            "--database-url",
            forum.url,
            "--keys",
            str(forum.keys),
            "--passphrase-file",
            str(wrong),
        ],
    )
    assert result.exit_code == 1
    assert "not the passphrase" not in result.output
    assert "Traceback" not in result.output


# -- headless Chromium ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not CHROMIUM.is_file():
        reason = f"{CHROMIUM} is missing: install the Debian package (apt-get install -y chromium)"
        print(reason)  # noqa: T201  the reason printed for the test log (pytest -s)
        pytest.skip(reason)
    return CHROMIUM


def _browse(chromium: Path, page: Path, work: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = work / "profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run(
        [
            str(chromium),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            *args,
            page.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _check_in_browser(chromium: Path, page: Path, work: Path, title: str) -> Path:
    dom = _browse(chromium, page, work, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    # no console message at all: no script error, no blocked fetch (CSP), nothing loaded
    console = [line for line in dom.stderr.splitlines() if ":CONSOLE" in line]
    assert console == []
    assert title in dom.stdout
    assert dom.stdout.count("<svg") >= 3
    shot = work / f"{page.stem}.png"
    run = _browse(chromium, page, work, f"--screenshot={shot}", "--window-size=1280,2000")
    assert run.returncode == 0, run.stderr[-2000:]
    assert shot.stat().st_size > 40_000
    from PIL import Image  # noqa: PLC0415  matplotlib's dependency, loaded only by this browser test

    with Image.open(shot) as image:
        assert image.size == (1280, 2000)
        rgb = image.convert("RGB")
        colours = [
            (n, c) for n, c in rgb.getcolors(maxcolors=1 << 20) or [] if isinstance(c, tuple)
        ]
        # the charts' blue (#0072B2) covers real area: the SVG charts were drawn
        blue = sum(n for n, c in colours if abs(c[0]) + abs(c[1] - 114) + abs(c[2] - 178) < 24)
        assert blue > 2_000, blue
        assert len(colours) > 200
    return shot


@pytest.mark.slow
@pytest.mark.browser
def test_digest_html_renders_in_chromium(
    forum: Forum, runner: CliRunner, chromium: Path, tmp_path: Path
) -> None:
    out = tmp_path / "2026-Q1.html"
    result = runner.invoke(
        app,
        [
            "digest",
            "--region",
            "AFR",
            "--period",
            "2026-Q1",
            "--format",
            "html",
            "--out",
            str(out),
            "--database-url",
            forum.url,
            "--keys",
            str(forum.keys),
            "--passphrase-file",
            str(forum.passphrase_file),
        ],
    )
    assert result.exit_code == 0, result.output
    shot = _check_in_browser(chromium, out, tmp_path, "African Group (AFR)")
    print(f"screenshot: {shot}")  # noqa: T201  the screenshot's path printed for the test log (pytest -s)


@pytest.mark.slow
@pytest.mark.browser
def test_summary_html_renders_in_chromium(forum: Forum, chromium: Path, tmp_path: Path) -> None:
    async def summary() -> str:
        async with CaseStore(forum.url) as store:
            built = await build_summary(
                store, "CSP12", k=3, catalogue=load_catalogue(), regions=["AFR"]
            )
        return render_summary_html(built)

    page = tmp_path / "CSP12.html"
    page.write_text(asyncio.run(summary()), encoding="utf-8")
    shot = _check_in_browser(chromium, page, tmp_path, "CSP12: 2025-09 to 2026-08")
    assert shot.is_file()


def test_every_dimension_has_a_table(forum: Forum, runner: CliRunner) -> None:
    result = runner.invoke(
        app,
        [
            "digest",
            "--region",
            "AFR",
            "--period",
            "2026-Q1",
            "--format",
            "html",
            "--database-url",
            forum.url,
        ],
    )
    assert result.exit_code == 0, result.output
    for dimension in Dimension:
        assert f'data-dimension="{dimension.value}"' in result.stdout


# -- dief publish-digests on the region's own keys -------------------------------------------


@pytest.mark.asyncio(loop_scope="module")
async def test_publish_digests_seals_to_the_directorys_secretariat_keys_only(
    forum: Forum, module_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    """A region publishes with its own keyring and the signed directory: the digest is
    signed by the region and sealed to the Secretariat KEM keys the directory lists — not to
    a key file dropped into the region's folder."""
    region = forum.keys / "regions" / "AFR"
    rogue = KemPrivateKey.generate(SUITE_X25519)
    (region / "public").mkdir(exist_ok=True)
    (region / "public" / f"{rogue.kid}.json").write_text(
        json.dumps(
            {
                "format": "dief-public-key/1",
                "kid": rogue.kid,
                "kind": "kem",
                "role": "secretariat",
                "region": None,
                "alg": SUITE_X25519,
                "created": "2026-05-01T12:00:00Z",
                "active": True,
                "retired": False,
                "public": b64url_encode(rogue.public_key.public_bytes()),
            }
        ),
        encoding="utf-8",
    )
    args = [
        "publish-digests",
        "--region",
        "AFR",
        "--period",
        "2026-01",
        "--database-url",
        forum.url,
        "--keys",
        str(region),
        "--passphrase-file",
        str(forum.passphrase_file),
        "--directory",
        str(forum.keys / "directory.json"),
        "--root-fingerprint",
        forum.root_fingerprint,
        "--bootstrap",
        module_broker.bootstrap,
        "--embedded",
    ]
    result = await asyncio.to_thread(CliRunner().invoke, app, args)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("AFR 2026-01 version 1 ("), result.stdout
    [record] = await read_topics(module_broker.bootstrap, [DIGESTS_TOPIC], expected=1)
    assert record.value is not None
    sim = SimulatedForum.load(forum.keys, PASSPHRASE)
    recipients = {r["kid"] for r in json.loads(record.value)["recipients"]}
    assert recipients == {k.kid for k in sim.sealing_keys(KeyRole.SECRETARIAT)}
    assert rogue.kid not in recipients
    opened = Opener(sim.opening_keys(KeyRole.SECRETARIAT)).open(record.value)
    payload = parse_payload(opened.payload, lambda r: sim.verify_keys(KeyRole.REGION, r.value))
    assert (payload.region.value, payload.period, payload.version) == ("AFR", "2026-01", 1)
    assert {lesson.text for lesson in payload.digest.lessons} <= forum.lessons["2026-01"]
    assert payload.digest.lessons  # opened with the region's own key
