"""PubMed client against a local server replaying E-utilities XML in NCBI's real format."""

from __future__ import annotations

import itertools
import json
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from healthspace.bootstrap import build
from healthspace.clinician.literature import (
    OFFLINE_MESSAGE,
    PubMedClient,
    PubMedError,
    PubMedOfflineError,
    RateLimiter,
)
from tests.conftest import make_settings
from tests.server import HEALTHSPACE, cli_env, free_port
from tests.signed_in import signed_in_client

ESEARCH = """<?xml version="1.0" encoding="UTF-8" ?>
<!DOCTYPE eSearchResult PUBLIC "-//NLM//DTD esearch 20060628//EN" \
"https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20060628/esearch.dtd">
<eSearchResult><Count>2481</Count><RetMax>3</RetMax><RetStart>0</RetStart><IdList>
<Id>31722151</Id>
<Id>30001234</Id>
<Id>29000001</Id>
</IdList><TranslationSet/><QueryTranslation>metformin[All Fields]</QueryTranslation>
</eSearchResult>
"""

EFETCH = """<?xml version="1.0" ?>
<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" \
"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">
<PubmedArticleSet>
<PubmedArticle>
  <MedlineCitation Status="MEDLINE" Owner="NLM" IndexingMethod="Automated">
    <PMID Version="1">31722151</PMID>
    <Article PubModel="Print-Electronic">
      <Journal>
        <ISSN IssnType="Electronic">1520-9156</ISSN>
        <JournalIssue CitedMedium="Internet">
          <Volume>42</Volume><Issue>6</Issue>
          <PubDate><MedlineDate>2019 Nov-Dec</MedlineDate></PubDate>
        </JournalIssue>
        <Title>Diabetes care</Title>
        <ISOAbbreviation>Diabetes Care</ISOAbbreviation>
      </Journal>
      <ArticleTitle>Metformin and <i>kidney</i> function in type 2 diabetes.</ArticleTitle>
      <Abstract>
        <AbstractText Label="BACKGROUND" NlmCategory="BACKGROUND">Metformin is first line.\
</AbstractText>
        <AbstractText Label="METHODS" NlmCategory="METHODS">We followed 1,000 adults.\
</AbstractText>
        <AbstractText Label="RESULTS" NlmCategory="RESULTS">eGFR fell by 2 mL/min.</AbstractText>
      </Abstract>
      <AuthorList CompleteYN="Y">
        <Author ValidYN="Y"><LastName>Dupont</LastName><ForeName>Marie</ForeName>\
<Initials>M</Initials></Author>
        <Author ValidYN="Y"><CollectiveName>KIDNEY Study Group</CollectiveName></Author>
      </AuthorList>
    </Article>
  </MedlineCitation>
  <PubmedData><ArticleIdList><ArticleId IdType="pubmed">31722151</ArticleId></ArticleIdList>
  </PubmedData>
</PubmedArticle>
<PubmedArticle>
  <MedlineCitation Status="PubMed-not-MEDLINE" Owner="NLM">
    <PMID Version="1">30001234</PMID>
    <Article PubModel="Electronic">
      <Journal>
        <JournalIssue CitedMedium="Internet">
          <PubDate><Year>2018</Year><Month>Jul</Month><Day>04</Day></PubDate>
        </JournalIssue>
        <Title>BMJ open</Title>
      </Journal>
      <ArticleTitle>Lactic acidosis with metformin: a cohort.</ArticleTitle>
      <Abstract><AbstractText>An unstructured abstract.</AbstractText></Abstract>
    </Article>
  </MedlineCitation>
</PubmedArticle>
</PubmedArticleSet>
"""

ESUMMARY = """<?xml version="1.0" encoding="UTF-8" ?>
<!DOCTYPE eSummaryResult PUBLIC "-//NLM//DTD esummary v1 20041029//EN" \
"https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20041029/esummary-v1.dtd">
<eSummaryResult>
<DocSum>
  <Id>29000001</Id>
  <Item Name="PubDate" Type="Date">2017 Dec</Item>
  <Item Name="EPubDate" Type="Date"></Item>
  <Item Name="Source" Type="String">StatPearls</Item>
  <Item Name="AuthorList" Type="List">
    <Item Name="Author" Type="String">Corcoran C</Item>
    <Item Name="Author" Type="String">Jacobs TF</Item>
  </Item>
  <Item Name="Title" Type="String">Metformin.</Item>
  <Item Name="FullJournalName" Type="String"></Item>
</DocSum>
</eSummaryResult>
"""

BOMB = """<?xml version="1.0"?>
<!DOCTYPE eSearchResult [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>
<eSearchResult><Count>&b;</Count><IdList/></eSearchResult>
"""


