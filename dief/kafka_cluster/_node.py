"""One Apache Kafka broker process (KRaft, combined broker and controller roles).

Its ``server.properties`` and data directory live in a folder of the cluster's; the process
writes to a log file there (no pipe to drain), is tied to our lifetime like the embedded
broker (:func:`dief.broker.spawn`), and is stopped with SIGTERM, then SIGKILL.
"""

from __future__ import annotations

import contextlib
import signal
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from dief.broker import read_tail, spawn, wait_exit

if TYPE_CHECKING:
    import subprocess
    from pathlib import Path

    from dief.kafka_cluster._runtime import KafkaRuntime

__all__ = ["BrokerProcess", "NodeLayout", "jvm_options"]

_LOG4J: Final = """\
rootLogger.level = WARN
rootLogger.appenderRef.out.ref = OUT
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
logger.started.name = kafka.server.KafkaRaftServer
logger.started.level = INFO
"""


@dataclass(frozen=True, slots=True)
class NodeLayout:
    """Where one broker listens and keeps its files."""

    node_id: int
    client_port: int
    controller_port: int
    folder: Path

    @property
    def properties(self) -> Path:
        return self.folder / "server.properties"

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def log(self) -> Path:
        return self.folder / "broker.log"


def jvm_options(heap_mb: int, log4j: Path, *, tool: bool = False) -> list[str]:
    """Lean JVM flags: a bounded heap, the serial collector; a tool also skips the
    optimising compiler (it runs for a second)."""
    options = [f"-Xmx{heap_mb}m", "-Xms64m", "-XX:+UseSerialGC", "-Djava.awt.headless=true"]
    options.append(f"-Dlog4j2.configurationFile={log4j}")
    if tool:
        options.append("-XX:TieredStopAtLevel=1")
    return options


def write_log4j(path: Path) -> Path:
    path.write_text(_LOG4J, encoding="utf-8")
    return path


class BrokerProcess:
    """The ``kafka.Kafka`` process of one node (not started by the constructor)."""

    def __init__(
        self, runtime: KafkaRuntime, layout: NodeLayout, *, heap_mb: int, log4j: Path
    ) -> None:
        self.layout = layout
        self._argv = [
            str(runtime.java),
            *jvm_options(heap_mb, log4j),
            "-cp",
            runtime.classpath,
            "kafka.Kafka",
            str(layout.properties),
        ]
        self._proc: subprocess.Popen[bytes] | None = None
        self._wanted = False

    def __repr__(self) -> str:
        state = f"pid {self._proc.pid}" if self.running and self._proc else "stopped"
        return f"BrokerProcess(node {self.layout.node_id}, {state})"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def wanted(self) -> bool:
        """Started and not stopped or killed on purpose since."""
        return self._wanted

    @property
    def crashed(self) -> bool:
        """Wanted running, but the process exited."""
        return self._wanted and not self.running

    @property
    def exit_code(self) -> int | None:
        return self._proc.poll() if self._proc is not None else None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def start(self) -> None:
        """Spawn the broker (returns at once; readiness is the cluster's to wait for)."""
        if self.running:
            return
        self._proc = spawn(self._argv, self.layout.log)
        self._wanted = True

    async def stop(self, time_limit: float) -> None:
        """SIGTERM, wait up to *time_limit* (a clean shutdown), then SIGKILL."""
        self._wanted = False
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            if not await wait_exit(proc, time_limit):
                await self.kill()
        proc.wait()

    async def kill(self) -> None:
        """SIGKILL: a crash, as the broker-failure tests want it."""
        self._wanted = False
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await wait_exit(proc, 30.0)
        proc.wait()

    def output_tail(self, lines: int = 20) -> str:
        return read_tail(self.layout.log, lines)
