"""Clinical coding: codes suggested for free text, each with the exact span that supports it.

``suggest_codes`` is the one entry point the CLI and the API call; the coder behind it is
built once per process (it loads ICD-10-CM and compiles the lexicon and context rules).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from healthspace.errors import HealthspaceError

if TYPE_CHECKING:
    from healthspace.coding.context import Language
    from healthspace.coding.icd10_coder import CodeSuggestion

SYSTEMS = ("icd10cm",)
LANGUAGES = ("en", "fr")
# A long discharge summary is about 20,000 characters; far beyond that is not one note.
MAX_TEXT_CHARS = 200_000


class CodingRequestError(HealthspaceError, ValueError):
    """A coding request that cannot be served as asked."""

    http_status = 422


def suggest_codes(
    text: str,
    system: str = "icd10cm",
    lang: str | None = None,
    include_all: bool = False,
    cache_dir: Path | None = None,
) -> list[CodeSuggestion]:
    """Codes of ``system`` for the conditions ``text`` mentions, best first.

    Negated, historical, family and hypothetical mentions come back only with
    ``include_all`` (with their status), never as current. ``lang`` is "en" or "fr"; without
    it the language is guessed from common words.
    """
    if system not in SYSTEMS:
        raise CodingRequestError(
            f"Coding system '{system}' is not supported; use one of: {', '.join(SYSTEMS)}."
        )
    if lang is not None and lang not in LANGUAGES:
        raise CodingRequestError(f"Language '{lang}' is not supported; use 'en' or 'fr'.")
    if len(text) > MAX_TEXT_CHARS:
        raise CodingRequestError(
            f"The text has {len(text):,} characters; code at most {MAX_TEXT_CHARS:,} at a time "
            "(split it into notes)."
        )
    from healthspace.coding.icd10_coder import load_icd10_coder

    language: Language | None = "en" if lang == "en" else "fr" if lang == "fr" else None
    return load_icd10_coder(cache_dir).suggest(text, lang=language, include_all=include_all)
