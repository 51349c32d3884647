"""Medication review for the clinician: what in a person's current medicines deserves a second look.

Find, then show (STYLE.md §2): ``review_medicines`` is pure (a ``PersonContext`` in, findings
out); ``medication_review`` reads the record and shapes the answer. Each finding has a kind,
a severity (the interaction scale: contraindicated, major, moderate, minor), the medicines and
record items involved (``Type/id``), a plain explanation in English and French, what to review,
and its sources. Nothing here changes a dose: findings are for the clinician's judgement.

The kinds, each from data already curated elsewhere or from ``data/medication_review.json``:

* ``interaction``: every pair among the current medicines, through ``knowledge.interactions``;
* ``duplicate``: two current medicines sharing an ingredient, a fourth-level ATC group (not
  WHO's "other" groups) or a listed catalog class, except sourced legitimate combinations and
  pairs a same-class interaction rule already reports;
* ``allergy``: a current medicine against the active AllergyIntolerances
  (``patient.allergies``: contains, group, sourced cross-reaction);
* ``kidney``: the latest eGFR against label thresholds (the lowest threshold crossed per
  medicine); with no eGFR, the latest creatinine is shown for the medicines that have one;
* ``pregnancy``: an active pregnancy Condition or a recent positive hCG test against sourced
  pregnancy warnings;
* ``age``: the person's age from ``Patient.birthDate`` against sourced cautions for older people.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from importlib import resources
from itertools import combinations
from typing import Any, Literal

from pydantic import Field, model_validator

from healthspace.bootstrap import Healthspace
from healthspace.knowledge.citations import Frozen, Names, Source
from healthspace.knowledge.interactions import (
    SEVERITIES,
    Selector,
    Severity,
    find_interactions,
    load_interaction_catalog,
    selector_members,
)
from healthspace.patient.allergies import AllergyConflict, RecordAllergy, find_allergy_conflicts
from healthspace.patient.lab_service import format_date, format_number, format_unit
from healthspace.patient.labs import LabResult, lab_results, latest, parse_moment, person_facts
from healthspace.patient.medication_service import read_person_medicines
from healthspace.patient.medications import MedicationEntry, MedicationList, ingredients_of
from healthspace.terminology.medicines import Medicine, MedicineCatalog, load_medicine_catalog

Language = Literal["en", "fr"]
Kind = Literal["interaction", "duplicate", "allergy", "kidney", "pregnancy", "age"]
Measure = Literal["egfr", "crcl"]
Resource = dict[str, Any]

KINDS: tuple[Kind, ...] = ("interaction", "allergy", "pregnancy", "kidney", "duplicate", "age")
_SEVERITY_RANK = {severity: rank for rank, severity in enumerate(SEVERITIES)}
_KIND_RANK = {kind: rank for rank, kind in enumerate(KINDS)}
_INACTIVE_CONDITION = frozenset({"inactive", "resolved", "remission"})
_NOT_TRUE = frozenset({"refuted", "entered-in-error"})
_POSITIVE_WORDS = frozenset({"positive", "positif", "detected", "present", "pos"})
_POSITIVE_CODES = frozenset({"POS", "DET", "10828004", "260373001", "52101004"})
LOINC = "http://loinc.org"


# --------------------------------------------------------------------------- the data file


class SourcedRule(Frozen):
    """One sourced caution about the medicines a selector covers."""

    id: str = Field(pattern=r"^[a-z0-9]+(?:_[a-z0-9]+)*$")
    select: Selector
    severity: Severity
    text: Names
    sources: tuple[str, ...] = Field(min_length=1)


class KidneyRule(SourcedRule):
    below: float = Field(gt=0)
    measure: Measure


class LegitimatePair(Frozen):
    """Two medicines of one group whose labels describe taking them together."""

    id: str
    first: Selector
    second: Selector
    why: Names
    sources: tuple[str, ...] = Field(min_length=1)


class DuplicateSettings(Frozen):
    severity: Severity
    same_ingredient_severity: Severity
    skip_other_atc_groups: bool
    classes: tuple[str, ...]
    class_sources: tuple[str, ...] = Field(min_length=1)
    atc_sources: tuple[str, ...] = Field(min_length=1)
    legitimate_pairs: tuple[LegitimatePair, ...] = ()


class KidneySettings(Frozen):
    egfr_codes: tuple[str, ...] = Field(min_length=1)
    creatinine_codes: tuple[str, ...] = Field(min_length=1)
    code_sources: tuple[str, ...] = Field(min_length=1)
    rules: tuple[KidneyRule, ...]


class CodeEntry(Frozen):
    system: str
    code: str


class CodePrefix(Frozen):
    system: str
    prefix: str


class PregnancySettings(Frozen):
    condition_codes: tuple[CodeEntry, ...]
    condition_code_prefixes: tuple[CodePrefix, ...] = ()
    condition_texts: tuple[str, ...] = ()
    hcg_codes: tuple[str, ...]
    positive_within_days: int = Field(gt=0)
    code_sources: tuple[str, ...] = Field(min_length=1)
    rules: tuple[SourcedRule, ...]


class AgeSettings(Frozen):
    min_age: int = Field(gt=0)
    rules: tuple[SourcedRule, ...]


class ReviewData(Frozen):
    """``data/medication_review.json``, validated against the medicine catalog."""

    version: str
    comment: str = ""
    sources: Mapping[str, Source]
    duplicate: DuplicateSettings
    kidney: KidneySettings
    pregnancy: PregnancySettings
    older_age: AgeSettings
    phrases: Mapping[str, Names]

    @model_validator(mode="after")
    def _references_resolve(self) -> ReviewData:
        catalog = load_medicine_catalog()
        cited: list[tuple[str, Iterable[str]]] = [
            ("duplicate", (*self.duplicate.class_sources, *self.duplicate.atc_sources)),
            ("kidney codes", self.kidney.code_sources),
            ("pregnancy codes", self.pregnancy.code_sources),
        ]
        cited += [(p.id, p.sources) for p in self.duplicate.legitimate_pairs]
        selectors: list[tuple[str, Selector]] = []
        for rule in self.all_rules():
            cited.append((rule.id, rule.sources))
            selectors.append((rule.id, rule.select))
        for pair in self.duplicate.legitimate_pairs:
            selectors += [(pair.id, pair.first), (pair.id, pair.second)]
        for owner, ids in cited:
            missing = [s for s in ids if s not in self.sources]
            if missing:
                raise ValueError(f"{owner}: undefined source ids {missing}")
        for owner, selector in selectors:
            if not selector_members(selector, catalog):
                raise ValueError(f"{owner}: the selector covers no catalog medicine")
        unknown = [c for c in self.duplicate.classes if c not in catalog.classes]
        if unknown:
            raise ValueError(f"duplicate classes not in the catalog: {unknown}")
        return self

    def all_rules(self) -> tuple[SourcedRule, ...]:
        return (*self.kidney.rules, *self.pregnancy.rules, *self.older_age.rules)

    def cite(self, ids: Iterable[str]) -> tuple[Source, ...]:
        return tuple(self.sources[i] for i in dict.fromkeys(ids))

    def say(self, key: str, **values: object) -> Names:
        """A phrase in both languages; a ``Names`` value fills each language with its own text."""
        phrase = self.phrases[key]
        return Names(
            en=phrase.en.format(**{k: _pick(v, "en") for k, v in values.items()}),
            fr=phrase.fr.format(**{k: _pick(v, "fr") for k, v in values.items()}),
        )


def _pick(value: object, lang: Language) -> str:
    if isinstance(value, Names):
        return str(getattr(value, lang))
    return str(value)


@cache
def load_review_data() -> ReviewData:
    """The shipped review rules, read once and validated."""
    text = (
        resources.files("healthspace.clinician")
        .joinpath("data/medication_review.json")
        .read_text("utf-8")
    )
    return ReviewData.model_validate(json.loads(text))


@cache
def _members(selector: Selector) -> frozenset[str]:
    return selector_members(selector, load_medicine_catalog())


def covered(selector: Selector, medicine: Medicine) -> bool:
    """Whether a rule's selector covers the medicine (combinations through their components)."""
    return medicine.id in _members(selector)


