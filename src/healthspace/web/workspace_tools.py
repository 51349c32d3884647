"""Workspace tools: the clinician's pages about one patient beyond the summary.

Drafts (compose, check each statement against its source, confirm what has none, sign, amend),
the medication review with its alternatives, the coding of the problem list and of a pasted
note, and the PubMed search. Every page calls the same services as the CLI and the API; a
service's refusal (a ``HealthspaceError``) is shown next to the form it came from, never as an
error page.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal, cast
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup, escape

from healthspace.clinician.alternatives import REASONS, Reason, alternatives_for
from healthspace.clinician.drafts import service as drafts
from healthspace.clinician.drafts.compose import DraftRequest
from healthspace.clinician.drafts.model import KINDS, Kind, Language
from healthspace.clinician.literature import PubMedOfflineError, search_pubmed
from healthspace.clinician.medication_review import medication_review
from healthspace.coding import MAX_TEXT_CHARS, suggest_codes
from healthspace.coding.record_coding import code_person
from healthspace.errors import HealthspaceError
from healthspace.knowledge.interactions import SEVERITIES
from healthspace.patient.lab_service import format_unit
from healthspace.web.authorization import healthspace
from healthspace.web.identity import request_actor
from healthspace.web.pages import PagePerson, person_for_page
from healthspace.web.rendering import page_language, render
from healthspace.web.timeline import concept_text

router = APIRouter(include_in_schema=False)

# The draft form's fields and their longest accepted value (as ``api.drafts.DraftIn``).
_DRAFT_FIELDS = {
    "encounter": 64,
    "text": drafts.MAX_TEXT,
    "to": 500,
    "reason": 2000,
    "medicine": 200,
    "diagnosis": 16,
}
_REQUIRED: dict[Kind, tuple[str, ...]] = {"referral": ("to", "reason"), "prior_auth": ("medicine",)}
# The alternatives' reason that fits each kind of review finding.
_FINDING_REASON: dict[str, Reason] = {
    "interaction": "interaction",
    "allergy": "allergy",
    "kidney": "contraindication",
    "pregnancy": "contraindication",
    "age": "contraindication",
    "duplicate": "side_effect",
}
_LITERATURE_LIMIT = 20
_QUERY_MAX = 500


class FormProblemError(HealthspaceError):
    """A form sent without what it needs (a browser without ``required`` support, a script)."""

    http_status = 422


def _lang(request: Request) -> Language:
    return "fr" if page_language(request).code == "fr" else "en"


def _t(request: Request, message_id: str, **values: Any) -> str:
    return page_language(request).text(message_id, **values)


async def _form(request: Request) -> tuple[dict[str, str], list[str]]:
    """The posted text fields, and the ``confirm`` checkboxes (repeated)."""
    async with request.form() as data:
        fields = {k: v for k, v in data.items() if isinstance(v, str)}
        confirm = [v for v in data.getlist("confirm") if isinstance(v, str)]
    return fields, confirm


def _ref_link(reference: str) -> tuple[str, str] | None:
    """``"Type/id"`` as the (type, id) of the ``resource_page`` route."""
    kind, _, fhir_id = reference.partition("/")
    return (kind, fhir_id) if kind and fhir_id and "/" not in fhir_id else None


def _base_context(person: PagePerson, nav: str) -> dict[str, Any]:
    return {"person": person, "ws_nav": nav, "ref_link": _ref_link}


# --------------------------------------------------------------------------- drafts


def _encounter_options(request: Request, person: str) -> list[dict[str, str]]:
    """The person's encounters for the SOAP form's select, newest first."""
    found = healthspace(request).vault.resources(request_actor(request), person, "Encounter")
    options = []
    for encounter in found:
        if encounter.get("status") in ("entered-in-error", "cancelled"):
            continue
        start = str((encounter.get("period") or {}).get("start") or "")
        kind = concept_text(encounter.get("type")) or concept_text(encounter.get("class")) or ""
        options.append({"id": str(encounter.get("id")), "start": start, "kind": kind})
    return sorted(options, key=lambda o: o["start"], reverse=True)


def _drafts_page(
    request: Request,
    person: PagePerson,
    error: str | None = None,
    failed_kind: str | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    hs = healthspace(request)
    context = _base_context(person, "drafts")
    context.update(
        {
            "drafts": [
                d.as_json() for d in drafts.list_drafts(hs, request_actor(request), person.id)
            ],
            "kinds": KINDS,
            "encounters": _encounter_options(request, person.id),
            "error": error,
            "failed_kind": failed_kind,
            "values": values or {},
            "max_text": drafts.MAX_TEXT,
            "limits": _DRAFT_FIELDS,
        }
    )
    return render(request, "workspace_drafts.html", context, status_code=status_code)


@router.get(
    "/workspace/persons/{person_id}/drafts",
    response_class=HTMLResponse,
    name="workspace_drafts_page",
)
def workspace_drafts_page(request: Request, person_id: str) -> HTMLResponse:
    """The patient's drafts and signed documents, and a form to compose each kind."""
    return _drafts_page(request, person_for_page(request, person_id))


