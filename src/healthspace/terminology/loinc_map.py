"""LOINC codes for a laboratory's local test names: "Creat" in µmol/L is 14682-9.

Find, then act (STYLE.md §2): a local name is matched against every name and alias of the
LOINC catalog (``data/loinc_labs.json``, English and French) by its words, with the report
abbreviations of ``data/loinc_abbreviations.json`` expanded and word beginnings accepted
("Creat" → creatinine); the unit printed beside the result then picks among tests of one
analyte by the LOINC property its UCUM unit expresses (a mass per volume is MCnc, a molar
concentration SCnc), and the specimen (given, or a word of the name) among serum, blood and
urine tests. Each suggestion says why: the name it matched, the unit class, the specimen.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

from pydantic import Field

from healthspace.errors import HealthspaceError
from healthspace.knowledge.citations import Frozen
from healthspace.knowledge.folding import fold
from healthspace.terminology.labs import (
    LabCatalog,
    LabTest,
    canonical_unit,
    load_lab_catalog,
    normalise_name,
)

UnitMatch = Literal["exact", "same_property", "related_property", "convertible", "mismatch", "none"]
SpecimenMatch = Literal["same", "compatible", "mismatch", "none"]
NameVia = Literal["exact", "words", "analyte"]

MAX_NAME_CHARS = 500
_WORD = re.compile(r"[^\W_]+|%|#", re.UNICODE)
_DOTTED_ACRONYM = re.compile(r"\b(?:[^\W\d_]\.){2,}")
# How much of the final score each part carries; the name decides, unit and specimen refine.
_NAME_SHARE, _UNIT_SHARE, _SPECIMEN_SHARE = 0.72, 0.18, 0.10
_UNIT_FACTOR: dict[UnitMatch, float] = {
    "exact": 1.0,
    "same_property": 0.9,
    "related_property": 0.7,
    "convertible": 0.4,
    "mismatch": 0.0,
    "none": 0.6,
}
_SPECIMEN_FACTOR: dict[SpecimenMatch, float] = {
    "same": 1.0,
    "compatible": 0.6,
    "mismatch": 0.0,
    "none": 0.7,
}
# A name borrowed from the mass (or molar) twin of a test counts slightly less than its own,
# so without a unit the test whose own alias matched comes first.
_ANALYTE_DISCOUNT = 0.97
# A unit of another property or a specimen of another kind usually means another test.
_MISMATCH_PENALTY = 0.8
_PREFIX_CREDIT, _FUZZY_CREDIT = 0.85, 0.8
_SPECIFICITY = {
    "blood": 0,
    "serum/plasma": 1,
    "capillary blood": 2,
    "arterial blood": 2,
    "urine": 3,
}
_BLOOD_SPECIMENS = {"serum/plasma", "blood", "capillary blood", "arterial blood"}
_TWIN_SUFFIX = re.compile(r"\s*\((?:molar|mass)\)$|,\s*(?:molar|mass)(?=\))")
_TRAILING_NOTE = re.compile(r"\s*\([^()]*\)$")


class LoincMapError(HealthspaceError, ValueError):
    """A mapping request that cannot be served as asked."""

    http_status = 422


class MappingVocabulary(Frozen):
    """Report abbreviations, specimen words and filler words (``data/loinc_abbreviations.json``)."""

    version: str = Field(min_length=1)
    comment: str = ""
    abbreviations: Mapping[str, tuple[str, ...]]
    specimens: Mapping[str, str]
    specimen_codes: Mapping[str, str] = Field(default_factory=dict)
    filler: tuple[str, ...] = ()


@cache
def load_mapping_vocabulary() -> MappingVocabulary:
    text = (
        resources.files("healthspace.terminology")
        .joinpath("data/loinc_abbreviations.json")
        .read_text("utf-8")
    )
    return MappingVocabulary.model_validate(json.loads(text))


def words_of(text: str) -> list[str]:
    """Folded words of a name; ``%`` and ``#`` stay words (a share, a count), and a dotted
    acronym is one word ("V.G.M." is "vgm")."""
    folded = _DOTTED_ACRONYM.sub(lambda m: m.group(0).replace(".", ""), fold(text))
    return _WORD.findall(folded)


def unit_property(unit: str | None, catalog: LabCatalog | None = None) -> str | None:
    """The LOINC property a UCUM unit expresses: "mg/dL" → MCnc, "umol/L" → SCnc, "%" → Fr."""
    if unit is None or not unit.strip():
        return None
    code = canonical_unit(unit, catalog).replace("{", "").replace("}", "")
    lowered = code.casefold()
    fixed = {
        "%": "Fr",
        "[ph]": "LsCnc",
        "mm[hg]": "PPres",
        "s": "Time",
        "min": "Time",
        "mm/h": "Vel",
        "fl": "EntVol",
        "pg": "EntMass",
        "fmol": "EntSub",
        "mosm/kg": "Osmol",
        "/[hpf]": "Naric",
        "titer": "Titr",
        "inr": "RelTime",
        "ratio": "Rto",
        "1": "Rto",
        "[ppth]": "Fr",
        "ng/ml/h": "CRat",
    }
    if lowered in fixed:
        return fixed[lowered]
    if lowered.startswith("ml/min"):
        return "VRat"
    if "24.h" in lowered or lowered.endswith("/d"):
        return "MRat"
    numerator, _, denominator = lowered.partition("/")
    volume = re.fullmatch(r"(?:[munpfd]?l|mm3)", denominator) is not None
    substance = re.fullmatch(r"[munpf]?mol", numerator) is not None
    mass = re.fullmatch(r"[kmunpf]?g", numerator) is not None
    if volume:
        if mass:
            return "MCnc"
        if substance:
            return "SCnc"
        if re.fullmatch(r"[kmu]?\[iu\]", numerator):
            return "ACnc"
        if re.fullmatch(r"[kmu]?u", numerator):
            return "CCnc"
        if numerator == "" or re.fullmatch(r"10\*\d+", numerator) or numerator == "cells":
            return "NCnc"
    if denominator and (substance or mass):
        # mmol/mol, mg/g{creat}, mg/mmol{creat}: one amount per another of the same kind.
        return "SFr" if substance and "mol" in denominator else "MRto"
    return None


_RELATED_PROPERTIES = {frozenset({"ACnc", "CCnc"})}


def _specimen_class(specimen: str) -> str:
    """The catalog's specimen grouped as reports name it."""
    text = specimen.casefold()
    if text.startswith("urine"):
        return "urine"
    if "capillary" in text:
        return "capillary blood"
    if "arterial" in text:
        return "arterial blood"
    if "plasma" in text or "serum" in text:
        return "serum/plasma"
    return "blood"