# --------------------------------------------------------------------------- the person


@dataclass(frozen=True)
class RecordFact:
    """A record item a finding rests on, with its date and a display text."""

    resource: str
    date: str | None
    text: str


@dataclass(frozen=True)
class PersonContext:
    """What the review needs of a person's record, read once."""

    person: str
    today: date
    medications: MedicationList
    allergies: tuple[RecordAllergy, ...] = ()
    birth_date: date | None = None
    patient_ref: str | None = None
    egfr: LabResult | None = None
    creatinine: LabResult | None = None
    pregnancy: RecordFact | None = None
    pregnancy_kind: Literal["condition", "test"] | None = None

    @property
    def age(self) -> int | None:
        if self.birth_date is None or self.today < self.birth_date:
            return None
        born = self.birth_date
        before_birthday = (self.today.month, self.today.day) < (born.month, born.day)
        return self.today.year - born.year - int(before_birthday)

    @property
    def current(self) -> tuple[MedicationEntry, ...]:
        return self.medications.current


def build_context(
    person: str,
    medications: MedicationList,
    allergies: Sequence[RecordAllergy],
    patient: Resource | None,
    observations: Sequence[Resource],
    conditions: Sequence[Resource],
    today: date,
    data: ReviewData | None = None,
) -> PersonContext:
    """The review context from a person's resources (pure)."""
    data = data or load_review_data()
    facts = person_facts(patient)
    results = lab_results(observations, facts)
    numeric = [r for r in results if isinstance(r.value, float)]
    egfr = latest(r for r in numeric if r.code in data.kidney.egfr_codes)
    creatinine = latest(r for r in numeric if r.code in data.kidney.creatinine_codes)
    pregnancy, kind = _pregnancy_evidence(conditions, observations, today, data)
    return PersonContext(
        person=person,
        today=today,
        medications=medications,
        allergies=tuple(allergies),
        birth_date=facts.birth_date,
        patient_ref=f"Patient/{patient.get('id')}" if patient else None,
        egfr=egfr,
        creatinine=creatinine,
        pregnancy=pregnancy,
        pregnancy_kind=kind,
    )


