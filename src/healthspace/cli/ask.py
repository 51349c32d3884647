"""``healthspace ask``: a question answered from the knowledge base and the person's record.

Thin (STYLE.md §1): the command calls ``patient.ask.ask`` and prints its answer. The readable
view follows the answer's order: urgent triage advice first, then what was understood, then
the sentences, each with the numbers of the sources behind it, then the sources.
"""

from __future__ import annotations

import sys
from enum import StrEnum

import typer
from rich.markup import escape

from healthspace.cli.app import app
from healthspace.cli.output import COUNTRY_OPTION, JSON_OPTION, console, emit, open_healthspace
from healthspace.patient.ask import Answer, ask

# Words of the readable view only; the answer's own words come from ask_phrases.json.
_WORDS = {
    "en": {"sources": "Sources", "record": "From your record", "engine": "Answered by"},
    "fr": {"sources": "Sources", "record": "D'après votre dossier", "engine": "Réponse de"},
}


class Lang(StrEnum):
    en = "en"
    fr = "fr"


@app.command("ask")
def ask_command(
    question: str = typer.Argument(
        ..., help="Your question, in English or French; '-' reads stdin."
    ),
    person: str | None = typer.Option(
        None, "--person", help="Answer from this person's record too (see: healthspace persons)."
    ),
    lang: Lang | None = typer.Option(
        None, "--lang", help="Language of the answer (en or fr); guessed from the question."
    ),
    country: str | None = COUNTRY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Ask a health question: answered with sources, never a diagnosis; red flags come first."""
    text = sys.stdin.read() if question == "-" else question
    hs = open_healthspace()
    answer = ask(hs, hs.default_actor, text, person, lang.value if lang else None, country)
    emit(answer.as_json(), as_json, lambda: _render(answer))


def _render(answer: Answer) -> None:
    words = _WORDS[answer.lang]
    colon = " :" if answer.lang == "fr" else ":"  # French puts a space before a colon
    citations = answer.citations
    number = {source: index + 1 for index, source in enumerate(citations)}
    urgent = [s for s in answer.sentences if s.kind == "triage"]
    for sentence in urgent:
        console.print(f"[bold white on red] {escape(sentence.text)} [/]")
    console.print(f"[italic]{escape(answer.understood)}[/]")
    for sentence in answer.sentences:
        if sentence.kind == "triage":
            continue
        parts = [escape(sentence.text)]
        if sentence.sources:
            parts.append(escape("".join(f"[{number[s]}]" for s in sentence.sources)))
        if sentence.records:
            parts.append(f"[dim]({escape(', '.join(sentence.records))})[/]")
        console.print(" ".join(parts))
    if citations:
        console.print(f"[dim]{words['sources']}{colon}[/]")
        for source in citations:
            line = f"[{number[source]}] {source.publisher}, {source.title} <{source.url}>"
            console.print(f"[dim]  {escape(line)}[/]")
    engine = answer.engine.as_json(answer.lang)["name"]
    console.print(f"[dim]{words['engine']}{colon} {escape(engine)}[/]")
