"""A medical report explained: its terms, abbreviations and numbers in plain words, and a summary
that only restates what the report itself concludes.

Find, then act. ``find_sections``, ``split_sentences``, ``find_report_terms`` and ``find_numbers``
return evidence as spans over the unchanged text; ``explain_report`` turns that evidence into
annotations, a glossary and a "what this says" summary; ``check_faithful`` verifies that the
summary adds nothing the report does not say. The report is data, never instructions: nothing
in it changes what this module does, and a sentence is only ever restated, never followed.

The words Healthspace adds (messages, plain substitutions, units) and the section headings
are data (``report_data``); numbers are put in context by ``report_numbers``; the medical
meanings come from the glossary and the lab catalog, each with its source.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from healthspace.coding.context import Modifier, Status, load_context_rules, status_of
from healthspace.coding.tokens import Token, clause_numbers, sentence_numbers, tokenize
from healthspace.errors import HealthspaceError
from healthspace.knowledge.citations import Source
from healthspace.knowledge.folding import fold
from healthspace.knowledge.glossary import GlossaryTerm, TermMatch, find_terms_in, load_glossary
from healthspace.patient.report_data import (
    LANGS,
    Lang,
    ReportPhrases,
    form_key,
    heading_key,
    load_report_phrases,
    load_section_catalog,
)
from healthspace.patient.report_numbers import find_numbers

AnnotationKind = Literal["term", "abbreviation", "number"]

# A long discharge summary is about 20,000 characters; far beyond that is not one report.
MAX_REPORT_CHARS = 200_000
# "What this says" stays short: a person reads five sentences, then the report itself.
MAX_SUMMARY_SENTENCES = 5

_WORD = re.compile(r"[^\W_]+")


class ReportTextError(HealthspaceError, ValueError):
    """The text given as a report cannot be explained (empty, binary, too long)."""

    http_status = 422


# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """A part of the report: ``text[start:end]`` with its heading, the content from ``body``."""

    kind: str
    heading: str | None
    start: int
    body: int
    end: int


@dataclass(frozen=True)
class Annotation:
    """A span of the report (``text[start:end]``) and what it means in plain words."""

    start: int
    end: int
    text: str
    kind: AnnotationKind
    plain: str
    sources: tuple[Source, ...]
    term_id: str | None = None
    status: Status = "current"

    def as_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "plain": self.plain,
            "kind": self.kind,
            "start": self.start,
            "end": self.end,
            "sources": [source.model_dump(mode="json") for source in self.sources],
        }


@dataclass(frozen=True)
class GlossaryEntry:
    """A term of the report, once, with its plain meaning and sources."""

    term_id: str
    term: str
    plain: str
    sources: tuple[Source, ...]


@dataclass(frozen=True)
class SummarySentence:
    """One sentence of "what this says" and the spans of the report it restates."""

    text: str
    spans: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class ExplainedReport:
    """The report unchanged, with its annotations, glossary, summary and closing note."""

    lang: Lang
    text: str
    sections: tuple[Section, ...]
    annotations: tuple[Annotation, ...]
    glossary: tuple[GlossaryEntry, ...]
    summary: tuple[SummarySentence, ...]
    note: str
    summary_from: Literal["conclusion", "last_section", "none"] = "conclusion"

    @property
    def terms(self) -> tuple[Annotation, ...]:
        return tuple(a for a in self.annotations if a.kind != "number")

    @property
    def numbers(self) -> tuple[Annotation, ...]:
        return tuple(a for a in self.annotations if a.kind == "number")

    def citations(self) -> list[Source]:
        """Every source the explanation relies on, once, in order of first use."""
        seen: dict[str, Source] = {}
        groups = [a.sources for a in self.annotations] + [g.sources for g in self.glossary]
        for sources in groups:
            for source in sources:
                seen.setdefault(source.url, source)
        return list(seen.values())

    def as_json(self) -> dict[str, Any]:
        """The machine interface of ``healthspace explain report --json`` and the API."""
        return {
            "lang": self.lang,
            "summary": [
                {"text": s.text, "from": [[start, end] for start, end in s.spans]}
                for s in self.summary
            ],
            "terms": [a.as_json() for a in self.terms],
            "glossary": [
                {
                    "term": entry.term,
                    "plain": entry.plain,
                    "sources": [source.model_dump(mode="json") for source in entry.sources],
                }
                for entry in self.glossary
            ],
            "numbers": [
                {"text": a.text, "start": a.start, "end": a.end, "context": a.plain}
                for a in self.numbers
            ],
            "citations": [
                {"title": s.title, "publisher": s.publisher, "url": s.url} for s in self.citations()
            ],
            "note": self.note,
        }


# --- input -----------------------------------------------------------------------------------


def decode_report_bytes(data: bytes, name: str) -> str:
    """The text of a report file, or an error naming the file when it is not text.

    UTF-8 first (with or without a byte-order mark), then Windows-1252, which older French
    systems still write; anything with NUL bytes or many control characters is binary.
    """
    if not data.strip():
        raise ReportTextError(f"{name} is empty: there is no report text to explain.")
    if data.startswith(b"%PDF"):
        raise ReportTextError(
            f"{name} is a PDF file: 'explain report' reads plain text. Copy the report's text "
            "into a .txt file, or pipe it in with '-', and try again."
        )
    if b"\x00" in data:
        raise ReportTextError(_binary_message(name))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise ReportTextError(_binary_message(name)) from exc
    control = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\n\r\t\f\v")
    if control > max(4, len(text) // 200):
        raise ReportTextError(_binary_message(name))
    return text


def _binary_message(name: str) -> str:
    return (
        f"{name} is not a text file (it looks binary): 'explain report' reads plain text in "
        "UTF-8 or Windows-1252. Save the report as text and try again."
    )


def _check_text(text: str) -> None:
    if not text.strip():
        raise ReportTextError("The report is empty: there is no text to explain.")
    if len(text) > MAX_REPORT_CHARS:
        raise ReportTextError(
            f"The report has {len(text)} characters, more than the {MAX_REPORT_CHARS} one report "
            "can have: explain it one document at a time."
        )


# --- language, sections, sentences -----------------------------------------------------------


def detect_language(text: str) -> Lang:
    """French or English by counting each language's common words; English on a tie."""
    tokens = tokenize(text)
    if not tokens:
        return "en"
    return load_context_rules().detect_language(tokens)


