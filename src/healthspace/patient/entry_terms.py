"""The words a person may type when entering their own data, and what they name.

One vocabulary per kind of entry, each built once from the shipped catalogs: lab tests
(LOINC, with their UCUM units), medicines (RxNorm, ATC; French and English names and brands),
conditions (the bilingual conditions file, then the full ICD-10-CM in English), allergens
(the allergen file, then medicines) and vaccines (CVX, ``data/vaccines.json``).

Find, then act (STYLE.md §2): ``suggest`` ranks candidates for a few typed letters (the form's
autocomplete), ``resolve`` says which one a whole name means, or which ones it might mean.
Case, accents and punctuation never matter.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import Field, model_validator

from healthspace.knowledge.citations import Frozen, Names, Source
from healthspace.knowledge.conditions import load_conditions
from healthspace.knowledge.folding import fold
from healthspace.patient.allergies import load_allergens
from healthspace.terminology.icd10cm import SYSTEM_URI as ICD10CM
from healthspace.terminology.icd10cm import Icd10cm
from healthspace.terminology.labs import find_lab, known_units, load_lab_catalog
from healthspace.terminology.medicines import Medicine, find_medicine, load_medicine_catalog

# The ICD-10-CM table is loaded only when a name is not found elsewhere (seconds, once).
Icd10Source = Callable[[], Icd10cm]
Kind = Literal["lab", "medicine", "condition", "allergen", "vaccine"]
KINDS: tuple[Kind, ...] = ("lab", "medicine", "condition", "allergen", "vaccine")
Language = Literal["en", "fr"]

LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ATC = "http://www.whocc.no/atc"
CVX = "http://hl7.org/fhir/sid/cvx"
# Things without a standard code here (an everyday allergen, a medicine without RxNorm or
# ATC) keep Healthspace's catalog id, so a suggestion can still be picked and resolved.
HEALTHSPACE_TERMS = "urn:healthspace:term"
MAX_QUERY = 100
MAX_LIMIT = 50
_WORD = re.compile(r"[a-z0-9%#]+")


# --------------------------------------------------------------------------- vaccines


class VaccineNames(Frozen):
    en: tuple[str, ...] = ()
    fr: tuple[str, ...] = ()


class Vaccine(Frozen):
    """One vaccine a person may have received, by its CDC CVX code."""

    code: str = Field(pattern=r"^\d{1,3}$")
    cvx_short: str = Field(min_length=1)
    name: Names
    also_called: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()
    sources: tuple[str, ...] = Field(min_length=1)


class VaccineFile(Frozen):
    version: str = Field(min_length=1)
    comment: str = ""
    sources: Mapping[str, Source]
    vaccines: tuple[Vaccine, ...]

    @model_validator(mode="after")
    def _codes_and_names_unique(self) -> VaccineFile:
        codes: set[str] = set()
        names: dict[str, str] = {}
        for vaccine in self.vaccines:
            if vaccine.code in codes:
                raise ValueError(f"duplicate CVX code {vaccine.code}")
            codes.add(vaccine.code)
            missing = [s for s in vaccine.sources if s not in self.sources]
            if missing:
                raise ValueError(f"CVX {vaccine.code}: undefined source ids {missing}")
            for name in (vaccine.name.en, vaccine.name.fr, *vaccine.also_called, *vaccine.brands):
                key = term_key(name)
                if names.setdefault(key, vaccine.code) != vaccine.code:
                    raise ValueError(
                        f"the name {name!r} is both CVX {names[key]} and {vaccine.code}"
                    )
        return self


@cache
def load_vaccines() -> VaccineFile:
    """The vaccine list shipped with Healthspace, read once and validated."""
    text = resources.files("healthspace.patient").joinpath("data/vaccines.json").read_text("utf-8")
    return VaccineFile.model_validate(json.loads(text))


# --------------------------------------------------------------------------- terms


def term_key(text: str) -> str:
    """The matching key of a name: folded words joined by one space."""
    return " ".join(_WORD.findall(fold(text)))


@dataclass(frozen=True)
class Term:
    """Something a person can name in a form: its code, its names and (labs) its units."""

    kind: Kind
    code: str
    system: str
    display: Names
    names: tuple[tuple[str, str | None], ...]  # (name, its language or None for brands/codes)
    units: tuple[str, ...] = ()
    codings: tuple[tuple[str, str, str], ...] = ()  # (system, code, display) for FHIR
    category: str | None = None  # AllergyIntolerance.category of an allergen
    ref: str = ""  # the catalog id it comes from

    def label(self, lang: Language) -> str:
        return self.display.fr if lang == "fr" else self.display.en

    def as_json(self, lang: Language, matched: str | None = None) -> dict[str, object]:
        out: dict[str, object] = {"code": self.code, "system": self.system}
        out["display"] = self.label(lang)
        if matched and term_key(matched) != term_key(self.label(lang)):
            out["matched"] = matched
        if self.kind == "lab":
            out["units"] = list(self.units)
        return out


@dataclass(frozen=True)
class _Vocabulary:
    terms: tuple[Term, ...]
    # (term index, folded name, its words, language) for every name
    names: tuple[tuple[int, str, tuple[str, ...], str | None, str], ...] = field(repr=False)
    exact: dict[str, tuple[int, ...]] = field(repr=False)


def _vocabulary(terms: Iterable[Term]) -> _Vocabulary:
    listed = tuple(terms)
    names: list[tuple[int, str, tuple[str, ...], str | None, str]] = []
    exact: dict[str, list[int]] = {}
    for number, term in enumerate(listed):
        seen: set[tuple[str, str | None]] = set()
        for name, lang in term.names:
            key = term_key(name)
            if not key or (key, lang) in seen:
                continue
            seen.add((key, lang))
            names.append((number, key, tuple(key.split()), lang, name))
            ids = exact.setdefault(key, [])
            if number not in ids:
                ids.append(number)
    return _Vocabulary(listed, tuple(names), {k: tuple(v) for k, v in exact.items()})


def _lab_terms() -> Iterable[Term]:
    for lab in load_lab_catalog().labs:
        names = [(lab.name.en, "en"), (lab.name.fr, "fr"), (lab.code, None)]
        names += [(a, "en") for a in lab.aliases.en] + [(a, "fr") for a in lab.aliases.fr]
        yield Term(
            "lab",
            lab.code,
            LOINC,
            lab.name,
            tuple(names),
            tuple(known_units(lab)),
            ((LOINC, lab.code, lab.name.en),),
            ref=lab.code,
        )


def medicine_codings(medicine: Medicine) -> tuple[tuple[str, str, str], ...]:
    """RxNorm then ATC codings of a catalog medicine (the order memory.py writes them in)."""
    codings = []
    if medicine.rxnorm:
        codings.append((RXNORM, medicine.rxnorm, medicine.inn.en))
    if medicine.atc:
        codings.append((ATC, medicine.atc[0], medicine.inn.en))
    return tuple(codings)


def _medicine_term(medicine: Medicine, kind: Kind) -> Term:
    codings = medicine_codings(medicine)
    system, code = (codings[0][0], codings[0][1]) if codings else (HEALTHSPACE_TERMS, medicine.id)
    names: list[tuple[str, str | None]] = [(medicine.inn.en, "en"), (medicine.inn.fr, "fr")]
    names += [(n, None) for n in (*medicine.synonyms, *medicine.brands.fr, *medicine.brands.us)]
    return Term(
        kind,
        code,
        system,
        medicine.inn,
        tuple(names),
        codings=codings,
        category="medication",
        ref=f"medicine:{medicine.id}",
    )


def _medicine_terms() -> Iterable[Term]:
    return (_medicine_term(m, "medicine") for m in load_medicine_catalog().medicines)


def _allergen_terms() -> Iterable[Term]:
    for allergen in load_allergens().allergens:
        codings = tuple((c.system, c.code, c.display) for c in allergen.codes)
        system, code = (
            (codings[0][0], codings[0][1]) if codings else (HEALTHSPACE_TERMS, allergen.id)
        )
        names: list[tuple[str, str | None]] = [(allergen.label.en, "en"), (allergen.label.fr, "fr")]
        names += [(n, "en") for n in allergen.names.en] + [(n, "fr") for n in allergen.names.fr]
        yield Term(
            "allergen",
            code,
            system,
            allergen.label,
            tuple(names),
            codings=codings,
            category=allergen.category,
            ref=f"allergen:{allergen.id}",
        )
    yield from (_medicine_term(m, "allergen") for m in load_medicine_catalog().medicines)


def _condition_terms() -> Iterable[Term]:
    for item in load_conditions().items:
        code = item.icd10cm[0]
        names: list[tuple[str, str | None]] = [(item.name.en, "en"), (item.name.fr, "fr")]
        names += [(n, "en") for n in item.also_called.en] + [(n, "fr") for n in item.also_called.fr]
        yield Term(
            "condition",
            code,
            ICD10CM,
            item.name,
            tuple(names),
            codings=((ICD10CM, code, item.name.en),),
            ref=f"condition:{item.id}",
        )


def _vaccine_terms() -> Iterable[Term]:
    for vaccine in load_vaccines().vaccines:
        names: list[tuple[str, str | None]] = [(vaccine.name.en, "en"), (vaccine.name.fr, "fr")]
        names += [(n, None) for n in (*vaccine.also_called, *vaccine.brands, vaccine.cvx_short)]
        yield Term(
            "vaccine",
            vaccine.code,
            CVX,
            vaccine.name,
            tuple(names),
            codings=((CVX, vaccine.code, vaccine.cvx_short),),
            ref=f"vaccine:{vaccine.code}",
        )


_BUILDERS: dict[Kind, Callable[[], Iterable[Term]]] = {
    "lab": _lab_terms,
    "medicine": _medicine_terms,
    "condition": _condition_terms,
    "allergen": _allergen_terms,
    "vaccine": _vaccine_terms,
}


@cache
def vocabulary(kind: Kind) -> _Vocabulary:
    """The names of one kind of entry, indexed once per process."""
    return _vocabulary(_BUILDERS[kind]())


# --------------------------------------------------------------------------- suggesting


def _score(query: str, words: tuple[str, ...], key: str, name_words: tuple[str, ...]) -> int:
    if key == query:
        return 100
    if key.startswith(query):
        return 80
    if all(any(n.startswith(w) for n in name_words) for w in words):
        return 70 if name_words[0].startswith(words[0]) else 60
    if len(query) >= 3 and query in key:
        return 40
    return 0


@dataclass(frozen=True)
class Suggestion:
    term: Term
    matched: str  # the name (as the catalog writes it) the query matched
    score: int

    def as_json(self, lang: Language) -> dict[str, object]:
        return self.term.as_json(lang, self.matched)


def _icd_term(code: str, description: str) -> Term:
    names = Names(en=description, fr=description)
    return Term(
        "condition",
        code,
        ICD10CM,
        names,
        ((description, "en"), (code, None)),
        codings=((ICD10CM, code, description),),
        ref=f"icd10cm:{code}",
    )


def suggest(
    kind: Kind,
    query: str,
    lang: Language = "en",
    limit: int = 10,
    icd10: Icd10Source | None = None,
) -> list[Suggestion]:
    """The terms a few typed letters may mean, best first: a whole name, then a name that
    starts with them, then names whose words start with each typed word, then any name
    holding them. Names in the reader's language win ties."""
    limit = max(1, min(limit, MAX_LIMIT))
    key = term_key(query[:MAX_QUERY])
    if not key:
        return []
    words = tuple(key.split())
    table = vocabulary(kind)
    best: dict[int, tuple[int, int, str]] = {}
    first = words[0]
    for number, name_key, name_words, name_lang, name in table.names:
        if first not in name_key:  # every way of matching holds the first word
            continue
        score = _score(key, words, name_key, name_words)
        if not score:
            continue
        score += 3 if name_lang == lang else (1 if name_lang is None else 0)
        current = best.get(number)
        if current is None or (score, -len(name_key)) > (current[0], -current[1]):
            best[number] = (score, len(name_key), name)
    ranked = sorted(
        best.items(),
        key=lambda kv: (-kv[1][0], kv[1][1], table.terms[kv[0]].label(lang)),
    )
    found = [Suggestion(table.terms[n], name, score) for n, (score, _, name) in ranked[:limit]]
    if kind == "condition" and icd10 is not None and len(found) < limit and len(key) >= 3:
        found += _icd_suggestions(icd10(), query, limit - len(found), {s.term.code for s in found})
    return found


