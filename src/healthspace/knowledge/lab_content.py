"""Plain-language explanations of lab tests, in English and French, every one sourced.

The facts live in ``data/lab_content.json``: for a LOINC test of the lab catalog (or a group of
codes that share one explanation, such as calculated and direct LDL, or glucose in mg/dL and in
mmol/L), what it measures, what a high or a low value can mean, what can affect the result and
when to talk to a doctor. Sentences are short and calm and never diagnose ("can be a sign of").

The file is validated against the lab catalog, so an item for an unknown code, a code explained
twice or a source id the file does not define fails at load time and in CI, never in front of a
patient. Thresholds that trigger a flag stay in the catalog's ranges; this file only explains.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from functools import cache
from importlib import resources
from typing import Any

from pydantic import Field, PrivateAttr, ValidationInfo, model_validator

from healthspace.knowledge.citations import Frozen, Names, Source
from healthspace.knowledge.documents import SearchDocument
from healthspace.knowledge.medicine_content import BilingualList
from healthspace.terminology.labs import LabCatalog, load_lab_catalog

# Section headings used when an item is turned into searchable (and displayable) text.
# French typography puts a space before the colon.
_HEADINGS: Mapping[str, Mapping[str, str]] = {
    "measures": {"en": "What it measures:", "fr": "Ce que mesure l'analyse :"},
    "high": {"en": "A high value can mean:", "fr": "Une valeur haute peut signifier :"},
    "low": {"en": "A low value can mean:", "fr": "Une valeur basse peut signifier :"},
    "affected_by": {
        "en": "What can affect the result:",
        "fr": "Ce qui peut influencer le résultat :",
    },
    "see_doctor": {"en": "When to talk to a doctor:", "fr": "Quand en parler à un médecin :"},
}
SECTIONS = tuple(_HEADINGS)
LIST_SECTIONS = ("high", "low", "affected_by", "see_doctor")
LANGUAGES = ("en", "fr")


class LabContent(Frozen):
    """What a patient needs to know about one lab test (or codes sharing one explanation).

    An item names its test with ``code`` or, when several catalog codes mean the same thing to a
    patient (units, methods, specimens), with ``codes``; exactly one of the two is given.
    """

    code: str | None = None
    codes: tuple[str, ...] = ()
    measures: Names
    # Either list may be empty where that direction means nothing to a patient (a low
    # troponin, a high eGFR); "see_doctor" never is.
    high: BilingualList = BilingualList()
    low: BilingualList = BilingualList()
    affected_by: BilingualList = BilingualList()
    see_doctor: BilingualList
    sources: tuple[str, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_way_to_name_codes(self) -> LabContent:
        if (self.code is None) == (not self.codes):
            raise ValueError("give exactly one of 'code' or a non-empty 'codes'")
        if len(set(self.codes)) != len(self.codes):
            raise ValueError(f"repeated code in {list(self.codes)}")
        if not len(self.see_doctor):
            raise ValueError(f"{self.loinc_codes[0]}: see_doctor is empty")
        if len(set(self.sources)) != len(self.sources):
            raise ValueError(f"{self.loinc_codes[0]}: a source is cited twice")
        return self

    @property
    def loinc_codes(self) -> tuple[str, ...]:
        """Every LOINC code this explanation covers, in file order."""
        return (self.code,) if self.code is not None else self.codes

    def section(self, name: str) -> BilingualList:
        """One of ``LIST_SECTIONS`` by name."""
        if name not in LIST_SECTIONS:
            raise KeyError(name)
        value: BilingualList = getattr(self, name)
        return value


class LabContentFile(Frozen):
    """The whole data file; validation needs the lab catalog in its context to check codes."""

    version: str = Field(min_length=1)
    comment: str = ""
    sources: Mapping[str, Source]
    items: tuple[LabContent, ...]
    _by_code: dict[str, LabContent] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        self._by_code = {code: item for item in self.items for code in item.loinc_codes}

    @model_validator(mode="after")
    def _references_resolve(self, info: ValidationInfo) -> LabContentFile:
        seen: set[str] = set()
        for item in self.items:
            for code in item.loinc_codes:
                if code in seen:
                    raise ValueError(f"LOINC {code} is explained by more than one item")
                seen.add(code)
            missing = [s for s in item.sources if s not in self.sources]
            if missing:
                raise ValueError(f"{item.loinc_codes[0]}: undefined source ids {missing}")
        catalog = (info.context or {}).get("catalog")
        if isinstance(catalog, LabCatalog):
            unknown = sorted(code for code in seen if catalog.lab(code) is None)
            if unknown:
                raise ValueError(f"LOINC codes not in the lab catalog: {unknown}")
        return self

    def item(self, loinc_code: str) -> LabContent | None:
        """The explanation covering this LOINC code, if the file has one."""
        return self._by_code.get(loinc_code)

    def covered_codes(self) -> list[str]:
        """Every LOINC code some item explains, in file order."""
        return list(self._by_code)


def parse_lab_content(data: Any, catalog: LabCatalog | None = None) -> LabContentFile:
    """Validate a decoded content file against ``catalog`` (the shipped one by default)."""
    catalog = catalog or load_lab_catalog()
    return LabContentFile.model_validate(data, context={"catalog": catalog})


@cache
def load_lab_content() -> LabContentFile:
    """The content shipped with Healthspace, read once and validated."""
    text = (
        resources.files("healthspace.knowledge")
        .joinpath("data/lab_content.json")
        .read_text("utf-8")
    )
    return parse_lab_content(json.loads(text))


def content_for(loinc_code: str) -> LabContent | None:
    """The plain-language explanation of a catalog lab test, or None when none is written yet."""
    return load_lab_content().item(loinc_code.strip())


def sources_of(item: LabContent, content: LabContentFile | None = None) -> list[Source]:
    """The Source records an item cites, in the order it cites them."""
    content = content or load_lab_content()
    return [content.sources[s] for s in item.sources]


def render_text(item: LabContent, lang: str) -> str:
    """The item as one paragraph per non-empty section in ``lang``, for search and display."""
    parts = [f"{_HEADINGS['measures'][lang]} {getattr(item.measures, lang)}"]
    for name in LIST_SECTIONS:
        entries = item.section(name).in_language(lang)
        if entries:
            parts.append(f"{_HEADINGS[name][lang]} {' '.join(_sentence(e) for e in entries)}")
    return "\n".join(parts)


def _sentence(entry: str) -> str:
    # Entries are written as short phrases ("Dehydration") or full sentences; a phrase gets
    # the full stop it lacks so the rendered paragraph reads as sentences.
    entry = entry.strip()
    return entry if entry[-1] in ".!?" else f"{entry}."


def documents() -> Iterator[SearchDocument]:
    """One search document per covered LOINC code, titled by the catalog's names for it.

    Codes that share an explanation get the same text, but each keeps its own title and the
    aliases its reports print, so "HbA1c" and "Hémoglobine glyquée (IFCC)" both find it.
    """
    catalog = load_lab_catalog()
    content = load_lab_content()
    for item in content.items:
        text = {lang: render_text(item, lang) for lang in LANGUAGES}
        sources = tuple(sources_of(item, content))
        for code in item.loinc_codes:
            lab = catalog.lab(code)
            if lab is None:  # parse_lab_content already refuses this
                continue
            yield SearchDocument(
                id=f"lab:{code}",
                kind="lab",
                title={"en": lab.name.en, "fr": lab.name.fr},
                text=text,
                sources=sources,
                keywords=tuple(dict.fromkeys((*lab.aliases.en, *lab.aliases.fr, code))),
            )