def _codings(concept: object) -> list[dict[str, Any]]:
    if not isinstance(concept, dict):
        return []
    return [c for c in concept.get("coding") or [] if isinstance(c, dict)]


def _concept_text(concept: object) -> str | None:
    if not isinstance(concept, dict):
        return None
    if isinstance(concept.get("text"), str) and concept["text"].strip():
        return str(concept["text"])
    for coding in _codings(concept):
        if isinstance(coding.get("display"), str):
            return str(coding["display"])
    return None


def _status(concept: object) -> str | None:
    for coding in _codings(concept):
        if isinstance(coding.get("code"), str):
            return str(coding["code"])
    return None


def _is_pregnancy_code(concept: object, data: PregnancySettings) -> bool:
    for coding in _codings(concept):
        system, code = coding.get("system"), str(coding.get("code") or "")
        if any(c.system == system and c.code == code for c in data.condition_codes):
            return True
        if any(
            p.system == system and code.startswith(p.prefix) for p in data.condition_code_prefixes
        ):
            return True
    text = _concept_text(concept)
    wanted = {t.casefold() for t in data.condition_texts}
    return text is not None and text.strip().casefold() in wanted


def _pregnancy_evidence(
    conditions: Sequence[Resource],
    observations: Sequence[Resource],
    today: date,
    data: ReviewData,
) -> tuple[RecordFact | None, Literal["condition", "test"] | None]:
    settings = data.pregnancy
    for condition in conditions:
        if _status(condition.get("clinicalStatus")) in _INACTIVE_CONDITION:
            continue
        if _status(condition.get("verificationStatus")) in _NOT_TRUE:
            continue
        if any(k.startswith("abatement") for k in condition):
            continue
        if _is_pregnancy_code(condition.get("code"), settings):
            when = condition.get("onsetDateTime") or condition.get("recordedDate")
            fact = RecordFact(
                f"Condition/{condition.get('id')}",
                when if isinstance(when, str) else None,
                _concept_text(condition.get("code")) or "?",
            )
            return fact, "condition"
    oldest = today - timedelta(days=settings.positive_within_days)
    found: list[tuple[date, RecordFact]] = []
    for observation in observations:
        if observation.get("status") in ("entered-in-error", "cancelled"):
            continue
        codes = {str(c.get("code")) for c in _codings(observation.get("code"))}
        if not codes & set(settings.hcg_codes) or not _is_positive(observation):
            continue
        when = observation.get("effectiveDateTime") or observation.get("issued")
        moment = parse_moment(when)
        if moment is None or not oldest <= moment.date() <= today:
            continue
        text = _concept_text(observation.get("code")) or "hCG"
        found.append(
            (moment.date(), RecordFact(f"Observation/{observation.get('id')}", when, text))
        )
    if found:
        return max(found, key=lambda item: item[0])[1], "test"
    return None, None


