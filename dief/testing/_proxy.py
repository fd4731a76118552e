"""Network faults: :class:`TcpProxy`, a loopback TCP forwarder a test cuts and restores, and
:func:`broker_behind_proxy`, an embedded broker whose clients all go through one."""

from __future__ import annotations

import asyncio
import contextlib
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Self

from dief.broker import EmbeddedBroker, pick_free_port
from dief.exceptions import BrokerError, ConfigurationError
from dief.kafka import DEFAULT_CASE_PARTITIONS, TopicSpec

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Sequence
    from types import TracebackType

LOOPBACK = "127.0.0.1"
_PORT_LIMIT = 65536  # TCP ports are 1-65535

#: How :meth:`TcpProxy.cut` treats connections made while the proxy is cut:
#:
#: - ``"refuse"``: the listening socket is closed, so connecting fails at once with
#:   "connection refused" (the fastest way to make a Kafka client see the broker as down);
#: - ``"reset"``: connections are accepted and dropped at once;
#: - ``"blackhole"``: connections are accepted and held silent until :meth:`TcpProxy.restore`
#:   (a network partition: clients notice only through their own timeouts).
CutMode = Literal["refuse", "reset", "blackhole"]


@dataclass(frozen=True, slots=True)
class ProxyStats:
    """Counters of a :class:`TcpProxy` since it was created."""

    #: Connections accepted from clients (forwarded or not).
    accepted: int
    #: Forwarded connections open right now.
    open: int
    #: Connections closed by the proxy because of a cut (open ones and ones made during it).
    dropped: int
    #: Connections the proxy could not forward because the target refused or timed out.
    target_failures: int
    #: Bytes forwarded from clients to the target.
    bytes_up: int
    #: Bytes forwarded from the target to clients.
    bytes_down: int


class _Link:
    """One forwarded connection: the client and target streams and the two pump tasks; a
    frozen link drops what either side sends (:meth:`TcpProxy.freeze`)."""

    __slots__ = ("client", "frozen", "target", "tasks")

    def __init__(self, client: asyncio.StreamWriter, target: asyncio.StreamWriter) -> None:
        self.client = client
        self.target = target
        self.tasks: list[asyncio.Task[None]] = []
        self.frozen = False

    def abort(self) -> None:
        for writer in (self.client, self.target):
            writer.transport.abort()


