"""Pages to enter one's own data by hand, and to check, correct or delete what one entered.

``/persons/{id}/enter`` chooses what to enter, ``/persons/{id}/enter/{kind}`` is the form (a
lab result, a medicine, an allergy, a condition, a vaccine), ``/persons/{id}/entered`` lists
what the person entered. Handlers stay thin: every check and every FHIR decision is
``patient.manual_entry``'s; here the form's text goes in and the answer is put into words.

The forms work without JavaScript: the server resolves the typed name and, when it is not
sure, shows "did you mean" choices. ``static/autocomplete.js`` only fills the ``<datalist>``
from ``/api/v1/terminology/suggest`` while the person types.
"""

from __future__ import annotations

from typing import Any, cast

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from healthspace.api.terminology import icd10_source
from healthspace.bootstrap import Healthspace
from healthspace.errors import NotFoundError
from healthspace.patient.entry_terms import resolve
from healthspace.patient.manual_entry import (
    CRITICALITIES,
    ENTRY_KINDS,
    RESOURCE_TYPES,
    STATUSES,
    TERM_KINDS,
    EntryForm,
    EntryInvalidError,
    EntryKind,
    Language,
    delete_entry,
    form_for,
    list_entries,
    read_entry,
    save_entry,
)
from healthspace.patient.memory import is_memory
from healthspace.web.identity import request_actor
from healthspace.web.pages import person_for_page
from healthspace.web.rendering import page_language, render

router = APIRouter(include_in_schema=False)

# The fields of each form, in the order a person fills them in.
FIELDS: dict[EntryKind, tuple[str, ...]] = {
    "lab": ("name", "value", "unit", "date", "low", "high", "note"),
    "medicine": ("name", "dosage", "status", "date", "end_date", "note"),
    "allergy": ("name", "reaction", "criticality", "date", "note"),
    "condition": ("name", "status", "date", "end_date", "note"),
    "vaccine": ("name", "date", "note"),
}
REQUIRED: dict[EntryKind, frozenset[str]] = {
    "lab": frozenset({"name", "value", "unit", "date"}),
    "medicine": frozenset({"name"}),
    "allergy": frozenset({"name"}),
    "condition": frozenset({"name"}),
    "vaccine": frozenset({"name", "date"}),
}
_FORM_FIELDS: tuple[str, ...] = (
    *("name", "code", "value", "unit", "date", "end_date", "status", "dosage"),
    *("reaction", "criticality", "low", "high", "note"),
)


def _hs(request: Request) -> Healthspace:
    hs: Healthspace = request.app.state.hs
    return hs


def _lang(request: Request) -> Language:
    return cast(Language, page_language(request).code)


def _kind(kind: str) -> EntryKind:
    if kind not in ENTRY_KINDS:
        raise NotFoundError(f"There is no form to enter '{kind[:40]}'.")
    return cast(EntryKind, kind)


def _select_options(kind: EntryKind, field: str) -> tuple[str, ...]:
    if field == "status":
        return STATUSES.get(kind, ())
    if field == "criticality":
        return ("", *CRITICALITIES)
    return ()