@dataclass
class Received:
    at: float
    path: str
    params: dict[str, str]


@dataclass
class Replay:
    """What the fake E-utilities server answers, and every request it received."""

    url: str
    bodies: dict[str, str] = field(default_factory=dict)
    # Status codes (with headers) to answer before the bodies, one per request, in order.
    statuses: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)


@pytest.fixture
def eutils() -> Iterator[Replay]:
    replay = Replay(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            params = {k: v[0] for k, v in parse_qs(parts.query).items()}
            endpoint = parts.path.rsplit("/", 1)[-1]
            replay.received.append(Received(time.monotonic(), endpoint, params))
            if replay.statuses:
                status, headers = replay.statuses.pop(0)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = replay.bodies.get(endpoint)
            if body is None:
                self.send_error(404)
                return
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/xml; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    replay.url = f"http://127.0.0.1:{server.server_address[1]}/entrez/eutils/"
    replay.bodies.update(
        {"esearch.fcgi": ESEARCH, "efetch.fcgi": EFETCH, "esummary.fcgi": ESUMMARY}
    )
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield replay
    finally:
        server.shutdown()
        server.server_close()


def fast_client(replay: Replay, tmp_path: Path, **kwargs: object) -> PubMedClient:
    """A client without spacing, so tests that are not about the rate stay quick."""
    options: dict[str, object] = {"cache_dir": tmp_path / "cache", "min_interval": 0.0}
    options.update(kwargs)
    return PubMedClient(replay.url, **options)  # type: ignore[arg-type]


def test_search_parses_every_field_in_relevance_order(eutils: Replay, tmp_path: Path) -> None:
    with fast_client(eutils, tmp_path) as client:
        articles = client.search("metformin kidney", limit=3)

    assert [a.pmid for a in articles] == ["31722151", "30001234", "29000001"]
    first, second, book = articles
    assert first.title == "Metformin and kidney function in type 2 diabetes."
    assert first.journal == "Diabetes care"
    assert first.year == 2019  # from the MedlineDate "2019 Nov-Dec"
    assert first.abstract == (
        "BACKGROUND: Metformin is first line.\n"
        "METHODS: We followed 1,000 adults.\n"
        "RESULTS: eGFR fell by 2 mL/min."
    )
    assert first.authors == ("Dupont M", "KIDNEY Study Group")
    assert first.url == "https://pubmed.ncbi.nlm.nih.gov/31722151/"
    assert (second.year, second.journal, second.abstract) == (
        2018,
        "BMJ open",
        "An unstructured abstract.",
    )
    # Not in the efetch answer: completed from esummary (Source when FullJournalName is empty).
    assert (book.title, book.journal, book.year, book.abstract) == (
        "Metformin.",
        "StatPearls",
        2017,
        "",
    )
    assert book.authors == ("Corcoran C", "Jacobs TF")
    search, fetch, summary = eutils.received
    assert (search.path, fetch.path, summary.path) == (
        "esearch.fcgi",
        "efetch.fcgi",
        "esummary.fcgi",
    )
    assert search.params["term"] == "metformin kidney"
    assert search.params["retmax"] == "3"
    assert search.params["db"] == "pubmed"
    assert fetch.params["id"] == "31722151,30001234,29000001"
    assert (fetch.params["rettype"], fetch.params["retmode"]) == ("abstract", "xml")
    assert summary.params["id"] == "29000001"


def test_api_key_tool_and_email_are_sent(eutils: Replay, tmp_path: Path) -> None:
    with fast_client(eutils, tmp_path, api_key="k3y", email="dr@example.org") as client:
        client.esearch("aspirin")

    params = eutils.received[0].params
    assert (params["api_key"], params["tool"], params["email"]) == (
        "k3y",
        "healthspace",
        "dr@example.org",
    )


def test_cache_answers_a_repeated_query_without_a_request(eutils: Replay, tmp_path: Path) -> None:
    with fast_client(eutils, tmp_path, api_key="k3y") as client:
        first = client.search("metformin", limit=3)
    requests = len(eutils.received)
    # A new client (a new command) with another key: the cache is keyed by the question only.
    with fast_client(eutils, tmp_path, api_key="other") as client:
        again = client.search("metformin", limit=3)

    assert again == first
    assert len(eutils.received) == requests
    # The API key never reaches the disk.
    for path in (tmp_path / "cache").iterdir():
        assert "k3y" not in path.read_text()


def test_requests_are_spaced_a_third_of_a_second_apart_without_a_key(
    eutils: Replay, tmp_path: Path
) -> None:
    client = PubMedClient(eutils.url)  # no cache, no key: the NCBI default of 3 per second
    with client:
        for word in ("a", "b", "c", "d"):
            client.esearch(word)

    times = [r.at for r in eutils.received]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert len(gaps) == 3
    assert min(gaps) >= 1 / 3 - 0.02  # the server's clock stamps arrival, a little after sending


def test_rate_limiter_spaces_threads_too() -> None:
    now = [0.0]
    slept: list[float] = []
    limiter = RateLimiter(0.1, clock=lambda: now[0], sleep=slept.append)
    threads = [threading.Thread(target=limiter.wait) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(round(s, 6) for s in slept) == [0.1, 0.2, 0.3, 0.4]


def test_429_is_retried_once_after_retry_after(eutils: Replay, tmp_path: Path) -> None:
    eutils.statuses.append((429, {"Retry-After": "1"}))
    with fast_client(eutils, tmp_path) as client:
        ids = client.esearch("metformin")

    assert ids.count == 2481
    assert ids.pmids[0] == "31722151"
    refused, accepted = eutils.received
    assert accepted.at - refused.at >= 0.95


def test_a_second_429_is_a_clear_error(eutils: Replay, tmp_path: Path) -> None:
    eutils.statuses.extend([(429, {"Retry-After": "0"}), (429, {"Retry-After": "0"})])
    with fast_client(eutils, tmp_path) as client, pytest.raises(PubMedError, match="limiting"):
        client.esearch("metformin")


def test_other_http_errors_name_the_status(eutils: Replay, tmp_path: Path) -> None:
    eutils.statuses.append((502, {}))
    with fast_client(eutils, tmp_path) as client, pytest.raises(PubMedError, match="HTTP 502"):
        client.esearch("metformin")


def test_entity_declarations_are_refused(eutils: Replay, tmp_path: Path) -> None:
    eutils.bodies["esearch.fcgi"] = BOMB
    with fast_client(eutils, tmp_path) as client, pytest.raises(PubMedError, match="unsafe"):
        client.esearch("metformin")
    # A refused answer is not cached.
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())


def test_unreachable_server_says_a_network_is_needed(tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}/entrez/eutils/"
    with (
        PubMedClient(closed, cache_dir=tmp_path, min_interval=0.0) as client,
        pytest.raises(PubMedOfflineError) as error,
    ):
        client.search("metformin")
    assert str(error.value) == OFFLINE_MESSAGE


def test_cli_prints_exact_json_keys(eutils: Replay, tmp_path: Path) -> None:
    env = cli_env(tmp_path / "home")
    env["HEALTHSPACE_PUBMED_BASE_URL"] = eutils.url
    result = subprocess.run(
        [str(HEALTHSPACE), "pubmed", "metformin kidney", "--limit", "3", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    articles = json.loads(result.stdout)
    assert [list(a) for a in articles] == [
        ["pmid", "title", "journal", "year", "abstract", "url"]
    ] * 3
    assert articles[0]["pmid"] == "31722151"
    assert articles[0]["year"] == 2019
    assert eutils.received[0].params["tool"] == "healthspace"
    # Cached under the data folder.
    assert any((tmp_path / "home" / "cache" / "pubmed").iterdir())


def test_cli_offline_message_and_exit_code(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "home")
    env["HEALTHSPACE_PUBMED_BASE_URL"] = f"http://127.0.0.1:{free_port()}/"
    result = subprocess.run(
        [str(HEALTHSPACE), "pubmed", "metformin"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 1
    assert OFFLINE_MESSAGE in result.stderr


def test_api_route_answers_the_same_json_and_problem_offline(
    eutils: Replay, tmp_path: Path
) -> None:
    online = build(make_settings(tmp_path / "online", pubmed_base_url=eutils.url))
    closed = f"http://127.0.0.1:{free_port()}/"
    cut_off = build(make_settings(tmp_path / "offline", pubmed_base_url=closed))
    try:
        with signed_in_client(online, role="clinician") as client:
            found = client.get("/api/v1/pubmed", params={"q": "metformin", "limit": 3})
        with signed_in_client(cut_off, role="clinician") as client:
            offline = client.get("/api/v1/pubmed", params={"q": "never cached", "limit": 3})
    finally:
        online.close()
        cut_off.close()

    assert found.status_code == 200
    assert [a["pmid"] for a in found.json()] == ["31722151", "30001234", "29000001"]
    assert list(found.json()[0]) == ["pmid", "title", "journal", "year", "abstract", "url"]
    assert offline.status_code == 503
    assert OFFLINE_MESSAGE in offline.text
