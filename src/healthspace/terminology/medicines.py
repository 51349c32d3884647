"""The medicine catalog: INN in French and English, brand names, ATC, RxNorm and drug classes.

The facts live in ``data/medicines.json`` (its ``comment`` field says what was checked against
what); this module validates them and offers pure look-ups: a medicine from a name as written
on a prescription or a box, and the members of a pharmacological class.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import cache
from importlib import resources

from pydantic import Field, model_validator

from healthspace.errors import HealthspaceError
from healthspace.knowledge.citations import Frozen, Names, Source
from healthspace.knowledge.folding import fold

ATC_CODE = re.compile(r"^[A-Z]\d\d[A-Z][A-Z]\d\d$")
ATC_GROUP = re.compile(r"^[A-Z]\d\d[A-Z][A-Z]$")
RXNORM_CODE = re.compile(r"^[1-9]\d*$")
SLUG = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)*$")

# Words that may follow a medicine's name on a prescription or a box without changing which
# medicine it is: units, dosage forms, routes, release modifiers, salts, generic labellers and
# the small words between them ("poudre pour solution buvable en sachet").
_TRAILING_TEXT = """
    mg g gr kg mcg ug microgram micrograms microgramme microgrammes milligram milligrams
    milligramme milligrammes gram grams gramme grammes ml l litre liter ui iu unit units unite
    unites meq mmol h hour hours heure heures dose doses puff puffs bouffee bouffees
    tablet tablets tab tabs caplet caplets capsule capsules cap caps comprime comprimes gelule
    gelules sachet sachets solution suspension sirop syrup elixir drops gouttes collyre injection
    injectable inj perfusion infusion cream creme gel pommade ointment lotion foam mousse patch
    patchs transdermal transdermique dispositif spray pulverisation nasal nasale inhaler
    inhalateur inhalation aerosol powder poudre granules granule suppository
    suppositories suppositoire suppositoires ovule ovules vaginal vaginale ophthalmic
    ophtalmique oral orale buvable lyophilisat lyoc effervescent effervescente effervescents
    effervescentes orodispersible orodispersibles dispersible chewable croquer sublingual
    sublinguale film coated pellicule pellicules pelliculee pelliculees enrobe enrobes enrobee
    enrobees gastroresistant gastroresistante gastroresistants gastroresistantes secable
    secables flacon ampoule ampoules stylo pen penfill flexpen flextouch solostar kwikpen
    pressurise pressurisee pressurized pressurised metered doseur anti xa
    turbuhaler diskus ellipta autohaler easyhaler spiromax respimat handihaler evohaler
    novolizer clickhaler breezhaler genuair nexthaler
    seringue syringe prefilled prerempli preremplis preremplie preremplies pre filled remplie
    vial vials bottle
    boite box pack
    extended release delayed prolonged sustained controlled modified immediate liberation
    prolongee prolongees modifiee modifiees lp sr er xr xl la cr dr ir odt ec retard
    forte fort extra strength regular junior enfant enfants adulte adultes nourrisson
    nourrissons children childrens adult adults infant infants pediatric pediatrique
    hydrochloride hcl chlorhydrate dihydrochloride sodium sodique disodium potassium potassique
    calcium calcique magnesium maleate besilate besylate mesylate mesilate tosilate tartrate
    bitartrate succinate fumarate hemifumarate citrate sulfate sulphate phosphate acetate
    bromide bromure hyclate monohydrate dihydrate trihydrate hemihydrate anhydrous anhydre base
    propionate dipropionate furoate xinafoate valerate decanoate enanthate cypionate pamoate
    embonate arginine tert butylamine erbumine cilexetil medoxomil mofetil etexilate
    pour en a au aux du des de d la le les par voie usage for of in per the by mouth dans sous
    iv im sc intraveineuse intramusculaire cutanee intravenous intramuscular subcutaneous
    topical topique cutaneous local locale
    generic generique biogaran sandoz teva mylan viatris arrow zentiva eg cristers accord zydus
    krka ratiopharm actavis almus
