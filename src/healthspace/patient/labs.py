"""A person's lab results as a patient reads them: one unit per test, a range, a flag, a trend.

Pure functions over decoded FHIR R4 dicts (no I/O): the service reads the vault and calls
``lab_results``. Each result says where its range came from (the lab's own, printed on the
report, or Healthspace's sourced one for the person's sex and age on the day of the test),
keeps the value as the lab printed it when it had to be converted, and carries the record
reference it rests on, so every number shown can be traced to the resource it came from.

Trends compare a result with the previous result of the same test in the same unit. A change
of at most ``TREND_TOLERANCE`` (5 %) of the earlier value is called stable: that is below the
day-to-day variation (analytical plus within-person) of most common tests, so an arrow only
says the number moved by more than 5 %, never that the change matters for health.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any, Literal

from healthspace.knowledge.citations import Names
from healthspace.terminology.labs import (
    LabCatalog,
    LabTest,
    Range,
    Sex,
    UnknownUnitError,
    canonical_unit,
    convert,
    known_units,
    load_lab_catalog,
    reference_range,
)

Flag = Literal["low", "normal", "high", "critical"]
Direction = Literal["rising", "falling", "stable"]
RangeSource = Literal["lab", "healthspace"]

TREND_TOLERANCE = 0.05
# Converted values keep four significant digits: more than any lab prints, and no float noise
# such as 118.00000000000001 mg/dL for 1.18 g/L.
SIGNIFICANT_DIGITS = 4

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
_INTERPRETATION_SYSTEMS = {
    "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
    "http://hl7.org/fhir/v2/0078",
    "http://terminology.hl7.org/CodeSystem/v2-0078",
}
# HL7 v3 ObservationInterpretation: HH/LL critical high/low, AA critical abnormal.
_CRITICAL_CODES = {"HH", "LL", "AA"}
_HIGH_CODES = {"H", "HU", "H>", ">"}
_LOW_CODES = {"L", "LU", "L<", "<"}
_NORMAL_CODES = {"N"}
# DiagnosticReport categories (HL7 v2 table 0074) that are laboratory sections; a report of
# another kind (imaging, cardiology) links measurements that are not lab results.
_LAB_REPORT_CATEGORIES = {
    "lab",
    "laboratory",
    "ch",  # chemistry
    "hm",  # haematology
    "mb",  # microbiology
    "mcb",  # mycobacteriology
    "sr",  # serology
    "imm",  # immunology
    "blb",  # blood bank
    "cp",  # cytopathology
    "sp",  # surgical pathology
    "tx",  # toxicology
    "vr",  # virology
    "hla",  # tissue typing
    "cg",  # cytogenetics
    "urn",  # urinalysis
    "osl",  # outside lab
}
_ANNOTATION = re.compile(r"\{[^}]*\}")


@dataclass(frozen=True)
class PersonFacts:
    """What choosing a reference range and an emergency number needs to know of the person."""

    sex: Sex = "any"
    birth_date: date | None = None
    country: str | None = None

    def age_on(self, day: date | None) -> float | None:
        """Age in years (with its fraction) on ``day``, as the catalog's age bands expect."""
        if self.birth_date is None or day is None or day < self.birth_date:
            return None
        return (day - self.birth_date).days / 365.2425


@dataclass(frozen=True)
class Original:
    """The value and unit as the lab printed them, kept when Healthspace converted them."""

    value: float
    unit: str | None

    def as_json(self) -> dict[str, Any]:
        return {"value": self.value, "unit": self.unit}


@dataclass(frozen=True)
class Trend:
    """How a result moved since the previous result of the same test, in the same unit."""

    direction: Direction
    change: float
    change_percent: float | None
    previous_value: float
    previous_date: str | None
    previous_resource: str
    date: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "direction": self.direction,
            "change": self.change,
            "change_percent": self.change_percent,
            "previous": {
                "value": self.previous_value,
                "date": self.previous_date,
                "resource": self.previous_resource,
            },
            "period": {"start": self.previous_date, "end": self.date},
        }


