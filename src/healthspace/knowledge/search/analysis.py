"""Turning text into index terms: folded, split into words, stop words dropped, lightly stemmed.

One analyser serves French and English together, because a query rarely says its language and
a French person types "HbA1c" or "LDL" as readily as "glycémie". The stemmer is deliberately
light (plural and feminine endings, English ``-ing``/``-ed``): a full Porter or Snowball stemmer
merges words a patient keeps apart, while these few rules already make "rénales" meet "rénal",
"diabète" meet "diabetes" and "allergie" meet "allergy". Medical synonyms and translations that
spelling cannot join are the job of ``expansion``.
"""

from __future__ import annotations

import re

from healthspace.knowledge.folding import fold

# Bump when the rules below change: cached indexes built with other rules are then rebuilt.
ANALYSIS_VERSION = 3

_WORD = re.compile(r"[a-z0-9]+")

# Function words of both languages, folded. Words that carry medical meaning in one of the
# languages are left out on purpose even where stock lists have them: "mal" (mal de dos),
# "sein" (breast), "bas"/"haut" (tension basse), "high"/"low", "no"/"not" are kept.
_ENGLISH_STOP_WORDS = """
    a an the and or of to in on at for with by from as is are was were be been being it its
    this that these those what which who whom whose how why when where do does did doing done
    can could should would will shall may might must i me my mine we us our you your yours he
    him his she her hers they them their theirs there here about into onto over under after
    before than then so if any some all also such more most very just get gets got have has had
    having am s t ll ve re d m o y if
"""
_FRENCH_STOP_WORDS = """
    le la les l un une des de du d et ou a au aux en dans par pour sur sous avec sans chez vers
    ce cet cette ces c qu que qui quoi quel quelle quels quelles est sont etre ete etait ai as
    avez avons ont suis es sommes etes je j tu il elle on nous vous ils elles me m te t se s mon
    ma mes ton ta tes son sa ses notre nos votre vos leur leurs y ne n pas plus moins tres trop
    comme mais donc ni car si quand comment pourquoi ca cela ceci lui eux meme aussi tout tous
    toute toutes avoir faire fait fais peut peux puis dois doit etc
"""
STOP_WORDS = frozenset((_ENGLISH_STOP_WORDS + _FRENCH_STOP_WORDS).split())


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def _fold_match(match: re.Match[str]) -> str:
    return fold(match.group())


def fold_text(text: str) -> str:
    """``fold``, faster: ASCII only needs lower-casing, so only non-ASCII runs go through it.

    Most text, even French, is mostly ASCII, and ``fold`` looks at one character at a time.
    """
    if text.isascii():
        return text.lower()
    return _NON_ASCII.sub(_fold_match, text).lower()


def words(text: str) -> list[str]:
    """The folded words of a text, stop words included (for display and phrase checks)."""
    return _WORD.findall(fold_text(text))


def stem(word: str) -> str:
    """A light French/English stem of a folded word; words with digits stay as they are."""
    if len(word) <= 3 or not word.isalpha():
        return word
    w = word
    if w.endswith("eaux"):  # peaux → peau
        w = w[:-1]
    elif w.endswith("aux"):  # rénaux → rénal, maux → mal
        w = w[:-3] + "al"
    elif w.endswith(("oux", "eux")) and len(w) > 4:  # genoux → genou, cheveux → cheveu
        w = w[:-1]
    elif w.endswith("ies") and len(w) > 4:  # allergies → allergi (meets allergie, allergy)
        w = w[:-3] + "i"
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):  # keep virus, stress, analysis
        w = w[:-1]
    if w.endswith("ee"):  # glyquée → glyque
        w = w[:-1]
    if w.endswith("e") and len(w) > 3:  # feminine and silent e: rénale → rénal, vitamine
        w = w[:-1]
        if w.endswith(("ell", "enn")):  # artérielle → artériel, ancienne → ancien
            w = w[:-1]
    elif w.endswith("y") and len(w) > 3:  # allergy → allergi, therapy → therapi
        w = w[:-1] + "i"
    elif w.endswith("ia") and len(w) > 4:  # anemia → anemi (meets anémie)
        w = w[:-1]
    if w.endswith("ing") and len(w) >= 7:  # bleeding → bleed, swelling → swell
        w = w[:-3]
    elif w.endswith("ed") and len(w) >= 6 and not w.endswith("eed"):  # infected → infect
        w = w[:-2]
    if w.endswith("ll"):  # swell → swel, so "swelling" and "swell" agree after -ing
        w = w[:-1]
    return w


class _StemTable(dict[str, str]):
    """word → stem, filled on first sight: a dict look-up is the cheapest call per word."""

    def __missing__(self, word: str) -> str:
        value = self[word] = stem(word)
        return value


_STEMS = _StemTable()


# Words named by a letter: "vitamine D", "hépatite A", "type 1". The letter is a stop word
# ("d'", "a") anywhere else, but here it is the whole point.
_NAMED_BY_LETTER = frozenset(
    "vitamin vitamins vitamine vitamines hepatitis hepatite hepatites group groupe".split()
)


def terms(text: str) -> list[str]:
    """Index terms of a text, in order: folded words without stop words, stemmed."""
    stems = _STEMS
    found = _WORD.findall(fold_text(text))
    if not _NAMED_BY_LETTER.isdisjoint(found):
        return [
            stems[word]
            for number, word in enumerate(found)
            if word not in STOP_WORDS or (number and found[number - 1] in _NAMED_BY_LETTER)
        ]
    return [stems[word] for word in found if word not in STOP_WORDS]
