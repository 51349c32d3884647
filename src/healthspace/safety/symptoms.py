"""Finding what a message says about symptoms: concepts, negation, duration, age, pregnancy.

This is the "find" half of triage (STYLE.md §2): it returns evidence, spans of the person's own
text with what they mean, and decides nothing. ``healthspace.safety.triage`` turns the evidence
into a level.

The text is normalised first (folded to lower case without accents, dashes and brackets made
spaces, commas made words, French elisions split as "n' arrive") and cut into sentences; spans
always point back to the original text. Concept patterns come from the rules file; the language
around them (negation cues, numbers, units, ages) is here, because it is grammar, not medicine.

Negation follows NegEx (Chapman et al., J Biomed Inform 2001): a cue ("no", "denies", "pas de",
"sans") negates a concept that follows it within a few words, unless a scope-ending word ("but",
"mais", "and he...") comes between. Pseudo-negations ("can't stop", "sans arrêt", "not sure")
are masked first, so they negate nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Literal

from healthspace.knowledge.folding import fold
from healthspace.safety.triage_rules import TriageRules, compile_pattern, load_triage_rules

Sex = Literal["female", "male"]

# Ages assumed when a message states none: an adult of working age, so that adult rules apply
# and neither the rules for babies nor those for older people do.
DEFAULT_AGE = (18.0, 64.0)
# A sentence with a duration but no symptom ("It started 3 days ago.") gives its duration to the
# sentence before it, if it is this short.
_ORPHAN_MAX_WORDS = 8

# --- normalisation ---------------------------------------------------------------------------

_APOSTROPHES = "’‘ʼ`´′"
_DASHES = "-‐‑‒–—―"
_DROPPED = set(':()[]{}"«»“”*•·_+=&<>|\\^~')
_BULLETS = "-*•·–—"
_ELISION = re.compile(r"(?<![a-z0-9'])(jusqu|lorsqu|puisqu|qu|[cdjlmnst])'(?=[a-z])")
_SENTENCE_END = re.compile(r"[.!?;]+(?= |\n|$)|\n")


@dataclass(frozen=True)
class NormalisedText:
    """Folded text plus, for each of its characters, the index of the original character."""

    text: str
    origin: tuple[int, ...]

    def span(self, start: int, end: int, original: str) -> Span:
        """The original text behind ``text[start:end]``."""
        if start >= end:
            return Span(0, 0, "")
        first = self.origin[start]
        last = self.origin[end - 1] + 1
        return Span(first, last, original[first:last])


def normalise(text: str) -> NormalisedText:
    """Fold, simplify punctuation and split elisions, remembering where each character came from.

    A line break ends a sentence only when the next line starts like one (a capital, a digit or
    a bullet): clinical vignettes wrap lines in the middle of sentences.
    """
    out: list[str] = []
    origin: list[int] = []

    def emit(chars: str, index: int) -> None:
        for char in chars:
            if char == " " and (not out or out[-1] in " \n"):
                continue
            if char == "\n":
                if out and out[-1] == " ":
                    out.pop()
                    origin.pop()
                if not out or out[-1] == "\n":
                    continue
            out.append(char)
            origin.append(index)

    length = len(text)
    for index, char in enumerate(text):
        if char in "\r\n":
            ahead = index + 1
            while ahead < length and text[ahead] in " \t\r\n":
                ahead += 1
            following = text[ahead] if ahead < length else ""
            starts_sentence = following.isupper() or following.isdigit() or following in _BULLETS
            emit("\n" if following and starts_sentence else " ", index)
        elif char.isspace():
            emit(" ", index)
        elif char in _APOSTROPHES:
            emit("'", index)
        elif char in _DASHES or char in _DROPPED:
            emit(" ", index)
        elif char == ",":
            between_digits = (
                0 < index < length - 1 and text[index - 1].isdigit() and text[index + 1].isdigit()
            )
            # A comma stays as a word of its own: it can end a negation ("pas de fièvre, le
            # nez qui coule") though it mostly separates a list ("no fever, cough or rash").
            emit("," if between_digits else " , ", index)
        elif char == "º":
            emit("°", index)
        else:
            emit(fold(char), index)
    folded = "".join(out).strip(" ")
    offset = len("".join(out)) - len("".join(out).lstrip(" "))
    kept = origin[offset : offset + len(folded)]
    # French elisions get a space after the apostrophe ("n'arrive" -> "n' arrive") so patterns
    # see the verb as a word of its own.
    pieces: list[str] = []
    mapped: list[int] = []
    cursor = 0
    for match in _ELISION.finditer(folded):
        cut = match.end()
        pieces.append(folded[cursor:cut] + " ")
        mapped.extend(kept[cursor:cut])
        mapped.append(kept[cut - 1])
        cursor = cut
    pieces.append(folded[cursor:])
    mapped.extend(kept[cursor:])
    return NormalisedText("".join(pieces), tuple(mapped))


def sentences_of(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of normalised text, without its final punctuation."""
    found: list[tuple[int, int]] = []
    cursor = 0
    for match in _SENTENCE_END.finditer(text):
        _append_sentence(found, text, cursor, match.start())
        cursor = match.end()
    _append_sentence(found, text, cursor, len(text))
    return found