@dataclass(frozen=True)
class LabResult:
    """One result. ``value`` is a number, a text (a culture, a titre) or None with a reason."""

    code: str
    name: Names
    value: float | str | None
    unit: str | None
    resource: str
    date: str | None = None
    at: datetime | None = None
    low: float | None = None
    high: float | None = None
    flag: Flag | None = None
    range_source: RangeSource | None = None
    # The catalog source id of a Healthspace range, so an explanation can cite it.
    range_citation: str | None = None
    original: Original | None = None
    comparator: str | None = None
    absent_reason: str | None = None
    interpretation: str | None = None
    trend: Trend | None = None
    lab: LabTest | None = None

    @property
    def trendable(self) -> bool:
        """A plain number (not "< 0.5"): only these can be compared with each other."""
        return isinstance(self.value, float) and self.comparator is None

    def as_json(self, lang: str) -> dict[str, Any]:
        """The DESIGN.md row, plus where the range came from and the record reference."""
        return {
            "code": self.code,
            "name": self.name.fr if lang == "fr" else self.name.en,
            "value": self.value,
            "unit": self.unit,
            "low": self.low,
            "high": self.high,
            "flag": self.flag,
            "date": self.date,
            "trend": self.trend.as_json() if self.trend else None,
            "original": self.original.as_json() if self.original else None,
            "range_source": self.range_source,
            "resource": self.resource,
            "comparator": self.comparator,
            "absent_reason": self.absent_reason,
            "interpretation": self.interpretation,
        }


# --- reading FHIR --------------------------------------------------------------------------


def person_facts(patient: Mapping[str, Any] | None) -> PersonFacts:
    """Sex, birth date and country (ISO 3166 alpha-2, from the home address) of a Patient."""
    if not patient:
        return PersonFacts()
    gender = patient.get("gender")
    sex: Sex = gender if gender in ("female", "male") else "any"
    birth = _parse_date(patient.get("birthDate"))
    return PersonFacts(sex, birth, _country(patient.get("address")))


def _country(addresses: Any) -> str | None:
    if not isinstance(addresses, list):
        return None
    ordered = sorted(
        (a for a in addresses if isinstance(a, dict)), key=lambda a: a.get("use") != "home"
    )
    for address in ordered:
        country = str(address.get("country") or "").strip()
        if len(country) == 2 and country.isalpha():
            return country.upper()
    return None


def _parse_date(text: Any) -> date | None:
    moment = parse_moment(text)
    return moment.date() if moment else None


def parse_moment(text: Any) -> datetime | None:
    """A FHIR date or dateTime ("2024", "2024-05", "2024-05-10T08:25:00+02:00"), timezone-aware.

    A partial date stands for its first day; a date without a zone is taken as UTC, which is
    enough to order results of one person.
    """
    if not isinstance(text, str) or not text:
        return None
    value = text.strip().replace("Z", "+00:00")
    if re.fullmatch(r"\d{4}", value):
        value += "-01-01"
    elif re.fullmatch(r"\d{4}-\d{2}", value):
        value += "-01"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _reference_key(reference: Any) -> str | None:
    """ "Observation/abc" from a relative or absolute reference, ignoring a version suffix."""
    if not isinstance(reference, dict) or not isinstance(reference.get("reference"), str):
        return None
    parts = reference["reference"].split("/_history/")[0].rstrip("/").split("/")
    return "/".join(parts[-2:]) if len(parts) >= 2 else None


def _codes(concept: Any) -> list[dict[str, Any]]:
    if not isinstance(concept, dict):
        return []
    return [c for c in concept.get("coding", []) if isinstance(c, dict)]


def _concept_text(concept: Any) -> str | None:
    if not isinstance(concept, dict):
        return None
    if isinstance(concept.get("text"), str) and concept["text"].strip():
        return str(concept["text"]).strip()
    for coding in _codes(concept):
        for key in ("display", "code"):
            if isinstance(coding.get(key), str) and coding[key].strip():
                return str(coding[key]).strip()
    return None


def _is_lab_report(report: Mapping[str, Any]) -> bool:
    categories = report.get("category") or []
    if isinstance(categories, dict):  # FHIR STU3 had a single category
        categories = [categories]
    if not categories:
        return True
    return any(
        str(coding.get("code", "")).casefold() in _LAB_REPORT_CATEGORIES
        for concept in categories
        for coding in _codes(concept)
    )


