"""The LOINC lab catalog: bilingual names, UCUM units, conversions and sourced reference ranges.

The facts live in ``data/loinc_labs.json`` (its ``conventions`` field says how units and ranges
are chosen); this module validates them and offers pure look-ups over them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import Field, model_validator

from healthspace.errors import HealthspaceError
from healthspace.knowledge.citations import Frozen, Names, Source
from healthspace.knowledge.folding import fold

Sex = Literal["any", "female", "male"]
Group = Literal[
    "chemistry",
    "haematology",
    "lipids",
    "thyroid",
    "liver",
    "kidney",
    "diabetes",
    "urine",
    "coagulation",
    "vitamins",
    "inflammation",
    "hormones",
    "tumour_markers",
    "electrolytes",
    "iron",
    "cardiac",
    "blood_gas",
    "immunology",
]

_LOINC_CODE = re.compile(r"^\d{1,7}-\d$")


class UnknownUnitError(HealthspaceError, ValueError):
    """No conversion is known between two units for a lab test."""

    http_status = 422

    def __init__(self, lab: LabTest, from_unit: str, to_unit: str) -> None:
        self.code = lab.code
        self.from_unit = from_unit
        self.to_unit = to_unit
        known = ", ".join(known_units(lab)) or "none (this result has no unit)"
        super().__init__(
            f"Cannot convert {lab.name.en} (LOINC {lab.code}) from '{from_unit}' to '{to_unit}': "
            f"no conversion is known. Check the unit printed on the report; known units: {known}."
        )


class Aliases(Frozen):
    en: tuple[str, ...] = ()
    fr: tuple[str, ...] = ()


class Conversion(Frozen):
    """Multiply a value in ``unit`` by ``factor`` to get the lab's default unit."""

    unit: str = Field(min_length=1)
    factor: float = Field(gt=0)


class Range(Frozen):
    """A reference interval for one population; ages in years, ``age_max`` exclusive."""

    sex: Sex = "any"
    age_min: float | None = None
    age_max: float | None = None
    low: float | None = None
    high: float | None = None
    unit: str = Field(min_length=1)
    critical_low: float | None = None
    critical_high: float | None = None
    source: str = Field(min_length=1)
    note: str | None = None

    @model_validator(mode="after")
    def _bounds_are_ordered(self) -> Range:
        if self.low is None and self.high is None:
            raise ValueError("a range needs a low or a high bound")
        if self.low is not None and self.high is not None and self.low >= self.high:
            raise ValueError(f"low {self.low} is not below high {self.high}")
        if self.age_min is not None and self.age_max is not None and self.age_min >= self.age_max:
            raise ValueError(f"age_min {self.age_min} is not below age_max {self.age_max}")
        return self


