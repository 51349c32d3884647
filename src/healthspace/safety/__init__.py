"""Safety: triage of symptoms (red flags first), scope guard and answer checks."""

from healthspace.safety.triage import TriageResult, triage

__all__ = ["TriageResult", "triage"]
