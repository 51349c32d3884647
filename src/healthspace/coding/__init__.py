"""Clinical coding: codes suggested for free text, each with the exact span that supports it.

``suggest_codes`` is the one entry point the CLI and the API call; the coder behind it is
built once per process (it loads ICD-10-CM and compiles the lexicon and context rules).
SNOMED CT suggestions ("snomed", or "all" for both systems) need the user's loaded release:
the caller opens it (``open_snomed_store``) and passes it in.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from healthspace.errors import HealthspaceError
from healthspace.terminology.snomed import SnomedNotLoadedError

if TYPE_CHECKING:
    from healthspace.coding.context import Language
    from healthspace.coding.icd10_coder import CodeSuggestion
    from healthspace.coding.snomed_coder import SnomedSuggestion
    from healthspace.config import Settings
    from healthspace.terminology.snomed import SnomedStore

SYSTEMS = ("icd10cm", "snomed", "all")
LANGUAGES = ("en", "fr")
# A long discharge summary is about 20,000 characters; far beyond that is not one note.
MAX_TEXT_CHARS = 200_000


class CodingRequestError(HealthspaceError, ValueError):
    """A coding request that cannot be served as asked."""

    http_status = 422


def needs_snomed(system: str) -> bool:
    """Whether coding in ``system`` needs a loaded SNOMED CT release."""
    return system in ("snomed", "all")


def open_snomed_store(settings: Settings) -> SnomedStore:
    """The loaded release (loaded first from HEALTHSPACE_SNOMED_DIR when that is set).

    Raises ``SnomedNotLoadedError``, whose message names HEALTHSPACE_SNOMED_DIR, when there is
    none.
    """
    from healthspace.terminology import snomed

    return snomed.open_store(settings.home, snomed.configured_release_dir(settings))


def suggest_codes(
    text: str,
    system: str = "icd10cm",
    lang: str | None = None,
    include_all: bool = False,
    cache_dir: Path | None = None,
    snomed_store: SnomedStore | None = None,
) -> list[CodeSuggestion | SnomedSuggestion]:
    """Codes of ``system`` for the conditions ``text`` mentions, best first.

    Negated, historical, family and hypothetical mentions come back only with
    ``include_all`` (with their status), never as current. ``lang`` is "en" or "fr"; without
    it the language is guessed from common words. "snomed" and "all" need ``snomed_store``;
    "all" lists the ICD-10-CM codes first, then the SNOMED CT concepts for the same spans.
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
    if needs_snomed(system) and snomed_store is None:
        raise SnomedNotLoadedError()
    from healthspace.coding.icd10_coder import load_icd10_coder

    language: Language | None = "en" if lang == "en" else "fr" if lang == "fr" else None
    coder = load_icd10_coder(cache_dir)
    if not needs_snomed(system):
        return list(coder.suggest(text, lang=language, include_all=include_all))
    from healthspace.coding.snomed_coder import SnomedCoder

    assert snomed_store is not None
    spans = coder.suggest(text, lang=language, include_all=include_all)
    concepts = SnomedCoder.for_store(snomed_store).suggest(spans)
    if system == "snomed":
        return list(concepts)
    return [*spans, *concepts]
