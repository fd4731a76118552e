"""Optional pyinstrument profiles of a benchmark process, summarised as top costs."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["Cost", "ProcessProfile"]

#: Frames of these packages are grouped under one name in the "by area" view.
_AREAS = (
    ("sqlalchemy", "SQLAlchemy"),
    ("aiosqlite", "aiosqlite (SQLite thread hand-off)"),
    ("sqlite3", "SQLite"),
    ("asyncpg", "asyncpg"),
    ("aiokafka", "aiokafka"),
    ("faststream", "FastStream"),
    ("pydantic", "pydantic"),
    ("cryptography", "cryptography"),
    ("asyncio", "asyncio event loop"),
    ("selectors", "asyncio event loop"),
    ("json", "json"),
)


@dataclass(frozen=True, slots=True)
class Cost:
    """One function's share of the sampled time."""

    name: str
    seconds: float
    share: float

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "seconds": round(self.seconds, 3), "share": round(self.share, 4)}


class ProcessProfile:
    """A pyinstrument sampling profile of the whole process (all tasks of its event loop)."""

    def __init__(self, *, enabled: bool, interval: float = 0.002) -> None:
        self._profiler: Any = None
        if enabled:
            from pyinstrument import Profiler  # noqa: PLC0415  loaded where used: a phase or child process loads only what it measures

            self._profiler = Profiler(interval=interval, async_mode="disabled")

    @property
    def enabled(self) -> bool:
        return self._profiler is not None

    def start(self) -> None:
        if self._profiler is not None and not self._profiler.is_running:
            self._profiler.start()

    def stop(self, text_path: Path | None) -> dict[str, object] | None:
        """Stop; write the text report to *text_path*; return the top costs as JSON."""
        if self._profiler is None or not self._profiler.is_running:
            return None
        session = self._profiler.stop()
        root = session.root_frame()
        if root is None:
            return None
        total = max(root.time, 1e-9)
        by_function: dict[str, float] = defaultdict(float)
        inclusive: dict[str, float] = defaultdict(float)
        by_area: dict[str, float] = defaultdict(float)
        _walk(root, by_function, inclusive, by_area, set())
        if text_path is not None:
            text_path.parent.mkdir(parents=True, exist_ok=True)
            text_path.write_text(
                self._profiler.output_text(unicode=False, color=False, show_all=False)
                + "\n\n# Self time by function\n\n"
                + self._profiler.output_text(flat=True, flat_time="self")
                + "\n",
                encoding="utf-8",
            )
        dief_inclusive = {k: v for k, v in inclusive.items() if _ours(k)}
        return {
            "sampled_seconds": round(total, 3),
            "top_self": [c.to_json() for c in _top(by_function, total, 10)],
            "top_dief_inclusive": [c.to_json() for c in _top(dief_inclusive, total, 15)],
            "by_area_self": [c.to_json() for c in _top(by_area, total, 12)],
        }


def _ours(name: str) -> bool:
    return name.startswith(("dief/", "consumers/", "bench/"))


def _name(frame: Any) -> str:  # noqa: ANN401  pyinstrument's frame objects (untyped)
    path = str(frame.file_path_short or frame.file_path or "?")
    for marker in ("site-packages/", "/work/main/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{path}:{frame.function}"


def _area(frame: Any) -> str:  # noqa: ANN401  pyinstrument's frame objects (untyped)
    path = str(frame.file_path or "")
    if path == "<built-in>":
        function = str(frame.function)
        if "poll" in function or "select" in function:
            return "idle (event loop waiting for I/O)"
        if "acquire" in function or "wait" in function:
            return "waiting on a thread (SQLite / DNS hand-off)"
        return "C built-ins (" + function + ")"
    if "/work/main/" in path and "site-packages" not in path:
        return "DIEF code (" + path.split("/work/main/", 1)[1].split("/", 1)[0] + "/)"
    for needle, label in _AREAS:
        if f"/{needle}/" in path or path.endswith(f"/{needle}.py"):
            return label
    return "other"


def _walk(
    frame: Any,  # noqa: ANN401  pyinstrument's frame objects (untyped)
    by_function: dict[str, float],
    inclusive: dict[str, float],
    by_area: dict[str, float],
    on_stack: set[str],
) -> None:
    name = _name(frame)
    real = [c for c in frame.children if not _synthetic(c)]
    self_time = frame.time - sum(c.time for c in real)  # [self] children belong to us
    if self_time > 0:
        by_function[name] += self_time
        by_area[_area(frame)] += self_time
    if name not in on_stack:  # recursion counts once
        inclusive[name] += frame.time
    on_stack |= {name}
    for child in real:
        _walk(child, by_function, inclusive, by_area, on_stack)


def _synthetic(frame: Any) -> bool:  # noqa: ANN401  pyinstrument's frame objects (untyped)
    return bool(frame.is_synthetic) or str(frame.function).startswith("[")


def _top(table: dict[str, float], total: float, n: int) -> list[Cost]:
    ranked = sorted(table.items(), key=lambda kv: -kv[1])[:n]
    return [Cost(name, seconds, seconds / total) for name, seconds in ranked]
