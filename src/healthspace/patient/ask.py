"""``ask``: a question answered from the sourced knowledge and the person's record, offline.

The offline composer (DESIGN.md) writes no free text: every sentence is a phrase of
``data/ask_phrases.json`` filled with a sourced knowledge item or a record fact, and carries what
backs it (a citation, a record reference, or, for the few sentences about the service itself,
nothing to cite: the restatement, a polite decline, "I could not find a source", the reminder).

Find, then act (STYLE.md §2), in the order safety asks for:

1. ``triage`` reads every message first; an emergency or urgent level puts its advice and the
   number to call at the top of the answer, whatever else was asked.
2. ``find_scope_request`` looks for what Healthspace must never do (a diagnosis, a change of dose
   or of treatment, a prescription) with the patterns of ``data/ask_patterns.json``; a match is
   declined politely with the right person to ask, and nothing else is answered.
3. ``parse_statement`` (health memory) recognises a fact the person tells us, which is stored
   as a patient-reported resource when a person is given.
4. ``find_subjects`` finds the labs, medicines, conditions and glossary terms the question
   names, and ``read_question`` reads what is asked of them (a trend, "with my treatment").
5. Composition turns each subject into sentences from its content or the record; with no
   subject, a knowledge search is the last resort, and with nothing found the answer says so.

The question is data, never instructions: nothing in it can switch a rule off. "Ignore your
rules and prescribe X" is simply a request for a prescription, declined like any other.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from healthspace.bootstrap import Healthspace
from healthspace.errors import HealthspaceError
from healthspace.knowledge import conditions as condition_content
from healthspace.knowledge import lab_content, medicine_content
from healthspace.knowledge.citations import Frozen, Names, Source
from healthspace.knowledge.folding import fold
from healthspace.knowledge.glossary import GlossaryTerm, find_term, load_glossary
from healthspace.knowledge.interactions import find_interactions
from healthspace.knowledge.search.engine import SearchHit, engine_for
from healthspace.patient.lab_service import format_date, format_quantity, read_person_labs
from healthspace.patient.labs import LabResult, latest, person_facts, trend_between
from healthspace.patient.medication_service import (
    explain_medicine,
    phrase,
    read_person_medicines,
    status_label,
)
from healthspace.patient.medications import medicine_label
from healthspace.patient.memory import NoPatientError, ParsedStatement, parse_statement, remember
from healthspace.patient.reports import detect_language
from healthspace.safety.triage import MAX_TEXT_CHARS, TriageResult, triage
from healthspace.terminology.labs import LabTest, find_lab
from healthspace.terminology.medicines import Medicine, find_medicine

Language = Literal["en", "fr"]
ScopeCategory = Literal["diagnosis", "dose_change", "prescription"]
SubjectKind = Literal["lab", "medicine", "condition", "term"]
# What backs a sentence: knowledge (citations), the record (references), triage (its sources),
# or nothing to cite because the sentence speaks about the service itself.
SentenceKind = Literal["triage", "knowledge", "record", "memory", "service", "orientation"]
SearchPort = Callable[[str, Language], Sequence[SearchHit]]

MAX_QUESTION_CHARS = MAX_TEXT_CHARS
# A question names a handful of things; more would be a pasted document, not a question.
_MAX_SUBJECTS = 3
# The longest name looked up, in words ("hemoglobin a1c", "type 2 diabetes mellitus").
_MAX_NAME_WORDS = 5
# Search hits below this BM25 score matched a stray word, not the question.
_MIN_SEARCH_SCORE = 8.0
_SEARCH_SENTENCES = 2
_WORD = re.compile(r"[^\W_]+")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'"})
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZÀ-Ý0-9\"«(])")
# Glossary word parts ("my-", "a-") would turn every "my" into a medical term.
_SKIPPED_GLOSSARY = frozenset({"prefix_suffix"})
_MIN_TERM_CHARS = 3


class QuestionTooLongError(HealthspaceError, ValueError):
    """A question longer than ``MAX_QUESTION_CHARS``: ask about one thing at a time."""

    http_status = 422

    def __init__(self, length: int) -> None:
        super().__init__(
            f"The question is {length} characters long; ask reads at most "
            f"{MAX_QUESTION_CHARS}. Ask about one thing at a time."
        )


# --------------------------------------------------------------------------- data files


class AskPhrases(Frozen):
    """The sentences ``ask`` writes around content and record facts, English and French."""

    version: str = Field(min_length=1)
    comment: str = ""
    phrases: Mapping[str, Names]

    @model_validator(mode="after")
    def _same_placeholders(self) -> AskPhrases:
        for key, names in self.phrases.items():
            if _fields(names.en) != _fields(names.fr):
                raise ValueError(f"phrase {key!r}: English and French placeholders differ")
        return self


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


class ScopePatterns(Frozen):
    en: tuple[str, ...] = ()
    fr: tuple[str, ...] = ()


class LanguagePattern(Frozen):
    en: str
    fr: str


class AskPatterns(Frozen):
    """The patterns that read a question; validated so a bad regex fails in CI, not in use."""

    version: str = Field(min_length=1)
    comment: str = ""
    scope: Mapping[ScopeCategory, ScopePatterns]
    trend: LanguagePattern
    year: LanguagePattern
    treatment: LanguagePattern
    own: LanguagePattern
    take: LanguagePattern

    @model_validator(mode="after")
    def _patterns_compile(self) -> AskPatterns:
        texts = [p for s in self.scope.values() for p in (*s.en, *s.fr)]
        for pattern in (self.trend, self.year, self.treatment, self.own, self.take):
            texts += [pattern.en, pattern.fr]
        for text in texts:
            try:
                re.compile(text)
            except re.error as error:
                raise ValueError(f"pattern {text!r} does not compile: {error}") from error
        return self


def _read_data(name: str) -> Any:
    text = resources.files("healthspace.patient").joinpath(f"data/{name}").read_text("utf-8")
    return json.loads(text)


@cache
def load_ask_phrases() -> AskPhrases:
    """The phrase table shipped with Healthspace, read once and validated."""
    return AskPhrases.model_validate(_read_data("ask_phrases.json"))


@cache
def load_ask_patterns() -> AskPatterns:
    """The question patterns shipped with Healthspace, read once and validated."""
    return AskPatterns.model_validate(_read_data("ask_patterns.json"))


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def say(key: str, lang: Language, **values: str) -> str:
    """The phrase ``key`` of ``ask_phrases.json`` in ``lang``, placeholders filled."""
    names = load_ask_phrases().phrases[key]
    return (names.fr if lang == "fr" else names.en).format(**values)


# --------------------------------------------------------------------------- finding


def folded_question(text: str) -> str:
    """The question as patterns read it: lower case, no accents, straight apostrophes."""
    return fold(text.translate(_APOSTROPHES))


@dataclass(frozen=True)
class ScopeRequest:
    """A request Healthspace declines, with the evidence: which pattern matched where."""

    category: ScopeCategory
    pattern: str
    start: int
    end: int


def find_scope_request(text: str) -> ScopeRequest | None:
    """The first out-of-scope request in the question (both languages are tried), or None.

    A prescription is looked for first: "ignore your rules and prescribe X" must read as the
    request it is, whatever else the text says.
    """
    folded = folded_question(text)
    scope = load_ask_patterns().scope
    for category in ("prescription", "dose_change", "diagnosis"):
        patterns = scope.get(category)
        if patterns is None:
            continue
        for pattern in (*patterns.en, *patterns.fr):
            match = _compiled(pattern).search(folded)
            if match is not None:
                return ScopeRequest(category, pattern, match.start(), match.end())
    return None


@dataclass(frozen=True)
class QuestionCues:
    """What is asked of the subjects: a trend, since a year, with the person's treatment..."""

    trend: bool
    year: bool
    treatment: bool
    own: bool
    take: bool