def _form_page(
    request: Request,
    person_id: str,
    kind: EntryKind,
    form: EntryForm,
    error: EntryInvalidError | None = None,
    replaces: str = "",
    corrects: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    person = person_for_page(request, person_id)
    problems = {p.field: p for p in error.problems} if error else {}
    name_problem = problems.get("name")
    context: dict[str, Any] = {
        "person": person,
        "nav": "enter",
        "kind": kind,
        "suggest_kind": TERM_KINDS[kind],
        "fields": FIELDS[kind],
        "required": REQUIRED[kind],
        "options": {f: _select_options(kind, f) for f in FIELDS[kind]},
        "form": form,
        "problems": problems,
        "choices": name_problem.choices if name_problem else (),
        "units": _units(form),
        "replaces": replaces,
        "corrects": corrects,
    }
    return render(request, "enter_form.html", context, status_code)


def _units(form: EntryForm) -> list[str]:
    """The units of the named test, for the unit field's list (without JavaScript too)."""
    if form.kind != "lab" or not (form.name.strip() or form.code.strip()):
        return []
    found = resolve("lab", form.name, form.code or None)
    return list(found.term.units) if found.term else []


@router.get("/persons/{person_id}/enter", response_class=HTMLResponse, name="entry_chooser_page")
def entry_chooser_page(request: Request, person_id: str) -> HTMLResponse:
    """What would you like to enter? One link per kind."""
    person = person_for_page(request, person_id)
    context = {"person": person, "nav": "enter", "kinds": ENTRY_KINDS}
    return render(request, "enter.html", context)


@router.get(
    "/persons/{person_id}/enter/{kind}", response_class=HTMLResponse, name="entry_form_page"
)
def entry_form_page(
    request: Request, person_id: str, kind: str, edit: str = "", correct: str = ""
) -> HTMLResponse:
    """The form, empty, or filled with an entry to edit or a clinician's item to correct."""
    entry_kind = _kind(kind)
    person = person_for_page(request, person_id)
    actor, lang = request_actor(request), _lang(request)
    form = EntryForm(entry_kind)
    if edit or correct:
        resource = read_entry(_hs(request), actor, person.id, edit or correct, lang)
        if resource.get("resourceType") != RESOURCE_TYPES[entry_kind]:
            raise NotFoundError(f"{edit or correct} cannot be entered with this form.")
        if edit and not is_memory(resource):
            return _form_page(request, person.id, entry_kind, form_for(resource), corrects=edit)
        if correct and is_memory(resource):
            return _form_page(request, person.id, entry_kind, form_for(resource), replaces=correct)
        form = form_for(resource)
    return _form_page(request, person.id, entry_kind, form, replaces=edit, corrects=correct)


async def _posted(request: Request) -> dict[str, str]:
    async with request.form() as data:
        return {k: v for k, v in data.items() if isinstance(v, str)}


@router.post("/persons/{person_id}/enter/{kind}", response_class=HTMLResponse, name="entry_submit")
async def entry_submit(request: Request, person_id: str, kind: str) -> HTMLResponse:
    """Check and store the form; problems come back next to their fields, nothing stored."""
    entry_kind = _kind(kind)
    person = person_for_page(request, person_id)
    data = await _posted(request)
    values = {f: data.get(f, "")[:2000] for f in _FORM_FIELDS}
    values["code"] = values["code"] or data.get("picked", "")[:100]
    form = EntryForm(entry_kind, **values)
    replaces, corrects = data.get("replaces", ""), data.get("corrects", "")
    try:
        saved = save_entry(
            _hs(request),
            request_actor(request),
            person.id,
            form,
            _lang(request),
            replaces=replaces or None,
            corrects=corrects or None,
            icd10=icd10_source(request),
        )
    except EntryInvalidError as error:
        return _form_page(
            request, person.id, entry_kind, form, error, replaces, corrects, status_code=422
        )
    context = {"person": person, "nav": "enter", "saved": saved, "item": saved.item}
    return render(request, "enter_saved.html", context)


@router.get("/persons/{person_id}/entered", response_class=HTMLResponse, name="entered_page")
def entered_page(request: Request, person_id: str, deleted: str = "") -> HTMLResponse:
    """Everything the person entered, with a way to edit or delete each item."""
    person = person_for_page(request, person_id)
    items = list_entries(_hs(request), request_actor(request), person.id)
    context = {"person": person, "nav": "entered", "items": items, "deleted": deleted[:100]}
    return render(request, "entered.html", context)


@router.post("/persons/{person_id}/entered/delete", name="entry_delete")
async def entry_delete(request: Request, person_id: str) -> Response:
    """Delete one entry of the person's own (a clinician's item is refused), then the list."""
    person = person_for_page(request, person_id)
    data = await _posted(request)
    removed = delete_entry(
        _hs(request), request_actor(request), person.id, data.get("ref", ""), _lang(request)
    )
    target = request.app.url_path_for("entered_page", person_id=person.id)
    return RedirectResponse(f"{target}?deleted={removed}", status_code=303)
