"""dief.testing: the controllable TCP proxy (loopback sockets only; the fakes are in
test_testing_fakes)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
import pytest_asyncio

from dief.exceptions import BrokerError, ConfigurationError
from dief.testing import ProxyStats, TcpProxy

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

WAIT = 5.0


# -- TcpProxy ------------------------------------------------------------------------------


class Echo:
    """A loopback echo server that counts the connections it accepted."""

    def __init__(self) -> None:
        self.connections = 0
        self.server: asyncio.Server | None = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return f"127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


@pytest_asyncio.fixture
async def echo() -> AsyncIterator[tuple[Echo, str]]:
    server = Echo()
    address = await server.start()
    yield server, address
    await server.stop()


@pytest_asyncio.fixture
async def proxy(echo: tuple[Echo, str]) -> AsyncIterator[TcpProxy]:
    async with TcpProxy(echo[1]) as running:
        yield running


async def _connect(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    async with asyncio.timeout(WAIT):
        return await asyncio.open_connection("127.0.0.1", port)


async def _round_trip(port: int, payload: bytes) -> bytes:
    reader, writer = await _connect(port)
    try:
        writer.write(payload)
        await writer.drain()
        async with asyncio.timeout(WAIT):
            return await reader.readexactly(len(payload))
    finally:
        writer.close()


async def _closed_by_peer(reader: asyncio.StreamReader) -> bool:
    """True once the peer closed or reset the connection (without sending anything)."""
    try:
        async with asyncio.timeout(WAIT):
            data = await reader.read(1)
    except ConnectionResetError:
        return True
    return data == b""


async def test_it_forwards_both_ways_and_counts(proxy: TcpProxy, echo: tuple[Echo, str]) -> None:
    assert await _round_trip(proxy.listen_port, b"hello") == b"hello"
    assert await _round_trip(proxy.listen_port, b"x" * 200_000) == b"x" * 200_000

    stats = proxy.stats
    assert stats.accepted == 2
    assert stats.bytes_up == stats.bytes_down == 200_005
    assert stats.dropped == stats.target_failures == 0
    assert echo[0].connections == 2
    assert proxy.address == f"127.0.0.1:{proxy.listen_port}"
    assert proxy.target == echo[1]
    assert proxy.listen_port != int(echo[1].rsplit(":", 1)[1])


async def test_cut_closes_open_connections_and_refuses_new_ones(proxy: TcpProxy) -> None:
    reader, writer = await _connect(proxy.listen_port)
    writer.write(b"ping")
    async with asyncio.timeout(WAIT):
        assert await reader.readexactly(4) == b"ping"

    await proxy.cut()

    assert proxy.is_cut
    assert await _closed_by_peer(reader)
    writer.close()
    with pytest.raises(ConnectionRefusedError):
        await _connect(proxy.listen_port)
    assert proxy.stats.dropped == 1
    assert proxy.stats.open == 0


async def test_restore_forwards_again_on_the_same_port(proxy: TcpProxy) -> None:
    port = proxy.listen_port
    await proxy.cut()
    await proxy.restore()

    assert not proxy.is_cut
    assert proxy.listen_port == port
    assert await _round_trip(port, b"again") == b"again"


async def test_reset_mode_accepts_and_drops_without_reaching_the_target(
    proxy: TcpProxy, echo: tuple[Echo, str]
) -> None:
    await proxy.cut("reset")
    reader, writer = await _connect(proxy.listen_port)

    assert await _closed_by_peer(reader)
    writer.close()
    assert echo[0].connections == 0
    assert proxy.stats.accepted == proxy.stats.dropped == 1
    await proxy.restore()
    assert await _round_trip(proxy.listen_port, b"ok") == b"ok"


async def test_blackhole_mode_holds_connections_silent_until_restore(
    proxy: TcpProxy, echo: tuple[Echo, str]
) -> None:
    await proxy.cut("blackhole")
    reader, writer = await _connect(proxy.listen_port)
    writer.write(b"anyone there?")
    await writer.drain()
    assert repr(proxy).endswith("cut (blackhole))")

    await proxy.restore()  # releases the held connection: closed, nothing was echoed

    assert await _closed_by_peer(reader)
    writer.close()
    assert echo[0].connections == 0
    assert proxy.stats.bytes_up == 0
    assert await _round_trip(proxy.listen_port, b"ok") == b"ok"


async def test_an_unreachable_target_closes_the_client_and_is_counted() -> None:
    async with TcpProxy("127.0.0.1:1", connect_timeout=WAIT) as lonely:
        reader, writer = await _connect(lonely.listen_port)
        assert await _closed_by_peer(reader)
        writer.close()
        assert lonely.stats == ProxyStats(
            accepted=1, open=0, dropped=0, target_failures=1, bytes_up=0, bytes_down=0
        )


async def test_stop_closes_everything_and_may_be_repeated(echo: tuple[Echo, str]) -> None:
    proxy = TcpProxy(echo[1])
    await proxy.start()
    port = proxy.listen_port
    reader, writer = await _connect(port)
    writer.write(b"hi")
    async with asyncio.timeout(WAIT):
        assert await reader.readexactly(2) == b"hi"

    await proxy.stop()
    await proxy.stop()

    assert await _closed_by_peer(reader)
    writer.close()
    with pytest.raises(ConnectionRefusedError):
        await _connect(port)
    assert repr(proxy).endswith("stopped)")


async def test_a_proxy_must_be_started_to_be_cut_restored_or_asked_its_port() -> None:
    proxy = TcpProxy(("127.0.0.1", 9092))

    with pytest.raises(BrokerError, match="not started"):
        _ = proxy.listen_port
    with pytest.raises(BrokerError, match="not started"):
        await proxy.cut()
    with pytest.raises(BrokerError, match="not started"):
        await proxy.restore()


async def test_a_taken_port_is_reported(proxy: TcpProxy) -> None:
    clash = TcpProxy("127.0.0.1:9092", listen_port=proxy.listen_port)

    with pytest.raises(BrokerError, match=str(proxy.listen_port)):
        await clash.start()


@pytest.mark.parametrize(
    "target", ["localhost", "127.0.0.1:", "127.0.0.1:http", ":9092", "127.0.0.1:0", ("h", 70000)]
)
def test_bad_targets_are_refused(target: str | tuple[str, int]) -> None:
    with pytest.raises(ConfigurationError):
        TcpProxy(target)


@pytest.mark.parametrize("kwargs", [{"listen_port": 0}, {"connect_timeout": 0.0}])
def test_bad_options_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ConfigurationError):
        TcpProxy("127.0.0.1:9092", **kwargs)  # type: ignore[arg-type]  # bad options on purpose: the refusal is under test


async def test_an_unknown_cut_mode_is_refused(proxy: TcpProxy) -> None:
    with pytest.raises(ConfigurationError):
        await proxy.cut("unplug")  # type: ignore[arg-type]  # an unknown mode on purpose: the refusal is under test
    assert not proxy.is_cut
