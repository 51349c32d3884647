"""Record commands: import, persons, resources, export, erase."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import orjson
import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from healthspace.cli.app import app
from healthspace.cli.output import JSON_OPTION, console, emit, errors_console, open_healthspace
from healthspace.ingest.formats import expand_paths


@app.command("import")
def import_files(
    paths: list[Path] = typer.Argument(..., help="FHIR R4 JSON/NDJSON files or folders (.gz too)."),
    person: str | None = typer.Option(None, "--person", help="Put everything into this person."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Import FHIR files: one file is one transaction; bad files are reported, never half-stored."""
    hs = open_healthspace()
    files, _ = expand_paths(paths)
    show_progress = sys.stderr.isatty() and not as_json and len(files) > 1
    if show_progress:
        with Progress(
            TextColumn("[bold]Importing"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task("", total=len(files))
            report = hs.importer.import_paths(
                paths,
                hs.default_actor,
                person,
                progress=lambda p: bar.update(task, advance=1, description=p.name),
            )
    else:
        report = hs.importer.import_paths(paths, hs.default_actor, person)
    result = report.as_json()

    def render() -> None:
        total = sum(result["imported"].values())
        console.print(
            f"Imported {total} resources from {result['files_imported']} file(s); "
            f"{result['unchanged']} already there."
        )
        for resource_type, count in result["imported"].items():
            console.print(f"  {resource_type}: {count}")
        for item in result["skipped_items"]:
            console.print("[yellow]skipped[/]", escape(_where(item)))

    emit(result, as_json, render)
    # Errors go to stderr in both forms, so a script reading --json still sees them.
    for error in result["errors"]:
        errors_console.print("[red]error[/]", escape(_where(error)))
    if report.nothing_imported and report.errors:
        raise typer.Exit(1)


def _where(item: dict[str, str]) -> str:
    place = f" at {item['place']}" if item["place"] else ""
    return f"{item['path']}{place}: {item['reason']}"


@app.command()
def persons(as_json: bool = JSON_OPTION) -> None:
    """List the persons in this record."""
    hs = open_healthspace()
    found = hs.vault.persons(hs.default_actor)
    data = [
        {"id": p.id, "name": p.name, "birth_date": p.birth_date, "resources": p.resources}
        for p in found
    ]

    def render() -> None:
        table = Table("id", "name", "birth date", "resources")
        for p in found:
            table.add_row(p.id, p.name or "", p.birth_date or "", str(p.resources))
        console.print(table)

    emit(data, as_json, render)


@app.command()
def resources(
    person: str = typer.Argument(..., help="Person id (see: healthspace persons)."),
    resource_type: str | None = typer.Option(None, "--type", help="Only this FHIR type."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List a person's resources."""
    hs = open_healthspace()
    found = hs.vault.resources(hs.default_actor, person, resource_type)

    def render() -> None:
        table = Table("type", "id", "date", "what")
        for r in found:
            table.add_row(r["resourceType"], r["id"], _date_of(r), _label_of(r))
        console.print(table)

    emit(found, as_json, render)


def _date_of(resource: dict[str, Any]) -> str:
    for key in (
        "effectiveDateTime",
        "issued",
        "onsetDateTime",
        "recordedDate",
        "authoredOn",
        "occurrenceDateTime",
        "performedDateTime",
        "date",
        "birthDate",
    ):
        if isinstance(resource.get(key), str):
            return str(resource[key])[:10]
    period = resource.get("period")
    return str(period.get("start", ""))[:10] if isinstance(period, dict) else ""


def _label_of(resource: dict[str, Any]) -> str:
    for key in ("code", "vaccineCode", "medicationCodeableConcept", "type"):
        concept = resource.get(key)
        if isinstance(concept, list):
            concept = concept[0] if concept else None
        if isinstance(concept, dict):
            text = concept.get("text") or next(
                (c.get("display") for c in concept.get("coding", []) if c.get("display")), ""
            )
            return str(text)
    return ""


@app.command()
def export(
    person: str = typer.Argument(..., help="Person id."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write to this file."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Export a person's whole record as a FHIR R4 collection Bundle (always JSON)."""
    hs = open_healthspace()
    bundle = hs.vault.export(hs.default_actor, person)
    data = orjson.dumps(bundle, option=orjson.OPT_INDENT_2)
    if output:
        output.write_bytes(data)
        if not as_json:
            console.print(f"Wrote {len(bundle['entry'])} resources to {output}")
        else:
            typer.echo(
                orjson.dumps({"path": str(output), "entries": len(bundle["entry"])}).decode()
            )
    else:
        typer.echo(data.decode())


@app.command()
def erase(
    person: str = typer.Argument(..., help="Person id."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Erase a person: their key is destroyed and their data deleted. This cannot be undone."""
    hs = open_healthspace()
    if not yes and not as_json and sys.stdin.isatty():
        typer.confirm(f"Erase every record of {person}? This cannot be undone.", abort=True)
    removed = hs.vault.erase(hs.default_actor, person)
    emit(
        {"erased": person, "resources": removed},
        as_json,
        lambda: console.print(f"Erased {person}: {removed} resources and their key."),
    )
