""":func:`load_settings`: the one place the environment is read, and its error text (each
problem named by its environment variable, never echoing a value)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import pydantic
from pydantic_settings import BaseSettings

from dief.exceptions import ConfigurationError
from dief.settings._common import env_name
from dief.settings._groups import KafkaSettings

__all__ = ["load_settings"]

S = TypeVar("S", bound=BaseSettings)


def _given(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """*overrides* without the options that were not given (None), nested groups too."""
    kept: dict[str, Any] = {}
    for name, value in overrides.items():
        if isinstance(value, Mapping):
            nested = _given(value)
            if nested:
                kept[name] = nested
        elif value is not None:
            kept[name] = value
    return kept


def _where(loc: tuple[str | int, ...]) -> str:
    """The variable of an error's location (a list's item index is left out)."""
    names: list[str | int] = []
    for part in loc:
        if isinstance(part, int):
            break
        names.append(part)
    return env_name(*names) if names else "settings"


def _problems(exc: pydantic.ValidationError) -> str:
    return "; ".join(
        f"{_where(err['loc'])}: {err['msg']}"
        for err in exc.errors(include_input=False, include_url=False)  # never echo a secret
    )


def load_settings(
    cls: type[S], /, overrides: Mapping[str, Any] | None = None, *, connects: bool = True
) -> S:
    """The settings *cls* from the environment, with the command-line *overrides* on top
    (None means "not given"; a nested group is a mapping, e.g. ``{"kafka": {"bootstrap":
    …}}``).

    The one place the environment is read: called once per command, at the edge. A plain
    database URL gets its async driver. If the command *connects* to the broker, the Kafka
    CA file is read here, so a bad one fails before any service starts.

    :raises ConfigurationError: a value is invalid, a ``DIEF_KAFKA__*`` or
        ``DIEF_KEYRING__*`` name is unknown, or the CA file cannot be used; the message
        names the environment variable.
    """
    try:
        settings = cls(**_given(overrides or {}))
    except pydantic.ValidationError as exc:
        raise ConfigurationError(f"invalid settings: {_problems(exc)}") from exc
    kafka = getattr(settings, "kafka", None)
    if connects and isinstance(kafka, KafkaSettings):
        kafka.tls_context()
    return settings
