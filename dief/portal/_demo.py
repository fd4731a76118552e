"""A local simulated forum for the node portal's demo and the browser journey: a simulated
keyring (``dief keys init``), the embedded broker (``dief broker``), the Secretariat's
credential issuer (``dief secretariat``) and an aggregator for every region (``dief
aggregate --all``), each a child process of the ``dief`` console script, stopped (SIGTERM,
then SIGKILL after a grace period) when the context ends. Simulation only.

For the Secretariat's portal (``services=False``) only the keys and the broker: the portal
runs the Secretariat service itself (:meth:`LocalForum.secretariat_overrides`), and
:func:`send_demo_digests` puts every region's digests of the last ``dief demo`` run, signed
by this forum's region keys, on the forum's ``dief.digests``."""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import subprocess  # noqa: S404  runs the dief console script with a fixed argv, never a shell
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from dief.catalogue import load_catalogue
from dief.database import sqlite_url
from dief.exceptions import ConfigurationError
from dief.kafka import KafkaRecordSink, make_broker
from dief.keyring import SimulatedForum
from dief.periods import CspCycle, Month
from dief.settings import KafkaSettings
from dief.vocab import Region

if TYPE_CHECKING:
    from collections.abc import Callable, Generator, Mapping

__all__ = ["DEMO_NODES", "LocalForum", "send_demo_digests"]

DEMO_NODES = ("demo-a", "demo-b")
_PASSPHRASE = "portal demo passphrase (simulation only)"  # noqa: S105 - a simulation's
_START_SECONDS = 90.0
_STOP_SECONDS = 15.0
_BOOTSTRAP = re.compile(r"bootstrap: (\S+)")


def _dief() -> str:
    return str(Path(sys.executable).parent / "dief")


