"""A minimal HTTP/1.1 server on asyncio for ``/metrics``, ``/healthz`` and ``/readyz``.

One request per connection (``Connection: close``), ``GET`` and ``HEAD`` only, a request
head of at most 8 KiB read within 5 seconds: enough for a Prometheus scraper and an
orchestrator's probes, with no web framework. It runs on the service's event loop, so the
scrape hooks and readiness checks can look at the service's objects directly.

- ``/metrics``: the scrape hooks run first (concurrently, bounded by *scrape_timeout*; a
  hook that fails or is late leaves its gauges as they were), then the registry in the
  Prometheus text format (OpenMetrics if the scraper asks for it).
- ``/healthz``: 200 ``{"status": "alive"}`` while the process serves at all.
- ``/readyz``: 200 ``{"status": "ready"}``, or 503 ``{"status": "not ready", "reason": …}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from prometheus_client.exposition import choose_encoder

from dief.exceptions import ConfigurationError

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

    from dief.observability._readiness import Readiness

__all__ = ["ObservabilityServer", "ScrapeHook"]

log = logging.getLogger("dief.observability")

#: Runs before each scrape (e.g. reads the outbox depth into a gauge).
ScrapeHook = Callable[[], Awaitable[None]]

_HEAD_LIMIT = 8192
_READ_TIMEOUT = 5.0
_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    503: "Service Unavailable",
}
_JSON = "application/json"


class ObservabilityServer:
    """Serves *registry* and *readiness* on *host*:*port* (0 picks a free port) once started."""

    def __init__(  # noqa: PLR0913  a public keyword signature of settings, used outside dief/observability
        self,
        registry: CollectorRegistry,
        readiness: Readiness,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        hooks: Sequence[ScrapeHook] = (),
        scrape_timeout: float = 2.0,
    ) -> None:
        self._registry = registry
        self._readiness = readiness
        self._host = host
        self._port = port
        self._hooks = hooks
        self._scrape_timeout = scrape_timeout
        self._server: asyncio.Server | None = None

    def __repr__(self) -> str:
        return f"ObservabilityServer(host={self._host!r}, port={self.port})"

    @property
    def port(self) -> int | None:
        """The bound port while serving (the one picked if 0 was asked), else None."""
        if self._server is None or not self._server.sockets:
            return None
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def start(self) -> None:
        """Bind and serve (nothing happens if it serves already).

        :raises ConfigurationError: the address cannot be bound (in use, not local).
        """
        if self._server is not None:
            return
        try:
            self._server = await asyncio.start_server(
                self._serve, self._host, self._port, limit=_HEAD_LIMIT
            )
        except OSError as exc:
            raise ConfigurationError(
                f"cannot serve metrics on {self._host}:{self._port} "
                f"(DIEF_METRICS__HOST, DIEF_METRICS__PORT): {exc.strerror or type(exc).__name__}"
            ) from exc
        log.info("serving /metrics, /healthz and /readyz on %s:%s", self._host, self.port)

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        # Connections in progress are short (one request each): let them end, then go.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(_READ_TIMEOUT):
                await server.wait_closed()

    # -- requests ------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:  # noqa: PLW0717  every failure of the step ends it the same way
            try:
                async with asyncio.timeout(_READ_TIMEOUT):
                    head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
                await _respond(writer, 400, _JSON, _json({"error": "bad request"}))
                return
            method, path, headers = _parse(head)
            if method is None:
                await _respond(writer, 400, _JSON, _json({"error": "bad request"}))
                return
            status, content_type, body, extra = await self._route(method, path, headers)
            await _respond(writer, status, content_type, body, head_only=method == "HEAD", **extra)
        except ConnectionError:
            pass  # the client went away
        except Exception:  # one bad request never stops the endpoint
            log.exception("observability endpoint: request failed")
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _route(
        self, method: str, path: str, headers: dict[str, str]
    ) -> tuple[int, str, bytes, dict[str, str]]:
        if path not in {"/metrics", "/healthz", "/readyz"}:
            return 404, _JSON, _json({"error": "not found"}), {}
        if method not in {"GET", "HEAD"}:
            return 405, _JSON, _json({"error": "method not allowed"}), {"Allow": "GET, HEAD"}
        if path == "/healthz":
            return 200, _JSON, _json({"status": "alive"}), {}
        if path == "/readyz":
            ready, body = await self._readiness.check()
            return (200 if ready else 503), _JSON, _json(body), {}
        await self._run_hooks()
        encoder, content_type = choose_encoder(headers.get("accept", ""))
        return 200, content_type, encoder(self._registry), {}

    async def _run_hooks(self) -> None:
        if not self._hooks:
            return
        tasks = [asyncio.ensure_future(hook()) for hook in self._hooks]
        done, late = await asyncio.wait(tasks, timeout=self._scrape_timeout)
        for task in late:
            task.cancel()
        for task in done:
            exc = task.exception()
            if exc is not None:
                log.debug("a scrape hook failed (%s)", type(exc).__name__)
        if late:
            log.debug("%d scrape hook(s) did not finish in %gs", len(late), self._scrape_timeout)


def _json(doc: dict[str, Any]) -> bytes:
    return (json.dumps(doc, separators=(",", ":")) + "\n").encode("utf-8")


def _parse(head: bytes) -> tuple[str | None, str, dict[str, str]]:
    """(method, path without the query, lower-case header names → values); method None if
    the request line is not HTTP."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):  # noqa: PLR2004  an HTTP/1.x request line has three parts
        return None, "", {}
    method, target, _version = parts
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return method, target.split("?", 1)[0], headers


async def _respond(
    writer: asyncio.StreamWriter,
    status: int,
    content_type: str,
    body: bytes,
    *,
    head_only: bool = False,
    **extra: str,
) -> None:
    lines = [
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}",
        f"Content-Type: {content_type}",
        f"Content-Length: {len(body)}",
        "Cache-Control: no-store",
        "Connection: close",
        *(f"{name}: {value}" for name, value in extra.items()),
    ]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    if not head_only:
        writer.write(body)
    await writer.drain()
