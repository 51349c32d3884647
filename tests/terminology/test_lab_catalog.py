"""The LOINC lab catalog: schema and sources, unit conversions, name look-up, reference ranges."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import pytest
from pydantic import ValidationError

from healthspace.errors import HealthspaceError
from healthspace.terminology.labs import (
    LabCatalog,
    LabTest,
    Range,
    UnknownUnitError,
    convert,
    find_lab,
    known_units,
    load_lab_catalog,
    name_keys,
    reference_range,
)

CATALOG = load_lab_catalog()
LABS = CATALOG.labs
NLM_RANGES = Path(__file__).parents[2] / ".." / "shared" / "data" / "lab_ranges_nlm"


def lab(code: str) -> LabTest:
    found = CATALOG.lab(code)
    assert found is not None, code
    return found


# ---------------------------------------------------------------------------- schema and sources


def test_catalog_has_at_least_180_labs() -> None:
    assert len(LABS) >= 180


def test_codes_are_unique() -> None:
    codes = [item.code for item in LABS]
    assert len(codes) == len(set(codes))


def test_every_lab_is_named_in_both_languages_and_cites_a_defined_source() -> None:
    for item in LABS:
        assert item.name.en.strip() and item.name.fr.strip(), item.code
        assert item.sources, item.code
        for source_id in item.sources:
            assert source_id in CATALOG.sources, (item.code, source_id)


def test_every_range_is_ordered_and_cites_a_defined_source_of_its_lab() -> None:
    for item in LABS:
        for band in item.ranges:
            assert band.source in CATALOG.sources, (item.code, band.source)
            assert band.source in item.sources, (item.code, band.source)
            assert band.low is not None or band.high is not None, item.code
            if band.low is not None and band.high is not None:
                assert band.low < band.high, (item.code, band)


def test_ranges_are_given_in_a_unit_the_lab_knows() -> None:
    for item in LABS:
        for band in item.ranges:
            assert band.unit in known_units(item), (item.code, band.unit)


def test_every_source_is_reviewed_and_cited() -> None:
    cited = {source_id for item in LABS for source_id in item.sources}
    assert cited == set(CATALOG.sources)
    for source in CATALOG.sources.values():
        assert source.url.startswith("https://")
        assert source.reviewed.isoformat() == "2026-11-23"


def test_no_name_or_alias_points_to_two_codes() -> None:
    owners: dict[str, set[str]] = defaultdict(set)
    for item in LABS:
        for key in name_keys(item):
            owners[key].add(item.code)
    clashes = {key: codes for key, codes in owners.items() if len(codes) > 1}
    assert not clashes


def test_units_of_one_lab_never_differ_only_by_case() -> None:
    # conversion matches units case-insensitively, which is only safe under this rule
    for item in LABS:
        folded = [unit.casefold() for unit in known_units(item)]
        assert len(folded) == len(set(folded)), (item.code, known_units(item))


def test_conversions_never_repeat_the_default_unit() -> None:
    for item in LABS:
        assert item.unit not in [conversion.unit for conversion in item.conversions], item.code


def test_the_schema_refuses_an_inverted_range() -> None:
    with pytest.raises(ValidationError):
        Range(low=5.0, high=3.0, unit="mmol/L", source="mlp_cmp")


def test_the_schema_refuses_an_undefined_source_and_a_duplicate_code() -> None:
    raw = CATALOG.model_dump(mode="json")
    first = raw["labs"][0]
    with pytest.raises(ValidationError, match="undefined source"):
        LabCatalog.model_validate(
            {**raw, "labs": [{**first, "sources": [*first["sources"], "nowhere"]}]}
        )
    with pytest.raises(ValidationError, match="duplicate LOINC code"):
        LabCatalog.model_validate({**raw, "labs": [first, first]})


# ---------------------------------------------------------------------------- conversions


@pytest.mark.parametrize(
    ("code", "value", "from_unit", "to_unit", "expected", "tolerance"),
    [
        ("2345-7", 100, "mg/dL", "mmol/L", 5.55, 0.01),
        ("2345-7", 1.0, "g/L", "mmol/L", 5.551, 0.001),
        ("14749-6", 5.55, "mmol/L", "mg/dL", 100, 0.1),
        ("2093-3", 200, "mg/dL", "mmol/L", 5.17, 0.01),
        ("2571-8", 150, "mg/dL", "mmol/L", 1.69, 0.01),
        ("2160-0", 1.0, "mg/dL", "umol/L", 88.4, 0.05),
        ("14682-9", 88.42, "umol/L", "mg/dL", 1.0, 0.001),
        ("3094-0", 14, "mg/dL", "mmol/L", 5.0, 0.01),
        ("17861-6", 10, "mg/dL", "mmol/L", 2.495, 0.001),
        ("1975-2", 1.0, "mg/dL", "umol/L", 17.1, 0.01),
        ("3084-1", 6.0, "mg/dL", "umol/L", 356.9, 0.1),
        ("2498-4", 100, "ug/dL", "umol/L", 17.9, 0.01),
        ("3024-7", 1.0, "ng/dL", "pmol/L", 12.87, 0.01),
        ("62292-8", 20, "ng/mL", "nmol/L", 49.9, 0.1),
        ("718-7", 15, "g/dL", "g/L", 150, 1e-9),
        ("6690-2", 7.5, "10*3/uL", "10*9/L", 7.5, 1e-9),
        ("1742-6", 60, "U/L", "ukat/L", 1.0, 1e-9),
    ],
)
def test_known_conversions(
    code: str, value: float, from_unit: str, to_unit: str, expected: float, tolerance: float
) -> None:
    assert convert(value, from_unit, to_unit, lab(code)) == pytest.approx(expected, abs=tolerance)


def test_hba1c_stays_in_percent() -> None:
    hba1c = lab("4548-4")
    assert hba1c.unit == "%"
    assert convert(6.5, "%", "%", hba1c) == 6.5


def test_hba1c_has_no_factor_to_mmol_per_mol() -> None:
    with pytest.raises(UnknownUnitError) as caught:
        convert(6.5, "%", "mmol/mol", lab("4548-4"))
    assert isinstance(caught.value, HealthspaceError)
    assert "4548-4" in str(caught.value)


def test_a_unit_from_another_dimension_is_refused() -> None:
    with pytest.raises(UnknownUnitError):
        convert(7.5, "g/L", "10*9/L", lab("6690-2"))


def test_results_without_a_unit_cannot_be_converted() -> None:
    with pytest.raises(UnknownUnitError):
        convert(1, "mg/dL", "mg/dL", lab("5802-4"))


@pytest.mark.parametrize(
    ("code", "unit"), [(item.code, u) for item in LABS for u in known_units(item)]
)
def test_every_conversion_round_trips(code: str, unit: str) -> None:
    item = lab(code)
    assert item.unit is not None
    there = convert(3.7, unit, item.unit, item)
    assert convert(there, item.unit, unit, item) == pytest.approx(3.7, rel=1e-12)


@pytest.mark.parametrize(
    ("code", "value", "printed_unit", "to_unit", "expected"),
    [
        ("2345-7", 5.55, "mmol/l", "mg/dL", 100.0),
        ("2160-0", 88.42, "µmol/L", "mg/dL", 1.0),
        ("6690-2", 7.5, "G/L", "10*3/uL", 7.5),
        ("789-8", 4.5, "T/l", "10*6/uL", 4.5),
        ("6690-2", 7.5, "x10^9/L", "10*3/uL", 7.5),
        ("3016-3", 2.1, "mUI/L", "m[IU]/L", 2.1),
        ("2951-2", 140, "mEq/L", "mmol/L", 140),
        ("1742-6", 30, "UI/L", "U/L", 30),
        ("4537-7", 12, "mm/1re h", "mm/h", 12),
    ],
)
def test_units_as_reports_print_them(
    code: str, value: float, printed_unit: str, to_unit: str, expected: float
) -> None:
    assert convert(value, printed_unit, to_unit, lab(code)) == pytest.approx(expected, rel=1e-3)


MASS_MOLAR_PAIRS = [
    ("2160-0", "14682-9"),
    ("1558-6", "14771-0"),
    ("2093-3", "14647-2"),
    ("2085-9", "14646-4"),
    ("13457-7", "22748-8"),
    ("2571-8", "14927-8"),
    ("43396-1", "70204-3"),
    ("3084-1", "14933-6"),
    ("1975-2", "14631-6"),
    ("1968-7", "14629-0"),
    ("17861-6", "2000-8"),
    ("19123-9", "2601-3"),
    ("2777-1", "14879-1"),
    ("2498-4", "14798-3"),
    ("2284-8", "14732-2"),
    ("3024-7", "14920-3"),
    ("62292-8", "14635-7"),
    ("3094-0", "14937-7"),
    ("3094-0", "22664-7"),
]


@pytest.mark.parametrize(("mass_code", "molar_code"), MASS_MOLAR_PAIRS)
def test_molar_ranges_agree_with_their_mass_sibling(mass_code: str, molar_code: str) -> None:
    mass, molar = lab(mass_code), lab(molar_code)
    assert molar.unit is not None
    by_population = {(r.sex, r.age_min, r.age_max): r for r in molar.ranges}
    assert by_population, molar_code
    for band in mass.ranges:
        twin = by_population[(band.sex, band.age_min, band.age_max)]
        for ours, theirs in ((band.low, twin.low), (band.high, twin.high)):
            assert (ours is None) == (theirs is None)
            if ours is not None and theirs is not None:
                # sources round the SI figures they print next to conventional ones
                assert convert(ours, band.unit, molar.unit, mass) == pytest.approx(theirs, rel=0.05)


# ---------------------------------------------------------------------------- look-up by name


@pytest.mark.parametrize(
    ("printed", "code"),
    [
        ("hémoglobine glyquée", "4548-4"),
        ("HBA1C", "4548-4"),
        ("Hb A1c", "4548-4"),
        ("Glycemie a jeun", "1558-6"),
        ("GLYCÉMIE À JEUN", "1558-6"),
        ("DFG estimé", "62238-1"),
        ("eGFR", "62238-1"),
        ("Créatinine", "2160-0"),
        ("Kaliémie", "2823-3"),
        ("Gamma GT", "2324-2"),
        ("ALAT", "1742-6"),
        ("Vitesse de sédimentation", "4537-7"),
        ("Œstradiol", "2243-4"),
        ("oestradiol", "2243-4"),
        ("CA-125", "10334-1"),
        ("TSH", "3016-3"),
        ("T4 libre", "3024-7"),
        ("Polynucléaires neutrophiles (%)", "770-8"),
        ("NT-proBNP", "33762-6"),
        ("2345-7", "2345-7"),
        ("  4548-4 ", "4548-4"),
    ],
)
def test_find_lab_matches_codes_names_and_aliases(printed: str, code: str) -> None:
    found = find_lab(printed)
    assert found is not None, printed
    assert found.code == code


@pytest.mark.parametrize("printed", ["", "  ", "unobtainium level", "0000-0"])
def test_find_lab_returns_none_for_unknown_tests(printed: str) -> None:
    assert find_lab(printed) is None


# ---------------------------------------------------------------------------- reference ranges


def test_sex_specific_range_is_chosen_for_a_man() -> None:
    band = reference_range(lab("2160-0"), "male", 45)
    assert band is not None
    assert (band.low, band.high, band.unit) == (0.7, 1.3, "mg/dL")


def test_age_band_is_chosen_for_an_older_woman() -> None:
    band = reference_range(lab("4537-7"), "female", 62)
    assert band is not None
    assert band.high == 30
    younger = reference_range(lab("4537-7"), "female", 35)
    assert younger is not None
    assert younger.high == 20


def test_adult_ranges_do_not_apply_to_children() -> None:
    assert reference_range(lab("2823-3"), "female", 9) is None


def test_unknown_age_or_sex_gives_no_range_rather_than_a_guess() -> None:
    assert reference_range(lab("2823-3"), "male", None) is None
    assert reference_range(lab("718-7"), "any", 40) is None


def test_more_specific_range_wins() -> None:
    item = lab("2823-3").model_copy(
        update={
            "ranges": (
                Range(sex="any", age_min=18, low=3.7, high=5.2, unit="mmol/L", source="mlp_cmp"),
                Range(
                    sex="male",
                    age_min=18,
                    age_max=60,
                    low=3.5,
                    high=5.0,
                    unit="mmol/L",
                    source="mlp_cmp",
                ),
            )
        }
    )
    chosen = reference_range(item, "male", 40)
    assert chosen is not None
    assert chosen.high == 5.0
    other = reference_range(item, "female", 40)
    assert other is not None
    assert other.high == 5.2


# ---------------------------------------------------------------------------- NLM cross-check


def _nlm_adult_ranges() -> dict[str, tuple[float | None, float | None, str]]:
    """LOINC code -> (low, high, unit) from the NLM flowsheet; a 0 low means 'no lower bound'."""
    if not NLM_RANGES.exists():
        pytest.skip(f"{NLM_RANGES.resolve()} is absent: the NLM cross-check needs ../shared/data")
    table: dict[str, tuple[float | None, float | None, str]] = {}
    with (NLM_RANGES / "h17_flowsheet_loinc_ranges.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            code, low_text, high_text = row["loinc"], row["norm_low"], row["norm_high"]
            if not code or code in table or not (low_text or high_text):
                continue
            try:
                low = float(low_text) if low_text else None
                high = float(high_text) if high_text else None
            except ValueError:
                continue
            if low == 0:
                low = None
            if low is not None and high is not None and low >= high:
                continue
            unit = row["ucum_ex"] or row["units_norm_range"]
            table[code] = (low, high, unit)
    return table


def _agreement(ours: Range, theirs: tuple[float | None, float | None]) -> tuple[bool, bool]:
    """(intervals overlap, every bound both sides give is within 25 % of the other)."""
    low, high = theirs
    ours_low = ours.low if ours.low is not None else float("-inf")
    ours_high = ours.high if ours.high is not None else float("inf")
    their_low = low if low is not None else float("-inf")
    their_high = high if high is not None else float("inf")
    overlap = ours_low <= their_high and their_low <= ours_high
    close = all(
        a is None or b is None or abs(a - b) <= 0.25 * max(abs(a), abs(b))
        for a, b in ((ours.low, low), (ours.high, high))
    )
    return overlap, close


def test_adult_ranges_agree_with_the_nlm_flowsheet() -> None:
    nlm = _nlm_adult_ranges()
    compared, agreed, close_bounds, unit_mismatch = 0, 0, 0, []
    disagreements: list[str] = []
    far: list[str] = []
    for item in LABS:
        if item.code not in nlm:
            continue
        low, high, nlm_unit = nlm[item.code]
        for band in item.ranges:
            if band.age_min not in (None, 18, 20) or band.age_max is not None:
                continue
            try:
                theirs = tuple(
                    None if v is None else convert(v, nlm_unit, band.unit, item)
                    for v in (low, high)
                )
            except UnknownUnitError:
                unit_mismatch.append(f"{item.code} ({nlm_unit!r} vs {band.unit!r})")
                continue
            compared += 1
            overlap, close = _agreement(band, (theirs[0], theirs[1]))
            line = f"{item.code} {band.sex}: ours {band.low}-{band.high} {band.unit}, NLM {theirs}"
            agreed += overlap or close
            close_bounds += close
            if not (overlap or close):
                disagreements.append(line)
            elif not close:
                far.append(line)
    print(
        f"\nNLM cross-check: {compared} ranges compared, "
        f"{agreed} agree (overlap or bounds within 25 %), "
        f"{close_bounds} with bounds within 25 %, {len(disagreements)} differ, "
        f"{len(unit_mismatch)} skipped for units"
    )
    for line in disagreements:
        print("   differ:", line)
    for line in far:
        print("   overlap, bounds > 25 % apart:", line)
    for line in unit_mismatch:
        print("   units:", line)
    assert compared >= 40
    assert agreed >= 0.9 * compared, disagreements
