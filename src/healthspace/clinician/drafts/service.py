"""Drafts in the person's vault: compose, list, show, edit, sign, and the version history.

Every write goes through ``importer.import_uploads`` (validated like any import, audited, one
transaction), so a draft can only cite resources that are in the person's record. Versions
are the vault's: an edit or a signature stores a new version and the vault keeps the old one
in its history; nothing is overwritten in place. A signature is also audited as "sign".
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import orjson

from healthspace.bootstrap import Healthspace
from healthspace.clinician.drafts.compose import DraftRequest, clinician_lines
from healthspace.clinician.drafts.kinds import COMPOSERS
from healthspace.clinician.drafts.model import (
    DRAFT_STATUS,
    Draft,
    Signature,
    draft_kind,
    from_composition,
    numbered,
    to_composition,
)
from healthspace.clinician.drafts.record import Record
from healthspace.clinician.drafts.wording import TYPE_LABELS
from healthspace.clinician.summary_service import read_practitioners
from healthspace.collector import collector_paused
from healthspace.errors import HealthspaceError, NotFoundError
from healthspace.terminology.icd10cm import Icd10cm, load_icd10cm
from healthspace.vault.audit import AuditEvent

MAX_TEXT = 20_000


class DraftNotStoredError(HealthspaceError):
    """The draft did not pass the import's checks; nothing was stored."""

    http_status = 422


class AlreadySignedError(HealthspaceError):
    http_status = 409


class UnsourcedStatementsError(HealthspaceError):
    """Signing refused: statements without a source that the signer has not confirmed."""

    http_status = 409


class UnknownSectionError(HealthspaceError):
    http_status = 422


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _codes_loader(hs: Healthspace, codes: Icd10cm | None) -> Any:
    return lambda: codes if codes is not None else load_icd10cm(hs.settings.home / "cache")


def _store(
    hs: Healthspace, actor: str, person: str, draft: Draft, events: Sequence[AuditEvent] = ()
) -> None:
    label = TYPE_LABELS[draft.kind][draft.language]
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": to_composition(draft, label)}],
    }
    report = hs.importer.import_uploads(
        [(f"draft-{draft.id}.json", orjson.dumps(bundle))], actor, person=person, events=events
    )
    if report.errors:
        first = report.errors[0]
        raise DraftNotStoredError(
            f"The draft could not be stored ({first['place']}: {first['reason']}); "
            "nothing was saved."
        )


def create_draft(
    hs: Healthspace,
    actor: str,
    person: str,
    request: DraftRequest,
    codes: Icd10cm | None = None,
    today: date | None = None,
) -> Draft:
    """Compose a draft of ``request.kind`` from the person's record and store it (preliminary)."""
    if request.text is not None and len(request.text) > MAX_TEXT:
        raise DraftNotStoredError(f"The text is longer than {MAX_TEXT} characters: shorten it.")
    with collector_paused():
        resources = hs.vault.resources(actor, person)
        record = Record(resources, read_practitioners(hs, actor, resources), today)
        composed = COMPOSERS[request.kind](record, request, _codes_loader(hs, codes))
        patient_id = str(record.patient["id"])
    draft = Draft(
        id=str(uuid.uuid4()),
        kind=request.kind,
        title=composed.title,
        language=request.language,
        patient=patient_id,
        author=actor,
        date=_now(),
        encounter=composed.encounter,
        sections=numbered(composed.sections),
    )
    _store(hs, actor, person, draft)
    return draft


def list_drafts(hs: Healthspace, actor: str, person: str) -> list[Draft]:
    """The person's drafts and signed documents written here, newest first."""
    found = [
        from_composition(r)
        for r in hs.vault.resources(actor, person, "Composition")
        if draft_kind(r) is not None
    ]
    return sorted(found, key=lambda d: (d.date, d.id), reverse=True)


def get_draft(hs: Healthspace, actor: str, person: str, draft_id: str) -> Draft:
    try:
        resource = hs.vault.resource(actor, person, "Composition", draft_id)
    except NotFoundError:
        raise NotFoundError(
            f"No draft {draft_id!r} for this person. List them with: healthspace draft list PERSON"
        ) from None
    if draft_kind(resource) is None:
        raise NotFoundError(f"Composition/{draft_id} was not written as a draft here.")
    return from_composition(resource)


