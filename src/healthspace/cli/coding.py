"""Coding commands: ICD-10-CM and SNOMED CT codes for clinical text or a person's problem list
and notes, ICD-10-CM look-up and search, SNOMED CT, and LOINC for local lab names.

Commands on text or names read terminology only, never the record, so they need no master
key; ``--person`` reads the record (audited). Caches live in the data folder.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from healthspace.cli.app import app
from healthspace.cli.output import JSON_OPTION, console, emit, open_healthspace
from healthspace.coding import CodingRequestError, needs_snomed, open_snomed_store, suggest_codes
from healthspace.config import Settings
from healthspace.terminology import icd10cm, snomed
from healthspace.terminology.loinc_map import map_local_name

snomed_app = typer.Typer(help="SNOMED CT from your own licensed RF2 release.", no_args_is_help=True)
app.add_typer(snomed_app, name="snomed")


def _cache_dir(settings: Settings) -> Path:
    return settings.home / "cache"


@app.command("code")
def code_text(
    text: str | None = typer.Argument(
        None, help="Clinical text, or - to read it from standard input (or use --person)."
    ),
    system: str = typer.Option(
        "icd10cm", "--system", help="icd10cm, snomed (needs a loaded release) or all."
    ),
    lang: str | None = typer.Option(None, "--lang", help="fr or en (guessed when absent)."),
    include_all: bool = typer.Option(
        False, "--all", help="Also negated, historical, family and hypothetical mentions."
    ),
    person: str | None = typer.Option(
        None, "--person", help="Code this person's conditions and notes instead of a text."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Suggest codes for the conditions a clinical text mentions, with the supporting span;
    with --person, check each condition's code against the suggestions."""
    if person is not None:
        if text is not None:
            raise CodingRequestError("Give either a text or --person, not both.")
        _code_person(person, system, as_json)
        return
    if text is None:
        raise CodingRequestError("Give the clinical text to code (or - to read it), or --person.")
    if text == "-":
        text = sys.stdin.read()
    settings = Settings()
    store = open_snomed_store(settings) if needs_snomed(system) else None
    try:
        found = suggest_codes(text, system, lang, include_all, _cache_dir(settings), store)
    finally:
        if store is not None:
            store.close()
    data = [s.as_json() for s in found]

    def render() -> None:
        if not found:
            console.print("No condition found.")
            return
        table = Table("system", "code", "display", "evidence", "status", "score")
        for s in found:
            table.add_row(
                s.system, s.code, escape(s.display), escape(s.evidence), s.status, f"{s.score:.2f}"
            )
        console.print(table)

    emit(data, as_json, render)


def _code_person(person: str, system: str, as_json: bool) -> None:
    from healthspace.coding.record_coding import code_person

    hs = open_healthspace()
    store = open_snomed_store(hs.settings) if needs_snomed(system) else None
    try:
        result = code_person(hs, hs.default_actor, person, system, store, _cache_dir(hs.settings))
    finally:
        if store is not None:
            store.close()
        hs.close()
    data = result.as_json()

    def render() -> None:
        table = Table("resource", "text", "existing", "suggested", "agreement")
        for item in result.items:
            existing = ", ".join(f"{e.system} {e.code}" for e in item.existing)
            suggested = ", ".join(f"{s.code} ({s.evidence})" for s in item.suggestions[:4])
            verdict = ", ".join(f"{k}: {v}" for k, v in item.agreement.items())
            if item.kind == "note" and item.not_on_problem_list:
                verdict = "not on problem list: " + ", ".join(item.not_on_problem_list)
            table.add_row(
                item.resource, escape(item.text[:60]), existing, escape(suggested), verdict
            )
        console.print(table)

    emit(data, as_json, render)


