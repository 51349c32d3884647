"""Drug interactions: sourced rules between medicines or classes, checked over every pair.

The facts live in ``data/interactions.json`` (its ``comment`` says how severities follow the
ANSM thesaurus, the FDA labels and the ONC high-priority list). A rule joins two selectors: a
pharmacological class of the medicine catalog, one medicine, or a short list of medicines. A
class rule applies to every member of the class, and a fixed combination (paracetamol/codeine)
counts through its components, so a rule never has to name a product twice.

Finding is separate from showing (STYLE.md §2): ``find_interactions`` takes catalog ids, as a
person's medication list will supply them, and returns evidence (rule id, severity, sources);
``check_names`` resolves names typed by a person first and reports the ones it cannot place.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import combinations
from typing import Any, Literal

from pydantic import Field, ValidationInfo, model_validator

from healthspace.errors import NotFoundError
from healthspace.knowledge.citations import Frozen, Names, Source
from healthspace.terminology.medicines import (
    Medicine,
    MedicineCatalog,
    find_medicine,
    load_medicine_catalog,
    members_of,
)

Language = Literal["en", "fr"]
Severity = Literal["contraindicated", "major", "moderate", "minor"]
AnsmLevel = Literal[
    "Contre-indication", "Association déconseillée", "Précaution d'emploi", "A prendre en compte"
]
# Most severe first: the order results are listed in.
SEVERITIES: tuple[Severity, ...] = ("contraindicated", "major", "moderate", "minor")
_RANK = {severity: rank for rank, severity in enumerate(SEVERITIES)}
_SLUG = r"^[a-z0-9]+(?:_[a-z0-9]+)*$"
_RULE_ID = r"^[a-z0-9]+(?:__?[a-z0-9]+)*$"


class UnknownMedicineIdError(NotFoundError):
    """A caller passed a medicine id the catalog does not have (a bug in the caller, not input)."""

    def __init__(self, medicine_id: str) -> None:
        self.medicine_id = medicine_id
        super().__init__(
            f"Unknown medicine id {medicine_id!r}: it is not in the medicine catalog. "
            "Resolve names with find_medicine() before checking interactions."
        )


class ClassSelector(Frozen):
    """Every member of a catalog class (``{"class": "nsaid"}``)."""

    class_: str = Field(alias="class", pattern=_SLUG)


class MedicineSelector(Frozen):
    """One catalog medicine (``{"medicine": "warfarin"}``)."""

    medicine: str = Field(pattern=_SLUG)


class MedicinesSelector(Frozen):
    """A few medicines that a source groups but the catalog has no class for."""

    medicines: tuple[str, ...] = Field(min_length=2)


Selector = ClassSelector | MedicineSelector | MedicinesSelector


class InteractionRule(Frozen):
    """One sourced interaction between two selectors, in plain English and French."""

    id: str = Field(pattern=_RULE_ID)
    between: tuple[Selector, Selector]
    severity: Severity
    effect: Names
    advice: Names
    mechanism: Names | None = None
    sources: tuple[str, ...] = Field(min_length=1)
    ansm_level: AnsmLevel | None = None
    # Broader rules this one replaces when both match the same pair.
    supersedes: tuple[str, ...] = ()
    # For maintainers: why the severity differs from the ANSM level, a dose condition...
    note: str | None = None


class InteractionCatalog(Frozen):
    """The whole data file; validation needs the medicine catalog in its context."""

    version: str = Field(min_length=1)
    comment: str = ""
    severity_mapping: Mapping[AnsmLevel, Severity]
    sources: Mapping[str, Source]
    rules: tuple[InteractionRule, ...]

    @model_validator(mode="after")
    def _references_resolve(self, info: ValidationInfo) -> InteractionCatalog:
        ids = [rule.id for rule in self.rules]
        duplicates = sorted({rule_id for rule_id in ids if ids.count(rule_id) > 1})
        if duplicates:
            raise ValueError(f"duplicate rule ids {duplicates}")
        known_rules = set(ids)
        for rule in self.rules:
            missing = [s for s in rule.sources if s not in self.sources]
            if missing:
                raise ValueError(f"{rule.id}: undefined source ids {missing}")
            strangers = [r for r in rule.supersedes if r not in known_rules or r == rule.id]
            if strangers:
                raise ValueError(f"{rule.id}: supersedes unknown rules {strangers}")
            if rule.ansm_level is not None and rule.note is None:
                expected = self.severity_mapping.get(rule.ansm_level)
                if expected != rule.severity:
                    # A departure from the stated mapping must be explained, or it is a typo.
                    raise ValueError(
                        f"{rule.id}: severity {rule.severity} differs from the mapping of "
                        f"{rule.ansm_level!r} ({expected}) without a note saying why"
                    )
        catalog = (info.context or {}).get("catalog")
        if isinstance(catalog, MedicineCatalog):
            _check_selectors(self.rules, catalog)
        return self


def _check_selectors(rules: Iterable[InteractionRule], catalog: MedicineCatalog) -> None:
    medicine_ids = {m.id for m in catalog.medicines}
    for rule in rules:
        for selector in rule.between:
            if isinstance(selector, ClassSelector):
                if selector.class_ not in catalog.classes:
                    raise ValueError(f"{rule.id}: unknown medicine class {selector.class_!r}")
                continue
            named = (
                (selector.medicine,)
                if isinstance(selector, MedicineSelector)
                else selector.medicines
            )
            unknown = [m for m in named if m not in medicine_ids]
            if unknown:
                raise ValueError(f"{rule.id}: medicines not in the catalog {unknown}")


def parse_interaction_catalog(
    data: Any, catalog: MedicineCatalog | None = None
) -> InteractionCatalog:
    """Validate a decoded interactions file against ``catalog`` (the shipped one by default)."""
    catalog = catalog or load_medicine_catalog()
    return InteractionCatalog.model_validate(data, context={"catalog": catalog})


@cache
def load_interaction_catalog() -> InteractionCatalog:
    """The interaction rules shipped with Healthspace, read once and validated."""
    text = (
        resources.files("healthspace.knowledge")
        .joinpath("data/interactions.json")
        .read_text("utf-8")
    )
    return parse_interaction_catalog(json.loads(text))


class Interaction(Frozen):
    """One rule that applies to one pair of medicines, with its sources resolved."""

    drugs: tuple[str, str]  # catalog ids, in the order they were given
    rule: str
    severity: Severity
    effect: Names
    advice: Names
    mechanism: Names | None = None
    sources: tuple[Source, ...]
    ansm_level: AnsmLevel | None = None


@dataclass(frozen=True)
class PairIndex:
    """Every rule that applies to each unordered pair of catalog medicines."""

    rules_by_pair: Mapping[frozenset[str], tuple[InteractionRule, ...]]

    def rules_for(self, first: str, second: str) -> tuple[InteractionRule, ...]:
        """The rules for this pair, with rules superseded by another matching rule removed."""
        found = self.rules_by_pair.get(frozenset((first, second)), ())
        replaced = {old for rule in found for old in rule.supersedes}
        return tuple(rule for rule in found if rule.id not in replaced)


def _ingredients(medicine: Medicine, catalog: MedicineCatalog) -> frozenset[str]:
    """The medicine's own id and, for a combination, its components' (at any depth)."""
    found = {medicine.id}
    for component_id in medicine.components:
        component = catalog.medicine(component_id)
        if component is not None:
            found |= _ingredients(component, catalog)
    return frozenset(found)


def selector_members(
    selector: Selector,
    catalog: MedicineCatalog,
    ingredients: Mapping[str, frozenset[str]] | None = None,
) -> frozenset[str]:
    """The ids a selector covers, combinations included through their components."""
    if ingredients is None:
        ingredients = {m.id: _ingredients(m, catalog) for m in catalog.medicines}
    if isinstance(selector, ClassSelector):
        named = {m.id for m in members_of(selector.class_, catalog)}
    elif isinstance(selector, MedicineSelector):
        named = {selector.medicine}
    else:
        named = set(selector.medicines)
    return frozenset(m_id for m_id, parts in ingredients.items() if parts & named)


def build_pair_index(rules: InteractionCatalog, catalog: MedicineCatalog) -> PairIndex:
    """Expand every rule to the pairs of medicines it covers (a medicine never pairs itself)."""
    ingredients = {m.id: _ingredients(m, catalog) for m in catalog.medicines}
    found: dict[frozenset[str], list[InteractionRule]] = {}
    for rule in rules.rules:
        left, right = (selector_members(s, catalog, ingredients) for s in rule.between)
        pairs = {frozenset((a, b)) for a in left for b in right if a != b}
        for pair in pairs:
            found.setdefault(pair, []).append(rule)
    return PairIndex({pair: tuple(listed) for pair, listed in found.items()})


@cache
def _default_pair_index() -> PairIndex:
    return build_pair_index(load_interaction_catalog(), load_medicine_catalog())


def find_interactions(
    medicine_ids: Sequence[str],
    rules: InteractionCatalog | None = None,
    catalog: MedicineCatalog | None = None,
) -> list[Interaction]:
    """Every interaction among every pair of the given medicines, most severe first.

    One result per pair and rule; a medicine given twice is checked once. Pure: no I/O beyond
    the shipped data, so a person's medication list only has to supply the ids.
    """
    default_catalog = load_medicine_catalog()
    catalog = catalog or default_catalog
    if rules is None:
        rules = load_interaction_catalog()
    if rules is load_interaction_catalog() and catalog is default_catalog:
        index = _default_pair_index()
    else:
        index = build_pair_index(rules, catalog)
    known = {m.id for m in catalog.medicines}
    ids = list(dict.fromkeys(medicine_ids))
    for medicine_id in ids:
        if medicine_id not in known:
            raise UnknownMedicineIdError(medicine_id)
    found: list[tuple[tuple[int, int, int, str], Interaction]] = []
    for (i, first), (j, second) in combinations(enumerate(ids), 2):
        for rule in index.rules_for(first, second):
            interaction = Interaction(
                drugs=(first, second),
                rule=rule.id,
                severity=rule.severity,
                effect=rule.effect,
                advice=rule.advice,
                mechanism=rule.mechanism,
                sources=tuple(rules.sources[s] for s in rule.sources),
                ansm_level=rule.ansm_level,
            )
            found.append(((_RANK[rule.severity], i, j, rule.id), interaction))
    return [interaction for _, interaction in sorted(found, key=lambda item: item[0])]


@dataclass(frozen=True)
class RecognisedDrug:
    """A name as the person wrote it and the catalog medicine it was resolved to."""

    input: str
    medicine: Medicine


@dataclass(frozen=True)
class InteractionReport:
    """The answer to "do these medicines interact?" for names typed by a person."""

    lang: Language
    drugs: tuple[RecognisedDrug, ...]
    unknown: tuple[str, ...]
    interactions: tuple[Interaction, ...]

    def name_of(self, medicine_id: str) -> str:
        """The medicine's international name in the report's language."""
        medicine = next(d.medicine for d in self.drugs if d.medicine.id == medicine_id)
        return medicine.inn.fr if self.lang == "fr" else medicine.inn.en

    def as_json(self) -> dict[str, Any]:
        """The machine interface of DESIGN.md (``healthspace interactions --json``)."""
        return {
            "drugs": [
                {
                    "input": drug.input,
                    "name": self.name_of(drug.medicine.id),
                    "atc": drug.medicine.atc[0] if drug.medicine.atc else None,
                }
                for drug in self.drugs
            ],
            "unknown": list(self.unknown),
            "interactions": [
                {
                    "drugs": [self.name_of(i.drugs[0]), self.name_of(i.drugs[1])],
                    "severity": i.severity,
                    "effect": getattr(i.effect, self.lang),
                    "advice": getattr(i.advice, self.lang),
                    "sources": [source.model_dump(mode="json") for source in i.sources],
                }
                for i in self.interactions
            ],
        }


def check_names(names: Sequence[str], lang: Language = "en") -> InteractionReport:
    """Resolve INNs and brand names (French or US) and check every pair of what was recognised."""
    drugs: list[RecognisedDrug] = []
    unknown: list[str] = []
    for name in names:
        medicine = find_medicine(name)
        if medicine is None:
            unknown.append(name)
        else:
            drugs.append(RecognisedDrug(input=name, medicine=medicine))
    interactions = find_interactions([d.medicine.id for d in drugs])
    return InteractionReport(lang, tuple(drugs), tuple(unknown), tuple(interactions))
