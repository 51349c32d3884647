"""Medicine commands: ``meds``, ``explain med``, and the health memory (``remember``,
``memories``, ``forget``). Thin: each calls one service function and prints its answer."""

from __future__ import annotations

from enum import StrEnum

import typer
from rich.markup import escape

from healthspace.cli.app import app
from healthspace.cli.explain import explain_app
from healthspace.cli.output import JSON_OPTION, console, emit, open_healthspace
from healthspace.patient.medication_service import (
    MedicationView,
    MedicineExplanation,
    current_medications,
    explain_medicine,
    phrase,
    status_label,
)
from healthspace.patient.memory import Memory, forget, list_memories, remember_text


class Lang(StrEnum):
    en = "en"
    fr = "fr"


LANG_OPTION = typer.Option(Lang.en, "--lang", help="Language of the answer (en or fr).")
PERSON_ARGUMENT = typer.Argument(..., help="Person id (see: healthspace persons).")


@app.command()
def meds(
    person: str = PERSON_ARGUMENT, lang: Lang = LANG_OPTION, as_json: bool = JSON_OPTION
) -> None:
    """A person's medicines, current first, with what each is for and the record it comes from."""
    hs = open_healthspace()
    view = current_medications(hs, hs.default_actor, person, lang.value)
    emit(view.as_json(), as_json, lambda: _render_meds(view))


def _render_meds(view: MedicationView) -> None:
    lang = view.lang
    medications = view.record.medications
    if not medications.entries:
        console.print(phrase("no_medicines", lang))
    rows = {row["resource"]: row for row in view.rows()}
    for title, entries in (("current", medications.current), ("past", medications.past)):
        if not entries:
            continue
        console.print(f"[bold]{phrase(title, lang, 'titles')}[/]")
        for entry in entries:
            row = rows[entry.latest.ref]
            medicine = f" → {escape(row['medicine'])}" if row["medicine"] else ""
            status = status_label("expired" if entry.latest.expired else row["status"], lang)
            since = f", {row['since']}" if row["since"] else ""
            until = f" → {row['until']}" if row["until"] else ""
            console.print(f"  {escape(row['name'])}{medicine} [dim]({status}{since}{until})[/]")
            if row["dosage"]:
                console.print(f"    {escape(row['dosage'])}")
            why = row["for"]
            if why:
                note = f" [dim]({escape(why['note'])})[/]" if why["note"] else ""
                title = phrase("treats", lang, "titles") + _colon(lang)
                console.print(f"    {title} {escape(why['text'])}{note}")
            console.print(f"    [dim]{escape(row['resource'])}[/]")
            for older in entry.history:
                label = status_label(older.status, lang)
                when = f", {older.since}" if older.since else ""
                earlier = phrase("history", lang, "titles")
                line = f"{earlier}{_colon(lang)} {escape(older.ref)} ({label}{when})"
                console.print(f"    [dim]{line}[/]")
        console.print()
    allergies = [a for a in view.record.allergies if a.active]
    console.print(f"[bold]{phrase('allergies', lang, 'titles')}[/]")
    if not allergies:
        console.print(f"  {phrase('no_allergies', lang)}")
    for allergy in allergies:
        reported = phrase("patient_reported", lang) if allergy.patient_reported else ""
        reactions = f"{_colon(lang)} {', '.join(allergy.reactions)}" if allergy.reactions else ""
        console.print(
            f"  {escape(allergy.text)}{escape(reactions)}{reported} [dim]{allergy.ref}[/]"
        )


def _colon(lang: str) -> str:
    # French typography puts a space before a colon.
    return " :" if lang == "fr" else ":"


@explain_app.command("med")
def explain_med(
    name: str = typer.Argument(..., help="A medicine: international name or brand ('Doliprane')."),
    person: str | None = typer.Option(
        None, "--person", help="Check it against this person's medicines and allergies."
    ),
    lang: Lang = LANG_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """A medicine's use, side effects, precautions; with --person, interactions and allergies."""
    hs = open_healthspace()
    explanation = explain_medicine(hs, hs.default_actor, name, lang.value, person)
    emit(explanation.as_json(), as_json, lambda: _render_explanation(explanation))


def _render_explanation(explanation: MedicineExplanation) -> None:
    data = explanation.as_json()
    console.print(f"[bold underline]{escape(data['medicine'])}[/]")
    for section in data["sections"]:
        console.print()
        console.print(f"[bold]{escape(section['title'])}[/]")
        console.print(escape(section["text"]))
    if data["citations"]:
        console.print()
        console.print("[dim]Sources:[/]")
        for citation in data["citations"]:
            line = f"{citation['publisher']}, {citation['title']} <{citation['url']}>"
            console.print(f"[dim]  {escape(line)}[/]")


@app.command()
def remember(
    person: str = PERSON_ARGUMENT,
    text: str = typer.Argument(..., help="What to remember: 'I am allergic to penicillin'."),
    lang: Lang = LANG_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Save something you tell us about your medicines or allergies in your record."""
    hs = open_healthspace()
    result = remember_text(hs, hs.default_actor, person, text, lang.value)
    data = result.as_json(lang.value)
    emit(
        data,
        as_json,
        lambda: console.print(f"{escape(data['message'])} [dim]{data['resource']}[/]"),
    )


@app.command()
def memories(
    person: str = PERSON_ARGUMENT, lang: Lang = LANG_OPTION, as_json: bool = JSON_OPTION
) -> None:
    """What you told us about your medicines and allergies, newest first."""
    hs = open_healthspace()
    found = list_memories(hs, hs.default_actor, person)
    emit([m.as_json(lang.value) for m in found], as_json, lambda: _render_memories(found, lang))


def _render_memories(found: list[Memory], lang: Lang) -> None:
    console.print(f"[bold]{phrase('memories', lang.value, 'titles')}[/]")
    if not found:
        console.print(f"  {phrase('no_memories', lang.value)}")
    for memory in found:
        when = f"{memory.date}: " if memory.date else ""
        console.print(f"  {when}{escape(memory.summary(lang.value))} [dim]{memory.ref}[/]")


@app.command("forget")
def forget_memory(
    person: str = PERSON_ARGUMENT,
    ref: str = typer.Argument(..., help="What to forget, as shown by memories: 'Type/id'."),
    lang: Lang = LANG_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Remove something you told us from your record (a clinician's record is never removed)."""
    hs = open_healthspace()
    removed = forget(hs, hs.default_actor, person, ref, lang.value)
    emit(
        {"forgotten": removed},
        as_json,
        lambda: console.print(phrase("forgotten", lang.value).format(ref=removed)),
    )