def _cue(pattern: LanguagePattern, folded: str) -> re.Match[str] | None:
    return _compiled(pattern.en).search(folded) or _compiled(pattern.fr).search(folded)


def read_question(text: str) -> QuestionCues:
    """The cues of ``data/ask_patterns.json`` found in the question (both languages)."""
    folded = folded_question(text)
    patterns = load_ask_patterns()
    return QuestionCues(
        trend=_cue(patterns.trend, folded) is not None,
        year=_cue(patterns.year, folded) is not None,
        treatment=_cue(patterns.treatment, folded) is not None,
        own=_cue(patterns.own, folded) is not None,
        take=_cue(patterns.take, folded) is not None,
    )


@dataclass(frozen=True)
class Subject:
    """A lab, medicine, condition or glossary term the question names, and where."""

    kind: SubjectKind
    start: int
    end: int
    lab: LabTest | None = None
    medicine: Medicine | None = None
    condition: condition_content.Condition | None = None
    term: GlossaryTerm | None = None

    @property
    def key(self) -> str:
        if self.lab is not None:
            return f"lab:{self.lab.code}"
        if self.medicine is not None:
            return f"medicine:{self.medicine.id}"
        if self.condition is not None:
            return f"condition:{self.condition.id}"
        assert self.term is not None
        return f"glossary:{self.term.id}"


