"""Strict checks of what the record relies on, fast enough for the import's hot path.

These checks cover what later views read: type, id, dates, required elements of clinical
resources, numbers in quantities, names. The full R4 schema (``schema_validation``) checks every
other element when configured; it needs an optional package and the schema file.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from healthspace.ingest.fhir_model import (
    DATE_ELEMENT_EXCEPTIONS,
    DATE_ELEMENTS,
    ID_PATTERN,
    REQUIRED_ELEMENTS,
    SUBJECT_LIST_TYPES,
)

_GENDERS = frozenset({"male", "female", "other", "unknown"})


def _has_choice(resource: dict[str, Any], stem: str) -> bool:
    """Whether a choice element such as ``medication[x]`` is present in any of its types."""
    size = len(stem)
    return any(key.startswith(stem) and key[size : size + 1].isupper() for key in resource)


def _is_calendar_day(value: str) -> bool:
    """The patterns accept 1970-02-30; a full date must also be a day of the calendar."""
    try:
        date.fromisoformat(value[:10])
    except ValueError:
        return False
    return True


def _name_problems(names: object) -> list[tuple[str, str]]:
    """Patient.name as the person list reads it: HumanName objects of strings."""
    if not isinstance(names, list):
        return [(".name", "must be a list of HumanName objects")]
    problems: list[tuple[str, str]] = []
    for index, name in enumerate(names):
        place = f".name[{index}]"
        if not isinstance(name, dict):
            problems.append((place, "must be a HumanName object"))
            continue
        for element in ("use", "text", "family"):
            if element in name and not isinstance(name[element], str):
                problems.append((f"{place}.{element}", "must be a string"))
        given = name.get("given")
        if given is not None and (
            not isinstance(given, list) or not all(isinstance(part, str) for part in given)
        ):
            problems.append((f"{place}.given", "must be a list of strings"))
    return problems


def find_problems(resource: dict[str, Any]) -> list[tuple[str, str]]:
    """(relative place, reason) for each problem; an empty list means the resource is usable."""
    problems: list[tuple[str, str]] = []
    resource_type = resource["resourceType"]
    resource_id = resource.get("id")
    if resource_id is not None and (
        not isinstance(resource_id, str) or not ID_PATTERN.fullmatch(resource_id)
    ):
        problems.append((".id", f"{resource_id!r} is not a valid FHIR id (A-Z a-z 0-9 - . , 1-64)"))
    for element in REQUIRED_ELEMENTS.get(resource_type, ()):
        if element.endswith("[x]"):
            if not _has_choice(resource, element[:-3]):
                problems.append((f".{element}", "required element is missing"))
        elif resource.get(element) in (None, "", [], {}):
            problems.append((f".{element}", "required element is missing"))
    # Intersecting key sets runs in C: most resources carry one or two of these dates.
    for element in DATE_ELEMENTS.keys() & resource.keys():
        value = resource[element]
        if value is None:
            continue
        expected = DATE_ELEMENT_EXCEPTIONS.get((resource_type, element), DATE_ELEMENTS[element])
        if (
            not isinstance(value, str)
            or not expected.fullmatch(value)
            or (len(value) >= 10 and not _is_calendar_day(value))
        ):
            problems.append((f".{element}", f"{value!r} is not a valid FHIR date or time"))
    quantity = resource.get("valueQuantity")
    if isinstance(quantity, dict) and "value" in quantity:
        value = quantity["value"]
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append((".valueQuantity.value", f"{value!r} is not a number"))
    if resource_type == "Patient" and resource.get("name") is not None:
        problems.extend(_name_problems(resource["name"]))
    gender = resource.get("gender")
    if (
        resource_type == "Patient"
        and gender is not None
        and (not isinstance(gender, str) or gender not in _GENDERS)
    ):
        problems.append((".gender", f"{gender!r} is not one of male, female, other, unknown"))
    for element in ("subject", "patient"):
        value = resource.get(element)
        if value is None:
            continue
        if element == "subject" and resource_type in SUBJECT_LIST_TYPES:
            if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
                problems.append((".subject", "must be a list of Reference objects"))
        elif not isinstance(value, dict):
            problems.append((f".{element}", "must be a Reference object"))
    return problems
