"""The ``healthspace`` command: one Typer app, commands grouped by area in sibling modules."""

from __future__ import annotations

from healthspace.cli.app import app, main

__all__ = ["app", "main"]
