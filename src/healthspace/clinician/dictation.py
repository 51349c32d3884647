"""SOAP statements from a clinician's dictation or a visit conversation, each with evidence.

Find, then act (STYLE.md §2): the text is cut into turns ("[doctor]", "[patient]", as in
ACI-Bench) and sentences; finders pick out conditions (the ICD-10-CM coder, with its
negation/history/family rules), medicines (the catalog's names) with their doses and
frequencies as said, vital signs, exam and result findings, tests, referrals and follow-up; a
composer then writes short statements in our own words, each tied to the exact spans that
support it (``evidence.text == text[evidence.start:evidence.end]``).

Safety property: every medicine, dose and diagnosis a statement names is found in its evidence
spans; a last check re-extracts them from the statement and drops any statement that fails.
In a conversation, a doctor's question counts only through the patient's answer ("any chest
pain?" / "no" → "Denies chest pain"); an unanswered question states nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Literal

from healthspace.clinician.dictation_cues import (
    CueLanguage,
    Cues,
    Section,
    heading_section,
    load_cues,
)
from healthspace.coding.context import Modifier, load_context_rules, status_of
from healthspace.coding.icd10_coder import Icd10Coder, load_icd10_coder
from healthspace.coding.tokens import (
    PhraseMatch,
    PhraseMatcher,
    Token,
    clause_numbers,
    longest_first,
    sentence_numbers,
    tokenize,
)
from healthspace.errors import HealthspaceError
from healthspace.terminology.medicines import load_medicine_catalog

__all__ = [
    "SECTIONS",
    "DictatedStatement",
    "DictationError",
    "Evidence",
    "statements_from_dictation",
]

SECTIONS: tuple[Section, ...] = ("subjective", "objective", "assessment", "plan")
# A long dictation or a one-hour visit transcript is well under this.
MAX_TEXT_CHARS = 200_000

Speaker = Literal["clinician", "patient"]
Phase = Literal["history", "objective", "assessment"]
_PHASE_ORDER: dict[str, int] = {"history": 0, "objective": 1, "assessment": 2}

_TURN = re.compile(
    r"^[ \t]*(?:\[(?P<bracket>[^\]\n]{1,30})\]|(?P<colon>[^\W\d_][\w ]{0,20}?)[ \t]*:)[ \t]*",
    re.MULTILINE,
)
_CLINICIAN_WORDS = ("doctor", "dr", "physician", "clinician", "nurse", "provider", "médecin")
_PATIENT_WORDS = ("patient", "guest", "family", "parent", "mother", "father", "caregiver")
_SENTENCE_END = re.compile(r"[.!?;]+(?=\s|$)|\n")
_HEADING = re.compile(r"\s*(?P<heading>[^\W\d_][^:\n]{0,38}?)\s*:(?=\s|$)")
_CLAUSE_END = re.compile(r"[,.;:?!]|\s(?:who|and|that|because|which|qui|et|car|depuis)\s")
_SYMPTOM_CHAPTER = "R"  # ICD-10-CM chapter 18: symptoms, signs and abnormal findings
_GAP = re.compile(r"[\s,]{0,3}")
_MAX_FINDING_WORDS = 30
_DOSE_WINDOW = 60  # characters after a medicine's name where its dose may be said
_FREQUENCY_WINDOW = 35


class DictationError(HealthspaceError, ValueError):
    """A dictation that cannot be turned into statements as asked."""

    http_status = 422


@dataclass(frozen=True)
class Evidence:
    """An exact span of the input: ``text == source[start:end]``."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class DictatedStatement:
    """One short SOAP statement and the spans of the input that say it."""

    section: Section
    text: str
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True, slots=True)
class _Turn:
    start: int
    end: int
    speaker: Speaker | None


@dataclass(frozen=True, slots=True)
class _Sentence:
    start: int
    end: int
    speaker: Speaker | None
    turn: int
    question: bool


@dataclass(frozen=True, slots=True)
class _Answer:
    negative: bool
    evidence: Evidence


@dataclass(frozen=True, slots=True)
class _Medicine:
    medicine_id: str
    start: int  # characters, in the sentence
    end: int
    token_start: int
    token_end: int


