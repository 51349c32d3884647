"""Allergies: what a person is allergic to, and which medicines that puts at risk.

Pure. The facts live in ``data/allergens.json`` (sourced; everyday allergens such as peanuts
carry no medical claim and are marked ``everyday``). The rule, in the order it is applied to
one active allergy and one medicine:

1. *contains*: the allergy names a catalog medicine that is the medicine or one of its
   ingredients (an amoxicillin allergy and amoxicillin/clavulanic acid) → ``avoid``; the
   catalog entry's sources back the composition;
2. *group*: the allergy names a group (penicillins, NSAIDs and aspirin, sulfonamide
   antibiotics...) that covers the medicine by catalog class, catalog id or ATC code prefix
   (penicillins are ATC J01C) → ``avoid``. An allergy to one member counts for the group only
   where a source says so (``member_allergy_means_group``: penicillins per the BNF, NSAIDs per
   the NHS);
3. *cross*: a sourced cross-reaction from the allergy's group to the medicine's group
   (penicillins → cephalosporins) → ``ask_first``, never ``avoid``: the sources say most
   people tolerate them.

Allergies whose clinical status is inactive or resolved, or whose verification is refuted or
entered-in-error, put nothing at risk.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

from pydantic import Field, ValidationInfo, model_validator

from healthspace.knowledge.citations import Frozen, Names, Source
from healthspace.terminology.medicines import (
    Medicine,
    MedicineCatalog,
    find_medicine,
    load_medicine_catalog,
    name_tokens,
    normalise_name,
)

Level = Literal["avoid", "ask_first"]
Kind = Literal["contains", "group", "cross"]
Category = Literal["medication", "food", "environment", "biologic"]
Resource = dict[str, Any]

_INACTIVE_CLINICAL = frozenset({"inactive", "resolved"})
_NOT_TRUE = frozenset({"refuted", "entered-in-error"})
# Words around the allergen in a record's wording ("Allergy to peanuts", "Latex allergy").
_FRAME_WORDS = frozenset(
    {"allergy", "allergies", "allergic", "to", "allergie", "allergique", "a", "au", "aux"}
    | {"intolerance", "hypersensitivity", "hypersensibilite", "reaction"}
)


class AllergenCode(Frozen):
    system: str = Field(min_length=1)
    code: str = Field(min_length=1)
    display: str = Field(min_length=1)


class Covers(Frozen):
    """Which catalog medicines an allergen group covers."""

    classes: tuple[str, ...] = ()
    medicines: tuple[str, ...] = ()
    atc_prefixes: tuple[str, ...] = ()


class NameLists(Frozen):
    en: tuple[str, ...] = Field(min_length=1)
    fr: tuple[str, ...] = Field(min_length=1)


class Allergen(Frozen):
    """Something a person can be allergic to, with the names they may use for it."""

    id: str = Field(pattern=r"^[a-z0-9]+(?:_[a-z0-9]+)*$")
    category: Category
    label: Names
    names: NameLists
    covers: Covers = Covers()
    member_allergy_means_group: bool = False
    codes: tuple[AllergenCode, ...] = ()
    sources: tuple[str, ...] = ()
    everyday: bool = False
    note: str | None = None

    @model_validator(mode="after")
    def _sourced_or_everyday(self) -> Allergen:
        if not self.everyday and not self.sources:
            raise ValueError(f"{self.id}: a medical allergen needs sources (or everyday: true)")
        if self.everyday and (self.covers != Covers() or self.member_allergy_means_group):
            raise ValueError(f"{self.id}: an everyday allergen cannot cover medicines")
        return self


class CrossReaction(Frozen):
    id: str = Field(min_length=1)
    allergen: str
    group: str
    level: Literal["ask_first"]
    reason: Names
    sources: tuple[str, ...] = Field(min_length=1)


class AllergenFile(Frozen):
    version: str = Field(min_length=1)
    comment: str = ""
    sources: Mapping[str, Source]
    allergens: tuple[Allergen, ...]
    cross_reactions: tuple[CrossReaction, ...] = ()

    @model_validator(mode="after")
    def _references_resolve(self, info: ValidationInfo) -> AllergenFile:
        ids = {a.id for a in self.allergens}
        if len(ids) != len(self.allergens):
            raise ValueError("duplicate allergen ids")
        names: dict[str, str] = {}
        for allergen in self.allergens:
            missing = [s for s in allergen.sources if s not in self.sources]
            if missing:
                raise ValueError(f"{allergen.id}: undefined source ids {missing}")
            for name in (*allergen.names.en, *allergen.names.fr):
                key = normalise_name(name)
                if not key:
                    raise ValueError(f"{allergen.id}: the name {name!r} has no letters")
                other = names.setdefault(key, allergen.id)
                if other != allergen.id:
                    raise ValueError(f"the name {name!r} is both {other} and {allergen.id}")
        for cross in self.cross_reactions:
            if cross.allergen not in ids or cross.group not in ids:
                raise ValueError(f"{cross.id}: unknown allergen ids")
            missing = [s for s in cross.sources if s not in self.sources]
            if missing:
                raise ValueError(f"{cross.id}: undefined source ids {missing}")
        catalog = (info.context or {}).get("catalog")
        if isinstance(catalog, MedicineCatalog):
            known = {m.id for m in catalog.medicines}
            for allergen in self.allergens:
                unknown = [c for c in allergen.covers.classes if c not in catalog.classes]
                unknown += [m for m in allergen.covers.medicines if m not in known]
                if unknown:
                    raise ValueError(f"{allergen.id}: not in the medicine catalog: {unknown}")
        return self

    def allergen(self, allergen_id: str) -> Allergen:
        return next(a for a in self.allergens if a.id == allergen_id)


@cache
def load_allergens() -> AllergenFile:
    """The allergen data shipped with Healthspace, validated against the medicine catalog."""
    text = resources.files("healthspace.patient").joinpath("data/allergens.json").read_text("utf-8")
    return AllergenFile.model_validate(
        json.loads(text), context={"catalog": load_medicine_catalog()}
    )


@cache
def _name_index() -> dict[str, Allergen]:
    return {
        normalise_name(name): allergen
        for allergen in load_allergens().allergens
        for name in (*allergen.names.en, *allergen.names.fr)
    }


def find_allergen(name: str) -> Allergen | None:
    """The allergen a name refers to ("penicillin", "pénicillines", "sulfa", "peanuts")."""
    return _name_index().get(normalise_name(name))


def _ingredient_ids(medicine: Medicine) -> frozenset[str]:
    found = {medicine.id}
    catalog = load_medicine_catalog()
    for component_id in medicine.components:
        component = catalog.medicine(component_id)
        if component is not None:
            found |= _ingredient_ids(component)
    return frozenset(found)


def covers(allergen: Allergen, medicine: Medicine) -> bool:
    """Whether the group covers the medicine, itself or through a component."""
    catalog = load_medicine_catalog()
    for medicine_id in _ingredient_ids(medicine):
        item = catalog.medicine(medicine_id)
        if item is None:
            continue
        if item.id in allergen.covers.medicines:
            return True
        if set(item.classes) & set(allergen.covers.classes):
            return True
        if any(code.startswith(allergen.covers.atc_prefixes) for code in item.atc):
            return True
    return False


# --------------------------------------------------------------------------- the record


@dataclass(frozen=True)
class RecordAllergy:
    """One AllergyIntolerance, as the record writes it, with what it was recognised as."""

    ref: str
    text: str
    allergen: Allergen | None
    medicine: Medicine | None
    criticality: str | None
    reactions: tuple[str, ...]
    clinical_status: str | None
    verification_status: str | None
    category: tuple[str, ...]
    patient_reported: bool
    recorded: str | None

    @property
    def active(self) -> bool:
        """Whether it should still be taken into account."""
        return (
            self.clinical_status not in _INACTIVE_CLINICAL
            and self.verification_status not in _NOT_TRUE
        )

    def groups(self) -> tuple[Allergen, ...]:
        """The medicine groups this allergy counts for (see the module's rule 2)."""
        found: list[Allergen] = []
        if self.allergen is not None and self.allergen.category == "medication":
            found.append(self.allergen)
        if self.medicine is not None:
            found += [
                a
                for a in load_allergens().allergens
                if a.member_allergy_means_group and covers(a, self.medicine)
            ]
        return tuple(dict.fromkeys(found))


def _status(concept: object) -> str | None:
    if isinstance(concept, dict):
        for coding in concept.get("coding") or []:
            if isinstance(coding, dict) and isinstance(coding.get("code"), str):
                return str(coding["code"])
        if isinstance(concept.get("text"), str):
            return str(concept["text"]).casefold()
    return None


def _texts(concept: object) -> list[str]:
    if not isinstance(concept, dict):
        return []
    texts = [concept.get("text")]
    texts += [c.get("display") for c in concept.get("coding") or [] if isinstance(c, dict)]
    return [t for t in dict.fromkeys(texts) if isinstance(t, str) and t.strip()]


def recognise(text: str) -> tuple[Allergen | None, Medicine | None]:
    """The allergen or catalog medicine a wording names ("Allergy to peanuts", "Pénicillines")."""
    words = [w for w in name_tokens(text) if w not in _FRAME_WORDS]
    for size in range(len(words), 0, -1):
        for start in range(len(words) - size + 1):
            span = " ".join(words[start : start + size])
            allergen = find_allergen(span)
            if allergen is not None:
                return allergen, None
            medicine = find_medicine(span)
            if medicine is not None:
                return None, medicine
    return None, None


def _by_code(concept: object) -> Allergen | None:
    if not isinstance(concept, dict):
        return None
    for coding in concept.get("coding") or []:
        if not isinstance(coding, dict):
            continue
        for allergen in load_allergens().allergens:
            if any(
                c.system == coding.get("system") and c.code == coding.get("code")
                for c in allergen.codes
            ):
                return allergen
    return None


def read_allergy(resource: Resource, patient_reported: bool) -> RecordAllergy | None:
    """An AllergyIntolerance read for display and checks; None when entered in error."""
    verification = _status(resource.get("verificationStatus"))
    if verification == "entered-in-error":
        return None
    concept = resource.get("code")
    texts = _texts(concept)
    allergen, medicine = _by_code(concept), None
    if allergen is None:
        for text in texts:
            allergen, medicine = recognise(text)
            if allergen or medicine:
                break
    reactions: list[str] = []
    for reaction in resource.get("reaction") or []:
        if isinstance(reaction, dict):
            for manifestation in reaction.get("manifestation") or []:
                reactions += _texts(manifestation)[:1]
    category = resource.get("category")
    return RecordAllergy(
        ref=f"AllergyIntolerance/{resource.get('id')}",
        text=texts[0] if texts else "?",
        allergen=allergen,
        medicine=medicine,
        criticality=resource.get("criticality")
        if isinstance(resource.get("criticality"), str)
        else None,
        reactions=tuple(dict.fromkeys(reactions)),
        clinical_status=_status(resource.get("clinicalStatus")),
        verification_status=verification,
        category=tuple(c for c in category if isinstance(c, str))
        if isinstance(category, list)
        else (),
        patient_reported=patient_reported,
        recorded=resource.get("recordedDate")
        if isinstance(resource.get("recordedDate"), str)
        else None,
    )


# --------------------------------------------------------------------------- conflicts


@dataclass(frozen=True)
class AllergyConflict:
    """Evidence that a medicine may be unsafe for someone with this allergy."""

    allergy: RecordAllergy
    medicine: Medicine
    level: Level
    kind: Kind
    # What links them: the ingredient (contains), or the group (group, cross).
    ingredient: Medicine | None
    group: Allergen | None
    reason: Names | None
    sources: tuple[Source, ...]


def find_allergy_conflicts(
    medicine: Medicine, allergies: Iterable[RecordAllergy]
) -> list[AllergyConflict]:
    """Every active allergy that puts ``medicine`` at risk, ``avoid`` before ``ask_first``."""
    data = load_allergens()
    catalog = load_medicine_catalog()
    found: list[AllergyConflict] = []
    for allergy in allergies:
        if not allergy.active:
            continue
        conflict = _contains(medicine, allergy, catalog) or _group(medicine, allergy, data)
        conflict = conflict or _cross(medicine, allergy, data)
        if conflict is not None:
            found.append(conflict)
    found.sort(key=lambda c: c.level != "avoid")
    return found


def _contains(
    medicine: Medicine, allergy: RecordAllergy, catalog: MedicineCatalog
) -> AllergyConflict | None:
    named = allergy.medicine
    if named is None or not _ingredient_ids(named) <= _ingredient_ids(medicine):
        return None
    sources = tuple(catalog.sources[s] for s in medicine.sources if s in catalog.sources)
    return AllergyConflict(allergy, medicine, "avoid", "contains", named, None, None, sources)


def _group(
    medicine: Medicine, allergy: RecordAllergy, data: AllergenFile
) -> AllergyConflict | None:
    for group in allergy.groups():
        if covers(group, medicine):
            sources = tuple(data.sources[s] for s in group.sources)
            return AllergyConflict(allergy, medicine, "avoid", "group", None, group, None, sources)
    return None


def _cross(
    medicine: Medicine, allergy: RecordAllergy, data: AllergenFile
) -> AllergyConflict | None:
    groups = {g.id for g in allergy.groups()}
    for cross in data.cross_reactions:
        target = data.allergen(cross.group)
        if cross.allergen in groups and covers(target, medicine):
            sources = tuple(data.sources[s] for s in cross.sources)
            return AllergyConflict(
                allergy, medicine, cross.level, "cross", None, target, cross.reason, sources
            )
    return None