@app.command("loinc-map")
def loinc_map(
    name: str | None = typer.Argument(
        None, help="A local test name as the report prints it ('Créat', 'TSH us')."
    ),
    unit: str | None = typer.Option(None, "--unit", help="The unit printed beside the result."),
    specimen: str | None = typer.Option(
        None, "--specimen", help="serum, plasma, blood, urine (or a code: SER, BLD, UR)."
    ),
    limit: int = typer.Option(5, "--limit", min=1, max=50),
    person: str | None = typer.Option(
        None, "--person", help="Map this person's lab results that have no LOINC code."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Suggest LOINC codes for a local lab test name (or a person's unmapped results), each
    with its score and why: the name matched, the unit's property, the specimen."""
    if person is not None:
        if name is not None:
            raise CodingRequestError("Give either a test name or --person, not both.")
        from healthspace.coding.record_coding import map_person_labs

        hs = open_healthspace()
        try:
            data = map_person_labs(hs, hs.default_actor, person, min(limit, 10))
        finally:
            hs.close()

        def render_person() -> None:
            console.print(
                f"{data['without_loinc']} of {data['observations']} observations have no LOINC "
                "code."
            )
            table = Table("local name", "unit", "results", "LOINC", "display", "score")
            for test in data["tests"]:
                best = test["suggestions"][0] if test["suggestions"] else None
                table.add_row(
                    escape(test["name"]),
                    escape(test["unit"] or ""),
                    str(test["count"]),
                    best["code"] if best else "",
                    escape(best["display"]) if best else "no suggestion",
                    f"{best['score']:.2f}" if best else "",
                )
            console.print(table)

        emit(data, as_json, render_person)
        return
    if name is None:
        raise CodingRequestError("Give the local test name to map, or --person.")
    found = map_local_name(name, unit, specimen, limit)
    result = {
        "name": name,
        "unit": unit,
        "specimen": specimen,
        "suggestions": [s.as_json() for s in found],
    }

    def render() -> None:
        if not found:
            console.print("No LOINC test of the catalog matches this name.")
            return
        table = Table("LOINC", "display", "score", "why")
        for s in found:
            why = "; ".join(f"{r.kind}: {r.detail}" for r in s.reasons)
            table.add_row(s.code, escape(s.display), f"{s.score:.2f}", escape(why))
        console.print(table)

    emit(result, as_json, render)


@app.command("icd10")
def icd10_lookup(
    code: str = typer.Argument(..., help="An ICD-10-CM code, with or without its dot (E11.9)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show an ICD-10-CM code: description, billable or not, parents and children."""
    table = icd10cm.load_icd10cm(_cache_dir(Settings()))
    data = table.describe(code)

    def render() -> None:
        billable = "billable" if data["billable"] else "not billable (use a code below it)"
        console.print(f"[bold]{data['code']}[/] {data['description']} ({billable})")
        for ancestor in data["ancestors"]:
            console.print(f"  under {ancestor['code']} {ancestor['description']}")
        for child in data["children"]:
            console.print(f"  ↳ {child['code']} {child['description']}")

    emit(data, as_json, render)


@app.command("icd10-search")
def icd10_search(
    words: str = typer.Argument(..., help="Words to find in ICD-10-CM descriptions."),
    limit: int = typer.Option(20, "--limit", min=1, max=500),
    billable: bool = typer.Option(False, "--billable", help="Only billable codes."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Search ICD-10-CM by words (every word must match; general descriptions first)."""
    table = icd10cm.load_icd10cm(_cache_dir(Settings()))
    hits = table.search(words, limit=limit, billable_only=billable)
    data = [h.as_json() for h in hits]

    def render() -> None:
        listing = Table("code", "description", "billable", "score")
        for h in hits:
            listing.add_row(
                h.entry.code, h.entry.description, "yes" if h.entry.billable else "", str(h.score)
            )
        console.print(listing)

    emit(data, as_json, render)


@snomed_app.command("load")
def snomed_load(
    folder: Path = typer.Argument(..., help="The folder of your SNOMED CT RF2 release."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Load an RF2 release (Snapshot files) once; later commands use the parsed copy."""
    report = snomed.load_release(folder, Settings().home)
    data = report.as_json()

    def render() -> None:
        verb = "Already loaded" if report.reused else "Loaded"
        console.print(
            f"{verb}: {report.concepts} concepts, {report.descriptions} descriptions, "
            f"{report.is_a} is-a relationships ({report.seconds} s)."
        )

    emit(data, as_json, render)


def _open_store(release: Path | None) -> snomed.SnomedStore:
    settings = Settings()
    return snomed.open_store(settings.home, release or snomed.configured_release_dir(settings))


RELEASE_OPTION = typer.Option(
    None, "--release", help="Release folder to load first (default: HEALTHSPACE_SNOMED_DIR)."
)


@snomed_app.command("lookup")
def snomed_lookup(
    concept_id: str = typer.Argument(..., help="A SNOMED CT concept id."),
    release: Path | None = RELEASE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Show a concept: its fully specified name, terms, parents and ancestors."""
    with _open_store(release) as store:
        data = store.describe(concept_id)

    def render() -> None:
        console.print(f"[bold]{data['id']}[/] {data['fsn']}")
        for term in data["synonyms"]:
            console.print(f"  also: {term}")
        for parent in data["parents"]:
            console.print(f"  is a: {parent['id']} {parent['term']}")

    emit(data, as_json, render)


@snomed_app.command("search")
def snomed_search(
    words: str = typer.Argument(..., help="Words to find in the release's terms."),
    limit: int = typer.Option(20, "--limit", min=1, max=500),
    release: Path | None = RELEASE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Search concepts by words in any language of the release."""
    with _open_store(release) as store:
        hits = store.search(words, limit=limit)
    data = [h.as_json() for h in hits]

    def render() -> None:
        listing = Table("id", "term", "preferred term", "score")
        for h in hits:
            listing.add_row(h.concept_id, h.term, h.preferred_term or "", str(h.score))
        console.print(listing)

    emit(data, as_json, render)


@snomed_app.command("is-a")
def snomed_is_a(
    concept_id: str = typer.Argument(..., help="The concept to test."),
    ancestor_id: str = typer.Argument(..., help="The concept it may be a kind of."),
    release: Path | None = RELEASE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Whether one concept is a kind of another (through any is-a path)."""
    with _open_store(release) as store:
        store.concept(concept_id)  # an unknown concept is an error, not "false"
        result = store.is_a(concept_id, ancestor_id)
    data = {"concept": concept_id, "ancestor": ancestor_id, "is_a": result}
    emit(data, as_json, lambda: console.print("yes" if result else "no"))