def _draft_request(request: Request, fields: dict[str, str]) -> DraftRequest:
    kind = fields.get("kind", "")
    if kind not in KINDS:
        raise FormProblemError(_t(request, "workspace_tools.drafts.error.kind"))
    chosen = cast(Kind, kind)
    values = {name: fields.get(name, "").strip() for name in _DRAFT_FIELDS}
    for name, limit in _DRAFT_FIELDS.items():
        if len(values[name]) > limit:
            raise FormProblemError(
                _t(request, "workspace_tools.drafts.error.too_long", limit=limit)
            )
    missing = [name for name in _REQUIRED.get(chosen, ()) if not values[name]]
    if missing:
        raise FormProblemError(_t(request, f"workspace_tools.drafts.error.missing.{kind}"))
    language: Language = "fr" if fields.get("lang") == "fr" else "en"
    return DraftRequest(
        chosen,
        language,
        encounter=values["encounter"] or None,
        text=values["text"] or None,
        to=values["to"] or None,
        reason=values["reason"] or None,
        medicine=values["medicine"] or None,
        diagnosis=values["diagnosis"] or None,
    )


@router.post(
    "/workspace/persons/{person_id}/drafts",
    response_class=HTMLResponse,
    name="workspace_draft_create",
)
async def workspace_draft_create(request: Request, person_id: str) -> Response:
    """Compose a draft and open it; a refusal comes back next to the form that asked."""
    person = person_for_page(request, person_id)
    fields, _ = await _form(request)
    try:
        asked = _draft_request(request, fields)
        draft = drafts.create_draft(healthspace(request), request_actor(request), person.id, asked)
    except HealthspaceError as error:
        return _drafts_page(
            request, person, str(error), fields.get("kind"), fields, error.http_status
        )
    target = request.app.url_path_for(
        "workspace_draft_page", person_id=person.id, draft_id=draft.id
    )
    return RedirectResponse(f"{target}?done=created", status_code=303)


def _draft_page(
    request: Request,
    person: PagePerson,
    draft_id: str,
    errors: dict[str, str] | None = None,
    texts: dict[str, str] | None = None,
    confirmed: Iterable[str] = (),
    status_code: int = 200,
) -> HTMLResponse:
    hs = healthspace(request)
    actor = request_actor(request)
    draft = drafts.get_draft(hs, actor, person.id, draft_id).as_json()
    done = request.query_params.get("done", "")
    context = _base_context(person, "drafts")
    context.update(
        {
            "draft": draft,
            "history": drafts.history(hs, actor, person.id, draft_id),
            "errors": errors or {},
            "texts": texts or {},
            "confirmed": set(confirmed),
            "done": done if done in ("created", "edited", "signed") else "",
            "max_text": drafts.MAX_TEXT,
        }
    )
    return render(request, "workspace_draft.html", context, status_code=status_code)


@router.get(
    "/workspace/persons/{person_id}/drafts/{draft_id}",
    response_class=HTMLResponse,
    name="workspace_draft_page",
)
def workspace_draft_page(request: Request, person_id: str, draft_id: str) -> HTMLResponse:
    """One draft: each statement with its sources, what to check, edit, sign, history."""
    return _draft_page(request, person_for_page(request, person_id), draft_id)


