"""``healthspace summary``: the patient summary (IPS sections), each line with its record source.

A thin entrypoint over ``clinician.summary_service``: the JSON is the service's, the readable
view only lays it out.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import typer
from rich.markup import escape

from healthspace.cli.app import app
from healthspace.cli.output import JSON_OPTION, console, emit, open_healthspace
from healthspace.clinician.summary_service import summarize


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
    as_json: bool = JSON_OPTION,
) -> None:
    """Patient summary: problems, medicines, allergies, results, immunizations, procedures,
    encounters and care team, every line with the record item it comes from."""
    day = _since(since)
    hs = open_healthspace()
    data = summarize(hs, hs.default_actor, person, day)
    emit(data, as_json, lambda: _render(data))


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
