"""Seal and open rates (records/s, one core) of the sealed envelope v1.

For each KEM suite, with ~2 KiB case payloads (padded to a case record's size without a
lesson, DESIGN §3) and one recipient:

* ``seal``                 — every record draws its own data key: an HPKE wrap per record;
* ``open``                 — every record has its own data key: an HPKE unwrap per record;
* ``open, redelivered``    — the same records opened again (the opener's DEK cache is warm);
* ``AES-GCM only``         — the bare AES-256-GCM encrypt of the payload, for reference.

Prints a table and writes ``bench/results/seal_open.json``.

    uv run python bench/seal_open.py [--records 2000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import cryptography
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from rich.console import Console
from rich.table import Table

from dief.crypto import KemPrivateKey, Opener, Sealer
from dief.wire import SUITE_HYBRID, SUITE_X25519, TYPE_CASE

if TYPE_CHECKING:
    from collections.abc import Callable

RESULTS = Path(__file__).resolve().parent / "results" / "seal_open.json"


@dataclass(frozen=True)
class Row:
    """One line of the results: a suite, an operation and its rate."""

    suite: str
    operation: str
    records: int
    seconds: float
    records_per_second: float
    envelope_bytes: int


def _timed(operation: Callable[[], object], repeat: int) -> float:
    """Best wall time of *repeat* runs (the machine is shared; the best run is the least noisy)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        operation()
        best = min(best, time.perf_counter() - start)
    return best


def _row(suite: str, operation: str, records: int, seconds: float, size: int) -> Row:
    return Row(suite, operation, records, round(seconds, 6), round(records / seconds, 1), size)


def bench_suite(suite: str, payload: bytes, records: int, repeat: int) -> list[Row]:
    """Seal and open *records* copies of *payload* under *suite*; the best of *repeat*."""
    key = KemPrivateKey.generate(suite)
    payloads = [payload] * records
    sealer = Sealer(type=TYPE_CASE, region="AFR", recipients=[key.public_key])
    sealed = sealer.seal_many(payloads)
    size = len(sealed[0])
    rows = [_row(suite, "seal", records, _timed(lambda: sealer.seal_many(payloads), repeat), size)]

    def open_each() -> None:
        cold = Opener([key], cache_size=0)
        for value in sealed:
            cold.open(value)

    rows.append(_row(suite, "open", records, _timed(open_each, repeat), size))
    warm = Opener([key], cache_size=records)
    for value in sealed:
        warm.open(value)

    def open_again() -> None:
        for value in sealed:
            warm.open(value)

    rows.append(_row(suite, "open, redelivered", records, _timed(open_again, repeat), size))
    return rows


def bench_aesgcm(payload: bytes, records: int, repeat: int) -> Row:
    """AES-GCM alone on the same payloads: the floor the suites are compared with."""
    aes = AESGCM(AESGCM.generate_key(bit_length=256))

    def run() -> None:
        for _ in range(records):
            aes.encrypt(os.urandom(12), payload, b"")

    return _row("-", "AES-GCM only (reference)", records, _timed(run, repeat), len(payload) + 16)


def main() -> None:
    """``python -m bench.seal_open``: every suite, printed and written as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--records", type=int, default=2_000, help="records per run")
    parser.add_argument("--payload-bytes", type=int, default=2048)
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure; best is kept")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    filler = os.urandom(args.payload_bytes).hex()[: max(0, args.payload_bytes - 12)]
    payload = json.dumps({"summary": filler}, separators=(",", ":")).encode()
    rows: list[Row] = []
    for suite in (SUITE_HYBRID, SUITE_X25519):
        rows.extend(bench_suite(suite, payload, args.records, args.repeat))
    rows.append(bench_aesgcm(payload, args.records, args.repeat))

    table = Table(title=f"seal/open, {args.payload_bytes}-byte payloads, 1 recipient, 1 core")
    for column in ("suite", "operation", "records", "records/s", "µs/record", "envelope bytes"):
        table.add_column(column, justify="left" if column in {"suite", "operation"} else "right")
    for row in rows:
        table.add_row(
            row.suite.split("-", 1)[0],
            row.operation,
            f"{row.records:,}",
            f"{row.records_per_second:,.0f}",
            f"{1e6 / row.records_per_second:.1f}",
            f"{row.envelope_bytes:,}",
        )
    console = Console()
    if not console.is_terminal:
        console.width = max(console.width, 120)
    console.print(table)

    result = {
        "benchmark": "seal_open",
        "payload_bytes": args.payload_bytes,
        "recipients": 1,
        "repeat": args.repeat,
        "python": platform.python_version(),
        "cryptography": cryptography.__version__,
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "rows": [asdict(row) for row in rows],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