def edit_section(
    hs: Healthspace, actor: str, person: str, draft_id: str, section_key: str, text: str
) -> Draft:
    """Replace one section's text with the clinician's (one statement per line).

    Before signing this stores a new version of the draft; after signing, a new version with
    status ``amended`` and no signature: it must be signed again. The vault keeps the earlier
    versions, the signed one included.
    """
    if not text.strip():
        raise UnknownSectionError("The new text is empty: write the section's text.")
    if len(text) > MAX_TEXT:
        raise UnknownSectionError(f"The text is longer than {MAX_TEXT} characters.")
    draft = get_draft(hs, actor, person, draft_id)
    key = section_key.replace("-", "_")
    if draft.section(key) is None:
        keys = ", ".join(s.key for s in draft.sections)
        raise UnknownSectionError(f"This draft has no section {section_key!r}; it has: {keys}.")
    sections = tuple(
        replace(s, statements=tuple(clinician_lines(text))) if s.key == key else s
        for s in draft.sections
    )
    status = draft.status
    if draft.signed or status != DRAFT_STATUS:
        status = "amended"
        # A confirmation was given for the signed version: the new one is confirmed anew.
        sections = tuple(
            replace(
                s,
                statements=tuple(
                    replace(st, confirmed_by=None, confirmed_at=None) for st in s.statements
                ),
            )
            for s in sections
        )
    edited = replace(draft, sections=numbered(sections), status=status, signature=None, date=_now())
    _store(hs, actor, person, edited)
    return edited


def sign(
    hs: Healthspace,
    person: str,
    draft_id: str,
    actor: str,
    confirm: Collection[str] = (),
    confirm_unsourced: bool = False,
) -> Draft:
    """Sign a draft: status ``final`` (``amended`` stays ``amended``), a legal attester, and an
    audit entry "sign". Statements without a source must be confirmed one by one (``confirm``,
    their ids) or all at once (``confirm_unsourced``); otherwise signing is refused."""
    draft = get_draft(hs, actor, person, draft_id)
    if draft.signed:
        assert draft.signature is not None
        raise AlreadySignedError(
            f"This document was already signed by {draft.signature.party} at "
            f"{draft.signature.time}. Edit it to make a new version to sign."
        )
    unchecked = [s for s in draft.statements if s.unchecked]
    missing = [s for s in unchecked if not confirm_unsourced and s.id not in confirm]
    if missing:
        listed = "; ".join(f"{s.id}: {s.text[:80]}" for s in missing)
        raise UnsourcedStatementsError(
            f"{len(missing)} statement(s) have no source in the record: {listed}. Edit them, or "
            "confirm each one (--confirm ID, or --confirm-unsourced for all) to sign."
        )
    at = _now()
    confirmed = {s.id for s in unchecked}
    sections = tuple(
        replace(
            section,
            statements=tuple(
                replace(s, confirmed_by=actor, confirmed_at=at) if s.id in confirmed else s
                for s in section.statements
            ),
        )
        for section in draft.sections
    )
    signed = replace(
        draft,
        sections=sections,
        status="final" if draft.status == DRAFT_STATUS else draft.status,
        signature=Signature(actor, at),
    )
    # Ids and counts only: the audit never holds a document's words. The entry is written in
    # the same transaction as the signed version, so neither exists without the other.
    sign_event = AuditEvent(
        actor, "sign", person, "Composition", f"id={draft_id} confirmed={len(confirmed)}"
    )
    _store(hs, actor, person, signed, events=[sign_event])
    return signed


def history(hs: Healthspace, actor: str, person: str, draft_id: str) -> list[dict[str, Any]]:
    """Every version of a draft, oldest first: when it was stored, its status and signature,
    and its content then."""
    get_draft(hs, actor, person, draft_id)  # a clear error for what is not a draft
    versions = hs.vault.resource_versions(actor, person, "Composition", draft_id)
    out = []
    for version in versions:
        draft = from_composition(version.resource)
        out.append({"version": version.version, "stored_at": version.updated_at, **draft.as_json()})
    return out
