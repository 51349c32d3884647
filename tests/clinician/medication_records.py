"""Small FHIR records for the medication review and alternatives tests, built on
``tests.factories.patient_bundle`` so each test states the codes it relies on."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import orjson

from healthspace.bootstrap import Healthspace
from tests.factories import patient_bundle

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"


class Record:
    """A Patient with the medicines, allergies, results and conditions a test adds."""

    def __init__(self, person: str, birth_date: str = "1970-01-01") -> None:
        self.person = person
        self.bundle = patient_bundle(person, birth_date=birth_date, glucose_values=())
        self.patient_url = self.bundle["entry"][0]["fullUrl"]
        self._count = 0

    def _add(self, resource: dict[str, Any]) -> str:
        self._count += 1
        resource_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.person}/{self._count}"))
        resource["id"] = resource_id
        self.bundle["entry"].append(
            {
                "fullUrl": f"urn:uuid:{resource_id}",
                "resource": resource,
                "request": {"method": "POST", "url": resource["resourceType"]},
            }
        )
        return f"{resource['resourceType']}/{resource_id}"

    def medicine(self, text: str, rxnorm: str | None = None, status: str = "active") -> str:
        concept: dict[str, Any] = {"text": text}
        if rxnorm:
            concept["coding"] = [{"system": RXNORM, "code": rxnorm, "display": text}]
        return self._add(
            {
                "resourceType": "MedicationRequest",
                "status": status,
                "intent": "order",
                "medicationCodeableConcept": concept,
                "subject": {"reference": self.patient_url},
                "authoredOn": "2026-06-01",
            }
        )

    def allergy(self, text: str, clinical: str = "active") -> str:
        return self._add(
            {
                "resourceType": "AllergyIntolerance",
                "clinicalStatus": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                            "code": clinical,
                        }
                    ]
                },
                "code": {"text": text},
                "patient": {"reference": self.patient_url},
            }
        )

    def lab(self, loinc: str, value: float, unit: str, when: str) -> str:
        return self._add(
            {
                "resourceType": "Observation",
                "status": "final",
                "category": [
                    {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                "code": "laboratory",
                            }
                        ]
                    }
                ],
                "code": {"coding": [{"system": LOINC, "code": loinc}]},
                "subject": {"reference": self.patient_url},
                "effectiveDateTime": when,
                "valueQuantity": {
                    "value": value,
                    "unit": unit,
                    "system": "http://unitsofmeasure.org",
                    "code": unit,
                },
            }
        )

    def pregnancy_test(self, when: str, positive: bool = True) -> str:
        answer = ("10828004", "Positive") if positive else ("260385009", "Negative")
        return self._add(
            {
                "resourceType": "Observation",
                "status": "final",
                "code": {
                    "coding": [{"system": LOINC, "code": "2106-3"}],
                    "text": "Pregnancy test (urine)",
                },
                "subject": {"reference": self.patient_url},
                "effectiveDateTime": when,
                "valueCodeableConcept": {
                    "coding": [{"system": SNOMED, "code": answer[0], "display": answer[1]}]
                },
            }
        )

    def condition(self, code: str, text: str, clinical: str = "active") -> str:
        return self._add(
            {
                "resourceType": "Condition",
                "clinicalStatus": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                            "code": clinical,
                        }
                    ]
                },
                "code": {"coding": [{"system": SNOMED, "code": code, "display": text}]},
                "subject": {"reference": self.patient_url},
                "onsetDateTime": "2026-09-01",
            }
        )

    def load(self, hs: Healthspace, folder: Path) -> str:
        path = folder / f"{self.person}.json"
        path.write_bytes(orjson.dumps(self.bundle))
        report = hs.importer.import_paths([path], "test")
        assert not report.errors, report.errors
        return self.person
