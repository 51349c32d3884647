"""``healthspace med-review``: a clinician's review of a person's current medicines.

A thin entrypoint over ``clinician.medication_review``: the JSON is the service's, the readable
view only lays it out.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import typer
from rich.markup import escape

from healthspace.cli.app import app
from healthspace.cli.output import JSON_OPTION, console, emit, open_healthspace
from healthspace.clinician.medication_review import medication_review


class Lang(StrEnum):
    en = "en"
    fr = "fr"


_STYLES = {
    "contraindicated": "bold white on red",
    "major": "bold red",
    "moderate": "bold yellow",
    "minor": "bold cyan",
}
_NONE = {
    "en": "No finding among the current medicines in our sources.",
    "fr": "Aucun constat sur les médicaments en cours dans nos sources.",
}


@app.command("med-review")
def med_review(
    person: str = typer.Argument(..., help="Person id (see: healthspace persons)."),
    lang: Lang = typer.Option(Lang.en, "--lang", help="Language of the explanations."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Review a person's current medicines: interactions, duplicates, allergies, kidney
    function, pregnancy and age, each finding with its record items and sources."""
    hs = open_healthspace()
    data = medication_review(hs, hs.default_actor, person).as_json(lang.value)
    emit(data, as_json, lambda: _render(data, lang.value))


def _render(data: dict[str, Any], lang: str) -> None:
    console.print(f"[italic]{escape(data['label'])}[/]")
    for finding in data["findings"]:
        console.print()
        style = _STYLES[finding["severity"]]
        console.print(f"[{style}] {finding['severity'].upper()} [/] {escape(finding['title'])}")
        console.print(f"  {escape(finding['text'])}")
        console.print(f"  [bold]→[/] {escape(finding['action'])}")
        console.print(f"  [dim]{escape(', '.join(finding['record_refs']))}[/]")
        cited = "; ".join(f"{s['publisher']} <{s['url']}>" for s in finding["sources"])
        console.print(f"  [dim]{escape(cited)}[/]")
    if not data["findings"]:
        console.print(_NONE[lang])