def _append_sentence(found: list[tuple[int, int]], text: str, start: int, end: int) -> None:
    while start < end and text[start] in " \n":
        start += 1
    while end > start and text[end - 1] in " \n":
        end -= 1
    if start < end:
        found.append((start, end))


# --- evidence --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """A piece of the person's own text: ``text == original[start:end]``."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class ConceptFinding:
    """A concept of the rules file found in the text, with its negation and durations."""

    concept: str
    kind: str
    span: Span
    sentence: int
    negated: bool = False
    historical: bool = False
    cue: str | None = None
    # Durations (days) stated in the same sentence, or in a short sentence right after it.
    durations: tuple[float, ...] = ()

    @property
    def present(self) -> bool:
        """True when the person says they have it now (a past symptom does not count)."""
        if self.negated:
            return False
        return not (self.historical and self.kind == "symptom")


@dataclass(frozen=True)
class AgeFinding:
    """An age in years, as a range: "6-month-old" is (0.5, 0.5), "baby" is (0, 1)."""

    low: float
    high: float
    span: Span
    stated: bool  # a number, not a word such as "baby" or "grand-père"


@dataclass(frozen=True)
class DurationFinding:
    days: float
    span: Span
    sentence: int


@dataclass(frozen=True)
class TemperatureFinding:
    celsius: float
    span: Span
    sentence: int


@dataclass(frozen=True)
class PregnancyFinding:
    span: Span
    negated: bool
    weeks: float | None = None


@dataclass(frozen=True)
class SymptomFindings:
    """Everything the finder saw in one message; the policy reads only this."""

    text: str
    concepts: tuple[ConceptFinding, ...] = ()
    ages: tuple[AgeFinding, ...] = ()
    durations: tuple[DurationFinding, ...] = ()
    temperatures: tuple[TemperatureFinding, ...] = ()
    pregnancies: tuple[PregnancyFinding, ...] = ()
    sex: Sex | None = None

    @cached_property
    def present(self) -> frozenset[str]:
        """Ids of the concepts the person has now (not negated, not past history)."""
        return frozenset(f.concept for f in self.concepts if f.present)

    def evidence_for(self, concept_ids: Iterable[str]) -> tuple[ConceptFinding, ...]:
        wanted = set(concept_ids)
        return tuple(f for f in self.concepts if f.present and f.concept in wanted)

    @property
    def recognised(self) -> bool:
        """True when anything at all was understood, even a denied symptom."""
        return bool(self.concepts or self.pregnancies)

    @property
    def pregnant(self) -> bool:
        return any(not p.negated for p in self.pregnancies)

    @property
    def pregnancy_weeks(self) -> float | None:
        weeks = [p.weeks for p in self.pregnancies if not p.negated and p.weeks is not None]
        return max(weeks) if weeks else None

    @property
    def max_temperature(self) -> float | None:
        return max((t.celsius for t in self.temperatures), default=None)

    @property
    def age_ranges(self) -> tuple[tuple[float, float], ...]:
        """Ages stated as numbers, else words ("baby"), else the default adult range."""
        stated = tuple((a.low, a.high) for a in self.ages if a.stated)
        if stated:
            return stated
        words = tuple((a.low, a.high) for a in self.ages)
        return words or (DEFAULT_AGE,)

    @property
    def age_assumed(self) -> bool:
        return not self.ages


# --- negation ----------------------------------------------------------------------------------

