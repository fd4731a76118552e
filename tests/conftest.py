"""Fixtures and hooks for the whole suite (tests/unit and tests/integration).

PostgreSQL — one server per session, found or started only when a test asks for it:

- ``postgres_admin_dsn`` (session): an admin DSN (``postgresql://…/postgres``, asyncpg/libpq
  form). ``DIEF_TEST_DATABASE_URL`` names a server to use; otherwise a throw-away cluster is
  started (initdb in a temp folder, trust auth, fsync off, 127.0.0.1 on a free port, as user
  ``postgres`` when root) and removed at session end. Without PostgreSQL binaries the
  test is skipped with the reason.
- ``make_postgres_database`` (session): ``with make_postgres_database() as url`` creates a
  fresh database, yields its SQLAlchemy URL (``postgresql+asyncpg://…``), drops it after.
- ``postgres_url`` (function): a fresh database for one test, dropped afterwards.

A test that uses one of them must carry the ``postgres`` marker (checked at collection);
in tests/integration, ``_pipeline_helpers.database_url("postgresql", …)`` takes its fresh
database from ``make_postgres_database`` in a test so marked.

Apache Kafka — one real cluster per session, started only when a test asks for it:

- ``kafka_cluster`` (session): a one-broker :class:`dief.kafka_cluster.KafkaCluster`
  (SASL_SSL, SCRAM-SHA-512, the ACL matrix, the DIEF topics). Without Java or the resolved
  jars (``./scripts/install``) the test is skipped with the reason. A test using it must
  carry the ``kafka`` marker (checked at collection). Share it like the session ``broker``:
  your own consumer groups and keys, never assume a DIEF topic is empty.

CI (``CI=true``): a skipped test carrying one of :data:`MUST_NOT_SKIP_IN_CI` fails the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import pytest_asyncio

pytest_plugins = ("pytester",)  # tests/unit/test_ci_skips.py runs this file's hooks

#: Markers of tests that must run in CI: skipping one there fails the run.
MUST_NOT_SKIP_IN_CI: tuple[str, ...] = ("postgres", "kafka", "browser", "libreoffice")
#: An admin-capable database URL of a server to use instead of a throw-away cluster.
DATABASE_URL_ENV = "DIEF_TEST_DATABASE_URL"
#: Fixtures that reach PostgreSQL; a test using one must be marked ``postgres``.
POSTGRES_FIXTURES = (
    "postgres_admin_dsn",
    "make_postgres_database",
    "postgres_url",
    "restartable_postgres",
)

#: Fixtures that start Apache Kafka; a test using one must be marked ``kafka``.
KAFKA_FIXTURES = ("kafka_cluster", "kafka_cluster_3")

MakeDatabase = Callable[[], AbstractContextManager[str]]


@pytest.fixture(autouse=True)
def _root_logging_restored() -> Iterator[None]:
    """Every test leaves the root logger as it found it: a command run in-process
    (``dief run``, ``dief services …`` through typer's CliRunner) calls
    ``configure_logging``, which puts a Rich handler on the root logger for good. Left
    there, it rendered every DEBUG record of a later test that asks for them all
    (``test_non_attribution.py::test_nothing_names_a_state``: 215 s instead of 28 s, past
    its pipeline's 180 s deadline, in two clean CI runs). pytest's own capture handlers
    come and go with each phase and are left to it."""
    root = logging.getLogger()
    level, before = root.level, list(root.handlers)
    yield
    for handler in list(root.handlers):
        if handler not in before and not type(handler).__module__.startswith("_pytest"):
            root.removeHandler(handler)
            handler.close()
    for handler in before:
        if handler not in root.handlers and not type(handler).__module__.startswith("_pytest"):
            root.addHandler(handler)
    root.setLevel(level)


_SKIPPED_IN_CI = pytest.StashKey[list[tuple[str, str, str]]]()


# -- PostgreSQL -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Binaries:
    initdb: str
    pg_ctl: str


def _find_binaries() -> _Binaries | None:
    """The initdb and pg_ctl from PATH, else from the newest /usr/lib/postgresql/*/bin."""
    initdb = shutil.which("initdb")
    if initdb is not None:
        pg_ctl = Path(initdb).with_name("pg_ctl")
        found = str(pg_ctl) if pg_ctl.is_file() else shutil.which("pg_ctl")
        if found is not None:
            return _Binaries(initdb, found)

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", path.parent.parent.name))

    for bindir in sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True):
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return _Binaries(str(bindir / "initdb"), str(bindir / "pg_ctl"))
    return None


def _as_postgres_user(base: Path) -> list[str]:
    """The command prefix to run the server's tools (PostgreSQL refuses to run as root:
    then as user ``postgres`` through runuser, owning *base*)."""
    if os.geteuid() != 0:
        return []
    import pwd  # noqa: PLC0415  pwd only when root (it starts the cluster as user postgres)

    try:
        user = pwd.getpwnam("postgres")
    except KeyError:
        pytest.fail(
            "running as root, and PostgreSQL refuses to run as root, but there is no "
            "'postgres' system user to run it as: install Debian's postgresql package "
            f"(./scripts/test does), create the user, or set {DATABASE_URL_ENV}",
            pytrace=False,
        )
    runuser = shutil.which("runuser")
    if runuser is None:
        pytest.fail("running as root without runuser to start PostgreSQL as 'postgres'")
    os.chown(base, user.pw_uid, user.pw_gid)
    return [runuser, "-u", "postgres", "--"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(argv: list[str], what: str, log: Path | None = None) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        detail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
        pytest.fail(
            f"{what} failed ({done.returncode}): {' '.join(argv)}\n"
            f"{done.stdout}{done.stderr}{detail}",
            pytrace=False,
        )


@dataclass(frozen=True)
class Cluster:
    """A throw-away PostgreSQL cluster: its admin DSN, and a way to restart it."""

    dsn: str
    _pg_ctl: list[str]
    _log: Path

    def restart(self, mode: str = "fast") -> None:
        """Stop the server (*mode*: ``fast`` drops every connection, ``immediate`` is a
        crash) and start it again on the same port; returns once it accepts connections."""
        _run([*self._pg_ctl, "-m", mode, "-w", "-t", "60", "restart"], "restarting", self._log)


@contextlib.contextmanager
def _throwaway_cluster(binaries: _Binaries) -> Generator[Cluster, None, None]:
    """A PostgreSQL cluster in a temp folder, stopped and deleted afterwards."""
    base = Path(tempfile.mkdtemp(prefix="dief-pg-"))
    data, log = base / "data", base / "server.log"
    try:
        as_user = _as_postgres_user(base)
        initdb = [binaries.initdb, "-D", str(data), "-A", "trust", "-U", "postgres"]
        _run([*as_user, *initdb, "-E", "UTF8", "--locale=C", "--no-sync"], "initdb")
        port = _free_port()
        options = (
            f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"
            " -c synchronous_commit=off -c full_page_writes=off"
        )
        pg_ctl = [*as_user, binaries.pg_ctl, "-D", str(data), "-o", options, "-l", str(log)]
        _run([*pg_ctl, "-w", "-t", "60", "start"], "starting PostgreSQL", log)
        try:
            yield Cluster(f"postgresql://postgres@127.0.0.1:{port}/postgres", pg_ctl, log)
        finally:
            subprocess.run(
                [*as_user, binaries.pg_ctl, "-D", str(data), "-m", "immediate", "stop"],
                capture_output=True,
                timeout=60,
                check=False,
            )
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _require_binaries() -> _Binaries:
    binaries = _find_binaries()
    if binaries is None:
        pytest.skip(
            "PostgreSQL binaries (initdb, pg_ctl) are not on PATH nor under "
            f"/usr/lib/postgresql/*/bin, and {DATABASE_URL_ENV} is not set"
        )
    return binaries


def _blocking(coro: Coroutine[Any, Any, None]) -> None:
    """Run *coro* to the end on a loop of its own in another thread (safe whether or not
    the calling thread runs an event loop, and leaves that thread's loop alone)."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coro).result()


def _admin_execute(admin_dsn: str, statement: str) -> None:
    import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type information  # noqa: PLC0415  asyncpg loaded only when a test asks for PostgreSQL

    async def execute() -> None:
        conn = await asyncpg.connect(admin_dsn, timeout=10)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    _blocking(execute())


def _plain_dsn(url: str) -> str:
    """*url* with the plain ``postgresql`` scheme asyncpg takes (no ``+driver``)."""
    parts = urlsplit(url)
    if not parts.scheme.startswith(("postgresql", "postgres")):
        pytest.fail(f"{DATABASE_URL_ENV} is not a PostgreSQL URL: {url!r}", pytrace=False)
    return parts._replace(scheme="postgresql").geturl()


@pytest.fixture(scope="session")
def postgres_admin_dsn() -> Iterator[str]:
    """The admin DSN of the session's PostgreSQL server (see the module docstring)."""
    given = os.environ.get(DATABASE_URL_ENV)
    if given:
        dsn = _plain_dsn(given)
        try:
            _admin_execute(dsn, "SELECT 1")
        except Exception as exc:  # noqa: BLE001  any refusal: the named server is unusable
            pytest.fail(f"{DATABASE_URL_ENV} ({dsn}) does not answer: {exc!r}", pytrace=False)
        yield dsn
        return
    with _throwaway_cluster(_require_binaries()) as cluster:
        yield cluster.dsn


@pytest.fixture
def restartable_postgres() -> Iterator[Cluster]:
    """A PostgreSQL cluster of one test's own, which the test may restart (a fault test);
    always a throw-away cluster, even when DIEF_TEST_DATABASE_URL names a server."""
    with _throwaway_cluster(_require_binaries()) as cluster:
        yield cluster


@pytest.fixture(scope="session")
def make_postgres_database(postgres_admin_dsn: str) -> MakeDatabase:
    """A maker of fresh databases on the session's server: ``with`` it, a test gets one's
    SQLAlchemy URL (asyncpg driver), dropped with its connections afterwards."""

    @contextlib.contextmanager
    def fresh() -> Generator[str, None, None]:
        name = f"dief_test_{uuid.uuid4().hex[:12]}"
        _admin_execute(postgres_admin_dsn, f'CREATE DATABASE "{name}"')
        try:
            parts = urlsplit(postgres_admin_dsn)
            yield parts._replace(scheme="postgresql+asyncpg", path=f"/{name}").geturl()
        finally:
            _admin_execute(postgres_admin_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return fresh


@pytest.fixture
def postgres_url(make_postgres_database: MakeDatabase) -> Iterator[str]:
    """A fresh PostgreSQL database for one test (SQLAlchemy URL), dropped afterwards."""
    with make_postgres_database() as url:
        yield url


# -- Apache Kafka --------------------------------------------------------------------------


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def kafka_cluster() -> AsyncIterator[Any]:
    """The session's one-broker Apache Kafka cluster (see the module docstring)."""
    from dief.exceptions import KafkaUnavailableError  # noqa: PLC0415  Kafka loaded only when a test asks for the cluster (every test loads this conftest)
    from dief.kafka_cluster import KafkaCluster, find_runtime  # noqa: PLC0415  Kafka loaded only when a test asks for the cluster (every test loads this conftest)
    from dief.settings import KafkaRuntimeSettings  # noqa: PLC0415  Kafka loaded only when a test asks for the cluster (every test loads this conftest)

    env = KafkaRuntimeSettings()
    try:
        cluster = KafkaCluster(
            brokers=1, runtime=find_runtime(java=env.java, cache_dir=env.cache_dir)
        )
        await cluster.start()
    except KafkaUnavailableError as exc:
        pytest.skip(f"Apache Kafka cannot run here: {exc.message}")
    try:
        yield cluster
    finally:
        await cluster.stop()


#: ``broker_stack`` / ``proxied_stack`` parameters: one test body, two brokers.
BROKER_PARAMS = ("embedded", pytest.param("kafka", marks=pytest.mark.kafka))


@pytest.fixture(params=BROKER_PARAMS)
def broker_kind(request: pytest.FixtureRequest) -> tuple[str, Any]:
    """``("embedded", None)`` or ``("kafka", the session's cluster)`` (started here, outside
    any event loop, on first use)."""
    if request.param == "kafka":
        return "kafka", request.getfixturevalue("kafka_cluster")
    return "embedded", None


@pytest_asyncio.fixture
async def broker_stack(broker_kind: tuple[str, Any]) -> AsyncIterator[Any]:
    """A ``_brokers.BrokerStack`` (tests/integration/_brokers.py): a fresh embedded broker
    with the DIEF topics, or the session's Kafka cluster emptied for this test."""
    from tests.integration._brokers import stack_for  # noqa: PLC0415  the brokers' helpers (Kafka) loaded only when a test asks for a broker

    async with stack_for(*broker_kind) as stack:
        yield stack


@pytest_asyncio.fixture(params=BROKER_PARAMS)
async def proxied_stack(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    """A ``_brokers.BrokerStack`` behind a proxy (``.proxy.cut()``), without DIEF topics
    on the embedded broker; on Kafka a one-broker cluster of the test's own."""
    from dief.exceptions import KafkaUnavailableError  # noqa: PLC0415  the brokers' helpers (Kafka) loaded only when a test asks for a broker
    from tests.integration._brokers import proxied_embedded_stack, proxied_kafka_stack  # noqa: PLC0415  the brokers' helpers (Kafka) loaded only when a test asks for a broker

    if request.param == "embedded":
        async with proxied_embedded_stack() as stack:
            yield stack
        return
    try:
        async with proxied_kafka_stack() as stack:
            yield stack
    except KafkaUnavailableError as exc:
        pytest.skip(f"Apache Kafka cannot run here: {exc.message}")


# -- markers and CI -----------------------------------------------------------------------


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test reaching PostgreSQL through a fixture here carries the marker, so that
    ``-m postgres`` selects it and CI refuses to skip it."""
    unmarked = [
        item.nodeid
        for item in items
        if set(POSTGRES_FIXTURES) & set(getattr(item, "fixturenames", ()))
        and item.get_closest_marker("postgres") is None
    ]
    if unmarked:
        raise pytest.UsageError(
            "these tests use PostgreSQL but are not marked postgres:\n  " + "\n  ".join(unmarked)
        )
    unmarked_kafka = [
        item.nodeid
        for item in items
        if set(KAFKA_FIXTURES) & set(getattr(item, "fixturenames", ()))
        and item.get_closest_marker("kafka") is None
    ]
    if unmarked_kafka:
        raise pytest.UsageError(
            "these tests use Apache Kafka but are not marked kafka:\n  "
            + "\n  ".join(unmarked_kafka)
        )


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


_CONFIG: list[pytest.Config] = []  # the session's config, for the report hook below
_MUST_RUN = "dief_must_run_in_ci"


def pytest_configure(config: pytest.Config) -> None:
    _CONFIG[:] = [config]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Write on a skipped test's report which :data:`MUST_NOT_SKIP_IN_CI` markers it
    carries (a report's user properties travel from pytest-xdist workers)."""
    report = yield
    if report.skipped and not hasattr(report, "wasxfail"):
        marks = [m for m in MUST_NOT_SKIP_IN_CI if item.get_closest_marker(m) is not None]
        if marks:
            report.user_properties.append((_MUST_RUN, ",".join(marks)))
    return report


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Note every skipped test that must not be skipped in CI (this hook sees every
    report, the workers' too under pytest-xdist, where the controller decides the run's
    status)."""
    marks = [str(value) for name, value in report.user_properties if name == _MUST_RUN]
    if marks and _CONFIG:
        skipped = _CONFIG[0].stash.setdefault(_SKIPPED_IN_CI, [])
        skipped.append((report.nodeid, marks[0], _skip_reason(report)))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int | pytest.ExitCode) -> None:
    """In CI, a skipped test that must not be skipped there fails the run."""
    skipped = session.config.stash.get(_SKIPPED_IN_CI, [])
    if hasattr(session.config, "workerinput"):
        return  # a pytest-xdist worker: its controller decides
    if not skipped or not _in_ci():
        return
    lines = [f"{nodeid} [{marks}]: {reason}" for nodeid, marks, reason in skipped]
    lines.append(f"(CI is set: tests marked {', '.join(MUST_NOT_SKIP_IN_CI)} must run)")
    title = f"CI: {len(skipped)} test(s) that must not be skipped in CI were skipped"
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.line("")  # after the progress line
        reporter.write_sep("=", title, red=True, bold=True)
        for line in lines:
            reporter.write_line(line)
    else:
        print("\n".join([title, *lines]))  # noqa: T201  no terminal reporter (-p no:terminal): the report still reaches the run's output
    if session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