@router.post(
    "/workspace/persons/{person_id}/drafts/{draft_id}/sections/{section}",
    response_class=HTMLResponse,
    name="workspace_draft_edit",
)
async def workspace_draft_edit(
    request: Request, person_id: str, draft_id: str, section: str
) -> Response:
    """Replace a section's text (a signed document gets a new, amended version)."""
    person = person_for_page(request, person_id)
    fields, _ = await _form(request)
    text = fields.get("text", "")
    try:
        drafts.edit_section(
            healthspace(request), request_actor(request), person.id, draft_id, section, text
        )
    except HealthspaceError as error:
        key = section.replace("-", "_")
        return _draft_page(
            request,
            person,
            draft_id,
            errors={f"section:{key}": str(error)},
            texts={key: text},
            status_code=error.http_status,
        )
    target = request.app.url_path_for(
        "workspace_draft_page", person_id=person.id, draft_id=draft_id
    )
    return RedirectResponse(f"{target}?done=edited#section-{section}", status_code=303)


@router.post(
    "/workspace/persons/{person_id}/drafts/{draft_id}/sign",
    response_class=HTMLResponse,
    name="workspace_draft_sign",
)
async def workspace_draft_sign(request: Request, person_id: str, draft_id: str) -> Response:
    """Sign with the statements ticked as checked; refused while one without a source is not."""
    person = person_for_page(request, person_id)
    _, confirm = await _form(request)
    try:
        drafts.sign(
            healthspace(request), person.id, draft_id, request_actor(request), confirm[:500]
        )
    except HealthspaceError as error:
        message = str(error)
        if isinstance(error, drafts.UnsourcedStatementsError):
            message = _t(request, "workspace_tools.draft.sign_refused")
        return _draft_page(
            request,
            person,
            draft_id,
            errors={"sign": message},
            confirmed=confirm,
            status_code=error.http_status,
        )
    target = request.app.url_path_for(
        "workspace_draft_page", person_id=person.id, draft_id=draft_id
    )
    return RedirectResponse(f"{target}?done=signed", status_code=303)


# --------------------------------------------------------------------------- medicines


