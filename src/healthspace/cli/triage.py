"""``healthspace triage``: how urgent are these symptoms, and whom to call.

The command reads no record and opens no database: triage is a pure function of the message,
so it works even before anything is imported.
"""

from __future__ import annotations

import sys
from enum import StrEnum

import typer
from rich.markup import escape

from healthspace.cli.app import app
from healthspace.cli.output import COUNTRY_OPTION, JSON_OPTION, console, emit
from healthspace.safety.triage import TriageResult, triage


class Lang(StrEnum):
    en = "en"
    fr = "fr"


# Words of the readable view only; the medical text comes from the rules file.
_WORDS = {
    "en": {
        "emergency": "EMERGENCY: CALL {call} NOW",
        "urgent": "URGENT: see a doctor today",
        "non_urgent": "NOT URGENT: book an appointment",
        "self_care": "SELF-CARE: you can look after this at home",
        "red_flags": "Warning signs found",
        "why": "Why",
        "what_to_do": "What to do",
        "sources": "Sources",
        "reminder": "This orientation does not replace a doctor, a nurse or a pharmacist.",
    },
    "fr": {
        "emergency": "URGENCE : APPELEZ LE {call} MAINTENANT",
        "urgent": "URGENT : consultez un médecin aujourd'hui",
        "non_urgent": "PAS URGENT : prenez rendez-vous",
        "self_care": "SOINS À LA MAISON : vous pouvez vous soigner chez vous",
        "red_flags": "Signes d'alerte trouvés",
        "why": "Pourquoi",
        "what_to_do": "Que faire",
        "sources": "Sources",
        "reminder": "Cette orientation ne remplace pas un médecin, un infirmier ou un pharmacien.",
    },
}
_STYLES = {
    "emergency": "bold white on red",
    "urgent": "bold red",
    "non_urgent": "bold yellow",
    "self_care": "bold green",
}


@app.command("triage")
def triage_command(
    symptoms: str = typer.Argument(
        ..., help="The symptoms, in your own words (English or French); '-' reads stdin."
    ),
    lang: Lang = typer.Option(Lang.en, "--lang", help="Language of the answer."),
    country: str | None = COUNTRY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Orient symptoms: emergency (call now), urgent (today), non urgent, or self-care."""
    text = sys.stdin.read() if symptoms == "-" else symptoms
    result = triage(text, lang.value, country)
    emit(result.as_json(), as_json, lambda: _render(result))


def _render(result: TriageResult) -> None:
    words = _WORDS[result.lang]
    colon = " :" if result.lang == "fr" else ":"  # French puts a space before a colon
    # The number to call comes first, on its own line, before anything else is read.
    headline = words[result.level].format(call=result.call or "")
    console.print(f"[{_STYLES[result.level]}] {escape(headline)} [/]")
    if result.red_flags:
        console.print(f"[bold]{words['red_flags']}{colon}[/]")
        for flag in result.red_flags:
            console.print(f"  • {escape(flag)}")
    console.print(f"[bold]{words['why']}{colon}[/]")
    for reason in result.reasons:
        console.print(f"  {escape(reason)}")
    console.print(f"[bold]{words['what_to_do']}{colon}[/] {escape(result.advice)}")
    cited = "; ".join(f"{s.publisher}, {s.title} <{s.url}>" for s in result.sources)
    console.print(f"[dim]{words['sources']}{colon} {escape(cited)}[/]")
    if result.level == "self_care":
        console.print(f"[italic]{words['reminder']}[/]")
