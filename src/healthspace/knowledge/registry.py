"""The one place where content modules register the documents they offer to search.

Adding a kind of content is one provider function plus one line here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from healthspace.knowledge.documents import SearchDocument

DocumentProvider = Callable[[], Iterable[SearchDocument]]

DOCUMENT_PROVIDERS: dict[str, DocumentProvider] = {}


def register(name: str, provider: DocumentProvider) -> None:
    DOCUMENT_PROVIDERS[name] = provider


def all_documents() -> list[SearchDocument]:
    """Every registered provider's documents, in registration order."""
    _load_builtin_providers()
    return [doc for provider in DOCUMENT_PROVIDERS.values() for doc in provider()]


def _load_builtin_providers() -> None:
    # Built-in content registers through the same path as any plug-in (see STYLE.md §6).
    # Imported here, not at the top: content modules import this one to get ``register``.
    from healthspace.knowledge import conditions, glossary, lab_content, medicine_content, providers
    from healthspace.terminology import icd10cm

    register("labs", providers.lab_documents)
    register("medicines", providers.medicine_documents)
    register("medicine_content", medicine_content.documents)
    register("lab_content", lab_content.documents)
    register("glossary", glossary.documents)
    register("conditions", conditions.documents)
    register("icd10cm", icd10cm.documents)
