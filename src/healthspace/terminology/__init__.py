"""Terminologies Healthspace codes against: LOINC labs, ICD-10-CM, drugs, SNOMED CT, UCUM units."""
