"""ICD-10-CM, the full CMS code set: look-up by code, hierarchy, billable codes and word search.

The codes come from the ``simple-icd-10-cm`` package (1.5.0 ships the CMS April 2026 release).
Importing that package parses a 10 MB XML file, which takes seconds, so the first use extracts a
compact table and, when given a cache folder, keeps it there as JSON; later processes read that
file. Word search runs on an in-memory inverted index built once per table, on first search.
"""

from __future__ import annotations

import heapq
import logging
import os
import re
import tempfile
import warnings
from array import array
from bisect import bisect_left
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache, cached_property
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

import orjson

from healthspace.errors import HealthspaceError, NotFoundError
from healthspace.knowledge.citations import Source
from healthspace.knowledge.documents import SearchDocument
from healthspace.knowledge.folding import fold

log = logging.getLogger(__name__)

SYSTEM = "icd10cm"
SYSTEM_URI = "http://hl7.org/fhir/sid/icd-10-cm"
PACKAGE = "simple-icd-10-cm"
# Bump when the cached table's shape changes, so an old cache file is rebuilt, not misread.
_CACHE_FORMAT = 1


def cms_release() -> str:
    """The CMS release the installed package ships ("April 2026"), read from its file list
    without importing it (the import parses the whole classification)."""
    for file in metadata.files(PACKAGE) or ():
        found = re.search(r"code-list-([A-Za-z]+)-(\d{4})\.txt$", str(file))
        if found:
            return f"{found.group(1)} {found.group(2)}"
    return f"{PACKAGE} {metadata.version(PACKAGE)}"


CMS_RELEASE = cms_release()
SOURCE = Source(
    publisher="Centers for Medicare & Medicaid Services (CMS) and CDC National Center for "
    "Health Statistics",
    title=f"ICD-10-CM Tabular List of Diseases and Injuries, {CMS_RELEASE} release",
    url="https://www.cms.gov/medicare/coding-billing/icd-10-codes",
    reviewed=date(2026, 11, 23),
)

Kind = Literal["chapter", "block", "category", "subcategory", "extension"]

_CODE_SHAPE = re.compile(r"^[A-Z][0-9][0-9A-Z](?:\.?[0-9A-Z]{1,4})?$")
_TOKEN = re.compile(r"[^\W_]+")
# Nonessential modifiers: ICD puts them in parentheses, or spells the default case out.
_NON_CORE_TEXT = re.compile(
    r"\([^()]*\)|\[[^\[\]]*\]|\bsite not specified\b|\bnot elsewhere classified\b"
    r"|\bnot otherwise specified\b"
)
# Words that carry no meaning of their own when comparing a query with a description.
_NON_CORE = frozenset("of the and or a an in on to for by nos unspecified".split())
# Above this many candidates only the shortest descriptions are scored: the ranking prefers
# short, general descriptions, so a long one never reaches the first results anyway.
_MAX_SCORED = 500


