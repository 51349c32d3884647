"""The chat page (``ask``) and the symptom checker (``triage``), rendered on the server.

Handlers stay thin: they call the same ``ask`` and ``triage`` services as the CLI and the API,
and only arrange the answer for reading: the triage banner first, then the sentences with the
numbers of their sources and links to the record items behind them.

The conversation is kept nowhere but the page: a question can hold health details, so it is
never written to a cookie, a log or server memory. The page shows the latest exchange only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from babel import Locale
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from healthspace.bootstrap import Healthspace
from healthspace.errors import NotFoundError
from healthspace.knowledge.citations import Source
from healthspace.patient.ask import MAX_QUESTION_CHARS, Answer, QuestionTooLongError, ask
from healthspace.safety.triage import MAX_TEXT_CHARS, TriageResult, TriageTextTooLongError, triage
from healthspace.safety.triage_rules import load_triage_rules
from healthspace.web.identity import request_actor
from healthspace.web.language import Language
from healthspace.web.pages import PagePerson, person_for_page
from healthspace.web.rendering import page_language, render
from healthspace.web.timeline import entry

router = APIRouter(include_in_schema=False)

# The select's value for a country the rules do not list: the default numbers (112) and the
# reminder to use the local number. "ZZ" is the ISO 3166 code for an unknown country.
OTHER_COUNTRY = "ZZ"
# Common names that are not the ISO code the rules use.
_COUNTRY_ALIASES = {"UK": "GB"}
_EXAMPLES_GENERAL = ("chat.example.hba1c", "chat.example.metformin", "chat.example.hypertension")
_EXAMPLES_PERSON = ("chat.example.cholesterol", "chat.example.ibuprofen", "chat.example.hba1c")


# --------------------------------------------------------------------------- countries


def listed_countries() -> list[str]:
    """The countries whose numbers the triage rules know."""
    return [code for code in load_triage_rules().emergency_numbers if code != "default"]


def country_choices(lang: Language) -> list[tuple[str, str]]:
    """(code, name) of every listed country, by name in the reader's language."""
    names = Locale.parse(lang.locale).territories
    return sorted(((c, str(names.get(c, c))) for c in listed_countries()), key=lambda c: c[1])


def chosen_country(value: str | None) -> str | None:
    """A country from a form: a listed code, ``OTHER_COUNTRY``, or None (not chosen)."""
    code = (value or "").strip().upper()
    code = _COUNTRY_ALIASES.get(code, code)
    if not code:
        return None
    return code if code in listed_countries() else OTHER_COUNTRY


def default_country(request: Request, lang: Language) -> str:
    """The country a form starts on: the account's setting, else the page language's.

    English is spoken in too many countries to guess, so it starts on "another country" (112).
    """
    account = getattr(request.state, "account", None)
    preferred = chosen_country(getattr(account, "country", None))
    if preferred is not None:
        return preferred
    return "FR" if lang.code == "fr" else OTHER_COUNTRY


# --------------------------------------------------------------------------- the exchange


@dataclass(frozen=True)
class RecordLink:
    """A record item an answer cites, with the page that shows it (None if it is gone)."""

    ref: str
    label: str
    date: str | None
    href: str | None


@dataclass(frozen=True)
class ShownSentence:
    text: str
    citations: tuple[int, ...]  # numbers in the list of sources, from 1
    records: tuple[RecordLink, ...]


@dataclass(frozen=True)
class Exchange:
    """One question and its answer, arranged for reading."""

    question: str
    triage: TriageResult | None
    understood: str
    sentences: tuple[ShownSentence, ...]
    citations: tuple[Source, ...]
    records: tuple[RecordLink, ...]
    ungrounded: bool
    engine: str


def arrange_answer(
    question: str, answer: Answer, records: dict[str, RecordLink] | None = None
) -> Exchange:
    """The answer as the page reads it: triage apart (the banner shows it), sources numbered.

    Triage sentences are left out of the body since the banner above holds the same advice,
    and so is an orientation sentence that only repeats it.
    """
    records = records or {}
    citations = tuple(answer.citations)
    number = {source: index + 1 for index, source in enumerate(citations)}
    advice = answer.triage.advice if answer.triage is not None else None
    shown = tuple(
        ShownSentence(
            s.text,
            tuple(number[source] for source in s.sources),
            tuple(records.get(ref) or _unlinked(ref) for ref in s.records),
        )
        for s in answer.sentences
        if s.kind != "triage" and not (s.kind == "orientation" and s.text == advice)
    )
    urgent = answer.triage is not None and answer.triage.level in ("emergency", "urgent")
    said_elsewhere = urgent or answer.declined is not None or "memory" in answer.intents
    return Exchange(
        question=question,
        triage=answer.triage,
        understood=answer.understood,
        sentences=shown,
        citations=citations,
        records=tuple(records.get(ref) or _unlinked(ref) for ref in answer.record_refs),
        ungrounded=not answer.grounded and not said_elsewhere,
        engine=answer.engine.as_json(answer.lang)["name"],
    )


def _unlinked(ref: str) -> RecordLink:
    return RecordLink(ref, ref, None, None)