_LINE = re.compile(r"[^\n]+")
# A list marker at the start of a line: "-", "•", "*", "1.", "2)", "a)".
_BULLET = re.compile(r"[ \t]*(?:[-*•·–—]+|\d{1,2}[.)]|[a-zA-Z][)])[ \t]+")
_MARKUP = re.compile(r"[ \t#*>]*")
_SENTENCE_END = re.compile(r"[.!?;]+(?=\s|$)")
_LAST_WORD = re.compile(r"([^\W\d_][\w.]*)\.+$")
# A heading line with its text after it is at most this long before the colon.
_HEADING_CHARS = 60


@cache
def _heading_kinds() -> dict[str, str]:
    catalog = load_section_catalog()
    return {
        heading_key(name): kind
        for kind, names in catalog.kinds.items()
        for name in (*names.en, *names.fr)
    }


def _heading_at(text: str, start: int, end: int) -> tuple[str, str, int] | None:
    """(kind, heading as written, where its content starts) when a line opens a section."""
    markup = _MARKUP.match(text, start, end)
    first = markup.end() if markup else start
    numbered = re.match(r"(?:\d{1,2}|[IVX]{1,4})[.)][ \t]+", text[first:end])
    if numbered:
        first += numbered.end()
    line = text[first:end]
    colon = min((i for i in (line.find(":"), line.find("：")) if i >= 0), default=-1)
    if 0 < colon <= _HEADING_CHARS:
        candidate, body = line[:colon], first + colon + 1
    elif colon < 0 and len(line.strip()) <= _HEADING_CHARS:
        candidate, body = line, end
    else:
        return None
    kind = _heading_kinds().get(heading_key(candidate))
    if kind is None:
        return None
    return kind, candidate.strip(" \t*"), body


