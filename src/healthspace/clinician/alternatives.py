"""Therapeutic alternatives: other medicines for the same indication that avoid a problem.

For a medicine to replace and a reason (``side_effect``, ``contraindication``, ``interaction``
with a named medicine, ``allergy``), the candidates are the other members of the sourced
same-indication groups of ``data/alternatives.json`` that contain it (a catalog class, an ATC
prefix or a list), plus what a sourced *switch* for that medicine and reason points to (ACE
inhibitor cough → angiotensin II receptor blockers). With no group, the medicine's own
fourth-level ATC group stands in (WHO's "other" groups excepted).

Each candidate is then checked: against the reason (an interaction with the named medicine,
the same allergy group, the same class when a switch says the problem is a class effect) and,
when a person is given, against their record with the checks of ``medication_review``
(interactions with their other current medicines, allergies, kidney, pregnancy and age rules).
A contraindicated or major problem moves a candidate to ``excluded``; a lesser one stays as a
caution. The answer is always labelled as options for the clinician's judgement, never a
prescription, and gives no dose.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

from pydantic import Field, model_validator

from healthspace.bootstrap import Healthspace
from healthspace.clinician.medication_review import (
    PersonContext,
    active_medicines,
    allergy_hits,
    allergy_severity,
    allergy_text,
    covered,
    load_review_data,
    read_person_context,
    rule_hits,
)
from healthspace.knowledge.citations import Frozen, Names, Source
from healthspace.knowledge.interactions import (
    SEVERITIES,
    Selector,
    Severity,
    find_interactions,
    selector_members,
)
from healthspace.patient.allergies import RecordAllergy, find_allergy_conflicts
from healthspace.patient.medication_service import UnknownMedicineNameError
from healthspace.patient.medications import ingredients_of, match_medicine_name
from healthspace.terminology.medicines import Medicine, load_medicine_catalog

Language = Literal["en", "fr"]
Reason = Literal["side_effect", "contraindication", "interaction", "allergy"]
REASONS: tuple[Reason, ...] = ("side_effect", "contraindication", "interaction", "allergy")
# Problems at these levels take a candidate out of the options.
_EXCLUDING: frozenset[Severity] = frozenset({"contraindicated", "major"})
_RANK = {severity: rank for rank, severity in enumerate(SEVERITIES)}


class AtcPrefixSelector(Frozen):
    """Every single-substance catalog medicine whose ATC code starts with the prefix."""

    atc_prefix: str = Field(pattern=r"^[A-Z](\d\d([A-Z]([A-Z](\d\d)?)?)?)?$")


GroupSelector = Selector | AtcPrefixSelector


class Group(Frozen):
    """Medicines used for the same indication, with the sources that say so."""

    id: str
    select: tuple[GroupSelector, ...] = Field(min_length=1)
    label: Names
    indication: Names
    sources: tuple[str, ...] = Field(min_length=1)
    caution: Names | None = None
    caution_sources: tuple[str, ...] = ()


class WithSelector(Frozen):
    classes: tuple[str, ...] = ()
    medicines: tuple[str, ...] = ()


class Switch(Frozen):
    """A sourced statement: for this medicine and reason, these options avoid the problem."""

    id: str
    from_: Selector = Field(alias="from")
    reasons: tuple[Reason, ...] = Field(min_length=1)
    with_: WithSelector | None = Field(default=None, alias="with")
    problem: Names
    prefer: tuple[Selector, ...] = Field(min_length=1)
    same_class_shares_problem: bool
    why: Names
    sources: tuple[str, ...] = Field(min_length=1)


class AlternativesData(Frozen):
    version: str
    comment: str = ""
    sources: Mapping[str, Source]
    groups: tuple[Group, ...]
    switches: tuple[Switch, ...]
    phrases: Mapping[str, Names]

    @model_validator(mode="after")
    def _references_resolve(self) -> AlternativesData:
        catalog = load_medicine_catalog()
        cited = [(g.id, (*g.sources, *g.caution_sources)) for g in self.groups]
        cited += [(s.id, s.sources) for s in self.switches]
        for owner, ids in cited:
            missing = [i for i in ids if i not in self.sources]
            if missing:
                raise ValueError(f"{owner}: undefined source ids {missing}")
        for group in self.groups:
            if len(group_members(group)) < 2:
                raise ValueError(f"{group.id}: a group needs at least two catalog medicines")
        known = {m.id for m in catalog.medicines}
        for switch in self.switches:
            for selector in (switch.from_, *switch.prefer):
                if not selector_members(selector, catalog):
                    raise ValueError(f"{switch.id}: a selector covers no catalog medicine")
            if switch.with_ is not None:
                unknown = [c for c in switch.with_.classes if c not in catalog.classes]
                unknown += [m for m in switch.with_.medicines if m not in known]
                if unknown:
                    raise ValueError(f"{switch.id}: not in the medicine catalog: {unknown}")
        return self

    def cite(self, ids: Iterable[str]) -> tuple[Source, ...]:
        return tuple(self.sources[i] for i in dict.fromkeys(ids))

    def say(self, key: str, lang: Language, **values: object) -> str:
        text: str = getattr(self.phrases[key], lang)
        return text.format(**values)


@cache
def load_alternatives_data() -> AlternativesData:
    """The shipped groups and switches, read once and validated."""
    text = (
        resources.files("healthspace.clinician")
        .joinpath("data/alternatives.json")
        .read_text("utf-8")
    )
    return AlternativesData.model_validate(json.loads(text))


def _single(medicines: Iterable[Medicine]) -> list[Medicine]:
    return [m for m in medicines if not m.components]


def selected(selector: GroupSelector) -> list[Medicine]:
    """The single-substance medicines a group or switch selector covers, in catalog order."""
    catalog = load_medicine_catalog()
    if isinstance(selector, AtcPrefixSelector):
        return _single(
            m for m in catalog.medicines if any(c.startswith(selector.atc_prefix) for c in m.atc)
        )
    ids = selector_members(selector, catalog)
    return _single(m for m in catalog.medicines if m.id in ids)


def group_members(group: Group) -> list[Medicine]:
    found = [m for selector in group.select for m in selected(selector)]
    return list(dict.fromkeys(found))


# --------------------------------------------------------------------------- the answer


@dataclass(frozen=True)
class Note:
    """Why an option is listed, or a problem with it, with what backs it."""

    kind: str
    text: str
    severity: Severity | None = None
    sources: tuple[Source, ...] = ()
    record_refs: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "severity": self.severity,
            "text": self.text,
            "sources": [s.model_dump(mode="json") for s in self.sources],
            "record_refs": list(self.record_refs),
        }


@dataclass(frozen=True)
class Candidate:
    medicine: Medicine
    group: str | None
    preferred: bool
    reasons: tuple[Note, ...]
    problems: tuple[Note, ...]

    @property
    def excluded(self) -> bool:
        return any(p.severity in _EXCLUDING for p in self.problems)

    def as_json(self, lang: Language) -> dict[str, Any]:
        return {
            "name": getattr(self.medicine.inn, lang),
            "id": self.medicine.id,
            "atc": self.medicine.atc[0] if self.medicine.atc else None,
            "group": self.group,
            "preferred": self.preferred,
            "reasons": [n.as_json() for n in self.reasons],
            "cautions": [] if self.excluded else [n.as_json() for n in self.problems],
            "why_not": [n.as_json() for n in self.problems] if self.excluded else [],
        }


@dataclass(frozen=True)
class Alternatives:
    """Options to replace one medicine, for the clinician's judgement."""

    lang: Language
    drug: Medicine
    drug_input: str
    reason: Reason
    other: Medicine | None
    person: str | None
    groups: tuple[dict[str, Any], ...]
    guidance: tuple[Note, ...]
    candidates: tuple[Candidate, ...]

    def as_json(self) -> dict[str, Any]:
        """``{"drug": {"input", "name", "id", "atc"}, "reason", "with": {...} or null,
        "person", "label", "groups": [{"id", "title", "indication", "caution", "sources"}],
        "guidance": [{"kind", "severity", "text", "sources", "record_refs"}], "options":
        [{"name", "id", "atc", "group", "preferred", "reasons": [note], "cautions": [note],
        "why_not": []}], "excluded": [same keys, "cautions": [] and "why_not": [note]],
        "record_refs": [...]}``. Options are listed
        preferred first; nothing in it is a dose or a prescription."""
        lang = self.lang
        options = [c for c in self.candidates if not c.excluded]
        excluded = [c for c in self.candidates if c.excluded]
        refs = [r for c in self.candidates for n in c.problems for r in n.record_refs]
        return {
            "drug": _drug_json(self.drug, lang, self.drug_input),
            "reason": self.reason,
            "with": _drug_json(self.other, lang) if self.other else None,
            "person": self.person,
            "label": load_alternatives_data().say("label", lang),
            "groups": list(self.groups),
            "guidance": [n.as_json() for n in self.guidance],
            "options": [c.as_json(lang) for c in options],
            "excluded": [c.as_json(lang) for c in excluded],
            "record_refs": list(dict.fromkeys(refs)),
        }