def _icd_suggestions(icd10: Icd10cm, query: str, limit: int, taken: set[str]) -> list[Suggestion]:
    hits = icd10.search(query[:MAX_QUERY], limit=limit + len(taken))
    out = []
    for hit in hits:
        if hit.entry.code in taken or hit.entry.kind in ("chapter", "block"):
            continue
        out.append(Suggestion(_icd_term(hit.entry.code, hit.entry.description), hit.matched, 30))
    return out[:limit]


# --------------------------------------------------------------------------- resolving


@dataclass(frozen=True)
class Resolution:
    """What a typed name means: one term, or the candidates to choose from (maybe none)."""

    term: Term | None
    choices: tuple[Term, ...] = ()


def resolve(
    kind: Kind,
    name: str,
    code: str | None = None,
    icd10: Icd10Source | None = None,
    lang: Language = "en",
) -> Resolution:
    """The term a whole name (or a picked code) means; several or none give choices."""
    table = vocabulary(kind)
    if code:
        picked = [t for t in table.terms if t.code == code.strip()]
        if picked:
            return Resolution(picked[0])
        if kind == "condition" and icd10 is not None and (item := icd10().get(code)) is not None:
            return Resolution(_icd_term(item.code, item.description))
    key = term_key(name[:MAX_QUERY])
    if not key:
        return Resolution(None)
    exact = table.exact.get(key, ())
    if len(exact) > 1 and kind == "allergen":
        # "penicillin" is both a group and a medicine: the group covers the medicine.
        groups = tuple(n for n in exact if table.terms[n].ref.startswith("allergen:"))
        exact = groups if len(groups) == 1 else exact
    if len(exact) == 1:
        return Resolution(table.terms[exact[0]])
    if len(exact) > 1:
        return Resolution(None, tuple(table.terms[n] for n in exact))
    found = _catalog_match(kind, name)
    if found is not None:
        return Resolution(found)
    if kind == "condition" and icd10 is not None:
        item = icd10().get(name)
        if item is not None and item.kind not in ("chapter", "block"):
            return Resolution(_icd_term(item.code, item.description))
    candidates = suggest(kind, name, lang, limit=8, icd10=icd10)
    same = [s.term for s in candidates if term_key(s.term.display.en) == key]
    if len(same) == 1:
        return Resolution(same[0])
    return Resolution(None, tuple(s.term for s in candidates))


def _catalog_match(kind: Kind, name: str) -> Term | None:
    """The catalogs' own matchers, which read a strength or form after a medicine's name."""
    if kind == "lab":
        lab = find_lab(name)
        if lab is not None:
            return next(t for t in vocabulary("lab").terms if t.code == lab.code)
    if kind in ("medicine", "allergen"):
        medicine = find_medicine(name)
        if medicine is not None:
            ref = f"medicine:{medicine.id}"
            return next(t for t in vocabulary(kind).terms if t.ref == ref)
    return None