# Each cue negates a concept that starts at most `window` words after it. "no" and "denies"
# head lists ("denies hemoptysis, chills, or weight loss"); "not" and French "ne ... pas" only
# reach the next words, since "he is not breathing and his lips are blue" must keep blue lips.
_CUES: tuple[tuple[re.Pattern[str], int], ...] = tuple(
    (re.compile(rf"(?<![a-z0-9'])(?:{cue})(?![a-z0-9'])"), window)
    for cue, window in (
        (r"no|none|never|nor|neither|denies|denied|denying|deny", 7),
        (r"negative for|free of|absence of|no signs? of|no evidence of|rules? out|ruled out", 7),
        (r"without", 4),
        (r"not|(?:does|do|did|has|have|had|is|are|was|were)(?:n't|nt| not)", 2),
        (r"pas (?:de|d')|pas (?:vraiment|trop|beaucoup|eu) (?:de|d')|jamais (?:de|d'|eu)", 7),
        (r"sans|aucune?|ni|nie|niee?s?|absence (?:de|d')", 7),
        (r"(?:ne|n') (?:[a-z']+ ){1,2}plus (?:de|d')", 7),
        (r"(?:ne|n') (?:[a-z']+ ){1,2}(?:pas|plus|jamais)|pas", 0),
    )
)
# Pseudo-negations: they contain a cue word but deny nothing.
_PSEUDO = re.compile(
    r"(?<![a-z0-9'])(?:"
    r"not only|not sure|not certain|not just|no idea|no clue|no doubt|no reason|no one|nobody|"
    r"no matter|no longer|no better|not better|not getting better|no improvement|"
    r"not improv[a-z]*|(?:not|n't|nt) (?:go|going|gone) away|"
    r"(?:can|cannot|could|won|will|does|do|did)(?:n't|nt| not)? stop|not stopp?[a-z]*|"
    r"without stopping|non stop|not able to|(?:does|do|is)(?:n't|nt| not) help[a-z]*|"
    r"not help[a-z]*|not working|not come down|not coming down|(?:does|do|will|wo)(?:n't|nt| not) "
    r"(?:come down|fade|blanch|disappear)|not fad[a-z]*|not blanch[a-z]*|"
    r"pas mal (?:de|d')|pas sure?|pas certaine?|pas seulement|pas que|pas a pas|sans arret|"
    r"sans cesse|sans interruption|sans raison|sans cause|sans (?:le )?vouloir|"
    r"pas (?:d' )?amelioration|pas mieux|ne (?:s' )?(?:passe|arrete|ameliore|calme|baisse|"
    r"descend|part|disparait|efface[a-z]*|soulage|marche) (?:pas|plus)|n' arrete pas|"
    r"n' ?arrive (?:pas|plus|presque pas)|ne peu[xt] (?:pas|plus)|ne (?:repond|respire|reagit|"
    r"reveille|garde|sens|bouge|voi[ts]|parle|mange|boit|tete|veut|veux|s' alimente|souvien[a-z]*|"
    r"rappelle)[a-z]* (?:pas|plus|rien)|ne se (?:reveille|souvient|rappelle) (?:pas|plus|rien)"
    r")(?![a-z0-9])"
)
# Words that end a cue's reach.
_SCOPE_END = re.compile(
    r"(?<![a-z0-9'])(?:but|however|although|though|yet|except|apart from|aside from|which|who|"
    r"whose|now|then|because|since|due to|as well as|with|just|only|apart|"
    r"and (?:i|i'm|he|she|it|they|we|you|his|her|my|their|our|now|then|today|also|is|are|was|"
    r"were|has|have|had|am|feel[a-z]*|seem[a-z]*|look[a-z]*|start[a-z]*|got|get[a-z]*|keep[a-z]*)|"
    r"mais|cependant|pourtant|toutefois|sauf|hormis|a part|par contre|en revanche|qui|car|"
    r"parce|puis|maintenant|avec|juste|seulement|simplement|uniquement|"
    r"et (?:j' |je |il |elle |on |nous |vous |ils |elles |a |ai |est |suis |sont |maintenant |"
    r"depuis |puis |aussi |des |du |de la |une? )|"
    # After a comma, an article or a pronoun starts a new phrase: "pas de fièvre, le nez qui
    # coule", "no fever, my nose is running". A bare noun continues a list.
    r", (?:le|la|les|l'|un|une|des|du|mon|ma|mes|son|sa|ses|j'|je|il|elle|on|nous|ils|elles|c'|"
    r"ca|i|i'm|i've|my|he|he's|she|she's|his|her|it|it's|they|we|the|a|an|this|that|there|"
    r"now|also))(?![a-z0-9])"
)
_NE_BEFORE = re.compile(
    r"(?:^| )(?:ne|n')(?: (?:me|te|se|lui|leur|nous|vous|le|la|les|y|en|m'|t'|s'|l'))* ?$"
)
_PAS_AFTER = re.compile(r"^ (?:pas|plus|jamais|point|guere)(?![a-z])")
_POST_NEGATION = re.compile(
    r"^ (?:(?:is|was|are|were|has been|have been|est|sont|a ete|etait) )?"
    r"(?:absent|absente?s?|negative|negati(?:f|ve)s?|denied|resolved|gone|ruled out|"
    r"ecartee?s?|disparue?s?)(?![a-z])"
)
_HISTORY = re.compile(
    r"(?<![a-z0-9'])(?:(?:past |medical |prior |previous )?history of|h/o|"
    r"previously (?:had|diagnosed with)|antecedents? (?:de|d')|atcd (?:de |d' )?|"
    r"(?:a|ai) (?:deja )?eu (?:par le passe )?(?:un|une|des))(?![a-z0-9])"
)
_DURATION_BEFORE_HISTORY = re.compile(r"(?:\d+|[a-z]+) (?:hours?|days?|weeks?|months?|years?) $")
_HISTORY_WINDOW = 7
# A past time right after a symptom makes it history ("a seizure as a child", "un AVC l'an
# dernier"), unless the sentence says it is back ("...and again today").
_PAST_AFTER = re.compile(
    r"^(?: [a-z0-9']+){0,4}? (?:last year|years ago|(?:a|one|two|three|\d+) years? ago|"
    r"in (?:19|20)\d\d|as a (?:child|kid|teenager|baby)|when (?:i|he|she) was (?:young|little|"
    r"a child|a kid|a baby|\d+)|l' an dernier|l' annee derniere|il y a (?:\d+|[a-z]+) ans|"
    r"en (?:19|20)\d\d|(?:quand|lorsque) (?:j' etais|il etait|elle etait) (?:petite?|enfant|"
    r"bebe|jeune)|dans (?:mon|son) enfance)(?![a-z0-9])"
)
_STILL = re.compile(
    r"(?<![a-z0-9'])(?:again|still|back|another|encore|toujours|de nouveau|a nouveau|"
    r"recommence[a-z]*|nouvelle)(?![a-z0-9])"
)


