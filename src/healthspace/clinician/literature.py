"""PubMed search through NCBI E-utilities: the only part of Healthspace that needs a network.

Privacy: the query sent to NCBI is the words the user typed, and nothing else. No function here
reads the record, and callers must never build a query from record data (a name, a date, a
result): the search leaves the machine, the record does not.

The client talks only to the base URL it is given (redirects are not followed), spaces its
requests as NCBI asks (3 per second, 10 with an API key), keeps answers in an on-disk cache
for a week, and parses the XML after refusing entity declarations (no entity expansion).

PubMedError(HealthspaceError)       PubMed answered with an error or an unusable response
└── PubMedOfflineError              PubMed could not be reached at all
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import os
import re
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.parsers import expat

import httpx
import orjson

from healthspace.config import Settings
from healthspace.errors import HealthspaceError

DEFAULT_BASE_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
# NCBI's usage policy: at most 3 requests per second without an API key, 10 with one.
INTERVAL_WITHOUT_KEY = 1 / 3
INTERVAL_WITH_KEY = 1 / 10
CACHE_MAX_AGE = 7 * 24 * 3600.0
MAX_LIMIT = 100
# A Retry-After longer than this is not worth blocking a command for: the user is told instead.
MAX_RETRY_AFTER = 30.0
# Parameters that identify the caller, not the question: left out of cache keys so a new key or
# e-mail address does not empty the cache (and so the key is never written to disk).
_IDENTITY_PARAMS = frozenset({"api_key", "tool", "email"})
_YEAR = re.compile(r"\b(\d{4})\b")

OFFLINE_MESSAGE = (
    "PubMed needs a network connection; Healthspace works offline otherwise, "
    "and nothing from your record was sent."
)


class PubMedError(HealthspaceError):
    """PubMed answered, but not with something usable (HTTP error, refused or broken XML)."""

    http_status = 502


class PubMedOfflineError(PubMedError):
    """PubMed could not be reached: no network, DNS failure, refused connection or timeout."""

    http_status = 503


@dataclass(frozen=True)
class Article:
    """One PubMed record as shown to a clinician; ``abstract`` is empty when PubMed has none."""

    pmid: str
    title: str
    journal: str
    year: int | None
    abstract: str
    authors: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        return f"https://pubmed.ncbi.nlm.nih.gov/{self.pmid}/"

    def as_json(self) -> dict[str, Any]:
        return {
            "pmid": self.pmid,
            "title": self.title,
            "journal": self.journal,
            "year": self.year,
            "abstract": self.abstract,
            "url": self.url,
        }


@dataclass(frozen=True)
class SearchIds:
    """What esearch found: the total count and the PMIDs of the first page, best first."""

    count: int
    pmids: list[str]


class RateLimiter:
    """Spaces calls at least ``interval`` seconds apart on the monotonic clock, across threads."""

    def __init__(
        self,
        interval: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = interval
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next = 0.0

    def wait(self) -> None:
        # Reserve a slot under the lock, sleep outside it: concurrent callers queue up in order.
        with self._lock:
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + self.interval
        if slot > now:
            self._sleep(slot - now)


_shared_limiters: dict[tuple[str, float], RateLimiter] = {}
_shared_lock = threading.Lock()


def shared_limiter(base_url: str, interval: float) -> RateLimiter:
    """One limiter per server and rate in the process: NCBI counts requests per caller, not per
    client object, so API requests served concurrently must share the spacing."""
    with _shared_lock:
        return _shared_limiters.setdefault((base_url, interval), RateLimiter(interval))


class ResponseCache:
    """E-utilities answers as JSON files named by a hash of (endpoint, question parameters)."""

    def __init__(self, directory: Path, max_age: float = CACHE_MAX_AGE) -> None:
        self.directory = directory
        self.max_age = max_age

    def _path(self, endpoint: str, params: Mapping[str, str]) -> Path:
        question = {k: v for k, v in sorted(params.items()) if k not in _IDENTITY_PARAMS}
        digest = hashlib.sha256(orjson.dumps([endpoint, question])).hexdigest()
        return self.directory / f"{digest}.json"

    def get(self, endpoint: str, params: Mapping[str, str]) -> str | None:
        path = self._path(endpoint, params)
        try:
            entry = orjson.loads(path.read_bytes())
        except (FileNotFoundError, orjson.JSONDecodeError):
            # A half-written or foreign file is a miss, rewritten by the next answer.
            return None
        if not isinstance(entry, dict) or time.time() - entry.get("fetched", 0) > self.max_age:
            return None
        body = entry.get("body")
        return body if isinstance(body, str) else None

    def put(self, endpoint: str, params: Mapping[str, str], body: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self._path(endpoint, params)
        data = orjson.dumps({"fetched": time.time(), "endpoint": endpoint, "body": body})
        # Write then rename, so a concurrent reader never sees half a file.
        fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise


def parse_xml(body: str | bytes) -> ET.Element:
    """Parse an E-utilities answer, refusing entity declarations and internal DTD subsets.

    Real answers start with an external ``<!DOCTYPE ... PUBLIC ...>`` that expat never fetches,
    so that much is allowed; anything that could define an entity (the "billion laughs" and
    external-entity attacks) is refused before ElementTree builds a tree.
    """
    data = body.encode() if isinstance(body, str) else body
    guard = expat.ParserCreate()

    def refuse_subset(name: str, system_id: Any, public_id: Any, has_internal_subset: int) -> None:
        if has_internal_subset:
            raise PubMedError("PubMed's answer declares its own DTD; it was refused as unsafe.")

    def refuse_entity(*_: Any) -> None:
        raise PubMedError("PubMed's answer declares XML entities; it was refused as unsafe.")

    guard.StartDoctypeDeclHandler = refuse_subset
    guard.EntityDeclHandler = refuse_entity
    guard.UnparsedEntityDeclHandler = refuse_entity
    try:
        guard.Parse(data, True)
        return ET.fromstring(data)
    except (expat.ExpatError, ET.ParseError) as exc:
        raise PubMedError(f"PubMed's answer is not valid XML ({exc}).") from exc


def _text(element: ET.Element | None) -> str:
    # itertext keeps the words inside inline markup (<i>, <sup>) that titles often carry.
    return " ".join("".join(element.itertext()).split()) if element is not None else ""


def _year(text: str) -> int | None:
    # PubDate may be "2021", "2021 Mar 4" or a MedlineDate such as "2019 Nov-Dec": first 4 digits.
    match = _YEAR.search(text)
    return int(match.group(1)) if match else None


def parse_esearch(root: ET.Element) -> SearchIds:
    """Count and IdList of an ``eSearchResult``; an ``ERROR`` element becomes a PubMedError."""
    error = root.find("ERROR")
    if error is not None:
        raise PubMedError(f"PubMed could not run this search: {_text(error)}")
    count = root.findtext("Count")
    return SearchIds(
        count=int(count) if count and count.strip().isdigit() else 0,
        pmids=[(i.text or "").strip() for i in root.findall("IdList/Id") if (i.text or "").strip()],
    )


def parse_esummary(root: ET.Element) -> list[Article]:
    """``eSummaryResult/DocSum`` records: title, journal, year and authors, no abstract."""
    articles = []
    for docsum in root.findall("DocSum"):
        items = {item.get("Name"): item for item in docsum.findall("Item")}
        journal = _text(items.get("FullJournalName")) or _text(items.get("Source"))
        author_list = items.get("AuthorList")
        authors = (
            tuple(_text(a) for a in author_list.findall("Item") if _text(a))
            if author_list is not None
            else ()
        )
        articles.append(
            Article(
                pmid=(docsum.findtext("Id") or "").strip(),
                title=_text(items.get("Title")),
                journal=journal,
                year=_year(_text(items.get("PubDate"))),
                abstract="",
                authors=authors,
            )
        )
    return articles


def _abstract(article: ET.Element) -> str:
    # Structured abstracts carry one AbstractText per section, named by its Label attribute.
    parts = []
    for section in article.findall("Abstract/AbstractText"):
        text = _text(section)
        label = section.get("Label")
        if text:
            parts.append(f"{label}: {text}" if label else text)
    return "\n".join(parts)


def _author(author: ET.Element) -> str:
    collective = _text(author.find("CollectiveName"))
    if collective:
        return collective
    last = _text(author.find("LastName"))
    first = _text(author.find("Initials")) or _text(author.find("ForeName"))
    return f"{last} {first}".strip()


def parse_efetch(root: ET.Element) -> list[Article]:
    """``PubmedArticleSet/PubmedArticle`` records with their abstracts (book records skipped)."""
    articles = []
    for record in root.findall("PubmedArticle"):
        citation = record.find("MedlineCitation")
        if citation is None:
            continue
        article = citation.find("Article")
        if article is None:
            continue
        pub_date = article.find("Journal/JournalIssue/PubDate")
        year = None
        if pub_date is not None:
            year = _year(pub_date.findtext("Year") or pub_date.findtext("MedlineDate") or "")
        if year is None:
            year = _year(article.findtext("ArticleDate/Year") or "")
        articles.append(
            Article(
                pmid=(citation.findtext("PMID") or "").strip(),
                title=_text(article.find("ArticleTitle")),
                journal=_text(article.find("Journal/Title")),
                year=year,
                abstract=_abstract(article),
                authors=tuple(
                    name for a in article.findall("AuthorList/Author") if (name := _author(a))
                ),
            )
        )
    return articles


def _retry_after(value: str | None) -> float:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date); 1 s when absent."""
    if not value:
        return 1.0
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return 1.0
        seconds = (when - datetime.now(UTC)).total_seconds()
    return max(0.0, seconds)


