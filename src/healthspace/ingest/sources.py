"""Reading input files safely: size limits, gzip, binary detection, and which files to take.

Which files of a folder are taken is the formats registry's business (``formats``).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from healthspace.errors import ImportFailedError

GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class SourceFile:
    """A file's bytes (gunzipped) and the digest of what was on disk."""

    path: Path
    data: bytes
    digest: str


def _read_limited(path: Path, limit: int) -> bytes:
    """Whole file, decompressed when gzipped, refusing more than ``limit`` bytes."""
    display = str(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise ImportFailedError(display, "", "no such file") from exc
    except OSError as exc:
        raise ImportFailedError(display, "", f"cannot be read ({exc.strerror})") from exc
    if path.is_dir():
        raise ImportFailedError(display, "", "is a folder with no FHIR files")
    too_big = (
        f"is larger than the {limit // (1 << 20)} MB limit for one file; split it, or export it "
        "as NDJSON, or raise HEALTHSPACE_MAX_FILE_BYTES"
    )
    try:
        with path.open("rb") as handle:
            head = handle.read(2)
            handle.seek(0)
            if head != GZIP_MAGIC:
                if size > limit:
                    raise ImportFailedError(
                        display, "", f"is {size / (1 << 20):.0f} MB, {too_big.removeprefix('is ')}"
                    )
                return handle.read()
            return _gunzip_limited(handle, limit, display, too_big)
    except OSError as exc:
        raise ImportFailedError(display, "", f"cannot be read ({exc.strerror})") from exc


def _gunzip_limited(handle: BinaryIO, limit: int, display: str, too_big: str) -> bytes:
    parts: list[bytes] = []
    total = 0
    try:
        with gzip.GzipFile(fileobj=handle, mode="rb") as stream:
            while chunk := stream.read(_CHUNK):
                total += len(chunk)
                if total > limit:
                    raise ImportFailedError(display, "", f"unzips to more than that: {too_big}")
                parts.append(chunk)
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise ImportFailedError(
            display, "", f"is a damaged or truncated gzip file ({exc})"
        ) from exc
    return b"".join(parts)


def check_text(data: bytes, display: str) -> None:
    """Refuse binary content before the JSON parser gives a confusing message about it."""
    sample = data[:8192]
    if b"\x00" in sample:
        raise ImportFailedError(display, "", "is a binary file, not FHIR JSON text")
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the sample's end is fine; anything earlier is not.
        if exc.start < len(sample) - 4:
            raise ImportFailedError(
                display, f"byte {exc.start}", "is not UTF-8 text: FHIR JSON must be UTF-8"
            ) from exc


def read_source(path: Path, limit: int) -> SourceFile:
    data = _read_limited(path, limit)
    check_text(data, str(path))
    return SourceFile(path, data, hashlib.sha256(data).hexdigest())


def source_from_bytes(path: Path, data: bytes, limit: int) -> SourceFile:
    """The same checks as ``read_source`` for bytes received over HTTP."""
    display = str(path)
    too_big = f"is larger than the {limit // (1 << 20)} MB limit for one file"
    if data[:2] == GZIP_MAGIC:
        data = _gunzip_limited(io.BytesIO(data), limit, display, too_big)
    elif len(data) > limit:
        raise ImportFailedError(display, "", too_big)
    check_text(data, display)
    return SourceFile(path, data, hashlib.sha256(data).hexdigest())
