"""``POST /ask``: the CLI's ``ask`` answer over HTTP, from the same service function."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from healthspace.api.records import _hs
from healthspace.patient.ask import MAX_QUESTION_CHARS, ask
from healthspace.web.identity import request_actor

router = APIRouter(tags=["ask"])


class AskRequest(BaseModel):
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    person: str | None = Field(default=None, description="Answer from this person's record too.")
    lang: Literal["en", "fr"] | None = Field(
        default=None, description="Language of the answer; guessed from the question if absent."
    )
    country: str | None = Field(
        default=None, pattern=r"^[A-Za-z]{2}$", description="Country for emergency numbers."
    )


class CitationOut(BaseModel):
    title: str
    publisher: str
    url: str


class SupportOut(BaseModel):
    citations: list[int]
    record_refs: list[str]


class SentenceOut(BaseModel):
    text: str
    kind: Literal["triage", "knowledge", "record", "memory", "service", "orientation"]
    support: SupportOut


class EngineOut(BaseModel):
    id: str = Field(description="Which engine wrote the answer: 'offline' is the offline composer.")
    name: str = Field(description="The engine's name, in the answer's language.")


class AnswerOut(BaseModel):
    answer: str
    citations: list[CitationOut]
    record_refs: list[str]
    triage: dict[str, Any] | None
    grounded: bool
    understood: str
    sentences: list[SentenceOut]
    declined: Literal["diagnosis", "dose_change", "prescription"] | None
    intents: list[str]
    lang: Literal["en", "fr"]
    person: str | None
    engine: Literal["offline"]
    engine_info: EngineOut


@router.post("/ask", response_model=AnswerOut)
def ask_post(request: Request, body: AskRequest) -> dict[str, Any]:
    """A question answered with sources and record references; red flags first."""
    hs = _hs(request)
    answer = ask(hs, request_actor(request), body.question, body.person, body.lang, body.country)
    return answer.as_json()
