"""Decide whose each resource is, and make every reference point to a stored resource.

Inside a file, ``urn:uuid:`` and full-URL references are rewritten to the relative ``Type/id``
form of the resource they name; relative references must name a resource of the same file or
one already in the same person's record (or shared reference data). A resource's subject or
patient decides its person; reference data (Practitioner, Organization...) is shared. Nothing
here touches the database: the store is reached through the small ``RecordLookup`` port.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from healthspace.errors import ImportFailedError
from healthspace.ingest.fhir_json import Candidate, ParsedFile
from healthspace.ingest.fhir_model import PERSON_ELEMENTS, R4_RESOURCE_TYPES, SHARED_TYPES
from healthspace.ingest.validation import find_problems
from healthspace.vault.tables import SHARED_SPACE

_REFERENCE = re.compile(rb'"reference":"((?:[^"\\]|\\.)*)"')
_LITERAL = re.compile(
    r"(?:(?P<base>https?://\S+?)/)?(?P<type>[A-Z][A-Za-z]+)/(?P<id>[A-Za-z0-9\-.]{1,64})"
    r"(?:/_history/[A-Za-z0-9\-.]{1,64})?"
)
_ID_NAMESPACE = uuid.UUID("9b1f5d52-3a8e-4d7b-9a61-2f1e0c7d4a10")
MAX_PROBLEMS = 20
MISSING_REFERENCE = "reference to nothing"

Key = tuple[str, str]  # (resource type, id)


class RecordLookup(Protocol):
    """What linking needs to know about the record already stored."""

    def spaces_of_patients(self, patient_ids: set[str]) -> dict[str, str]:
        """For each Patient id already stored, the person (space) it belongs to."""
        ...

    def existing(self, keys: set[Key], spaces: set[str]) -> set[tuple[str, str, str]]:
        """Which of ``keys`` exist in any of ``spaces``, as (space, type, id)."""
        ...

    def space_exists(self, space: str) -> bool: ...


class ResourceChecker(Protocol):
    """An extra check of each resource (the full R4 schema), answering like find_problems."""

    def find_problems(self, resource: dict[str, Any]) -> list[tuple[str, str]]: ...


@dataclass(frozen=True)
class PreparedResource:
    space: str
    resource_type: str
    fhir_id: str
    payload: bytes  # compact JSON in the file's key order, references rewritten
    place: str


@dataclass
class PreparedUnit:
    """A file ready to store in one transaction."""

    path: str
    digest: str
    resources: list[PreparedResource] = field(default_factory=list)
    # Person spaces this file creates, each with its Patient (for the sealed profile).
    new_persons: set[str] = field(default_factory=set)
    kept_references: int = 0  # external or conditional references left as written


def referenced_keys(resources_: list[dict[str, Any]]) -> set[Key]:
    """Every (type, id) that these stored resources point to with a relative reference."""
    keys: set[Key] = set()
    for resource in resources_:
        for raw in _REFERENCE.findall(orjson.dumps(resource)):
            match = _LITERAL.fullmatch(raw.decode(errors="replace"))
            if match and not match["base"]:
                keys.add((match["type"], match["id"]))
    return keys


class _Problems:
    """Collects problems so one report names many of them, not just the first."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.items: list[tuple[str, str]] = []

    def add(self, place: str, reason: str) -> None:
        if len(self.items) < MAX_PROBLEMS:
            self.items.append((place, reason))

    def raise_if_any(self) -> None:
        if self.items:
            (place, reason), *others = self.items
            error = ImportFailedError(self.path, place, reason, others)
            error.missing_references = all(r.startswith(MISSING_REFERENCE) for _, r in self.items)
            raise error


def _reference_of(element: object) -> str | None:
    if isinstance(element, dict):
        value = element.get("reference")
        if isinstance(value, str):
            return value
    return None


