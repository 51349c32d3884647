"""Strict checks of what the record relies on, fast enough for the import's hot path.

Full-schema validation of every element is too slow to run on each import (about 1,000
resources per second); these checks cover what later views read: type, id, dates, required
elements of clinical resources, numbers in quantities.
"""

from __future__ import annotations

from typing import Any

from healthspace.ingest.fhir_model import DATE_ELEMENTS, ID_PATTERN, REQUIRED_ELEMENTS

_GENDERS = frozenset({"male", "female", "other", "unknown"})


def _has_choice(resource: dict[str, Any], stem: str) -> bool:
    """Whether a choice element such as ``medication[x]`` is present in any of its types."""
    return any(key.startswith(stem) and key[len(stem) : len(stem) + 1].isupper() for key in resource)


def find_problems(resource: dict[str, Any]) -> list[tuple[str, str]]:
    """(relative place, reason) for each problem; an empty list means the resource is usable."""
    problems: list[tuple[str, str]] = []
    resource_id = resource.get("id")
    if resource_id is not None and (
        not isinstance(resource_id, str) or not ID_PATTERN.fullmatch(resource_id)
    ):
        problems.append((".id", f"{resource_id!r} is not a valid FHIR id (A-Z a-z 0-9 - . , 1-64)"))
    for element in REQUIRED_ELEMENTS.get(resource["resourceType"], ()):
        if element.endswith("[x]"):
            if not _has_choice(resource, element[:-3]):
                problems.append((f".{element}", "required element is missing"))
        elif resource.get(element) in (None, "", [], {}):
            problems.append((f".{element}", "required element is missing"))
    for element, pattern in DATE_ELEMENTS.items():
        value = resource.get(element)
        if value is not None and (not isinstance(value, str) or not pattern.fullmatch(value)):
            problems.append((f".{element}", f"{value!r} is not a valid FHIR date or time"))
    quantity = resource.get("valueQuantity")
    if isinstance(quantity, dict) and "value" in quantity:
        value = quantity["value"]
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append((".valueQuantity.value", f"{value!r} is not a number"))
    gender = resource.get("gender")
    if resource["resourceType"] == "Patient" and gender is not None and gender not in _GENDERS:
        problems.append((".gender", f"{gender!r} is not one of male, female, other, unknown"))
    for element in ("subject", "patient"):
        value = resource.get(element)
        if value is not None and not isinstance(value, dict):
            problems.append((f".{element}", "must be a Reference object"))
    return problems