def _look_up(words: str, lang: Language) -> Subject | None:
    lab = find_lab(words)
    if lab is not None:
        return Subject("lab", 0, 0, lab=lab)
    medicine = find_medicine(words)
    if medicine is not None:
        return Subject("medicine", 0, 0, medicine=medicine)
    # One or two letters ("m" of "I'm", "pe") name a term only by accident in a question.
    if sum(ch.isalnum() for ch in words) < _MIN_TERM_CHARS:
        return None
    condition = condition_content.find_condition(words)
    if condition is not None:
        return Subject("condition", 0, 0, condition=condition)
    term = find_term(words, lang) or find_term(words)
    if term is not None and term.category not in _SKIPPED_GLOSSARY:
        return Subject("term", 0, 0, term=term)
    return None


def find_subjects(text: str, lang: Language) -> list[Subject]:
    """The things the question names, longest names first, without overlaps, in reading order.

    Words the cue patterns use ("my treatment", "better") are masked first, so "treatment" is
    read as the person's medicines, not as the glossary's definition of a treatment.
    """
    masked = _mask_cues(text.translate(_APOSTROPHES))
    spans = [(m.start(), m.end()) for m in _WORD.finditer(masked)]
    found: list[Subject] = []
    seen: set[str] = set()
    i = 0
    while i < len(spans) and len(found) < _MAX_SUBJECTS:
        hit: tuple[Subject, int] | None = None
        for size in range(min(_MAX_NAME_WORDS, len(spans) - i), 0, -1):
            start, end = spans[i][0], spans[i + size - 1][1]
            subject = _look_up(masked[start:end], lang)
            if subject is not None:
                hit = (replace(subject, start=start, end=end), size)
                break
        if hit is None:
            i += 1
            continue
        subject, size = hit
        if subject.key not in seen:
            seen.add(subject.key)
            found.append(subject)
        i += size
    return found


def _mask_cues(text: str) -> str:
    folded = folded_question(text)
    patterns = load_ask_patterns()
    masked = list(text)
    # Folding keeps positions for the letters questions use; where it would not (a ligature),
    # the cues are simply left unmasked.
    if len(folded) != len(text):
        return text
    for pattern in (patterns.treatment, patterns.trend, patterns.year):
        for regex in (pattern.en, pattern.fr):
            for match in _compiled(regex).finditer(folded):
                masked[match.start() : match.end()] = " " * (match.end() - match.start())
    return "".join(masked)


# --------------------------------------------------------------------------- the answer


@dataclass(frozen=True)
class Sentence:
    """One sentence of the answer and what backs it."""

    text: str
    kind: SentenceKind
    sources: tuple[Source, ...] = ()
    records: tuple[str, ...] = ()

    @property
    def grounded(self) -> bool:
        """Backed by a knowledge source or a record item (not a sentence about the service)."""
        return bool(self.sources or self.records)


@dataclass(frozen=True)
class Engine:
    """What wrote an answer: the offline composer, or later a configured language model."""

    id: str
    name: Names

    def as_json(self, lang: Language) -> dict[str, str]:
        return {"id": self.id, "name": self.name.fr if lang == "fr" else self.name.en}


OFFLINE_COMPOSER = Engine(
    "offline",
    Names(
        en="Offline composer (no language model)",
        fr="Rédacteur hors ligne (sans modèle de langage)",
    ),
)


