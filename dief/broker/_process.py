"""The embedded broker: a Tansu child process on a loopback port, started and stopped cleanly.

Nothing here is tied to an event loop after :meth:`EmbeddedBroker.start` returns: the child
writes to a log file (no pipe to drain), and waiting for it to exit is a bounded poll. So a
broker started in one loop (a session-scoped test fixture) can be used from any other.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import re
import secrets
import signal
import subprocess  # noqa: S404  runs the broker binary with a fixed argv, never a shell
import tempfile
import time
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import TYPE_CHECKING, Final, Self

from dief.broker._binary import FIX_HINT, resolve_broker_binary
from dief.broker._child import format_tail, read_tail, spawn, wait_exit
from dief.broker._probe import (
    EMBEDDED_CLUSTER_PREFIX,
    HOST,
    accepts,
    is_embedded_broker,
    pick_free_port,
    probe_cluster_id,
)
from dief.exceptions import BrokerError, BrokerStartError, ConfigurationError
from dief.kafka import DEFAULT_CASE_PARTITIONS, TopicSpec, dief_topics, ensure_topics

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = [
    "EMBEDDED_CONSUMER_OPTIONS",
    "EmbeddedBroker",
    "is_embedded_broker",
    "pick_free_port",
]

_TAIL_LINES = 20
_ADDR_IN_USE = re.compile(r"AddrInUse|address (already )?in use", re.IGNORECASE)
_PORT_ATTEMPTS = 3
_PORT_LIMIT = 65536  # TCP ports are 1-65535

#: aiokafka consumer options for a consumer *group* on the embedded broker. Tansu answers
#: a group's first JoinGroup only after half the member's session timeout (5 s with
#: aiokafka's default of 10 s); 6 s makes that 3 s while keeping a busy process from being
#: evicted. Use as ``AIOKafkaConsumer(..., **EMBEDDED_CONSUMER_OPTIONS)``.
EMBEDDED_CONSUMER_OPTIONS: Final[Mapping[str, int]] = MappingProxyType(
    {"session_timeout_ms": 6000, "heartbeat_interval_ms": 1500}
)


class _PortTakenError(Exception):
    """Internal: the chosen port turned out to be in use; another port may work."""


class EmbeddedBroker:
    """A Kafka-protocol broker (Tansu, memory storage) for one process's lifetime.

    Use ``async with EmbeddedBroker() as broker:`` or :meth:`start` / :meth:`stop`. Start
    picks a free loopback port (unless *port* is given), launches the binary with its
    output going to a log file, waits until the broker answers a Kafka metadata request
    carrying this instance's own cluster id, and creates *topics* (default: the DIEF
    topics of DESIGN §2 with *partitions* per case topic; ``()`` creates none).

    Records live in the broker's memory only: :meth:`stop` loses all of them.

    *advertised_port* makes the broker tell clients (in its metadata) to reach it on
    ``127.0.0.1:advertised_port`` instead of its own port: point it at a proxy (such as
    :class:`dief.testing.TcpProxy`) forwarding to *port*, so that clients bootstrapped
    through the proxy stay behind it. Whatever listens there must forward to the broker
    before :meth:`start` (which creates the topics through it); if nothing listens
    there, start fails at once.

    The child process is SIGTERMed on :meth:`stop` (SIGKILLed after *stop_timeout*), on
    interpreter exit, and, on Linux, by the kernel if this process dies. Start the broker
    from a thread that outlives it (on Linux the child is signalled when the thread that
    started it exits), which is any event loop's thread.
    """

    def __init__(  # noqa: PLR0913  a public keyword signature of settings, used outside its area
        self,
        *,
        binary: Path | str | None = None,
        port: int | None = None,
        advertised_port: int | None = None,
        partitions: int = DEFAULT_CASE_PARTITIONS,
        topics: Sequence[TopicSpec] | None = None,
        log_path: Path | str | None = None,
        start_timeout: float = 30.0,
        stop_timeout: float = 10.0,
    ) -> None:
        if port is not None and not 0 < port < _PORT_LIMIT:
            raise ConfigurationError(f"broker port must be within 1-65535, not {port}")
        if advertised_port is not None and not 0 < advertised_port < _PORT_LIMIT:
            raise ConfigurationError(
                f"advertised broker port must be within 1-65535, not {advertised_port}"
            )
        if start_timeout <= 0 or stop_timeout <= 0:
            raise ConfigurationError("broker start and stop timeouts must be positive")
        self._binary_arg = binary
        self._requested_port = port
        self._advertised_port = advertised_port
        self._topics: tuple[TopicSpec, ...] = (
            dief_topics(partitions=partitions) if topics is None else tuple(topics)
        )
        self._log_arg = Path(log_path) if log_path is not None else None
        self._start_timeout = start_timeout
        self._stop_timeout = stop_timeout
        self._binary: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._port: int | None = None
        self._cluster_id: str | None = None
        self._log_path: Path | None = None
        self._owns_log = False
        self._startup_seconds: float | None = None

    def __repr__(self) -> str:
        state = f"running at {self.bootstrap}" if self.running else "stopped"
        return f"EmbeddedBroker({state})"

    # -- public state -------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """True while the broker process is alive."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def bootstrap(self) -> str:
        """``"127.0.0.1:PORT"``, for ``bootstrap_servers``."""
        return f"{HOST}:{self.port}"

    @property
    def advertised_bootstrap(self) -> str:
        """The ``"127.0.0.1:PORT"`` clients are told to use: :attr:`bootstrap` unless
        *advertised_port* was given."""
        port = self.port  # raises BrokerError when not started
        return f"{HOST}:{self._advertised_port or port}"

    @property
    def port(self) -> int:
        if self._port is None:
            raise BrokerError("the embedded broker is not started: it has no port yet")
        return self._port

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def cluster_id(self) -> str | None:
        return self._cluster_id

    @property
    def binary(self) -> Path | None:
        """The broker executable in use (resolved by :meth:`start`)."""
        return self._binary

    @property
    def log_path(self) -> Path | None:
        """Where the broker's output goes (a temporary file unless *log_path* was given)."""
        return self._log_path

    @property
    def topics(self) -> tuple[TopicSpec, ...]:
        return self._topics

    @property
    def startup_seconds(self) -> float | None:
        """Wall time of the last successful :meth:`start`, topic creation included."""
        return self._startup_seconds

    def output_tail(self, lines: int = _TAIL_LINES) -> str:
        """The broker's last *lines* lines of output, without terminal colour codes."""
        if self._log_path is None:
            return ""
        return read_tail(self._log_path, lines)

    # -- lifecycle ----------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Launch the broker, wait until it answers, create the topics.

        :raises BrokerStartError: binary missing or not executable, the process exited,
            it did not answer in time, the port is taken, or topics could not be created.
            No process is left running.
        """
        if self._proc is not None:
            raise BrokerError(f"the embedded broker is already started ({self!r})")
        began = time.monotonic()
        self._binary = await asyncio.to_thread(resolve_broker_binary, self._binary_arg)
        if self._advertised_port is not None and not await accepts(self._advertised_port):
            raise BrokerStartError(
                f"cannot start the broker {self._binary}: it would advertise "
                f"{HOST}:{self._advertised_port}, where nothing accepts connections. Fix: "
                "start the proxy that forwards from there to the broker's port first."
            )
        attempts = 1 if self._requested_port is not None else _PORT_ATTEMPTS
        for attempt in range(1, attempts + 1):
            port = self._requested_port or pick_free_port()
            try:
                await self._launch(self._binary, port)
                break
            except _PortTakenError as exc:
                if attempt == attempts:
                    fix = (
                        "Fix: choose another port (--port), or omit it to use a free one."
                        if self._requested_port is not None
                        else f"Tried {attempts} free ports; something is racing for them."
                    )
                    raise BrokerStartError(
                        f"cannot start the broker {self._binary}: {exc} {fix}"
                    ) from exc
        try:
            await ensure_topics(self.bootstrap, self._topics, time_limit=self._start_timeout)
        except BaseException as exc:
            tail = self.output_tail()
            await self._kill_now()
            if isinstance(exc, BrokerError):
                raise BrokerStartError(
                    f"the broker {self._binary} started on {self.bootstrap} but creating "
                    f"its topics failed: {exc.message}{format_tail(tail)}"
                ) from exc
            raise
        self._startup_seconds = time.monotonic() - began

    async def stop(self) -> None:
        """SIGTERM the broker, wait up to *stop_timeout*, then SIGKILL. Safe to repeat."""
        proc = self._proc
        if proc is None:
            return
        try:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)
                if not await wait_exit(proc, self._stop_timeout):
                    with contextlib.suppress(ProcessLookupError):
                        proc.kill()
                    await wait_exit(proc, self._stop_timeout)
        finally:
            self._reap_and_forget()

    # -- internals ----------------------------------------------------------------------

    async def _launch(self, binary: Path, port: int) -> None:
        """Start the process on *port* and wait until it answers; kill it on any failure."""
        self._port = port
        self._cluster_id = f"{EMBEDDED_CLUSTER_PREFIX}{secrets.token_hex(6)}"
        self._open_log()
        url = f"tcp://{HOST}:{port}"
        advertised = f"tcp://{HOST}:{self._advertised_port or port}"
        argv = [
            str(binary),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            advertised,
            "--storage-engine",
            "memory://tansu/",
            "--cluster-id",
            self._cluster_id,
        ]
        try:
            self._proc = self._spawn(argv)
        except OSError as exc:
            self._forget_log()
            self._port = None
            raise BrokerStartError(
                f"cannot execute the broker binary {binary} (port {port}): {exc}. {FIX_HINT}"
            ) from exc
        atexit.register(self._kill_at_exit)
        try:
            await self._wait_ready(binary, port)
        except BaseException:
            await self._kill_now()
            raise

    def _spawn(self, argv: list[str]) -> subprocess.Popen[bytes]:
        assert self._log_path is not None  # set by _open_log  # noqa: S101  narrows the type: set by the step before
        return spawn(argv, self._log_path)

    async def _wait_ready(self, binary: Path, port: int) -> None:
        assert self._proc is not None  # noqa: S101  narrows the type: set by the step before
        deadline = time.monotonic() + self._start_timeout
        delay = 0.01
        while True:
            code = self._proc.poll()
            if code is not None:
                tail = self.output_tail()
                if _ADDR_IN_USE.search(tail):
                    raise _PortTakenError(f"port {port} on {HOST} is already in use.")
                raise BrokerStartError(
                    f"the broker {binary} exited with code {code} during start-up on "
                    f"{HOST}:{port}.{format_tail(tail)}\n{FIX_HINT}"
                )
            answered = await probe_cluster_id(port, self._cluster_id or "")
            if answered is not None:
                if answered != self._cluster_id:
                    raise _PortTakenError(
                        f"port {port} on {HOST} is answered by another Kafka broker "
                        f"(cluster id {answered!r})."
                    )
                return
            if time.monotonic() >= deadline:
                raise BrokerStartError(
                    f"the broker {binary} did not answer the Kafka protocol on "
                    f"{HOST}:{port} within {self._start_timeout:g} s."
                    f"{format_tail(self.output_tail())}\n{FIX_HINT}"
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.25)

    def _open_log(self) -> None:
        if self._log_path is not None:
            return
        if self._log_arg is not None:
            self._log_arg.parent.mkdir(parents=True, exist_ok=True)
            self._log_path, self._owns_log = self._log_arg, False
            return
        fd, name = tempfile.mkstemp(prefix="dief-broker-", suffix=".log")
        os.close(fd)
        self._log_path, self._owns_log = Path(name), True

    def _forget_log(self) -> None:
        if self._owns_log and self._log_path is not None:
            with contextlib.suppress(OSError):
                self._log_path.unlink()
        self._log_path, self._owns_log = None, False

    async def _kill_now(self) -> None:
        proc = self._proc
        if proc is None:
            return
        try:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await wait_exit(proc, self._stop_timeout)
        finally:
            self._reap_and_forget()

    def _reap_and_forget(self) -> None:
        """Make sure the process is gone and reaped, then reset to the stopped state."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.wait()  # after SIGKILL: returns promptly
        atexit.unregister(self._kill_at_exit)
        self._proc = None
        self._port = None
        self._cluster_id = None
        self._forget_log()

    def _kill_at_exit(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=self._stop_timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._forget_log()