class LabTest(Frozen):
    code: str = Field(pattern=_LOINC_CODE.pattern)
    name: Names
    aliases: Aliases = Aliases()
    group: Group
    specimen: str = Field(min_length=1)
    unit: str | None
    molar_mass: float | None = Field(default=None, gt=0)
    conversions: tuple[Conversion, ...] = ()
    ranges: tuple[Range, ...] = ()
    sources: tuple[str, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _ranges_cite_lab_sources(self) -> LabTest:
        for item in self.ranges:
            if item.source not in self.sources:
                raise ValueError(
                    f"{self.code}: range source {item.source!r} is not in the lab's sources"
                )
        return self


class LabCatalog(Frozen):
    version: str = Field(min_length=1)
    conventions: str = Field(min_length=1)
    unit_aliases: Mapping[str, str] = Field(default_factory=dict)
    sources: Mapping[str, Source]
    labs: tuple[LabTest, ...]

    @model_validator(mode="after")
    def _codes_unique_and_sources_defined(self) -> LabCatalog:
        seen: set[str] = set()
        for lab in self.labs:
            if lab.code in seen:
                raise ValueError(f"duplicate LOINC code {lab.code}")
            seen.add(lab.code)
            missing = [s for s in lab.sources if s not in self.sources]
            if missing:
                raise ValueError(f"{lab.code}: undefined source ids {missing}")
        return self

    def lab(self, code: str) -> LabTest | None:
        """The lab with this exact LOINC code, if the catalog has it."""
        return _code_index(self).get(code)


@cache
def load_lab_catalog() -> LabCatalog:
    """The catalog shipped with Healthspace, read once and validated."""
    text = (
        resources.files("healthspace.terminology")
        .joinpath("data/loinc_labs.json")
        .read_text("utf-8")
    )
    return LabCatalog.model_validate(json.loads(text))


def normalise_name(text: str) -> str:
    """The matching key of a test name: case-, accent-, space- and punctuation-insensitive.

    ``%`` and ``#`` are kept because reports tell a share from a count by them.
    """
    return "".join(ch for ch in fold(text) if ch.isalnum() or ch in "%#")


def name_keys(lab: LabTest) -> list[str]:
    """Every name and alias of a lab, as matching keys."""
    texts = [lab.name.en, lab.name.fr, *lab.aliases.en, *lab.aliases.fr]
    return [key for key in (normalise_name(t) for t in texts) if key]


def _code_index(catalog: LabCatalog) -> dict[str, LabTest]:
    if catalog is load_lab_catalog():
        return _default_code_index()
    return {lab.code: lab for lab in catalog.labs}


@cache
def _default_code_index() -> dict[str, LabTest]:
    return {lab.code: lab for lab in load_lab_catalog().labs}


def _build_name_index(catalog: LabCatalog) -> dict[str, LabTest]:
    index: dict[str, LabTest] = {}
    for lab in catalog.labs:
        for key in name_keys(lab):
            index.setdefault(key, lab)
    return index


@cache
def _default_name_index() -> dict[str, LabTest]:
    return _build_name_index(load_lab_catalog())


def find_lab(code_or_name: str, catalog: LabCatalog | None = None) -> LabTest | None:
    """The lab a LOINC code, a name or an alias printed on a report refers to, or None."""
    catalog = catalog or load_lab_catalog()
    query = code_or_name.strip()
    if _LOINC_CODE.match(query):
        return catalog.lab(query)
    key = normalise_name(query)
    if not key:
        return None
    index = _default_name_index() if catalog is load_lab_catalog() else _build_name_index(catalog)
    return index.get(key)


def canonical_unit(unit: str, catalog: LabCatalog | None = None) -> str:
    """The UCUM code for a unit as printed (``µmol/l``, ``mUI/L``, ``10^9/L``...)."""
    catalog = catalog or load_lab_catalog()
    compact = unit.strip()
    if compact in catalog.unit_aliases:
        return catalog.unit_aliases[compact]
    compact = compact.replace("µ", "u").replace("μ", "u").replace("²", "2").replace("³", "3")
    compact = re.sub(r"\s+", "", compact.replace("^", "*"))
    compact = re.sub(r"^[x×]\s*(?=10\*)", "", compact)
    return catalog.unit_aliases.get(compact, compact)


def known_units(lab: LabTest) -> list[str]:
    """The units a lab's values can be given in: its default unit, then its conversions."""
    units = [lab.unit] if lab.unit is not None else []
    return units + [c.unit for c in lab.conversions]


def _factor_to_default(lab: LabTest, unit: str, catalog: LabCatalog) -> float | None:
    if lab.unit is None:
        return None
    # UCUM is case-sensitive, but within one test no two known units differ only by case
    # (tests check it), so a report's "mmol/l" can match "mmol/L" safely here.
    wanted = canonical_unit(unit, catalog).casefold()
    if wanted == lab.unit.casefold():
        return 1.0
    for conversion in lab.conversions:
        if conversion.unit.casefold() == wanted:
            return conversion.factor
    return None


def convert(
    value: float, from_unit: str, to_unit: str, lab: LabTest, catalog: LabCatalog | None = None
) -> float:
    """``value`` of ``lab`` given in ``from_unit``, expressed in ``to_unit``."""
    catalog = catalog or load_lab_catalog()
    to_default = _factor_to_default(lab, from_unit, catalog)
    from_default = _factor_to_default(lab, to_unit, catalog)
    if to_default is None or from_default is None:
        raise UnknownUnitError(lab, from_unit, to_unit)
    return value * to_default / from_default


def _applies(item: Range, sex: Sex, age_years: float | None) -> bool:
    if item.sex != "any" and item.sex != sex:
        return False
    if age_years is None:
        return item.age_min is None and item.age_max is None
    if item.age_min is not None and age_years < item.age_min:
        return False
    return item.age_max is None or age_years < item.age_max


def _specificity(item: Range) -> int:
    return (2 if item.sex != "any" else 0) + (item.age_min is not None) + (item.age_max is not None)


def reference_range(lab: LabTest, sex: Sex, age_years: float | None) -> Range | None:
    """The most specific range of ``lab`` for this person, or None when no source covers them.

    A sex-specific range beats one for any sex, a bounded age band beats an open one. With an
    unknown age only ranges without age bounds apply; with sex ``"any"`` only ranges for any sex.
    """
    matching = [item for item in lab.ranges if _applies(item, sex, age_years)]
    if not matching:
        return None
    return max(matching, key=_specificity)
