"""What every corpus importer returns, and the small clean-ups they share.

An importer reads files the user downloaded from an authority and yields search documents,
each citing the page it came from. A record it cannot use (no text, no address, a broken file
in a folder of many) is skipped with a reason rather than failing the whole corpus.
"""

from __future__ import annotations

import gzip
import html
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, cast

from healthspace.errors import ImportFailedError
from healthspace.knowledge.documents import SearchDocument


@dataclass
class CorpusReading:
    """Documents read from a corpus, and the records skipped with the reason."""

    documents: list[SearchDocument] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (place, reason)

    def skip(self, place: str, reason: str) -> None:
        self.skipped.append((place, reason))


_TAG = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\s*\n\s*(?:\n\s*)+")


def plain_text(markup: str) -> str:
    """Text of an HTML fragment (MedlinePlus summaries are escaped HTML), spaces tidied."""
    text = _TAG.sub(" ", markup.replace("</p>", "\n").replace("<li>", "\n- "))
    return tidy(html.unescape(text))


def tidy(text: str) -> str:
    """One space between words, at most one blank line between paragraphs, no edges."""
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def https(url: str | None) -> str | None:
    """The page's https address: NIH sites serve every ``http://`` page over https too."""
    if not url:
        return None
    url = url.strip()
    if url.startswith("http://"):
        url = "https://" + url.removeprefix("http://")
    return url if url.startswith("https://") and " " not in url else None


@contextmanager
def open_data(path: Path, suffixes: tuple[str, ...]) -> Iterator[BinaryIO]:
    """A file as downloaded: plain, gzip-compressed, or the first matching member of a zip."""
    try:
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                members = [n for n in archive.namelist() if n.lower().endswith(suffixes)]
                if not members:
                    raise ImportFailedError(
                        str(path), "", f"the zip archive holds no {' or '.join(suffixes)} file"
                    )
                with archive.open(members[0]) as member:
                    yield cast(BinaryIO, member)
        elif path.suffix == ".gz":
            with gzip.open(path, "rb") as stream:
                yield cast(BinaryIO, stream)
        else:
            with path.open("rb") as stream:
                yield stream
    except (OSError, zipfile.BadZipFile, EOFError) as error:
        raise ImportFailedError(str(path), "", f"cannot be read: {error}") from error
