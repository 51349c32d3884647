"""The Typer app and the translation of Healthspace errors into exit codes and messages."""

from __future__ import annotations

import sys

import typer

from healthspace.errors import HealthspaceError

app = typer.Typer(
    name="healthspace",
    help="Your private health record, explained with sources. Every command accepts --json.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register_commands() -> None:
    # Imported for their side effect of adding commands to ``app`` (and to its ``explain`` group).
    from healthspace.cli import (  # noqa: F401
        accounts,
        alternatives,
        ask,
        audit,
        coding,
        drafts,
        entry,
        explain,
        interactions,
        labs,
        medication_review,
        meds,
        pubmed,
        records,
        reports,
        search,
        serve,
        summary,
        triage,
    )


def main() -> None:
    """Entry point: a HealthspaceError becomes a one-line message on stderr and exit code 1."""
    _register_commands()
    try:
        app()  # standalone: usage errors and typer.Exit end the process with their own code
    except HealthspaceError as error:
        print(f"healthspace: {error}", file=sys.stderr)
        sys.exit(1)
