"""Words with their place in the text, sentences, and a matcher for lists of phrases.

Every match keeps character offsets into the original text, so evidence is always an exact
span of what the person wrote, whatever folding the matching did.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from healthspace.knowledge.folding import fold

_WORD = re.compile(r"[^\W_]+")
# A sentence ends at . ! ? ; followed by a space or the end, or at a line break.
_SENTENCE_END = re.compile(r"[.!?;]+(?=\s|$)|\n")
_BULLET = re.compile(r"\s*[-*•·]")
_CLAUSE_BREAK = re.compile(r"[,:;()\[\]\n]|[.!?](?=\s|$)")

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Token:
    """A word as written (``text``), where it is, and the form used to compare words."""

    text: str
    start: int
    end: int
    key: str


def match_key(word: str) -> str:
    """Case, accents and a final plural 's' do not change a word: "Diabètes" → "diabete"."""
    folded = word.lower() if word.isascii() else fold(word)  # same result, 10 times faster
    if len(folded) > 3 and folded.endswith("s") and not folded.endswith(("ss", "us", "is")):
        return folded[:-1]
    return folded


def words(text: str) -> list[str]:
    """The words of ``text`` as written."""
    return _WORD.findall(text)


def tokenize(text: str) -> list[Token]:
    """The words of ``text`` (letters and digits; punctuation separates words)."""
    return [
        Token(m.group(), m.start(), m.end(), match_key(m.group())) for m in _WORD.finditer(text)
    ]


def _is_abbreviation(word: str) -> bool:
    # "HTA", "T2DM", "CKD": written in capitals, so they must be written in capitals to match;
    # "hta" or "ckd" in running text is more likely another word or a typo.
    return len(word) >= 2 and word.isupper()


def sentence_numbers(text: str, tokens: list[Token]) -> list[int]:
    """For each token, the number of the sentence it belongs to.

    A line break ends a sentence unless the line ends with ':' or ',' (a heading such as
    "Antécédents :" followed by its list) or the next line continues such a bulleted list.
    """
    ends: list[int] = []
    in_list = False
    for match in _SENTENCE_END.finditer(text):
        if match.group() == "\n":
            before = text[: match.start()].rstrip(" \t\r")
            after = text[match.end() :]
            opens_list = before.endswith((":", ","))
            continues_list = in_list and _BULLET.match(after) is not None
            if opens_list or continues_list:
                in_list = True
                continue
        in_list = False
        ends.append(match.start())
    numbers: list[int] = []
    sentence = 0
    for token in tokens:
        while sentence < len(ends) and ends[sentence] < token.start:
            sentence += 1
        numbers.append(sentence)
    return numbers


def clause_numbers(text: str, tokens: list[Token]) -> list[int]:
    """For each token, the number of its clause: commas, colons, semicolons and brackets
    separate clauses. A trigger after a noun ("pneumopathie écartée") governs only its clause.
    """
    numbers: list[int] = []
    clause = 0
    previous_end = 0
    for token in tokens:
        if _CLAUSE_BREAK.search(text, previous_end, token.start):
            clause += 1
        numbers.append(clause)
        previous_end = token.end
    return numbers


@dataclass(frozen=True, slots=True)
class _Pattern(Generic[T]):
    keys: tuple[str, ...]
    exact: tuple[str | None, ...]  # the word as written when it must match in capitals
    value: T


@dataclass(frozen=True, slots=True)
class PhraseMatch(Generic[T]):
    """Tokens ``start``..``end`` (end excluded) match a phrase carrying ``value``."""

    start: int
    end: int
    value: T


class PhraseMatcher(Generic[T]):
    """Finds any of many phrases in a token list; each phrase carries a value."""

    def __init__(self) -> None:
        self._by_first: dict[str, list[_Pattern[T]]] = {}
        self.size = 0

    def add(self, phrase: str, value: T, abbreviations: bool = True) -> None:
        """Add ``phrase``; with ``abbreviations``, its words in capitals match only in capitals."""
        written = words(phrase)
        if not written:
            raise ValueError(f"the phrase {phrase!r} has no words")
        pattern = _Pattern(
            keys=tuple(match_key(w) for w in written),
            exact=tuple(w if abbreviations and _is_abbreviation(w) else None for w in written),
            value=value,
        )
        self._add_pattern(pattern)

    def add_keys(self, keys: tuple[str, ...], value: T) -> None:
        """Add a phrase already reduced to matching keys (see ``match_key``), in any case."""
        if not keys:
            raise ValueError("a phrase needs at least one word")
        self._add_pattern(_Pattern(keys, (None,) * len(keys), value))

    def _add_pattern(self, pattern: _Pattern[T]) -> None:
        self._by_first.setdefault(pattern.keys[0], []).append(pattern)
        self.size += 1

    def find_all(self, tokens: list[Token]) -> list[PhraseMatch[T]]:
        """Every match, overlapping ones included, in text order."""
        found: list[PhraseMatch[T]] = []
        count = len(tokens)
        for start, token in enumerate(tokens):
            for pattern in self._by_first.get(token.key, ()):
                end = start + len(pattern.keys)
                if end > count:
                    continue
                if all(
                    tokens[start + i].key == key
                    and (exact is None or tokens[start + i].text == exact)
                    for i, (key, exact) in enumerate(zip(pattern.keys, pattern.exact, strict=True))
                ):
                    found.append(PhraseMatch(start, end, pattern.value))
        return found


def longest_first(matches: Iterable[PhraseMatch[T]]) -> list[PhraseMatch[T]]:
    """Non-overlapping matches, a longer one winning over any shorter one it overlaps."""
    ordered = sorted(matches, key=lambda m: (-(m.end - m.start), m.start))
    taken: set[int] = set()
    kept: list[PhraseMatch[T]] = []
    for match in ordered:
        span = range(match.start, match.end)
        if taken.isdisjoint(span):
            taken.update(span)
            kept.append(match)
    return sorted(kept, key=lambda m: m.start)