class UnknownIcd10CodeError(NotFoundError):
    """A code that is not in the ICD-10-CM release Healthspace ships."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(
            f"'{code}' is not an ICD-10-CM code in the CMS {CMS_RELEASE} release. Check the "
            "letter and digits (e.g. E11.9 or E119), or search by words with "
            "`healthspace icd10-search`."
        )


class EmptyQueryError(HealthspaceError, ValueError):
    """A search without a single word to look for."""

    http_status = 422

    def __init__(self) -> None:
        super().__init__("The search has no words: give at least one word, e.g. 'chest pain'.")


@dataclass(frozen=True, slots=True)
class Icd10Code:
    """One item of the classification; only ``billable`` codes may be reported on a claim."""

    code: str  # as CMS prints it, with the dot: "E11.9", a block "E08-E13", a chapter "4"
    description: str
    kind: Kind
    parent: str | None
    billable: bool
    # Inclusion terms and "Includes" notes: other names the tabular list gives this code.
    synonyms: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Icd10Hit:
    """A search result: the code, a score in [0, 1] and the text (description or synonym) hit."""

    entry: Icd10Code
    score: float
    matched: str

    def as_json(self) -> dict[str, Any]:
        return {
            "system": SYSTEM,
            "code": self.entry.code,
            "description": self.entry.description,
            "billable": self.entry.billable,
            "score": self.score,
            "matched": self.matched,
        }


def tokens(text: str) -> list[str]:
    """Folded words of ``text``: case, accents and punctuation do not count."""
    return _TOKEN.findall(_fold(text))


def _fold(text: str) -> str:
    # Nearly every description is ASCII, where folding is lower-casing: 10 times faster.
    return text.lower() if text.isascii() else fold(text)


def _core_tokens(folded: str) -> tuple[str, ...]:
    """The meaningful words of a folded description, without its nonessential modifiers."""
    if (
        "(" in folded or "[" in folded or "fied" in folded
    ):  # skip the costly pattern if it can't hit
        folded = _NON_CORE_TEXT.sub(" ", folded)
    return tuple(w for w in _TOKEN.findall(folded) if w not in _NON_CORE)


def _word_matches(word: str, token: str) -> bool:
    return token == word or (len(word) >= 4 and token.startswith(word))


def _contains_phrase(haystack: list[str], words: list[str]) -> bool:
    """Whether ``words`` occur contiguously and in order in ``haystack`` (prefixes allowed)."""
    size = len(words)
    for start in range(len(haystack) - size + 1):
        if all(_word_matches(words[i], haystack[start + i]) for i in range(size)):
            return True
    return False


class _Index:
    """Inverted index over every description and synonym: folded word → entry numbers.

    Entries are numbered in classification order, each code's description then its synonyms,
    so only the word lists and the meaningful-word counts need saving between processes.
    """

    def __init__(
        self,
        codes: Mapping[str, Icd10Code],
        core: list[int] | None = None,
        postings: Mapping[str, list[int]] | None = None,
    ) -> None:
        self.entry_code: list[str] = []
        self.entry_text: list[str] = []
        self.entry_synonym: list[bool] = []
        for item in codes.values():
            for number, text in enumerate((item.description, *item.synonyms)):
                self.entry_code.append(item.code)
                self.entry_text.append(text)
                self.entry_synonym.append(number > 0)
        if core is not None and postings is not None and len(core) == len(self.entry_text):
            self.entry_core = core
            self.postings = {word: array("I", numbers) for word, numbers in postings.items()}
        else:
            self.entry_core, self.postings = self._build()
        self.vocabulary = sorted(self.postings)

    def _build(self) -> tuple[list[int], dict[str, array[int]]]:
        core: list[int] = []
        postings: dict[str, array[int]] = {}
        for number, text in enumerate(self.entry_text):
            folded = _fold(text)
            core.append(len(_core_tokens(folded)))
            for word in set(_TOKEN.findall(folded)):
                found = postings.get(word)
                if found is None:
                    postings[word] = found = array("I")
                found.append(number)
        return core, postings

    def parts(self) -> dict[str, object]:
        """What ``__init__`` needs besides the codes to skip building: for the disk cache."""
        return {
            "core": self.entry_core,
            "postings": {word: numbers.tolist() for word, numbers in self.postings.items()},
        }

    def matching(self, word: str) -> set[int]:
        """Entries holding ``word``, or a word it begins when it has 4 letters or more."""
        if len(word) < 4:
            return set(self.postings.get(word, ()))
        found: set[int] = set()
        start = bisect_left(self.vocabulary, word)
        for token in self.vocabulary[start:]:
            if not token.startswith(word):
                break
            found.update(self.postings[token])
        return found

    def score(self, number: int, words: list[str]) -> float:
        """Match quality in [0, 1]: share of the entry's meaningful words the query covers,
        the query as a phrase, an exact match of the meaningful words, description over synonym.
        """
        folded = _fold(self.entry_text[number])
        core = _core_tokens(folded)
        coverage = len(words) / max(self.entry_core[number], len(words))
        phrase = _contains_phrase(_TOKEN.findall(folded), words)
        exact = len(core) == len(words) and all(
            _word_matches(w, t) for w, t in zip(words, core, strict=True)
        )
        return (
            0.55 * coverage + 0.25 * phrase + 0.15 * exact + 0.05 * (not self.entry_synonym[number])
        )


class Icd10cm:
    """The code set in memory: codes in classification order, with look-ups and search."""

    def __init__(
        self, codes: Mapping[str, Icd10Code], release: str, index_file: Path | None = None
    ) -> None:
        self.codes = codes
        self.release = release
        self._index_file = index_file
        self._order = {code: number for number, code in enumerate(codes)}

    def __len__(self) -> int:
        return len(self.codes)

    def __iter__(self) -> Iterator[Icd10Code]:
        return iter(self.codes.values())

    def normalise(self, code: str) -> str | None:
        """The code as CMS prints it ("e119" → "E11.9"), or None when there is no such code."""
        compact = re.sub(r"\s+", "", code).upper()
        if compact in self.codes:
            return compact
        if _CODE_SHAPE.match(compact):
            dotted = (
                compact if "." in compact or len(compact) == 3 else f"{compact[:3]}.{compact[3:]}"
            )
            if dotted in self.codes:
                return dotted
        return None

    def get(self, code: str) -> Icd10Code | None:
        """The code, written with or without its dot, or None."""
        found = self.normalise(code)
        return self.codes[found] if found else None

    def lookup(self, code: str) -> Icd10Code:
        """The code, written with or without its dot; an unknown code is an error."""
        found = self.get(code)
        if found is None:
            raise UnknownIcd10CodeError(code.strip())
        return found

    def ancestors(self, code: str) -> list[Icd10Code]:
        """Parents up to the chapter, nearest first: E11.9 → E11, E08-E13, chapter 4."""
        result: list[Icd10Code] = []
        current = self.lookup(code)
        while current.parent is not None:
            current = self.codes[current.parent]
            result.append(current)
        return result

    def children(self, code: str) -> list[Icd10Code]:
        """The codes one level below, in classification order."""
        return [self.codes[c] for c in self._children.get(self.lookup(code).code, ())]

    def is_billable(self, code: str) -> bool:
        """Whether the code is a leaf, the only kind a claim may carry."""
        return self.lookup(code).billable

    def describe(self, code: str) -> dict[str, Any]:
        """Everything about one code, as the CLI and the API print it."""
        item = self.lookup(code)
        return {
            "system": SYSTEM,
            "code": item.code,
            "description": item.description,
            "kind": item.kind,
            "billable": item.billable,
            "parent": item.parent,
            "ancestors": [
                {"code": a.code, "description": a.description} for a in self.ancestors(code)
            ],
            "children": [
                {"code": c.code, "description": c.description} for c in self.children(code)
            ],
            "synonyms": list(item.synonyms),
            "release": self.release,
        }

    def is_descendant(self, code: str, ancestor: str) -> bool:
        """Whether ``ancestor`` is above ``code`` in the hierarchy (a code is not its own)."""
        wanted = self.lookup(ancestor).code
        return any(item.code == wanted for item in self.ancestors(code))

    def search(self, query: str, limit: int = 20, billable_only: bool = False) -> list[Icd10Hit]:
        """Codes whose description or synonym holds every word of ``query``, best first.

        Case and accents do not count; a word of 4 letters or more also finds longer words it
        begins ("diab" finds "diabetes"). An exact match of the meaningful words comes first,
        then the query as a phrase, then shorter (more general) descriptions. A query shaped
        like a code returns that code and the codes under it.
        """
        words = tokens(query)
        if not words:
            raise EmptyQueryError()
        by_code = self._search_code(query, limit, billable_only)
        if by_code is not None:
            return by_code
        meaningful = [w for w in words if w not in _NON_CORE] or words
        index = self._index
        candidates: set[int] | None = None
        for word in sorted(meaningful, key=lambda w: len(index.postings.get(w, ()))):
            found = index.matching(word)
            candidates = found if candidates is None else candidates & found
            if not candidates:
                return []
        assert candidates is not None
        if billable_only:
            candidates = {n for n in candidates if self.codes[index.entry_code[n]].billable}
        if len(candidates) > _MAX_SCORED:
            candidates = set(
                heapq.nsmallest(_MAX_SCORED, candidates, key=index.entry_core.__getitem__)
            )
        best: dict[str, tuple[float, int]] = {}
        for number in candidates:
            score = index.score(number, meaningful)
            code = index.entry_code[number]
            if code not in best or score > best[code][0]:
                best[code] = (score, number)
        ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], len(kv[0]), self._order[kv[0]]))
        return [
            Icd10Hit(self.codes[code], round(score, 3), index.entry_text[number])
            for code, (score, number) in ranked[:limit]
        ]

    def _search_code(self, query: str, limit: int, billable_only: bool) -> list[Icd10Hit] | None:
        found = self.normalise(query)
        if found is None:
            return None
        # The code itself, then the codes under it depth-first, in classification order.
        hits: list[Icd10Hit] = []
        pending = [found]
        while pending and len(hits) < limit:
            item = self.codes[pending.pop()]
            if item.billable or not billable_only:
                hits.append(Icd10Hit(item, 1.0 if item.code == found else 0.9, item.description))
            pending.extend(reversed(self._children.get(item.code, [])))
        return hits

    @cached_property
    def _index(self) -> _Index:
        saved = read_cache(self._index_file)
        if isinstance(saved, dict):
            index = _Index(self.codes, saved.get("core"), saved.get("postings"))
        else:
            index = _Index(self.codes)
            write_cache(self._index_file, index.parts())
        return index

    @cached_property
    def _children(self) -> dict[str, list[str]]:
        children: dict[str, list[str]] = {}
        for item in self.codes.values():
            if item.parent is not None:
                children.setdefault(item.parent, []).append(item.code)
        return children


def package_version() -> str:
    """The installed ``simple-icd-10-cm`` version, which fixes the CMS release."""
    return metadata.version(PACKAGE)


def _extract_from_package() -> list[Icd10Code]:
    """Walk the package's tree once into plain records, in classification order."""
    with warnings.catch_warnings():
        # The package reads its data through importlib.resources calls Python deprecates.
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm as cm

    result: list[Icd10Code] = []
    seen: set[str] = set()
    for code in cm.get_all_codes(with_dots=True):
        # A block holding a single category shares its name (block B99 holds category B99);
        # the package resolves the name to the category, and so do we.
        if code in seen:
            continue
        seen.add(code)
        parent = cm.get_parent(code)
        if parent == code:
            parent = cm.get_parent(code, prioritize_blocks=True)
        kind: Kind
        if cm.is_chapter(code):
            kind = "chapter"
        elif "-" in code:
            kind = "block"
        elif cm.is_extended_subcategory(code):
            kind = "extension"
        elif len(code) == 3:
            kind = "category"
        else:
            kind = "subcategory"
        synonyms = tuple(dict.fromkeys([*cm.get_inclusion_term(code), *cm.get_includes(code)]))
        result.append(
            Icd10Code(
                code=code,
                description=cm.get_description(code),
                kind=kind,
                parent=parent or None,
                billable=cm.is_leaf(code) and kind not in ("chapter", "block"),
                synonyms=synonyms,
            )
        )
    return result