def record_links(
    request: Request, person: PagePerson, refs: Sequence[str]
) -> dict[str, RecordLink]:
    """Each cited record item with its name, date and page (each read is audited)."""
    hs: Healthspace = request.app.state.hs
    language = page_language(request)
    links: dict[str, RecordLink] = {}
    for ref in refs:
        resource_type, _, fhir_id = ref.partition("/")
        if not fhir_id or "/" in fhir_id:
            continue
        try:
            resource = hs.vault.resource(request_actor(request), person.id, resource_type, fhir_id)
        except NotFoundError:
            continue
        item = entry(resource)
        href = request.app.url_path_for(
            "resource_page", person_id=person.id, resource_type=resource_type, fhir_id=fhir_id
        )
        label = item.label or language.resource_type(resource_type)
        links[ref] = RecordLink(ref, label, item.date, str(href))
    return links


# --------------------------------------------------------------------------- chat routes


def _chat(
    request: Request,
    person: PagePerson | None,
    exchange: Exchange | None = None,
    question: str = "",
    country: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    language = page_language(request)
    if person is None:
        action = request.app.url_path_for("ask_answer")
        country = country or default_country(request, language)
    else:
        action = request.app.url_path_for("person_ask_answer", person_id=person.id)
    context: dict[str, Any] = {
        "person": person,
        "exchange": exchange,
        "question": question,
        "country": country or "",
        "countries": country_choices(language),
        "other_country": OTHER_COUNTRY,
        "examples": _EXAMPLES_PERSON if person else _EXAMPLES_GENERAL,
        "action": str(action),
        "error": error,
        "max_chars": MAX_QUESTION_CHARS,
    }
    return render(request, "chat.html", context, status_code)


def _answer(
    request: Request, person: PagePerson | None, question: str, example: str, country: str
) -> HTMLResponse:
    language = page_language(request)
    text = (example or question).strip()
    chosen = chosen_country(country)
    if not text:
        error = language.text("chat.error.empty")
        return _chat(request, person, None, "", chosen, error, 422)
    hs: Healthspace = request.app.state.hs
    lang: Literal["en", "fr"] = "fr" if language.code == "fr" else "en"
    try:
        answer = ask(hs, request_actor(request), text, person.id if person else None, lang, chosen)
    except QuestionTooLongError:
        error = language.text("chat.error.too_long", n=language.number(MAX_QUESTION_CHARS))
        return _chat(request, person, None, text, chosen, error, 422)
    links = record_links(request, person, answer.record_refs) if person else {}
    return _chat(request, person, arrange_answer(text, answer, links), "", chosen)


QuestionField = Annotated[str, Form()]


@router.get("/ask", response_class=HTMLResponse, name="ask_page")
def ask_page(request: Request) -> HTMLResponse:
    """Ask a health question with no record: answers from the sourced knowledge only."""
    return _chat(request, None)


@router.post("/ask", response_class=HTMLResponse, name="ask_answer")
def ask_answer(
    request: Request,
    question: QuestionField = "",
    example: QuestionField = "",
    country: QuestionField = "",
) -> HTMLResponse:
    """The answer to a question from the form, shown above the form."""
    return _answer(request, None, question, example, country)


@router.get("/persons/{person_id}/ask", response_class=HTMLResponse, name="person_ask_page")
def person_ask_page(request: Request, person_id: str) -> HTMLResponse:
    """Ask about a person's record: answers cite the knowledge and the record items."""
    return _chat(request, person_for_page(request, person_id))


@router.post("/persons/{person_id}/ask", response_class=HTMLResponse, name="person_ask_answer")
def person_ask_answer(
    request: Request,
    person_id: str,
    question: QuestionField = "",
    example: QuestionField = "",
    country: QuestionField = "",
) -> HTMLResponse:
    """The answer from the knowledge and the person's record, shown above the form."""
    person = person_for_page(request, person_id)
    return _answer(request, person, question, example, country)


# --------------------------------------------------------------------------- triage routes


def _triage(
    request: Request,
    result: TriageResult | None = None,
    text: str = "",
    country: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    language = page_language(request)
    context: dict[str, Any] = {
        "result": result,
        "text": text,
        "country": country or default_country(request, language),
        "countries": country_choices(language),
        "other_country": OTHER_COUNTRY,
        "error": error,
        "max_chars": MAX_TEXT_CHARS,
    }
    return render(request, "triage.html", context, status_code)


@router.get("/triage", response_class=HTMLResponse, name="triage_page")
def triage_page(request: Request) -> HTMLResponse:
    """The symptom checker: how urgent it is, the warning signs, and whom to call."""
    return _triage(request)


@router.post("/triage", response_class=HTMLResponse, name="triage_answer")
def triage_answer(
    request: Request, symptoms: QuestionField = "", country: QuestionField = ""
) -> HTMLResponse:
    """The orientation for the symptoms of the form, banner first, the form below."""
    language = page_language(request)
    text = symptoms.strip()
    chosen = chosen_country(country)
    if not text:
        return _triage(request, None, "", chosen, language.text("chat.error.no_symptoms"), 422)
    lang: Literal["en", "fr"] = "fr" if language.code == "fr" else "en"
    try:
        result = triage(text, lang, chosen)
    except TriageTextTooLongError:
        error = language.text("chat.error.too_long", n=language.number(MAX_TEXT_CHARS))
        return _triage(request, None, text, chosen, error, 422)
    return _triage(request, result, text, chosen)