def _has_laboratory_category(observation: Mapping[str, Any]) -> bool:
    return any(
        str(coding.get("code", "")).casefold() == "laboratory"
        for concept in observation.get("category") or []
        for coding in _codes(concept)
    )


def _pick_code(concept: Any, catalog: LabCatalog) -> tuple[str | None, LabTest | None]:
    """The LOINC code of a concept the catalog knows, else its first LOINC code, else any."""
    codings = _codes(concept)
    loinc = [str(c["code"]) for c in codings if c.get("system") == LOINC and c.get("code")]
    for code in loinc:
        lab = catalog.lab(code)
        if lab is not None:
            return code, lab
    if loinc:
        return loinc[0], None
    first = next((str(c["code"]) for c in codings if c.get("code")), None)
    return first, None


def _interpretation(observation: Mapping[str, Any]) -> str | None:
    for concept in observation.get("interpretation") or []:
        for coding in _codes(concept):
            system = coding.get("system")
            if (system is None or system in _INTERPRETATION_SYSTEMS) and coding.get("code"):
                return str(coding["code"])
    return None


def _quantity_unit(quantity: Mapping[str, Any]) -> str | None:
    """The unit of a Quantity: its UCUM code when it has one, else the printed unit."""
    code = quantity.get("code")
    if isinstance(code, str) and code and quantity.get("system") in (UCUM, None):
        return code
    unit = quantity.get("unit")
    return unit if isinstance(unit, str) and unit else None


def _text_value(holder: Mapping[str, Any]) -> str | None:
    """A value[x] that is not a plain quantity, written as the lab would print it."""
    if isinstance(holder.get("valueString"), str):
        return str(holder["valueString"])
    if "valueCodeableConcept" in holder:
        return _concept_text(holder["valueCodeableConcept"])
    if isinstance(holder.get("valueBoolean"), bool):
        return "true" if holder["valueBoolean"] else "false"
    ratio = holder.get("valueRatio")
    if isinstance(ratio, dict):
        numerator = (ratio.get("numerator") or {}).get("value")
        denominator = (ratio.get("denominator") or {}).get("value")
        if numerator is not None and denominator is not None:
            return f"{_number_text(numerator)}:{_number_text(denominator)}"
    span = holder.get("valueRange")
    if isinstance(span, dict):
        ends = [(span.get(side) or {}).get("value") for side in ("low", "high")]
        return "-".join("" if end is None else _number_text(end) for end in ends)
    for key in ("valueTime", "valueDateTime"):
        if isinstance(holder.get(key), str):
            return str(holder[key])
    return None


def _number_text(value: Any) -> str:
    """A number as printed, without a trailing ".0"."""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


# --- units ---------------------------------------------------------------------------------


def round_significant(value: float, digits: int = SIGNIFICANT_DIGITS) -> float:
    """``value`` rounded to ``digits`` significant digits."""
    if value == 0 or not math.isfinite(value):
        return value
    decimals = digits - 1 - math.floor(math.log10(abs(value)))
    return round(value, max(decimals, 0)) if decimals > 0 else float(round(value, decimals))


def _without_annotations(unit: str) -> str:
    # UCUM annotations ("{1.73_m2}", "{creat}", "{nominal}") carry no meaning in unit algebra:
    # mL/min/{1.73_m2} is mL/min, and an annotation alone is the unit 1.
    stripped = _ANNOTATION.sub("", unit).replace("//", "/").rstrip("/")
    return stripped or "1"


def same_unit(first: str, second: str, catalog: LabCatalog | None = None) -> bool:
    """Whether two printed units are the same UCUM unit (spelling, case of "l", annotations)."""
    a, b = canonical_unit(first, catalog), canonical_unit(second, catalog)
    if a.casefold() == b.casefold():
        return True
    return _without_annotations(a).casefold() == _without_annotations(b).casefold()


def to_unit(
    value: float,
    from_unit: str,
    to: str,
    lab: LabTest | None,
    catalog: LabCatalog | None = None,
) -> float | None:
    """``value`` expressed in ``to``, or None when no conversion is known for this test."""
    if same_unit(from_unit, to, catalog):
        return value
    if lab is None:
        return None
    # Spelled with or without an annotation, a unit the catalog knows converts like it.
    source = next((k for k in known_units(lab) if same_unit(from_unit, k, catalog)), from_unit)
    target = next((k for k in known_units(lab) if same_unit(to, k, catalog)), to)
    try:
        return convert(value, source, target, lab, catalog)
    except UnknownUnitError:
        return None


