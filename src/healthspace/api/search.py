"""Knowledge search route: ``GET /api/v1/search``, the same results as ``healthspace search``."""

from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from healthspace.bootstrap import Healthspace
from healthspace.knowledge.documents import Kind
from healthspace.knowledge.search import search as search_knowledge

router = APIRouter(tags=["knowledge"])


class SourceOut(BaseModel):
    publisher: str
    title: str
    url: str
    reviewed: date


class SearchHitOut(BaseModel):
    id: str
    kind: Kind
    title: str
    snippet: str
    score: float
    sources: list[SourceOut]


@router.get("/search", response_model=list[SearchHitOut])
def search(
    request: Request,
    q: str = Query(..., min_length=1, max_length=1000, description="What to look for."),
    lang: Literal["en", "fr"] | None = Query(None, description="Language of titles, snippets."),
    limit: int = Query(10, ge=1, le=100),
    kind: Kind | None = Query(None, description="Only this kind of document."),
    mode: Literal["auto", "bm25", "hybrid"] = Query("auto"),
) -> list[SearchHitOut]:
    """Medicines, lab tests, codes, glossary and loaded corpora matching ``q``, best first."""
    hs: Healthspace = request.app.state.hs
    hits = search_knowledge(hs.settings.home, q, lang=lang, limit=limit, kind=kind, mode=mode)
    return [SearchHitOut.model_validate(hit.as_json()) for hit in hits]