class _Unit:
    """One file's resources with the indexes linking needs."""

    def __init__(self, parsed: ParsedFile, checker: ResourceChecker | None = None) -> None:
        self.parsed = parsed
        self.checker = checker
        self.problems = _Problems(parsed.path)
        self.items: list[tuple[Candidate, str, str]] = []  # candidate, type, id
        self.by_key: dict[Key, Candidate] = {}
        self.by_url: dict[str, Key] = {}
        self._by_identifier: dict[tuple[str, str], Key] | None = None

    def collect(self) -> None:
        for candidate in self.parsed.candidates:
            resource = candidate.resource
            problems = find_problems(resource)
            if not problems and self.checker is not None:
                problems = self.checker.find_problems(resource)
            for relative, reason in problems:
                self.problems.add(candidate.place + relative, reason)
            resource_type = resource["resourceType"]
            resource_id = resource.get("id")
            if not isinstance(resource_id, str):
                resource_id = self._new_id(candidate)
                resource["id"] = resource_id
            key = (resource_type, resource_id)
            previous = self.by_key.get(key)
            if previous is not None:
                if previous.resource != resource:
                    self.problems.add(
                        candidate.place,
                        f"{resource_type}/{resource_id} appears twice with different content",
                    )
                continue
            self.by_key[key] = candidate
            self.items.append((candidate, resource_type, resource_id))
            if candidate.full_url:
                self.by_url[candidate.full_url] = key

    def _new_id(self, candidate: Candidate) -> str:
        """Ids for resources sent without one: the urn:uuid when given, else stable per place."""
        url = candidate.full_url or ""
        if url.startswith("urn:uuid:"):
            return url.removeprefix("urn:uuid:")
        return str(uuid.uuid5(_ID_NAMESPACE, f"{self.parsed.digest}:{candidate.place}"))

    def by_identifier(self, resource_type: str, system_value: str) -> Key | None:
        if self._by_identifier is None:
            index: dict[tuple[str, str], Key] = {}
            for candidate, rtype, rid in self.items:
                identifiers = candidate.resource.get("identifier")
                if isinstance(identifiers, dict):
                    identifiers = [identifiers]
                for identifier in identifiers if isinstance(identifiers, list) else []:
                    if isinstance(identifier, dict) and "value" in identifier:
                        token = f"{identifier.get('system', '')}|{identifier['value']}"
                        index[(rtype, token)] = (rtype, rid)
            self._by_identifier = index
        return self._by_identifier.get((resource_type, system_value))

    def target(self, reference: str) -> tuple[Key | None, bool]:
        """The (type, id) a reference names, and whether it must exist (a literal reference)."""
        key = self.by_url.get(reference)
        if key is not None:
            return key, True
        if reference.startswith(("urn:uuid:", "urn:oid:")):
            return None, True
        match = _LITERAL.fullmatch(reference)
        if match and match["type"] in R4_RESOURCE_TYPES:
            if match["base"]:
                # An absolute URL outside this file: an external reference, kept as written.
                return None, False
            return (match["type"], match["id"]), True
        if "?" in reference:
            resource_type, _, query = reference.partition("?")
            name, _, token = query.partition("=")
            if name == "identifier" and "&" not in token:
                return self.by_identifier(resource_type, token), False
        return None, False


def prepare_unit(
    parsed: ParsedFile,
    lookup: RecordLookup,
    person: str | None = None,
    checker: ResourceChecker | None = None,
) -> PreparedUnit:
    """Validate, assign persons and rewrite references; raise ImportFailedError on any problem."""
    unit = _Unit(parsed, checker)
    unit.collect()
    unit.problems.raise_if_any()
    prepared = PreparedUnit(parsed.path, parsed.digest)
    patient_space = _assign_patients(unit, lookup, person, prepared)
    spaces = _assign_spaces(unit, lookup, person, patient_space)
    unit.problems.raise_if_any()
    _link_references(unit, lookup, spaces, prepared)
    unit.problems.raise_if_any()
    return prepared


def _assign_patients(
    unit: _Unit, lookup: RecordLookup, person: str | None, prepared: PreparedUnit
) -> dict[str, str]:
    """Each Patient of the file → its person: the one given, the one that already has it, or new."""
    patients = [(c, rid) for c, rtype, rid in unit.items if rtype == "Patient"]
    if len(patients) > 1 and not unit.parsed.many_persons_allowed:
        candidate, rid = patients[1]
        unit.problems.add(
            candidate.place,
            f"this Bundle holds a second patient (Patient/{rid}); a Bundle must hold the records "
            "of one person: split it, one Bundle per patient",
        )
        # Stop here: every other problem of such a file would only follow from this one.
        unit.problems.raise_if_any()
    if person is not None:
        return {rid: person for _, rid in patients}
    known = lookup.spaces_of_patients({rid for _, rid in patients})
    result: dict[str, str] = {}
    for _, rid in patients:
        space = known.get(rid)
        if space is None:
            space = rid if not lookup.space_exists(rid) else str(uuid.uuid4())
            prepared.new_persons.add(space)
        result[rid] = space
    return result