def find_sections(text: str) -> list[Section]:
    """The report cut at its headings; text before the first heading is a "preamble"."""
    heads: list[tuple[int, str, str, int]] = []
    for line in _LINE.finditer(text):
        found = _heading_at(text, line.start(), line.end())
        if found is not None:
            kind, heading, body = found
            heads.append((line.start(), kind, heading, body))
    sections: list[Section] = []
    if not heads or text[: heads[0][0]].strip():
        first = heads[0][0] if heads else len(text)
        sections.append(Section("preamble", None, 0, 0, first))
    for index, (start, kind, heading, body) in enumerate(heads):
        end = heads[index + 1][0] if index + 1 < len(heads) else len(text)
        sections.append(Section(kind, heading, start, min(body, end), end))
    return sections


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans in ``text[start:end]``, trimmed, without list markers.

    A sentence ends at . ! ? ; before a space, at a blank line, or at a line break unless the
    next line goes on in lower case (a line wrapped mid-sentence). A title or Latin
    abbreviation ("Dr.", "e.g.") does not end one.
    """
    stop = len(text) if end is None else end
    no_break = frozenset(load_section_catalog().no_break_after)
    spans: list[tuple[int, int]] = []
    open_start: int | None = None
    open_end = 0
    for line in _LINE.finditer(text, start, stop):
        line_start, line_end = line.start(), line.end()
        bullet = _BULLET.match(text, line_start, line_end)
        content = bullet.end() if bullet else line_start
        while content < line_end and text[content].isspace():
            content += 1
        if content >= line_end:
            if open_start is not None:
                spans.append((open_start, open_end))
                open_start = None
            continue
        continues = open_start is not None and bullet is None and text[content].islower()
        if open_start is not None and not continues:
            spans.append((open_start, open_end))
            open_start = None
        piece = open_start if open_start is not None else content
        open_start = None
        for mark in _SENTENCE_END.finditer(text, content, line_end):
            if mark.group().startswith(".") and _abbreviation_before(
                text, piece, mark.start(), no_break
            ):
                continue
            spans.append((piece, mark.end()))
            piece = mark.end()
            while piece < line_end and text[piece].isspace():
                piece += 1
        tail_end = line_end
        while tail_end > piece and text[tail_end - 1].isspace():
            tail_end -= 1
        if tail_end > piece:
            if text[tail_end - 1] in ":：":
                spans.append((piece, tail_end))
            else:
                open_start, open_end = piece, tail_end
    if open_start is not None:
        spans.append((open_start, open_end))
    return [span for span in spans if _WORD.search(text, span[0], span[1])]


def _abbreviation_before(text: str, start: int, dot: int, no_break: frozenset[str]) -> bool:
    found = _LAST_WORD.search(text, start, dot + 1)
    if found is None:
        return False
    return found.group(1) in no_break


@cache
def _closing_keys() -> tuple[str, ...]:
    closings = load_section_catalog().closings
    return tuple(heading_key(c) for c in (*closings.en, *closings.fr))


def find_closing(text: str) -> int:
    """Where a letter's sign-off begins ("Yours sincerely", "Bien confraternellement"), or the
    end of the text: nothing from there on is restated."""
    for line in _LINE.finditer(text):
        key = heading_key(line.group())
        if any(
            key == c or key.startswith(c + " ") or key.startswith(c + ",") for c in _closing_keys()
        ):
            return line.start()
    return len(text)


# --- terms -----------------------------------------------------------------------------------


def find_report_terms(text: str, lang: Lang) -> list[TermMatch]:
    """Glossary terms in ``text`` worth explaining: ordinary words, and words whose next word
    gives them another sense ("masse musculaire"), are left out."""
    phrases = load_report_phrases()
    ordinary = _ordinary_keys(lang)
    exclusions = phrases.not_followed_by.get(lang, {})
    kept: list[TermMatch] = []
    for match in find_terms_in(text, lang):
        key = form_key(text[match.start : match.end])
        if key in ordinary:
            continue
        blocked = exclusions.get(key)
        if blocked:
            following = _WORD.search(text, match.end)
            if following is not None and fold(following.group()) in {fold(w) for w in blocked}:
                continue
        kept.append(match)
    return kept


@cache
def _ordinary_keys(lang: Lang) -> frozenset[str]:
    words = getattr(load_report_phrases().ordinary_words, lang)
    return frozenset(form_key(w) for w in words)


def find_statuses(text: str, lang: Lang, matches: Sequence[TermMatch]) -> list[Status]:
    """For each term, whether the report says it is present, absent ("pas d'épanchement"),
    only possible, past or a relative's, by the shared NegEx/ConText rules."""
    tokens = tokenize(text)
    if not tokens or not matches:
        return ["current"] * len(matches)
    starts = [token.start for token in tokens]
    ranges = [(bisect_left(starts, m.start), bisect_left(starts, m.end)) for m in matches]
    blocked = {i for first, last in ranges for i in range(first, last)}
    rules = load_context_rules()
    clauses = clause_numbers(text, tokens)
    modifiers = [
        modifier
        for modifier in rules.find_modifiers(
            tokens, sentence_numbers(text, tokens), clauses, lang, blocked
        )
        if not _prefix_non(modifier, tokens, clauses)
    ]
    return [
        status_of(first, last, modifiers).status if last > first else "current"
        for first, last in ranges
    ]