def _mask(text: str) -> str:
    """The text with pseudo-negations blanked out (same length, so offsets still hold)."""
    return _PSEUDO.sub(lambda m: " " * len(m.group()), text)


def _last_match(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    matches = list(pattern.finditer(text))
    return matches[-1] if matches else None


def _words_between(text: str) -> int:
    return sum(word != "," for word in text.split())


def _negation_cue(sentence: str, masked: str, start: int, end: int) -> str | None:
    """The cue that negates ``sentence[start:end]``, or None."""
    before = masked[:start]
    for cue_pattern, window in _CUES:
        last = _last_match(cue_pattern, before)
        if last is None:
            continue
        gap = before[last.end() : start]
        if _words_between(gap) > window or _SCOPE_END.search(gap):
            continue
        return last.group()
    # French "je ne tousse pas": the concept sits between "ne" and "pas".
    if _NE_BEFORE.search(before) and _PAS_AFTER.match(sentence[end:]):
        return "ne ... pas"
    post = _POST_NEGATION.match(sentence[end:])
    if post:
        return post.group().strip()
    return None


def _is_historical(masked: str, start: int, end: int) -> bool:
    """True for past history: "history of migraine", "had a stroke last year"."""
    before = masked[:start]
    after = masked[end:]
    if _PAST_AFTER.match(after) and not _STILL.search(after):
        return True
    last = _last_match(_HISTORY, before)
    if last is None:
        return False
    if _DURATION_BEFORE_HISTORY.search(before[: last.start()]):
        return False  # "2-month history of pain" is a duration, not past history
    gap = before[last.end() :]
    return _words_between(gap) <= _HISTORY_WINDOW and not _SCOPE_END.search(gap)


# --- numbers, durations, temperatures, ages ---------------------------------------------------

_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15,
    "twenty": 20, "thirty": 30, "a couple of": 2, "couple of": 2, "a few": 3, "few": 3,
    "several": 3, "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "sept": 7,
    "huit": 8, "neuf": 9, "dix": 10, "onze": 11, "douze": 12, "quinze": 15, "vingt": 20,
    "trente": 30, "quelques": 3, "plusieurs": 3,
}  # fmt: skip
_NUMBER = (
    r"\d+(?:[.,]\d+)?|a couple of|couple of|a few|few|several|an|a|one|two|three|four|five|six|"
    r"seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|une|un|deux|trois|quatre|cinq|"
    r"sept|huit|neuf|dix|onze|douze|quinze|vingt|trente|quelques|plusieurs"
)
_UNIT_DAYS = {
    "minute": 1 / 1440, "min": 1 / 1440, "hour": 1 / 24, "hr": 1 / 24, "h": 1 / 24,
    "heure": 1 / 24, "day": 1, "d": 1, "jour": 1, "j": 1, "week": 7, "wk": 7, "semaine": 7,
    "sem": 7, "month": 30, "mo": 30, "mois": 30, "year": 365, "yr": 365, "an": 365,
    "annee": 365,
}  # fmt: skip
_UNIT = (
    r"minutes?|mins?|hours?|hrs?|heures?|h|days?|jours?|j|d|weeks?|wks?|semaines?|sem|months?|"
    r"mos?|mois|years?|yrs?|annees?|ans?"
)
_DURATION = re.compile(
    rf"(?<![a-z0-9.,])(?P<number>{_NUMBER}) ?(?P<unit>{_UNIT})(?![a-z0-9])"
    rf"|(?<![a-z0-9])(?:day|jour) (?P<day>\d{{1,2}})(?![0-9])"
    rf"|(?<![a-z0-9'])j(?P<j>\d{{1,2}})(?![0-9])"
)
_YEARS_AS_DURATION_BEFORE = re.compile(
    r"(?:for|since|over|past|last|lasting|depuis|pendant|durant|il y a|plus de|moins de|"
    r"more than|less than|about|around|nearly|almost|environ|presque|pres de) (?:the )?$"
)
_YEARS_AS_DURATION_AFTER = re.compile(r"^ (?:ago|history|of|now)(?![a-z])")
_DURATION_PHRASES: tuple[tuple[re.Pattern[str], float], ...] = tuple(
    (re.compile(rf"(?<![a-z0-9])(?:{phrase})(?![a-z0-9])"), days)
    for phrase, days in (
        (r"half an hour|half hour|(?:une )?demi heure", 1 / 48),
        (r"for hours|depuis des heures", 0.25),
        (
            r"since yesterday|since last night|overnight|last night|yesterday|depuis hier|"
            r"hier soir|hier|cette nuit|depuis cette nuit|dans la nuit|depuis la nuit",
            1.0,
        ),
        (
            r"since this morning|this morning|this afternoon|this evening|tonight|today|"
            r"depuis ce matin|ce matin|cet apres midi|ce soir|aujourd' hui|tout a l' heure",
            0.5,
        ),
        (
            r"(?:since|depuis) (?:the weekend|le week end|(?:mon|tues|wednes|thurs|fri|satur|sun)"
            r"day|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)",
            3.0,
        ),
        (r"for days|depuis des jours", 3.0),
        (r"since last week|last week|depuis la semaine derniere|la semaine derniere", 7.0),
        (r"a fortnight|une quinzaine", 14.0),
        (r"for weeks|depuis des semaines", 14.0),
        (r"for months|depuis des mois", 60.0),
        (r"for years|depuis des annees|depuis des ans", 365.0),
    )
)

