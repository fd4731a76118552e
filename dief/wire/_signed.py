"""The document a signature covers: a model's wire form without its ``signature`` member."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import BaseModel

__all__ = ["unsigned_document"]


def unsigned_document(model: BaseModel) -> dict[str, object]:
    """*model* dumped as JSON-ready data with wire names, ``signature`` removed."""
    data: dict[str, object] = model.model_dump(mode="json", by_alias=True)
    data.pop("signature", None)
    return data
