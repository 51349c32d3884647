"""``healthspace summary``: the patient summary (IPS sections), each line with its record source.

A thin entrypoint over ``clinician.summary_service``: the JSON is the service's, the readable
view only lays it out. ``--ips`` gives the same summary as an IPS document (a FHIR R4 Bundle).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import typer
from rich.markup import escape

from healthspace.cli.app import app
from healthspace.cli.output import JSON_OPTION, console, emit, open_healthspace
from healthspace.clinician.summary_service import ips_document, summarize


def _since(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date: use YYYY-MM-DD, e.g. 2025-01-31"
        ) from None


@app.command()
def summary(
    person: str = typer.Argument(..., help="Person id (see: healthspace persons)."),
    since: str | None = typer.Option(
        None, "--since", help="Also show what changed on or after this date (YYYY-MM-DD)."
    ),
    ips: bool = typer.Option(
        False,
        "--ips",
        help="The summary as an International Patient Summary document (FHIR R4 Bundle); "
        "with --json, the Bundle itself.",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Patient summary: problems, medicines, allergies, results, immunizations, procedures,
    encounters and care team, every line with the record item it comes from."""
    day = _since(since)
    if ips and day is not None:
        raise typer.BadParameter(
            "--since and --ips cannot be combined: choose one", param_hint="--ips"
        )
    hs = open_healthspace()
    if ips:
        bundle = ips_document(hs, hs.default_actor, person)
        emit(bundle, as_json, lambda: _render_ips(bundle))
        return
    data = summarize(hs, hs.default_actor, person, day)
    emit(data, as_json, lambda: _render(data))


def _render_ips(bundle: dict[str, Any]) -> None:
    composition = bundle["entry"][0]["resource"]
    console.print(
        f"[bold]{escape(composition['title'])}[/] (IPS document {escape(bundle['id'])}, "
        f"{len(bundle['entry'])} resources, {escape(bundle['timestamp'])})"
    )
    for section in composition["section"]:
        code = section["code"]["coding"][0]["code"]
        count = len(section.get("entry", []))
        note = f"{count} entries" if count else "[dim]no information in the record[/]"
        console.print(f"  • {escape(section['title'])} [dim](LOINC {code})[/]: {note}")
    console.print("[dim]The FHIR Bundle itself: add --json.[/]")


def _render_sections(sections: list[dict[str, Any]]) -> None:
    for section in sections:
        console.print()
        code = f" [dim](LOINC {section['code']})[/]" if section["code"] else ""
        console.print(f"[bold]{escape(section['title'])}[/]{code}")
        if not section["items"]:
            console.print("  [dim]none recorded[/]")
        for item in section["items"]:
            refs = [s["resource"] for s in item.get("sources") or [item["source"]]]
            console.print(f"  • {escape(item['text'])}")
            console.print(f"    [dim]{escape(', '.join(refs))}[/]")


def _render(data: dict[str, Any]) -> None:
    _render_sections(data["sections"])
    changes = data.get("changes")
    if changes:
        console.print()
        console.print(f"[bold underline]Changes since {escape(changes['since'])}[/]")
        _render_sections(changes["sections"])
