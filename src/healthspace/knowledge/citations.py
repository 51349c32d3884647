"""The shared shape of sourced, bilingual data: every catalog and content file uses these.

A data file has a top-level ``sources`` map (id → Source) and items that cite source ids, so a
source is written once and a schema test can check that every citation resolves.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field


class Frozen(BaseModel):
    """Immutable and strict: a typo in a data file is an error, not a silently ignored key."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Source(Frozen):
    """Where a fact comes from: a health authority or public-domain reference."""

    publisher: str = Field(min_length=1)
    title: str = Field(min_length=1)
    url: str = Field(pattern=r"^https://")
    reviewed: date


class Names(Frozen):
    """The same text in English and French; both are required."""

    en: str = Field(min_length=1)
    fr: str = Field(min_length=1)