def _prefix_non(modifier: Modifier, tokens: Sequence[Token], clauses: Sequence[int]) -> bool:
    """A backward "non" that goes on with a word ("lithiase non compliquée", "non-obstructive")
    qualifies that word, not the finding before it: only "Fièvre : non." negates backwards."""
    if modifier.scope_end > modifier.start:  # a forward scope
        return False
    if fold(tokens[modifier.start].text) != "non" or modifier.end - modifier.start != 1:
        return False
    after = modifier.end
    return after < len(tokens) and clauses[after] == clauses[modifier.start]


def looks_abbreviated(text: str) -> bool:
    """Mostly capitals ("HTA", "SpO2", "HbA1c") or letters with dots ("b.i.d.")."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters or len(letters) > 6:
        return False
    upper = sum(ch.isupper() for ch in letters)
    if upper >= 2 and upper * 2 >= len(letters):
        return True
    return "." in text.strip(".") and len(letters) <= 4


def is_abbreviation(written: str, term: GlossaryTerm, lang: Lang) -> bool:
    """Whether the report wrote ``term`` as an abbreviation, to be expanded."""
    if looks_abbreviated(written):
        return True
    if any(v.case_sensitive and v.text == written for v in term.names(lang)):
        return True
    letters = sum(ch.isalpha() for ch in written)
    return letters <= 3 and fold(written) != fold(getattr(term.term, lang))


def expansion(term: GlossaryTerm, lang: Lang) -> str:
    """The words an abbreviation stands for: the term's name, or its first spelled-out name."""
    name: str = getattr(term.term, lang)
    if not looks_abbreviated(name):
        return name
    for variant in term.names(lang):
        if len(variant.text.split()) >= 2 and not looks_abbreviated(variant.text):
            return variant.text
    return name


@cache
def _substitutions(lang: Lang) -> dict[tuple[str, str], tuple[str, str]]:
    table: dict[tuple[str, str], tuple[str, str]] = {}
    for entry in load_report_phrases().substitutions.get(lang, ()):
        for form, words in entry.forms.items():
            table[(entry.term, form_key(form))] = (words, entry.mode)
    return table


