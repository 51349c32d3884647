"""The patient summary service: read a person's record once, hand it to ``clinician.summary``.

One vault read for the whole record (audited per type by the vault) rather than one per
resource type: the record is decrypted once and every section works on the same snapshot.
The care team's names come from shared Practitioner resources, read only when the record
points to a practitioner it does not hold itself.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from healthspace.bootstrap import Healthspace
from healthspace.clinician.summary import care_team_references, changes_since, summarize_resources
from healthspace.collector import collector_paused
from healthspace.errors import NotFoundError
from healthspace.vault.tables import SHARED_SPACE


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
    hs: Healthspace, actor: str, person: str, since: date | None = None
) -> dict[str, Any]:
    """DESIGN.md's summary JSON; with ``since``, plus ``changes`` (what is new since then)."""
    with collector_paused():
        # The record is released inside the pause: re-enabled with it still alive, the
        # collector's next pass would walk it once more.
        return _summarize(hs, actor, person, since)


def _summarize(hs: Healthspace, actor: str, person: str, since: date | None) -> dict[str, Any]:
    record = hs.vault.resources(actor, person)
    practitioners = read_practitioners(hs, actor, record)
    out = summarize_resources(record, practitioners).as_json()
    if since is not None:
        out["changes"] = {
            "since": since.isoformat(),
            **changes_since(record, since, practitioners).as_json(),
        }
    return out
