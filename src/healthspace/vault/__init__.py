"""The vault: per-person encrypted storage of FHIR resources, with a hash-chained audit log."""
