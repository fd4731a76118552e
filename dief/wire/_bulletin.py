"""Bulletins at the wire edge (DESIGN §13 ⚑): what a region publishes to every node.

A bulletin batch is signed by the region's signing key (context :data:`CONTEXT_BULLETIN`),
then sealed as an envelope of type :data:`TYPE_BULLETIN` to the current bulletin group key;
the group key's private part travels as a :class:`BulletinGroupKeyRelease`, signed by the
directory signer (context :data:`CONTEXT_BULLETIN_GROUP_KEY`), with one sealed copy per
registered node's KEM key (envelope type :data:`TYPE_BULLETIN_GROUP_KEY`).

An entry carries generalised facts only: never a contributor, pseudonym, owner key, case id
or envelope id. Its ``bulletin_id`` is random, so a retraction names the bulletin, not the
case.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

__all__ = [
    "CONTEXT_BULLETIN",
    "CONTEXT_BULLETIN_GROUP_KEY",
    "TYPE_BULLETIN",
    "TYPE_BULLETIN_GROUP_KEY",
    "BulletinAction",
    "BulletinBatch",
    "BulletinEntry",
    "BulletinGroupKeyRelease",
    "SignedBulletinBatch",
    "WrappedGroupKey",
]

TYPE_BULLETIN = "dief.bulletin"
TYPE_BULLETIN_GROUP_KEY = "dief.bulletin-group-key"
CONTEXT_BULLETIN = "dief.bulletin"
CONTEXT_BULLETIN_GROUP_KEY = "dief.bulletin-group-key"

_ID = r"^[0-9a-f]{32}$"
_KID = r"^[a-z2-7]{20}$"
_MONTH = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
_TOKEN = r"^[a-z0-9_.:-]{1,64}$"  # noqa: S105  # a vocabulary token pattern, no password
_REGION = r"^[A-Z]{2,8}$"
_B64URL = r"^[A-Za-z0-9_-]*$"

BulletinAction = Literal["publish", "retract"]


class BulletinEntry(BaseModel):
    """One bulletin: an alert's generalised facts, or the retraction of an earlier one."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="Bulletin entry")

    bulletin_id: str = Field(pattern=_ID, description="Random; never derived from the case")
    action: BulletinAction
    kind: str | None = Field(default=None, pattern=_TOKEN)
    item_categories: tuple[str, ...] = Field(default=(), max_length=32)
    end_user_type: str | None = Field(default=None, pattern=_TOKEN)
    transfer_stage: str | None = Field(default=None, pattern=_TOKEN)
    methods: tuple[str, ...] = Field(default=(), max_length=32)
    route_regions: tuple[str, ...] = Field(default=(), max_length=8)
    risk_indicators: tuple[str, ...] = Field(default=(), max_length=64)
    month: str | None = Field(default=None, pattern=_MONTH)
    lesson: str | None = Field(default=None, max_length=4000)


class BulletinBatch(BaseModel):
    """What the region signs: its entries of one batch, and the group key they go under."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="Bulletin batch")

    format: Literal["dief-bulletins/1"] = "dief-bulletins/1"
    region: str = Field(pattern=_REGION)
    issued_hour: str = Field(description="UTC, coarsened to the hour")
    group_kid: str = Field(pattern=_KID)
    entries: tuple[BulletinEntry, ...] = Field(min_length=1, max_length=500)


class SignedBulletinBatch(BaseModel):
    """The sealed payload of a ``dief.bulletin`` envelope."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="Signed bulletin batch")

    batch: BulletinBatch
    signature: dict[str, JsonValue]


class WrappedGroupKey(BaseModel):
    """The group key's private part sealed to one registered node's KEM key."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="Wrapped bulletin group key")

    node_kid: str = Field(pattern=_KID)
    envelope: str = Field(description="A dief.bulletin-group-key envelope (JSON text)")


class BulletinGroupKeyRelease(BaseModel):
    """One directory version's bulletin group key, signed by the directory signer."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="Bulletin group key release")

    format: Literal["dief-bulletin-group-key/1"] = "dief-bulletin-group-key/1"
    directory_version: int = Field(ge=1)
    suite: str
    group_kid: str = Field(pattern=_KID)
    group_public: str = Field(pattern=_B64URL)
    wrapped: tuple[WrappedGroupKey, ...] = Field(max_length=1000)
    signature: dict[str, JsonValue] | None = None