def _drug_json(medicine: Medicine, lang: Language, given: str | None = None) -> dict[str, Any]:
    out = {
        "name": getattr(medicine.inn, lang),
        "id": medicine.id,
        "atc": medicine.atc[0] if medicine.atc else None,
    }
    return {"input": given, **out} if given is not None else out


def _switches(
    drug: Medicine, reason: Reason, other: Medicine | None, data: AlternativesData
) -> list[Switch]:
    found = []
    for switch in data.switches:
        if reason not in switch.reasons or not covered(switch.from_, drug):
            continue
        if switch.with_ is not None and (other is None or not _matches(other, switch.with_)):
            continue
        found.append(switch)
    return found


def _matches(medicine: Medicine, wanted: WithSelector) -> bool:
    parts = ingredients_of(medicine)
    return any(p.id in wanted.medicines or set(p.classes) & set(wanted.classes) for p in parts)


def _fallback_group(drug: Medicine, lang: Language) -> tuple[list[Medicine], dict[str, Any]] | None:
    group = drug.atc_class
    if group is None or group.code.endswith("X"):
        return None
    members = _single(
        m
        for m in load_medicine_catalog().medicines
        if m.atc_class and m.atc_class.code == group.code
    )
    if len(members) < 2:
        return None
    catalog = load_medicine_catalog()
    title = getattr(group, lang)
    return members, {
        "id": f"atc_{group.code}",
        "title": f"{group.code} {title}",
        "indication": None,
        "caution": None,
        "sources": [catalog.sources["who_atc_ddd"].model_dump(mode="json")],
    }


