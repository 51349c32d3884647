"""Loading the synthetic demo person into a record (idempotent: a second load adds nothing)."""

from __future__ import annotations

import orjson

from healthspace.bootstrap import Healthspace
from healthspace.demo.person import build_demo_bundle
from healthspace.errors import HealthspaceError
from healthspace.knowledge.corpora import load_demo_corpora

DEMO_ACTOR = "demo-loader"


def load_demo(hs: Healthspace, seed: int = 2026) -> str:
    """Import the demo bundle (and the MedQuAD answers, where present); the demo person's id."""
    bundle = build_demo_bundle(seed)
    report = hs.importer.import_uploads([("demo-person.json", orjson.dumps(bundle))], DEMO_ACTOR)
    if report.errors:
        first = report.errors[0]
        raise HealthspaceError(
            f"The demo record could not be loaded: {first['place']}: {first['reason']}"
        )
    # NIH answers with their sources, so that questions have breadth from the first start.
    load_demo_corpora(hs.settings.home)
    patient = next(
        e["resource"]["id"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    )
    return str(patient)