def _is_positive(observation: Resource) -> bool:
    value = observation.get("valueCodeableConcept")
    for coding in _codings(value):
        if str(coding.get("code")) in _POSITIVE_CODES:
            return True
    texts = [_concept_text(value), observation.get("valueString")]
    if any(isinstance(t, str) and t.strip().casefold() in _POSITIVE_WORDS for t in texts):
        return True
    for interpretation in observation.get("interpretation") or []:
        if any(str(c.get("code")) in {"POS", "DET"} for c in _codings(interpretation)):
            return True
    return False


def read_person_context(
    hs: Healthspace, actor: str, person: str, today: date | None = None
) -> PersonContext:
    """Read what the review needs (each read audited by the vault)."""
    today = today or date.today()
    record = read_person_medicines(hs, actor, person, today)
    patients = hs.vault.resources(actor, person, "Patient")
    observations = hs.vault.resources(actor, person, "Observation")
    reports = hs.vault.resources(actor, person, "DiagnosticReport")
    conditions = hs.vault.resources(actor, person, "Condition")
    patient = next(
        (p for p in patients if p.get("id") == person), patients[0] if patients else None
    )
    return build_context(
        person,
        record.medications,
        record.allergies,
        patient,
        [*observations, *reports],
        conditions,
        today,
    )


# --------------------------------------------------------------------------- findings


@dataclass(frozen=True)
class Involved:
    """A medicine a finding is about: the catalog entry and, for the record's, its resource."""

    medicine: Medicine
    recorded_as: str | None = None
    resource: str | None = None

    def label(self) -> Names:
        return Names(en=self.medicine.inn.en, fr=self.medicine.inn.fr)


@dataclass(frozen=True)
class Finding:
    """One thing to review, with what it rests on. Texts are held in both languages."""

    kind: Kind
    rule: str
    severity: Severity
    involved: tuple[Involved, ...]
    text: Names
    action: Names
    evidence: tuple[Names, ...] = ()
    record_refs: tuple[str, ...] = ()
    sources: tuple[Source, ...] = ()

    def title(self, data: ReviewData, lang: Language) -> str:
        names = " + ".join(getattr(i.label(), lang) for i in self.involved)
        key = (
            "title_kidney_unknown"
            if self.rule == "kidney_function_unknown"
            else f"title_{self.kind}"
        )
        return getattr(data.say(key, drugs=names), lang)

    def as_json(self, lang: Language, data: ReviewData | None = None) -> dict[str, Any]:
        data = data or load_review_data()
        return {
            "kind": self.kind,
            "rule": self.rule,
            "severity": self.severity,
            "title": self.title(data, lang),
            "text": " ".join(
                [getattr(self.text, lang), *(getattr(e, lang) for e in self.evidence)]
            ),
            "action": getattr(self.action, lang),
            "medicines": [
                {
                    "name": getattr(i.label(), lang),
                    "id": i.medicine.id,
                    "atc": i.medicine.atc[0] if i.medicine.atc else None,
                    "recorded_as": i.recorded_as,
                    "resource": i.resource,
                }
                for i in self.involved
            ],
            "record_refs": list(self.record_refs),
            "sources": [s.model_dump(mode="json") for s in self.sources],
        }


def _order(finding: Finding) -> tuple[int, int, str]:
    return (_SEVERITY_RANK[finding.severity], _KIND_RANK[finding.kind], finding.rule)


@dataclass(frozen=True)
class Active:
    """A current medicine of the record, as the catalog substances it is made of."""

    entry: MedicationEntry
    medicine: Medicine  # the product's catalog entry, or one ingredient of an uncatalogued mix

    @property
    def involved(self) -> Involved:
        return Involved(self.medicine, self.entry.latest.name, self.entry.latest.ref)

    @property
    def ingredient_ids(self) -> frozenset[str]:
        return frozenset(i.id for i in ingredients_of(self.medicine))


