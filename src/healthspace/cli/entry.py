"""``healthspace enter``: a person types in what they know (a lab result, a medicine, an
allergy, a condition, a vaccination), stored as a patient-reported FHIR resource. Thin: one
call to ``patient.manual_entry.save_entry``, the same service as the web form."""

from __future__ import annotations

from enum import StrEnum
from functools import partial

import typer
from rich.markup import escape

from healthspace.cli.app import app
from healthspace.cli.output import JSON_OPTION, console, emit, open_healthspace
from healthspace.patient.manual_entry import EntryForm, SavedEntry, save_entry
from healthspace.terminology.icd10cm import load_icd10cm


class Kind(StrEnum):
    lab = "lab"
    medicine = "medicine"
    allergy = "allergy"
    condition = "condition"
    vaccine = "vaccine"


class Lang(StrEnum):
    en = "en"
    fr = "fr"


def _text(option: str, help_text: str) -> str:
    value: str = typer.Option("", option, help=help_text)
    return value


@app.command()
def enter(
    person: str = typer.Argument(..., help="Person id (see: healthspace persons)."),
    kind: Kind = typer.Argument(
        ..., help="What to enter: lab, medicine, allergy, condition, vaccine."
    ),
    name: str = _text(
        "--name", "The test, medicine, allergen, condition or vaccine, in French or English."
    ),
    code: str = _text("--code", "A code instead of the name: LOINC, RxNorm/ATC, ICD-10-CM, CVX."),
    value: str = _text("--value", "Lab result as printed: 5.4, 5,4 or < 0.5."),
    unit: str = _text("--unit", "Lab result unit as printed, e.g. mmol/L."),
    date: str = _text(
        "--date", "When: test date, start, onset or vaccination (2024-05-31 or 31/05/2024)."
    ),
    end_date: str = _text("--end-date", "When a medicine was stopped or a condition ended."),
    status: str = _text("--status", "medicine: active|stopped; condition: active|resolved."),
    dosage: str = _text("--dosage", "How the medicine is taken, kept as typed."),
    reaction: str = _text("--reaction", "What the allergy does."),
    criticality: str = _text("--criticality", "Allergy: low|high|unable-to-assess."),
    low: str = _text("--low", "Lab reference range, lower limit as printed."),
    high: str = _text("--high", "Lab reference range, upper limit as printed."),
    note: str = _text("--note", "Anything else to keep with it."),
    replaces: str = _text("--replaces", "Edit an entry of your own: Type/id (see the web page)."),
    corrects: str = _text("--corrects", "Correct a clinician's or lab's item: Type/id."),
    lang: Lang = typer.Option(Lang.en, "--lang", help="Language of messages (en or fr)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Enter one item by hand; it is kept apart from clinical records as entered by you."""
    hs = open_healthspace()
    form = EntryForm(
        kind.value,
        name=name,
        code=code,
        value=value,
        unit=unit,
        date=date,
        end_date=end_date,
        status=status,
        dosage=dosage,
        reaction=reaction,
        criticality=criticality,
        low=low,
        high=high,
        note=note,
    )
    saved = save_entry(
        hs,
        hs.default_actor,
        person,
        form,
        lang.value,
        replaces=replaces or None,
        corrects=corrects or None,
        icd10=partial(load_icd10cm, hs.settings.home / "cache"),
    )
    emit(saved.as_json(), as_json, lambda: _render(saved))


def _render(saved: SavedEntry) -> None:
    item = saved.item
    verb = "Changed" if saved.replaced else "Stored"
    details = ", ".join(x for x in (item.value, item.date, item.status) if x)
    console.print(f"{verb} {item.kind}: [bold]{escape(item.label)}[/] {escape(details)}")
    if item.corrects:
        console.print(f"  you said, correcting {escape(item.corrects)}")
    console.print(f"  [dim]{item.ref} (entered by you)[/]")
