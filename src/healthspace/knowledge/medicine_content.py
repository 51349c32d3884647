"""Plain-language leaflets for the catalog's medicines, in English and French, every one sourced.

The facts live in ``data/medicine_content.json``: for each medicine, what it treats, how to take
it, its common and serious side effects and the key precautions, each a short list written for
a patient (no doses: a leaflet that looks like a dose instruction would compete with the
prescription). This module validates the file against the medicine catalog, so an item for a
medicine the catalog does not know, or citing a source the file does not define, fails at load
time and in CI rather than showing a patient an unsourced claim.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from functools import cache
from importlib import resources
from typing import Any

from pydantic import Field, PrivateAttr, ValidationInfo, model_validator

from healthspace.knowledge.citations import Frozen, Source
from healthspace.knowledge.documents import SearchDocument
from healthspace.terminology.medicines import MedicineCatalog, load_medicine_catalog

# Section headings used when an item is turned into searchable (and displayable) text.
# French typography puts a space before the colon.
_HEADINGS: Mapping[str, Mapping[str, str]] = {
    "treats": {"en": "Used for:", "fr": "Utilisé pour :"},
    "how_to_take": {"en": "How to take it:", "fr": "Comment le prendre :"},
    "common_side_effects": {"en": "Common side effects:", "fr": "Effets indésirables fréquents :"},
    "serious_side_effects": {"en": "Serious side effects:", "fr": "Effets indésirables graves :"},
    "precautions": {"en": "Precautions:", "fr": "Précautions :"},
}
SECTIONS = tuple(_HEADINGS)


class BilingualList(Frozen):
    """The same list in English and French, item for item, so each sentence has its translation."""

    en: tuple[str, ...] = ()
    fr: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _languages_match(self) -> BilingualList:
        if len(self.en) != len(self.fr):
            raise ValueError(
                f"{len(self.en)} English and {len(self.fr)} French entries: "
                "each entry needs its translation"
            )
        if any(not text.strip() for text in (*self.en, *self.fr)):
            raise ValueError("empty entry")
        return self

    def __len__(self) -> int:
        return len(self.en)

    def in_language(self, lang: str) -> tuple[str, ...]:
        """The entries in ``lang`` ("en" or "fr")."""
        return self.en if lang == "en" else self.fr


class MedicineContent(Frozen):
    """What a patient needs to know about one catalog medicine, with the sources it rests on."""

    medicine: str = Field(min_length=1)
    treats: BilingualList
    how_to_take: BilingualList
    common_side_effects: BilingualList = BilingualList()
    serious_side_effects: BilingualList = BilingualList()
    precautions: BilingualList = BilingualList()
    sources: tuple[str, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _has_essentials(self) -> MedicineContent:
        # A leaflet that cannot say what the medicine is for or how to take it is not worth
        # showing; side effects and precautions may be short but not these two.
        for name in ("treats", "how_to_take"):
            if not len(getattr(self, name)):
                raise ValueError(f"{self.medicine}: {name} is empty")
        return self

    def section(self, name: str) -> BilingualList:
        """One of ``SECTIONS`` by name."""
        if name not in _HEADINGS:
            raise KeyError(name)
        value: BilingualList = getattr(self, name)
        return value


class MedicineContentFile(Frozen):
    """The whole data file; validation needs the catalog in its context to check medicine ids."""

    version: str = Field(min_length=1)
    comment: str = ""
    sources: Mapping[str, Source]
    items: tuple[MedicineContent, ...]
    _by_id: dict[str, MedicineContent] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        self._by_id = {item.medicine: item for item in self.items}

    @model_validator(mode="after")
    def _references_resolve(self, info: ValidationInfo) -> MedicineContentFile:
        seen: set[str] = set()
        for item in self.items:
            if item.medicine in seen:
                raise ValueError(f"duplicate content for medicine {item.medicine}")
            seen.add(item.medicine)
            missing = [s for s in item.sources if s not in self.sources]
            if missing:
                raise ValueError(f"{item.medicine}: undefined source ids {missing}")
        catalog = (info.context or {}).get("catalog")
        if isinstance(catalog, MedicineCatalog):
            known = {m.id for m in catalog.medicines}
            unknown = sorted(seen - known)
            if unknown:
                raise ValueError(f"medicines not in the catalog: {unknown}")
        return self

    def item(self, medicine_id: str) -> MedicineContent | None:
        """The content for this medicine id, if the file has it."""
        return self._by_id.get(medicine_id)


def parse_medicine_content(
    data: Any, catalog: MedicineCatalog | None = None
) -> MedicineContentFile:
    """Validate a decoded content file against ``catalog`` (the shipped one by default)."""
    catalog = catalog or load_medicine_catalog()
    return MedicineContentFile.model_validate(data, context={"catalog": catalog})


@cache
def load_medicine_content() -> MedicineContentFile:
    """The content shipped with Healthspace, read once and validated."""
    text = (
        resources.files("healthspace.knowledge")
        .joinpath("data/medicine_content.json")
        .read_text("utf-8")
    )
    return parse_medicine_content(json.loads(text))


def content_for(medicine_id: str) -> MedicineContent | None:
    """The plain-language content for a catalog medicine id, or None when none is written yet."""
    return load_medicine_content().item(medicine_id)


def sources_of(item: MedicineContent, content: MedicineContentFile | None = None) -> list[Source]:
    """The Source records an item cites, in the order it cites them."""
    content = content or load_medicine_content()
    return [content.sources[s] for s in item.sources]


def render_text(item: MedicineContent, lang: str) -> str:
    """The item as one paragraph per section in ``lang``, for search and plain display."""
    parts = []
    for name in SECTIONS:
        entries = item.section(name).in_language(lang)
        if entries:
            parts.append(f"{_HEADINGS[name][lang]} {_join(entries)}")
    return "\n".join(parts)


def _join(entries: tuple[str, ...]) -> str:
    # Short phrases ("headache") read best as one list; full sentences follow it as written.
    phrases = [e.strip() for e in entries if e.strip()[-1] not in ".!?"]
    sentences = [e.strip() for e in entries if e.strip()[-1] in ".!?"]
    listed = [", ".join(phrases) + "."] if phrases else []
    return " ".join(listed + sentences)


def documents() -> Iterator[SearchDocument]:
    """One search document per medicine with content, titled by its INN in each language."""
    catalog = load_medicine_catalog()
    content = load_medicine_content()
    for item in content.items:
        medicine = catalog.medicine(item.medicine)
        if medicine is None:  # parse_medicine_content already refuses this
            continue
        keywords = dict.fromkeys((*medicine.synonyms, *medicine.brands.fr, *medicine.brands.us))
        yield SearchDocument(
            id=f"medicine:{item.medicine}",
            kind="medicine",
            title={"en": medicine.inn.en, "fr": medicine.inn.fr},
            text={lang: render_text(item, lang) for lang in ("en", "fr")},
            sources=tuple(sources_of(item, content)),
            keywords=tuple(keywords),
        )
