"""The FHIR R4 Consent that records one access grant in the person's own record.

Why a Consent as well as the ``grants`` row: the row is what the access check reads on every
request (fast, no decryption); the Consent is the record the person keeps, exports and shows a
clinician, in the standard's words. Both change in one place (``grants.Grants``).
"""

from __future__ import annotations

from typing import Any, Literal

GrantKind = Literal["delegate", "clinician"]
ACCOUNT_SYSTEM = "urn:healthspace:account"
# A carer acts for the person (v3 RoleCode "GUARD"-like roles are legal; "CAREGIVER" says what
# we mean); a clinician is a provider ("PROV", v3 RoleClass).
_ACTOR_ROLES = {
    "delegate": ("http://terminology.hl7.org/CodeSystem/v3-RoleCode", "CAREGIVER", "caregiver"),
    "clinician": (
        "http://terminology.hl7.org/CodeSystem/v3-RoleClass",
        "PROV",
        "healthcare provider",
    ),
}


def consent_resource(
    consent_id: str,
    person: str,
    grantee: str,
    grantee_name: str,
    kind: GrantKind,
    start: str,
    end: str | None = None,
) -> dict[str, Any]:
    """A privacy consent: the person permits ``grantee`` to see their record from ``start``
    (until ``end``, when revoked: the Consent then turns ``inactive``)."""
    system, code, display = _ACTOR_ROLES[kind]
    period = {"start": start, **({"end": end} if end else {})}
    return {
        "resourceType": "Consent",
        "id": consent_id,
        "status": "inactive" if end else "active",
        "scope": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                    "code": "patient-privacy",
                    "display": "Privacy Consent",
                }
            ]
        },
        "category": [
            {
                "coding": [
                    {"system": "http://loinc.org", "code": "59284-0", "display": "Consent Document"}
                ]
            }
        ],
        "patient": {"reference": f"Patient/{person}"},
        "dateTime": start,
        "policyRule": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                    "code": "OPTIN",
                    "display": "opt-in",
                }
            ]
        },
        "provision": {
            "type": "permit",
            "period": period,
            "actor": [
                {
                    "role": {"coding": [{"system": system, "code": code, "display": display}]},
                    "reference": {
                        "identifier": {"system": ACCOUNT_SYSTEM, "value": grantee},
                        "display": grantee_name,
                    },
                }
            ],
            "action": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/consentaction",
                            "code": "access",
                        }
                    ]
                }
            ],
        },
    }
