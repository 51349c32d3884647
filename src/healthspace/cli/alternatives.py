"""``healthspace alternatives``: options to replace a medicine, for the clinician's judgement."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import typer
from rich.markup import escape

from healthspace.cli.app import app
from healthspace.cli.output import JSON_OPTION, console, emit, open_healthspace
from healthspace.clinician.alternatives import alternatives_for


class Lang(StrEnum):
    en = "en"
    fr = "fr"


class ReasonChoice(StrEnum):
    side_effect = "side_effect"
    contraindication = "contraindication"
    interaction = "interaction"
    allergy = "allergy"


_WORDS = {
    "en": {"options": "Options", "excluded": "Left out", "none": "No option found."},
    "fr": {"options": "Options", "excluded": "Écartées", "none": "Aucune option trouvée."},
}


@app.command()
def alternatives(
    drug: str = typer.Argument(..., help="The medicine to replace (international or brand name)."),
    reason: ReasonChoice = typer.Option(
        ReasonChoice.side_effect, "--reason", help="Why it should be replaced."
    ),
    with_drug: str | None = typer.Option(
        None, "--with", help="The medicine it interacts with (for --reason interaction)."
    ),
    person: str | None = typer.Option(
        None, "--person", help="Check each option against this person's record."
    ),
    lang: Lang = typer.Option(Lang.en, "--lang", help="Language of the explanations."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Other medicines of the same indication that avoid the problem, with reasons and sources:
    options for the clinician's judgement, not a prescription."""
    hs = open_healthspace() if person is not None else None
    actor = hs.default_actor if hs is not None else "cli"
    data = alternatives_for(hs, actor, drug, reason.value, with_drug, person, lang.value).as_json()
    emit(data, as_json, lambda: _render(data, lang.value))


def _render(data: dict[str, Any], lang: str) -> None:
    words = _WORDS[lang]
    console.print(f"[italic]{escape(data['label'])}[/]")
    for note in data["guidance"]:
        console.print(f"  {escape(note['text'])}")
    console.print()
    console.print(f"[bold]{words['options']}[/]")
    if not data["options"]:
        console.print(f"  {words['none']}")
    for option in data["options"]:
        star = "★ " if option["preferred"] else "• "
        console.print(f"  {star}{escape(option['name'])} ({option['atc']})")
        for note in option["cautions"]:
            console.print(f"      [yellow]! {escape(note['text'])}[/]")
    if data["excluded"]:
        console.print()
        console.print(f"[bold]{words['excluded']}[/]")
        for option in data["excluded"]:
            why = option["why_not"][0]["text"] if option["why_not"] else ""
            console.print(f"  × {escape(option['name'])}: [dim]{escape(why)}[/]")
