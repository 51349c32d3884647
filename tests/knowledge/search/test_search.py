"""Search behaviour: synonyms and translations, typos, ranking, kinds, caching, fusion."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from healthspace.knowledge.citations import Source
from healthspace.knowledge.corpora import load_corpus
from healthspace.knowledge.documents import SearchDocument
from healthspace.knowledge.folding import fold
from healthspace.knowledge.search import EmbeddingsNotInstalledError, SearchEngine
from healthspace.knowledge.search import engine as engine_module
from healthspace.knowledge.search.engine import fuse, merge_documents, snippet
from healthspace.knowledge.search.index import Bm25Index
from tests.knowledge.corpus_samples import write_medquad

SOURCE = Source(
    publisher="Test", title="Test source", url="https://example.org/", reviewed=date(2026, 1, 1)
)


def document(doc_id: str, kind: str, title: str, text: str = "") -> SearchDocument:
    return SearchDocument(
        id=doc_id, kind=kind, title={"en": title}, text={"en": text or title}, sources=(SOURCE,)
    )  # type: ignore[arg-type]


def ids(engine: SearchEngine, query: str, **options: object) -> list[str]:
    return [hit.id for hit in engine.search(query, **options)]  # type: ignore[arg-type]


# -- synonyms and translations --------------------------------------------------------------------


@pytest.mark.parametrize("query", ["sucre dans le sang", "blood sugar", "glycémie"])
def test_lay_and_french_words_for_blood_sugar_find_the_glucose_lab(
    engine: SearchEngine, query: str
) -> None:
    first = engine.search(query, limit=3)[0]
    assert first.kind == "lab"
    assert "glucose" in fold(first.title)


def test_tension_arterielle_finds_blood_pressure_content(engine: SearchEngine) -> None:
    assert "medquad:mplushealthtopics:0000471" in ids(engine, "tension artérielle", limit=3)


def test_a_french_query_finds_an_english_only_answer(engine: SearchEngine) -> None:
    hits = engine.search("crise cardiaque", lang="fr", limit=3)
    assert hits[0].id == "medquad:mplushealthtopics:0000442"
    assert hits[0].title == "Heart Attack"  # no French title: the English one is shown


def test_the_snippet_shows_where_the_concept_is(engine: SearchEngine) -> None:
    (hit,) = engine.search("crise cardiaque", limit=1)
    assert "heart attack" in hit.snippet.lower()


def test_report_names_find_their_lab(engine: SearchEngine) -> None:
    (first,) = engine.search("HbA1c", limit=1)
    assert first.kind == "lab" and "A1c" in first.title
    assert ids(engine, "kaliémie", limit=1) == ["lab:2823-3"]
    assert ids(engine, "DFG estimé", limit=1)[0] in {"lab:62238-1", "lab:98979-8", "lab:33914-3"}


# -- typos and brands -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("metfromin", "medicine:metformin"),
        ("doliprane", "medicine:paracetamol"),
        ("DOLIPRANE 1000 mg", "medicine:paracetamol"),
        ("ibuprofene", "medicine:ibuprofen"),
        ("amoxicilin", "medicine:amoxicillin"),
        ("atorvastatine", "medicine:atorvastatin"),
        ("Tylenol", "medicine:paracetamol"),
    ],
)
def test_misspelt_or_branded_medicines_come_first(
    engine: SearchEngine, query: str, expected: str
) -> None:
    assert ids(engine, query, limit=3)[0] == expected


def test_a_correction_is_reported_in_the_plan(engine: SearchEngine) -> None:
    plan = engine.plan("metfromin")
    assert plan.corrections == {"metfromin": ["metformin"]}


def test_unknown_words_are_not_forced_onto_something(engine: SearchEngine) -> None:
    assert engine.search("zzzzqqqq") == []


# -- ranking, kinds and the result shape ----------------------------------------------------------


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=st.text(max_size=80), limit=st.integers(min_value=1, max_value=30))
def test_any_query_returns_results_sorted_by_score(
    engine: SearchEngine, query: str, limit: int
) -> None:
    hits = engine.search(query, limit=limit)
    assert len(hits) <= limit
    scores = [hit.score for hit in hits]
    assert scores == sorted(scores, reverse=True)
    assert len({hit.id for hit in hits}) == len(hits)


def test_kind_filter_keeps_one_kind(engine: SearchEngine) -> None:
    hits = engine.search("glucose", kind="medicine", limit=10)
    assert hits and all(hit.kind == "medicine" for hit in hits)
    assert all(hit.kind == "lab" for hit in engine.search("glucose", kind="lab"))


def test_hit_json_has_the_design_shape(engine: SearchEngine) -> None:
    (hit,) = engine.search("doliprane", limit=1)
    data = hit.as_json()
    assert list(data) == ["id", "kind", "title", "snippet", "score", "sources"]
    assert set(data["sources"][0]) == {"publisher", "title", "url", "reviewed"}


def test_lang_picks_the_title_language(engine: SearchEngine) -> None:
    assert engine.search("ibuprofen", lang="fr", limit=1)[0].title == "ibuprofène"
    assert engine.search("ibuprofène", lang="en", limit=1)[0].title == "ibuprofen"


def test_codes_collapse_to_one_per_category_unless_codes_are_asked_for() -> None:
    docs = [
        document("icd10cm:E11.9", "code", "Type 2 diabetes mellitus without complications"),
        document("icd10cm:E11.65", "code", "Type 2 diabetes mellitus with hyperglycemia"),
        document("icd10cm:E10.9", "code", "Type 1 diabetes mellitus without complications"),
        document("article:t2d", "article", "Type 2 diabetes", "Type 2 diabetes is common."),
    ]
    engine = SearchEngine(docs, embedder=None)
    mixed = ids(engine, "type 2 diabetes")
    assert mixed[0] == "article:t2d"
    assert len([i for i in mixed if i.startswith("icd10cm:E11")]) == 1
    codes = ids(engine, "type 2 diabetes", kind="code")
    assert {"icd10cm:E11.9", "icd10cm:E11.65"} <= set(codes)


def test_documents_sharing_an_id_become_one_result() -> None:
    catalog = document("medicine:x", "medicine", "examplin", "Brands: Exa.")
    content = SearchDocument(
        id="medicine:x",
        kind="medicine",
        title={"en": "examplin", "fr": "exampline"},
        text={"en": "Used for: headaches."},
        sources=(SOURCE, Source(**{**SOURCE.model_dump(), "title": "Other"})),
    )
    (merged,) = merge_documents([catalog, content])
    assert merged.text["en"] == "Brands: Exa.\n\nUsed for: headaches."
    assert merged.title == {"en": "examplin", "fr": "exampline"}
    assert len(merged.sources) == 2


def test_hybrid_without_an_embedder_says_what_to_install(engine: SearchEngine) -> None:
    with pytest.raises(EmbeddingsNotInstalledError, match=r"healthspace\[embeddings\]"):
        engine.search("fever", mode="hybrid")


def test_reciprocal_rank_fusion_rewards_agreement() -> None:
    fused = fuse([[(1, 9.0), (2, 8.0), (3, 7.0)], [(3, 0.9), (1, 0.8), (4, 0.7)]])
    assert [number for number, _ in fused] == [1, 3, 2, 4]


def test_snippet_prefers_the_sentence_with_most_query_words() -> None:
    text = "Gout is arthritis. Uric acid builds up in the blood and forms crystals. Rest helps."
    assert snippet(text, frozenset({"uric", "acid", "crystal"})).startswith("Uric acid builds")
    assert len(snippet("word " * 500, frozenset({"word"}))) <= 221
    assert snippet("Gout. Uric acid builds up.", frozenset({"uric"})).startswith("Uric")
    # An abbreviation's full stop does not start a sentence.
    us = "Each year people in the U.S. have a heart attack. Call 911."
    assert snippet(us, frozenset({"heart", "attack"})).startswith("Each year")


# -- the index cache ------------------------------------------------------------------------------


def test_the_index_is_cached_and_rebuilt_when_content_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = [document("article:a", "article", "Asthma"), document("article:b", "article", "Gout")]
    first = SearchEngine(docs, cache_dir=tmp_path, embedder=None)
    (cached,) = list(tmp_path.glob("search-*.bm25"))

    def refuse(*_: object) -> Bm25Index:
        raise AssertionError("the cached index should have been read")

    monkeypatch.setattr(Bm25Index, "build", classmethod(refuse))
    again = SearchEngine(docs, cache_dir=tmp_path, embedder=None)
    assert ids(again, "gout") == ids(first, "gout") == ["article:b"]
    monkeypatch.undo()

    changed = [*docs, document("article:c", "article", "Goitre")]
    SearchEngine(changed, cache_dir=tmp_path, embedder=None)
    assert [p.name for p in tmp_path.glob("search-*.bm25")] != [cached.name]
    assert len(list(tmp_path.glob("search-*.bm25"))) == 1  # the stale file is removed


def test_a_damaged_cache_is_rebuilt(tmp_path: Path) -> None:
    docs = [document("article:a", "article", "Asthma")]
    SearchEngine(docs, cache_dir=tmp_path, embedder=None)
    (cached,) = tmp_path.glob("search-*.bm25")
    cached.write_bytes(b"not an index")
    assert ids(SearchEngine(docs, cache_dir=tmp_path, embedder=None), "asthma") == ["article:a"]


def test_engine_for_sees_a_corpus_loaded_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    # Only the corpora of this data folder: no registered content.
    monkeypatch.setattr(engine_module, "all_documents", list)
    assert engine_module.engine_for(home, embedder=None).search("taeniasis") == []
    load_corpus(home, "medquad", [write_medquad(tmp_path / "medquad")])
    hits = engine_module.engine_for(home, embedder=None).search("taeniasis")
    assert [hit.id for hit in hits] == ["medquad:cdc:0000397"]