def active_medicines(entries: Iterable[MedicationEntry]) -> list[Active]:
    """The current entries the catalog recognises (a product of unknown mix by its ingredients)."""
    found: list[Active] = []
    for entry in entries:
        if entry.medicine is not None:
            found.append(Active(entry, entry.medicine))
        else:
            found += [Active(entry, ingredient) for ingredient in entry.ingredients]
    return found


def unrecognised(entries: Iterable[MedicationEntry]) -> list[MedicationEntry]:
    return [e for e in entries if e.medicine is None and not e.ingredients]


# -- interactions


def interaction_findings(active: Sequence[Active]) -> list[Finding]:
    """The interaction check of ``knowledge.interactions`` over the current medicines."""
    by_id: dict[str, Active] = {}
    for item in active:
        by_id.setdefault(item.medicine.id, item)
    found = []
    for interaction in find_interactions(list(by_id)):
        first, second = (by_id[d] for d in interaction.drugs)
        found.append(
            Finding(
                kind="interaction",
                rule=interaction.rule,
                severity=interaction.severity,
                involved=(first.involved, second.involved),
                text=interaction.effect,
                action=interaction.advice,
                record_refs=tuple(dict.fromkeys([first.entry.latest.ref, second.entry.latest.ref])),
                sources=interaction.sources,
            )
        )
    return found


# -- duplicates


def _same_class_rule_pairs(active: Sequence[Active]) -> set[frozenset[str]]:
    """Pairs already reported by an interaction rule between a group and itself (NSAID + NSAID)."""
    same = {
        rule.id for rule in load_interaction_catalog().rules if rule.between[0] == rule.between[1]
    }
    ids = list(dict.fromkeys(a.medicine.id for a in active))
    return {frozenset(i.drugs) for i in find_interactions(ids) if i.rule in same}


def _legitimate(first: Medicine, second: Medicine, data: ReviewData) -> bool:
    for pair in data.duplicate.legitimate_pairs:
        if (covered(pair.first, first) and covered(pair.second, second)) or (
            covered(pair.first, second) and covered(pair.second, first)
        ):
            return True
    return False


def duplicate_findings(active: Sequence[Active], data: ReviewData | None = None) -> list[Finding]:
    """Two current entries sharing an ingredient, an ATC group or a listed class."""
    data = data or load_review_data()
    settings = data.duplicate
    catalog = load_medicine_catalog()
    reported = _same_class_rule_pairs(active)
    found: list[Finding] = []
    for first, second in combinations(active, 2):
        if first.entry is second.entry:
            continue
        shared = first.ingredient_ids & second.ingredient_ids
        involved = (first.involved, second.involved)
        refs = (first.entry.latest.ref, second.entry.latest.ref)
        if shared:
            ingredient = catalog.medicine(sorted(shared)[0])
            assert ingredient is not None
            found.append(
                Finding(
                    kind="duplicate",
                    rule="same_ingredient",
                    severity=settings.same_ingredient_severity,
                    involved=involved,
                    text=data.say(
                        "duplicate_same_ingredient",
                        first=first.entry.latest.name,
                        second=second.entry.latest.name,
                        ingredient=Names(en=ingredient.inn.en, fr=ingredient.inn.fr),
                    ),
                    action=data.say("duplicate_action"),
                    record_refs=refs,
                    sources=catalog_sources(catalog, (first.medicine, second.medicine)),
                )
            )
            continue
        finding = _group_duplicate(first, second, data, catalog, reported)
        if finding is not None:
            found.append(finding)
    return found


def catalog_sources(catalog: MedicineCatalog, medicines: Iterable[Medicine]) -> tuple[Source, ...]:
    ids = [s for m in medicines for s in m.sources]
    return tuple(catalog.sources[s] for s in dict.fromkeys(ids) if s in catalog.sources)


