"""The SNOMED CT loader on a tiny RF2 release the tests write in the real format."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from healthspace.errors import NotFoundError
from healthspace.terminology.snomed import (
    SnomedNotLoadedError,
    SnomedReleaseError,
    SnomedStore,
    UnknownConceptError,
    configured_release_dir,
    find_release_files,
    load_release,
    open_store,
    store_path,
)
from tests.terminology.rf2_sample import INACTIVATED_CONCEPT, write_release


@pytest.fixture
def release(tmp_path: Path) -> Path:
    return write_release(tmp_path / "release")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def store(release: Path, home: Path) -> Iterator[SnomedStore]:
    load_release(release, home)
    with open_store(home) as opened:
        yield opened


def test_loading_keeps_only_the_latest_active_rows(release: Path, home: Path) -> None:
    report = load_release(release, home)
    assert report.reused is False
    assert report.concepts == 9  # the retired concept is left out
    # 9 FSNs + 9 preferred synonyms + the corrected term + 2 French; not the retired ones.
    assert report.descriptions == 21
    assert report.is_a == 8  # the retired is-a, the finding site, the retired concept's: out
    assert Path(report.store) == store_path(home)


def test_a_concept_has_its_names_and_parents(store: SnomedStore) -> None:
    concept = store.concept("44054006")
    assert concept.fsn == "Diabetes mellitus type 2 (disorder)"
    assert concept.preferred_term == "Type 2 diabetes mellitus"
    assert set(concept.synonyms) == {
        "Type 2 diabetes mellitus",
        "Non-insulin dependent diabetes mellitus",  # the later row of a corrected term
    }
    by_term = {d.term: d for d in concept.descriptions}
    assert by_term["Non-insulin dependent diabetes mellitus"].acceptability == "acceptable"
    assert by_term["Type 2 diabetes mellitus"].acceptability == "preferred"
    assert "NIDDM" not in by_term and "Type II diabetes" not in by_term
    assert concept.parents == ("73211009",)


def test_descriptions_in_every_language_are_loaded(store: SnomedStore) -> None:
    concept = store.concept("73211009")
    assert {(d.term, d.lang) for d in concept.descriptions} >= {
        ("Diabetes mellitus", "en"),
        ("diabète sucré", "fr"),
    }
    assert concept.preferred_term == "Diabetes mellitus"


def test_a_retired_or_unknown_concept_is_not_found(store: SnomedStore) -> None:
    for concept_id in (INACTIVATED_CONCEPT, "999999999", "not-an-id", ""):
        with pytest.raises(UnknownConceptError) as caught:
            store.concept(concept_id)
        assert isinstance(caught.value, NotFoundError)


def test_the_is_a_closure(store: SnomedStore) -> None:
    assert store.ancestors("44054006") == sorted(["73211009", "64572001", "404684003", "138875005"])
    assert store.is_a("44054006", "64572001")
    assert store.is_a("44054006", "44054006")
    assert not store.is_a("64572001", "44054006")
    assert not store.is_a("44054006", "38341003")
    assert store.children("73211009") == ["44054006", "46635009"]
    # The retired is-a and the finding-site relationship are not parents.
    assert store.parents("22298006") == ["64572001"]
    with pytest.raises(UnknownConceptError):
        store.is_a("44054006", INACTIVATED_CONCEPT)


def test_search_by_words_in_any_language(store: SnomedStore) -> None:
    hits = store.search("diabetes type 2")
    assert hits[0].concept_id == "44054006"
    assert store.search("diabetes")[0].concept_id == "73211009"
    french = store.search("DIABETE sucre")  # case and accents do not count
    assert [h.concept_id for h in french] == ["73211009"]
    assert french[0].term == "diabète sucré" and french[0].preferred_term == "Diabetes mellitus"
    assert {h.concept_id for h in store.search("diab")} == {"73211009", "44054006", "46635009"}
    assert store.search("zzzqx") == []
    assert all(h.concept_id != INACTIVATED_CONCEPT for h in store.search("ulcer"))


def test_describe_names_parents_and_ancestors(store: SnomedStore) -> None:
    described = store.describe("44054006")
    assert described["parents"] == [{"id": "73211009", "term": "Diabetes mellitus"}]
    assert {a["id"] for a in described["ancestors"]} == {
        "73211009",
        "64572001",
        "404684003",
        "138875005",
    }


def test_a_second_load_reuses_the_parsed_release(release: Path, home: Path) -> None:
    load_release(release, home)
    again = load_release(release, home)
    assert again.reused is True and again.concepts == 9
    # A changed file is a new release: it is parsed again.
    concepts = next(release.rglob("sct2_Concept_Snapshot*.txt"))
    with concepts.open("ab") as handle:
        handle.write(b"41291007\t20250101\t1\t900000000000207008\t900000000000074008\r\n")
    changed = load_release(release, home)
    assert changed.reused is False and changed.concepts == 10


def test_open_store_loads_the_configured_release(
    release: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SnomedNotLoadedError) as caught:
        open_store(home)
    assert "healthspace snomed load" in str(caught.value)
    monkeypatch.setenv("HEALTHSPACE_SNOMED_DIR", str(release))
    configured = configured_release_dir(object())
    assert configured == release
    with open_store(home, configured) as opened:
        assert opened.concept("195967001").fsn == "Asthma (disorder)"


def test_a_folder_without_a_release_is_an_error(tmp_path: Path, home: Path) -> None:
    with pytest.raises(SnomedReleaseError, match="not a folder"):
        find_release_files(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SnomedReleaseError, match="sct2_Concept_Snapshot"):
        load_release(tmp_path / "empty", home)


def test_a_bad_row_names_file_and_line_and_keeps_the_previous_store(
    release: Path, home: Path
) -> None:
    load_release(release, home)
    before = store_path(home).read_bytes()
    relationships = next(release.rglob("sct2_Relationship_Snapshot*.txt"))
    lines = relationships.read_bytes().count(b"\n")
    row = "9000011\t2025-01-01\t1\t900000000000207008\t22298006\t64572001\t0\t116680003\tx\ty"
    with relationships.open("ab") as handle:
        handle.write(row.encode() + b"\r\n")
    with pytest.raises(SnomedReleaseError, match="effectiveTime must be YYYYMMDD") as caught:
        load_release(release, home)
    assert caught.value.path == str(relationships)
    assert caught.value.line == lines + 1
    assert store_path(home).read_bytes() == before
    assert not store_path(home).with_suffix(".partial").exists()


def test_a_wrong_header_is_an_error(release: Path, home: Path) -> None:
    concepts = next(release.rglob("sct2_Concept_Snapshot*.txt"))
    concepts.write_text("id\tactive\r\n1\t1\r\n")
    with pytest.raises(SnomedReleaseError, match="header") as caught:
        load_release(release, home)
    assert caught.value.line == 1


def test_the_store_opens_read_only(store: SnomedStore) -> None:
    with pytest.raises(sqlite3.OperationalError):
        store._db.execute("DELETE FROM concept")
    assert os.access(store.path, os.R_OK)
