"""tests/conftest.py's rules for the ``kafka`` marker, on a small suite of their own: without
Java the session's cluster skips the test with the reason, and in CI that fails the run; a
test using the cluster without the marker is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT_CONFTEST = Path(__file__).resolve().parents[1] / "conftest.py"
INI = (
    "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    "markers =\n    kafka: Apache Kafka\n    postgres: db\n"
)


def _suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tests: str) -> None:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("DIEF_KAFKA_JAVA", str(pytester.path / "no-java-here"))
    pytester.makeconftest(ROOT_CONFTEST.read_text(encoding="utf-8"))
    pytester.makeini(INI)
    pytester.makepyfile(test_suite=tests)


def test_in_ci_a_kafka_test_without_java_skips_and_fails_the_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")
    tests = "import pytest\n\n@pytest.mark.kafka\nasync def test_k(kafka_cluster):\n    pass\n"
    _suite(pytester, monkeypatch, tests)
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "pytest_asyncio.plugin")
    result.assert_outcomes(skipped=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*CI: 1 test(s) that must not be skipped in CI were skipped*",
            "test_suite.py::test_k [[]kafka[]]: *Apache Kafka cannot run here: no Java*",
        ]
    )


def test_outside_ci_it_is_only_reported(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    tests = "import pytest\n\n@pytest.mark.kafka\nasync def test_k(kafka_cluster):\n    pass\n"
    _suite(pytester, monkeypatch, tests)
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "pytest_asyncio.plugin", "-ra")
    result.assert_outcomes(skipped=1)
    assert result.ret == pytest.ExitCode.OK


def test_the_kafka_fixture_needs_the_marker(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    _suite(pytester, monkeypatch, "async def test_k(kafka_cluster):\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "pytest_asyncio.plugin")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*not marked kafka*", "*test_suite.py::test_k"])
