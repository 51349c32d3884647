"""ICD-10-CM from the CMS release in simple-icd-10-cm: look-up, hierarchy, search, cache."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import pytest

from healthspace.errors import NotFoundError
from healthspace.knowledge import registry
from healthspace.knowledge.documents import SearchDocument
from healthspace.terminology import icd10cm
from healthspace.terminology.icd10cm import EmptyQueryError, UnknownIcd10CodeError, load_icd10cm

TABLE = load_icd10cm()


# ------------------------------------------------------------------------------------ look-up


@pytest.mark.parametrize("written", ["E11.9", "E119", "e11.9", " e119 "])
def test_a_code_is_found_with_or_without_its_dot(written: str) -> None:
    item = TABLE.lookup(written)
    assert item.code == "E11.9"
    assert item.description == "Type 2 diabetes mellitus without complications"


def test_the_full_release_is_there() -> None:
    billable = sum(1 for item in TABLE if item.billable)
    assert len(TABLE) > 98_000
    assert 74_000 < billable < 76_000
    # A code with a seventh character (initial encounter) and one added in October 2025.
    assert TABLE.lookup("S72001A").billable
    assert TABLE.lookup("G35.D").description == "Multiple sclerosis, unspecified"


def test_unknown_codes_are_errors_that_say_what_to_do() -> None:
    for written in ("E11.99", "ZZZ", "", "E11.9.1"):
        with pytest.raises(UnknownIcd10CodeError) as caught:
            TABLE.lookup(written)
        assert isinstance(caught.value, NotFoundError)
        assert "icd10-search" in str(caught.value)
    assert TABLE.get("E11.99") is None


def test_billable_means_a_leaf_code() -> None:
    assert TABLE.is_billable("I10") and TABLE.is_billable("E11.9")
    assert not TABLE.is_billable("E11") and not TABLE.is_billable("E08-E13")
    assert TABLE.lookup("4").kind == "chapter" and not TABLE.lookup("4").billable
    assert TABLE.lookup("E08-E13").kind == "block"
    assert TABLE.lookup("E11").kind == "category"
    assert TABLE.lookup("S72.001A").kind == "extension"


def test_ancestors_run_nearest_first_up_to_the_chapter() -> None:
    assert [a.code for a in TABLE.ancestors("E11.9")] == ["E11", "E08-E13", "4"]
    assert [a.code for a in TABLE.ancestors("N18.31")] == ["N18.3", "N18", "N17-N19", "14"]
    assert TABLE.is_descendant("E11.9", "E08-E13")
    assert not TABLE.is_descendant("E11.9", "E10")
    assert not TABLE.is_descendant("E11.9", "E11.9")


def test_a_block_sharing_its_category_name_does_not_loop() -> None:
    # Block B99 holds only category B99: the category is what the code means.
    assert TABLE.lookup("B99").kind == "category"
    assert [a.code for a in TABLE.ancestors("B99.8")][-1] == "1"


def test_children_and_inclusion_terms() -> None:
    assert {"E11.9", "E11.6", "E11.2"} <= {c.code for c in TABLE.children("E11")}
    assert "E11.65" not in {c.code for c in TABLE.children("E11")}
    assert "high blood pressure" in TABLE.lookup("I10").synonyms
    described = TABLE.describe("e119")
    assert described["code"] == "E11.9" and described["billable"] is True
    assert [a["code"] for a in described["ancestors"]] == ["E11", "E08-E13", "4"]


# ------------------------------------------------------------------------------------- search


def test_type_2_diabetes_finds_the_e11_category_first() -> None:
    hits = TABLE.search("type 2 diabetes")
    assert hits[0].entry.code == "E11"
    assert all(h.entry.code.startswith(("E11", "O24.1", "Z")) for h in hits[:5])


def test_hypertension_finds_essential_hypertension_first() -> None:
    assert TABLE.search("hypertension")[0].entry.code == "I10"
    assert TABLE.search("HYPERTENSION")[0].entry.code == "I10"
    assert TABLE.search("hypertensión")[0].entry.code == "I10"  # accents do not count


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("chest pain", "R07.9"),
        ("atrial fibrillation", "I48.91"),
        ("chronic kidney disease stage 3a", "N18.31"),
        ("urinary tract infection", "N39.0"),
        ("low back pain", "M54.5"),
        ("high blood pressure", "I10"),
    ],
)
def test_an_exact_or_general_description_ranks_first(query: str, first: str) -> None:
    assert TABLE.search(query)[0].entry.code == first


def test_every_word_must_match() -> None:
    hits = TABLE.search("fracture femur", limit=50)
    assert hits
    for hit in hits:
        words = icd10cm.tokens(hit.matched)
        assert any(w.startswith("fracture") for w in words), hit
        assert any(w.startswith("femur") for w in words), hit
    assert TABLE.search("diabetes zzzzqx") == []


def test_a_word_start_finds_longer_words_and_billable_only_filters() -> None:
    assert any(h.entry.code.startswith("E1") for h in TABLE.search("diab"))
    hits = TABLE.search("asthma", billable_only=True)
    assert hits and all(h.entry.billable for h in hits)


def test_a_code_shaped_query_returns_the_code_and_what_is_under_it() -> None:
    hits = TABLE.search("E11", limit=10)
    assert hits[0].entry.code == "E11" and hits[0].score == 1.0
    assert all(h.entry.code.startswith("E11") for h in hits)
    assert [h.entry.code for h in TABLE.search("e119")] == ["E11.9"]


def test_an_empty_query_is_an_error() -> None:
    with pytest.raises(EmptyQueryError):
        TABLE.search("  ,; ")


def test_search_is_fast_once_indexed() -> None:
    TABLE.search("warm up")
    queries = ["type 2 diabetes", "hypertension", "chest pain", "asthma", "heart failure"] * 4
    times = []
    for query in queries:
        began = time.perf_counter()
        TABLE.search(query)
        times.append(time.perf_counter() - began)
    # Measured p50 is about 1 ms; the bound leaves room for a busy machine.
    assert statistics.median(times) < 0.05


# ------------------------------------------------------------------------------ cache and search


def test_the_disk_cache_gives_the_same_table_and_survives_corruption(tmp_path: Path) -> None:
    build = load_icd10cm.__wrapped__  # bypass the per-process memo: a "new process"
    first = build(tmp_path)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == [
        f"icd10cm-{icd10cm.package_version()}-v1-codes.json",
    ]
    first.search("asthma")  # builds and saves the index
    assert len(list(tmp_path.iterdir())) == 2
    second = build(tmp_path)
    assert list(second.codes) == list(TABLE.codes)
    assert second.lookup("E11.9") == TABLE.lookup("E11.9")
    assert [h.entry.code for h in second.search("hypertension")][:3] == [
        h.entry.code for h in TABLE.search("hypertension")
    ][:3]
    for path in tmp_path.iterdir():
        path.write_bytes(b"{not json")
    third = build(tmp_path)
    assert third.lookup("I10").description == "Essential (primary) hypertension"
    assert third.search("hypertension")[0].entry.code == "I10"


def test_billable_codes_are_offered_to_search_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    # The surfaces' cache folder would be the user's data folder: use this process's table.
    monkeypatch.setattr(icd10cm, "default_cache_dir", lambda: None)
    registry._load_builtin_providers()
    assert registry.DOCUMENT_PROVIDERS["icd10cm"] is icd10cm.documents
    documents = icd10cm.documents()
    first = next(iter(documents))
    assert isinstance(first, SearchDocument)
    assert first.kind == "code" and first.id.startswith("icd10cm:")
    assert first.sources == (icd10cm.SOURCE,)
    by_id = {d.id: d for d in icd10cm.documents() if d.id.startswith("icd10cm:E11")}
    assert by_id["icd10cm:E11.9"].title == {"en": "Type 2 diabetes mellitus without complications"}
    assert "E119" in by_id["icd10cm:E11.9"].keywords
    assert "icd10cm:E11" not in by_id  # not billable


def test_the_release_is_the_one_the_lexicon_was_checked_against() -> None:
    # A newer package ships a newer CMS release: review coding/data/condition_terms.json then.
    assert icd10cm.CMS_RELEASE == "April 2026"
    assert "April 2026" in icd10cm.SOURCE.title and "April 2026" in TABLE.release