"""
_TRAILING_WORDS = frozenset(_TRAILING_TEXT.split())
# Connecting words dropped from names and queries alike, so "amoxicilline/acide clavulanique"
# meets "amoxicilline et acide clavulanique" and "Tylenol with Codeine" meets "tylenol codeine".
_CONNECTORS = frozenset({"and", "et", "with", "avec", "plus"})
# Salt words that French labels put before the name ("chlorhydrate de metformine").
_LEADING_WORDS = frozenset(
    {"chlorhydrate", "sulfate", "de", "d", "tartrate", "maleate", "fumarate"}
)


class UnknownMedicineClassError(HealthspaceError, KeyError):
    """A rule or a caller names a pharmacological class the catalog does not define."""

    http_status = 422

    def __init__(self, slug: str) -> None:
        self.slug = slug
        super().__init__(
            f"Unknown medicine class {slug!r}: it is not defined in the medicine catalog. "
            "Check the spelling against the 'classes' of terminology/data/medicines.json."
        )

    def __str__(self) -> str:
        # KeyError would otherwise print the message with quotes around it.
        return str(self.args[0])


class Brands(Frozen):
    """Brand names by market: France (``fr``) and the United States (``us``)."""

    fr: tuple[str, ...] = ()
    us: tuple[str, ...] = ()


class AtcGroup(Frozen):
    """A fourth-level ATC group (chemical subgroup), e.g. N02BE Anilides."""

    code: str = Field(pattern=ATC_GROUP.pattern)
    en: str = Field(min_length=1)
    fr: str = Field(min_length=1)


class Medicine(Frozen):
    """One active substance, or one fixed combination whose ``components`` are other entries."""

    id: str = Field(pattern=SLUG.pattern)
    inn: Names
    synonyms: tuple[str, ...] = ()
    brands: Brands = Brands()
    atc: tuple[str, ...] = ()
    atc_class: AtcGroup | None = None
    rxnorm: str | None = Field(default=None, pattern=RXNORM_CODE.pattern)
    classes: tuple[str, ...] = ()
    components: tuple[str, ...] = ()
    sources: tuple[str, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _atc_is_consistent(self) -> Medicine:
        for code in self.atc:
            if not ATC_CODE.match(code):
                raise ValueError(f"{self.id}: malformed ATC code {code!r}")
        if self.atc and (self.atc_class is None or self.atc_class.code != self.atc[0][:5]):
            raise ValueError(f"{self.id}: atc_class must be the group of its first ATC code")
        if not self.atc and self.atc_class is not None:
            raise ValueError(f"{self.id}: atc_class given without an ATC code")
        return self

    @property
    def names(self) -> tuple[str, ...]:
        """Every name the medicine goes by: INN in both languages, synonyms, brands."""
        return (
            self.inn.en,
            self.inn.fr,
            *self.synonyms,
            *self.brands.fr,
            *self.brands.us,
        )


class MedicineClass(Frozen):
    en: str = Field(min_length=1)
    fr: str = Field(min_length=1)
    sources: tuple[str, ...] = Field(min_length=1)
    note: str | None = None


class MedicineCatalog(Frozen):
    version: str = Field(min_length=1)
    comment: str = ""
    sources: Mapping[str, Source]
    classes: Mapping[str, MedicineClass]
    medicines: tuple[Medicine, ...]

    @model_validator(mode="after")
    def _references_resolve(self) -> MedicineCatalog:
        ids: set[str] = set()
        for medicine in self.medicines:
            if medicine.id in ids:
                raise ValueError(f"duplicate medicine id {medicine.id}")
            ids.add(medicine.id)
        for slug, item in self.classes.items():
            if not SLUG.match(slug):
                raise ValueError(f"malformed class id {slug!r}")
            missing = [s for s in item.sources if s not in self.sources]
            if missing:
                raise ValueError(f"class {slug}: undefined source ids {missing}")
        for medicine in self.medicines:
            missing = [s for s in medicine.sources if s not in self.sources]
            if missing:
                raise ValueError(f"{medicine.id}: undefined source ids {missing}")
            unknown = [c for c in medicine.classes if c not in self.classes]
            if unknown:
                raise ValueError(f"{medicine.id}: undefined class ids {unknown}")
            strangers = [c for c in medicine.components if c not in ids or c == medicine.id]
            if strangers:
                raise ValueError(f"{medicine.id}: unknown components {strangers}")
        _build_name_index(self)  # raises when one name points to two medicines
        return self

    def medicine(self, medicine_id: str) -> Medicine | None:
        """The medicine with this id, if the catalog has it."""
        return next((m for m in self.medicines if m.id == medicine_id), None)


@cache
def load_medicine_catalog() -> MedicineCatalog:
    """The catalog shipped with Healthspace, read once and validated."""
    text = (
        resources.files("healthspace.terminology")
        .joinpath("data/medicines.json")
        .read_text("utf-8")
    )
    return MedicineCatalog.model_validate(json.loads(text))


def name_tokens(text: str) -> list[str]:
    """The words of a name or query, case and accents folded, punctuation and connectors dropped."""
    return [word for word in re.findall(r"[a-z0-9]+", fold(text)) if word not in _CONNECTORS]


def normalise_name(text: str) -> str:
    """The matching key of a medicine name (``"Kardégic"`` and ``"KARDEGIC"`` share one)."""
    return " ".join(name_tokens(text))


def _build_name_index(catalog: MedicineCatalog) -> dict[str, Medicine]:
    index: dict[str, Medicine] = {}
    for medicine in catalog.medicines:
        for name in medicine.names:
            key = normalise_name(name)
            if not key:
                raise ValueError(f"{medicine.id}: the name {name!r} has no letters or digits")
            other = index.setdefault(key, medicine)
            if other.id != medicine.id:
                raise ValueError(f"the name {name!r} refers to both {other.id} and {medicine.id}")
    return index


@cache
def _default_name_index() -> dict[str, Medicine]:
    return _build_name_index(load_medicine_catalog())


def _is_trailing(word: str) -> bool:
    return word in _TRAILING_WORDS or any(ch.isdigit() for ch in word)


def find_medicine(name: str, catalog: MedicineCatalog | None = None) -> Medicine | None:
    """The medicine an INN, synonym or brand refers to, or None.

    Case and accents do not matter, and a strength or form may follow the name
    ("Doliprane 1000 mg", "metformin 500mg tablet"). Words that are neither (another substance,
    say) make the name unknown rather than guessed: "paracetamol ibuprofen" is not paracetamol.
    """
    catalog = catalog or load_medicine_catalog()
    index = (
        _default_name_index() if catalog is load_medicine_catalog() else _build_name_index(catalog)
    )
    words = name_tokens(name)
    start = 0
    while start < len(words) - 1 and words[start] in _LEADING_WORDS:
        start += 1
    for begin in sorted({0, start}):
        for end in range(len(words), begin, -1):
            medicine = index.get(" ".join(words[begin:end]))
            if medicine is not None and all(_is_trailing(w) for w in words[end:]):
                return medicine
    return None


def members_of(class_slug: str, catalog: MedicineCatalog | None = None) -> list[Medicine]:
    """The medicines of a class (``"statin"``, ``"qt_prolonging"``...), in catalog order."""
    catalog = catalog or load_medicine_catalog()
    if class_slug not in catalog.classes:
        raise UnknownMedicineClassError(class_slug)
    return [m for m in catalog.medicines if class_slug in m.classes]