def _group_duplicate(
    first: Active,
    second: Active,
    data: ReviewData,
    catalog: MedicineCatalog,
    reported: set[frozenset[str]],
) -> Finding | None:
    settings = data.duplicate
    for a in ingredients_of(first.medicine):
        for b in ingredients_of(second.medicine):
            if frozenset((a.id, b.id)) in reported or _legitimate(a, b, data):
                continue
            text: Names | None = None
            rule = ""
            cited: tuple[str, ...] = ()
            group_a, group_b = a.atc_class, b.atc_class
            other_group = (
                settings.skip_other_atc_groups
                and group_a is not None
                and group_a.code.endswith("X")
            )
            if group_a and group_b and group_a.code == group_b.code and not other_group:
                text = data.say(
                    "duplicate_atc",
                    first=first.entry.latest.name,
                    second=second.entry.latest.name,
                    code=group_a.code,
                    group=Names(en=group_a.en, fr=group_a.fr),
                )
                rule, cited = f"same_atc_{group_a.code}", settings.atc_sources
            else:
                shared = [c for c in settings.classes if c in a.classes and c in b.classes]
                if shared:
                    item = catalog.classes[shared[0]]
                    text = data.say(
                        "duplicate_class",
                        first=first.entry.latest.name,
                        second=second.entry.latest.name,
                        group=Names(en=item.en, fr=item.fr),
                    )
                    rule = f"same_class_{shared[0]}"
                    cited = settings.class_sources
            if text is not None:
                return Finding(
                    kind="duplicate",
                    rule=rule,
                    severity=settings.severity,
                    involved=(first.involved, second.involved),
                    text=text,
                    action=data.say("duplicate_action"),
                    record_refs=(first.entry.latest.ref, second.entry.latest.ref),
                    sources=data.cite(cited),
                )
    return None


# -- allergies


def allergy_hits(medicine: Medicine, allergies: Sequence[RecordAllergy]) -> list[AllergyConflict]:
    """The active allergies that put ``medicine`` at risk (``patient.allergies``)."""
    return find_allergy_conflicts(medicine, allergies)


def allergy_text(conflict: AllergyConflict, data: ReviewData) -> Names:
    medicine = Names(en=conflict.medicine.inn.en, fr=conflict.medicine.inn.fr)
    allergy = conflict.allergy.text
    if conflict.kind == "contains" and conflict.ingredient is not None:
        ingredient = Names(en=conflict.ingredient.inn.en, fr=conflict.ingredient.inn.fr)
        return data.say(
            "allergy_contains", medicine=medicine, ingredient=ingredient, allergy=allergy
        )
    if conflict.kind == "group" and conflict.group is not None:
        return data.say(
            "allergy_group", medicine=medicine, group=conflict.group.label, allergy=allergy
        )
    reason = conflict.reason or Names(en="", fr="")
    return data.say("allergy_cross", allergy=allergy, reason=reason)


def allergy_severity(conflict: AllergyConflict) -> Severity:
    # "avoid" is the allergy module's strongest level; "ask first" is a sourced cross-reaction
    # that most people tolerate.
    return "contraindicated" if conflict.level == "avoid" else "moderate"


def allergy_findings(
    active: Sequence[Active], allergies: Sequence[RecordAllergy], data: ReviewData | None = None
) -> list[Finding]:
    data = data or load_review_data()
    found = []
    for item in active:
        for conflict in allergy_hits(item.medicine, allergies):
            found.append(
                Finding(
                    kind="allergy",
                    rule=f"allergy_{conflict.kind}",
                    severity=allergy_severity(conflict),
                    involved=(item.involved,),
                    text=allergy_text(conflict, data),
                    action=data.say("allergy_action"),
                    record_refs=(item.entry.latest.ref, conflict.allergy.ref),
                    sources=conflict.sources,
                )
            )
    return found


# -- kidney, pregnancy, age: rules about one medicine and the person


@dataclass(frozen=True)
class RuleHit:
    """A sourced rule that applies to one medicine for this person, with the record facts."""

    kind: Kind
    rule: SourcedRule
    evidence: tuple[Names, ...]
    record_refs: tuple[str, ...]


def _below(result: LabResult, threshold: float) -> bool:
    value = result.value
    if not isinstance(value, float):
        return False
    if result.comparator in (">", ">="):
        return False  # "> 60" says nothing about being under a threshold of 60 or less
    return value < threshold