def normalise_quantity(
    value: float, printed_unit: str | None, lab: LabTest | None, catalog: LabCatalog | None = None
) -> tuple[float, str | None, Original | None]:
    """The value in the catalog's default unit for ``lab`` when a conversion is known.

    Returns (value, UCUM unit, the original when the value or the unit shown changed). A unit
    with no known conversion is kept as printed (in UCUM spelling): results are never guessed.
    """
    if printed_unit is None:
        return value, None, None
    unit = canonical_unit(printed_unit, catalog)
    if lab is None or lab.unit is None:
        return value, unit, None
    converted = to_unit(value, unit, lab.unit, lab, catalog)
    if converted is None:
        return value, unit, None
    if unit.casefold() == lab.unit.casefold():
        return value, lab.unit, None
    if converted != value:
        converted = round_significant(converted)
    return converted, lab.unit, Original(value, printed_unit)


# --- ranges and flags ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Bounds:
    low: float | None
    high: float | None
    source: RangeSource
    citation: str | None = None
    critical_low: float | None = None
    critical_high: float | None = None


def _lab_bounds(
    observation: Mapping[str, Any],
    printed_unit: str | None,
    unit: str | None,
    lab: LabTest | None,
    catalog: LabCatalog,
) -> _Bounds | None:
    """The lab's own normal range, in the result's unit; None if absent or not convertible."""
    for item in observation.get("referenceRange") or []:
        if not isinstance(item, dict):
            continue
        kinds = [str(c.get("code", "")) for c in _codes(item.get("type"))]
        if kinds and "normal" not in kinds:
            continue
        bounds: list[float | None] = []
        for side in ("low", "high"):
            quantity = item.get(side)
            if not isinstance(quantity, dict) or not isinstance(quantity.get("value"), int | float):
                bounds.append(None)
                continue
            bound_unit = _quantity_unit(quantity) or printed_unit
            number = float(quantity["value"])
            if bound_unit is None or unit is None:
                converted: float | None = number if bound_unit == unit else None
            else:
                converted = to_unit(number, bound_unit, unit, lab, catalog)
                if converted is not None and converted != number:
                    converted = round_significant(converted)
            if converted is None:
                return None  # a bound we cannot compare with would mislead: use ours
            bounds.append(converted)
        if bounds[0] is not None or bounds[1] is not None:
            return _Bounds(bounds[0], bounds[1], "lab")
    return None


def _our_bounds(
    lab: LabTest | None,
    unit: str | None,
    person: PersonFacts,
    day: date | None,
    catalog: LabCatalog,
) -> _Bounds | None:
    """Healthspace's sourced range for the person's sex and age on the day of the result."""
    if lab is None or unit is None:
        return None
    chosen: Range | None = reference_range(lab, person.sex, person.age_on(day))
    if chosen is None:
        return None

    def inside(number: float | None) -> float | None:
        if number is None:
            return None
        converted = to_unit(number, chosen.unit, unit, lab, catalog)
        return None if converted is None else round_significant(converted)

    low, high = inside(chosen.low), inside(chosen.high)
    if (chosen.low is not None and low is None) or (chosen.high is not None and high is None):
        return None
    return _Bounds(
        low,
        high,
        "healthspace",
        chosen.source,
        inside(chosen.critical_low),
        inside(chosen.critical_high),
    )


def flag_value(
    value: float,
    low: float | None,
    high: float | None,
    *,
    comparator: str | None = None,
    interpretation: str | None = None,
    critical_low: float | None = None,
    critical_high: float | None = None,
) -> Flag | None:
    """low / normal / high against the range (bounds inclusive), critical first.

    Critical comes from the lab's interpretation (HH, LL, AA) or from sourced critical limits.
    A value printed with a comparator ("< 0.5") is flagged only when the bound decides it.
    Without a range, the lab's own H / L / N interpretation is used; else no flag.
    """
    if interpretation in _CRITICAL_CODES:
        return "critical"
    if comparator is None:
        if (critical_high is not None and value >= critical_high) or (
            critical_low is not None and value <= critical_low
        ):
            return "critical"
        if low is None and high is None:
            return _flag_from_interpretation(interpretation)
        if low is not None and value < low:
            return "low"
        if high is not None and value > high:
            return "high"
        return "normal"
    if low is None and high is None:
        return _flag_from_interpretation(interpretation)
    return _flag_bound(value, comparator, low, high)