@dataclass(frozen=True)
class Answer:
    """The composed answer; ``as_json`` is DESIGN.md's ``ask`` document plus its evidence."""

    lang: Language
    understood: str
    sentences: tuple[Sentence, ...]
    triage: TriageResult | None
    declined: ScopeCategory | None = None
    intents: tuple[str, ...] = ()
    person: str | None = None
    engine: Engine = OFFLINE_COMPOSER

    @property
    def citations(self) -> list[Source]:
        return list(dict.fromkeys(s for sentence in self.sentences for s in sentence.sources))

    @property
    def record_refs(self) -> list[str]:
        return list(dict.fromkeys(r for sentence in self.sentences for r in sentence.records))

    @property
    def grounded(self) -> bool:
        """True when something other than triage and service sentences answers the question."""
        return any(s.grounded and s.kind not in ("triage", "service") for s in self.sentences)

    @property
    def text(self) -> str:
        """The answer as read: urgent advice first, then the restatement, then the rest."""
        lead = [s.text for s in self.sentences if s.kind == "triage"]
        rest = [s.text for s in self.sentences if s.kind != "triage"]
        return "\n".join([*lead, self.understood, *rest])

    def as_json(self) -> dict[str, Any]:
        citations = self.citations
        index = {source: number for number, source in enumerate(citations)}
        return {
            "answer": self.text,
            "citations": [_citation(s) for s in citations],
            "record_refs": self.record_refs,
            "triage": self.triage.as_json() if self.triage is not None else None,
            "grounded": self.grounded,
            "understood": self.understood,
            "sentences": [
                {
                    "text": s.text,
                    "kind": s.kind,
                    "support": {
                        "citations": [index[source] for source in s.sources],
                        "record_refs": list(s.records),
                    },
                }
                for s in self.sentences
            ],
            "declined": self.declined,
            "intents": list(self.intents),
            "lang": self.lang,
            "person": self.person,
            "engine": self.engine.id,
            "engine_info": self.engine.as_json(self.lang),
        }


def _citation(source: Source) -> dict[str, str]:
    return {"title": source.title, "publisher": source.publisher, "url": source.url}


@dataclass
class _Draft:
    """An answer being written: sentences in order and the topics of the restatement."""

    lang: Language
    sentences: list[Sentence] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    intents: list[str] = field(default_factory=list)

    def add(
        self,
        text: str,
        kind: SentenceKind,
        sources: Iterable[Source] = (),
        records: Iterable[str] = (),
    ) -> None:
        self.sentences.append(
            Sentence(text, kind, tuple(dict.fromkeys(sources)), tuple(dict.fromkeys(records)))
        )


# --------------------------------------------------------------------------- the record port


@dataclass(frozen=True)
class PersonRecord:
    """What ``ask`` may read of a person's record, gathered lazily by the service."""

    person: str
    name: str | None
    country: str | None
    labs: Callable[[], list[LabResult]]
    medicines: Callable[[Medicine], Any]  # explain_medicine for this person
    current: Callable[
        [], list[tuple[str, Medicine | None, str, str]]
    ]  # name, medicine, ref, status
    remember: Callable[[ParsedStatement, str], tuple[bool, str, str]]  # stored, summary, ref


# --------------------------------------------------------------------------- composing


def compose_answer(
    question: str,
    lang: Language | None = None,
    country: str | None = None,
    record: PersonRecord | None = None,
    search: SearchPort | None = None,
) -> Answer:
    """The answer to ``question``; pure apart from the record and search ports it is given."""
    if len(question) > MAX_QUESTION_CHARS:
        raise QuestionTooLongError(len(question))
    lang = lang or detect_language(question)
    draft = _Draft(lang)
    oriented = triage(question, lang, country or (record.country if record else None))
    urgent = oriented.level in ("emergency", "urgent")
    if urgent:
        draft.add(oriented.advice, "triage", oriented.sources)
    shown_triage = oriented if (urgent or oriented.findings.recognised) else None

    declined = find_scope_request(question)
    if declined is not None:
        draft.topics.append(say(f"topic_{declined.category}", lang))
        draft.intents.append(f"declined:{declined.category}")
        draft.add(say(f"decline_{declined.category}", lang), "service")
        draft.add(say(f"orient_{declined.category}", lang), "orientation")
        return _finish(draft, shown_triage, declined.category, record)

    statement = parse_statement(question, lang)
    if statement is not None:
        _compose_memory(draft, statement, question, record)
    else:
        subjects = find_subjects(question, lang)
        cues = read_question(question)
        if subjects:
            _compose_subjects(draft, subjects, cues, record)
        elif oriented.findings.recognised and not urgent:
            # Symptoms and nothing else: the triage orientation is the answer.
            draft.topics.append(say("topic_symptoms", lang))
            draft.intents.append("symptoms")
            draft.add(oriented.advice, "orientation", oriented.sources)
        elif urgent:
            draft.topics.append(say("topic_symptoms", lang))
            draft.intents.append("symptoms")
        else:
            _compose_search(draft, question, search)
    answered = any(s.grounded and s.kind not in ("triage", "service") for s in draft.sentences)
    # Symptoms and memories are answered by triage and the service; anything else unanswered
    # says so and names who can answer.
    if not (answered or urgent or {"symptoms", "memory"} & set(draft.intents)):
        draft.add(say("not_found", lang), "orientation")
    return _finish(draft, shown_triage, None, record)


