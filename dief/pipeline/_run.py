"""``dief run``: the whole pipeline in one process, on the embedded broker or a given one.

Cases from a JSON Lines file are posted by simulated national nodes (one per
``submitted_by``, each with its own node secret and outbox), published to the regions'
topics, applied by the regional aggregators, and the outputs are written once every
accepted case has been applied or dead-lettered (DESIGN §9). Then every region issues its
sealed, signed digests on ``dief.digests``; an in-process Secretariat verifies them and
publishes a signed summary per cycle on ``csp.reporting``, which the run writes out.

The run is a sequence of stages (one module per concept: :mod:`._intake`, :mod:`._keys`,
:mod:`._consumers`, :mod:`._outputs`). Every resource a stage starts is registered on one
owner, :class:`._resources.Resources` (an ``AsyncExitStack``), right after it starts, so
all of them are stopped in reverse order however the run ends.
"""

from __future__ import annotations

import json
import shutil
import time
from typing import TYPE_CHECKING

from dief.catalogue import load_catalogue
from dief.exceptions import ConfigurationError
from dief.pipeline._consumers import (
    Applied,
    join_consumers,
    start_broker,
    start_consumers,
    start_store,
    wait_until_applied,
)
from dief.pipeline._intake import node_cycles, post_through_nodes, publish, read_input
from dief.pipeline._keys import load_keys
from dief.pipeline._options import (
    NullProgress,
    PipelineError,
    Progress,
    RunContext,
    RunOptions,
    RunResult,
    RunSummary,
    step,
    timed,
)
from dief.pipeline._outputs import (
    exchange_route_tables,
    issue_digests,
    open_lessons,
    write_run_outputs,
)
from dief.pipeline._resources import Resources
from dief.settings import RUN_DIR

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "NullProgress",
    "PipelineError",
    "Progress",
    "RunOptions",
    "RunResult",
    "RunSummary",
    "run_pipeline",
]


async def run_pipeline(options: RunOptions, progress: Progress | None = None) -> RunResult:
    """Run the pipeline on *options.input*; raises :class:`PipelineError` if it cannot
    complete. Outputs are written under *options.out*."""
    result = RunResult()
    t_start = time.perf_counter()
    work = _fresh_work_dir(options)
    with timed(result, "read"):
        by_state, rejected = read_input(options, result)
    run = RunContext(options, work, load_catalogue(), progress or NullProgress(), result)
    with step(run, "keys"):
        keys = await load_keys(options, work, node_cycles(by_state, options.start_month))

    async with Resources() as stack:
        with step(run, "broker"):
            kafka = await start_broker(run, stack)
        with timed(result, "store"):
            store = await start_store(run, stack)
        applied = Applied()
        with step(run, "aggregators_start"):
            consumers = await start_consumers(run, stack, kafka, keys, store, applied)
        with timed(result, "nodes"):
            relays = await post_through_nodes(run, stack, kafka, keys, by_state, rejected)
        result.rejected = len(rejected)
        applied.expect(result.published)
        with timed(result, "publish"):
            await publish(relays, result.published, run.progress)
        with step(run, "aggregators_join"):
            await join_consumers(consumers, kafka)
        with timed(result, "aggregate"):
            deadline = time.monotonic() + options.timeout  # also for the summaries
            await wait_until_applied(run, applied, deadline)
        result.dead_lettered = applied.dead_lettered
        result.applied = applied.finished - result.dead_lettered
        with step(run, "lessons"):
            lessons = await open_lessons(store, keys)
        with step(run, "routes"):
            await exchange_route_tables(run, store, keys, consumers, kafka, deadline)
        with step(run, "digests"):
            summaries = await issue_digests(run, store, keys, consumers, lessons, deadline)
        with timed(result, "outputs"):
            await write_run_outputs(run, store, lessons, summaries, rejected)

    result.timings["total"] = time.perf_counter() - t_start
    (options.out / "run.json").write_text(
        json.dumps(result.to_json(), indent=2) + "\n", encoding="utf-8"
    )
    return result


def _fresh_work_dir(options: RunOptions) -> Path:
    """The run's work folder, emptied, with its ``nodes`` folder."""
    if not options.input.is_file():
        raise ConfigurationError(f"input file {options.input} does not exist")
    work = options.work_dir / RUN_DIR
    if work.exists():
        shutil.rmtree(work)
    (work / "nodes").mkdir(parents=True)
    return work
