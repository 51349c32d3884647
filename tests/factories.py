"""Small FHIR R4 bundles built in tests, so each test states exactly the data it relies on."""

from __future__ import annotations

import uuid
from typing import Any


def patient_bundle(
    patient_id: str,
    family: str = "Testperson",
    given: str = "Alex",
    birth_date: str = "1970-01-01",
    glucose_values: tuple[float, ...] = (5.4,),
    bundle_type: str = "transaction",
) -> dict[str, Any]:
    """A Patient with fasting glucose Observations, linked by urn:uuid references."""
    namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"healthspace-test/{patient_id}")
    patient_url = f"urn:uuid:{uuid.uuid5(namespace, 'patient')}"
    entries: list[dict[str, Any]] = [
        {
            "fullUrl": patient_url,
            "resource": {
                "resourceType": "Patient",
                "id": patient_id,
                "name": [{"use": "official", "family": family, "given": [given]}],
                "birthDate": birth_date,
                "gender": "female",
            },
        }
    ]
    for index, value in enumerate(glucose_values):
        observation_id = str(uuid.uuid5(namespace, f"obs-{index}"))
        entries.append(
            {
                "fullUrl": f"urn:uuid:{observation_id}",
                "resource": {
                    "resourceType": "Observation",
                    "id": observation_id,
                    "status": "final",
                    "code": {"coding": [{"system": "http://loinc.org", "code": "1558-6"}]},
                    "subject": {"reference": patient_url},
                    "effectiveDateTime": f"2024-0{1 + index % 9}-15T08:00:00+01:00",
                    "valueQuantity": {
                        "value": value,
                        "unit": "mmol/L",
                        "system": "http://unitsofmeasure.org",
                        "code": "mmol/L",
                    },
                },
            }
        )
    if bundle_type in {"transaction", "batch"}:
        for entry in entries:
            entry["request"] = {"method": "POST", "url": entry["resource"]["resourceType"]}
    return {"resourceType": "Bundle", "type": bundle_type, "entry": entries}