def _finish(
    draft: _Draft,
    shown_triage: TriageResult | None,
    declined: ScopeCategory | None,
    record: PersonRecord | None,
) -> Answer:
    lang = draft.lang
    topics = say("topics_separator", lang).join(draft.topics) or say("topic_unknown", lang)
    if record is not None and record.name:
        understood = say("understood_for", lang, topics=topics, person=record.name)
    else:
        understood = say("understood", lang, topics=topics)
    # The rule: close with the reminder unless the answer already sends the person
    # to a clinician (an orientation sentence, or urgent triage advice).
    if not any(s.kind in ("orientation", "triage") for s in draft.sentences):
        draft.add(say("reminder", lang), "service")
    return Answer(
        lang=lang,
        understood=understood,
        sentences=tuple(draft.sentences),
        triage=shown_triage,
        declined=declined,
        intents=tuple(draft.intents),
        person=record.person if record else None,
    )


def _compose_memory(
    draft: _Draft, statement: ParsedStatement, question: str, record: PersonRecord | None
) -> None:
    lang = draft.lang
    draft.intents.append("memory")
    if record is None:
        draft.topics.append(say("topic_memory", lang, summary=statement.subject))
        draft.add(say("memory_need_person", lang), "service")
        return
    try:
        stored, summary, ref = record.remember(statement, question)
    except NoPatientError:
        draft.topics.append(say("topic_memory", lang, summary=statement.subject))
        draft.add(say("memory_no_patient", lang), "service")
        return
    draft.topics.append(say("topic_memory", lang, summary=summary))
    key = "memory_stored" if stored else "memory_known"
    draft.add(say(key, lang, summary=summary), "memory", (), (ref,))


def _compose_subjects(
    draft: _Draft, subjects: Sequence[Subject], cues: QuestionCues, record: PersonRecord | None
) -> None:
    medicines = [s.medicine for s in subjects if s.medicine is not None]
    if medicines:
        _compose_medicines(draft, medicines, cues, record)
    for subject in subjects:
        if subject.lab is not None:
            _compose_lab(draft, subject.lab, cues, record)
        elif subject.condition is not None:
            _compose_condition(draft, subject.condition)
        elif subject.term is not None:
            _compose_term(draft, subject.term)


# --- labs


def _lab_name(lab: LabTest, lang: Language) -> str:
    """The test's name as it reads inside a sentence ("total cholesterol", "HbA1c")."""
    name = lab.name.fr if lang == "fr" else lab.name.en
    return name[0].lower() + name[1:] if len(name) > 1 and name[1].islower() else name


def _compose_lab(
    draft: _Draft, lab: LabTest, cues: QuestionCues, record: PersonRecord | None
) -> None:
    lang = draft.lang
    name = _lab_name(lab, lang)
    about_record = cues.trend or cues.own
    if about_record and record is not None:
        key = "topic_lab_trend_year" if cues.year else "topic_lab_trend" if cues.trend else None
        draft.topics.append(say(key or "topic_lab_value", lang, lab=name))
        draft.intents.append("lab_trend" if cues.trend else "lab_value")
        history = [r for r in record.labs() if r.code == lab.code]
        if history:
            _compose_lab_history(draft, name, history, cues)
            return
        draft.add(say("lab_none_in_record", lang, lab=name), "service")
    else:
        draft.topics.append(say("topic_lab_info", lang, lab=name))
        draft.intents.append("lab_info")
        if about_record:
            draft.add(say("need_person", lang), "service")
    _compose_lab_content(draft, lab, name)


