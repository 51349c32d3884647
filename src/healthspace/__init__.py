"""Healthspace: an offline-first, private health assistant over one encrypted FHIR record."""

__version__ = "0.1.0"
