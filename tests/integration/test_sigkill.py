"""Crash safety of ``dief aggregate`` (DESIGN §8 ⚑): SIGKILLed mid-stream and restarted, it
loses nothing and counts nothing twice; SIGTERM stops it cleanly.

~3,000 synthetic cases (with revisions and withdrawals) are posted by simulated national
nodes through their outboxes; the aggregator runs as the real console script in a child
process on a SQLite file. Progress is read from that file (``applied_records`` has one row
per distinct record finished with), the child is killed while some but not all records
are applied, restarted, and at the end every region's cells are compared with the cells
computed from the plain case data.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dief.aggregator.store import CaseStore
from dief.broker import EmbeddedBroker
from dief.catalogue import load_catalogue
from dief.database import sqlite_url
from dief.synthetic import generate_cases
from dief.vocab import Region
from tests.integration._pipeline_helpers import (
    PASSPHRASE,
    TODAY,
    Forum,
    Nodes,
    expected_cells,
    store_cells,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CASES = 3000
#: Kill points, as fractions of the published records already applied.
KILL_AT = (0.2, 0.55)
#: Small batches: many transactions and offset commits to kill in between.
MAX_BATCH = 100


def applied_rows(db: Path) -> int:
    """Rows in ``applied_records`` (0 before the aggregator created the schema)."""
    if not db.exists():
        return 0
    conn = sqlite3.connect(db, timeout=1.0)
    try:
        (n,) = conn.execute("SELECT count(*) FROM applied_records").fetchone()
        return int(n)
    except sqlite3.OperationalError:  # no table yet, or busy
        return 0
    finally:
        conn.close()


class Aggregator:
    """``dief aggregate --all`` as a child process (the installed console script)."""

    def __init__(self, bootstrap: str, db: Path, keys: Path, log: Path) -> None:
        self._argv = [
            str(Path(sys.executable).with_name("dief")),
            "aggregate",
            "--all",
            "--bootstrap",
            bootstrap,
            "--embedded",
            "--database-url",
            sqlite_url(db),
            "--keys",
            str(keys),
        ]
        self._env = {
            **os.environ,
            "DIEF_KEYRING__PASSPHRASE": PASSPHRASE,
            "DIEF_MAX_BATCH": str(MAX_BATCH),
            # Digest publishing has its own tests; here SIGTERM must not wait on a pass.
            "DIEF_DIGEST_INTERVAL": "0",
        }
        self._log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self._log.open("ab") as out:
            self.proc = subprocess.Popen(
                self._argv, env=self._env, stdout=out, stderr=subprocess.STDOUT
            )

    def alive(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            pytest.fail(f"dief aggregate exited with {self.proc.returncode}:\n{self.log_tail()}")
        return True

    def log_tail(self) -> str:
        return "\n".join(self._log.read_text(errors="replace").splitlines()[-30:])

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(timeout=10)
        assert self.proc.returncode == -signal.SIGKILL

    def terminate(self) -> tuple[int, float]:
        """SIGTERM; returns (exit code, seconds it took to exit)."""
        assert self.proc is not None
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail(f"dief aggregate ignored SIGTERM for 20 s:\n{self.log_tail()}")
        return code, time.monotonic() - t0

    def cleanup(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


async def test_sigkill_and_restart_lose_nothing_and_count_nothing_twice(tmp_path: Path) -> None:
    forum = Forum(tmp_path / "keys")
    ids = list(load_catalogue().ids)
    docs = [c.document for c in generate_cases(CASES, seed=20, indicator_ids=ids, today=TODAY)]
    revisions = sum(1 for d in docs if int(str(d["revision"])) > 1)
    withdrawals = sum(1 for d in docs if d["status"] == "withdrawn")
    assert revisions > 100
    assert withdrawals > 30
    db = tmp_path / "aggregator.sqlite"
    async with EmbeddedBroker(log_path=tmp_path / "broker.log") as broker:
        nodes = Nodes(forum, broker.bootstrap, tmp_path / "nodes")
        try:
            published = len(await nodes.post(docs))
        finally:
            await nodes.close()
        assert published == CASES  # one record per line (revisions, withdrawals included)

        agg = Aggregator(broker.bootstrap, db, forum.path, tmp_path / "aggregate.log")
        kills: list[int] = []
        try:
            agg.start()
            for fraction in KILL_AT:
                threshold = int(published * fraction)

                def reached(t: int = threshold) -> bool:
                    return agg.alive() and applied_rows(db) >= t

                await wait_until(
                    reached,
                    90,
                    f"{threshold} of {published} records applied",
                )
                agg.kill()
                at_kill = applied_rows(db)
                assert at_kill < published, "every record was applied before the kill"
                kills.append(at_kill)
                agg.start()
            await wait_until(
                lambda: agg.alive() and applied_rows(db) >= published,
                90,
                f"all {published} records applied after {len(kills)} kills",
            )
            code, seconds = agg.terminate()
        finally:
            agg.cleanup()
    assert code == 0, agg.log_tail()
    # A hang guard, not a speed measurement: a clean stop takes about 0.5 s here.
    assert seconds < 20.0, f"SIGTERM took {seconds:.1f} s"
    print(  # noqa: T201  figures printed for the test log (pytest -s)
        f"\nsigkill: {published} records, killed at {kills} applied, SIGTERM exit {seconds:.2f} s"
    )

    expected = expected_cells(docs)
    async with CaseStore(sqlite_url(db)) as store:
        assert applied_rows(db) == published
        outcomes: dict[str, int] = {}
        for region in Region:
            for outcome, n in (await store.outcome_counts(region.value)).items():
                outcomes[outcome] = outcomes.get(outcome, 0) + n
            assert await store.dead_letter_counts(region.value) == {}
            periods = sorted(
                {key[0] for key in expected.get(region.value, {})}
                | set(await store.periods_with_data(region.value))
            )
            got = await store_cells(store, region.value, periods)
            assert got == expected.get(region.value, {}), region
        assert sum(outcomes.values()) == published
        assert set(outcomes) <= {"applied", "related"}, outcomes
