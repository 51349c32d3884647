"""``healthspace interactions``: check every pair among the medicines a person names, or
among a person's current medicines (``--person``) plus any names given."""

from __future__ import annotations

from enum import StrEnum

import typer
from rich.markup import escape

from healthspace.cli.app import app
from healthspace.cli.output import JSON_OPTION, console, emit, open_healthspace
from healthspace.knowledge.interactions import InteractionReport, Severity, check_names
from healthspace.patient.medication_service import interactions_for_person


class Lang(StrEnum):
    en = "en"
    fr = "fr"


# Words of the readable view only; the medical text itself comes from the data file.
_SEVERITY_LABELS: dict[str, dict[Severity, str]] = {
    "en": {
        "contraindicated": "CONTRAINDICATED",
        "major": "MAJOR",
        "moderate": "MODERATE",
        "minor": "MINOR",
    },
    "fr": {
        "contraindicated": "CONTRE-INDIQUÉ",
        "major": "MAJEURE",
        "moderate": "MODÉRÉE",
        "minor": "MINEURE",
    },
}
_SEVERITY_STYLES: dict[Severity, str] = {
    "contraindicated": "bold white on red",
    "major": "bold red",
    "moderate": "bold yellow",
    "minor": "bold cyan",
}
_WORDS = {
    "en": {
        "checked": "Medicines checked",
        "unknown": "Not recognised (check the spelling, or use the name on the box)",
        "found": "{n} interaction(s), most serious first",
        "none": (
            "No interaction between these medicines in our sources. That does not prove there is "
            "none: your pharmacist can check."
        ),
        "too_few": "Give at least two medicines we recognise to check for interactions.",
        "effect": "What happens",
        "advice": "What to do",
        "sources": "Sources",
        "reminder": "This check does not replace advice from your doctor or pharmacist.",
    },
    "fr": {
        "checked": "Médicaments vérifiés",
        "unknown": "Non reconnus (vérifiez l'orthographe, ou utilisez le nom sur la boîte)",
        "found": "{n} interaction(s), de la plus grave à la moins grave",
        "none": (
            "Aucune interaction entre ces médicaments dans nos sources. Cela ne prouve pas qu'il "
            "n'y en a aucune : votre pharmacien peut vérifier."
        ),
        "too_few": (
            "Donnez au moins deux médicaments que nous reconnaissons pour vérifier les "
            "interactions."
        ),
        "effect": "Ce qui se passe",
        "advice": "Que faire",
        "sources": "Sources",
        "reminder": "Cette vérification ne remplace pas l'avis de votre médecin ou pharmacien.",
    },
}


@app.command()
def interactions(
    drugs: list[str] | None = typer.Argument(
        None,
        help="Medicine names: international names or French/US brands ('Doliprane 1000').",
        show_default=False,
    ),
    person: str | None = typer.Option(
        None, "--person", help="Check this person's current medicines (and any names given)."
    ),
    lang: Lang = typer.Option(Lang.en, "--lang", help="Language of the explanations."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Check every pair among the medicines given, with severity, what to do and sources."""
    if person is None and not drugs:
        raise typer.BadParameter(
            "give medicine names, or --person ID to check a person's current medicines",
            param_hint="DRUGS",
        )
    if person is None:
        report = check_names(drugs or [], lang.value)
    else:
        hs = open_healthspace()
        report = interactions_for_person(hs, hs.default_actor, person, drugs or (), lang.value)
    emit(report.as_json(), as_json, lambda: _render(report))


def _render(report: InteractionReport) -> None:
    words = _WORDS[report.lang]
    colon = " :" if report.lang == "fr" else ":"  # French puts a space before a colon
    if report.drugs:
        console.print(f"[bold]{words['checked']}[/]")
        for drug in report.drugs:
            atc = f" ({drug.medicine.atc[0]})" if drug.medicine.atc else ""
            name = escape(report.name_of(drug.medicine.id))
            console.print(f"  {escape(drug.input)} → {name}{atc}")
    if report.unknown:
        unknown = ", ".join(escape(name) for name in report.unknown)
        console.print(f"[bold]{words['unknown']}{colon}[/] {unknown}")
    console.print()
    distinct = {drug.medicine.id for drug in report.drugs}
    if len(distinct) < 2:
        console.print(words["too_few"])
    elif not report.interactions:
        console.print(words["none"])
    else:
        console.print(f"[bold]{words['found'].format(n=len(report.interactions))}[/]")
        for found in report.interactions:
            label = _SEVERITY_LABELS[report.lang][found.severity]
            first, second = (escape(report.name_of(d)) for d in found.drugs)
            console.print()
            console.print(f"[{_SEVERITY_STYLES[found.severity]}] {label} [/] {first} + {second}")
            effect = getattr(found.effect, report.lang)
            advice = getattr(found.advice, report.lang)
            console.print(f"  [bold]{words['effect']}{colon}[/] {escape(effect)}")
            console.print(f"  [bold]{words['advice']}{colon}[/] {escape(advice)}")
            cited = "; ".join(f"{s.publisher}, {s.title} <{s.url}>" for s in found.sources)
            console.print(f"  [dim]{words['sources']}{colon} {escape(cited)}[/]")
    console.print()
    console.print(f"[italic]{words['reminder']}[/]")