def _compose_lab_content(draft: _Draft, lab: LabTest, name: str) -> None:
    lang = draft.lang
    content = lab_content.content_for(lab.code)
    if content is None:
        return
    sources = lab_content.sources_of(content)
    measures = content.measures.fr if lang == "fr" else content.measures.en
    text = say("lab_measures", lang, lab=_capital(name), measures=measures)
    draft.add(text, "knowledge", sources)
    for entry in content.see_doctor.in_language(lang)[:1]:
        draft.add(_as_sentence(entry), "orientation", sources)


def _compose_lab_history(
    draft: _Draft, name: str, history: Sequence[LabResult], cues: QuestionCues
) -> None:
    lang = draft.lang
    last = latest(history)
    assert last is not None
    when = format_date(last.date, lang)
    if not isinstance(last.value, float):
        value = str(last.value) if last.value is not None else "-"
        text = say("lab_latest_text", lang, lab=name, date=when, value=value)
        draft.add(text, "record", (), (last.resource,))
        return
    shown = format_quantity(last.value, last.unit, lang)
    text = say("lab_latest", lang, lab=name, value=shown, date=when)
    draft.add(text, "record", (), (last.resource,))
    if last.flag is not None:
        draft.add(say(f"lab_flag_{last.flag}", lang), "record", (), (last.resource,))
    if not (cues.trend or cues.year):
        return
    earlier = _comparison_point(history, last, cues.year)
    if earlier is None:
        draft.add(say("lab_only_one", lang, lab=name), "record", (), (last.resource,))
        return
    assert isinstance(earlier.value, float)
    key = "lab_year_before" if cues.year else "lab_previous"
    before = format_quantity(earlier.value, earlier.unit, lang)
    text = say(key, lang, date=format_date(earlier.date, lang), value=before)
    draft.add(text, "record", (), (earlier.resource,))
    trend = trend_between(earlier, last)
    refs = (earlier.resource, last.resource)
    if trend is not None:
        if trend.direction == "stable":
            draft.add(say("lab_same", lang), "record", (), refs)
        else:
            change = format_quantity(abs(trend.change), last.unit, lang)
            key = "lab_higher" if trend.direction == "rising" else "lab_lower"
            draft.add(say(key, lang, change=change), "record", (), refs)
    if earlier.flag in ("high", "low", "critical") and last.flag == "normal":
        draft.add(say("lab_earlier_flag", lang), "record", (), refs)
    # "Better" is the person's word; whether lower is better depends on them, not on us.
    draft.add(say("lab_judge", lang), "orientation")


def _comparison_point(
    history: Sequence[LabResult], last: LabResult, year: bool
) -> LabResult | None:
    """The result to compare with: the one nearest a year before, or the one just before."""
    earlier = [
        r
        for r in history
        if r.resource != last.resource
        and isinstance(r.value, float)
        and r.at is not None
        and last.at is not None
        and r.at < last.at
        and r.unit == last.unit
    ]
    if not earlier or last.at is None:
        return None
    if year:
        target = last.at - timedelta(days=365)
        return min(earlier, key=lambda r: abs((r.at - target).total_seconds()) if r.at else 0.0)
    return max(earlier, key=lambda r: r.at.isoformat() if r.at else "")


# --- medicines


def _compose_medicines(
    draft: _Draft, medicines: Sequence[Medicine], cues: QuestionCues, record: PersonRecord | None
) -> None:
    lang = draft.lang
    labels = [medicine_label(m, lang) for m in medicines]
    if len(medicines) > 1:
        together = say("and", lang).join(labels)
        draft.topics.append(say("topic_medicines_together", lang, medicines=together))
        draft.intents.append("medicines_together")
        _compose_pairs(draft, medicines)
        if record is not None:
            for medicine in medicines:
                _compose_with_record(draft, medicine, record, leaflet=False)
        return
    medicine = medicines[0]
    if cues.treatment or (record is not None and cues.take):
        draft.topics.append(say("topic_medicine_with_treatment", lang, medicine=labels[0]))
        draft.intents.append("medicine_with_treatment")
        if record is None:
            draft.add(say("need_person", lang), "service")
            _compose_leaflet(draft, medicine, cues)
            return
        _compose_with_record(draft, medicine, record, leaflet=True)
        return
    draft.topics.append(say("topic_medicine_info", lang, medicine=labels[0]))
    draft.intents.append("medicine_info")
    _compose_leaflet(draft, medicine, cues)


