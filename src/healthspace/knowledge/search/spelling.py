"""Typo tolerance: a misspelt drug or medical word still finds what it meant.

People type medicine names from memory ("metfromin", "amoxicilin"). A symmetric-delete index
(the SymSpell idea) finds close vocabulary words with a few dictionary look-ups instead of
comparing the word with every word known: the vocabulary is stored with each of its one-letter
deletions, and a query word's deletions (up to two letters) are looked up in it. That finds
every word one edit away, and transpositions and most two-edit slips; the true distance then
decides.
"""

from __future__ import annotations

from collections.abc import Mapping

# Short words are left alone: "rein" and "sein" are one edit apart and both real.
MIN_LENGTH = 5


def allowed_distance(length: int) -> int:
    """How many edits a word of this length may be from what was meant."""
    if length < MIN_LENGTH:
        return 0
    return 1 if length < 8 else 2


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (a transposition is one edit), capped at ``limit + 1``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, char_b in enumerate(b, 1):
            cost = 0 if char_a == char_b else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                value = min(value, previous2[j - 2] + 1)
            current[j] = value
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


class SpellingIndex:
    """Corrections for words the search index does not know, drawn from a vocabulary."""

    def __init__(self, vocabulary: Mapping[str, int]) -> None:
        """``vocabulary`` maps each correctable word to how many documents use it."""
        self._frequency = {w: n for w, n in vocabulary.items() if len(w) >= MIN_LENGTH}
        self._variants: dict[str, list[str]] = {}
        for word in self._frequency:
            for variant in (word, *_deletes(word)):
                self._variants.setdefault(variant, []).append(word)

    def __len__(self) -> int:
        return len(self._frequency)

    def corrections(self, word: str, limit: int = 2) -> list[str]:
        """The closest known words (fewest edits, then most used), at most ``limit`` of them."""
        distance = allowed_distance(len(word))
        if distance == 0 or not word.isalpha():
            return []
        probes = {word} | _deletes(word)
        if distance >= 2:
            probes |= {shorter for variant in _deletes(word) for shorter in _deletes(variant)}
        candidates: set[str] = set()
        for probe in probes:
            candidates.update(self._variants.get(probe, ()))
        candidates.discard(word)
        ranked = sorted(
            (edit_distance(word, candidate, distance), -self._frequency[candidate], candidate)
            for candidate in candidates
        )
        ranked = [item for item in ranked if item[0] <= distance]
        if not ranked:
            return []
        best = ranked[0][0]
        return [candidate for d, _, candidate in ranked if d == best][:limit]
