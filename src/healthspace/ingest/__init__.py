"""Ingest: read files into validated FHIR R4 resources and store them, one file per transaction."""
