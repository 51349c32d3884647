"""The patient summary service: read a person's record once, hand it to ``clinician.summary``.

One vault read for the whole record (audited per type by the vault) rather than one per
resource type: the record is decrypted once and every section works on the same snapshot.
The care team's names come from shared Practitioner resources, read only when the record
points to a practitioner it does not hold itself.

The summary without ``since`` is cached in the vault, sealed with the person's key, under a
basis made of the person's and the shared space's revisions, the day (prescriptions expire) and
``SUMMARY_VERSION``. The vault deletes it on any change to the person's record, so the first call
after a change rebuilds it (cold) and later ones decrypt one payload (warm).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import orjson

from healthspace.bootstrap import Healthspace
from healthspace.clinician.ips import ips_bundle
from healthspace.clinician.summary import care_team_references, changes_since, summarize_resources
from healthspace.collector import collector_paused
from healthspace.errors import HealthspaceError, NotFoundError
from healthspace.vault.tables import SHARED_SPACE


class NoPatientError(HealthspaceError):
    """The record has no Patient resource, so no IPS document can name its subject."""

    http_status = 422


# Bump when the summary's JSON changes shape or rules, so that cached summaries are rebuilt.
SUMMARY_VERSION = 1
CACHE_KIND = "summary"


def read_practitioners(
    hs: Healthspace, actor: str, record: list[dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """The Practitioner resources the record's encounters and requests refer to, by "Type/id"."""
    held = {
        f"{r['resourceType']}/{r.get('id')}": r
        for r in record
        if r.get("resourceType") in ("Practitioner", "PractitionerRole")
    }
    wanted = care_team_references(record) - held.keys()
    if any(ref.startswith("Practitioner/") for ref in wanted):
        try:
            shared = hs.vault.resources(actor, SHARED_SPACE, "Practitioner")
        except NotFoundError:
            shared = []  # nothing shared was ever imported: display texts will do
        held.update(
            (f"Practitioner/{r.get('id')}", r)
            for r in shared
            if f"Practitioner/{r.get('id')}" in wanted
        )
    return held


def summarize(
    hs: Healthspace, actor: str, person: str, since: date | None = None, cached: bool = True
) -> dict[str, Any]:
    """DESIGN.md's summary JSON; with ``since``, plus ``changes`` (what is new since then).

    ``cached=False`` always builds from the record (and leaves the cache as it is).
    """
    with collector_paused():
        # The record is released inside the pause: re-enabled with it still alive, the
        # collector's next pass would walk it once more.
        if since is None and cached:
            return _cached_summary(hs, actor, person)
        return build_summary(hs, actor, person, since)


def cache_basis(hs: Healthspace, person: str, today: date | None = None) -> tuple[int, str]:
    """The person's revision and the basis a cached summary must have to be current."""
    revisions = hs.vault.revisions(person, SHARED_SPACE)
    day = (today or date.today()).isoformat()
    basis = f"v{SUMMARY_VERSION}:r{revisions[person]}:s{revisions[SHARED_SPACE]}:d{day}"
    return revisions[person], basis


def _cached_summary(hs: Healthspace, actor: str, person: str) -> dict[str, Any]:
    revision, basis = cache_basis(hs, person)
    sealed = hs.vault.read_derived(actor, person, CACHE_KIND, basis)
    if sealed is not None:
        found: dict[str, Any] = orjson.loads(sealed)
        return found
    out = build_summary(hs, actor, person, None)
    hs.vault.write_derived(person, CACHE_KIND, revision, basis, orjson.dumps(out))
    return out


def build_summary(
    hs: Healthspace, actor: str, person: str, since: date | None = None
) -> dict[str, Any]:
    """The summary computed from the whole record, never from the cache."""
    record = hs.vault.resources(actor, person)
    practitioners = read_practitioners(hs, actor, record)
    out = summarize_resources(record, practitioners).as_json()
    if since is not None:
        out["changes"] = {
            "since": since.isoformat(),
            **changes_since(record, since, practitioners).as_json(),
        }
    return out


def ips_document(hs: Healthspace, actor: str, person: str) -> dict[str, Any]:
    """The summary as an IPS ``document`` Bundle, with the resources its lines rest on.

    Audited as an export (the document carries the resources themselves), after the summary's
    own read.
    """
    summary = summarize(hs, actor, person)
    with collector_paused():
        exported = [entry["resource"] for entry in hs.vault.export(actor, person)["entry"]]
    patients = [r for r in exported if r.get("resourceType") == "Patient"]
    if not patients:
        raise NoPatientError(
            f"The record of {person!r} holds no Patient resource, which an IPS document needs: "
            "import the person's demographics (a FHIR Patient) first."
        )
    patient = next((p for p in patients if p.get("id") == person), patients[0])
    return ips_bundle(
        summary,
        exported,
        str(patient["id"]),
        str(uuid.uuid4()),
        str(uuid.uuid4()),
        datetime.now(UTC).isoformat(timespec="seconds"),
    )