def _plain_head(term: GlossaryTerm, lang: Lang) -> str | None:
    """The short gloss before a colon in a plain meaning ("normal: nothing unusual was seen")."""
    plain: str = getattr(term.plain, lang)
    head, colon, _rest = plain.partition(":")
    head = head.strip()
    return head if colon and head and len(head.split()) <= 4 else None


def substitution_for(
    written: str, term: GlossaryTerm, lang: Lang, after_negation: bool = False
) -> str | None:
    """Plain words that stand for ``written`` in a summary, or None to keep it as written.

    In order: a substitution listed in the data (a gloss becomes a replacement right after
    "no": "no pulmonary embolism" reads "no blood clot in a lung artery"), the expansion of an
    abbreviation, or the term followed by the short gloss its plain meaning starts with.
    Every word comes from the glossary.
    """
    key = form_key(written)
    shown = written
    if is_abbreviation(written, term, lang):
        expanded = expansion(term, lang)
        if form_key(expanded) != key:
            shown = expanded
    listed = _substitutions(lang).get((term.id, key))
    if listed is not None:
        words, mode = listed
        if mode == "replace" or (after_negation and not _starts_with_article(words, lang)):
            return words
        return f"{shown} ({words})"
    if shown != written:
        return shown
    head = _plain_head(term, lang)
    return f"{written} ({head})" if head else None


def substitution_options(written: str, term: GlossaryTerm, lang: Lang) -> set[str]:
    """Every text ``substitution_for`` may put in a summary for ``written``."""
    options = {substitution_for(written, term, lang, flag) for flag in (False, True)}
    return {option for option in options if option is not None}


def _starts_with_article(words: str, lang: Lang) -> bool:
    first = _WORD.match(words)
    stop = getattr(load_report_phrases().stop_words, lang)
    return first is not None and fold(first.group()) in {fold(w) for w in stop}


def _term_annotation(
    text: str, match: TermMatch, status: Status, lang: Lang, phrases: ReportPhrases
) -> Annotation:
    glossary = load_glossary()
    term = match.term
    written = text[match.start : match.end]
    plain: str = getattr(term.plain, lang)
    kind: AnnotationKind = "term"
    expanded = expansion(term, lang)
    if is_abbreviation(written, term, lang) and form_key(expanded) != form_key(written):
        kind = "abbreviation"
        plain = phrases.message(
            lang, "abbreviation", abbreviation=written, expansion=expanded, plain=plain
        )
    # "History of" often introduces a condition the person still has: no note for it.
    if status in ("negated", "hypothetical", "family") and _is_finding(term, phrases):
        plain = f"{plain.rstrip('.')}. {phrases.message(lang, f'status_{status}')}"
    return Annotation(
        start=match.start,
        end=match.end,
        text=written,
        kind=kind,
        plain=plain,
        sources=tuple(glossary.sources[s] for s in term.sources),
        term_id=term.id,
        status=status,
    )


def _is_finding(term: GlossaryTerm, phrases: ReportPhrases) -> bool:
    return term.category in ("condition", "sign", "symptom") or term.id in phrases.finding_terms


# --- summary ---------------------------------------------------------------------------------

_VOWEL_START = re.compile(r"[aeiouyhàâéèêëîïôöûüœAEIOUYHÀÂÉÈÊËÎÏÔÖÛÜŒ]")


def restate(text: str, span: tuple[int, int], lang: Lang) -> SummarySentence:
    """One report sentence with its jargon replaced by the glossary's plain words, where a
    safe substitution exists; everything else (negations, hedges, numbers) as written."""
    start, end = span
    sentence = text[start:end]
    out: list[str] = []
    position = 0
    cues = {fold(w) for w in getattr(load_report_phrases().replace_after_negation, lang)}
    for match in find_report_terms(sentence, lang):
        written = sentence[match.start : match.end]
        previous = _WORD.findall(sentence[: match.start])
        after_negation = bool(previous) and fold(previous[-1]) in cues
        words = substitution_for(written, match.term, lang, after_negation)
        if words is None:
            continue
        before = "".join(out) + sentence[position : match.start]
        fitted = _fit(before, words, lang)
        if fitted is None:
            continue
        before, words = fitted
        if written[:1].isupper() and not before.strip():
            words = words[:1].upper() + words[1:]
        out = [before, words]
        position = match.end
    out.append(sentence[position:])
    return SummarySentence(text="".join(out), spans=(span,))