class TcpProxy:
    """An asyncio TCP forwarder on 127.0.0.1 that a test controls.

    Every connection to :attr:`listen_port` is forwarded to *target* (``"host:port"`` or
    ``(host, port)``) until :meth:`cut`, which closes every open connection and treats new
    ones according to its *mode* (see :data:`CutMode`); :meth:`restore` forwards again on
    the same port; :meth:`freeze` leaves the open connections open and silent. *listen_port*
    ``None`` lets the OS pick a free port at :meth:`start`.

    Use ``async with TcpProxy(...) as proxy:`` or :meth:`start` / :meth:`stop`; it lives
    in the event loop that started it.
    """

    def __init__(
        self,
        target: str | tuple[str, int],
        *,
        listen_port: int | None = None,
        connect_timeout: float = 5.0,
    ) -> None:
        self._target = _parse_address(target)
        if listen_port is not None and not 0 < listen_port < _PORT_LIMIT:
            raise ConfigurationError(f"proxy port must be within 1-65535, not {listen_port}")
        if connect_timeout <= 0:
            raise ConfigurationError("the proxy's connect timeout must be positive")
        self._requested_port = listen_port
        self._connect_timeout = connect_timeout
        self._port: int | None = None
        self._server: asyncio.Server | None = None
        self._started = False
        self._mode: CutMode | None = None
        self._links: set[_Link] = set()
        self._handlers: set[asyncio.Task[None]] = set()
        self._held: set[asyncio.StreamWriter] = set()
        self._accepted = 0
        self._dropped = 0
        self._target_failures = 0
        self._bytes_up = 0
        self._bytes_down = 0

    def __repr__(self) -> str:
        if not self._started:
            state = "stopped"
        elif self._mode is not None:
            state = f"cut ({self._mode})"
        else:
            state = "forwarding"
        port = self._port if self._port is not None else "?"
        return f"TcpProxy({LOOPBACK}:{port} -> {self.target}, {state})"

    # -- public state ------------------------------------------------------------------

    @property
    def target(self) -> str:
        """``"host:port"`` connections are forwarded to."""
        return f"{self._target[0]}:{self._target[1]}"

    @property
    def listen_port(self) -> int:
        """The port clients connect to (known once started, or when given)."""
        if self._port is not None:
            return self._port
        if self._requested_port is not None:
            return self._requested_port
        raise BrokerError("the proxy is not started: it has no port yet")

    @property
    def address(self) -> str:
        """``"127.0.0.1:PORT"``, e.g. for ``bootstrap_servers``."""
        return f"{LOOPBACK}:{self.listen_port}"

    @property
    def is_cut(self) -> bool:
        return self._mode is not None

    @property
    def stats(self) -> ProxyStats:
        """A snapshot of the counters."""
        return ProxyStats(
            accepted=self._accepted,
            open=len(self._links),
            dropped=self._dropped,
            target_failures=self._target_failures,
            bytes_up=self._bytes_up,
            bytes_down=self._bytes_down,
        )

    # -- lifecycle ---------------------------------------------------------------------

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
        """Listen on the port and forward.

        :raises BrokerError: already started, or the port cannot be bound.
        """
        if self._started:
            raise BrokerError(f"the proxy is already started ({self!r})")
        await self._listen(self._requested_port or 0)
        self._started = True
        self._mode = None

    async def stop(self) -> None:
        """Stop listening and close every connection. Safe to repeat."""
        self._started = False
        self._mode = None
        await self._close_listener()
        self._drop_all(count=False)
        await self._reap_handlers()

    async def cut(self, mode: CutMode = "refuse") -> None:
        """Close every open connection and stop forwarding (see :data:`CutMode`).

        Cutting a cut proxy changes its mode.
        """
        if not self._started:
            raise BrokerError(f"cannot cut the proxy: it is not started ({self!r})")
        if mode not in {"refuse", "reset", "blackhole"}:
            raise ConfigurationError(f"unknown cut mode {mode!r}")
        self._mode = mode
        if mode == "refuse":
            await self._close_listener()
        elif self._server is None:
            await self._listen(self.listen_port)
        self._drop_all(count=True)

    def freeze(self) -> int:
        """Leave every open connection open but silent from now on: what either side sends
        is dropped, and neither hears that the other is gone (the half-open connection a
        network partition or a vanished host leaves; only a side's own timeout ends it).
        New connections are forwarded as before. Returns how many connections froze."""
        for link in self._links:
            link.frozen = True
        return len(self._links)

    async def restore(self) -> None:
        """Forward again on the same port; connections held by a blackhole are closed."""
        if not self._started:
            raise BrokerError(f"cannot restore the proxy: it is not started ({self!r})")
        self._mode = None
        self._release_held()
        if self._server is None:
            await self._listen(self.listen_port)

    # -- internals ---------------------------------------------------------------------

    async def _listen(self, port: int) -> None:
        try:
            server = await asyncio.start_server(self._handle, LOOPBACK, port, reuse_address=True)
        except OSError as exc:
            raise BrokerError(f"the proxy cannot listen on {LOOPBACK}:{port}: {exc}") from exc
        self._server = server
        self._port = int(server.sockets[0].getsockname()[1])

    async def _close_listener(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
            with contextlib.suppress(OSError):
                await server.wait_closed()

    def _drop_all(self, *, count: bool) -> None:
        links, self._links = self._links, set()
        for link in links:
            link.abort()
        if count:
            self._dropped += len(links)
        self._release_held()

    def _release_held(self) -> None:
        held, self._held = self._held, set()
        for writer in held:
            writer.transport.abort()

    async def _reap_handlers(self) -> None:
        handlers = list(self._handlers)
        for task in handlers:
            task.cancel()
        if handlers:
            await asyncio.gather(*handlers, return_exceptions=True)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
        try:
            await self._serve(reader, writer)
        finally:
            if task is not None:
                self._handlers.discard(task)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._accepted += 1
        if self._mode == "blackhole":
            self._dropped += 1
            self._held.add(writer)
            return  # held open, unread, until restore() or stop() aborts it
        if self._mode is not None or not self._started:
            self._dropped += 1
            writer.transport.abort()
            return
        try:
            async with asyncio.timeout(self._connect_timeout):
                up_reader, up_writer = await asyncio.open_connection(*self._target)
        except (OSError, TimeoutError):
            self._target_failures += 1
            writer.transport.abort()
            return
        if self._mode is not None or not self._started:  # cut while connecting
            self._dropped += 1
            up_writer.transport.abort()
            writer.transport.abort()
            return
        link = _Link(writer, up_writer)
        self._links.add(link)
        link.tasks = [
            asyncio.create_task(self._pump(reader, up_writer, link, upstream=True)),
            asyncio.create_task(self._pump(up_reader, writer, link, upstream=False)),
        ]
        try:
            await asyncio.gather(*link.tasks)
        finally:
            self._links.discard(link)
            link.abort()
            for pump in link.tasks:
                pump.cancel()
            await asyncio.gather(*link.tasks, return_exceptions=True)

    async def _pump(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        link: _Link,
        *,
        upstream: bool,
    ) -> None:
        """Copy bytes until either side closes; then close both."""
        try:  # noqa: PLW0717  any failure of the step ends it the same way
            while data := await reader.read(65536):
                if link.frozen:
                    continue
                writer.write(data)
                await writer.drain()
                if upstream:
                    self._bytes_up += len(data)
                else:
                    self._bytes_down += len(data)
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            link.abort()


def _parse_address(address: str | tuple[str, int]) -> tuple[str, int]:
    if isinstance(address, tuple):
        host, port = address
    else:
        host, sep, port_text = address.rpartition(":")
        if not sep or not port_text.isdigit():
            raise ConfigurationError(f"a proxy target is 'host:port', not {address!r}")
        port = int(port_text)
    if not host or not 0 < port < _PORT_LIMIT:
        raise ConfigurationError(f"a proxy target is 'host:port', not {address!r}")
    return host, port


@dataclass(frozen=True, slots=True)
class ProxiedBroker:
    """An embedded broker reachable only through a :class:`TcpProxy`."""

    broker: EmbeddedBroker
    proxy: TcpProxy

    @property
    def bootstrap(self) -> str:
        """The proxy's address: what clients should bootstrap from."""
        return self.proxy.address


@asynccontextmanager
async def broker_behind_proxy(
    *, topics: Sequence[TopicSpec] | None = (), partitions: int = DEFAULT_CASE_PARTITIONS
) -> AsyncGenerator[ProxiedBroker]:
    """Start a proxy, then an :class:`EmbeddedBroker` advertising the proxy's address.

    Every client bootstrapped from ``.bootstrap`` talks to the broker through the proxy
    only, so ``.proxy.cut()`` makes the broker unreachable to all of them. *topics*
    ``()`` (the default) creates no topics; ``None`` creates the DIEF topics (with
    *partitions* per case topic). Both are stopped on exit.
    """
    broker_port = pick_free_port()
    async with TcpProxy((LOOPBACK, broker_port)) as proxy:
        broker = EmbeddedBroker(
            port=broker_port,
            advertised_port=proxy.listen_port,
            topics=topics,
            partitions=partitions,
        )
        async with broker:
            yield ProxiedBroker(broker=broker, proxy=proxy)
