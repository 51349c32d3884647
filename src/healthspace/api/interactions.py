"""Interaction route: ``GET /interactions?drug=a&drug=b&lang=fr``, the CLI's JSON over HTTP."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from healthspace.knowledge.interactions import check_names

router = APIRouter(tags=["knowledge"])


class DrugOut(BaseModel):
    input: str
    name: str
    atc: str | None


class SourceOut(BaseModel):
    publisher: str
    title: str
    url: str
    reviewed: date


class InteractionOut(BaseModel):
    drugs: list[str]
    severity: Literal["contraindicated", "major", "moderate", "minor"]
    effect: str
    advice: str
    sources: list[SourceOut]


class InteractionReportOut(BaseModel):
    drugs: list[DrugOut]
    unknown: list[str]
    interactions: list[InteractionOut]


@router.get("/interactions", response_model=InteractionReportOut)
def interactions(
    drug: Annotated[
        list[str],
        Query(min_length=1, description="A medicine name; repeat for each medicine."),
    ],
    lang: Literal["en", "fr"] = "en",
) -> dict[str, Any]:
    """Every interaction among every pair of the medicines named, most serious first."""
    return check_names(drug, lang).as_json()