def _fit(before: str, words: str, lang: Lang) -> tuple[str, str] | None:
    """Adjust the word before a substitution to it ("d'épanchement" → "de liquide",
    "a effusion" → "an"), or None when no safe adjustment exists ("l'" before a consonant)."""
    vowel = _VOWEL_START.match(words) is not None
    if lang == "fr":
        elided = re.search(r"(?:^|(?<=\W))([dDlL])['’]$", before)
        if elided and not vowel:
            if elided.group(1) in "lL":
                return None
            return before[: elided.start(1)] + elided.group(1) + "e ", words
        full = re.search(r"(?:^|(?<=\W))([dD])e $", before)
        if full and vowel:
            return before[: full.start(1)] + full.group(1) + "'", words
        return before, words
    article = re.search(r"(?:^|(?<=\W))([aA])n? $", before)
    if article:
        wanted = "an" if re.match(r"[aeiouAEIOU]", words) else "a"
        if article.group(1) == "A":
            wanted = wanted.capitalize()
        return before[: article.start(1)] + wanted + " ", words
    return before, words


def _summary_spans(
    text: str, sections: Sequence[Section]
) -> tuple[list[tuple[int, int]], Literal["conclusion", "last_section", "none"]]:
    closing = find_closing(text)
    conclusions = [s for s in sections if s.kind == "conclusion" and s.body < closing]
    if conclusions:
        spans = [
            span for s in conclusions for span in split_sentences(text, s.body, min(s.end, closing))
        ]
        return spans, "conclusion"
    parts: list[tuple[int, int]] = []
    for section in sections:
        if section.body >= closing:
            continue
        if section.kind == "preamble" and len(sections) == 1:
            parts += _paragraphs(text, section.body, min(section.end, closing))
        else:
            parts.append((section.body, min(section.end, closing)))
    for start, end in reversed(parts):
        spans = split_sentences(text, start, end)
        if spans:
            return spans, "last_section"
    return [], "none"


