"""Search documents for the terminology catalogs: lab tests and medicines.

Registered like any content module (``knowledge/registry.py``), so search finds a lab by the
name a report prints ("Glycémie à jeun", "HbA1c") and a medicine by its INN, a brand
("Doliprane", "Tylenol") or its class, in French or English.
"""

from __future__ import annotations

from collections.abc import Iterator

from healthspace.knowledge.documents import SearchDocument
from healthspace.terminology.labs import load_lab_catalog
from healthspace.terminology.medicines import load_medicine_catalog

# How the catalog's lab groups read to a person (a label, not a medical fact).
_LAB_GROUPS = {
    "chemistry": ("Blood chemistry", "Biochimie"),
    "haematology": ("Blood count (haematology)", "Hématologie (numération sanguine)"),
    "lipids": ("Lipids (cholesterol)", "Bilan lipidique (cholestérol)"),
    "thyroid": ("Thyroid tests", "Bilan thyroïdien (thyroïde)"),
    "liver": ("Liver tests", "Bilan hépatique (foie)"),
    "kidney": ("Kidney tests", "Bilan rénal (reins)"),
    "diabetes": ("Diabetes and blood sugar", "Diabète et glycémie"),
    "urine": ("Urine tests", "Analyses d'urine"),
    "coagulation": ("Blood clotting", "Coagulation"),
    "vitamins": ("Vitamins", "Vitamines"),
    "inflammation": ("Inflammation", "Inflammation"),
    "hormones": ("Hormones", "Hormones"),
    "tumour_markers": ("Tumour markers", "Marqueurs tumoraux"),
    "electrolytes": ("Electrolytes (blood salts)", "Ionogramme (sels du sang)"),
    "iron": ("Iron", "Fer"),
    "cardiac": ("Heart markers", "Marqueurs cardiaques"),
    "blood_gas": ("Blood gases", "Gaz du sang"),
    "immunology": ("Immunology", "Immunologie"),
}


def lab_documents() -> Iterator[SearchDocument]:
    """One document per LOINC lab test: names, the aliases reports print, its group."""
    catalog = load_lab_catalog()
    for lab in catalog.labs:
        group_en, group_fr = _LAB_GROUPS.get(lab.group, (lab.group, lab.group))
        text = {
            "en": _sentences(
                lab.name.en,
                ("Also called", lab.aliases.en),
                ("Group", (group_en,)),
                ("LOINC", (lab.code,)),
            ),
            "fr": _sentences(
                lab.name.fr,
                ("Aussi appelé", lab.aliases.fr),
                ("Groupe", (group_fr,)),
                ("LOINC", (lab.code,)),
            ),
        }
        yield SearchDocument(
            id=f"lab:{lab.code}",
            kind="lab",
            title={"en": lab.name.en, "fr": lab.name.fr},
            text=text,
            sources=tuple(catalog.sources[s] for s in lab.sources),
            keywords=tuple(dict.fromkeys((lab.code, *lab.aliases.en, *lab.aliases.fr))),
        )


def medicine_documents() -> Iterator[SearchDocument]:
    """One document per medicine: INN in both languages, brands, synonyms, ATC and classes."""
    catalog = load_medicine_catalog()
    for medicine in catalog.medicines:
        classes = [catalog.classes[slug] for slug in medicine.classes]
        atc = medicine.atc_class
        text = {
            "en": _sentences(
                medicine.inn.en,
                ("Also known as", medicine.synonyms),
                ("Brands in France", medicine.brands.fr),
                ("Brands in the United States", medicine.brands.us),
                ("ATC class", (f"{atc.en} ({atc.code})",) if atc else ()),
                ("Drug classes", tuple(c.en for c in classes)),
            ),
            "fr": _sentences(
                medicine.inn.fr,
                ("Autres noms", medicine.synonyms),
                ("Marques en France", medicine.brands.fr),
                ("Marques aux États-Unis", medicine.brands.us),
                ("Classe ATC", (f"{atc.fr} ({atc.code})",) if atc else ()),
                ("Classes", tuple(c.fr for c in classes)),
            ),
        }
        yield SearchDocument(
            id=f"medicine:{medicine.id}",
            kind="medicine",
            title={"en": medicine.inn.en, "fr": medicine.inn.fr},
            text=text,
            sources=tuple(catalog.sources[s] for s in medicine.sources),
            keywords=tuple(
                dict.fromkeys(
                    (*medicine.synonyms, *medicine.brands.fr, *medicine.brands.us, *medicine.atc)
                )
            ),
        )


def _sentences(name: str, *parts: tuple[str, tuple[str, ...]]) -> str:
    lines = [f"{name}."]
    lines.extend(f"{label}: {', '.join(values)}." for label, values in parts if values)
    return " ".join(lines)
