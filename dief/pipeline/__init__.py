"""The whole pipeline in one process: ``dief run`` and ``dief demo`` (DESIGN §9)."""

from dief.pipeline._run import (
    NullProgress,
    PipelineError,
    Progress,
    RunOptions,
    RunResult,
    RunSummary,
    run_pipeline,
)

__all__ = [
    "NullProgress",
    "PipelineError",
    "Progress",
    "RunOptions",
    "RunResult",
    "RunSummary",
    "run_pipeline",
]
