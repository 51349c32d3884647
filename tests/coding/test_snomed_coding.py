"""SNOMED CT suggestions on a tiny RF2 release the tests write, with and without its ICD-10-CM
extended map."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from healthspace.coding import suggest_codes
from healthspace.coding.icd10_coder import CodeSuggestion
from healthspace.coding.snomed_coder import SnomedCoder, SnomedSuggestion
from healthspace.coding.snomed_map import ICD10_WHO_REFSET, ICD10CM_REFSET, load_icd_map
from healthspace.terminology.snomed import (
    SnomedNotLoadedError,
    SnomedReleaseError,
    SnomedStore,
    load_release,
    open_store,
)
from tests.server import HEALTHSPACE, cli_env
from tests.terminology.rf2_sample import MODULE, write_release

MAP_HEADER = (
    "id\teffectiveTime\tactive\tmoduleId\trefsetId\treferencedComponentId\tmapGroup\tmapPriority"
    "\tmapRule\tmapAdvice\tmapTarget\tcorrelationId\tmapCategoryId"
)
CORRELATION = "447561005"
CATEGORY = "447637006"
AGE_RULE = "IFA 445518008 | Age at onset of clinical finding (observable entity) | < 30.0 years"


def _row(
    member: str, active: str, concept: str, target: str, *, rule: str = "TRUE",
    priority: str = "1", refset: str = ICD10CM_REFSET, effective: str = "20240301",
) -> str:  # fmt: skip
    advice = f"ALWAYS {target}" if target else "MAP SOURCE CONCEPT CANNOT BE CLASSIFIED"
    return "\t".join(
        [member, effective, active, MODULE, refset, concept, "1", priority, rule, advice, target,
         CORRELATION, CATEGORY]
    )  # fmt: skip


def write_map(release: Path) -> Path:
    """An ExtendedMap Snapshot in the US Edition layout, with the cases a reader must handle."""
    folder = next(release.rglob("Snapshot")) / "Refset" / "Map"
    folder.mkdir(parents=True)
    rows = [
        _row("a1", "1", "44054006", "E11.9"),
        _row("a2", "1", "38341003", "I10"),
        # A rule on age at onset: a person's record could decide it, a text cannot.
        _row("a3", "1", "73211009", "E10.9", rule=AGE_RULE),
        _row("a4", "1", "73211009", "E11.9", rule="OTHERWISE TRUE", priority="2"),
        _row("a5", "1", "22298006", "I21.9"),
        # Retired in a later release: the latest row is inactive.
        _row("a6", "1", "22298006", "I25.2"),
        _row("a6", "0", "22298006", "I25.2", effective="20250301"),
        _row("a7", "1", "195967001", "J45.909"),
        # The WHO ICD-10 map gives way to the ICD-10-CM one when both are there.
        _row("b1", "1", "195967001", "J45.9", refset=ICD10_WHO_REFSET),
        # A row of another reference set is not a map to ICD-10.
        _row("c1", "1", "38341003", "X99", refset="999999999999"),
    ]
    path = folder / "der2_iisssccRefset_ExtendedMapSnapshot_US1000124_20250301.txt"
    path.write_bytes(("\r\n".join([MAP_HEADER, *rows]) + "\r\n").encode("utf-8"))
    return path


@pytest.fixture
def release(tmp_path: Path) -> Path:
    return write_release(tmp_path / "release")


@pytest.fixture
def store(release: Path, tmp_path: Path) -> Iterator[SnomedStore]:
    write_map(release)
    load_release(release, tmp_path / "home")
    with open_store(tmp_path / "home") as opened:
        yield opened


def _snomed(found: list[CodeSuggestion | SnomedSuggestion]) -> list[tuple[str, str, str]]:
    return [(s.code, s.evidence, s.status) for s in found if s.system == "snomed"]


def test_snomed_concepts_for_english_text_keep_the_context(store: SnomedStore) -> None:
    text = "Type 2 diabetes and hypertension. No asthma."
    found = suggest_codes(text, "snomed", "en", include_all=True, snomed_store=store)
    assert sorted(_snomed(found)) == [
        ("195967001", "asthma", "negated"),
        ("38341003", "hypertension", "current"),
        ("44054006", "Type 2 diabetes", "current"),
    ]
    by_code = {s.code: s for s in found}
    assert by_code["44054006"].display == "Type 2 diabetes mellitus"
    assert text[by_code["38341003"].start : by_code["38341003"].end] == "hypertension"
    current = suggest_codes(text, "snomed", "en", snomed_store=store)
    assert {s.code for s in current} == {"38341003", "44054006"}


def test_french_text_finds_concepts_through_the_icd_description(store: SnomedStore) -> None:
    found = suggest_codes(
        "Antécédent d'infarctus. HTA. Diabète de type 2.", "snomed", "fr", True, None, store
    )
    assert sorted(_snomed(found)) == [
        ("22298006", "infarctus", "historical"),
        ("38341003", "HTA", "current"),
        ("44054006", "Diabète de type 2", "current"),
    ]


def test_all_lists_icd10cm_then_snomed_for_the_same_spans(store: SnomedStore) -> None:
    found = suggest_codes("Patient with asthma", "all", "en", snomed_store=store)
    assert [(s.system, s.code, s.evidence) for s in found] == [
        ("icd10cm", "J45.909", "asthma"),
        ("snomed", "195967001", "asthma"),
    ]
    concept = found[1].as_json()
    assert concept["icd10cm"] == ["J45.909"]  # the ICD-10-CM map, not the WHO one
    assert concept["matched"] == "Asthma"


def test_snomed_without_a_release_names_the_setting() -> None:
    with pytest.raises(SnomedNotLoadedError, match="HEALTHSPACE_SNOMED_DIR"):
        suggest_codes("asthma", "snomed")
    with pytest.raises(SnomedNotLoadedError, match="healthspace snomed load"):
        suggest_codes("asthma", "all")


def test_the_extended_map_reads_both_ways(release: Path) -> None:
    assert load_icd_map(release) is None  # no map file: the map is skipped
    write_map(release)
    icd_map = load_icd_map(release)
    assert icd_map is not None
    assert [t.code for t in icd_map.icd_codes("73211009")] == ["E11.9"]
    with_rules = icd_map.icd_codes("73211009", include_conditional=True)
    assert [(t.code, t.conditional) for t in with_rules] == [("E11.9", False), ("E10.9", True)]
    assert [t.code for t in icd_map.icd_codes("22298006")] == ["I21.9"]  # I25.2 was retired
    assert [(t.code, t.system) for t in icd_map.icd_codes("195967001")] == [("J45.909", "icd10cm")]
    assert [t.code for t in icd_map.icd_codes("38341003")] == ["I10"]
    assert icd_map.concepts("E11.9") == ("44054006", "73211009")
    assert icd_map.concepts("E119") == icd_map.concepts("E11.9")
    assert icd_map.concepts("E10.9") == ()  # conditional targets do not map back


def test_a_map_with_a_wrong_header_is_a_clear_error(release: Path) -> None:
    path = write_map(release)
    path.write_text("id\tsomething\n", "utf-8")
    with pytest.raises(SnomedReleaseError, match="ExtendedMap header"):
        load_icd_map(release)


def test_a_span_no_description_names_falls_back_on_the_map(store: SnomedStore) -> None:
    span = CodeSuggestion(
        "icd10cm", "I10", "Qqq zzz", 0.9, "zzz", 0, 3, "current", None
    )  # words the release does not have, for a code its map knows
    coder = SnomedCoder.for_store(store)
    assert [(s.code, s.matched) for s in coder.suggest([span])] == [("38341003", "map")]
    assert SnomedCoder(store, None).suggest([span]) == []


def _cli(
    home: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(HEALTHSPACE), *args],
        env={**cli_env(home), **(env or {})},
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_code_command_without_a_release_names_the_setting(tmp_path: Path) -> None:
    missing = _cli(tmp_path / "cli-home", "code", "asthma", "--system", "snomed", "--json")
    assert missing.returncode == 1 and "HEALTHSPACE_SNOMED_DIR" in missing.stderr
    assert missing.stdout == ""
