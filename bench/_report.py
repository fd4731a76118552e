"""The short Markdown table of a benchmark run (the JSON file has every figure)."""

from __future__ import annotations

from typing import Any

__all__ = ["markdown"]


def _n(value: object, digits: int = 0) -> str:
    if value is None:
        return "-"
    if isinstance(value, int | float):
        return f"{value:,.{digits}f}"
    return str(value)


def _load(phase: dict[str, Any]) -> str:
    load = phase.get("load") or {}
    return (
        f"{_n(load.get('benchmark_cores'), 2)} cores bench, {_n(load.get('other_cores'), 2)} other"
    )


def _cpu(phase: dict[str, Any]) -> str:
    cpu = phase.get("cpu_ms_per_1000_records") or {}
    return " / ".join(f"{_n(cpu.get(k), 0)} ms" for k in ("main", "consumer", "broker"))


def markdown(r: dict[str, Any]) -> str:  # noqa: PLR0914  one measured procedure: its steps in the order they are timed
    m = r["machine"]
    out = [
        f"# Pipeline benchmark ({r['database']})",
        "",
        f"`{r['command']}` — {r['date']}, {r['total_seconds']} s in all.",
        "",
        (
            f"Machine: {m['cpus']} x {m['cpu_model']}, {m['memory_gib']} GiB, Linux {m['kernel']}, "
            f"Python {m['python']}, aiokafka {m['aiokafka']}, SQLAlchemy {m['sqlalchemy']}; "
            f"{m['broker']}. The machine is shared: each phase's load column gives the cores used "
            "by the benchmark's processes and by everything else during that phase."
        ),
        "",
        "| figure | value | target | load |",
        "|---|---|---|---|",
    ]
    p = r.get("pipeline")
    b = r.get("baseline")
    if p:
        e = p["end_to_end"]
        s = p["stages"]
        out += [
            (
                f"| pipeline end to end, {p['cases']:,} cases ({p['records']:,} records) | "
                f"{_n(e['cases_per_second'])} cases/s, {_n(e['records_per_second'])} records/s | | "
                f"{_load(p)} |"
            ),
            (
                f"| · node intake (validate, screen, generalise, seal, outbox) | "
                f"{_n(s['node_intake']['cases_per_second'])} cases/s | | |"
            ),
            (
                f"| · relay publish (outbox read, acks=all, mark) | "
                f"{_n(s['relay_publish']['records_per_second'])} records/s | | |"
            ),
            (
                f"| · aggregator while busy (open, validate, apply, store, cells) | "
                f"{_n(s['aggregator']['records_per_second_busy'])} records/s "
                f"(busy {_n(s['aggregator']['busy_seconds'], 1)} s of "
                f"{_n(s['aggregator']['seconds'], 1)} s) | | |"
            ),
            f"| · CPU per 1,000 records: node+relay / aggregator / broker | {_cpu(p)} | | |",
        ]
    if b:
        e = b["end_to_end"]
        out += [
            (
                f"| bare aiokafka baseline, same {b['records']:,} records "
                f"(mean {_n(b['record_bytes']['mean'])} B) | {_n(e['records_per_second'])} "
                f"records/s (produce {_n(b['produce']['records_per_second'])}/s) | | {_load(b)} |"
            ),
            f"| · CPU per 1,000 records: producer / consumer / broker | {_cpu(b)} | | |",
            (
                f"| **ratio pipeline / baseline** (records/s, end to end) | "
                f"**{_n(r.get('ratio_pipeline_to_baseline'), 3)}** | ≥ 0.5 | |"
            ),
        ]
    lat = r.get("latency")
    if lat:
        q = lat["post_to_applied_ms"]
        out += [
            (
                f"| post → applied at {_n(lat['offered_cases_per_second'])} cases/s offered, p50 | "
                f"{_n(q['p50'], 1)} ms | | {_load(lat)} |"
            ),
            (
                f"| post → applied, **p99** (max {_n(q['max'], 0)} ms) | "
                f"**{_n(q['p99'], 1)} ms** | < 500 ms | |"
            ),
        ]
    rss = r.get("rss")
    if rss:
        fresh = rss["fresh_store"]
        for mark in fresh["checkpoints"]:
            out.append(
                f"| aggregator peak RSS (VmHWM), {mark['applied']:,} records applied to an "
                f"empty store | {_n(mark['vmhwm_mib'], 1)} MiB | | |"
            )
        large = rss.get("large_store")
        if large:
            mark = large["checkpoints"][-1]
            out.append(
                f"| aggregator peak RSS, {mark['applied']:,} records applied on top of "
                f"{large['stored_before']:,} stored cases | {_n(mark['vmhwm_mib'], 1)} MiB | | "
                f"{_load(large)} |"
            )
            out.append(
                f"| **RSS at {large['stored_before']:,} / at {fresh['records']:,} stored** | "
                f"**{rss['ratio_large_to_fresh']:.2f}** | <= 1.5 | |"
            )
        out.append(
            f"| aggregator alone (RSS run, empty store) | "
            f"{_n(fresh['aggregator_records_per_second'])} records/s | | {_load(fresh)} |"
        )
    dig = r.get("digests")
    if dig:
        for row in dig:
            out.append(
                f"| {row['stored_cases']:,} stored cases ({row['cell_rows']:,} cell rows): "
                f"digest / summary / all {row['outputs_written']} outputs | "
                f"{row['digest_cycle_seconds'] * 1000:,.0f} ms / "
                f"{row['summary_seconds'] * 1000:,.0f} ms / {row['write_outputs_seconds']:.1f} s"
                " | | |"
            )
        by_size = {row["stored_cases"]: row for row in dig}
        if 10_000 in by_size and 1_000_000 in by_size:  # noqa: PLR2004  the two sizes the report compares (the runs it was given)
            small, big = by_size[10_000], by_size[1_000_000]
            out.append(
                "| **1M / 10k time** (digest, summary) | **"
                f"{big['digest_cycle_seconds'] / small['digest_cycle_seconds']:.2f}, "
                f"{big['summary_seconds'] / small['summary_seconds']:.2f}** | ≤ 2 | |"
            )
    out.append("")
    return "\n".join(out)
