"""FHIR R4 JSON and NDJSON files into candidate resources, each with its place in the file.

Bundles of every exchange type are unpacked into their entries; NDJSON (FHIR Bulk Data) gives
one resource per line. Entries that ask for something other than storing a resource (DELETE,
GET, search outcomes) are skipped with a reason rather than applied.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import orjson

from healthspace.errors import ImportFailedError
from healthspace.ingest.fhir_model import R4_RESOURCE_TYPES, TRANSIENT_TYPES
from healthspace.ingest.sources import SourceFile

BUNDLE_TYPES = frozenset(
    {
        "collection",
        "transaction",
        "batch",
        "searchset",
        "document",
        "history",
        "message",
        "transaction-response",
        "batch-response",
    }
)
_STORE_METHODS = frozenset({"POST", "PUT", "PATCH"})
# The urn:uuid fullUrl of a resource sent without an id becomes its id: it must be a UUID.
_URN_UUID = re.compile(r"urn:uuid:[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")


@dataclass(frozen=True)
class Candidate:
    """A resource as read, not yet validated; ``place`` is a JSON path or an NDJSON line."""

    resource: dict[str, Any]
    place: str
    full_url: str | None = None


@dataclass(frozen=True)
class Skipped:
    place: str
    reason: str


@dataclass
class ParsedFile:
    path: str
    digest: str
    candidates: list[Candidate] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    # A Bulk Data export holds many patients by design; a Bundle must hold one.
    many_persons_allowed: bool = False


class NotFhirFile(Exception):
    """The file is not FHIR at all (a Bulk Data export log, say): listed, not an error."""


def _json_error_place(error: orjson.JSONDecodeError, line_offset: int = 0) -> str:
    return f"line {error.lineno + line_offset}, column {error.colno}"


def parse_json(source: SourceFile) -> ParsedFile:
    """A FHIR JSON file (a Bundle or one resource); raise ImportFailedError at the first problem."""
    parsed = ParsedFile(str(source.path), source.digest)
    display = str(source.path)
    try:
        document = orjson.loads(source.data)
    except orjson.JSONDecodeError as exc:
        raise ImportFailedError(
            display, _json_error_place(exc), f"invalid JSON ({exc.msg}); is the file complete?"
        ) from exc
    if not isinstance(document, dict):
        raise ImportFailedError(display, "$", "expected a FHIR resource (a JSON object)")
    resource_type = document.get("resourceType")
    _check_type(display, "$", resource_type)
    if resource_type == "Bundle":
        _unpack_bundle(display, document, "$", parsed)
    elif resource_type in TRANSIENT_TYPES:
        parsed.skipped.append(Skipped("$", f"a {resource_type} is a message, not a record"))
    else:
        parsed.candidates.append(Candidate(document, "$"))
    return parsed


def _check_type(display: str, place: str, resource_type: object) -> None:
    if resource_type is None:
        raise ImportFailedError(display, f"{place}.resourceType", "missing: not a FHIR resource")
    if not isinstance(resource_type, str) or resource_type not in R4_RESOURCE_TYPES:
        raise ImportFailedError(
            display, f"{place}.resourceType", f"{resource_type!r} is not a FHIR R4 resource type"
        )


def _unpack_bundle(display: str, bundle: dict[str, Any], place: str, parsed: ParsedFile) -> None:
    bundle_type = bundle.get("type")
    if not isinstance(bundle_type, str) or bundle_type not in BUNDLE_TYPES:
        raise ImportFailedError(
            display, f"{place}.type", f"{bundle_type!r} is not a Bundle type of FHIR R4"
        )
    entries = bundle.get("entry", [])
    if not isinstance(entries, list):
        raise ImportFailedError(display, f"{place}.entry", "must be a list of entries")
    for index, entry in enumerate(entries):
        entry_place = f"{place}.entry[{index}]"
        if not isinstance(entry, dict):
            raise ImportFailedError(display, entry_place, "an entry must be a JSON object")
        skip = _entry_skip_reason(entry)
        if skip:
            parsed.skipped.append(Skipped(entry_place, skip))
            continue
        resource = entry.get("resource")
        resource_place = f"{entry_place}.resource"
        if not isinstance(resource, dict):
            raise ImportFailedError(display, resource_place, "missing or not a JSON object")
        resource_type = resource.get("resourceType")
        _check_type(display, resource_place, resource_type)
        if resource_type in TRANSIENT_TYPES:
            parsed.skipped.append(
                Skipped(resource_place, f"a {resource_type} inside a Bundle is not stored")
            )
            continue
        full_url = entry.get("fullUrl")
        if (
            isinstance(full_url, str)
            and full_url.startswith("urn:uuid:")
            and not isinstance(resource.get("id"), str)
            and not _URN_UUID.fullmatch(full_url)
        ):
            raise ImportFailedError(
                display,
                f"{entry_place}.fullUrl",
                f"{full_url!r} is not a valid urn:uuid (urn:uuid: then a UUID)",
            )
        parsed.candidates.append(
            Candidate(resource, resource_place, full_url if isinstance(full_url, str) else None)
        )


def _entry_skip_reason(entry: dict[str, Any]) -> str | None:
    request = entry.get("request")
    if isinstance(request, dict):
        method = str(request.get("method", "")).upper()
        if method and method not in _STORE_METHODS:
            return f"{method} requests are not applied by import"
    search = entry.get("search")
    if isinstance(search, dict) and search.get("mode") == "outcome":
        return "search outcome messages are not stored"
    if "resource" not in entry and isinstance(entry.get("response"), dict):
        return "a response without a resource holds nothing to store"
    return None


def parse_ndjson(source: SourceFile) -> ParsedFile:
    """A FHIR NDJSON file (Bulk Data): one resource a line, many persons allowed."""
    parsed = ParsedFile(str(source.path), source.digest)
    display = str(source.path)
    parsed.many_persons_allowed = True
    not_fhir_lines = 0
    for number, line in enumerate(source.data.splitlines(), start=1):
        if not line.strip():
            continue
        place = f"line {number}"
        try:
            resource = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise ImportFailedError(
                display, f"{place}, column {exc.colno}", f"invalid JSON ({exc.msg})"
            ) from exc
        if isinstance(resource, dict) and "resourceType" not in resource and "eventId" in resource:
            not_fhir_lines += 1  # a Bulk Data export's log line
            continue
        if not isinstance(resource, dict):
            raise ImportFailedError(display, place, "each NDJSON line must be one JSON object")
        _check_type(display, place, resource.get("resourceType"))
        if resource["resourceType"] in TRANSIENT_TYPES:
            parsed.skipped.append(Skipped(place, f"a {resource['resourceType']} is not stored"))
            continue
        parsed.candidates.append(Candidate(resource, f"{place}: $"))
    if not_fhir_lines and not parsed.candidates:
        raise NotFhirFile(f"{display}: a Bulk Data export log, not FHIR resources")
    return parsed
