"""Audit commands: who read or changed a person's data, and whether the log is intact."""

from __future__ import annotations

import typer
from rich.table import Table

from healthspace.cli.app import app
from healthspace.cli.output import JSON_OPTION, console, emit, open_healthspace


@app.command()
def audit(
    target: str = typer.Argument(..., help="A person id, or 'verify' to check the whole chain."),
    person: str | None = typer.Option(None, "--person", help="A person whose id is 'verify'."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List the audit entries of a person, or check the audit chain with: audit verify."""
    hs = open_healthspace()
    if target == "verify" and person is None:
        report = hs.vault.verify_audit()
        data = {
            "valid": report.valid,
            "entries": report.entries,
            "first_bad_entry": report.first_bad_seq,
            "reason": report.reason,
        }
        emit(
            data,
            as_json,
            lambda: console.print(
                f"{'[green]intact[/]' if report.valid else '[red]BROKEN[/]'}: {report.reason} "
                f"({report.entries} entries checked)"
            ),
        )
        if not report.valid:
            raise typer.Exit(2)
        return
    entries = hs.vault.audit_entries(hs.default_actor, person or target)
    data_entries = [
        {
            "seq": e.seq,
            "at": e.at,
            "actor": e.actor,
            "action": e.action,
            "person": e.person,
            "resource_type": e.resource_type,
            "detail": e.detail,
        }
        for e in entries
    ]

    def render() -> None:
        table = Table("#", "when", "who", "action", "type", "detail")
        for e in entries:
            table.add_row(str(e.seq), e.at[:19], e.actor, e.action, e.resource_type or "", e.detail)
        console.print(table)

    emit(data_entries, as_json, render)