def statements_from_dictation(
    text: str, language: str = "en", *, cache_dir: Path | None = None
) -> list[DictatedStatement]:
    """SOAP statements for a dictation or a "[doctor]"/"[patient]" transcript, in section order.

    ``language`` ("en" or "fr") is the language of the text and of the statements;
    ``cache_dir`` is where the ICD-10-CM coder keeps its fast copy (see ``load_icd10_coder``).
    """
    if language not in ("en", "fr"):
        raise DictationError(f"Language '{language}' is not supported; use 'en' or 'fr'.")
    if len(text) > MAX_TEXT_CHARS:
        raise DictationError(
            f"The text has {len(text):,} characters; give at most {MAX_TEXT_CHARS:,} at a time "
            "(one visit or one dictation)."
        )
    lang: CueLanguage = "fr" if language == "fr" else "en"
    composer = _Composer(text, lang, load_cues(lang), load_icd10_coder(cache_dir))
    return composer.compose()


def split_turns(text: str) -> list[tuple[int, int, Speaker | None]]:
    """The speaker turns of a transcript as (start, end, speaker); one unnamed turn otherwise."""
    return [(t.start, t.end, t.speaker) for t in _turns(text)]


def _speaker(label: str) -> Speaker | None:
    words = label.strip().casefold()
    if words.startswith(_CLINICIAN_WORDS):
        return "clinician"
    if words.startswith(_PATIENT_WORDS):
        return "patient"
    return None


def _turns(text: str) -> list[_Turn]:
    marks = []
    for match in _TURN.finditer(text):
        speaker = _speaker(match.group("bracket") or match.group("colon"))
        if speaker is not None:
            marks.append((match, speaker))
    if not marks:
        return [_Turn(0, len(text), None)]
    turns: list[_Turn] = []
    if text[: marks[0][0].start()].strip():
        turns.append(_Turn(0, marks[0][0].start(), None))
    for index, (match, speaker) in enumerate(marks):
        end = marks[index + 1][0].start() if index + 1 < len(marks) else len(text)
        turns.append(_Turn(match.end(), end, speaker))
    return turns


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _sentences(text: str, turns: list[_Turn], cues: Cues) -> list[_Sentence]:
    found: list[_Sentence] = []

    def add(start: int, end: int, turn: int, speaker: Speaker | None) -> None:
        start, end = _trimmed(text, start, end)
        body = text[start:end]
        if not any(ch.isalnum() for ch in body):
            return
        # "..., okay ?" asks for agreement, not for a fact.
        question = body.endswith("?") and not cues.question_tag.search(body)
        found.append(_Sentence(start, end, speaker, turn, question))

    for index, turn in enumerate(turns):
        begin = turn.start
        for match in _SENTENCE_END.finditer(text, turn.start, turn.end):
            add(begin, match.start() if match.group() == "\n" else match.end(), index, turn.speaker)
            begin = match.end()
        add(begin, turn.end, index, turn.speaker)
    return found


@cache
def _medicine_matcher() -> PhraseMatcher[str]:
    """Every name of every catalog medicine (INN in both languages, synonyms, brands) → id."""
    matcher: PhraseMatcher[str] = PhraseMatcher()
    for medicine in load_medicine_catalog().medicines:
        for name in dict.fromkeys(medicine.names):
            matcher.add(name, medicine.id)
    return matcher


def find_medicines(tokens: list[Token]) -> list[PhraseMatch[str]]:
    """Catalog medicines named in ``tokens``, longest name first where names overlap."""
    return longest_first(_medicine_matcher().find_all(tokens))


def _evidence(text: str, start: int, end: int) -> Evidence:
    return Evidence(start, end, text[start:end])


def _capitalised(phrase: str) -> str:
    return phrase[:1].upper() + phrase[1:]


