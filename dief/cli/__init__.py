"""The ``dief`` command line. Each concept registers its commands from its own module."""

from __future__ import annotations

from dief.cli._app import app, main

__all__ = ["app", "main"]