class PubMedClient:
    """esearch, esummary and efetch against one E-utilities base URL, cached and rate limited."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        email: str | None = None,
        tool: str = "healthspace",
        cache_dir: Path | None = None,
        min_interval: float | None = None,
        limiter: RateLimiter | None = None,
        timeout: float = 15.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.api_key = api_key
        self.email = email
        self.tool = tool
        self.cache = ResponseCache(cache_dir) if cache_dir is not None else None
        interval = min_interval
        if interval is None:
            interval = INTERVAL_WITH_KEY if api_key else INTERVAL_WITHOUT_KEY
        self.limiter = limiter or RateLimiter(interval)
        self._sleep = sleep
        # No redirects: the client must only ever talk to the server it was given.
        self._http = httpx.Client(timeout=timeout, follow_redirects=False)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PubMedClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _get(self, endpoint: str, params: dict[str, str]) -> ET.Element:
        """One E-utilities call: from the cache when fresh, otherwise over the network."""
        if self.cache is not None:
            cached = self.cache.get(endpoint, params)
            if cached is not None:
                return parse_xml(cached)
        sent = dict(params, tool=self.tool)
        if self.email:
            sent["email"] = self.email
        if self.api_key:
            sent["api_key"] = self.api_key
        response = self._send(endpoint, sent)
        if response.status_code == 429:
            wait = _retry_after(response.headers.get("Retry-After"))
            if wait > MAX_RETRY_AFTER:
                raise PubMedError(
                    f"PubMed asks to wait {wait:.0f} seconds before the next search; "
                    "try again later."
                )
            self._sleep(wait)
            response = self._send(endpoint, sent)
        if response.status_code == 429:
            raise PubMedError(
                "PubMed is limiting requests right now; try again in a minute "
                "(an NCBI API key, HEALTHSPACE_PUBMED_API_KEY, allows more)."
            )
        if response.status_code != 200:
            raise PubMedError(
                f"PubMed answered HTTP {response.status_code} to {endpoint}; "
                "try again later, or check HEALTHSPACE_PUBMED_BASE_URL."
            )
        root = parse_xml(response.content)
        if self.cache is not None:
            self.cache.put(endpoint, params, response.text)
        return root

    def _send(self, endpoint: str, params: dict[str, str]) -> httpx.Response:
        self.limiter.wait()
        try:
            return self._http.get(self.base_url + endpoint, params=params)
        except httpx.TransportError as exc:
            raise PubMedOfflineError(OFFLINE_MESSAGE) from exc

    def esearch(self, term: str, retmax: int = 10) -> SearchIds:
        """PMIDs matching ``term`` (PubMed's query syntax), best match first."""
        params = {
            "db": "pubmed",
            "term": term,
            "retmax": str(retmax),
            "retmode": "xml",
            "sort": "relevance",
        }
        return parse_esearch(self._get("esearch.fcgi", params))

    def esummary(self, pmids: list[str]) -> list[Article]:
        """Title, journal and year for PMIDs; used for records efetch returns no article for."""
        if not pmids:
            return []
        params = {"db": "pubmed", "id": ",".join(pmids), "retmode": "xml"}
        return parse_esummary(self._get("esummary.fcgi", params))

    def efetch(self, pmids: list[str]) -> list[Article]:
        """Full records, abstracts included, for PMIDs."""
        if not pmids:
            return []
        params = {"db": "pubmed", "id": ",".join(pmids), "rettype": "abstract", "retmode": "xml"}
        return parse_efetch(self._get("efetch.fcgi", params))

    def search(self, query: str, limit: int = 10) -> list[Article]:
        """Articles for the user's own words, in PubMed's relevance order.

        ``query`` must be what the user typed: it is sent to NCBI as is.
        """
        query = query.strip()
        if not query:
            raise PubMedError("Give the words to search PubMed for.")
        limit = max(1, min(limit, MAX_LIMIT))
        pmids = self.esearch(query, retmax=limit).pmids
        found = {a.pmid: a for a in self.efetch(pmids)}
        missing = [p for p in pmids if p not in found]
        # Book chapters and some older records come back without a PubmedArticle element.
        found.update({a.pmid: a for a in self.esummary(missing)})
        return [found[p] for p in pmids if p in found]


def client_from_settings(settings: Settings) -> PubMedClient:
    """A client for the configured E-utilities server, caching under ``<home>/cache/pubmed``."""
    base_url = settings.pubmed_base_url or DEFAULT_BASE_URL
    api_key = settings.pubmed_api_key.get_secret_value() if settings.pubmed_api_key else None
    interval = INTERVAL_WITH_KEY if api_key else INTERVAL_WITHOUT_KEY
    return PubMedClient(
        base_url,
        api_key=api_key,
        email=settings.pubmed_email,
        cache_dir=settings.home / "cache" / "pubmed",
        limiter=shared_limiter(base_url, interval),
    )


def search_pubmed(settings: Settings, query: str, limit: int = 10) -> list[Article]:
    """The service behind ``healthspace pubmed`` and ``GET /api/v1/pubmed``."""
    with client_from_settings(settings) as client:
        return client.search(query, limit)