@dataclass
class _Composer:
    """Reads the sentences in order, keeping the visit's phase, and collects statements."""

    text: str
    lang: CueLanguage
    cues: Cues
    coder: Icd10Coder
    phase: Phase = "history"
    hint: Section | None = None
    conversation: bool = False
    statements: list[DictatedStatement] = field(default_factory=list)
    seen: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    complaint_found: bool = False

    def compose(self) -> list[DictatedStatement]:
        turns = _turns(self.text)
        self.conversation = any(t.speaker is not None for t in turns)
        sentences = _sentences(self.text, turns, self.cues)
        answers = self._answers(turns, sentences)
        for sentence in sentences:
            self._read(sentence, answers.get(id(sentence)))
        kept = [s for s in self.statements if self._supported(s)]
        order = {section: index for index, section in enumerate(SECTIONS)}
        return sorted(kept, key=lambda s: (order[s.section], s.evidence[0].start))

    # -- conversation ------------------------------------------------------------------

    def _answers(self, turns: list[_Turn], sentences: list[_Sentence]) -> dict[int, _Answer]:
        """For the last question of a clinician's turn, the patient's yes or no right after."""
        last_question: dict[int, _Sentence] = {}
        for sentence in sentences:
            if sentence.question and sentence.speaker == "clinician":
                last_question[sentence.turn] = sentence
        found: dict[int, _Answer] = {}
        for turn_index, sentence in last_question.items():
            if turn_index + 1 >= len(turns) or turns[turn_index + 1].speaker != "patient":
                continue
            reply = turns[turn_index + 1]
            for pattern, negative in ((self.cues.answer_no, True), (self.cues.answer_yes, False)):
                match = pattern.match(self.text, reply.start, reply.end)
                if match:
                    start, end = _trimmed(self.text, match.start(), match.end())
                    start += len(self.text[start:end]) - len(self.text[start:end].lstrip(",.-"))
                    found[id(sentence)] = _Answer(negative, _evidence(self.text, start, end))
                    break
        return found

    # -- one sentence ------------------------------------------------------------------

    def _read(self, sentence: _Sentence, answer: _Answer | None) -> None:
        start = sentence.start
        heading = _HEADING.match(self.text, start, sentence.end)
        if heading:
            section = heading_section(self.cues, heading.group("heading"))
            if section is not None:
                self.hint = section
                start, _ = _trimmed(self.text, heading.end(), sentence.end)
        body = self.text[start : sentence.end]
        tokens = tokenize(body)
        if not tokens:
            return
        speaker = sentence.speaker
        if speaker == "clinician":
            for match in self.cues.phase.find_all(tokens):
                if _PHASE_ORDER[match.value] > _PHASE_ORDER[self.phase]:
                    self.phase = match.value  # type: ignore[assignment]  # a Phase by the data
        if sentence.question and answer is None:
            return  # asked, not answered: states nothing
        if speaker == "patient" and sentence.question:
            return
        reading = _Reading(self, start, body, tokens, speaker, answer)
        reading.conditions()
        reading.medicines()
        if answer is None and speaker != "patient":
            reading.vitals()
            reading.findings()
            reading.tests()
            reading.follow_up()
            reading.complaint()
            reading.plan_note()
        if answer is None:
            reading.story()

    def add(
        self, section: Section, text: str, evidence: list[Evidence], key: str = "", rank: int = 0
    ) -> None:
        """Keep a statement unless one with the same key is already kept; a higher ``rank``
        (a medicine with its action and dose, say) replaces a lower one of the same key."""
        dedup = (section, key or text.casefold())
        if not evidence:
            return
        ordered = tuple(sorted(set(evidence), key=lambda e: (e.start, e.end)))
        statement = DictatedStatement(section, text, ordered)
        if dedup in self.seen:
            index, kept_rank = self.seen[dedup]
            if rank > kept_rank:
                self.statements[index] = statement
                self.seen[dedup] = (index, rank)
            return
        self.seen[dedup] = (len(self.statements), rank)
        self.statements.append(statement)

    # -- the safety check --------------------------------------------------------------

    def _supported(self, statement: DictatedStatement) -> bool:
        """Every medicine, dose and diagnosis the statement names is in its evidence."""
        evidence_medicines: set[str] = set()
        evidence_codes: set[str] = set()
        for item in statement.evidence:
            evidence_medicines.update(m.value for m in find_medicines(tokenize(item.text)))
            evidence_codes.update(
                s.code for s in self.coder.suggest(item.text, lang=self.lang, include_all=True)
            )
        named = {m.value for m in find_medicines(tokenize(statement.text))}
        if not named <= evidence_medicines:
            return False
        codes = {
            s.code for s in self.coder.suggest(statement.text, lang=self.lang, include_all=True)
        }
        if not codes <= evidence_codes:
            return False
        spoken = " ".join(" ".join(e.text.split()).casefold() for e in statement.evidence)
        return all(
            " ".join(d.group().split()).casefold() in spoken
            for d in self.cues.dose.finditer(statement.text)
        )


