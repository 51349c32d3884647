"""Literature route: ``GET /api/v1/pubmed``, the same results as ``healthspace pubmed``."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from healthspace.bootstrap import Healthspace
from healthspace.clinician.literature import MAX_LIMIT, search_pubmed

router = APIRouter(tags=["literature"])


class ArticleOut(BaseModel):
    pmid: str
    title: str
    journal: str
    year: int | None
    abstract: str
    url: str


@router.get("/pubmed", response_model=list[ArticleOut])
def pubmed(
    request: Request,
    q: str = Query(..., min_length=1, max_length=1000, description="The words to search for."),
    limit: int = Query(10, ge=1, le=MAX_LIMIT),
) -> list[ArticleOut]:
    """PubMed articles for ``q`` (sent to NCBI as typed; nothing from the record is sent)."""
    hs: Healthspace = request.app.state.hs
    return [ArticleOut.model_validate(a.as_json()) for a in search_pubmed(hs.settings, q, limit)]