def _lab_fact(result: LabResult, data: ReviewData) -> Names:
    assert isinstance(result.value, float)
    return Names(
        **{
            lang: getattr(
                data.say(
                    "kidney_value",
                    test=getattr(result.name, lang),
                    value=f"{result.comparator or ''}{format_number(result.value, lang)}",
                    unit=format_unit(result.unit, lang),
                    date=format_date(result.date, lang),
                ),
                lang,
            )
            for lang in ("en", "fr")
        }
    )


def kidney_hit(medicine: Medicine, ctx: PersonContext, data: ReviewData) -> RuleHit | None:
    """The lowest label threshold the latest eGFR is under, for this medicine."""
    if ctx.egfr is None:
        return None
    crossed = [
        rule
        for rule in data.kidney.rules
        if covered(rule.select, medicine) and _below(ctx.egfr, rule.below)
    ]
    if not crossed:
        return None
    rule = min(crossed, key=lambda r: r.below)
    evidence = [_lab_fact(ctx.egfr, data)]
    if rule.measure == "crcl":
        evidence.append(data.say("kidney_measure_differs"))
    return RuleHit("kidney", rule, tuple(evidence), (ctx.egfr.resource,))


def pregnancy_hit(medicine: Medicine, ctx: PersonContext, data: ReviewData) -> RuleHit | None:
    if ctx.pregnancy is None:
        return None
    rule = next((r for r in data.pregnancy.rules if covered(r.select, medicine)), None)
    if rule is None:
        return None
    fact = ctx.pregnancy
    key = "pregnancy_condition" if ctx.pregnancy_kind == "condition" else "pregnancy_test"
    evidence = Names(
        en=data.say(key, text=fact.text, date=format_date(fact.date, "en")).en,
        fr=data.say(key, text=fact.text, date=format_date(fact.date, "fr")).fr,
    )
    return RuleHit("pregnancy", rule, (evidence,), (fact.resource,))


def age_hit(medicine: Medicine, ctx: PersonContext, data: ReviewData) -> RuleHit | None:
    age = ctx.age
    if age is None or age < data.older_age.min_age:
        return None
    rule = next((r for r in data.older_age.rules if covered(r.select, medicine)), None)
    if rule is None:
        return None
    assert ctx.birth_date is not None
    evidence = data.say("age_fact", age=age, birth_date=ctx.birth_date.isoformat())
    refs = (ctx.patient_ref,) if ctx.patient_ref else ()
    return RuleHit("age", rule, (evidence,), refs)


def rule_hits(
    medicine: Medicine, ctx: PersonContext, data: ReviewData | None = None
) -> list[RuleHit]:
    """Every kidney, pregnancy and age rule that applies to ``medicine`` for this person."""
    data = data or load_review_data()
    hits = [kidney_hit(medicine, ctx, data), pregnancy_hit(medicine, ctx, data)]
    hits.append(age_hit(medicine, ctx, data))
    return [h for h in hits if h is not None]


_ACTIONS = {"kidney": "kidney_action", "pregnancy": "pregnancy_action", "age": "age_action"}


def condition_findings(
    active: Sequence[Active], ctx: PersonContext, data: ReviewData | None = None
) -> list[Finding]:
    data = data or load_review_data()
    found = []
    for item in active:
        for hit in rule_hits(item.medicine, ctx, data):
            found.append(
                Finding(
                    kind=hit.kind,
                    rule=hit.rule.id,
                    severity=hit.rule.severity,
                    involved=(item.involved,),
                    text=hit.rule.text,
                    action=data.say(_ACTIONS[hit.kind]),
                    evidence=hit.evidence,
                    record_refs=(item.entry.latest.ref, *hit.record_refs),
                    sources=data.cite(hit.rule.sources),
                )
            )
    found += _kidney_unknown(active, ctx, data)
    return found