_DECIMAL = r"\d{2,3}(?:[.,]\d{1,2})?"
_TEMPERATURES = (
    re.compile(
        rf"(?<![0-9.,])(?P<value>{_DECIMAL}) ?(?:°|degrees?|degres?|deg) ?"
        rf"(?P<unit>celsius|fahrenheit|c|f)?(?![a-z])"
    ),
    re.compile(rf"(?<![0-9.,])(?P<value>{_DECIMAL}) ?(?P<unit>c|f)(?![a-z0-9])"),
    re.compile(
        rf"(?<![a-z0-9])(?:fevers?|febrile|temperature|temp|t°|fievre|thermometre|pyrexia|"
        rf"hyperthermie) (?:[a-z0-9']+ ){{0,4}}?(?P<value>{_DECIMAL})(?![0-9])"
    ),
    re.compile(
        rf"(?<![0-9.,])(?P<value>{_DECIMAL}) (?:de fievre|of fever|de temperature|de temp)"
        rf"(?![a-z])"
    ),
    # A bare number with one decimal between 35 and 42.9 ("elle a 38,2") is a temperature in a
    # message about symptoms; ages and durations are whole numbers, weights carry a unit.
    re.compile(
        r"(?<![0-9.,])(?P<value>(?:3[5-9]|4[0-2])[.,]\d)(?![0-9])"
        r"(?! ?(?:kg|kgs|kilos?|lbs?|pounds|cm|mm|%|percent|mmol|g|mg|l|ml|years?|ans|weeks?|"
        r"semaines|days?|jours|months?|mois|hours?|heures|h)(?![a-z]))"
    ),
)

