"""Folding text for matching: case, accents and ligatures do not change what a word means."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """Lower case without accents: "Hémoglobine glyquée" and "HEMOGLOBINE GLYQUEE" fold alike."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = folded.replace("œ", "oe").replace("æ", "ae")
    return "".join(ch for ch in folded if not unicodedata.combining(ch))
