"""``healthspace search`` and ``corpus load`` as a user runs them, and GET /api/v1/search.

Both surfaces share one data folder, so the index the CLI builds and caches is the one the
server reads: the test also shows the cache working across processes.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.knowledge.corpus_samples import write_medquad
from tests.server import HEALTHSPACE, cli_env, running_server
from tests.signed_in import server_token

HIT_KEYS = ["id", "kind", "title", "snippet", "score", "sources"]
SOURCE_KEYS = {"publisher", "title", "url", "reviewed"}


def run(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(HEALTHSPACE), *args], env=cli_env(home), capture_output=True, text=True, timeout=600
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def run_json(home: Path, *args: str) -> Any:
    return json.loads(run(home, *args, "--json").stdout)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("search-home")
    medquad = write_medquad(tmp_path_factory.mktemp("downloads") / "medquad")
    report = run_json(folder, "corpus", "load", "medquad", str(medquad))
    assert report["corpus"] == "medquad" and report["documents"] == 4
    assert report["skipped"] == 1 and report["skipped_items"][0]["reason"].startswith("no answer")
    return folder


def assert_design_shape(hits: Any) -> None:
    assert isinstance(hits, list)
    for hit in hits:
        assert list(hit) == HIT_KEYS
        assert isinstance(hit["score"], float) and hit["sources"]
        assert all(set(source) == SOURCE_KEYS for source in hit["sources"])
    scores = [hit["score"] for hit in hits]
    assert scores == sorted(scores, reverse=True)


def test_cli_search_prints_the_design_json(home: Path) -> None:
    hits = run_json(home, "search", "crise cardiaque", "--lang", "fr", "--mode", "bm25")
    assert_design_shape(hits)
    assert "medquad:mplushealthtopics:0000442" in [hit["id"] for hit in hits[:5]]

    (first,) = run_json(home, "search", "metfromin", "--limit", "1", "--mode", "bm25")
    assert first["id"] == "medicine:metformin" and first["kind"] == "medicine"

    labs = run_json(home, "search", "glycémie", "--kind", "lab", "--mode", "bm25")
    assert labs and {hit["kind"] for hit in labs} == {"lab"}


def test_cli_search_reads_without_json_and_rejects_bad_options(home: Path) -> None:
    assert "paracetamol" in run(home, "search", "doliprane", "--mode", "bm25").stdout
    wrong = run(home, "search", "fever", "--kind", "recipe", check=False)
    assert wrong.returncode != 0 and "recipe" in wrong.stderr
    assert run_json(home, "corpus", "list")[0]["corpus"] == "medquad"


def test_cli_corpus_load_reports_a_bad_file_on_stderr(home: Path, tmp_path: Path) -> None:
    wrong = tmp_path / "labels.json"
    wrong.write_text('{"items": []}', encoding="utf-8")
    result = run(home, "corpus", "load", "openfda", str(wrong), "--json", check=False)
    assert result.returncode == 1 and result.stdout == ""
    assert "labels.json" in result.stderr and "no 'results' list" in result.stderr
    unknown = run(home, "corpus", "load", "wikipedia", str(wrong), check=False)
    assert unknown.returncode != 0 and "medquad" in unknown.stderr


def test_api_search_answers_like_the_cli(home: Path) -> None:
    with running_server(home) as base, httpx.Client(headers=server_token(home)) as client:
        response = client.get(
            f"{base}/api/v1/search",
            params={"q": "tension artérielle", "lang": "fr", "kind": "article", "mode": "bm25"},
            timeout=120,
        )
        assert response.status_code == 200, response.text
        hits = response.json()
        assert_design_shape(hits)
        assert hits[0]["id"] == "medquad:mplushealthtopics:0000471"
        paths = client.get(f"{base}/openapi.json").json()["paths"]
        assert "/api/v1/search" in paths
        bad = client.get(f"{base}/api/v1/search", params={"q": "x", "kind": "recipe"})
        assert bad.status_code == 422
