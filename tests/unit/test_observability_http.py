"""The loopback endpoint: ``/metrics``, ``/healthz`` and ``/readyz`` over real HTTP, the
readiness states and checks, and what the endpoint refuses."""

from __future__ import annotations

import asyncio
import json
import socket
import urllib.error
import urllib.request
from typing import TYPE_CHECKING

import pytest
from prometheus_client import Counter
from prometheus_client.parser import text_string_to_metric_families

from dief.exceptions import ConfigurationError, StorageError
from dief.observability import Observability, Readiness, ServiceState, StoreHealth
from dief.settings import (
    AggregatorSettings,
    MetricsSettings,
    NodeSettings,
    SecretariatSettings,
    load_settings,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


async def get(
    port: int, path: str, *, method: str = "GET", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of one request to the endpoint, from a worker thread."""

    def call() -> tuple[int, dict[str, str], bytes]:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}{path}", method=method, headers=headers or {}
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310
                return answer.status, dict(answer.headers), answer.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read()

    return await asyncio.to_thread(call)


@pytest.fixture
async def served() -> AsyncIterator[Observability]:
    obs = Observability(MetricsSettings(port=0))
    await obs.start()
    try:
        yield obs
    finally:
        await obs.stop()


def port_of(obs: Observability) -> int:
    assert obs.port is not None
    return obs.port


async def test_healthz_answers_while_the_process_serves(served: Observability) -> None:
    status, headers, body = await get(port_of(served), "/healthz")
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"status": "alive"}


async def test_readyz_follows_the_service_state(served: Observability) -> None:
    port = port_of(served)
    readiness = served.readiness
    for state in ("not started", "starting"):
        status, _, body = await get(port, "/readyz")
        assert (status, json.loads(body)) == (503, {"status": "not ready", "reason": state})
        readiness.starting()
    readiness.started()
    status, _, body = await get(port, "/readyz")
    assert (status, json.loads(body)) == (200, {"status": "ready"})
    readiness.stopping()
    assert (await get(port, "/readyz"))[0] == 503
    readiness.stopped()
    status, _, body = await get(port, "/readyz")
    assert (status, json.loads(body)["reason"]) == (503, "stopped")


async def test_readyz_is_503_with_the_reason_of_each_failing_check(served: Observability) -> None:
    port = port_of(served)
    broken = {"now": True}

    async def store() -> str | None:
        return "database unavailable" if broken["now"] else None

    async def consumers() -> str | None:
        return None

    async def slow() -> str | None:
        await asyncio.Event().wait()  # never set: no answer until the check's timeout cancels it
        return None

    served.add_check("store", store)
    served.add_check("consumers", consumers)
    served.readiness.started()
    status, _, body = await get(port, "/readyz")
    assert status == 503
    assert json.loads(body) == {
        "status": "not ready",
        "reason": "store: database unavailable",
        "checks": {"store": "database unavailable"},
    }
    broken["now"] = False
    assert (await get(port, "/readyz"))[0] == 200

    readiness = Readiness(timeout=0.05)
    readiness.add_check("slow", slow)
    readiness.started()
    ready, doc = await readiness.check()
    assert not ready
    assert doc["checks"] == {"slow": "no answer within 0.05s"}
    with pytest.raises(ValueError, match="exists already"):
        readiness.add_check("slow", slow)


async def test_a_check_that_raises_fails_with_its_type_name_only() -> None:
    async def boom() -> str | None:
        raise RuntimeError("case text from France must not show")

    readiness = Readiness()
    readiness.add_check("boom", boom)
    readiness.started()
    ready, doc = await readiness.check()
    assert (ready, doc["checks"]) == (False, {"boom": "RuntimeError"})


async def test_metrics_runs_the_scrape_hooks_then_serves_the_registry() -> None:
    # a late hook is given up on after scrape_timeout; the scrape still answers
    served = Observability(MetricsSettings(port=0), scrape_timeout=0.2)
    await served.start()
    try:
        plain, openmetrics = await _scrape(served)
    finally:
        await served.stop()
    status, headers, body = plain
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain; version=")
    families = {f.name: f for f in text_string_to_metric_families(body.decode())}
    assert families["dief_test_scrapes"].samples[0].value == 1
    assert "process_cpu_seconds" in families

    status, headers, body = openmetrics
    assert status == 200
    assert headers["Content-Type"].startswith("application/openmetrics-text")
    assert body.endswith(b"# EOF\n")


Answer = tuple[int, dict[str, str], bytes]


async def _scrape(served: Observability) -> tuple[Answer, Answer]:
    """The answers to /metrics, as plain text then as OpenMetrics, with three scrape hooks:
    one counting the scrapes, one failing, one late."""
    port = port_of(served)
    seen = Counter("dief_test_scrapes", "scrapes seen by the hook", registry=served.registry)

    async def hook() -> None:
        seen.inc()

    async def failing() -> None:
        raise StorageError("the outbox is locked")

    async def late() -> None:
        await asyncio.Event().wait()  # never set: late until the scrape timeout cancels it

    served.on_scrape(hook)
    served.on_scrape(failing)
    served.on_scrape(late)
    plain = await get(port, "/metrics")
    openmetrics = await get(
        port, "/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"}
    )
    return plain, openmetrics


async def test_head_unknown_paths_methods_and_garbage(served: Observability) -> None:
    port = port_of(served)
    status, headers, body = await get(port, "/healthz", method="HEAD")
    assert (status, body) == (200, b"")
    assert int(headers["Content-Length"]) > 0
    assert (await get(port, "/healthz?verbose=1"))[0] == 200
    assert (await get(port, "/"))[0] == 404
    assert (await get(port, "/metrics/../secrets"))[0] == 404
    status, headers, _ = await get(port, "/metrics", method="POST")
    assert (status, headers["Allow"]) == (405, "GET, HEAD")

    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"\x16\x03\x01 not http at all\r\n\r\n")
    await writer.drain()
    answer = await reader.read()
    writer.close()
    assert answer.startswith(b"HTTP/1.1 400 ")
    # still serving
    assert (await get(port, "/healthz"))[0] == 200


async def test_no_port_serves_nothing_and_a_taken_port_is_a_configuration_error() -> None:
    quiet = Observability(MetricsSettings())
    assert not quiet.enabled
    await quiet.start()
    assert quiet.port is None
    await quiet.stop()

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        clash = Observability(MetricsSettings(port=port))
        with pytest.raises(ConfigurationError, match="DIEF_METRICS__PORT"):
            await clash.start()


async def test_stop_closes_the_port() -> None:
    obs = Observability(MetricsSettings(port=0))
    await obs.start()
    await obs.start()  # again: nothing
    port = port_of(obs)
    await obs.stop()
    await obs.stop()
    assert obs.port is None
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", port)


async def test_store_health_trusts_a_recent_success_and_probes_otherwise() -> None:
    now = [100.0]
    probes: list[str] = []
    answer: list[Exception | None] = [None]

    async def probe() -> None:
        probes.append("probe")
        if answer[0] is not None:
            raise answer[0]

    health = StoreHealth(probe, fresh=10.0, clock=lambda: now[0])
    assert await health() is None  # nothing known: probed
    assert probes == ["probe"]
    now[0] += 5
    assert await health() is None  # a fresh success: not probed
    assert probes == ["probe"]
    health.failed("reading the outbox failed: database is locked")
    answer[0] = StorageError("reading the outbox failed: disk I/O error")
    assert await health() == "reading the outbox failed: disk I/O error"
    answer[0] = ValueError("France")  # a message that is not a DiefError's is never shown
    assert await health() == "ValueError"
    answer[0] = None
    assert await health() is None
    health.succeeded()
    now[0] += 11
    assert await health() is None
    assert len(probes) == 5


def test_the_states_in_order() -> None:
    readiness = Readiness()
    assert readiness.state is ServiceState.NOT_STARTED
    for step, state in [
        (readiness.starting, ServiceState.STARTING),
        (readiness.started, ServiceState.STARTED),
        (readiness.stopping, ServiceState.STOPPING),
        (readiness.stopped, ServiceState.STOPPED),
    ]:
        step()
        assert readiness.state is state


def test_the_endpoint_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:

    for name in ("DIEF_METRICS__PORT", "DIEF_METRICS__HOST"):
        monkeypatch.delenv(name, raising=False)
    assert load_settings(NodeSettings, connects=False).metrics == MetricsSettings()
    assert MetricsSettings().port is None  # off by default
    assert MetricsSettings().host == "127.0.0.1"  # loopback by default
    monkeypatch.setenv("DIEF_METRICS__PORT", "9464")
    monkeypatch.setenv("DIEF_METRICS__HOST", "0.0.0.0")  # noqa: S104 - only read back
    for metrics in (
        load_settings(NodeSettings, connects=False).metrics,
        load_settings(AggregatorSettings, connects=False).metrics,
        load_settings(SecretariatSettings, connects=False).metrics,
    ):
        assert (metrics.port, metrics.host) == (9464, "0.0.0.0")  # noqa: S104
    monkeypatch.setenv("DIEF_METRICS__PROT", "9464")
    with pytest.raises(ConfigurationError, match="DIEF_METRICS__PROT"):
        load_settings(NodeSettings, connects=False)