@dataclass(frozen=True, slots=True)
class _Name:
    lab: LabTest
    text: str
    words: tuple[str, ...]
    own: bool  # a name of this very test, not of its mass/molar twin


@dataclass(frozen=True, slots=True)
class Reason:
    kind: Literal["name", "unit", "specimen"]
    match: str
    detail: str
    score: float

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "match": self.match, "detail": self.detail, "score": self.score}


@dataclass(frozen=True, slots=True)
class LoincSuggestion:
    code: str
    display: str
    score: float
    reasons: tuple[Reason, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "system": "http://loinc.org",
            "code": self.code,
            "display": self.display,
            "score": self.score,
            "reasons": [r.as_json() for r in self.reasons],
        }


class LoincMapper:
    """Suggests catalog LOINC codes for local test names; build once, map many names."""

    def __init__(self, catalog: LabCatalog, vocabulary: MappingVocabulary) -> None:
        self.catalog = catalog
        self.vocabulary = vocabulary
        self._filler = set(vocabulary.filler)
        self._names: list[_Name] = []
        self._by_key: dict[str, list[int]] = defaultdict(list)
        self._by_word: dict[str, set[int]] = defaultdict(set)
        twins = self._twins(catalog)
        for lab in catalog.labs:
            own = [lab.name.en, lab.name.fr, *lab.aliases.en, *lab.aliases.fr]
            borrowed = [
                t
                for twin in twins.get(lab.code, ())
                for t in (twin.name.en, twin.name.fr, *twin.aliases.en, *twin.aliases.fr)
            ]
            seen: set[tuple[str, bool]] = set()
            for texts, is_own in ((own, True), (borrowed, False)):
                for text in texts:
                    key = normalise_name(text)
                    if not key or (key, True) in seen or (key, is_own) in seen:
                        continue
                    seen.add((key, is_own))
                    index = len(self._names)
                    name_words = tuple(self._content_words(words_of(text)))
                    self._names.append(_Name(lab, text, name_words, is_own))
                    self._by_key[key].append(index)
                    for word in name_words:
                        self._by_word[word].add(index)
        total = len(self._names)
        self._weight = {
            word: math.log(1 + total / len(found)) for word, found in self._by_word.items()
        }
        self._vocabulary = sorted(self._by_word)

    @staticmethod
    def _twins(catalog: LabCatalog) -> dict[str, list[LabTest]]:
        """Tests of one analyte reported in mass and in molar units ("Glucose" and "Glucose
        (molar)", "Free thyroxine (free T4)" and "Free thyroxine (molar)"): a local name of
        either may mean both, and the unit tells them apart."""
        by_name: dict[str, list[LabTest]] = defaultdict(list)
        for lab in catalog.labs:
            if not _TWIN_SUFFIX.search(lab.name.en):
                by_name[lab.name.en.casefold()].append(lab)
                by_name[_TRAILING_NOTE.sub("", lab.name.en).casefold()].append(lab)
        twins: dict[str, list[LabTest]] = defaultdict(list)
        for lab in catalog.labs:
            if not _TWIN_SUFFIX.search(lab.name.en):
                continue
            base = _TWIN_SUFFIX.sub("", lab.name.en).casefold()
            for partner in dict.fromkeys(by_name.get(base, ())):
                twins[lab.code].append(partner)
                twins[partner.code].append(lab)
        return twins

    def _content_words(self, words: list[str]) -> list[str]:
        """Words that tell tests apart: abbreviations expanded, filler and specimen words out
        (the specimen is weighed on its own)."""
        result: list[str] = []
        for word in words:
            if word in self._filler or word in self.vocabulary.specimens:
                continue
            result.extend(self.vocabulary.abbreviations.get(word, (word,)))
        return result

    def _specimen_words(self, words: list[str]) -> str | None:
        """The specimen a name's words state; the most specific when several do ("pH sanguin
        artériel" is arterial blood, "Sang urinaire" is urine)."""
        found = [self.vocabulary.specimens[w] for w in words if w in self.vocabulary.specimens]
        return max(found, key=lambda s: _SPECIFICITY.get(s, 0)) if found else None

    def _word_matches(self, word: str) -> dict[str, float]:
        """Catalog words this query word may be, with the credit each match earns."""
        matches: dict[str, float] = {}
        if word in self._weight:
            matches[word] = 1.0
        if len(word) >= 3 and not word.isdigit():
            for candidate in self._vocabulary:
                if candidate != word and candidate.startswith(word):
                    matches.setdefault(candidate, _PREFIX_CREDIT)
        if len(word) >= 5 and not matches:
            for candidate in difflib.get_close_matches(word, self._vocabulary, n=3, cutoff=0.85):
                matches.setdefault(candidate, _FUZZY_CREDIT)
        return matches

    def map(
        self,
        name: str,
        unit: str | None = None,
        specimen: str | None = None,
        limit: int = 5,
    ) -> list[LoincSuggestion]:
        """Catalog codes for a local test name, best first, each score in [0, 1]."""
        if len(name) > MAX_NAME_CHARS:
            raise LoincMapError(
                f"The test name has {len(name)} characters; give the name as the report prints "
                f"it (at most {MAX_NAME_CHARS})."
            )
        unit = unit.strip() if unit and unit.strip() else None
        raw_words = words_of(name)
        query = list(dict.fromkeys(self._content_words(raw_words)))  # "T4 libre (FT4)": once
        key = normalise_name(name)
        wanted_specimen, specimen_origin = self._wanted_specimen(raw_words, specimen)
        name_scores = self._name_scores(key, query)
        if not name_scores:
            return []
        suggestions = [
            self._suggestion(lab, name_hit, unit, wanted_specimen, specimen_origin)
            for lab, name_hit in name_scores.items()
        ]
        order = {lab.code: i for i, lab in enumerate(self.catalog.labs)}
        suggestions.sort(key=lambda s: (-s.score, order[s.code]))
        return suggestions[: max(limit, 0)]

    def _wanted_specimen(
        self, raw_words: list[str], specimen: str | None
    ) -> tuple[str | None, str]:
        if specimen and specimen.strip():
            folded = fold(specimen.strip())
            given = (
                self.vocabulary.specimen_codes.get(folded)
                or self.vocabulary.specimens.get(folded)
                or self._specimen_words(words_of(specimen))
            )
            if given is not None:
                return given, "given"
        found = self._specimen_words(raw_words)
        return (found, "name") if found else (None, "none")

    def _name_scores(
        self, key: str, query: list[str]
    ) -> dict[LabTest, tuple[float, _Name, NameVia]]:
        """The best name of each candidate test with its similarity to the query."""
        best: dict[LabTest, tuple[float, _Name, NameVia]] = {}

        def keep(score: float, item: _Name, via: NameVia) -> None:
            if not item.own:
                score *= _ANALYTE_DISCOUNT
                via = "analyte" if via == "words" or via == "exact" else via
            current = best.get(item.lab)
            if current is None or score > current[0]:
                best[item.lab] = (round(score, 4), item, via)

        for index in self._by_key.get(key, ()):
            keep(1.0, self._names[index], "exact")
        if not query:
            return best
        credits: list[dict[str, float]] = [self._word_matches(w) for w in query]
        candidates: set[int] = set()
        for matches in credits:
            for word in matches:
                candidates |= self._by_word[word]
        query_weights = [
            max((self._weight[w] for w in matches), default=self._unknown_weight())
            for matches in credits
        ]
        for index in candidates:
            item = self._names[index]
            score = self._similarity(credits, query_weights, item.words)
            if score > 0:
                keep(score * 0.98, item, "words")  # below an exact name, always
        return best

    def _unknown_weight(self) -> float:
        return math.log(1 + len(self._names))

    def _similarity(
        self,
        credits: list[dict[str, float]],
        query_weights: list[float],
        name_words: tuple[str, ...],
    ) -> float:
        """Weighted overlap of query and name words: half how much of the query the name
        explains, half how much of the name the query covers (rare words weigh more)."""
        name_weights = [self._weight.get(w, self._unknown_weight()) for w in name_words]
        remaining = dict.fromkeys(range(len(name_words)), True)
        matched_query = 0.0
        matched_name = 0.0
        for matches, query_weight in zip(credits, query_weights, strict=True):
            chosen: tuple[int, float] | None = None
            for position, word in enumerate(name_words):
                credit = matches.get(word)
                if (
                    credit is not None
                    and remaining.get(position)
                    and (chosen is None or credit > chosen[1])
                ):
                    chosen = (position, credit)
            if chosen is None:
                continue
            position, credit = chosen
            remaining[position] = False
            matched_query += credit * query_weight
            matched_name += credit * name_weights[position]
        if matched_query == 0:
            return 0.0
        precision = matched_query / sum(query_weights)
        recall = matched_name / sum(name_weights)
        return min(1.0, 0.5 * precision + 0.5 * recall)

    def _suggestion(
        self,
        lab: LabTest,
        name_hit: tuple[float, _Name, NameVia],
        unit: str | None,
        specimen: str | None,
        specimen_origin: str,
    ) -> LoincSuggestion:
        name_score, item, via = name_hit
        unit_match, unit_detail = self._unit_match(lab, unit)
        specimen_match, specimen_detail = self._specimen_match(lab, specimen, specimen_origin)
        factor = (
            _NAME_SHARE
            + _UNIT_SHARE * _UNIT_FACTOR[unit_match]
            + _SPECIMEN_SHARE * _SPECIMEN_FACTOR[specimen_match]
        )
        if unit_match == "mismatch":
            factor *= _MISMATCH_PENALTY
        if specimen_match == "mismatch":
            factor *= _MISMATCH_PENALTY
        score = round(max(0.0, min(1.0, name_score * factor)), 3)
        reasons = (
            Reason("name", via, f"matched '{item.text}'", name_score),
            Reason("unit", unit_match, unit_detail, _UNIT_FACTOR[unit_match]),
            Reason("specimen", specimen_match, specimen_detail, _SPECIMEN_FACTOR[specimen_match]),
        )
        return LoincSuggestion(lab.code, lab.name.en, score, reasons)

    def _unit_match(self, lab: LabTest, unit: str | None) -> tuple[UnitMatch, str]:
        if unit is None:
            return "none", "no unit given"
        expected = lab.unit
        got = unit_property(unit, self.catalog)
        if expected is None:
            return "none", f"the test has no unit; '{unit}' not used"
        wanted = unit_property(expected, self.catalog)
        canonical = canonical_unit(unit, self.catalog)
        if canonical.casefold() == expected.casefold():
            return "exact", f"'{unit}' is the test's unit {expected} ({wanted})"
        if got is not None and got == wanted:
            return "same_property", f"'{unit}' is {got}, the property of {expected}"
        if got is not None and frozenset({got, wanted}) in _RELATED_PROPERTIES:
            return "related_property", f"'{unit}' is {got}, close to {wanted} of {expected}"
        if any(c.unit.casefold() == canonical.casefold() for c in lab.conversions):
            return "convertible", f"'{unit}' converts to {expected} but is {got}, not {wanted}"
        shown = got or "an unknown property"
        return "mismatch", f"'{unit}' is {shown}; the test is {wanted} ({expected})"

    @staticmethod
    def _specimen_match(
        lab: LabTest, specimen: str | None, origin: str
    ) -> tuple[SpecimenMatch, str]:
        actual = _specimen_class(lab.specimen)
        if specimen is None:
            return "none", f"specimen not stated; the test is on {lab.specimen}"
        where = "given" if origin == "given" else "from the name"
        if specimen == actual:
            return "same", f"{specimen} ({where})"
        if specimen in _BLOOD_SPECIMENS and actual in _BLOOD_SPECIMENS:
            return "compatible", f"{specimen} ({where}); the test is on {lab.specimen}"
        return "mismatch", f"{specimen} ({where}); the test is on {lab.specimen}"


@cache
def load_loinc_mapper() -> LoincMapper:
    """The mapper over the shipped catalog and vocabulary, built once per process."""
    return LoincMapper(load_lab_catalog(), load_mapping_vocabulary())


def map_local_name(
    name: str, unit: str | None = None, specimen: str | None = None, limit: int = 5
) -> list[LoincSuggestion]:
    """LOINC suggestions for a local test name (and its unit and specimen when known)."""
    if not name.strip():
        raise LoincMapError("Give the test name as the report prints it, e.g. 'Créat'.")
    return load_loinc_mapper().map(name, unit, specimen, limit)