def _flag_bound(
    value: float, comparator: str, low: float | None, high: float | None
) -> Flag | None:
    """The flag of "< value" or "> value" when every number it allows gets the same flag."""
    if comparator in ("<", "<="):
        if low is not None and (value <= low if comparator == "<" else value < low):
            return "low"
        if low is None and high is not None and value <= high:
            return "normal"
        return None
    if comparator in (">", ">="):
        if high is not None and (value >= high if comparator == ">" else value > high):
            return "high"
        if high is None and low is not None and value >= low:
            return "normal"
    return None


def _flag_from_interpretation(code: str | None) -> Flag | None:
    if code in _HIGH_CODES:
        return "high"
    if code in _LOW_CODES:
        return "low"
    if code in _NORMAL_CODES:
        return "normal"
    return None


# --- trends --------------------------------------------------------------------------------


def _decimals(value: float) -> int:
    text = repr(value)
    if "e" in text or "." not in text:
        return 0
    return len(text.split(".")[1].rstrip("0"))


def trend_between(earlier: LabResult, later: LabResult) -> Trend | None:
    """The movement from ``earlier`` to ``later``: both plain numbers in the same unit."""
    if not (earlier.trendable and later.trendable):
        return None
    if earlier.unit != later.unit:
        return None
    assert isinstance(earlier.value, float) and isinstance(later.value, float)
    before, after = earlier.value, later.value
    places = max(_decimals(before), _decimals(after))
    change = round(after - before, places)
    percent = round(change / abs(before) * 100, 1) if before else None
    direction: Direction
    if abs(change) <= TREND_TOLERANCE * abs(before):
        direction = "stable"
    else:
        direction = "rising" if change > 0 else "falling"
    return Trend(
        direction,
        change,
        percent,
        before,
        earlier.date,
        earlier.resource,
        later.date,
    )


def with_trends(results: Iterable[LabResult]) -> list[LabResult]:
    """Each result with its trend since the previous dated result of its test and unit."""
    by_code: dict[str, list[LabResult]] = defaultdict(list)
    for result in results:
        by_code[result.code].append(result)
    out: list[LabResult] = []
    for code in sorted(by_code):
        previous: dict[str | None, LabResult] = {}
        for result in sorted(by_code[code], key=_order):
            trend = None
            if result.trendable and result.at is not None:
                before = previous.get(result.unit)
                if before is not None:
                    trend = trend_between(before, result)
                previous[result.unit] = result
            out.append(replace(result, trend=trend))
    return out


_NO_DATE = datetime.min.replace(tzinfo=UTC)


def _order(result: LabResult) -> tuple[datetime, str]:
    return (result.at or _NO_DATE, result.resource)


# --- building results ----------------------------------------------------------------------


def lab_results(
    resources: Iterable[Mapping[str, Any]],
    person: PersonFacts,
    catalog: LabCatalog | None = None,
) -> list[LabResult]:
    """Every lab result among a person's resources, ordered by code then date, with trends.

    A resource is a lab result when it is an Observation of category laboratory, has a LOINC
    code the catalog knows, or is a result of a laboratory DiagnosticReport. Panels (an
    Observation that only groups others) are not results; results entered in error are left out.
    """
    catalog = catalog or load_lab_catalog()
    items = list(resources)
    linked = {
        key
        for report in items
        if report.get("resourceType") == "DiagnosticReport" and _is_lab_report(report)
        for key in (_reference_key(r) for r in report.get("result") or [])
        if key
    }
    found: list[LabResult] = []
    for observation in items:
        if observation.get("resourceType") != "Observation":
            continue
        if observation.get("status") == "entered-in-error":
            continue
        reference = f"Observation/{observation.get('id')}"
        code, lab = _pick_code(observation.get("code"), catalog)
        if code is None:
            continue
        if not (lab is not None or reference in linked or _has_laboratory_category(observation)):
            continue
        found.extend(_results_of(observation, code, lab, reference, person, catalog))
    return with_trends(found)


