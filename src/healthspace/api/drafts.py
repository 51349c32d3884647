"""Draft routes: the ``healthspace draft`` commands over HTTP, from the same service."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from healthspace.bootstrap import Healthspace
from healthspace.clinician.drafts import service
from healthspace.clinician.drafts.compose import DraftRequest
from healthspace.web.identity import request_actor

router = APIRouter(tags=["drafts"])


class DraftIn(BaseModel):
    kind: Literal["soap", "discharge", "referral", "after_visit", "prior_auth"]
    lang: Literal["en", "fr"] = "en"
    encounter: str | None = Field(None, max_length=64)
    text: str | None = Field(None, max_length=service.MAX_TEXT)
    to: str | None = Field(None, max_length=500)
    reason: str | None = Field(None, max_length=2000)
    medicine: str | None = Field(None, max_length=200)
    diagnosis: str | None = Field(None, max_length=16)


class SectionEditIn(BaseModel):
    text: str = Field(min_length=1, max_length=service.MAX_TEXT)


class SignIn(BaseModel):
    confirm: list[str] = Field(default_factory=list, max_length=500)
    confirm_unsourced: bool = False


def _hs(request: Request) -> Healthspace:
    hs: Healthspace = request.app.state.hs
    return hs


@router.post("/persons/{person}/drafts", status_code=201)
def create_draft(request: Request, person: str, body: DraftIn) -> dict[str, Any]:
    """Compose a draft of the given kind from the record and store it (preliminary)."""
    asked = DraftRequest(
        body.kind,
        body.lang,
        encounter=body.encounter,
        text=body.text,
        to=body.to,
        reason=body.reason,
        medicine=body.medicine,
        diagnosis=body.diagnosis,
    )
    return service.create_draft(_hs(request), request_actor(request), person, asked).as_json()


@router.get("/persons/{person}/drafts")
def list_drafts(request: Request, person: str) -> list[dict[str, Any]]:
    """The person's drafts and signed documents, newest first."""
    return [d.as_json() for d in service.list_drafts(_hs(request), request_actor(request), person)]


@router.get("/persons/{person}/drafts/{draft_id}")
def show_draft(request: Request, person: str, draft_id: str) -> dict[str, Any]:
    return service.get_draft(_hs(request), request_actor(request), person, draft_id).as_json()


@router.put("/persons/{person}/drafts/{draft_id}/sections/{section}")
def edit_section(
    request: Request, person: str, draft_id: str, section: str, body: SectionEditIn
) -> dict[str, Any]:
    """Replace a section's text; a signed document gets a new, amended version to sign."""
    return service.edit_section(
        _hs(request), request_actor(request), person, draft_id, section, body.text
    ).as_json()


@router.post("/persons/{person}/drafts/{draft_id}/sign")
def sign_draft(request: Request, person: str, draft_id: str, body: SignIn) -> dict[str, Any]:
    """Sign: final, with the signer as legal attester; refused while statements without a
    source are not confirmed."""
    return service.sign(
        _hs(request),
        person,
        draft_id,
        request_actor(request),
        body.confirm,
        body.confirm_unsourced,
    ).as_json()


@router.get("/persons/{person}/drafts/{draft_id}/history")
def draft_history(request: Request, person: str, draft_id: str) -> list[dict[str, Any]]:
    return service.history(_hs(request), request_actor(request), person, draft_id)
