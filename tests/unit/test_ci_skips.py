"""tests/conftest.py's rules, run on a small suite of their own (``pytester``): in CI a
skipped test marked ``postgres`` fails the run (only the marked parameter counts, an
xfail is no skip); missing PostgreSQL binaries skip such a test with the reason; a test
using the PostgreSQL fixtures without the marker is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT_CONFTEST = Path(__file__).resolve().parents[1] / "conftest.py"

SUITE = """
import pytest

@pytest.mark.postgres
def test_needs_a_server():
    pytest.skip("no server here")

@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_both(kind):
    if kind == "sqlite":
        pytest.skip("an unmarked parameter may skip")

@pytest.mark.postgres
@pytest.mark.xfail(reason="expected")
def test_expected_failure():
    raise AssertionError

def test_plain():
    pass
"""


@pytest.fixture(autouse=True)
def _no_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    """The inner runs need no third-party plugin (and start faster without)."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


def _suite(pytester: pytest.Pytester, tests: str, *, conftest_tail: str = "") -> None:
    pytester.makeconftest(ROOT_CONFTEST.read_text(encoding="utf-8") + conftest_tail)
    pytester.makeini("[pytest]\nmarkers =\n    postgres: needs PostgreSQL\n")
    pytester.makepyfile(test_suite=tests)


def test_in_ci_a_skipped_postgres_test_fails_the_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")
    _suite(pytester, SUITE)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, skipped=2, xfailed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*CI: 1 test(s) that must not be skipped in CI were skipped*",
            "test_suite.py::test_needs_a_server [[]postgres[]]: Skipped: no server here",
        ]
    )
    assert "test_both[sqlite] [" not in result.stdout.str()


def test_outside_ci_a_skip_is_only_reported(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    _suite(pytester, SUITE)
    result = pytester.runpytest("-p", "no:cacheprovider", "-ra")
    result.assert_outcomes(passed=2, skipped=2, xfailed=1)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["SKIPPED * no server here"])


def test_without_postgresql_binaries_the_test_skips_and_ci_fails(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")
    monkeypatch.delenv("DIEF_TEST_DATABASE_URL", raising=False)
    tests = "import pytest\n\n@pytest.mark.postgres\ndef test_db(postgres_url):\n    pass\n"
    _suite(pytester, tests, conftest_tail="\n\ndef _find_binaries():\n    return None\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(skipped=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["test_suite.py::test_db [[]postgres[]]: *binaries (initdb*"])


def test_a_postgresql_fixture_needs_the_marker(pytester: pytest.Pytester) -> None:
    _suite(pytester, "def test_db(postgres_url):\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*not marked postgres*", "*test_suite.py::test_db"])


def test_in_ci_a_skip_in_a_pytest_xdist_worker_fails_the_run_too(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The unit tests run in two processes (``scripts/test``): the workers' skips reach
    the controller, which fails the run."""
    monkeypatch.setenv("CI", "true")
    _suite(pytester, SUITE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "xdist", "-n", "2")
    result.assert_outcomes(passed=2, skipped=2, xfailed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*CI: 1 test(s) that must not be skipped in CI were skipped*"])