def _by_severity(findings: Sequence[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """The findings grouped by severity, most serious first; empty groups left out."""
    groups = [(s, [f for f in findings if f["severity"] == s]) for s in SEVERITIES]
    return [(s, found) for s, found in groups if found]


def _alternatives_links(finding: dict[str, Any]) -> list[dict[str, str]]:
    """For each medicine a finding involves, what to ask the alternatives page."""
    reason = _FINDING_REASON.get(finding["kind"], "side_effect")
    medicines = finding["medicines"]
    links = []
    for medicine in medicines:
        query = {"drug": medicine["id"], "reason": reason}
        others = [m["id"] for m in medicines if m["id"] != medicine["id"]]
        if reason == "interaction" and others:
            query["with"] = others[0]
        links.append({"name": medicine["name"], "query": urlencode(query)})
    return links


@router.get(
    "/workspace/persons/{person_id}/medication-review",
    response_class=HTMLResponse,
    name="workspace_medication_review_page",
)
def workspace_medication_review_page(request: Request, person_id: str) -> HTMLResponse:
    """Findings about the patient's current medicines by severity, each with its sources."""
    person = person_for_page(request, person_id)
    review = medication_review(healthspace(request), request_actor(request), person.id).as_json(
        _lang(request)
    )
    context = _base_context(person, "medication_review")
    context.update(
        {
            "review": review,
            "groups": _by_severity(review["findings"]),
            "alternatives_links": _alternatives_links,
            "side_effect_query": lambda drug: urlencode({"drug": drug, "reason": "side_effect"}),
            "unit": lambda unit: format_unit(unit, _lang(request)) if unit else "",
        }
    )
    return render(request, "workspace_medication_review.html", context)


@router.get(
    "/workspace/persons/{person_id}/alternatives",
    response_class=HTMLResponse,
    name="workspace_alternatives_page",
)
def workspace_alternatives_page(
    request: Request,
    person_id: str,
    drug: str = "",
    reason: str = "side_effect",
) -> HTMLResponse:
    """Options to replace one medicine, checked against this patient's record."""
    person = person_for_page(request, person_id)
    # ``with`` is a Python keyword: read from the query string itself.
    with_drug = (request.query_params.get("with") or "").strip()[:200]
    drug = drug.strip()[:200]
    chosen: Reason = cast(Reason, reason) if reason in REASONS else "side_effect"
    answer: dict[str, Any] | None = None
    error: str | None = None
    status_code = 200
    if drug:
        try:
            answer = alternatives_for(
                healthspace(request),
                request_actor(request),
                drug,
                chosen,
                with_drug or None,
                person.id,
                _lang(request),
            ).as_json()
        except HealthspaceError as failure:
            error, status_code = str(failure), failure.http_status
    context = _base_context(person, "medication_review")
    context.update(
        {
            "drug": drug,
            "reason": chosen,
            "with_drug": with_drug,
            "reasons": REASONS,
            "answer": answer,
            "error": error,
        }
    )
    return render(request, "workspace_alternatives.html", context, status_code=status_code)


# --------------------------------------------------------------------------- coding


def highlight(text: str, spans: Iterable[tuple[int, int]]) -> Markup:
    """``text`` escaped, with each evidence span in ``<mark>`` (overlapping spans merged)."""
    merged: list[list[int]] = []
    for start, end in sorted((max(0, s), min(len(text), e)) for s, e in spans):
        if start >= end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    parts: list[Markup | str] = []
    position = 0
    for start, end in merged:
        parts.append(escape(text[position:start]))
        parts.append(Markup("<mark>{}</mark>").format(text[start:end]))
        position = end
    parts.append(escape(text[position:]))
    return Markup("").join(parts)


def _evidence_spans(suggestions: Iterable[dict[str, Any]]) -> list[tuple[int, int]]:
    return [(int(s["start"]), int(s["end"])) for s in suggestions if "start" in s]


def _coding_page(
    request: Request,
    person: PagePerson,
    note: str = "",
    note_codes: list[dict[str, Any]] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    hs = healthspace(request)
    coding = code_person(hs, request_actor(request), person.id).as_json()
    context = _base_context(person, "coding")
    context.update(
        {
            "coding": coding,
            "note": note,
            "note_codes": note_codes,
            "note_marked": highlight(note, _evidence_spans(note_codes or [])),
            "highlight": lambda text, found: highlight(text, _evidence_spans(found)),
            "error": error,
            "max_text": MAX_TEXT_CHARS,
        }
    )
    return render(request, "workspace_coding.html", context, status_code=status_code)


@router.get(
    "/workspace/persons/{person_id}/coding",
    response_class=HTMLResponse,
    name="workspace_coding_page",
)
def workspace_coding_page(request: Request, person_id: str) -> HTMLResponse:
    """The problem list and notes with suggested ICD-10-CM codes and their evidence."""
    return _coding_page(request, person_for_page(request, person_id))


@router.post(
    "/workspace/persons/{person_id}/coding",
    response_class=HTMLResponse,
    name="workspace_coding_text",
)
async def workspace_coding_text(request: Request, person_id: str) -> HTMLResponse:
    """ICD-10-CM suggestions for a pasted note (posted: a query string would be logged)."""
    person = person_for_page(request, person_id)
    fields, _ = await _form(request)
    note = fields.get("note", "")
    if not note.strip():
        message = _t(request, "workspace_tools.coding.error.empty")
        return _coding_page(request, person, note, None, message, 422)
    try:
        found = suggest_codes(
            note, "icd10cm", None, False, healthspace(request).settings.home / "cache"
        )
    except HealthspaceError as error:
        return _coding_page(request, person, note, None, str(error), error.http_status)
    return _coding_page(request, person, note, [s.as_json() for s in found])


# --------------------------------------------------------------------------- literature


@router.get("/workspace/literature", response_class=HTMLResponse, name="workspace_literature_page")
def workspace_literature_page(request: Request, q: str = "") -> HTMLResponse:
    """PubMed search: only the words typed here leave the machine. The page belongs to no
    patient, so nothing about one can slip into a query."""
    query = q.strip()[:_QUERY_MAX]
    articles: list[dict[str, Any]] | None = None
    notice: Literal["offline"] | None = None
    error: str | None = None
    if query:
        try:
            found = search_pubmed(healthspace(request).settings, query, _LITERATURE_LIMIT)
            articles = [a.as_json() | {"authors": list(a.authors)} for a in found]
        except PubMedOfflineError:
            notice = "offline"
        except HealthspaceError as failure:
            error = str(failure)
    context: dict[str, Any] = {
        "query": query,
        "articles": articles,
        "notice": notice,
        "error": error,
        "query_max": _QUERY_MAX,
    }
    return render(request, "workspace_literature.html", context)
