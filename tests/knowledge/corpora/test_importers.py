"""Corpus importers on small files in the real formats, and the stored corpus they produce."""

from __future__ import annotations

import gzip
from datetime import date
from pathlib import Path

import pytest

from healthspace.errors import HealthspaceError, ImportFailedError
from healthspace.knowledge.corpora import (
    corpus_documents,
    load_corpus,
    load_demo_corpora,
    medlineplus,
    medquad,
    openfda,
)
from healthspace.knowledge.corpora.store import read_documents, read_info
from tests.conftest import shared_data
from tests.knowledge.corpus_samples import (
    write_medlineplus,
    write_medquad,
    write_openfda,
)


@pytest.mark.parametrize("zipped", [False, True])
def test_medlineplus_reads_english_topics_with_their_page(tmp_path: Path, zipped: bool) -> None:
    reading = medlineplus.read([write_medlineplus(tmp_path, zipped=zipped)])
    by_title = {d.title["en"]: d for d in reading.documents}
    assert set(by_title) == {"High Blood Pressure", "Heart Attack"}
    pressure = by_title["High Blood Pressure"]
    assert pressure.id == "medlineplus:6189" and pressure.kind == "article"
    assert "force of your blood" in pressure.text["en"]
    assert "<p>" not in pressure.text["en"] and "&lt;" not in pressure.text["en"]
    assert "Hypertension" in pressure.keywords
    (source,) = pressure.sources
    assert source.url == "https://medlineplus.gov/highbloodpressure.html"
    assert source.publisher.startswith("MedlinePlus")
    assert source.reviewed == date(2024, 8, 10)  # the file's date-generated
    assert [reason for _, reason in reading.skipped] == [
        "Spanish topic (only English topics are read)"
    ]


def test_medlineplus_rejects_a_file_of_another_kind(tmp_path: Path) -> None:
    wrong = tmp_path / "other.xml"
    wrong.write_text("<catalog><book/></catalog>", encoding="utf-8")
    with pytest.raises(ImportFailedError, match="no <health-topic>"):
        medlineplus.read([wrong])
    broken = tmp_path / "broken.xml"
    broken.write_text("<health-topics><health-topic", encoding="utf-8")
    with pytest.raises(ImportFailedError, match=r"broken\.xml"):
        medlineplus.read([broken])


def test_openfda_keeps_the_newest_label_of_a_product(tmp_path: Path) -> None:
    reading = openfda.read([write_openfda(tmp_path)])
    (label,) = reading.documents
    assert label.id == "openfda:0b1c7a2e-2222-4b8f-9d7e-3f0a5c2d9e02"
    assert label.title["en"] == "Glucophage (Metformin Hydrochloride)"
    assert "Uses: Metformin is indicated" in label.text["en"]
    assert "Side effects: The most common adverse reactions" in label.text["en"]
    (source,) = label.sources
    assert source.reviewed == date(2023, 6, 15)
    assert source.url.endswith("setid=0b1c7a2e-2222-4b8f-9d7e-3f0a5c2d9e02")
    assert "FDA" in source.publisher
    reasons = sorted(reason for _, reason in reading.skipped)
    assert reasons == [
        "an older label of Glucophage (Metformin Hydrochloride)",
        "no brand or generic name (openfda section empty)",
    ]


def test_openfda_rejects_json_that_is_not_a_label_file(tmp_path: Path) -> None:
    other = tmp_path / "other.json"
    other.write_text('{"items": []}', encoding="utf-8")
    with pytest.raises(ImportFailedError, match="no 'results' list"):
        openfda.read([other])


def test_medquad_reads_every_spelling_and_skips_removed_answers(tmp_path: Path) -> None:
    reading = medquad.read([write_medquad(tmp_path / "medquad")], reviewed=date(2026, 1, 2))
    by_id = {d.id: d for d in reading.documents}
    assert set(by_id) == {
        "medquad:mplushealthtopics:0000442",
        "medquad:mplushealthtopics:0000471",
        "medquad:ninds:0000007",
        "medquad:cdc:0000397",
    }
    pressure = by_id["medquad:mplushealthtopics:0000471"]
    assert pressure.title == {"en": "High Blood Pressure"}
    assert "What is" not in pressure.text["en"]  # the answers, not the templated questions
    assert pressure.sources[0].url.startswith("https://")  # http:// pages served over https
    assert pressure.sources[0].reviewed == date(2026, 1, 2)
    assert "High Blood Pressure (disorder)" in pressure.keywords
    assert by_id["medquad:ninds:0000007"].sources[0].publisher.endswith("(NINDS)")
    assert [reason for _, reason in reading.skipped] == [
        "no answer (this collection's answers were removed for copyright reasons)"
    ]


def test_a_loaded_corpus_is_stored_compactly_and_read_back(tmp_path: Path) -> None:
    home = tmp_path / "home"
    info, skipped = load_corpus(home, "medquad", [write_medquad(tmp_path / "medquad")])
    assert info.documents == 4 and info.skipped == 1 and len(skipped) == 1
    assert info.path == home / "corpora" / "medquad.jsonl.gz"
    assert read_info(info.path).documents == 4
    stored = read_documents(info.path)
    original = medquad.read([tmp_path / "medquad"]).documents
    assert stored == original
    assert {d.id for d in corpus_documents(home)} == {d.id for d in original}


def test_loading_again_replaces_the_corpus(tmp_path: Path) -> None:
    home = tmp_path / "home"
    load_corpus(home, "medlineplus", [write_medlineplus(tmp_path / "a")])
    load_corpus(home, "openfda", [write_openfda(tmp_path / "b")])
    load_corpus(home, "medlineplus", [write_medlineplus(tmp_path / "c", zipped=True)])
    ids = sorted(d.id for d in corpus_documents(home))
    assert ids == [
        "medlineplus:3061",
        "medlineplus:6189",
        "openfda:0b1c7a2e-2222-4b8f-9d7e-3f0a5c2d9e02",
    ]


def test_loading_nothing_usable_is_an_error_and_stores_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with pytest.raises(ImportFailedError, match="no such file"):
        load_corpus(home, "medquad", [tmp_path / "missing"])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ImportFailedError, match="no medquad document could be read"):
        load_corpus(home, "medquad", [empty])
    assert corpus_documents(home) == []


def test_a_damaged_corpus_file_says_how_to_fix_it(tmp_path: Path) -> None:
    home = tmp_path / "home"
    info, _ = load_corpus(home, "medquad", [write_medquad(tmp_path / "medquad")])
    info.path.write_bytes(gzip.compress(b'{"format": 1}\n{"id": "x"}\n'))
    with pytest.raises(HealthspaceError, match="load the corpus again"):
        corpus_documents(home)


def test_demo_corpora_load_once(tmp_path: Path) -> None:
    home = tmp_path / "demo"
    source = write_medquad(tmp_path / "medquad")
    assert load_demo_corpora(home, medquad_dir=source) == 4
    # A second start keeps what is stored, even without the collections at hand.
    assert load_demo_corpora(home, medquad_dir=tmp_path / "gone") == 4
    assert load_demo_corpora(tmp_path / "other", medquad_dir=tmp_path / "gone") == 0


@pytest.mark.slow
def test_the_shared_medquad_collections_load(tmp_path: Path) -> None:
    folder = shared_data("medquad")
    reading = medquad.read([folder])
    assert len(reading.documents) > 1600
    assert all(d.sources[0].url.startswith("https://") for d in reading.documents)
    assert len({d.id for d in reading.documents}) == len(reading.documents)