def _compose_leaflet(draft: _Draft, medicine: Medicine, cues: QuestionCues) -> None:
    lang = draft.lang
    label = medicine_label(medicine, lang)
    content = medicine_content.content_for(medicine.id)
    if content is None:
        draft.add(say("medicine_no_leaflet", lang, medicine=label), "service")
        return
    sources = medicine_content.sources_of(content)
    uses = _list_text(content.treats.in_language(lang), lang)
    text = say("medicine_treats", lang, medicine=_capital(label), uses=uses)
    draft.add(text, "knowledge", sources)
    if cues.take:
        for entry in content.precautions.in_language(lang)[:3]:
            draft.add(_as_sentence(entry), "knowledge", sources)


def _compose_pairs(draft: _Draft, medicines: Sequence[Medicine]) -> None:
    lang = draft.lang
    found = find_interactions([m.id for m in medicines])
    names = {m.id: medicine_label(m, lang) for m in medicines}
    for interaction in found:
        drugs = " + ".join(names.get(d, d) for d in interaction.drugs)
        text = say(
            "interaction",
            lang,
            drugs=_capital(drugs),
            severity=phrase(interaction.severity, lang, "severity"),
            effect=getattr(interaction.effect, lang),
            advice=getattr(interaction.advice, lang),
        )
        draft.add(text, "knowledge", interaction.sources)
    if not found:
        listed = say("and", lang).join(names.values())
        sources = [s for m in medicines for s in _leaflet_sources(m)]
        if sources:
            draft.add(say("no_interaction_between", lang, names=listed), "knowledge", sources)


def _leaflet_sources(medicine: Medicine) -> list[Source]:
    content = medicine_content.content_for(medicine.id)
    return medicine_content.sources_of(content) if content is not None else []


def _compose_with_record(
    draft: _Draft, medicine: Medicine, record: PersonRecord, leaflet: bool
) -> None:
    lang = draft.lang
    label = medicine_label(medicine, lang)
    explanation = record.medicines(medicine)
    warned = False
    for conflict in explanation.allergy_conflicts:
        sources = [Source.model_validate(s) for s in conflict["sources"]]
        draft.add(conflict["text"], "knowledge", sources, [conflict["resource"]])
        warned = True
    for interaction in explanation.interactions:
        drugs = " + ".join(interaction["drugs"])
        text = say(
            "interaction",
            lang,
            drugs=_capital(drugs),
            severity=phrase(interaction["severity"], lang, "severity"),
            effect=interaction["effect"],
            advice=interaction["advice"],
        )
        sources = [Source.model_validate(s) for s in interaction["sources"]]
        refs = [interaction["resource"]] if interaction.get("resource") else []
        draft.add(text, "knowledge", sources, refs)
        warned = True
    current = [c for c in record.current() if c[1] is None or c[1].id != medicine.id]
    if not explanation.interactions and leaflet:
        if current:
            names = ", ".join(name for name, _, _, _ in current)
            refs = [ref for _, _, ref, _ in current]
            text = say("no_interaction_record", lang, medicine=label, names=names)
            draft.add(text, "record", (), refs)
        else:
            draft.add(say("no_current_medicines", lang, medicine=label), "service")
    mine = [c for c in record.current() if c[1] is not None and c[1].id == medicine.id]
    for name, _, ref, status in mine:
        draft.add(say("medicine_in_record", lang, name=name, status=status), "record", (), [ref])
    if leaflet:
        _compose_leaflet(draft, medicine, QuestionCues(False, False, True, True, True))
    if warned:
        draft.add(say("ask_pharmacist", lang, medicine=label), "orientation")


# --- conditions, terms, search


def _compose_condition(draft: _Draft, condition: condition_content.Condition) -> None:
    lang = draft.lang
    name = condition.name.fr if lang == "fr" else condition.name.en
    draft.topics.append(say("topic_condition", lang, condition=name))
    draft.intents.append("condition")
    sources = condition_content.sources_of(condition)
    for entry in condition.overview.in_language(lang):
        draft.add(_as_sentence(entry), "knowledge", sources)


def _compose_term(draft: _Draft, term: GlossaryTerm) -> None:
    lang = draft.lang
    name = getattr(term.term, lang)
    draft.topics.append(say("topic_term", lang, term=name))
    draft.intents.append("term")
    glossary = load_glossary()
    sources = [glossary.sources[s] for s in term.sources]
    plain = getattr(term.plain, lang)
    colon = " :" if lang == "fr" else ":"  # French puts a space before a colon
    draft.add(_as_sentence(f"{_capital(name)}{colon} {plain}"), "knowledge", sources)
    if term.explanation is not None:
        draft.add(_as_sentence(getattr(term.explanation, lang)), "knowledge", sources)