_PERSON_FR = (
    r"fils|fille|enfant|bebe|garcon|fillette|nourrisson|mari|femme|epouse|pere|mere|patient|"
    r"patiente|homme|dame|monsieur|madame|ado|adolescente?|frere|soeur|grand mere|grand pere|"
    r"neveu|niece|papa|maman|copain|copine|amie?|voisine?|conjoint|conjointe|compagnon|"
    r"compagne|petit fils|petite fille"
)
_PERSON_EN = (
    r"son|daughter|child|kid|baby|boy|girl|husband|wife|partner|mum|mom|mother|dad|father|"
    r"brother|sister|grandma|grandpa|grandmother|grandfather|friend|patient|toddler|infant"
)
_NOT_AN_AGE_AFTER = (
    r"(?![0-9.,])(?! ?(?:weeks?|wks?|days?|months?|kg|kgs|kilos?|lbs?|pounds|stone|cm|mm|"
    r"degrees?|°|%|percent|minutes?|hours?|times|c|f)(?![a-z]))"
)
_AGE_PATTERNS: tuple[tuple[re.Pattern[str], float], ...] = tuple(
    (re.compile(pattern), per_year)
    for pattern, per_year in (
        (r"(?<![0-9.])(?P<n>\d{1,3}) ?(?:years?|yrs?|yr|y) ?old(?![a-z])", 1.0),
        (r"(?<![0-9.])(?P<n>\d{1,3}) ?(?:yo|y/o|y\.o\.?)(?![a-z0-9])", 1.0),
        (r"(?<![0-9.])(?P<n>\d{1,2}) ?(?:months?|mos?) ?old(?![a-z])", 1 / 12),
        (r"(?<![0-9.])(?P<n>\d{1,2}) ?(?:weeks?|wks?) ?old(?![a-z])", 7 / 365),
        (r"(?<![0-9.])(?P<n>\d{1,2}) ?days? ?old(?![a-z])", 1 / 365),
        (r"(?<![a-z0-9])(?:aged?|age) (?P<n>\d{1,3})(?![0-9.,])", 1.0),
        (
            rf"(?<![a-z0-9'])(?:i am|i'm|im|he is|he's|she is|she's|(?:{_PERSON_EN}) is) "
            rf"(?P<n>\d{{1,3}}){_NOT_AN_AGE_AFTER}",
            1.0,
        ),
        (
            r"(?<![a-z0-9])(?:j' ?ai|il a|elle a|age de|agee de|ages de|agees de) "
            r"(?P<n>\d{1,3}) ans(?![a-z])",
            1.0,
        ),
        (r"(?<![a-z0-9])(?:il a|elle a) (?P<n>\d{1,2}) mois(?! (?:de|d'))(?![a-z])", 1 / 12),
        (
            r"(?<![a-z0-9])(?:il a|elle a) (?P<n>\d{1,2}) semaines(?! (?:de|d'))(?![a-z])",
            7 / 365,
        ),
        (rf"(?<![a-z0-9])(?:{_PERSON_FR}) (?:[a-z]+ )?de (?P<n>\d{{1,3}}) ans(?![a-z])", 1.0),
        (rf"(?<![a-z0-9])(?:{_PERSON_FR}) (?:[a-z]+ )?de (?P<n>\d{{1,2}}) mois(?![a-z])", 1 / 12),
        (
            rf"(?<![a-z0-9])(?:{_PERSON_FR}) (?:[a-z]+ )?de (?P<n>\d{{1,2}}) semaines(?![a-z])",
            7 / 365,
        ),
        (
            rf"(?<![a-z0-9])(?:{_PERSON_FR}) (?:[a-z]+ )?de (?P<n>\d{{1,2}}) jours(?![a-z])",
            1 / 365,
        ),
        (r"^(?P<n>\d{1,3}) ans(?![a-z])", 1.0),
    )
)
_AGE_WORDS: tuple[tuple[re.Pattern[str], tuple[float, float]], ...] = tuple(
    (re.compile(rf"(?<![a-z0-9'])(?:{words})(?![a-z0-9])"), ages)
    for words, ages in (
        (r"newborn|new born|nouveau nee?|neonate", (0.0, 0.08)),
        (r"baby|babies|infant|bebe|nourrisson", (0.0, 1.0)),
        (r"toddler|bambin", (1.0, 3.0)),
        (
            r"child|children|kid|kids|son|daughter|little (?:boy|girl)|schoolboy|schoolgirl|"
            r"enfant|fils|fillette|petit garcon|petite fille",
            (1.0, 15.0),
        ),
        (r"teenager|teen|adolescent|adolescente|ado", (12.0, 18.0)),
        (
            r"elderly|grandmother|grandfather|grandma|grandpa|granny|grand mere|grand pere|"
            r"mamie|papi|personne agee|personnes agees",
            (65.0, 110.0),
        ),
    )
)
# Most specific first: "enceinte de 12 semaines" must not stop at "enceinte".
_PREGNANCY = re.compile(
    r"(?<![a-z0-9'])(?:(?P<weeks>\d{1,2}) ?(?:weeks?|wks?) (?:pregnant|gestation|of pregnancy)|"
    r"(?P<sa>\d{1,2}) ?(?:sa|semaines d' amenorrhee|semaines de grossesse)|"
    r"enceinte de (?P<fr_weeks>\d{1,2}) semaines|enceinte de (?P<fr_months>\d{1,2}) mois|"
    r"pregnan[a-z]*|expecting a baby|enceinte|grossesse|trimester|trimestre)"
    r"(?![a-z0-9])"
)
_PAST_PREGNANCY_BEFORE = re.compile(
    r"(?:after|since|before|previous|last|prior|apres|depuis|avant|precedente?|derniere) "
    r"(?:my |her |the |ma |sa |la )?$"
)
_SEX = re.compile(
    r"(?<![a-z0-9'])(?:(?P<female>woman|women|female|she|her|girl|daughter|mother|mum|mom|"
    r"wife|grandmother|lady|mrs|femme|elle|fille|fillette|mere|maman|epouse|grand mere|dame|"
    r"madame|enceinte|pregnant)|(?P<male>man|male|he|his|him|boy|son|father|dad|husband|"
    r"grandfather|mr|homme|il|fils|garcon|pere|papa|mari|grand pere|monsieur))(?![a-z0-9])"
)


def _number(value: str) -> float:
    if value in _NUMBER_WORDS:
        return float(_NUMBER_WORDS[value])
    return float(value.replace(",", "."))


def _unit_days(unit: str) -> float:
    if unit in _UNIT_DAYS:
        return _UNIT_DAYS[unit]
    singular = unit[:-1] if unit.endswith("s") else unit
    return _UNIT_DAYS[singular]