def _results_of(
    observation: Mapping[str, Any],
    code: str,
    lab: LabTest | None,
    reference: str,
    person: PersonFacts,
    catalog: LabCatalog,
) -> list[LabResult]:
    """The result an Observation holds, or one per valued component (a multi-part test)."""
    has_value = any(k.startswith("value") for k in observation)
    components = [c for c in observation.get("component") or [] if isinstance(c, dict)]
    if not has_value and "dataAbsentReason" not in observation:
        if observation.get("hasMember"):
            return []  # a panel: its members are results of their own
        valued = [c for c in components if any(k.startswith("value") for k in c)]
        if valued:
            results = []
            for component in valued:
                part, part_lab = _pick_code(component.get("code"), catalog)
                if part is not None:
                    results.append(
                        _result(observation, component, part, part_lab, reference, person, catalog)
                    )
            return results
    return [_result(observation, observation, code, lab, reference, person, catalog)]


def _name(lab: LabTest | None, concept: Any, code: str) -> Names:
    if lab is not None:
        return lab.name
    text = _concept_text(concept) or code
    return Names(en=text, fr=text)


def _result(
    observation: Mapping[str, Any],
    holder: Mapping[str, Any],
    code: str,
    lab: LabTest | None,
    reference: str,
    person: PersonFacts,
    catalog: LabCatalog,
) -> LabResult:
    """One LabResult from ``holder`` (the Observation itself or one of its components)."""
    when = (
        observation.get("effectiveDateTime")
        or observation.get("effectiveInstant")
        or (observation.get("effectivePeriod") or {}).get("start")
        or observation.get("issued")
    )
    at = parse_moment(when)
    base = LabResult(
        code=code,
        name=_name(lab, holder.get("code"), code),
        value=None,
        unit=None,
        resource=reference,
        date=when if isinstance(when, str) else None,
        at=at,
        interpretation=_interpretation(holder) or _interpretation(observation),
        lab=lab,
    )
    quantity = holder.get("valueQuantity")
    number = holder.get("valueInteger")
    if isinstance(quantity, dict) and isinstance(quantity.get("value"), int | float):
        printed = _quantity_unit(quantity)
        raw = float(quantity["value"])
        comparator = (
            quantity.get("comparator") if isinstance(quantity.get("comparator"), str) else None
        )
    elif isinstance(number, int) and not isinstance(number, bool):
        printed, raw, comparator = None, float(number), None
    else:
        text = _text_value(holder)
        if text is not None:
            return replace(base, value=text)
        reason = holder.get("dataAbsentReason") or observation.get("dataAbsentReason")
        return replace(base, absent_reason=_concept_text(reason))

    value, unit, original = normalise_quantity(raw, printed, lab, catalog)
    day = at.date() if at else None
    ours = _our_bounds(lab, unit, person, day, catalog)
    bounds = _lab_bounds(holder, printed, unit, lab, catalog) or ours
    critical_low = ours.critical_low if ours else None
    critical_high = ours.critical_high if ours else None
    low = bounds.low if bounds else None
    high = bounds.high if bounds else None
    return replace(
        base,
        value=value,
        unit=unit,
        original=original,
        comparator=comparator,
        low=low,
        high=high,
        range_source=bounds.source if bounds else None,
        range_citation=bounds.citation if bounds else None,
        flag=flag_value(
            value,
            low,
            high,
            comparator=comparator,
            interpretation=base.interpretation,
            critical_low=critical_low,
            critical_high=critical_high,
        ),
    )


def latest(results: Iterable[LabResult]) -> LabResult | None:
    """The most recent result (undated results count as oldest)."""
    ordered = sorted(results, key=_order)
    return ordered[-1] if ordered else None


def first_comparable(results: Iterable[LabResult], last: LabResult) -> LabResult | None:
    """The earliest plain-number result in ``last``'s unit, to describe the whole period."""
    candidates = [r for r in results if r.trendable and r.unit == last.unit and r.at is not None]
    ordered = sorted(candidates, key=_order)
    return ordered[0] if ordered and ordered[0].resource != last.resource else None
