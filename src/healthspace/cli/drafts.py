"""``healthspace draft``: documents composed from the record that a clinician signs.

Thin entrypoints over ``clinician.drafts.service``; the JSON is the draft's own
(``Draft.as_json``): every statement with its sources, ``needs_check`` when it has none.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from healthspace.cli.app import app
from healthspace.cli.output import JSON_OPTION, console, emit, open_healthspace
from healthspace.clinician.drafts import service
from healthspace.clinician.drafts.compose import DraftRequest
from healthspace.clinician.drafts.model import Draft, Language

draft_app = typer.Typer(
    help="Draft notes and letters from the record, for a clinician to check and sign.",
    no_args_is_help=True,
)
app.add_typer(draft_app, name="draft")

PERSON = typer.Argument(..., help="Person id (see: healthspace persons).")
DRAFT_ID = typer.Argument(..., help="Draft id (see: healthspace draft list PERSON).")
ENCOUNTER = typer.Option(None, "--encounter", help="Encounter id (default: the latest).")


def _lang(value: str) -> Language:
    if value not in ("en", "fr"):
        raise typer.BadParameter(f"{value!r}: use fr or en")
    return "fr" if value == "fr" else "en"


def _read_text(text: str | None, text_file: Path | None) -> str | None:
    if text is not None and text_file is not None:
        raise typer.BadParameter("give --text or --text-file, not both")
    if text_file is not None:
        try:
            return text_file.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise typer.BadParameter(f"cannot read {text_file}: {exc}") from None
    return text


def _create(person: str, request: DraftRequest, as_json: bool) -> None:
    hs = open_healthspace()
    draft = service.create_draft(hs, hs.default_actor, person, request)
    data = draft.as_json()
    emit(data, as_json, lambda: _render(data))


@draft_app.command("soap")
def soap(
    person: str = PERSON,
    encounter: str | None = ENCOUNTER,
    text: str | None = typer.Option(None, "--text", help="Your typed or dictated text."),
    text_file: Path | None = typer.Option(None, "--text-file", help="The text, from a file."),
    lang: str = typer.Option("en", "--lang", help="fr or en."),
    as_json: bool = JSON_OPTION,
) -> None:
    """SOAP progress note for one encounter, with your text placed in its sections."""
    request = DraftRequest(
        "soap", _lang(lang), encounter=encounter, text=_read_text(text, text_file)
    )
    _create(person, request, as_json)


@draft_app.command("discharge")
def discharge(
    person: str = PERSON,
    encounter: str | None = ENCOUNTER,
    lang: str = typer.Option("en", "--lang", help="fr or en."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Discharge summary of a hospital stay (default: the latest)."""
    _create(person, DraftRequest("discharge", _lang(lang), encounter=encounter), as_json)


