"""A local simulated forum for the node portal's demo and the browser journey: a simulated
keyring (``dief keys init``), the embedded broker (``dief broker``), the Secretariat's
credential issuer (``dief secretariat``) and an aggregator for every region (``dief
aggregate --all``), each a child process of the ``dief`` console script, stopped (SIGTERM,
then SIGKILL after a grace period) when the context ends. Simulation only."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import SecretStr

from dief.database import sqlite_url
from dief.exceptions import ConfigurationError
from dief.periods import CspCycle, Month

if TYPE_CHECKING:
    from dief.settings import NodeSettings

__all__ = ["DEMO_NODES", "LocalForum"]

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

    def __repr__(self) -> str:
        return f"LocalForum(folder={str(self.folder)!r})"

    @property
    def keys(self) -> Path:
        return self.folder / "keys"

    def env(self, node: str = DEMO_NODES[0]) -> dict[str, str]:
        """The environment of a service of this forum (the node *node*'s)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("DIEF_")}
        env.update({
            "DIEF_KEYRING__PATH": str(self.keys),
            "DIEF_KEYRING__PASSPHRASE": _PASSPHRASE,
            "DIEF_KAFKA__BOOTSTRAP": self.bootstrap,
            "DIEF_KAFKA__EMBEDDED": "true",
            "DIEF_NODE": node,
            "DIEF_OUTBOX": str(self.folder / f"outbox-{node}.sqlite"),
            "DIEF_RELAY_MAX_DELAY_SECONDS": "0",
            "DIEF_CREDENTIAL_MAX_DELAY_SECONDS": "0",
            "DIEF_WORK_DIR": str(self.folder / "work"),
        })  # fmt: skip
        return env

    def node_settings(self, node: str = DEMO_NODES[0]) -> NodeSettings:
        from dief.settings import KafkaSettings, KeyringSettings, NodeSettings

        return NodeSettings(
            node=node,
            kafka=KafkaSettings(bootstrap=self.bootstrap, embedded=True),
            keyring=KeyringSettings(path=self.keys),
            outbox=self.folder / f"outbox-{node}.sqlite",
            relay_max_delay_seconds=0,
            credential_max_delay_seconds=0,
        )

    def _spawn(self, name: str, *args: str) -> tuple[subprocess.Popen[bytes], Path, Path]:
        out, err = self.folder / f"{name}.out", self.folder / f"{name}.err"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            proc = subprocess.Popen(
                [_dief(), *args], cwd=self.folder, env=self.env(), stdout=stdout, stderr=stderr
            )
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
        if not self.keys.exists():
            now = CspCycle.of(Month.of(datetime.now(UTC).date()), start_month=9)
            done = subprocess.run(
                [_dief(), "keys", "init", str(self.keys), "--nodes", ",".join(DEMO_NODES),
                 "--cycles", f"{now.previous()},{now}"],
                env=self.env(), capture_output=True, check=False, timeout=120,
            )  # fmt: skip
            if done.returncode != 0:
                raise ConfigurationError(f"dief keys init failed in {self.folder}")
        broker, out, _ = self._spawn("broker", "broker")
        self._wait(broker, lambda: bool(_BOOTSTRAP.search(out.read_text())), "broker")
        match = _BOOTSTRAP.search(out.read_text())
        assert match is not None  # waited for
        self.bootstrap = match[1]
        common = ("--embedded", "--bootstrap", self.bootstrap)
        secretariat_db = sqlite_url(self.folder / "secretariat.sqlite")
        sec, _, sec_err = self._spawn(
            "secretariat", "secretariat", *common, "--database-url", secretariat_db
        )
        self._wait(sec, lambda: "Secretariat running" in sec_err.read_text(), "Secretariat")
        agg, agg_out, _ = self._spawn(
            "aggregator", "aggregate", "--all", *common, "--database-url", self.database_url
        )
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
    def started(cls, folder: Path, database_url: str | None = None) -> Iterator[LocalForum]:
        folder = folder.resolve()  # the children run in it: every path is absolute
        forum = cls(folder, database_url or sqlite_url(folder / "aggregator.sqlite"))
        try:
            forum.start()
            yield forum
        finally:
            forum.stop()