def _paragraphs(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    position = start
    for blank in re.finditer(r"\n[ \t\r]*\n", text[start:end]):
        spans.append((position, start + blank.start()))
        position = start + blank.end()
    spans.append((position, end))
    return spans


def summarise(
    text: str, sections: Sequence[Section], lang: Lang
) -> tuple[list[SummarySentence], list[str], Literal["conclusion", "last_section", "none"]]:
    """ "What this says": the report's own conclusion sentences (or its last part when it has
    no conclusion), at most five, each restated in plain words; plus notes about the choice."""
    phrases = load_report_phrases()
    spans, origin = _summary_spans(text, sections)
    notes: list[str] = []
    if origin == "last_section":
        notes.append(phrases.message(lang, "from_last_section"))
    elif origin == "none":
        notes.append(phrases.message(lang, "no_summary"))
    kept = spans[:MAX_SUMMARY_SENTENCES]
    if len(spans) > len(kept):
        notes.append(phrases.message(lang, "more_sentences", count=len(spans) - len(kept)))
    return [restate(text, span, lang) for span in kept], notes, origin


# --- faithfulness ----------------------------------------------------------------------------


def check_faithful(
    report: str, summary: Iterable[SummarySentence], lang: Lang | None = None
) -> list[str]:
    """Problems that make a summary say more than the report: a content word that is not in
    the part of the report it claims to restate (after taking out the glossary's substitutions
    for the terms found there, and function words), a dropped negation, a missing or broken
    link to the report. An empty list means every sentence only restates the report."""
    language = lang or detect_language(report)
    phrases = load_report_phrases()
    stop = frozenset(fold(w) for w in getattr(phrases.stop_words, language))
    negations = frozenset(fold(w) for w in getattr(phrases.negation_words, language))
    problems: list[str] = []
    for number, sentence in enumerate(summary, 1):
        if not sentence.spans:
            problems.append(f"summary sentence {number} is linked to no part of the report")
            continue
        broken = [s for s in sentence.spans if not 0 <= s[0] < s[1] <= len(report)]
        if broken:
            problems.append(f"summary sentence {number} links to {broken}, outside the report")
            continue
        source = "\n".join(report[start:end] for start, end in sentence.spans)
        allowed: set[str] = set()
        framed = source
        for match in find_report_terms(source, language):
            options = substitution_options(source[match.start : match.end], match.term, language)
            if options:
                allowed |= options
                framed = (
                    framed[: match.start] + " " * (match.end - match.start) + framed[match.end :]
                )
        said = fold(sentence.text)
        for words in sorted(allowed, key=len, reverse=True):
            said = said.replace(fold(words), " ")
        said_words = _WORD.findall(said)
        source_words = set(_WORD.findall(fold(source)))
        added = [w for w in said_words if w not in stop and w not in source_words]
        if added:
            shown = ", ".join(repr(w) for w in dict.fromkeys(added))
            problems.append(f"summary sentence {number} says {shown}: not in the report")
        for word in sorted(negations):
            kept = sum(1 for w in said_words if w == word)
            needed = sum(1 for w in _WORD.findall(fold(framed)) if w == word)
            if kept < needed:
                problems.append(f"summary sentence {number} drops the negation {word!r}")
    return problems


# --- the whole explanation -------------------------------------------------------------------


def explain_report(text: str, lang: Lang | None = None) -> ExplainedReport:
    """The report explained: terms, abbreviations and numbers annotated with plain words and
    sources, a glossary, and "what this says" restating only the report's own conclusion."""
    _check_text(text)
    if lang is not None and lang not in LANGS:
        raise ReportTextError(f"Language {lang!r} is not supported: use 'en' or 'fr'.")
    language: Lang = lang or detect_language(text)
    phrases = load_report_phrases()
    matches = find_report_terms(text, language)
    statuses = find_statuses(text, language, matches)
    numbers = [
        Annotation(n.start, n.end, n.text, "number", n.context, n.sources)
        for n in find_numbers(text, language)
    ]
    taken = [(n.start, n.end) for n in numbers]
    kept = [
        (match, status)
        for match, status in zip(matches, statuses, strict=True)
        if not any(match.start < end and start < match.end for start, end in taken)
    ]
    terms = [_term_annotation(text, match, status, language, phrases) for match, status in kept]
    annotations = tuple(sorted((*terms, *numbers), key=lambda a: (a.start, a.end)))
    sections = find_sections(text)
    summary, notes, origin = summarise(text, sections, language)
    note = " ".join([*notes, phrases.message(language, "closing")])
    return ExplainedReport(
        lang=language,
        text=text,
        sections=tuple(sections),
        annotations=annotations,
        glossary=_glossary_entries([match for match, _status in kept], language),
        summary=tuple(summary),
        note=note,
        summary_from=origin,
    )


def _glossary_entries(matches: Iterable[TermMatch], lang: Lang) -> tuple[GlossaryEntry, ...]:
    glossary = load_glossary()
    entries: dict[str, GlossaryEntry] = {}
    for match in matches:
        term = match.term
        if term.id not in entries:
            entries[term.id] = GlossaryEntry(
                term_id=term.id,
                term=getattr(term.term, lang),
                plain=getattr(term.plain, lang),
                sources=tuple(glossary.sources[s] for s in term.sources),
            )
    return tuple(entries.values())
