"""Giving and revoking access to one's record: a carer (delegate) or a clinician.

A grant takes effect at once and a revocation too: the access check reads the ``grants`` table
on every request, nothing is cached. Each change is also written as a FHIR Consent into the
person's record (see ``consent``) and audited.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import orjson
from sqlalchemy import Engine, insert, select, update

from healthspace.accounts.consent import GrantKind, consent_resource
from healthspace.accounts.store import AccountError, AccountStore
from healthspace.errors import HealthspaceError, NotFoundError
from healthspace.ingest.importer import Importer
from healthspace.vault.audit import now_iso
from healthspace.vault.store import Vault
from healthspace.vault.tables import grants

KINDS: tuple[GrantKind, ...] = ("delegate", "clinician")


@dataclass(frozen=True)
class Grant:
    id: int
    person: str
    grantee: str
    kind: str
    consent_id: str
    granted_at: str
    revoked_at: str | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _grant(row: object) -> Grant:
    return Grant(*(getattr(row, c.name) for c in grants.columns))


class Grants:
    def __init__(
        self, engine: Engine, vault: Vault, importer: Importer, accounts: AccountStore
    ) -> None:
        self.engine = engine
        self.vault = vault
        self.importer = importer
        self.accounts = accounts

    def grant(self, actor: str, person: str, grantee: str, kind: str) -> Grant:
        """Let ``grantee`` see ``person``'s record: a person account as a carer, a clinician
        account as a clinician. An admin account can never be given a record."""
        if kind not in KINDS:
            raise AccountError(f"Unknown kind of access {kind!r}: choose delegate or clinician.")
        account = self.accounts.find(grantee)
        if account is None:
            raise NotFoundError(f"No account named {grantee!r}.")
        if kind == "clinician" and account.role != "clinician":
            raise AccountError(f"{account.username!r} is not a clinician account.")
        if kind == "delegate" and account.role != "person":
            raise AccountError(
                f"{account.username!r} cannot be a carer: carers sign in with a person account."
            )
        if account.person == person:
            raise AccountError("This record already belongs to that account.")
        existing = [
            g for g in self.for_person(person) if g.active and g.grantee == account.username
        ]
        if existing:
            return existing[0]
        consent_id = str(uuid.uuid4())
        start = now_iso()
        self._write_consent(
            actor, person, account.username, account.display_name, kind, consent_id, start
        )
        with self.engine.begin() as connection:
            connection.execute(
                insert(grants).values(
                    person=person,
                    grantee=account.username,
                    kind=kind,
                    consent_id=consent_id,
                    granted_at=start,
                )
            )
        self.vault.record_event(actor, "grant", person, "Consent", f"{kind} {account.username}")
        return next(g for g in self.for_person(person) if g.consent_id == consent_id)

    def revoke(self, actor: str, person: str, grantee: str) -> list[Grant]:
        """End every active grant of ``grantee`` on ``person``'s record, effective now."""
        active = [g for g in self.for_person(person) if g.active and g.grantee == grantee]
        if not active:
            raise NotFoundError(f"{grantee!r} has no access to this record.")
        end = now_iso()
        with self.engine.begin() as connection:
            connection.execute(
                update(grants).where(grants.c.id.in_([g.id for g in active])).values(revoked_at=end)
            )
        self.vault.record_event(actor, "revoke", person, "Consent", grantee)
        display = self.accounts.find(grantee)
        for item in active:
            self._write_consent(
                actor,
                person,
                grantee,
                display.display_name if display else grantee,
                item.kind,  # type: ignore[arg-type]
                item.consent_id,
                item.granted_at,
                end,
            )
        return [g for g in self.for_person(person) if g.id in {a.id for a in active}]

    def end_all(self, actor: str, person: str) -> None:
        """End every grant on an erased record (its Consents went with it)."""
        with self.engine.begin() as connection:
            ended = connection.execute(
                update(grants)
                .where(grants.c.person == person, grants.c.revoked_at.is_(None))
                .values(revoked_at=now_iso())
            ).rowcount
        if ended:
            self.vault.record_event(actor, "revoke", person, None, f"erased, {ended} grants ended")

    def for_person(self, person: str) -> list[Grant]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(grants).where(grants.c.person == person).order_by(grants.c.id)
            ).all()
        return [_grant(row) for row in rows]

    def active_for(self, grantee: str) -> list[Grant]:
        """The records ``grantee`` may see now, oldest grant first."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(grants)
                .where(grants.c.grantee == grantee, grants.c.revoked_at.is_(None))
                .order_by(grants.c.id)
            ).all()
        return [_grant(row) for row in rows]

    def has_access(self, grantee: str, person: str) -> bool:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(grants.c.id).where(
                    grants.c.grantee == grantee,
                    grants.c.person == person,
                    grants.c.revoked_at.is_(None),
                )
            ).first()
        return row is not None

    def _write_consent(
        self,
        actor: str,
        person: str,
        grantee: str,
        grantee_name: str,
        kind: GrantKind,
        consent_id: str,
        start: str,
        end: str | None = None,
    ) -> None:
        consent = consent_resource(consent_id, person, grantee, grantee_name, kind, start, end)
        try:
            patients = self.vault.resources(actor, person, "Patient")
        except NotFoundError:  # nothing imported yet: the Consent is the record's first item
            patients = []
        if patients:
            consent["patient"] = {"reference": f"Patient/{patients[-1]['id']}"}
        else:
            consent.pop("patient")
        bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": consent}]}
        report = self.importer.import_uploads(
            [("consent.json", orjson.dumps(bundle))], actor, person
        )
        if report.errors:
            raise HealthspaceError(
                f"The consent could not be recorded: {report.errors[0]['reason']}"
            )
