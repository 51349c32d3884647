"""The patient summary as an International Patient Summary (IPS) document: a FHIR R4 Bundle.

Pure: the summary JSON (``clinician.summary``), the record's resources and the document's ids
and time in; a ``document`` Bundle out. Its first entry is a Composition claiming the IPS
profile (LOINC 60591-5), one section per IPS section the summary fills, each with a generated
narrative of the summary's lines and ``entry`` references to the resources those lines rest on;
then the Patient, every resource those lines rest on and whatever they refer to in turn (their
encounters, prescribers, medicines...), so that the document stands alone and re-imports, and
the authoring device. The three sections IPS
requires (problems, allergies, medications) are always present, with an ``emptyReason`` when
the record has nothing for them. Every ``fullUrl`` is the vault export base plus "Type/id", so
the relative references inside the resources resolve within the Bundle.

The care team has no IPS section code, so it stays out of the document.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from healthspace import __version__
from healthspace.vault.store import EXPORT_BASE

Resource = dict[str, Any]

LOINC = "http://loinc.org"
COMPOSITION_PROFILE = "http://hl7.org/fhir/uv/ips/StructureDefinition/Composition-uv-ips"
DOCUMENT_TYPE = {"system": LOINC, "code": "60591-5", "display": "Patient summary Document"}
EMPTY_REASON_SYSTEM = "http://terminology.hl7.org/CodeSystem/list-empty-reason"
DEVICE_ID = "healthspace"
_XHTML = "http://www.w3.org/1999/xhtml"


@dataclass(frozen=True)
class IpsSection:
    """One IPS section: the summary sections it gathers, its LOINC code and display."""

    keys: tuple[str, ...]
    code: str
    display: str
    title: str
    required: bool = False


# In IPS order: the three required sections first. Displays as the IPS examples give them.
IPS_SECTIONS: tuple[IpsSection, ...] = (
    IpsSection(("problems",), "11450-4", "Problem list - Reported", "Active problems", True),
    IpsSection(
        ("allergies",),
        "48765-2",
        "Allergies and adverse reactions Document",
        "Allergies and intolerances",
        True,
    ),
    IpsSection(
        ("medications", "stopped_medications"),
        "10160-0",
        "History of Medication use Narrative",
        "Medication summary",
        True,
    ),
    IpsSection(("immunizations",), "11369-6", "History of Immunization note", "Immunizations"),
    IpsSection(
        ("results",),
        "30954-2",
        "Relevant diagnostic tests/laboratory data note",
        "Recent and abnormal results",
    ),
    IpsSection(("procedures",), "47519-4", "History of Procedures Document", "Procedures"),
    IpsSection(("past_problems",), "11348-0", "History of Past illness note", "Past problems"),
    # Not an IPS slice (the section slicing is open): the recent visits, as the summary has them.
    IpsSection(
        ("encounters",),
        "46240-8",
        "History of Hospitalizations+Outpatient visits Narrative",
        "Recent encounters",
    ),
)
REQUIRED_CODES = frozenset(s.code for s in IPS_SECTIONS if s.required)


def _div(body: str) -> str:
    return f'<div xmlns="{_XHTML}">{body}</div>'


def _item_refs(item: Mapping[str, Any]) -> list[str]:
    sources = item.get("sources") or [item["source"]]
    return [str(s["resource"]) for s in sources if s.get("resource")]


def _section(
    spec: IpsSection, summary: Mapping[str, Any], held: Mapping[str, Resource]
) -> dict[str, Any] | None:
    """The Composition section for ``spec``; None for an empty optional one."""
    by_key = {s["key"]: s for s in summary["sections"]}
    parts = [by_key[k] for k in spec.keys if k in by_key]
    items = [(part["title"], item) for part in parts for item in part["items"]]
    if not items and not spec.required:
        return None
    section: dict[str, Any] = {
        "title": spec.title,
        "code": {"coding": [{"system": LOINC, "code": spec.code, "display": spec.display}]},
    }
    if not items:
        section["text"] = {
            "status": "generated",
            "div": _div("<p>No information about this in the record.</p>"),
        }
        section["emptyReason"] = {
            "coding": [{"system": EMPTY_REASON_SYSTEM, "code": "unavailable"}],
            "text": "No information available",
        }
        return section
    # A section gathering several summary parts (current and stopped medicines) heads each.
    body = "".join(
        (f"<h3>{escape(heading)}</h3>" if len(parts) > 1 else "")
        + "<ul>"
        + "".join(f"<li>{escape(item['text'])}</li>" for item in group)
        + "</ul>"
        for heading, group in _grouped(items)
    )
    section["text"] = {"status": "generated", "div": _div(body)}
    refs = dict.fromkeys(ref for _, item in items for ref in _item_refs(item) if ref in held)
    if refs:
        section["entry"] = [{"reference": ref} for ref in refs]
    return section


def _grouped(
    items: Sequence[tuple[str, Mapping[str, Any]]],
) -> Iterable[tuple[str, list[Mapping[str, Any]]]]:
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for heading, item in items:
        groups.setdefault(heading, []).append(item)
    return groups.items()


def _ref(resource: Mapping[str, Any]) -> str:
    return f"{resource['resourceType']}/{resource['id']}"


def _references(resource: Any) -> Iterable[str]:
    """Every relative "Type/id" reference inside a resource."""
    if isinstance(resource, dict):
        value = resource.get("reference")
        if isinstance(value, str) and value.count("/") == 1 and ":" not in value:
            yield value
        for child in resource.values():
            yield from _references(child)
    elif isinstance(resource, list):
        for child in resource:
            yield from _references(child)


def _closure(start: Sequence[str], held: Mapping[str, Resource]) -> list[str]:
    """``start`` and every held resource they refer to, directly or not, in first-seen order."""
    included = dict.fromkeys(start)
    pending = list(start)
    while pending:
        for ref in _references(held[pending.pop()]):
            if ref in held and ref not in included:
                included[ref] = None
                pending.append(ref)
    return list(included)


def author_device() -> Resource:
    """The software that assembled the document, named as its author."""
    return {
        "resourceType": "Device",
        "id": DEVICE_ID,
        "deviceName": [{"name": "Healthspace", "type": "user-friendly-name"}],
        "version": [{"value": __version__}],
    }


def ips_bundle(
    summary: Mapping[str, Any],
    resources: Iterable[Resource],
    patient_id: str,
    document_id: str,
    composition_id: str,
    timestamp: str,
) -> dict[str, Any]:
    """The IPS document Bundle for a person's summary.

    ``resources`` are what the vault exports for the person (own and shared reference data);
    ``document_id`` and ``composition_id`` are UUIDs; ``timestamp`` an ISO instant with zone.
    """
    held = {_ref(r): r for r in resources if r.get("resourceType") and r.get("id")}
    patient_ref = f"Patient/{patient_id}"
    if patient_ref not in held:
        raise ValueError(f"the record holds no {patient_ref}")
    sections = [s for s in (_section(spec, summary, held) for spec in IPS_SECTIONS) if s]
    device = author_device()
    listed = [ref for s in sections for ref in (e["reference"] for e in s.get("entry", []))]
    included = _closure([patient_ref, *listed], held)
    composition = {
        "resourceType": "Composition",
        "id": composition_id,
        "meta": {"profile": [COMPOSITION_PROFILE]},
        "text": {
            "status": "generated",
            "div": _div(
                f"<p>Patient summary assembled by Healthspace on {escape(timestamp[:10])} from "
                "the person's record; every line cites the record entry it comes from.</p>"
            ),
        },
        "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{composition_id}"},
        "status": "final",
        "type": {"coding": [DOCUMENT_TYPE]},
        "subject": {"reference": patient_ref},
        "date": timestamp,
        "author": [{"reference": f"Device/{DEVICE_ID}"}],
        "title": "International Patient Summary",
        "section": sections,
    }
    entries = [composition, *(held[ref] for ref in included), device]
    return {
        "resourceType": "Bundle",
        "id": document_id,
        "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{document_id}"},
        "type": "document",
        "timestamp": timestamp,
        "entry": [{"fullUrl": f"{EXPORT_BASE}/{_ref(r)}", "resource": r} for r in entries],
    }