def find_ages(
    norm: NormalisedText, original: str
) -> tuple[list[AgeFinding], list[tuple[int, int]]]:
    """Numeric ages, then words such as "baby"; also where the numeric ones sit in ``norm``.

    The policy uses words only when no number was given (``SymptomFindings.age_ranges``).
    """
    text = norm.text
    found: list[AgeFinding] = []
    taken: list[tuple[int, int]] = []
    for start, end in sentences_of(text):
        sentence = text[start:end]
        for pattern, per_year in _AGE_PATTERNS:
            for match in pattern.finditer(sentence):
                years = float(match.group("n").replace(",", ".")) * per_year
                if years > 120:
                    continue
                a, b = start + match.start(), start + match.end()
                if any(a < t_end and t_start < b for t_start, t_end in taken):
                    continue
                taken.append((a, b))
                found.append(AgeFinding(years, years, norm.span(a, b, original), stated=True))
    for pattern, (low, high) in _AGE_WORDS:
        for match in pattern.finditer(text):
            a, b = match.start(), match.end()
            found.append(AgeFinding(low, high, norm.span(a, b, original), stated=False))
    return found, taken


def find_durations(
    norm: NormalisedText,
    original: str,
    sentences: Sequence[tuple[int, int]],
    excluded: Sequence[tuple[int, int]] = (),
) -> list[DurationFinding]:
    """How long things have lasted, in days, sentence by sentence.

    ``excluded`` spans of ``norm`` (ages, weeks of pregnancy) are not durations: "3 ans".
    """
    text = norm.text
    found: list[DurationFinding] = []
    for index, (start, end) in enumerate(sentences):
        sentence = text[start:end]
        used: list[tuple[int, int]] = []
        for pattern, days in _DURATION_PHRASES:
            for match in pattern.finditer(sentence):
                a, b = match.start(), match.end()
                if any(a < u_end and u_start < b for u_start, u_end in used):
                    continue
                used.append((a, b))
                span = norm.span(start + a, start + b, original)
                found.append(DurationFinding(days, span, index))
        for match in _DURATION.finditer(sentence):
            a, b = match.start(), match.end()
            if any(a < u_end and u_start < b for u_start, u_end in used):
                continue
            if any(start + a < s_end and s_start < start + b for s_start, s_end in excluded):
                continue
            length = _duration_days(match, sentence)
            if length is None:
                continue
            used.append((a, b))
            found.append(DurationFinding(length, norm.span(start + a, start + b, original), index))
    return found


def _duration_days(match: re.Match[str], sentence: str) -> float | None:
    if match.group("day") or match.group("j"):
        return float(match.group("day") or match.group("j"))
    number, unit = match.group("number"), match.group("unit")
    if number in _NUMBER_WORDS and len(unit) < 3:
        return None  # "a h", "un j": not a duration
    if unit in ("h", "j", "d") and number in _NUMBER_WORDS:
        return None
    if unit.startswith(("year", "yr", "an", "annee")):
        # "45 ans" is usually an age: read years as a duration only after "for", "depuis"...
        before = sentence[: match.start()]
        if not (
            _YEARS_AS_DURATION_BEFORE.search(before)
            or _YEARS_AS_DURATION_AFTER.match(sentence[match.end() :])
        ):
            return None
    if unit == "an" and number in ("a", "an"):
        return None
    return _number(number) * _unit_days(unit)


def find_temperatures(
    norm: NormalisedText, original: str, sentences: Sequence[tuple[int, int]]
) -> list[TemperatureFinding]:
    """Body temperatures in Celsius; a value from 93 to 110 is read as Fahrenheit."""
    text = norm.text
    found: list[TemperatureFinding] = []
    for index, (start, end) in enumerate(sentences):
        sentence = text[start:end]
        seen: set[int] = set()
        for pattern in _TEMPERATURES:
            for match in pattern.finditer(sentence):
                a = match.start("value")
                if a in seen:
                    continue
                value = float(match.group("value").replace(",", "."))
                unit = match.groupdict().get("unit") or ""
                if unit.startswith("f") or (not unit.startswith("c") and 93 <= value <= 110):
                    celsius = round((value - 32) * 5 / 9, 1)
                else:
                    celsius = value
                if not 34 <= celsius <= 43.5:
                    continue
                seen.add(a)
                span = norm.span(start + match.start(), start + match.end(), original)
                found.append(TemperatureFinding(celsius, span, index))
    return found


def find_pregnancies(
    norm: NormalisedText, original: str, sentences: Sequence[tuple[int, int]]
) -> tuple[list[PregnancyFinding], list[tuple[int, int]]]:
    """Mentions of a current pregnancy, negated ("pas enceinte") or not, with the weeks given.

    Also returns where those stating weeks sit in ``norm``: "enceinte de 12 semaines" is how
    far along a pregnancy is, not how long a symptom has lasted.
    """
    text = norm.text
    found: list[PregnancyFinding] = []
    spans: list[tuple[int, int]] = []
    for start, end in sentences:
        sentence = text[start:end]
        masked = _mask(sentence)
        for match in _PREGNANCY.finditer(sentence):
            if _PAST_PREGNANCY_BEFORE.search(sentence[: match.start()]):
                continue
            negated = _negation_cue(sentence, masked, match.start(), match.end()) is not None
            weeks = _pregnancy_weeks(match)
            span = norm.span(start + match.start(), start + match.end(), original)
            found.append(PregnancyFinding(span, negated, weeks))
            if weeks is not None:
                spans.append((start + match.start(), start + match.end()))
    return found, spans


