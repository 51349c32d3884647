"""Record routes: persons, resources, import, export, erase, audit."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, UploadFile
from pydantic import BaseModel

from healthspace.bootstrap import Healthspace
from healthspace.web.authorization import current_account, import_target, owner_only
from healthspace.web.identity import request_actor

router = APIRouter(tags=["records"])


class PersonOut(BaseModel):
    id: str
    name: str | None
    birth_date: str | None
    resources: int


class AuditEntryOut(BaseModel):
    seq: int
    at: str
    actor: str
    action: str
    person: str | None
    resource_type: str | None
    detail: str


class AuditVerifyOut(BaseModel):
    valid: bool
    entries: int
    first_bad_entry: int | None
    reason: str


def _hs(request: Request) -> Healthspace:
    hs: Healthspace = request.app.state.hs
    return hs


@router.get("/persons", response_model=list[PersonOut])
def list_persons(request: Request) -> list[PersonOut]:
    """The records the caller may open (their own and those shared with them)."""
    hs = _hs(request)
    readable = hs.access.readable_persons(current_account(request))
    return [PersonOut(**p.__dict__) for p in hs.vault.persons(request_actor(request), readable)]


@router.get("/persons/{person}/resources")
def list_resources(request: Request, person: str, type: str | None = None) -> list[dict[str, Any]]:
    return _hs(request).vault.resources(request_actor(request), person, type)


@router.get("/persons/{person}/resources/{resource_type}/{fhir_id}")
def read_resource(
    request: Request, person: str, resource_type: str, fhir_id: str
) -> dict[str, Any]:
    return _hs(request).vault.resource(request_actor(request), person, resource_type, fhir_id)


@router.get("/persons/{person}/export")
@owner_only
def export_person(request: Request, person: str) -> dict[str, Any]:
    return _hs(request).vault.export(request_actor(request), person)


@router.delete("/persons/{person}")
@owner_only
def erase_person(request: Request, person: str) -> dict[str, Any]:
    removed = _hs(request).vault.erase(request_actor(request), person)
    return {"erased": person, "resources": removed}


@router.post("/import")
async def import_files(
    request: Request, files: list[UploadFile], person: str | None = None
) -> dict[str, Any]:
    """Import uploaded FHIR files into the caller's record (or ``person``, a record they may
    write); each file is its own transaction."""
    target = import_target(current_account(request), person)
    uploads = [(upload.filename or "upload.json", await upload.read()) for upload in files]
    hs = _hs(request)
    return hs.importer.import_uploads(uploads, request_actor(request), target).as_json()


@router.get("/persons/{person}/audit", response_model=list[AuditEntryOut])
@owner_only
def person_audit(request: Request, person: str) -> list[AuditEntryOut]:
    entries = _hs(request).vault.audit_entries(request_actor(request), person)
    return [AuditEntryOut(**e.__dict__) for e in entries]


@router.get("/audit/verify", response_model=AuditVerifyOut)
def verify_audit(request: Request) -> AuditVerifyOut:
    report = _hs(request).vault.verify_audit()
    return AuditVerifyOut(
        valid=report.valid,
        entries=report.entries,
        first_bad_entry=report.first_bad_seq,
        reason=report.reason,
    )