def find_alternatives(
    drug: Medicine,
    reason: Reason,
    other: Medicine | None = None,
    ctx: PersonContext | None = None,
    lang: Language = "en",
    drug_input: str | None = None,
) -> Alternatives:
    """Options to replace ``drug`` for ``reason``, checked against ``ctx`` when given (pure)."""
    data = load_alternatives_data()
    own = {i.id for i in ingredients_of(drug)}
    groups: list[dict[str, Any]] = []
    pool: dict[str, tuple[Medicine, str | None]] = {}
    for group in data.groups:
        members = group_members(group)
        if not any(m.id in own for m in members):
            continue
        groups.append(
            {
                "id": group.id,
                "title": getattr(group.label, lang),
                "indication": getattr(group.indication, lang),
                "caution": getattr(group.caution, lang) if group.caution else None,
                "sources": [
                    s.model_dump(mode="json")
                    for s in data.cite((*group.sources, *group.caution_sources))
                ],
            }
        )
        for member in members:
            pool.setdefault(member.id, (member, group.id))
    switches = _switches(drug, reason, other, data)
    preferred: dict[str, list[Switch]] = {}
    for switch in switches:
        for selector in switch.prefer:
            for member in selected(selector):
                pool.setdefault(member.id, (member, None))
                preferred.setdefault(member.id, []).append(switch)
    guidance: list[Note] = []
    if not groups:
        fallback = _fallback_group(drug, lang)
        if fallback is not None:
            members, described = fallback
            groups.append(described)
            for member in members:
                pool.setdefault(member.id, (member, described["id"]))
        elif not switches:
            label = getattr(drug.inn, lang)
            guidance.append(Note("no_group", data.say("no_group", lang, drug=label)))
    guidance += [
        Note(
            "switch",
            f"{getattr(s.problem, lang)[:1].upper()}{getattr(s.problem, lang)[1:]}: "
            f"{getattr(s.why, lang)}",
            None,
            data.cite(s.sources),
        )
        for s in switches
    ]
    titles = {g["id"]: g for g in groups}
    candidates = [
        _candidate(medicine, group_id, drug, reason, other, ctx, switches, preferred, titles, lang)
        for medicine, group_id in pool.values()
        if medicine.id not in own
    ]
    candidates.sort(key=lambda c: (not c.preferred, len(c.problems), _worst(c)))
    return Alternatives(
        lang,
        drug,
        drug_input if drug_input is not None else getattr(drug.inn, lang),
        reason,
        other,
        ctx.person if ctx else None,
        tuple(groups),
        tuple(guidance),
        tuple(candidates),
    )


def _worst(candidate: Candidate) -> int:
    ranks = [_RANK[p.severity] for p in candidate.problems if p.severity]
    return -min(ranks) if ranks else 0


def _candidate(
    medicine: Medicine,
    group_id: str | None,
    drug: Medicine,
    reason: Reason,
    other: Medicine | None,
    ctx: PersonContext | None,
    switches: Sequence[Switch],
    preferred: Mapping[str, list[Switch]],
    groups: Mapping[str, dict[str, Any]],
    lang: Language,
) -> Candidate:
    data = load_alternatives_data()
    reasons: list[Note] = []
    if group_id is not None:
        group = groups[group_id]
        indication = group["indication"] or group["title"]
        text = data.say("same_group", lang, group=group["title"], indication=indication)
        sources = tuple(Source.model_validate(s) for s in group["sources"])
        reasons.append(Note("same_group", text, None, sources))
    for switch in preferred.get(medicine.id, []):
        text = data.say("preferred", lang, problem=getattr(switch.problem, lang))
        text = f"{text} {getattr(switch.why, lang)}"
        reasons.append(Note("preferred", text, None, data.cite(switch.sources)))
    problems = _reason_problems(medicine, drug, reason, other, switches, lang)
    if ctx is not None:
        problems += record_problems(medicine, drug, ctx, lang)
    problems.sort(key=lambda n: _RANK[n.severity] if n.severity else len(_RANK))
    return Candidate(medicine, group_id, medicine.id in preferred, tuple(reasons), tuple(problems))


