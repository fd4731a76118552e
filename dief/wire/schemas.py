"""Generate the published contracts in ``schemas/`` from the code (DESIGN §9 ⚑).

JSON Schema (draft 2020-12) for the case input, the sealed envelope, the case record, the
digest, the signed digest payload sealed on ``dief.digests``, the CSP summary, the
receipt (sealed and in clear), the contributor-credential request and answer, ``run.json``
and the lines of ``accepted.jsonl`` and ``rejected.jsonl``, plus an AsyncAPI 3.0 document of
the topics, each as strict as the code (DESIGN §9 ⚑). Output is
deterministic (sorted keys, two-space indent, trailing newline) so a test can detect drift
between the committed files and the code.

The schemas are built in ``_schemas_models`` (tightened by ``_schemas_case``,
``_schemas_envelope`` and ``_schemas_outputs``), the AsyncAPI messages in
``_schemas_messages`` and the rest of the AsyncAPI document (servers, channels,
operations) in ``_schemas_asyncapi``; this module is the public surface.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from dief.wire._schemas_asyncapi import asyncapi_document
from dief.wire._schemas_models import RUN_FILES, SCHEMA_FILES, model_schemas

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "ASYNCAPI_FILE",
    "RUN_FILES",
    "SCHEMA_FILES",
    "asyncapi_document",
    "check_schemas",
    "dumps",
    "export_schemas",
    "generate_schemas",
]

ASYNCAPI_FILE = "asyncapi.json"


def dumps(document: Mapping[str, object]) -> str:
    """Canonical text of a generated file."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def generate_schemas() -> dict[str, str]:
    """Every file of ``schemas/``: file name → text."""
    out = {name: dumps(schema) for name, schema in model_schemas().items()}
    out[ASYNCAPI_FILE] = dumps(asyncapi_document())
    return out


def export_schemas(out_dir: str | Path) -> list[Path]:
    """Write every schema file into *out_dir* (created if needed); return the paths."""
    directory = Path(out_dir)
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, text in sorted(generate_schemas().items()):
        path = directory / name
        path.write_text(text, encoding="utf-8", newline="\n")
        written.append(path)
    return written


def check_schemas(directory: str | Path) -> list[str]:
    """Names of files in *directory* that are missing or differ from the generated ones."""
    base = Path(directory)
    stale: list[str] = []
    for name, text in sorted(generate_schemas().items()):
        path = base / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(name)
    return stale
