"""Account routes: who am I, the admin's account list, and sharing a record (grants)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel

from healthspace.accounts.grants import Grant
from healthspace.accounts.store import Account
from healthspace.web.authorization import current_account, healthspace, owner_only
from healthspace.web.identity import request_actor

router = APIRouter(tags=["accounts"])


class AccountOut(BaseModel):
    username: str
    display_name: str
    role: str
    person: str | None
    language: str
    country: str


class MeOut(AccountOut):
    persons: list[str]


class NewAccountIn(BaseModel):
    username: str
    password: str
    role: str
    display_name: str | None = None
    # The record a person account owns (not ``person``: the gate would check the admin
    # against that record, and an admin reads none).
    record: str | None = None


class GrantIn(BaseModel):
    username: str
    kind: str


class GrantOut(BaseModel):
    person: str
    grantee: str
    kind: str
    consent: str
    granted_at: str
    revoked_at: str | None


def _account_out(account: Account) -> AccountOut:
    return AccountOut(**account.__dict__)


def _grant_out(grant: Grant) -> GrantOut:
    return GrantOut(
        person=grant.person,
        grantee=grant.grantee,
        kind=grant.kind,
        consent=f"Consent/{grant.consent_id}",
        granted_at=grant.granted_at,
        revoked_at=grant.revoked_at,
    )


@router.get("/me", response_model=MeOut)
def me(request: Request) -> MeOut:
    """The signed-in account and the records it may open."""
    account = current_account(request)
    persons = healthspace(request).access.readable_persons(account)
    return MeOut(**account.__dict__, persons=persons)


@router.get("/accounts", response_model=list[AccountOut])
def list_accounts(request: Request) -> list[AccountOut]:
    """Every account (admins only)."""
    return [_account_out(a) for a in healthspace(request).accounts.all()]


@router.post("/accounts", response_model=AccountOut, status_code=201)
def create_account(request: Request, body: NewAccountIn) -> AccountOut:
    """Create an account (admins only)."""
    account = healthspace(request).accounts.create(
        request_actor(request),
        body.username,
        body.password,
        body.role,
        body.display_name,
        body.record,
    )
    return _account_out(account)


@router.get("/persons/{person}/grants", response_model=list[GrantOut])
@owner_only
def list_grants(request: Request, person: str) -> list[GrantOut]:
    """Who may see this record, now and before (the owner only)."""
    return [_grant_out(g) for g in healthspace(request).grants.for_person(person)]


@router.post("/persons/{person}/grants", response_model=GrantOut, status_code=201)
@owner_only
def grant_access(request: Request, person: str, body: GrantIn) -> GrantOut:
    """Share the record with a carer (``delegate``) or a ``clinician`` (the owner only)."""
    grant = healthspace(request).grants.grant(
        request_actor(request), person, body.username, body.kind
    )
    return _grant_out(grant)


@router.delete("/persons/{person}/grants/{username}", response_model=list[GrantOut])
@owner_only
def revoke_access(request: Request, person: str, username: str) -> list[GrantOut]:
    """Stop sharing with ``username``, effective at once (the owner only)."""
    ended = healthspace(request).grants.revoke(request_actor(request), person, username)
    return [_grant_out(g) for g in ended]