def _pregnancy_weeks(match: re.Match[str]) -> float | None:
    for group in ("weeks", "sa", "fr_weeks"):
        if match.group(group):
            return float(match.group(group))
    if match.group("fr_months"):
        return round(float(match.group("fr_months")) * 4.35, 1)
    return None


def find_sex(text: str) -> Sex | None:
    """The sex of the first person named ("my husband", "elle"): a hint, never a rule input."""
    match = _SEX.search(text)
    if match is None:
        return None
    return "female" if match.group("female") else "male"


# --- concepts --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _CompiledConcept:
    id: str
    kind: str
    regex: re.Pattern[str]
    temperature_min: float | None


# Compiled patterns per rules object (the models hold dicts, so they cannot be cache keys).
_COMPILED: dict[int, tuple[TriageRules, tuple[_CompiledConcept, ...]]] = {}


def _compiled(rules: TriageRules) -> tuple[_CompiledConcept, ...]:
    cached = _COMPILED.get(id(rules))
    if cached is not None and cached[0] is rules:
        return cached[1]
    compiled = []
    for concept in rules.concepts:
        alternatives = "|".join(compile_pattern(p) for p in concept.patterns.all())
        compiled.append(
            _CompiledConcept(
                concept.id, concept.kind, re.compile(alternatives), concept.temperature_min
            )
        )
    result = tuple(compiled)
    _COMPILED[id(rules)] = (rules, result)
    return result


_WORD_START = re.compile(r"(?<![a-z0-9'])[a-z0-9]")


def _matches(
    regex: re.Pattern[str], sentence: str, starts: Sequence[int]
) -> Iterator[re.Match[str]]:
    """Leftmost non-overlapping matches, tried only where a word starts.

    Every pattern starts on a word boundary, so this finds what ``finditer`` would, several
    times faster: the engine is not restarted at every character of a long message.
    """
    after = 0
    for position in starts:
        if position < after:
            continue
        match = regex.match(sentence, position)
        if match:
            yield match
            after = max(match.end(), position + 1)


def find_symptoms(text: str, rules: TriageRules | None = None) -> SymptomFindings:
    """Every concept, age, duration, temperature and pregnancy the message states, as evidence."""
    rules = rules or load_triage_rules()
    norm = normalise(text)
    sentences = sentences_of(norm.text)
    ages, age_spans = find_ages(norm, text)
    pregnancies, pregnancy_spans = find_pregnancies(norm, text, sentences)
    durations = find_durations(norm, text, sentences, age_spans + pregnancy_spans)
    temperatures = find_temperatures(norm, text, sentences)

    concepts: list[ConceptFinding] = []
    for index, (start, end) in enumerate(sentences):
        sentence = norm.text[start:end]
        masked = _mask(sentence)
        starts = [m.start() for m in _WORD_START.finditer(sentence)]
        for concept in _compiled(rules):
            for match in _matches(concept.regex, sentence, starts):
                cue = _negation_cue(sentence, masked, match.start(), match.end())
                span = norm.span(start + match.start(), start + match.end(), text)
                concepts.append(
                    ConceptFinding(
                        concept=concept.id,
                        kind=concept.kind,
                        span=span,
                        sentence=index,
                        negated=cue is not None,
                        historical=_is_historical(masked, match.start(), match.end()),
                        cue=cue,
                    )
                )
    hottest = max(temperatures, key=lambda t: t.celsius, default=None)
    if hottest is not None:
        for concept in _compiled(rules):
            if concept.temperature_min is not None and hottest.celsius >= concept.temperature_min:
                concepts.append(
                    ConceptFinding(concept.id, concept.kind, hottest.span, hottest.sentence)
                )
    concepts = _attach_durations(concepts, durations, norm.text, sentences)
    return SymptomFindings(
        text=text,
        concepts=tuple(concepts),
        ages=tuple(ages),
        durations=tuple(durations),
        temperatures=tuple(temperatures),
        pregnancies=tuple(pregnancies),
        sex=find_sex(norm.text),
    )


def _attach_durations(
    concepts: list[ConceptFinding],
    durations: Sequence[DurationFinding],
    text: str,
    sentences: Sequence[tuple[int, int]],
) -> list[ConceptFinding]:
    """Give each finding the durations of its sentence, and those of a short orphan after it."""
    by_sentence: dict[int, list[float]] = {}
    for duration in durations:
        by_sentence.setdefault(duration.sentence, []).append(duration.days)
    with_concepts = {f.sentence for f in concepts}
    inherited: dict[int, list[float]] = {}
    for index, days in by_sentence.items():
        start, end = sentences[index]
        short = len(text[start:end].split()) <= _ORPHAN_MAX_WORDS
        if index not in with_concepts and index > 0 and short:
            inherited.setdefault(index - 1, []).extend(days)
    return [
        replace(f, durations=tuple(by_sentence.get(f.sentence, []) + inherited.get(f.sentence, [])))
        for f in concepts
    ]