@draft_app.command("referral")
def referral(
    person: str = PERSON,
    to: str = typer.Option(..., "--to", help='Who it is for, e.g. "Dr X, cardiology".'),
    reason: str = typer.Option(..., "--reason", help="Why you refer the patient."),
    lang: str = typer.Option("en", "--lang", help="fr or en."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Referral letter: your reason, then problems, medicines, allergies and results."""
    _create(person, DraftRequest("referral", _lang(lang), to=to, reason=reason), as_json)


@draft_app.command("after-visit")
def after_visit(
    person: str = PERSON,
    encounter: str | None = ENCOUNTER,
    lang: str = typer.Option("en", "--lang", help="fr or en."),
    as_json: bool = JSON_OPTION,
) -> None:
    """After-visit summary for the patient, in plain words."""
    _create(person, DraftRequest("after_visit", _lang(lang), encounter=encounter), as_json)


@draft_app.command("prior-auth")
def prior_auth(
    person: str = PERSON,
    medicine: str = typer.Option(..., "--medicine", help="The treatment to request."),
    diagnosis: str | None = typer.Option(None, "--diagnosis", help="ICD-10-CM code (E11.9)."),
    lang: str = typer.Option("en", "--lang", help="fr or en."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Prior-authorization request: diagnosis codes, treatments tried, justification."""
    request = DraftRequest("prior_auth", _lang(lang), medicine=medicine, diagnosis=diagnosis)
    _create(person, request, as_json)


@draft_app.command("list")
def list_(person: str = PERSON, as_json: bool = JSON_OPTION) -> None:
    """The person's drafts and signed documents, newest first."""
    hs = open_healthspace()
    drafts = service.list_drafts(hs, hs.default_actor, person)
    data = [_brief(d) for d in drafts]

    def render() -> None:
        if not data:
            console.print("No drafts.")
        for d in data:
            console.print(
                f"{d['id']}  [bold]{escape(d['title'])}[/]  {d['state']}  "
                f"[dim]{d['date']}, {len(d['needs_check'])} to check[/]"
            )

    emit(data, as_json, render)


@draft_app.command("show")
def show(person: str = PERSON, draft_id: str = DRAFT_ID, as_json: bool = JSON_OPTION) -> None:
    """One draft, every statement with its sources."""
    hs = open_healthspace()
    data = service.get_draft(hs, hs.default_actor, person, draft_id).as_json()
    emit(data, as_json, lambda: _render(data))


@draft_app.command("edit")
def edit(
    person: str = PERSON,
    draft_id: str = DRAFT_ID,
    section: str = typer.Option(..., "--section", help="Section key (see: draft show)."),
    text_file: Path = typer.Option(..., "--text-file", help="The section's new text."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Replace a section's text; a signed document gets a new version to sign again."""
    text = _read_text(None, text_file) or ""
    hs = open_healthspace()
    data = service.edit_section(hs, hs.default_actor, person, draft_id, section, text).as_json()
    emit(data, as_json, lambda: _render(data))


@draft_app.command("sign")
def sign(
    person: str = PERSON,
    draft_id: str = DRAFT_ID,
    confirm: list[str] = typer.Option(
        [], "--confirm", help="Confirm one unsourced statement by its id (repeatable)."
    ),
    confirm_unsourced: bool = typer.Option(
        False, "--confirm-unsourced", help="Confirm every statement that has no source."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Sign a draft: it becomes final, with you as its legal attester (audited)."""
    hs = open_healthspace()
    data = service.sign(
        hs, person, draft_id, hs.default_actor, confirm, confirm_unsourced
    ).as_json()
    emit(data, as_json, lambda: _render(data))


@draft_app.command("history")
def history(person: str = PERSON, draft_id: str = DRAFT_ID, as_json: bool = JSON_OPTION) -> None:
    """Every version of a draft, oldest first, with its status and signature."""
    hs = open_healthspace()
    data = service.history(hs, hs.default_actor, person, draft_id)

    def render() -> None:
        for version in data:
            signature = version["signature"]
            signed = f"signed by {signature['party']} at {signature['time']}" if signature else ""
            console.print(
                f"v{version['version']}  {version['stored_at']}  {version['status']}  "
                f"{escape(signed)}"
            )

    emit(data, as_json, render)


def _brief(draft: Draft) -> dict[str, Any]:
    data = draft.as_json()
    return {k: data[k] for k in ("id", "kind", "title", "status", "state", "date", "needs_check")}


def _render(data: dict[str, Any]) -> None:
    console.print(f"[bold]{escape(data['title'])}[/]  [dim]{data['id']}[/]")
    signature = data["signature"]
    state = data["state"] + (f", signed by {signature['party']}" if signature else "")
    console.print(f"{data['status']} ({escape(state)})")
    for section in data["sections"]:
        console.print()
        console.print(f"[bold]{escape(section['title'])}[/] [dim]--section {section['key']}[/]")
        for statement in section["statements"]:
            mark = (
                "[red]?[/] " if statement["needs_check"] and not statement["confirmed_by"] else ""
            )
            console.print(f"  {statement['id']}. {mark}{escape(statement['text'])}")
            refs = [s["resource"] for s in statement["sources"]]
            if refs:
                console.print(f"     [dim]{escape(', '.join(refs))}[/]")
            elif statement["origin"] == "clinician":
                console.print("     [dim]clinician text[/]")
            else:
                console.print("     [dim]no source: check before signing[/]")