def _assign_spaces(
    unit: _Unit, lookup: RecordLookup, person: str | None, patient_space: dict[str, str]
) -> dict[Key, str]:
    """Whose each resource is: its patient's, shared reference data, or the file's one person."""
    spaces: dict[Key, str] = {}
    pending: list[tuple[Candidate, Key, str]] = []  # resources naming a Patient not in the file
    persons_in_file = set(patient_space.values()) | ({person} if person else set())
    sole_person = next(iter(persons_in_file)) if len(persons_in_file) == 1 else None
    for candidate, rtype, rid in unit.items:
        key = (rtype, rid)
        if rtype == "Patient":
            spaces[key] = patient_space.get(rid, person or "")
            continue
        patient_ref = _patient_reference(candidate.resource, unit)
        if patient_ref is not None:
            if patient_ref in patient_space:
                spaces[key] = patient_space[patient_ref]
            else:
                pending.append((candidate, key, patient_ref))
            continue
        if rtype in SHARED_TYPES:
            spaces[key] = SHARED_SPACE
        elif sole_person is not None:
            spaces[key] = sole_person
        else:
            unit.problems.add(
                candidate.place,
                f"{rtype}/{rid} names no patient and the file holds none: import it with "
                "--person ID to say whose record it belongs to",
            )
    if pending:
        known = lookup.spaces_of_patients({ref for _, _, ref in pending})
        for candidate, key, patient_id in pending:
            space = known.get(patient_id)
            if space is None:
                unit.problems.add(
                    candidate.place,
                    f"{MISSING_REFERENCE}: Patient/{patient_id} is neither in this file nor in "
                    "the record; import that patient first, or in the same file",
                )
            elif person is not None and space != person:
                unit.problems.add(
                    candidate.place,
                    f"refers to Patient/{patient_id}, who is not the person given with --person",
                )
            else:
                spaces[key] = space
    return spaces


def _patient_reference(resource: dict[str, Any], unit: _Unit) -> str | None:
    """The id of the Patient this resource is about, if one of its person elements names one."""
    for element in PERSON_ELEMENTS:
        value = resource.get(element)
        # A few R4 types (Account, Contract...) have a list of subjects.
        for item in value if isinstance(value, list) else [value]:
            reference = _reference_of(item)
            if reference is None:
                continue
            key, _ = unit.target(reference)
            if key is not None and key[0] == "Patient":
                return key[1]
    return None


def _link_references(
    unit: _Unit, lookup: RecordLookup, spaces: dict[Key, str], prepared: PreparedUnit
) -> None:
    outside: dict[Key, list[tuple[str, str]]] = defaultdict(list)  # key → (space, place)
    # Resources of a file share most of their references (the patient, the encounter): resolve
    # each distinct reference once, to the bytes that replace it.
    resolved: dict[bytes, tuple[Key | None, bool, bytes]] = {}

    def resolve(raw: bytes) -> tuple[Key | None, bool, bytes]:
        key, required = (None, False) if b"\\" in raw else unit.target(raw.decode())
        written = b'"reference":"' + raw + b'"'
        if key is None:
            return None, required, written
        return key, required, b'"reference":"' + f"{key[0]}/{key[1]}".encode() + b'"'

    for candidate, rtype, rid in unit.items:
        space = spaces[(rtype, rid)]
        place = candidate.place

        def link(match: re.Match[bytes], space: str = space, place: str = place) -> bytes:
            raw = match.group(1)
            if raw[:1] == b"#":
                return match.group(0)
            target = resolved.get(raw)
            if target is None:
                target = resolved[raw] = resolve(raw)
            key, required, replacement = target
            if key is None:
                if required:
                    unit.problems.add(
                        place, f"{MISSING_REFERENCE}: {raw.decode()} is not in this file"
                    )
                else:
                    prepared.kept_references += 1
            elif key in unit.by_key:
                if spaces.get(key, SHARED_SPACE) not in (space, SHARED_SPACE):
                    unit.problems.add(
                        place, f"refers to {key[0]}/{key[1]}, which belongs to another person"
                    )
            else:
                outside[key].append((space, place))
            return replacement

        payload = _REFERENCE.sub(link, orjson.dumps(candidate.resource))
        prepared.resources.append(PreparedResource(space, rtype, rid, payload, place))
    if outside:
        wanted_spaces = {space for places in outside.values() for space, _ in places}
        found = lookup.existing(set(outside), wanted_spaces | {SHARED_SPACE})
        found_in = defaultdict(set)
        for space, rtype, rid in found:
            found_in[(rtype, rid)].add(space)
        for key, places in outside.items():
            for space, place in places:
                if not found_in[key] & {space, SHARED_SPACE}:
                    unit.problems.add(
                        place,
                        f"{MISSING_REFERENCE}: {key[0]}/{key[1]} is neither in this file nor "
                        "in this person's record",
                    )