def _kidney_unknown(
    active: Sequence[Active], ctx: PersonContext, data: ReviewData
) -> list[Finding]:
    """No eGFR but a creatinine: name the medicines whose label has a kidney threshold."""
    if ctx.egfr is not None or ctx.creatinine is None:
        return []
    concerned = [a for a in active if any(covered(r.select, a.medicine) for r in data.kidney.rules)]
    if not concerned:
        return []
    result = ctx.creatinine
    assert isinstance(result.value, float)
    high = result.flag in ("high", "critical")
    text = Names(
        **{
            lang: getattr(
                data.say(
                    "kidney_unknown",
                    value=format_number(result.value, lang),
                    unit=format_unit(result.unit, lang),
                    date=format_date(result.date, lang),
                    flag=getattr(data.phrases["flag_high"], lang) if high else "",
                ),
                lang,
            )
            for lang in ("en", "fr")
        }
    )
    return [
        Finding(
            kind="kidney",
            rule="kidney_function_unknown",
            severity="moderate" if high else "minor",
            involved=tuple(a.involved for a in concerned),
            text=text,
            action=data.say("kidney_unknown_action"),
            record_refs=(*(a.entry.latest.ref for a in concerned), result.resource),
            sources=data.cite(data.kidney.code_sources),
        )
    ]


# --------------------------------------------------------------------------- the review


@dataclass(frozen=True)
class MedicationReview:
    """The review of one person's current medicines, most serious finding first."""

    ctx: PersonContext
    findings: tuple[Finding, ...]
    active: tuple[Active, ...] = field(default=())

    def as_json(self, lang: Language = "en") -> dict[str, Any]:
        """``{"person", "date", "label", "medicines": [{"name", "medicine", "atc", "resource"}],
        "unrecognised": [{"name", "resource"}], "context": {"age", "birth_date", "egfr",
        "creatinine", "pregnancy"}, "findings": [{"kind", "rule", "severity", "title", "text",
        "action", "medicines": [{"name", "id", "atc", "recorded_as", "resource"}],
        "record_refs", "sources": [{"publisher", "title", "url", "reviewed"}]}], "counts":
        {kind: n}}``. ``kind`` is one of interaction, duplicate, allergy, kidney, pregnancy,
        age; ``severity`` one of contraindicated, major, moderate, minor."""
        data = load_review_data()
        ctx = self.ctx
        counts = {kind: 0 for kind in KINDS}
        for finding in self.findings:
            counts[finding.kind] += 1
        return {
            "person": ctx.person,
            "date": ctx.today.isoformat(),
            "label": getattr(data.phrases["label"], lang),
            "medicines": [
                {
                    "name": entry.latest.name,
                    "medicine": getattr(entry.medicine.inn, lang) if entry.medicine else None,
                    "ingredients": [getattr(i.inn, lang) for i in entry.ingredients],
                    "atc": entry.medicine.atc[0] if entry.medicine and entry.medicine.atc else None,
                    "resource": entry.latest.ref,
                }
                for entry in ctx.current
            ],
            "unrecognised": [
                {"name": e.latest.name, "resource": e.latest.ref} for e in unrecognised(ctx.current)
            ],
            "context": {
                "age": ctx.age,
                "birth_date": ctx.birth_date.isoformat() if ctx.birth_date else None,
                "egfr": _lab_json(ctx.egfr, lang),
                "creatinine": _lab_json(ctx.creatinine, lang),
                "pregnancy": None
                if ctx.pregnancy is None
                else {
                    "kind": ctx.pregnancy_kind,
                    "text": ctx.pregnancy.text,
                    "date": ctx.pregnancy.date,
                    "resource": ctx.pregnancy.resource,
                },
            },
            "findings": [f.as_json(lang, data) for f in self.findings],
            "counts": counts,
        }


def _lab_json(result: LabResult | None, lang: Language) -> dict[str, Any] | None:
    if result is None:
        return None
    return {
        "code": result.code,
        "name": getattr(result.name, lang),
        "value": result.value,
        "comparator": result.comparator,
        "unit": result.unit,
        "flag": result.flag,
        "date": result.date,
        "resource": result.resource,
    }


def review_medicines(ctx: PersonContext, data: ReviewData | None = None) -> MedicationReview:
    """Every finding about the person's current medicines (pure)."""
    data = data or load_review_data()
    active = active_medicines(ctx.current)
    findings = [
        *interaction_findings(active),
        *duplicate_findings(active, data),
        *allergy_findings(active, ctx.allergies, data),
        *condition_findings(active, ctx, data),
    ]
    return MedicationReview(ctx, tuple(sorted(findings, key=_order)), tuple(active))


def medication_review(
    hs: Healthspace, actor: str, person: str, today: date | None = None
) -> MedicationReview:
    """Read the person's record and review their current medicines."""
    return review_medicines(read_person_context(hs, actor, person, today))