def _reason_problems(
    medicine: Medicine,
    drug: Medicine,
    reason: Reason,
    other: Medicine | None,
    switches: Sequence[Switch],
    lang: Language,
) -> list[Note]:
    data = load_alternatives_data()
    drug_name = getattr(drug.inn, lang)
    found: list[Note] = []
    for switch in switches:
        if switch.same_class_shares_problem and covered(switch.from_, medicine):
            text = data.say(
                "shares_problem", lang, drug=drug_name, problem=getattr(switch.problem, lang)
            )
            found.append(Note("same_problem", text, "major", data.cite(switch.sources)))
    if reason == "interaction" and other is not None:
        found += _interaction_notes(medicine, [(other, None)], lang)
    if reason == "allergy":
        allergy = RecordAllergy(
            ref="",
            text=drug_name,
            allergen=None,
            medicine=drug,
            criticality=None,
            reactions=(),
            clinical_status="active",
            verification_status="confirmed",
            category=("medication",),
            patient_reported=False,
            recorded=None,
        )
        for conflict in find_allergy_conflicts(medicine, [allergy]):
            group = getattr(conflict.group.label, lang) if conflict.group else drug_name
            if conflict.level == "avoid":
                text = data.say("same_allergy_group", lang, drug=drug_name, group=group)
            else:
                reason_text = getattr(conflict.reason, lang) if conflict.reason else ""
                text = data.say("allergy_ask", lang, allergy=drug_name, reason=reason_text)
            found.append(Note("allergy", text, allergy_severity(conflict), conflict.sources))
    return found


def _interaction_notes(
    medicine: Medicine, others: Sequence[tuple[Medicine, str | None]], lang: Language
) -> list[Note]:
    data = load_alternatives_data()
    found = []
    for other, ref in others:
        if other.id == medicine.id:
            continue
        for interaction in find_interactions([medicine.id, other.id]):
            text = data.say(
                "interaction_with",
                lang,
                other=getattr(other.inn, lang),
                severity=interaction.severity,
                effect=getattr(interaction.effect, lang),
            )
            refs = (ref,) if ref else ()
            found.append(Note("interaction", text, interaction.severity, interaction.sources, refs))
    return found


def record_problems(
    medicine: Medicine, drug: Medicine, ctx: PersonContext, lang: Language
) -> list[Note]:
    """What the person's record says against a candidate: the medication review's checks."""
    data = load_alternatives_data()
    review = load_review_data()
    replaced = {i.id for i in ingredients_of(drug)}
    found: list[Note] = []
    active = active_medicines(ctx.current)
    if any(a.medicine.id == medicine.id for a in active):
        found.append(Note("already_taken", data.say("already_taken", lang), "major"))
    others = [
        (a.medicine, a.entry.latest.ref)
        for a in active
        if not ({i.id for i in ingredients_of(a.medicine)} & replaced)
    ]
    found += _interaction_notes(medicine, others, lang)
    for conflict in allergy_hits(medicine, ctx.allergies):
        found.append(
            Note(
                "allergy",
                getattr(allergy_text(conflict, review), lang),
                allergy_severity(conflict),
                conflict.sources,
                (conflict.allergy.ref,),
            )
        )
    for hit in rule_hits(medicine, ctx, review):
        text = " ".join([getattr(hit.rule.text, lang), *(getattr(e, lang) for e in hit.evidence)])
        found.append(
            Note(hit.kind, text, hit.rule.severity, review.cite(hit.rule.sources), hit.record_refs)
        )
    return found


# --------------------------------------------------------------------------- the service


def _resolve(name: str, lang: Language) -> Medicine:
    match = match_medicine_name(name)
    if match.medicine is None:
        raise UnknownMedicineNameError(name, lang)
    return match.medicine


def alternatives_for(
    hs: Healthspace | None,
    actor: str,
    drug: str,
    reason: Reason = "side_effect",
    with_drug: str | None = None,
    person: str | None = None,
    lang: Language = "en",
) -> Alternatives:
    """Resolve the names, read the person's record when given, and list the options."""
    medicine = _resolve(drug, lang)
    other = _resolve(with_drug, lang) if with_drug else None
    ctx = None
    if person is not None:
        if hs is None:
            raise ValueError("a Healthspace is needed to read a person's record")
        ctx = read_person_context(hs, actor, person)
    return find_alternatives(medicine, reason, other, ctx, lang, drug)
