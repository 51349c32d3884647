"""Numbers in a report put in context: lab values against their usual adult range, sizes,
doses, blood pressures.

A number is explained only when a unit follows it: a lab value when a test's name comes just
before it on the same line and the unit is one the lab catalog knows for that test ("Hb 10,2
g/dL", "créatinine : 95 µmol/L"), compared with the catalog's sourced adult ranges; otherwise
the unit alone says what kind of number it is. Dates, counts ("x2") and bare numbers are left as
they are: guessing what they measure would add something the report does not say.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from healthspace.knowledge.citations import Source
from healthspace.knowledge.glossary import load_glossary
from healthspace.patient.report_data import (
    Lang,
    ReportPhrases,
    Unit,
    load_report_phrases,
)
from healthspace.terminology.labs import (
    LabCatalog,
    LabTest,
    Range,
    UnknownUnitError,
    canonical_unit,
    convert,
    find_lab,
    known_units,
    load_lab_catalog,
)


@dataclass(frozen=True)
class NumberInContext:
    """A number with its unit (``text`` is ``report[start:end]``) and what it means."""

    start: int
    end: int
    text: str
    context: str
    sources: tuple[Source, ...]


_VALUE = r"\d+(?:[.,]\d+)?"
# A value, or two or three joined by "/" (158/92) or "x" (12 x 8), but not "x10^9".
_NUMBER = re.compile(
    rf"(?<![\w.,/\-^*]){_VALUE}(?:(?:[ \t]?[x×][ \t]?(?!10[ \t]?[\^*])|/){_VALUE}){{0,2}}"
)
_DIMENSIONLESS = ("{INR}", "[pH]", "{ratio}")
# Words that may sit between a test's name and its value: "Hb à 10,2", "creatinine of 1.4".
_FILLERS = frozenset(
    {":", "=", "à", "a", "at", "of", "de", "d'", "is", "was", "est", "était", "level", "taux"}
)


@cache
def _unit_spellings() -> dict[str, Unit]:
    return {s: unit for unit in load_report_phrases().units for s in unit.spellings}


def _spelling_variants(unit: str) -> set[str]:
    """The ways a report may print a catalog unit: µ or u, L or l, ^ or *, with or without x."""
    forms = {unit}
    if unit.startswith("u") and len(unit) > 1:
        forms |= {"µ" + unit[1:], "μ" + unit[1:]}
    for form in list(forms):
        # Litres are written L or l; catalogs spell only some of the combinations.
        for upper, lower in (("/L", "/l"), ("dL", "dl"), ("mL", "ml")):
            forms |= {form.replace(upper, lower), form.replace(lower, upper)}
    for form in list(forms):
        if "10*" in form:
            caret = form.replace("10*", "10^")
            forms |= {caret, caret.replace("x10^", "x 10^"), caret.replace("x10^", "×10^")}
            if not form.startswith(("x", "×")):
                forms |= {"x" + form, "x" + caret, "×" + caret, "x " + caret}
    return {f for f in forms if not any(ch in f for ch in "[]{}")}


@cache
def _unit_pattern() -> re.Pattern[str]:
    catalog = load_lab_catalog()
    spellings: set[str] = set(_unit_spellings())
    for alias, code in catalog.unit_aliases.items():
        spellings |= _spelling_variants(alias) | _spelling_variants(code)
    for lab in catalog.labs:
        for unit in known_units(lab):
            spellings |= _spelling_variants(unit)
    ordered = sorted((s for s in spellings if s.strip()), key=len, reverse=True)
    alternation = "|".join(re.escape(s) for s in ordered)
    return re.compile(rf"[ \t\u00a0\u202f]?({alternation})(?![\w/µμ])")


def _lab_before(text: str, value_start: int, catalog: LabCatalog) -> LabTest | None:
    """The lab test named just before a value on the same line ("créatinine : 95")."""
    line_start = text.rfind("\n", 0, value_start) + 1
    window = text[max(line_start, value_start - 60) : value_start]
    cut = max(window.rfind(ch) for ch in ",;([")
    words = [word.strip(":=") for word in window[cut + 1 :].split()]
    words = [word for word in words if word]
    while words and words[-1].casefold() in _FILLERS:
        words.pop()
    for size in range(min(4, len(words)), 0, -1):
        lab = find_lab(" ".join(words[-size:]), catalog)
        if lab is not None:
            return lab
    return None


def _family(lab: LabTest, catalog: LabCatalog) -> list[LabTest]:
    """The same test in its other units: "Creatinine" and "Creatinine (molar)"."""
    base = _base_name(lab.name.en)
    others = [
        other
        for other in catalog.labs
        if other.code != lab.code
        and other.specimen == lab.specimen
        and _base_name(other.name.en) == base
    ]
    return [lab, *others]


def _base_name(name: str) -> str:
    return re.sub(r"\s*\([^)]*\)$", "", name).strip()


def _lab_for_unit(lab: LabTest, unit: str, catalog: LabCatalog) -> tuple[LabTest, bool] | None:
    """The member of ``lab``'s family that reports this unit, best with a sourced range:
    (lab, True) when the unit is its own, (lab, False) when it converts to it."""
    wanted = canonical_unit(unit, catalog).casefold()
    options: list[tuple[tuple[bool, bool, bool], LabTest, bool]] = []
    for rank, member in enumerate(_family(lab, catalog)):
        units = [u.casefold() for u in known_units(member)]
        if wanted not in units:
            continue
        direct = member.unit is not None and member.unit.casefold() == wanted
        options.append(((bool(member.ranges), direct, rank == 0), member, direct))
    if not options:
        return None
    _key, member, direct = max(options, key=lambda option: option[0])
    return member, direct


def _adult_ranges(lab: LabTest) -> list[Range]:
    """Ranges for adults of any age, by sex where the source splits them."""
    return [
        r for r in lab.ranges if (r.age_min or 0) <= 20 and (r.age_max is None or r.age_max > 20)
    ]


def _parse_value(text: str) -> float:
    return float(text.replace(",", "."))


def _format_number(value: float, lang: Lang) -> str:
    shown = f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"
    return shown.replace(".", ",") if lang == "fr" else shown


def _lab_context(
    lab: LabTest,
    direct: bool,
    written: str,
    value: float,
    unit: str,
    lang: Lang,
    catalog: LabCatalog,
    phrases: ReportPhrases,
) -> tuple[str, tuple[Source, ...]]:
    name = _base_name(getattr(lab.name, lang))
    ranges = _adult_ranges(lab)
    if not ranges:
        return (
            phrases.message(lang, "lab_no_range", name=name),
            tuple(catalog.sources[s] for s in lab.sources[:1]),
        )
    parts: list[str] = []
    previous = ""
    for index, item in enumerate(ranges):
        low, high, note = _range_in_unit(item, lab, direct, unit, catalog, phrases, lang)
        if low is not None and value < low:
            status = "below"
        elif high is not None and value > high:
            status = "above"
        else:
            status = "within"
        shown = _range_text(low, high, unit, lang, phrases) + (f"; {note}" if note else "")
        key = "lab_status" if index == 0 else "lab_status_more"
        if index and status == previous:
            key = "lab_status_same"
        previous = status
        parts.append(
            phrases.message(
                lang,
                key,
                name=name,
                value=written,
                status=phrases.message(lang, f"status_{status}"),
                population=_population(item, lang, phrases),
                range=shown,
            )
        )
    sources = tuple(dict.fromkeys(catalog.sources[r.source] for r in ranges))
    publishers = ", ".join(dict.fromkeys(s.publisher for s in sources))
    context = " ".join(parts) + ". " + phrases.message(lang, "lab_source", publisher=publishers)
    return context, sources


def _range_in_unit(
    item: Range,
    lab: LabTest,
    direct: bool,
    unit: str,
    catalog: LabCatalog,
    phrases: ReportPhrases,
    lang: Lang,
) -> tuple[float | None, float | None, str | None]:
    if direct:
        return item.low, item.high, None
    low = None if item.low is None else convert(item.low, item.unit, unit, lab, catalog)
    high = None if item.high is None else convert(item.high, item.unit, unit, lab, catalog)
    changed = (low, high) != (item.low, item.high)
    note = phrases.message(lang, "lab_converted", unit=item.unit) if changed else None
    return low, high, note


def _range_text(
    low: float | None, high: float | None, unit: str, lang: Lang, phrases: ReportPhrases
) -> str:
    if low is not None and high is not None:
        key = "range_both"
    else:
        key = "range_high" if high is not None else "range_low"
    text = phrases.message(
        lang,
        key,
        low=_format_number(low, lang) if low is not None else "",
        high=_format_number(high, lang) if high is not None else "",
        unit=unit,
    )
    return " ".join(text.split())


def _population(item: Range, lang: Lang, phrases: ReportPhrases) -> str:
    population = phrases.message(lang, f"population_{item.sex}")
    if item.age_max is not None:
        population = phrases.message(
            lang, "population_under", population=population, age=f"{item.age_max:g}"
        )
    return population


def _unit_context(
    unit: Unit, spelling: str, lang: Lang, phrases: ReportPhrases
) -> tuple[str, tuple[Source, ...]]:
    if unit.glossary is not None:
        glossary = load_glossary()
        term = glossary.term(unit.glossary)
        assert term is not None  # checked when the phrases were loaded
        plain = getattr(term.plain, lang)
        return (
            phrases.message(lang, "unit_glossary", unit=spelling, plain=plain),
            tuple(glossary.sources[s] for s in term.sources),
        )
    assert unit.source is not None  # a unit has a glossary term or a source (validated)
    unit_name = getattr(unit.names[spelling], lang)
    return (
        phrases.message(lang, f"unit_{unit.kind}", unit_name=unit_name),
        (phrases.sources[unit.source],),
    )


def find_numbers(text: str, lang: Lang) -> list[NumberInContext]:
    """Numbers with a unit, each put in context: a lab value against its usual adult range
    (with the range's source), a size, a dose, a blood pressure... Dates, counts ("x2") and
    numbers without a unit are left as they are."""
    phrases = load_report_phrases()
    units = _unit_spellings()
    pattern = _unit_pattern()
    found: list[NumberInContext] = []
    for number in _NUMBER.finditer(text):
        unit_match = pattern.match(text, number.end())
        spelling = unit_match.group(1) if unit_match else ""
        end = unit_match.end() if unit_match else number.end()
        value_text = number.group()
        single = re.fullmatch(_VALUE, value_text) is not None
        context: tuple[str, tuple[Source, ...]] | None = None
        if single:
            written = text[number.start() : end]
            context = _lab_value_context(text, number.start(), written, value_text, spelling, lang)
        if context is None and spelling in units:
            context = _unit_context(units[spelling], spelling, lang, phrases)
        if context is None:
            continue
        plain, sources = context
        found.append(
            NumberInContext(
                start=number.start(),
                end=end,
                text=text[number.start() : end],
                context=plain,
                sources=sources,
            )
        )
    return found


def _lab_value_context(
    text: str, start: int, written: str, value_text: str, unit: str, lang: Lang
) -> tuple[str, tuple[Source, ...]] | None:
    """A lab value against its usual adult range, when a test's name comes just before it."""
    catalog = load_lab_catalog()
    lab = _lab_before(text, start, catalog)
    if lab is None:
        return None
    value = _parse_value(value_text)
    if not unit:
        if lab.unit not in _DIMENSIONLESS:
            return None
        return _lab_context(lab, True, written, value, "", lang, catalog, load_report_phrases())
    chosen = _lab_for_unit(lab, unit, catalog)
    if chosen is None:
        return None
    member, direct = chosen
    try:
        return _lab_context(
            member, direct, written, value, unit, lang, catalog, load_report_phrases()
        )
    except UnknownUnitError:
        return None
