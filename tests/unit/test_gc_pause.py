"""The cycle collector paused while a pattern is computed (issue #15, cost)."""

from __future__ import annotations

import gc
import threading
from typing import TYPE_CHECKING

import pytest

from dief.disclosure import collector_paused
from dief.disclosure._memo import clear_patterns, remembered
from dief.periods import CspCycle, Month
from dief.secretariat import _summary

if TYPE_CHECKING:
    from collections.abc import Generator


@pytest.fixture(autouse=True)
def _collector_restored() -> Generator[None]:
    was = gc.isenabled()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


def test_the_collector_is_off_inside_and_on_again_after() -> None:
    gc.enable()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():  # nested: still off, and still off when it leaves
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_off_before_stays_off() -> None:
    gc.disable()
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_a_failing_computation_resumes_the_collector() -> None:
    gc.enable()
    with pytest.raises(RuntimeError, match="boom"), collector_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_threads_resume_it_when_the_last_leaves() -> None:
    gc.enable()
    inside, release = threading.Barrier(3), threading.Event()
    seen: list[bool] = []

    def compute() -> None:
        with collector_paused():
            inside.wait(timeout=10)
            release.wait(timeout=10)
            seen.append(gc.isenabled())

    threads = [threading.Thread(target=compute) for _ in range(2)]
    for thread in threads:
        thread.start()
    inside.wait(timeout=10)  # both are in
    assert not gc.isenabled()
    release.set()
    for thread in threads:
        thread.join(timeout=10)
    assert seen == [False, False]  # the first out leaves it off for the other
    assert gc.isenabled()


def test_a_pattern_is_computed_with_the_collector_off() -> None:
    clear_patterns()
    gc.enable()
    # remembered: what digest_pattern computes a region's pattern through
    assert remembered(("a collector test",), {}, gc.isenabled) is False
    assert gc.isenabled()
    clear_patterns()


def test_a_summary_is_protected_with_the_collector_off(monkeypatch: pytest.MonkeyPatch) -> None:
    gc.enable()
    seen: list[bool] = []

    def tables(*args: object, **kwargs: object) -> object:
        seen.append(gc.isenabled())
        return object()

    monkeypatch.setattr(_summary, "summary_tables", tables)
    current = CspCycle.of(Month.parse("2026-10"), start_month=9)
    _summary._cycle_tables(  # the one place the Secretariat protects
        {str(current): {}}, ["AFR"], current, None, k=3, previous=None, prior_cycle=None
    )
    assert seen == [False]
    assert gc.isenabled()