@dataclass
class _Reading:
    """What one sentence says; ``offset`` places ``body`` in the whole text."""

    composer: _Composer
    offset: int
    body: str
    tokens: list[Token]
    speaker: Speaker | None
    answer: _Answer | None
    _modifiers: list[Modifier] | None = None
    _medicine_spans: list[_Medicine] | None = None

    @property
    def cues(self) -> Cues:
        return self.composer.cues

    @property
    def labels_lang(self) -> CueLanguage:
        return self.composer.lang

    def span(self, start: int, end: int) -> Evidence:
        return _evidence(self.composer.text, self.offset + start, self.offset + end)

    def token_span(self, start: int, end: int) -> Evidence:
        return self.span(self.tokens[start].start, self.tokens[end - 1].end)

    @property
    def in_plan_phase(self) -> bool:
        if self.composer.hint in ("assessment", "plan"):
            return True
        return self.composer.phase == "assessment" and self.speaker == "clinician"

    @property
    def in_exam_phase(self) -> bool:
        if self.composer.hint is not None:
            return self.composer.hint == "objective"
        return self.composer.phase == "objective" and self.speaker == "clinician"

    def has(self, matcher: PhraseMatcher[str]) -> list[PhraseMatch[str]]:
        return matcher.find_all(self.tokens)

    @property
    def plan_cue(self) -> bool:
        return bool(self.has(self.cues.plan_verbs) or self.has(self.cues.plan_markers))

    def modifiers(self) -> list[Modifier]:
        if self._modifiers is None:
            blocked = {i for m in self.medicine_spans() for i in range(m.token_start, m.token_end)}
            self._modifiers = load_context_rules().find_modifiers(
                self.tokens,
                sentence_numbers(self.body, self.tokens),
                clause_numbers(self.body, self.tokens),
                self.composer.lang,
                blocked,
            )
        return self._modifiers

    def medicine_spans(self) -> list[_Medicine]:
        if self._medicine_spans is None:
            self._medicine_spans = [
                _Medicine(
                    m.value,
                    self.tokens[m.start].start,
                    self.tokens[m.end - 1].end,
                    m.start,
                    m.end,
                )
                for m in find_medicines(self.tokens)
            ]
        return self._medicine_spans

    # -- conditions --------------------------------------------------------------------

    def conditions(self) -> None:
        labels = self.cues.labels
        for found in self.composer.coder.suggest(
            self.body, lang=self.composer.lang, include_all=True
        ):
            status = found.status
            evidence = [self.span(found.start, found.end)]
            if self.answer is not None:
                if status not in ("current", "negated") or (
                    status == "negated" and not self.answer.negative
                ):
                    continue
                status = "negated" if self.answer.negative else "current"
                evidence.append(self.answer.evidence)
            phrase = " ".join(found.evidence.split())
            symptom = found.code.startswith(_SYMPTOM_CHAPTER)
            clinician_side = self.speaker != "patient"
            if status == "negated":
                if clinician_side and self.in_exam_phase and self.answer is None:
                    continue  # a normal exam finding: the exam statement says it
                self.composer.add(
                    "subjective", labels.denies.format(phrase), evidence, f"denies {found.code}"
                )
            elif status == "historical":
                self.composer.add(
                    "subjective", labels.history.format(phrase), evidence, f"history {found.code}"
                )
            elif status == "family":
                self.composer.add(
                    "subjective", labels.family.format(phrase), evidence, f"family {found.code}"
                )
            elif status == "hypothetical":
                if clinician_side and self.in_plan_phase and self.answer is None:
                    self.composer.add(
                        "assessment",
                        labels.possible.format(phrase),
                        evidence,
                        f"possible {found.code}",
                    )
            elif self.in_exam_phase and clinician_side and self.answer is None:
                continue  # an exam or result finding: the finding statement says it
            elif self.in_plan_phase or not symptom:
                self.composer.add(
                    "assessment",
                    labels.condition.format(_capitalised(phrase)),
                    evidence,
                    f"condition {found.code}",
                )
            else:
                self.composer.add(
                    "subjective", labels.reports.format(phrase), evidence, f"reports {found.code}"
                )

    # -- medicines ---------------------------------------------------------------------

    def _dose_and_frequency(self, index: int) -> list[tuple[int, int]]:
        """Character spans (in the sentence) of the dose and frequency said with a medicine."""
        spans = self.medicine_spans()
        medicine = spans[index]
        limit = spans[index + 1].start if index + 1 < len(spans) else len(self.body)
        limit = min(limit, medicine.end + _DOSE_WINDOW)
        found: list[tuple[int, int]] = []
        after = medicine.end
        dose = self.cues.dose.search(self.body, medicine.end, limit)
        if dose is None:
            before = [
                d
                for d in self.cues.dose.finditer(self.body, 0, medicine.start)
                if re.fullmatch(r"\s*(?:of|de|d')?\s*", self.body[d.end() : medicine.start])
            ]
            if before:
                found.append(before[-1].span())
        else:
            found.append(dose.span())
            after = dose.end()
        frequency = self.cues.frequency.search(
            self.body, after, min(limit, after + _FREQUENCY_WINDOW)
        )
        while frequency is not None:  # "every 4 hours as needed": both said
            found.append(frequency.span())
            gap = _GAP.match(self.body, frequency.end())
            frequency = self.cues.frequency.match(self.body, gap.end() if gap else frequency.end())
        return found

    def _action(self, medicine: _Medicine) -> tuple[str, Evidence | None]:
        verbs = self.has(self.cues.plan_verbs)
        before = [v for v in verbs if v.end <= medicine.token_start]
        chosen = before[-1] if before else (verbs[0] if verbs else None)
        if chosen is None:
            return "none", None
        return chosen.value, self.token_span(chosen.start, chosen.end)

    def medicines(self) -> None:
        labels = self.cues.labels
        clinician_side = self.speaker != "patient"
        planning = clinician_side and self.answer is None and (self.in_plan_phase or self.plan_cue)
        for index, medicine in enumerate(self.medicine_spans()):
            status = status_of(medicine.token_start, medicine.token_end, self.modifiers()).status
            name = self.span(medicine.start, medicine.end)
            extras = [self.span(a, b) for a, b in self._dose_and_frequency(index)]
            words = " ".join(" ".join(e.text.split()) for e in [name, *extras])
            evidence = [name, *extras]
            if planning:
                if status != "current":
                    continue
                action, verb = self._action(medicine)
                if action in ("order", "refer"):
                    action = "none"
                if verb is not None and action != "none":
                    evidence.append(verb)
                label = labels.actions.get(action, labels.actions["none"])
                rank = (action != "none") + len(extras)
                self.composer.add(
                    "plan", f"{label} {words}.", evidence, f"medicine {medicine.medicine_id}", rank
                )
                continue
            if self.answer is not None:
                if status not in ("current", "negated"):
                    continue
                negative = self.answer.negative != (status == "negated")
                evidence.append(self.answer.evidence)
            elif status in ("current", "historical"):
                negative = False
            elif status == "negated":
                negative = True
            else:
                continue
            template = labels.not_taking if negative else labels.takes
            self.composer.add(
                "subjective",
                template.format(words),
                evidence,
                f"{negative} {medicine.medicine_id}",
                len(extras),
            )

    # -- objective ---------------------------------------------------------------------

    def vitals(self) -> None:
        labels = self.cues.labels
        for match in self.has(self.cues.vitals):
            name_end = self.tokens[match.end - 1].end
            value = self.cues.vital_value.match(self.body, name_end)
            if value is None:
                continue
            between = self.body[name_end : value.start("value")]
            if self.cues.vitals.find_all(tokenize(between)):
                continue  # the number belongs to the next vital named
            evidence = [
                self.token_span(match.start, match.end),
                self.span(value.start("value"), value.end("value")),
            ]
            said = " ".join(value.group("value").split())
            label = _capitalised(match.value)
            self.composer.add("objective", labels.vital.format(label, said), evidence)

    def _cleaned(self) -> str:
        text = self.cues.fillers.sub(" ", self.body)
        text = self.cues.question_tag.sub("", text)
        text = re.sub(r"\b(\w+)(?:\s*,?\s+\1\b)+", r"\1", text, flags=re.IGNORECASE)
        text = re.sub(r"\s+([,.?!;:%])", r"\1", text)
        text = re.sub(r"(?:,\s*){2,}", ", ", text)
        if self.composer.lang == "en":
            text = re.sub(r"\byour\b", "the", text, flags=re.IGNORECASE)
        text = " ".join(text.split()).strip(" ,.;:-?!")
        text = self.cues.leading.sub("", text)
        words = text.split()
        if len(words) > _MAX_FINDING_WORDS:
            text = " ".join(words[:_MAX_FINDING_WORDS]) + " …"
        return text

    def findings(self) -> None:
        exam = self.has(self.cues.exam)
        results = self.has(self.cues.results)
        reported = self.has(self.cues.result_verbs)
        if not (exam or results) or self.has(self.cues.commands):
            return
        found = (
            reported
            or self.has(self.cues.finding_words)
            or any(ch.isdigit() for ch in self.body)
            or self.composer.coder.suggest(self.body, lang=self.composer.lang, include_all=True)
        )
        if not found:
            return  # "show me the echocardiogram" names an exam, it finds nothing
        if not (self.in_exam_phase or reported or self.composer.hint is None):
            return
        if self.composer.hint is None and not self.composer.conversation and self.plan_cue:
            return  # a dictated plan sentence naming a test
        if self.has(self.cues.plan_markers) and self.composer.hint != "objective":
            return  # "I'm going to listen to your heart" announces, it does not find
        if self.composer.conversation and not (self.in_exam_phase or reported):
            return
        cleaned = self._cleaned()
        if len(cleaned.split()) < 2:
            return
        tested = self.has(self.cues.tests)
        template = self.cues.labels.result if tested else self.cues.labels.exam
        self.composer.add("objective", template.format(cleaned), [self.span(0, len(self.body))])

    # -- plan --------------------------------------------------------------------------

    def tests(self) -> None:
        labels = self.cues.labels
        planning = self.composer.hint == "plan" or (
            self.plan_cue and (self.in_plan_phase or not self.has(self.cues.review))
        )
        if not planning or (self.has(self.cues.review) and self.composer.hint != "plan"):
            return
        verbs = self.has(self.cues.plan_verbs)
        refer_verbs = [self.token_span(v.start, v.end) for v in verbs if v.value == "refer"]
        verb_spans = [self.token_span(v.start, v.end) for v in verbs[:1]]
        referred: set[int] = set()
        for match in self.has(self.cues.specialists) if refer_verbs else []:
            specialist = self.token_span(match.start, match.end)
            referred.update(range(match.start, match.end))
            self.composer.add(
                "plan",
                labels.refer.format(" ".join(specialist.text.split())),
                [specialist, refer_verbs[0]],
            )
        for match in longest_first(self.has(self.cues.tests)):
            if referred.intersection(range(match.start, match.end)):
                continue  # "refer you to physical therapy" is a referral, said once
            if status_of(match.start, match.end, self.modifiers()).status != "current":
                continue
            said = " ".join(self.token_span(match.start, match.end).text.split())
            evidence = [self.token_span(match.start, match.end), *verb_spans]
            key = f"order {said.casefold()}"
            self.composer.add("plan", labels.order.format(said), evidence, key)

    def follow_up(self) -> None:
        for match in self.cues.follow_up.finditer(self.body):
            when = " ".join(match.group("when").split())
            self.composer.add(
                "plan",
                self.cues.labels.follow_up.format(when),
                [self.span(match.start(), match.end())],
                f"follow up {when.casefold()}",
            )

    def complaint(self) -> None:
        if self.composer.complaint_found or self.in_plan_phase or self.in_exam_phase:
            return
        for match in self.has(self.cues.complaint):
            start = self.tokens[match.end - 1].end
            while start < len(self.body) and not self.body[start].isalnum():
                start += 1
            stop = _CLAUSE_END.search(self.body, start)
            end = stop.start() if stop else len(self.body)
            words = self.body[start:end].split()[:8]
            if not words:
                continue
            end = self._word_end(start, len(words))
            phrase = " ".join(self.body[start:end].split())
            self.composer.complaint_found = True
            self.composer.add(
                "subjective",
                self.cues.labels.complaint.format(phrase),
                [self.span(self.tokens[match.start].start, end)],
            )
            return

    def story(self) -> None:
        """A patient's own account of a complaint, in the third person."""
        if self.speaker != "patient" or self.composer.phase != "history":
            return
        if not self.composer.coder.suggest(self.body, lang=self.composer.lang):
            return
        cleaned = self._cleaned()
        if self.cues.pronouns is not None:
            table = self.cues.third_person
            cleaned = self.cues.pronouns.sub(lambda m: table[m.group().casefold()], cleaned)
        if len(cleaned.split()) >= 4:
            self.composer.add(
                "subjective", self.cues.labels.story.format(cleaned), [self.span(0, len(self.body))]
            )

    def plan_note(self) -> None:
        """A clinician's plan sentence as said, tidied: what a gold plan's prose reads like."""
        if self.speaker != "clinician" or not self.in_plan_phase or not self.plan_cue:
            return
        if self.has(self.cues.commands):
            return  # a command to the dictation device
        cleaned = self._cleaned()
        if len(cleaned.split()) >= 4:
            self.composer.add(
                "plan", self.cues.labels.plan_note.format(cleaned), [self.span(0, len(self.body))]
            )

    def _word_end(self, start: int, count: int) -> int:
        position = start
        for _ in range(count):
            found = re.compile(r"\S+").search(self.body, position)
            if found is None:
                break
            position = found.end()
        return position