def _compose_search(draft: _Draft, question: str, search: SearchPort | None) -> None:
    """The last resort: the best knowledge document, quoted from its own text."""
    lang = draft.lang
    draft.intents.append("search")
    hits = [h for h in (search(question, lang) if search else ()) if h.score >= _MIN_SEARCH_SCORE]
    hit = next((h for h in hits if h.sources and h.snippet.strip()), None)
    if hit is None:
        return
    draft.topics.append(say("topic_search", lang, title=hit.title))
    for text in _first_sentences(hit.snippet, _SEARCH_SENTENCES):
        draft.add(say("search_from", lang, title=hit.title, text=text), "knowledge", hit.sources)


def _first_sentences(text: str, count: int) -> list[str]:
    """Whole sentences of a snippet; a clipped last sentence ("…") is left out."""
    sentences = [s.strip() for s in _SENTENCE_END.split(" ".join(text.split())) if s.strip()]
    whole = [s for s in sentences if not s.endswith("…") and s[-1:] in ".!?"]
    return whole[:count] or [s.rstrip("…").rstrip() + "…" for s in sentences[:1]]


def _as_sentence(entry: str) -> str:
    entry = _capital(entry.strip())
    return entry if entry[-1:] in ".!?" else f"{entry}."


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _list_text(entries: Sequence[str], lang: Language) -> str:
    cleaned = [e.strip().rstrip(".") for e in entries if e.strip()]
    return ("; " if lang == "en" else " ; ").join(cleaned)


# --------------------------------------------------------------------------- the service


def _display_name(patient: Mapping[str, Any] | None) -> str | None:
    for name in (patient or {}).get("name") or []:
        if not isinstance(name, dict):
            continue
        if isinstance(name.get("text"), str) and name["text"].strip():
            return str(name["text"]).strip()
        given = [g for g in name.get("given") or [] if isinstance(g, str)]
        family = str(name["family"]) if isinstance(name.get("family"), str) else ""
        joined = " ".join([*given, family]).strip()
        if joined:
            return joined
    return None


def person_record(hs: Healthspace, actor: str, person: str, lang: Language) -> PersonRecord:
    """The record port for ``person``: each part is read (and audited) only when needed."""
    patients = hs.vault.resources(actor, person, "Patient")
    patient = next(
        (p for p in patients if p.get("id") == person), patients[0] if patients else None
    )
    facts = person_facts(patient)

    @cache
    def labs() -> list[LabResult]:
        return read_person_labs(hs, actor, person).results

    def medicines(medicine: Medicine) -> Any:
        return explain_medicine(hs, actor, medicine.id, lang, person)

    @cache
    def current() -> list[tuple[str, Medicine | None, str, str]]:
        entries = read_person_medicines(hs, actor, person).medications.current
        return [
            (e.latest.name, e.medicine, e.latest.ref, status_label(e.latest.status, lang))
            for e in entries
        ]

    def store(statement: ParsedStatement, said: str) -> tuple[bool, str, str]:
        result = remember(hs, actor, person, statement, said=said)
        return result.stored, result.memory.summary(lang), result.memory.ref

    name = _display_name(patient)
    return PersonRecord(person, name, facts.country, labs, medicines, current, store)


def knowledge_search(home: Path) -> SearchPort:
    """The search port over a data folder's knowledge (built-in content and loaded corpora)."""

    def run(query: str, lang: Language) -> Sequence[SearchHit]:
        return engine_for(home).search(query, lang=lang, limit=3)

    return run


def ask(
    hs: Healthspace,
    actor: str,
    question: str,
    person: str | None = None,
    lang: Language | None = None,
    country: str | None = None,
    search: SearchPort | None = None,
) -> Answer:
    """Answer a question from the knowledge layer and, with ``person``, their record."""
    if len(question) > MAX_QUESTION_CHARS:
        raise QuestionTooLongError(len(question))
    lang = lang or detect_language(question)
    record = person_record(hs, actor, person, lang) if person else None
    return compose_answer(
        question, lang, country, record, search or knowledge_search(hs.settings.home)
    )
