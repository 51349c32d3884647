"""Referral letter to a colleague: who it is for and why (the clinician's words), then the
active problems, current medicines, allergies and relevant results from the patient summary.

Relevant results are the summary's recent results, abnormal ones first, at most
``MAX_RESULTS``: a letter is read, not searched.
"""

from __future__ import annotations

from healthspace.clinician.drafts.compose import (
    Codes,
    DraftRequest,
    clinician_statement,
    section,
)
from healthspace.clinician.drafts.model import Composed
from healthspace.clinician.drafts.record import Record, from_item
from healthspace.clinician.drafts.wording import TYPE_LABELS, phrase
from healthspace.errors import HealthspaceError

MAX_RESULTS = 8


class ReferralDetailsMissingError(HealthspaceError):
    http_status = 422


def compose_referral(record: Record, request: DraftRequest, codes: Codes) -> Composed:
    lang = request.language
    to = (request.to or "").strip()
    reason = (request.reason or "").strip()
    if not to or not reason:
        raise ReferralDetailsMissingError(
            'A referral needs who it is for and why: give --to "Dr X, cardiology" and '
            "--reason TEXT."
        )
    summary = record.summary
    sections = (
        section("addressee", lang, [clinician_statement(phrase("addressee", lang, text=to), to)]),
        section("referral_reason", lang, [clinician_statement(reason, reason)]),
        section("problems", lang, map(from_item, summary.section("problems").items)),
        section("medications", lang, map(from_item, summary.section("medications").items)),
        section("allergies", lang, map(from_item, summary.section("allergies").items)),
        section("results", lang, map(from_item, summary.section("results").items[:MAX_RESULTS])),
    )
    return Composed(f"{TYPE_LABELS['referral'][lang]} — {to}", sections)
