"""The one place draft kinds register: kind → composer (record and request in, sections out).

A new kind is one module with its composer plus one line here (and its words in ``wording``).
"""

from __future__ import annotations

from healthspace.clinician.drafts.after_visit import compose_after_visit
from healthspace.clinician.drafts.compose import Composer
from healthspace.clinician.drafts.discharge import compose_discharge
from healthspace.clinician.drafts.model import Kind
from healthspace.clinician.drafts.prior_auth import compose_prior_auth
from healthspace.clinician.drafts.referral import compose_referral
from healthspace.clinician.drafts.soap import compose_soap

COMPOSERS: dict[Kind, Composer] = {
    "soap": compose_soap,
    "discharge": compose_discharge,
    "referral": compose_referral,
    "after_visit": compose_after_visit,
    "prior_auth": compose_prior_auth,
}