def cache_file(cache_dir: Path, part: str) -> Path:
    """A cache file for this release; ``part`` names what it holds ("codes", "index"...)."""
    return cache_dir / f"icd10cm-{package_version()}-v{_CACHE_FORMAT}-{part}.json"


def read_cache(path: Path | None) -> object | None:
    """A cache file's content, or None when it is absent or unreadable (then it is rebuilt)."""
    if path is None:
        return None
    try:
        return orjson.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, orjson.JSONDecodeError) as error:
        log.warning("ICD-10-CM cache %s is unreadable (%s); rebuilding it", path, error)
        return None


def write_cache(path: Path | None, content: object) -> None:
    """Save ``content`` as JSON; a cache that cannot be written only costs time later."""
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Write aside then rename, so a concurrent reader never sees half a file.
        with tempfile.NamedTemporaryFile("wb", dir=path.parent, delete=False) as handle:
            handle.write(orjson.dumps(content))
        os.replace(handle.name, path)
    except OSError as error:
        # The cache only saves time: without it each process reads the package again.
        log.warning("cannot write the ICD-10-CM cache %s (%s)", path, error)


@cache
def load_icd10cm(cache_dir: Path | None = None) -> Icd10cm:
    """The code set, read once per process; ``cache_dir`` keeps a fast copy between processes."""
    codes_file = cache_file(cache_dir, "codes") if cache_dir is not None else None
    rows = read_cache(codes_file)
    if isinstance(rows, list):
        codes = [
            Icd10Code(code, description, kind, parent, billable, tuple(synonyms))
            for code, description, kind, parent, billable, synonyms in rows
        ]
    else:
        codes = _extract_from_package()
        write_cache(
            codes_file,
            [[c.code, c.description, c.kind, c.parent, c.billable, c.synonyms] for c in codes],
        )
    return Icd10cm(
        {c.code: c for c in codes},
        release=f"CMS {CMS_RELEASE} ({PACKAGE} {package_version()})",
        index_file=cache_file(cache_dir, "index") if cache_dir is not None else None,
    )


def default_cache_dir() -> Path | None:
    """Where the surfaces keep terminology caches: inside the data folder."""
    from healthspace.config import Settings

    return Settings().home / "cache"


def documents() -> Iterator[SearchDocument]:
    """One search document per billable code (English description), built only when asked."""
    table = load_icd10cm(default_cache_dir())
    for item in table:
        if not item.billable:
            continue
        text = "; ".join((item.description, *item.synonyms))
        yield SearchDocument(
            id=f"icd10cm:{item.code}",
            kind="code",
            title={"en": item.description},
            text={"en": text},
            sources=(SOURCE,),
            keywords=(item.code, item.code.replace(".", "")),
        )