@dataclass
class LocalForum:
    """The running forum: its folder, broker address and child processes."""

    folder: Path
    database_url: str
    bootstrap: str = ""
    passphrase: SecretStr = field(default_factory=lambda: SecretStr(_PASSPHRASE))
    children: list[subprocess.Popen[bytes]] = field(default_factory=list)
    #: start the Secretariat (issuer) and the aggregators too (the node's demo)
    services: bool = True

    def __repr__(self) -> str:
        return f"LocalForum(folder={str(self.folder)!r})"

    @property
    def keys(self) -> Path:
        return self.folder / "keys"

    @property
    def passphrase_file(self) -> Path:
        return self.folder / "passphrase"

    def environment(self, base: Mapping[str, str], node: str = DEMO_NODES[0]) -> dict[str, str]:
        """*base* (the caller's environment) without its ``DIEF_`` variables, plus those of
        this forum's node *node* (``dief post``, ``dief node``, ``dief web --party node``)."""
        env = {k: v for k, v in base.items() if not k.startswith("DIEF_")}
        env.update({
            "DIEF_KEYRING__PATH": str(self.keys),
            "DIEF_KEYRING__PASSPHRASE_FILE": str(self.passphrase_file),
            "DIEF_KAFKA__BOOTSTRAP": self.bootstrap,
            "DIEF_KAFKA__EMBEDDED": "true",
            "DIEF_NODE": node,
            "DIEF_OUTBOX": str(self.folder / f"outbox-{node}.sqlite"),
            "DIEF_RELAY_MAX_DELAY_SECONDS": "0",
            "DIEF_CREDENTIAL_MAX_DELAY_SECONDS": "0",
            "DIEF_WORK_DIR": str(self.folder / "work"),
        })  # fmt: skip
        return env

    def node_overrides(self, node: str = DEMO_NODES[0]) -> dict[str, Any]:
        """The node settings of this forum's node *node*, as overrides for
        :func:`dief.settings.load_settings` (the command line builds the settings)."""
        return {
            "node": node,
            "kafka": {"bootstrap": self.bootstrap, "embedded": True},
            "keyring": {"path": self.keys, "passphrase_file": self.passphrase_file},
            "outbox": self.folder / f"outbox-{node}.sqlite",
            "relay_max_delay_seconds": 0,
            "credential_max_delay_seconds": 0,
        }

    def secretariat_overrides(self) -> dict[str, Any]:
        """The settings of the Secretariat service on this forum's keys and broker (its
        database in the forum's folder), as overrides for
        :func:`dief.settings.load_settings`."""
        return {
            "kafka": {"bootstrap": self.bootstrap, "embedded": True},
            "keyring": {"path": self.keys, "passphrase_file": self.passphrase_file},
            "database_url": sqlite_url(self.folder / "secretariat-portal.sqlite"),
        }

    def _spawn(self, name: str, *args: str) -> tuple[subprocess.Popen[bytes], Path, Path]:
        out, err = self.folder / f"{name}.out", self.folder / f"{name}.err"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            # options, not the environment: they win over any DIEF_ variable inherited
            proc = subprocess.Popen([_dief(), *args], cwd=self.folder, stdout=stdout, stderr=stderr)
        self.children.append(proc)
        return proc, out, err

    def _wait(self, proc: subprocess.Popen[bytes], ready: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + _START_SECONDS
        while not ready():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise ConfigurationError(f"the demo's {what} did not start (see {self.folder})")
            time.sleep(0.1)

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if not self.passphrase_file.exists():
            self.passphrase_file.write_text(_PASSPHRASE + "\n", encoding="utf-8")
            self.passphrase_file.chmod(0o600)
        keys = ("--keys", str(self.keys), "--passphrase-file", str(self.passphrase_file))
        if not self.keys.exists():
            now = CspCycle.of(Month.of(datetime.now(UTC).date()), start_month=9)
            done = subprocess.run(
                [_dief(), "keys", "init", str(self.keys), "--nodes", ",".join(DEMO_NODES),
                 "--cycles", f"{now.previous()},{now}", *keys[2:]],
                capture_output=True, check=False, timeout=120,
            )  # fmt: skip
            if done.returncode != 0:
                raise ConfigurationError(f"dief keys init failed in {self.folder}")
        broker, out, _ = self._spawn("broker", "broker")
        self._wait(broker, lambda: bool(_BOOTSTRAP.search(out.read_text())), "broker")
        match = _BOOTSTRAP.search(out.read_text())
        assert match is not None  # noqa: S101  narrows the type: waited for
        self.bootstrap = match[1]
        if not self.services:
            return
        common = ("--embedded", "--bootstrap", self.bootstrap, *keys)
        secretariat_db = sqlite_url(self.folder / "secretariat.sqlite")
        # the Secretariat and the aggregator start side by side (neither waits for the other)
        sec, _, sec_err = self._spawn(
            "secretariat", "secretariat", *common, "--database-url", secretariat_db
        )
        agg, agg_out, _ = self._spawn(
            "aggregator", "aggregate", "--all", *common, "--database-url", self.database_url
        )
        self._wait(sec, lambda: "Secretariat running" in sec_err.read_text(), "Secretariat")
        self._wait(agg, lambda: "aggregating" in agg_out.read_text(), "aggregator")

    def stop(self) -> None:
        for proc in reversed(self.children):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=_STOP_SECONDS)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=_STOP_SECONDS)
        self.children.clear()

    @classmethod
    @contextlib.contextmanager
    def started(
        cls, folder: Path, database_url: str | None = None, *, services: bool = True
    ) -> Generator[LocalForum]:
        folder = folder.resolve()  # the children run in it: every path is absolute
        url = database_url or sqlite_url(folder / "aggregator.sqlite")
        forum = cls(folder, url, services=services)
        try:
            forum.start()
            yield forum
        finally:
            forum.stop()


async def send_demo_digests(forum: LocalForum, cases_url: str) -> int:
    """Issue every region's digests of the cases in *cases_url* (the aggregator database of
    a ``dief demo`` run), signed by *forum*'s region keys and sealed to its Secretariat, on
    the forum's ``dief.digests`` (the way the pipeline's aggregators send them). Once per
    forum folder (a marker file): the Secretariat keeps what it received. Returns how many
    digests were sent (0 the second time)."""
    from dief.aggregator.store import CaseStore  # noqa: PLC0415  the SQL store and the digests (seconds to import) only when digests are sent
    from dief.digests import issue_every_digest  # noqa: PLC0415  (as above)

    marker = forum.folder / "digests-sent"
    if marker.exists():
        return 0
    passphrase = forum.passphrase.get_secret_value()
    ring = await asyncio.to_thread(SimulatedForum.load, forum.keys, passphrase)
    producer = make_broker(
        KafkaSettings(bootstrap=forum.bootstrap, embedded=True), client_id="dief-demo-digests"
    )
    async with CaseStore(cases_url) as store:
        await producer.connect()
        try:
            sink = KafkaRecordSink(producer)
            published, _ = await issue_every_digest(
                store, ring, dict.fromkeys(Region, sink), catalogue=load_catalogue()
            )
        finally:
            await producer.stop()
    marker.write_text(f"{len(published)}\n", encoding="utf-8")
    return len(published)
