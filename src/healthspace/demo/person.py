"""A deterministic, fictitious patient record as a FHIR R4 collection Bundle.

Why: the demo server, the tests and the benchmarks need a record that looks like a real one
(years of visits, lab trends, out-of-range and critical values, stopped medicines, French
units) without ever touching a real person's data. Everything derives from the seed: the same
seed gives a byte-identical bundle, so tests can pin values and benchmarks compare like with like.

The story, scaled to the ``years`` before ``end``: a French woman born in 1962, known
hypertensive from the first visit (ramipril), high LDL treated with atorvastatin, an acute
bronchitis that resolves, type 2 diabetes whose HbA1c climbs to 8.2 % before metformin brings it
back to about 6.8 %, a hospital stay for hyperkalaemia (potassium 6.3 mmol/L, the only critical
value) after which ramipril is stopped and amlodipine started, and a slow fall of eGFR from about
85 to the mid-50s that ends in a CKD stage 3a diagnosis.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from healthspace.collector import collector_paused

__all__ = ["build_demo_bundle", "build_large_bundle"]

Resource = dict[str, Any]
Reference = dict[str, str]
# Builders take ids and make a fresh Reference at each use: no dict is shared by two resources.
ResourceId = str

DEFAULT_END = dt.date(2026, 10, 1)
DEMO_SYSTEM = "urn:healthspace:demo"

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
CVX = "http://hl7.org/fhir/sid/cvx"
UCUM = "http://unitsofmeasure.org"
_TERMINOLOGY = "http://terminology.hl7.org/CodeSystem/"
OBSERVATION_CATEGORY = _TERMINOLOGY + "observation-category"
INTERPRETATION = _TERMINOLOGY + "v3-ObservationInterpretation"
CONDITION_CLINICAL = _TERMINOLOGY + "condition-clinical"
CONDITION_VERIFICATION = _TERMINOLOGY + "condition-ver-status"
CONDITION_CATEGORY = _TERMINOLOGY + "condition-category"
ACT_CODE = _TERMINOLOGY + "v3-ActCode"
PARTICIPATION_TYPE = _TERMINOLOGY + "v3-ParticipationType"

# Where each event of the story falls, as a fraction of the record's span.
STATIN_AT = 0.12
BRONCHITIS_AT = 0.27
TETANUS_AT = 0.30
METFORMIN_AT = 0.45
HOSPITAL_AT = 0.60

BIRTH_YEAR = 1962
MIN_YEARS = 2


# --- codes and lab definitions -------------------------------------------------------------


@dataclass(frozen=True)
class Code:
    """One coding of a code system."""

    system: str
    code: str
    display: str

    def coding(self) -> dict[str, str]:
        return {"system": self.system, "code": self.code, "display": self.display}


def concept(*codes: Code, text: str | None = None) -> dict[str, Any]:
    """A CodeableConcept; ``text`` is the wording a French record would print."""
    result: dict[str, Any] = {"coding": [code.coding() for code in codes]}  # fresh each call
    if text:
        result["text"] = text
    return result


@dataclass(frozen=True)
class LabTest:
    """A laboratory test as the demo lab reports it: LOINC code, UCUM unit and its limits."""

    loinc: str
    unit: str
    low: float | None
    high: float | None
    decimals: int
    label_fr: str
    display: str
    critical_low: float | None = None
    critical_high: float | None = None


# Reference ranges as a typical lab prints them for an adult woman. Only potassium carries
# critical limits, so the story's single critical value is the only one a reader can find.
# fmt: off
LAB_TESTS: dict[str, LabTest] = {
    "hba1c": LabTest("4548-4", "%", 4.0, 5.6, 1, "Hémoglobine glyquée (HbA1c)",
                     "Hemoglobin A1c/Hemoglobin.total in Blood"),
    "glucose": LabTest("1558-6", "mg/dL", 70, 99, 0, "Glycémie à jeun",
                       "Fasting glucose [Mass/volume] in Serum or Plasma"),
    "cholesterol": LabTest("2093-3", "mg/dL", 100, 199, 0, "Cholestérol total",
                           "Cholesterol [Mass/volume] in Serum or Plasma"),
    "ldl": LabTest("13457-7", "mg/dL", 0, 99, 0, "LDL-cholestérol (calculé)",
                   "Cholesterol in LDL [Mass/volume] in Serum or Plasma by calculation"),
    "hdl": LabTest("2085-9", "mg/dL", 40, None, 0, "HDL-cholestérol",
                   "Cholesterol in HDL [Mass/volume] in Serum or Plasma"),
    "triglycerides": LabTest("2571-8", "mg/dL", 0, 149, 0, "Triglycérides",
                             "Triglyceride [Mass/volume] in Serum or Plasma"),
    "creatinine": LabTest("2160-0", "mg/dL", 0.57, 1.00, 2, "Créatinine",
                          "Creatinine [Mass/volume] in Serum or Plasma"),
    "egfr": LabTest("33914-3", "mL/min/{1.73_m2}", 60, None, 0, "DFG estimé (MDRD)",
                    "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum "
                    "or Plasma by Creatinine-based formula (MDRD)"),
    "potassium": LabTest("2823-3", "mmol/L", 3.5, 5.1, 1, "Potassium",
                         "Potassium [Moles/volume] in Serum or Plasma",
                         critical_low=2.8, critical_high=6.0),
    "sodium": LabTest("2951-2", "mmol/L", 136, 145, 0, "Sodium",
                      "Sodium [Moles/volume] in Serum or Plasma"),
    "alt": LabTest("1742-6", "U/L", 0, 32, 0, "ALAT",
                   "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma"),
    "ast": LabTest("1920-8", "U/L", 0, 40, 0, "ASAT",
                   "Aspartate aminotransferase [Enzymatic activity/volume] in Serum or Plasma"),
    "tsh": LabTest("3016-3", "m[IU]/L", 0.45, 4.5, 2, "TSH",
                   "Thyrotropin [Units/volume] in Serum or Plasma"),
    "hemoglobin": LabTest("718-7", "g/dL", 11.1, 15.9, 1, "Hémoglobine",
                          "Hemoglobin [Mass/volume] in Blood"),
    "leukocytes": LabTest("6690-2", "10*3/uL", 3.4, 10.8, 1, "Leucocytes",
                          "Leukocytes [#/volume] in Blood by Automated count"),
    "platelets": LabTest("777-3", "10*3/uL", 150, 450, 0, "Plaquettes",
                         "Platelets [#/volume] in Blood by Automated count"),
    "uacr": LabTest("9318-7", "mg/g", 0, 29, 0, "Rapport albuminurie/créatininurie",
                    "Albumin/Creatinine [Mass Ratio] in Urine"),
}

# Fasting glucose as French labs print it: g/L, normal below 1.10 g/L (the French threshold,
# where US labs use 100 mg/dL). Same LOINC code: the property is still a mass concentration.
GLUCOSE_FRENCH = LabTest("1558-6", "g/L", 0.70, 1.10, 2, "Glycémie à jeun",
                         "Fasting glucose [Mass/volume] in Serum or Plasma")
# fmt: on


@dataclass(frozen=True)
class LabPanel:
    """A LOINC panel: one DiagnosticReport grouping its member results."""

    code: Code
    label_fr: str
    members: tuple[str, ...]


# fmt: off
PANELS: dict[str, LabPanel] = {
    "hba1c": LabPanel(Code(LOINC, "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood"),
                      "Hémoglobine glyquée", ("hba1c",)),
    "bmp": LabPanel(Code(LOINC, "51990-0", "Basic metabolic panel - Blood"),
                    "Ionogramme, glycémie et fonction rénale",
                    ("glucose", "creatinine", "egfr", "potassium", "sodium")),
    "lipids": LabPanel(Code(LOINC, "24331-1", "Lipid 1996 panel - Serum or Plasma"),
                       "Bilan lipidique", ("cholesterol", "ldl", "hdl", "triglycerides")),
    "hepatic": LabPanel(Code(LOINC, "24325-3", "Hepatic function 2000 panel - Serum or Plasma"),
                        "Bilan hépatique", ("alt", "ast")),
    "cbc": LabPanel(Code(LOINC, "58410-2", "CBC panel - Blood by Automated count"),
                    "Numération formule sanguine", ("hemoglobin", "leukocytes", "platelets")),
    "uacr": LabPanel(Code(LOINC, "9318-7", "Albumin/Creatinine [Mass Ratio] in Urine"),
                     "Microalbuminurie", ("uacr",)),
    "tsh": LabPanel(Code(LOINC, "3016-3", "Thyrotropin [Units/volume] in Serum or Plasma"),
                    "TSH", ("tsh",)),
}
# fmt: on
ROUTINE_PANELS = ("hba1c", "bmp", "lipids", "hepatic", "cbc", "uacr")

INTERPRETATIONS = {
    "N": "Normal",
    "H": "High",
    "L": "Low",
    "HH": "Critical high",
    "LL": "Critical low",
}


@dataclass(frozen=True)
class Diagnosis:
    """A condition coded in both SNOMED CT and ICD-10-CM."""

    snomed: Code
    icd10: Code
    label_fr: str

    def code(self) -> dict[str, Any]:
        return concept(self.snomed, self.icd10, text=self.label_fr)


def _diagnosis(sct: str, sct_display: str, icd: str, icd_display: str, fr: str) -> Diagnosis:
    return Diagnosis(Code(SNOMED, sct, sct_display), Code(ICD10CM, icd, icd_display), fr)


# fmt: off
HYPERTENSION = _diagnosis("59621000", "Essential hypertension",
                          "I10", "Essential (primary) hypertension",
                          "Hypertension artérielle essentielle")
HYPERCHOLESTEROLAEMIA = _diagnosis("13644009", "Hypercholesterolemia",
                                   "E78.00", "Pure hypercholesterolemia, unspecified",
                                   "Hypercholestérolémie")
TYPE_2_DIABETES = _diagnosis("44054006", "Diabetes mellitus type 2",
                             "E11.9", "Type 2 diabetes mellitus without complications",
                             "Diabète de type 2")
ACUTE_BRONCHITIS = _diagnosis("10509002", "Acute bronchitis",
                              "J20.9", "Acute bronchitis, unspecified",
                              "Bronchite aiguë")
HYPERKALAEMIA = _diagnosis("14140009", "Hyperkalemia",
                           "E87.5", "Hyperkalemia",
                           "Hyperkaliémie")
CKD_STAGE_3A = _diagnosis("700378005", "Chronic kidney disease stage 3A",
                          "N18.31", "Chronic kidney disease, stage 3a",
                          "Maladie rénale chronique stade 3A")
# fmt: on


@dataclass(frozen=True)
class Medicine:
    """A prescribed product: RxNorm ingredient, French label and the usual instruction."""

    rxnorm: Code
    label_fr: str
    instruction_fr: str
    per_day: int
    dose_form: Code


TABLET = Code(_TERMINOLOGY + "v3-orderableDrugForm", "TAB", "Tablet")
CAPSULE = Code(_TERMINOLOGY + "v3-orderableDrugForm", "CAP", "Capsule")
ORAL_ROUTE = Code(SNOMED, "26643006", "Oral route")

# RxNorm ingredient (IN) codes: a French product has no RxNorm clinical drug of its own.
# fmt: off
RAMIPRIL = Medicine(Code(RXNORM, "35296", "ramipril"), "Ramipril 5 mg, gélule",
                    "1 gélule le matin", 1, CAPSULE)
ATORVASTATIN = Medicine(Code(RXNORM, "83367", "atorvastatin"), "Atorvastatine 20 mg, comprimé",
                        "1 comprimé le soir", 1, TABLET)
METFORMIN = Medicine(Code(RXNORM, "6809", "metformin"), "Metformine 500 mg, comprimé",
                     "1 comprimé matin et soir, au milieu des repas", 2, TABLET)
AMLODIPINE = Medicine(Code(RXNORM, "17767", "amlodipine"), "Amlodipine 5 mg, comprimé",
                      "1 comprimé le matin", 1, TABLET)
PARACETAMOL = Code(RXNORM, "161", "acetaminophen")

INFLUENZA_QUADRIVALENT = Code(CVX, "150", "Influenza, injectable, quadrivalent, preservative free")
INFLUENZA_TRIVALENT = Code(CVX, "140", "Influenza, seasonal, injectable, preservative free")
TETANUS_DIPHTHERIA = Code(CVX, "113", "Td (adult) preservative free")
COVID_MRNA = Code(CVX, "208", "SARS-COV-2 (COVID-19) vaccine, mRNA, spike protein, LNP, "
                              "preservative free, 30 mcg/0.3mL dose")
COVID_BIVALENT = Code(CVX, "300", "SARS-COV-2 (COVID-19) vaccine, mRNA, bivalent, original and "
                                  "omicron BA.4/BA.5")
COVID_UNSPECIFIED = Code(CVX, "213", "SARS-COV-2 (COVID-19) vaccine, UNSPECIFIED FORMULATION")
# fmt: on

# France's campaigns: primary series and booster in 2021, then one autumn dose a year.
COVID_CAMPAIGN: tuple[tuple[dt.date, Code], ...] = (
    (dt.date(2021, 4, 12), COVID_MRNA),
    (dt.date(2021, 5, 17), COVID_MRNA),
    (dt.date(2021, 11, 22), COVID_MRNA),
    (dt.date(2022, 10, 17), COVID_BIVALENT),
    (dt.date(2023, 10, 16), COVID_UNSPECIFIED),
    (dt.date(2024, 10, 21), COVID_UNSPECIFIED),
    (dt.date(2025, 10, 20), COVID_UNSPECIFIED),
)


# --- time ----------------------------------------------------------------------------------


@functools.cache
def _summer_time(year: int) -> tuple[dt.date, dt.date]:
    """First and last-plus-one day of French summer time: last Sundays of March and October."""
    march, october = dt.date(year, 3, 31), dt.date(year, 10, 31)
    return (
        march - dt.timedelta(days=(march.weekday() + 1) % 7),
        october - dt.timedelta(days=(october.weekday() + 1) % 7),
    )


@functools.lru_cache(maxsize=4096)
def paris_offset(day: dt.date) -> str:
    """UTC offset of French local time on ``day``."""
    first, last = _summer_time(day.year)
    return "+02:00" if first <= day < last else "+01:00"


@functools.lru_cache(maxsize=4096)
def fhir_datetime(moment: dt.datetime) -> str:
    """A FHIR dateTime (also a valid instant) in French local time with its offset."""
    return moment.isoformat(timespec="seconds") + paris_offset(moment.date())


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _fraction(start: dt.date, end: dt.date, at: float) -> dt.date:
    return start + dt.timedelta(days=round((end - start).days * at))


def _not_sunday(day: dt.date) -> dt.date:
    """Practices and labs are closed on Sunday; move to the Saturday before."""
    return day - dt.timedelta(days=1) if day.weekday() == 6 else day


def _time_of_day(rng: random.Random, day: dt.date, earliest: str, latest: str) -> dt.datetime:
    """A moment on ``day`` between two "HH:MM" times, on a five-minute grid."""
    first = int(earliest[:2]) * 60 + int(earliest[3:])
    last = int(latest[:2]) * 60 + int(latest[3:])
    minutes = rng.randrange(first, last + 1, 5)
    return dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60))


def _interpolate(knots: Sequence[tuple[dt.datetime, float]], moment: dt.datetime) -> float:
    """Piecewise-linear curve through (moment, value) knots, flat outside them."""
    if moment <= knots[0][0]:
        return knots[0][1]
    for (t0, v0), (t1, v1) in itertools.pairwise(knots):
        if moment <= t1:
            share = (moment - t0) / (t1 - t0) if t1 > t0 else 1.0
            return v0 + (v1 - v0) * share
    return knots[-1][1]


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time())


# --- the schedule of care ------------------------------------------------------------------


@dataclass(frozen=True)
class Visit:
    """A routine GP visit and the fasting blood draw that prepares it."""

    at: dt.datetime
    draw_at: dt.datetime


@dataclass(frozen=True)
class Stay:
    """The hospital stay: a control draw finds potassium 6.3, admission the same day."""

    alert_draw_at: dt.datetime
    admitted_at: dt.datetime
    discharged_at: dt.datetime
    ward_draws: tuple[dt.datetime, ...]

    def overlaps(self, day: dt.date) -> bool:
        first = self.alert_draw_at.date() - dt.timedelta(days=1)
        last = self.discharged_at.date() + dt.timedelta(days=1)
        return first <= day <= last


@dataclass(frozen=True)
class Schedule:
    """When each encounter and each draw happens; values are decided later."""

    start: dt.date
    end: dt.date
    visits: tuple[Visit, ...]
    acute_at: dt.datetime
    stay: Stay
    cardiology: tuple[dt.datetime, ...]
    statin_visit: int
    metformin_visit: int


def _quarterly_days(rng: random.Random, start: dt.date, end: dt.date) -> list[dt.date]:
    """GP visits every three to four months, as for a stable chronic patient."""
    days = []
    day = start + dt.timedelta(days=rng.randint(10, 30))
    while day <= end - dt.timedelta(days=5):
        days.append(_not_sunday(day))
        day += dt.timedelta(days=rng.randint(91, 122))
    return days


def _spread_days(rng: random.Random, start: dt.date, end: dt.date, count: int) -> list[dt.date]:
    """``count`` visits spread evenly over the span, for records scaled to a target size."""
    first = start + dt.timedelta(days=10)
    gap = ((end - dt.timedelta(days=5)) - first).days / count
    return [
        _not_sunday(first + dt.timedelta(days=int((i + rng.uniform(0.25, 0.75)) * gap)))
        for i in range(count)
    ]


def _plan_stay(rng: random.Random, start: dt.date, end: dt.date) -> Stay:
    alert_day = _not_sunday(_fraction(start, end, HOSPITAL_AT) + dt.timedelta(rng.randint(-10, 10)))
    discharge_day = alert_day + dt.timedelta(days=2)
    return Stay(
        alert_draw_at=_time_of_day(rng, alert_day, "07:30", "08:30"),
        admitted_at=_time_of_day(rng, alert_day, "14:00", "16:00"),
        discharged_at=_time_of_day(rng, discharge_day, "10:30", "12:00"),
        ward_draws=tuple(
            _time_of_day(rng, alert_day + dt.timedelta(days=n), "06:00", "06:45") for n in (1, 2)
        ),
    )


def _first_visit_from(visits: Sequence[Visit], day: dt.date, minimum: int = 0) -> int:
    for index, visit in enumerate(visits):
        if index >= minimum and visit.at.date() >= day:
            return index
    return len(visits) - 1


def _nearest_visit(visits: Sequence[Visit], day: dt.date, minimum: int = 0) -> int:
    return min(range(minimum, len(visits)), key=lambda index: abs(visits[index].at.date() - day))


def plan_schedule(
    rng: random.Random, start: dt.date, end: dt.date, routine_visits: int | None
) -> Schedule:
    """Place every encounter in time; ``routine_visits`` overrides the quarterly rhythm."""
    if routine_visits is None:
        days = _quarterly_days(rng, start, end)
    else:
        days = _spread_days(rng, start, end, routine_visits)
    dense = len(days) > 1 and (days[-1] - days[0]).days / (len(days) - 1) < 14
    stay = _plan_stay(rng, start, end)
    visits = []
    for day in days:
        draw_day = day if dense else _not_sunday(day - dt.timedelta(days=rng.randint(2, 6)))
        if stay.overlaps(day) or stay.overlaps(draw_day):  # postponed until after the stay
            day = _not_sunday(stay.discharged_at.date() + dt.timedelta(days=8))
            draw_day = day if dense else _not_sunday(day - dt.timedelta(days=4))
        at = _time_of_day(rng, day, "08:30", "17:30")
        # A visit every few days (large records): the draw is the same morning.
        draw_at = _time_of_day(rng, draw_day, "07:30", "08:15" if dense else "09:00")
        visits.append(Visit(at, draw_at))
    visits.sort(key=lambda visit: visit.at)
    acute_day = _not_sunday(
        _fraction(start, end, BRONCHITIS_AT) + dt.timedelta(rng.randint(-10, 10))
    )
    cardiology = []
    for year in range((end - start).days // 365):
        day = _not_sunday(start + dt.timedelta(days=365 * year + rng.randint(150, 250)))
        if stay.overlaps(day):  # the appointment is postponed by a week
            day += dt.timedelta(days=7)
        if day < end:
            cardiology.append(_time_of_day(rng, day, "09:00", "17:00"))
    statin_visit = _first_visit_from(visits, _fraction(start, end, STATIN_AT), minimum=1)
    return Schedule(
        start=start,
        end=end,
        visits=tuple(visits),
        acute_at=_time_of_day(rng, acute_day, "09:00", "18:00"),
        stay=stay,
        cardiology=tuple(cardiology),
        statin_visit=statin_visit,
        # Nearest rather than first after: the stay may have taken the visit after it.
        metformin_visit=_nearest_visit(visits, _fraction(start, end, METFORMIN_AT), minimum=2),
    )


# --- lab values ----------------------------------------------------------------------------


@dataclass
class Draw:
    """One blood (and urine) sample and the results the lab reported for it."""

    at: dt.datetime
    panels: tuple[str, ...]
    setting: str  # "routine", "control" (outpatient, unscheduled) or "ward"
    visit: int | None = None
    values: dict[str, float] = field(default_factory=dict)
    french_glucose: bool = False


def mdrd_egfr(creatinine: float, age: float) -> float:
    """IDMS-traceable MDRD study equation for a woman (LOINC 33914-3 names this method)."""
    return 175.0 * creatinine**-1.154 * age**-0.203 * 0.742


def creatinine_for_egfr(egfr: float, age: float) -> float:
    """The serum creatinine (mg/dL) that the MDRD equation turns into ``egfr``."""
    return (egfr / (175.0 * age**-0.203 * 0.742)) ** (-1 / 1.154)


@dataclass(frozen=True)
class Story:
    """The curves the results follow, anchored on the schedule's events."""

    birth_date: dt.date
    start: dt.datetime
    end: dt.datetime
    ramipril_from: dt.datetime
    statin_from: dt.datetime
    peak_draw: dt.datetime
    peak_visit: int
    stay: Stay

    def share(self, moment: dt.datetime) -> float:
        return (moment - self.start) / (self.end - self.start)

    def age(self, moment: dt.datetime) -> float:
        return (moment.date() - self.birth_date).days / 365.25

    def hba1c(self, moment: dt.datetime) -> float:
        rise = self.start + (self.peak_draw - self.start) * 0.6
        settled = self.peak_draw + dt.timedelta(days=180)
        knots = [
            (self.start, 5.9),
            (rise, 6.3),
            (self.peak_draw, 8.2),
            (settled, 6.9),
            (max(self.end, settled + dt.timedelta(days=1)), 6.8),
        ]
        return _interpolate(knots, moment)

    def egfr_target(self, moment: dt.datetime) -> float:
        knots = [
            (self.start, 86.0),
            (self._at(0.6), 71.0),
            (self._at(0.75), 59.0),
            (self.end, 56.0),
        ]
        return _interpolate(knots, moment)

    def uacr(self, moment: dt.datetime) -> float:
        return _interpolate([(self.start, 11.0), (self._at(0.6), 22.0), (self.end, 46.0)], moment)

    def statin_effect(self, moment: dt.datetime) -> float:
        """0 before atorvastatin, 1 six weeks after it started (full LDL lowering)."""
        return min(max((moment - self.statin_from) / dt.timedelta(days=42), 0.0), 1.0)

    def _at(self, share: float) -> dt.datetime:
        return self.start + (self.end - self.start) * share


def _kidney_values(rng: random.Random, story: Story, draw: Draw) -> dict[str, float]:
    """Creatinine from the eGFR curve, then eGFR recomputed from the rounded creatinine."""
    target = story.egfr_target(draw.at) + rng.uniform(-1.0, 1.0)
    if draw.setting != "routine":  # dehydration and hyperkalaemia: a transient dip
        days = (draw.at.date() - story.stay.alert_draw_at.date()).days
        target -= (10.0, 6.0, 3.0)[min(days, 2)]
    age = story.age(draw.at)
    creatinine = round(creatinine_for_egfr(target, age), 2)
    return {"creatinine": creatinine, "egfr": round(mdrd_egfr(creatinine, age))}


def _potassium(rng: random.Random, story: Story, draw: Draw) -> float:
    """Creeps up on ramipril, peaks at the one critical value, settles once it is stopped."""
    alert = story.stay.alert_draw_at
    if draw.setting == "control":
        return 6.3
    if draw.setting == "ward":
        return 5.3 if draw.at == story.stay.ward_draws[0] else 4.7
    if draw.at < alert:
        share = (draw.at - story.start) / (alert - story.start)
        return min(round(4.2 + 0.9 * share + rng.uniform(-0.15, 0.15), 1), 5.4)
    return round(4.4 + 0.2 * story.share(draw.at) + rng.uniform(-0.15, 0.15), 1)


def _lipids(rng: random.Random, story: Story, draw: Draw) -> dict[str, float]:
    """LDL about 160 before atorvastatin and 95 on it; total cholesterol by Friedewald."""
    effect = story.statin_effect(draw.at)
    ldl = round(162 - 66 * effect + rng.uniform(-6, 6))
    hdl = round(50 + 2 * effect + rng.uniform(-3, 3))
    triglycerides = round(195 - 60 * effect + rng.uniform(-15, 15))
    return {
        "ldl": ldl,
        "hdl": hdl,
        "triglycerides": triglycerides,
        "cholesterol": round(ldl + hdl + triglycerides / 5),
    }


def _glycaemia(rng: random.Random, story: Story, draw: Draw) -> dict[str, float]:
    """HbA1c along its curve (exactly 8.2 at the peak draw) and a fasting glucose to match."""
    hba1c = story.hba1c(draw.at)
    values: dict[str, float] = {}
    if "hba1c" in draw.panels:
        if draw.visit == story.peak_visit:
            hba1c = 8.2
        else:  # keep the peak the single highest result
            hba1c = min(round(hba1c + rng.uniform(-0.1, 0.1), 1), 8.1)
        values["hba1c"] = hba1c
    values["glucose"] = round(20 * hba1c - 8 + rng.uniform(-6, 6))
    return values


def _other_values(rng: random.Random, story: Story, draw: Draw, hba1c: float) -> dict[str, float]:
    """Liver enzymes follow glycaemia (fatty liver); haemoglobin drifts down with the kidneys."""
    alt = round(22 + 14 * max(hba1c - 5.9, 0.0) / 2.3 + rng.uniform(-3, 3))
    return {
        "sodium": 140 + rng.randint(-2, 2),
        "alt": alt,
        "ast": round(20 + 0.5 * (alt - 22) + rng.uniform(-2, 2)),
        "tsh": round(rng.uniform(1.4, 2.8), 2),
        "leukocytes": round(rng.uniform(5.2, 8.4), 1),
        "platelets": rng.randint(210, 290),
        "hemoglobin": round(13.5 - 0.9 * story.share(draw.at) + rng.uniform(-0.3, 0.3), 1),
        "uacr": round(story.uacr(draw.at) + rng.uniform(-3, 3)),
    }


def measure_draw(rng: random.Random, story: Story, draw: Draw) -> None:
    """Fill ``draw.values`` for the panels the draw holds."""
    values = _glycaemia(rng, story, draw)
    values.update(_kidney_values(rng, story, draw))
    values["potassium"] = _potassium(rng, story, draw)
    values.update(_lipids(rng, story, draw))
    values.update(_other_values(rng, story, draw, values.get("hba1c", story.hba1c(draw.at))))
    wanted = {member for panel in draw.panels for member in PANELS[panel].members}
    draw.values = {name: value for name, value in values.items() if name in wanted}


def plan_draws(rng: random.Random, schedule: Schedule, story: Story) -> list[Draw]:
    """Every sample in time order: routine draws, the control that found 6.3, ward controls."""
    draws = []
    tsh_years: set[int] = set()
    for index, visit in enumerate(schedule.visits):
        panels: tuple[str, ...] = ROUTINE_PANELS
        if visit.draw_at.year not in tsh_years:  # thyroid checked once a year
            tsh_years.add(visit.draw_at.year)
            panels = (*panels, "tsh")
        # The second and fourth reports come from the lab's French template (glucose in g/L).
        draws.append(Draw(visit.draw_at, panels, "routine", index, french_glucose=index in (1, 3)))
    draws.append(Draw(schedule.stay.alert_draw_at, ("bmp",), "control"))
    draws.extend(Draw(at, ("bmp",), "ward") for at in schedule.stay.ward_draws)
    draws.sort(key=lambda draw: draw.at)
    for draw in draws:
        measure_draw(rng, story, draw)
    return draws


def interpret(test: LabTest, value: float) -> str:
    """The v3 ObservationInterpretation code of a value against the test's limits."""
    if test.critical_high is not None and value >= test.critical_high:
        return "HH"
    if test.critical_low is not None and value <= test.critical_low:
        return "LL"
    if test.high is not None and value > test.high:
        return "H"
    if test.low is not None and value < test.low:
        return "L"
    return "N"


# --- resources -----------------------------------------------------------------------------


# Version and variant bits of a random (version 4) UUID, RFC 4122 section 4.4.
_UUID_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID_V4 = (0x4000 << 64) | (0x8000 << 48)


class Record:
    """The bundle under construction: hands out seeded UUIDs and collects entries."""

    def __init__(self, seed: int) -> None:
        # A stream of its own, so ids do not shift when a clinical value draws one more number.
        self._ids = random.Random(f"healthspace-demo-ids:{seed}")
        self.entries: list[Resource] = []

    def new_id(self) -> ResourceId:
        """A version-4 UUID made of seeded bits (what ``uuid.UUID(int=..., version=4)`` gives)."""
        bits = self._ids.getrandbits(128) & _UUID_CLEAR | _UUID_V4
        digits = f"{bits:032x}"
        return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"

    def add(self, resource: Resource, resource_id: ResourceId | None = None) -> ResourceId:
        resource_id = resource_id or self.new_id()
        # resourceType keeps its first place; id comes right after it.
        stored = {"resourceType": resource["resourceType"], "id": resource_id, **resource}
        self.entries.append({"fullUrl": f"urn:uuid:{resource_id}", "resource": stored})
        return resource_id


def ref(resource_id: ResourceId) -> Reference:
    return {"reference": f"urn:uuid:{resource_id}"}


def quantity(value: float, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def patient(seed: int, birth_date: dt.date, gp: ResourceId) -> Resource:
    """The fictitious person: the name says "Demo" so nobody mistakes her for a real one."""
    return {
        "resourceType": "Patient",
        "identifier": [{"system": DEMO_SYSTEM, "value": f"demo-{seed}"}],
        "active": True,
        "name": [
            {
                "use": "official",
                "text": "Camille Demo-Durand",
                "family": "Demo-Durand",
                "given": ["Camille"],
            }
        ],
        "gender": "female",
        "birthDate": birth_date.isoformat(),
        "address": [
            {
                "use": "home",
                "line": ["12 rue de l'Exemple"],
                "city": "Lyon",
                "postalCode": "69003",
                "country": "FR",
            }
        ],
        "communication": [
            {
                "language": {
                    "coding": [{"system": "urn:ietf:bcp:47", "code": "fr", "display": "French"}],
                    "text": "français",
                },
                "preferred": True,
            }
        ],
        "generalPractitioner": [ref(gp)],
    }


def practitioner(
    key: str, given: str, family: str, gender: str, occupation: Code, label_fr: str
) -> Resource:
    """Shared reference data: a fictitious clinician (identifier in the demo system)."""
    return {
        "resourceType": "Practitioner",
        "identifier": [{"system": DEMO_SYSTEM, "value": key}],
        "active": True,
        "name": [
            {"text": f"Dr {given} {family}", "family": family, "given": [given], "prefix": ["Dr"]}
        ],
        "gender": gender,
        "address": [{"city": "Lyon", "postalCode": "69003", "country": "FR"}],
        "qualification": [{"code": concept(occupation, text=label_fr)}],
    }


def organization() -> Resource:
    """Shared reference data: the medical laboratory that performs every analysis."""
    return {
        "resourceType": "Organization",
        "identifier": [{"system": DEMO_SYSTEM, "value": "lab-demo-biologie"}],
        "active": True,
        "type": [
            concept(
                Code(_TERMINOLOGY + "organization-type", "prov", "Healthcare Provider"),
                text="Laboratoire de biologie médicale",
            )
        ],
        "name": "Laboratoire Démo Biologie",
        "address": [
            {
                "line": ["1 place de la Fiction"],
                "city": "Lyon",
                "postalCode": "69003",
                "country": "FR",
            }
        ],
    }


ENCOUNTER_KINDS: dict[str, tuple[Code, Code, str]] = {
    "routine": (
        Code(ACT_CODE, "AMB", "ambulatory"),
        Code(SNOMED, "390906007", "Follow-up encounter"),
        "Consultation de suivi, médecine générale",
    ),
    "acute": (
        Code(ACT_CODE, "AMB", "ambulatory"),
        Code(SNOMED, "185345009", "Encounter for symptom"),
        "Consultation pour symptôme, médecine générale",
    ),
    "cardiology": (
        Code(ACT_CODE, "AMB", "ambulatory"),
        Code(SNOMED, "11429006", "Consultation"),
        "Consultation de cardiologie",
    ),
    "hospital": (
        Code(ACT_CODE, "IMP", "inpatient encounter"),
        Code(SNOMED, "32485007", "Hospital admission"),
        "Hospitalisation en médecine interne",
    ),
}


def encounter(
    kind: str,
    start: dt.datetime,
    end: dt.datetime,
    subject: ResourceId,
    clinician: ResourceId,
    reasons: Sequence[ResourceId] = (),
) -> Resource:
    """An encounter of one of the ENCOUNTER_KINDS, with its clinician as primary performer."""
    actclass, kind_code, label_fr = ENCOUNTER_KINDS[kind]
    role = ("ATND", "attender") if kind == "hospital" else ("PPRF", "primary performer")
    resource: Resource = {
        "resourceType": "Encounter",
        "status": "finished",
        "class": actclass.coding(),
        "type": [concept(kind_code, text=label_fr)],
        "subject": ref(subject),
        "participant": [
            {
                "type": [concept(Code(PARTICIPATION_TYPE, *role))],
                "individual": ref(clinician),
            }
        ],
        "period": {"start": fhir_datetime(start), "end": fhir_datetime(end)},
    }
    if reasons:
        resource["reasonReference"] = [ref(reason) for reason in reasons]
    return resource


def hospitalization(resource: Resource, diagnosis: ResourceId) -> Resource:
    """Add what only an inpatient stay has: admission source, discharge and its diagnosis."""
    resource["hospitalization"] = {
        "admitSource": concept(
            Code(_TERMINOLOGY + "admit-source", "gp", "General Practitioner referral")
        ),
        "dischargeDisposition": concept(
            Code(_TERMINOLOGY + "discharge-disposition", "home", "Home"), text="Retour à domicile"
        ),
    }
    resource["diagnosis"] = [
        {
            "condition": ref(diagnosis),
            "use": concept(Code(_TERMINOLOGY + "diagnosis-role", "DD", "Discharge diagnosis")),
            "rank": 1,
        }
    ]
    return resource


def condition(
    diagnosis: Diagnosis,
    subject: ResourceId,
    onset: dt.datetime,
    recorded: dt.datetime,
    seen_at: ResourceId,
    asserter: ResourceId,
    resolved: dt.datetime | None = None,
) -> Resource:
    """A problem-list condition, or a resolved encounter diagnosis when ``resolved`` is set."""
    status = "resolved" if resolved else "active"
    category = (
        ("encounter-diagnosis", "Encounter Diagnosis")
        if resolved
        else ("problem-list-item", "Problem List Item")
    )
    resource: Resource = {
        "resourceType": "Condition",
        "clinicalStatus": concept(Code(CONDITION_CLINICAL, status, status.capitalize())),
        "verificationStatus": concept(Code(CONDITION_VERIFICATION, "confirmed", "Confirmed")),
        "category": [concept(Code(CONDITION_CATEGORY, *category))],
        "code": diagnosis.code(),
        "subject": ref(subject),
        "encounter": ref(seen_at),
        "onsetDateTime": fhir_datetime(onset),
        "recordedDate": fhir_datetime(recorded),
        "asserter": ref(asserter),
    }
    if resolved:
        resource["abatementDateTime"] = fhir_datetime(resolved)
    return resource


def medication_request(
    medicine: Medicine,
    subject: ResourceId,
    authored: dt.datetime,
    requester: ResourceId,
    seen_at: ResourceId,
    reason: ResourceId,
    stopped: tuple[dt.datetime, str] | None = None,
) -> Resource:
    """A long-term prescription; ``stopped`` gives when and why it was stopped."""
    resource: Resource = {
        "resourceType": "MedicationRequest",
        "status": "stopped" if stopped else "active",
        "intent": "order",
        "category": [
            concept(Code(_TERMINOLOGY + "medicationrequest-category", "community", "Community"))
        ],
        "medicationCodeableConcept": concept(medicine.rxnorm, text=medicine.label_fr),
        "subject": ref(subject),
        "encounter": ref(seen_at),
        "authoredOn": fhir_datetime(authored),
        "requester": ref(requester),
        "reasonReference": [ref(reason)],
        "courseOfTherapyType": concept(
            Code(
                _TERMINOLOGY + "medicationrequest-course-of-therapy",
                "continuous",
                "Continuous long term therapy",
            )
        ),
        "dosageInstruction": [
            {
                "text": medicine.instruction_fr,
                "timing": {
                    "repeat": {"frequency": medicine.per_day, "period": 1, "periodUnit": "d"}
                },
                "route": concept(ORAL_ROUTE),
                "doseAndRate": [
                    {
                        "doseQuantity": {
                            "value": 1,
                            "unit": medicine.dose_form.display.lower(),
                            "system": medicine.dose_form.system,
                            "code": medicine.dose_form.code,
                        }
                    }
                ],
            }
        ],
    }
    if stopped:
        when, why = stopped
        resource["statusReason"] = {"text": why}
        resource["note"] = [{"time": fhir_datetime(when), "text": f"Arrêt : {why}."}]
    return resource


def medication_statement(
    subject: ResourceId, start: dt.datetime, seen_at: ResourceId, reason: ResourceId
) -> Resource:
    """Self-medication the patient reported during her bronchitis."""
    return {
        "resourceType": "MedicationStatement",
        "status": "completed",
        "medicationCodeableConcept": concept(PARACETAMOL, text="Paracétamol 1 g"),
        "subject": ref(subject),
        "context": ref(seen_at),
        "effectivePeriod": {
            "start": fhir_datetime(start - dt.timedelta(days=3)),
            "end": fhir_datetime(start + dt.timedelta(days=5)),
        },
        "dateAsserted": fhir_datetime(start),
        "informationSource": ref(subject),
        "reasonReference": [ref(reason)],
        "dosage": [{"text": "1 g jusqu'à trois fois par jour si fièvre ou douleurs"}],
    }


def allergy(subject: ResourceId, recorded: dt.datetime, recorder: ResourceId) -> Resource:
    """Penicillin allergy known since childhood: high criticality, urticaria."""
    return {
        "resourceType": "AllergyIntolerance",
        "clinicalStatus": concept(
            Code(_TERMINOLOGY + "allergyintolerance-clinical", "active", "Active")
        ),
        "verificationStatus": concept(
            Code(_TERMINOLOGY + "allergyintolerance-verification", "confirmed", "Confirmed")
        ),
        "type": "allergy",
        "category": ["medication"],
        "criticality": "high",
        "code": concept(Code(RXNORM, "70618", "penicillin"), text="Pénicillines"),
        "patient": ref(subject),
        "onsetString": "Dans l'enfance",
        "recordedDate": fhir_datetime(recorded),
        "recorder": ref(recorder),
        "reaction": [
            {
                "manifestation": [
                    concept(Code(SNOMED, "126485001", "Urticaria"), text="Urticaire")
                ],
                "severity": "moderate",
            }
        ],
    }


def immunization(
    vaccine: Code,
    label_fr: str,
    subject: ResourceId,
    at: dt.datetime,
    performer: ResourceId,
    lot: str,
) -> Resource:
    return {
        "resourceType": "Immunization",
        "status": "completed",
        "vaccineCode": concept(vaccine, text=label_fr),
        "patient": ref(subject),
        "occurrenceDateTime": fhir_datetime(at),
        "primarySource": True,
        "lotNumber": lot,
        "performer": [{"actor": ref(performer)}],
    }


def procedure(
    code: Code,
    label_fr: str,
    subject: ResourceId,
    at: dt.datetime,
    performer: ResourceId | None = None,
    seen_at: ResourceId | None = None,
    outcome_fr: str | None = None,
) -> Resource:
    resource: Resource = {
        "resourceType": "Procedure",
        "status": "completed",
        "code": concept(code, text=label_fr),
        "subject": ref(subject),
        "performedDateTime": fhir_datetime(at),
    }
    if seen_at:
        resource["encounter"] = ref(seen_at)
    if performer:
        resource["performer"] = [{"actor": ref(performer)}]
    if outcome_fr:
        resource["outcome"] = {"text": outcome_fr}
    return resource


def _category(code: str, display: str) -> list[dict[str, Any]]:
    return [concept(Code(OBSERVATION_CATEGORY, code, display))]


def lab_observation(
    test: LabTest,
    value: float,
    subject: ResourceId,
    draw: Draw,
    issued: dt.datetime,
    lab: ResourceId,
    seen_at: ResourceId | None,
) -> Resource:
    """One result with its unit, the lab's reference range and an H/L/N/HH/LL flag."""
    flag = interpret(test, value)
    reference_range: dict[str, Any] = {}
    if test.low is not None:
        reference_range["low"] = quantity(test.low, test.unit)
    if test.high is not None:
        reference_range["high"] = quantity(test.high, test.unit)
    resource: Resource = {
        "resourceType": "Observation",
        "status": "final",
        "category": _category("laboratory", "Laboratory"),
        "code": concept(Code(LOINC, test.loinc, test.display), text=test.label_fr),
        "subject": ref(subject),
        "effectiveDateTime": fhir_datetime(draw.at),
        "issued": fhir_datetime(issued),
        "performer": [ref(lab)],
        "valueQuantity": quantity(value, test.unit),
        "interpretation": [concept(Code(INTERPRETATION, flag, INTERPRETATIONS[flag]))],
        "referenceRange": [reference_range],
    }
    if seen_at:
        resource["encounter"] = ref(seen_at)
    return resource


def diagnostic_report(
    panel: LabPanel,
    subject: ResourceId,
    draw: Draw,
    issued: dt.datetime,
    lab: ResourceId,
    results: list[ResourceId],
    seen_at: ResourceId | None,
) -> Resource:
    resource: Resource = {
        "resourceType": "DiagnosticReport",
        "status": "final",
        "category": [concept(Code(_TERMINOLOGY + "v2-0074", "LAB", "Laboratory"))],
        "code": concept(panel.code, text=panel.label_fr),
        "subject": ref(subject),
        "effectiveDateTime": fhir_datetime(draw.at),
        "issued": fhir_datetime(issued),
        "performer": [ref(lab)],
        "result": [ref(result) for result in results],
    }
    if seen_at:
        resource["encounter"] = ref(seen_at)
    return resource


@dataclass(frozen=True)
class Vitals:
    """What the GP measures at each visit; height only at the first visit of a year."""

    systolic: int
    diastolic: int
    weight: float
    bmi: float
    height: float | None = None


def vital_signs(
    vitals: Vitals, subject: ResourceId, at: dt.datetime, seen_at: ResourceId, clinician: ResourceId
) -> list[Resource]:
    """The vital-signs observations of one visit (blood pressure panel, weight, height, BMI)."""

    def vital(code: Code, label_fr: str, **value: Any) -> Resource:
        return {
            "resourceType": "Observation",
            "status": "final",
            "category": _category("vital-signs", "Vital Signs"),
            "code": concept(code, text=label_fr),
            "subject": ref(subject),
            "encounter": ref(seen_at),
            "effectiveDateTime": fhir_datetime(at),
            "performer": [ref(clinician)],
            **value,
        }

    def pressure(code: str, display: str, value: int) -> dict[str, Any]:
        mmhg = {"value": value, "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"}
        return {"code": concept(Code(LOINC, code, display)), "valueQuantity": mmhg}

    panel = Code(LOINC, "85354-9", "Blood pressure panel with all children optional")
    components = [
        pressure("8480-6", "Systolic blood pressure", vitals.systolic),
        pressure("8462-4", "Diastolic blood pressure", vitals.diastolic),
    ]
    weight = quantity(vitals.weight, "kg")
    observations = [
        vital(panel, "Pression artérielle", component=components),
        vital(Code(LOINC, "29463-7", "Body weight"), "Poids", valueQuantity=weight),
    ]
    if vitals.height is not None:
        height = quantity(vitals.height, "cm")
        observations.append(
            vital(Code(LOINC, "8302-2", "Body height"), "Taille", valueQuantity=height)
        )
    bmi_code = Code(LOINC, "39156-5", "Body mass index (BMI) [Ratio]")
    bmi = quantity(vitals.bmi, "kg/m2")
    observations.append(vital(bmi_code, "Indice de masse corporelle", valueQuantity=bmi))
    return observations


# --- assembling the record -----------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """What every step of the assembly shares: the patient, her clinicians, her encounters."""

    record: Record
    rng: random.Random
    schedule: Schedule
    story: Story
    patient: ResourceId
    gp: ResourceId
    cardiologist: ResourceId
    lab: ResourceId
    visit_ids: tuple[str, ...]
    acute_id: str
    stay_id: str

    def visit(self, index: int) -> ResourceId:
        return self.visit_ids[index]


def start_record(seed: int, rng: random.Random, schedule: Schedule, story: Story) -> Context:
    """Patient, practitioners and lab, plus ids reserved for encounters referenced early."""
    record = Record(seed)
    gp_id = record.new_id()
    patient_ref = record.add(patient(seed, story.birth_date, gp_id))
    general_practitioner = Code(SNOMED, "62247001", "General practitioner")
    gp = record.add(
        practitioner(
            "gp-exemple-martin", "Jeanne", "Exemple-Martin", "female",
            general_practitioner, "Médecin généraliste",
        ),
        gp_id,
    )  # fmt: skip
    cardiologist = record.add(
        practitioner(
            "cardio-fictif-bernard", "Paul", "Fictif-Bernard", "male",
            Code(SNOMED, "17561000", "Cardiologist"), "Cardiologue",
        )
    )  # fmt: skip
    return Context(
        record=record,
        rng=rng,
        schedule=schedule,
        story=story,
        patient=patient_ref,
        gp=gp,
        cardiologist=cardiologist,
        lab=record.add(organization()),
        visit_ids=tuple(record.new_id() for _ in schedule.visits),
        acute_id=record.new_id(),
        stay_id=record.new_id(),
    )


@dataclass(frozen=True)
class Problems:
    """References to the conditions that prescriptions and encounters point at."""

    hypertension: ResourceId
    hypercholesterolaemia: ResourceId
    bronchitis: ResourceId
    diabetes: ResourceId
    hyperkalaemia: ResourceId


def _first_draw(draws: list[Draw], test: str, predicate: Callable[[float], bool]) -> Draw:
    """The first routine draw whose ``test`` result satisfies ``predicate`` (else the last)."""
    routine = [draw for draw in draws if draw.setting == "routine" and test in draw.values]
    return next((draw for draw in routine if predicate(draw.values[test])), routine[-1])


def add_problems(ctx: Context, draws: list[Draw]) -> Problems:
    """The allergy and the conditions, each diagnosed at the visit its evidence points to."""
    visits, stay, acute_at = ctx.schedule.visits, ctx.schedule.stay, ctx.schedule.acute_at
    first, add = visits[0], ctx.record.add
    add(allergy(ctx.patient, first.at, ctx.gp))

    def diagnose(diagnosis: Diagnosis, onset: dt.datetime, visit: int) -> ResourceId:
        return add(
            condition(diagnosis, ctx.patient, onset, visits[visit].at, ctx.visit(visit), ctx.gp)
        )

    hypertension = diagnose(HYPERTENSION, first.at, 0)
    hypercholesterolaemia = diagnose(HYPERCHOLESTEROLAEMIA, first.draw_at, 0)
    # Diagnosed on the first HbA1c at 6.5 % or more; metformin comes later, at the peak.
    diabetes_draw = _first_draw(draws, "hba1c", lambda value: value >= 6.5)
    diabetes = diagnose(TYPE_2_DIABETES, diabetes_draw.at, diabetes_draw.visit or 0)
    # CKD needs three months of eGFR below 60: recorded at the first visit after that.
    ckd_draw = _first_draw(draws, "egfr", lambda value: value < 60)
    confirmed = ckd_draw.at + dt.timedelta(days=90)
    ckd_visit = next((i for i, v in enumerate(visits) if v.at >= confirmed), len(visits) - 1)
    diagnose(CKD_STAGE_3A, ckd_draw.at, max(ckd_visit, ckd_draw.visit or 0))

    bronchitis = add(
        condition(
            ACUTE_BRONCHITIS, ctx.patient, acute_at - dt.timedelta(days=4), acute_at,
            ctx.acute_id, ctx.gp, resolved=acute_at + dt.timedelta(days=21),
        )
    )  # fmt: skip
    hyperkalaemia = add(
        condition(
            HYPERKALAEMIA, ctx.patient, stay.alert_draw_at, stay.admitted_at,
            ctx.stay_id, ctx.cardiologist, resolved=stay.discharged_at,
        )
    )  # fmt: skip
    return Problems(hypertension, hypercholesterolaemia, bronchitis, diabetes, hyperkalaemia)


def add_medications(ctx: Context, problems: Problems) -> None:
    """Prescriptions in the order the story starts them; ramipril stopped at discharge."""
    schedule, stay = ctx.schedule, ctx.schedule.stay

    def prescribe(medicine: Medicine, visit: int, reason: ResourceId, **extra: Any) -> None:
        at = schedule.visits[visit].at
        ctx.record.add(
            medication_request(medicine, ctx.patient, at, ctx.gp, ctx.visit(visit), reason, **extra)
        )

    stopped = (stay.discharged_at, "hyperkaliémie sous ramipril")
    prescribe(RAMIPRIL, 0, problems.hypertension, stopped=stopped)
    prescribe(ATORVASTATIN, schedule.statin_visit, problems.hypercholesterolaemia)
    prescribe(METFORMIN, schedule.metformin_visit, problems.diabetes)
    ctx.record.add(
        medication_request(
            AMLODIPINE, ctx.patient, stay.discharged_at, ctx.cardiologist, ctx.stay_id,
            problems.hypertension,
        )
    )  # fmt: skip
    ctx.record.add(
        medication_statement(ctx.patient, schedule.acute_at, ctx.acute_id, problems.bronchitis)
    )


def _blood_pressure(rng: random.Random, story: Story, at: dt.datetime) -> tuple[int, int]:
    """Untreated 154/95, about 136/85 on ramipril, about 131/79 on amlodipine."""
    if at > story.stay.discharged_at:
        systolic, diastolic = 131.0, 79.0
    else:
        effect = min(max((at - story.ramipril_from) / dt.timedelta(days=42), 0.0), 1.0)
        systolic, diastolic = 154 - 18 * effect, 95 - 10 * effect
    return round(systolic + rng.uniform(-6, 6)), round(diastolic + rng.uniform(-4, 4))


def measure_vitals(ctx: Context, at: dt.datetime, with_height: bool) -> Vitals:
    """Weight gains about 4 kg until metformin, then falls below its start; height 163 cm."""
    story, rng = ctx.story, ctx.rng
    peak = ctx.schedule.visits[ctx.schedule.metformin_visit].at
    weight_curve = [(story.start, 82.0), (peak, 86.0), (story.end, 80.5)]
    height = round(163.0 + rng.uniform(-0.5, 0.5), 1) if with_height else None
    weight = round(_interpolate(weight_curve, at) + rng.uniform(-0.6, 0.6), 1)
    systolic, diastolic = _blood_pressure(rng, story, at)
    bmi = round(weight / ((height or 163.0) / 100) ** 2, 1)
    return Vitals(systolic, diastolic, weight, bmi, height)


def add_gp_encounters(ctx: Context, problems: Problems) -> None:
    """Routine and acute GP encounters in time order, each with its vital signs."""
    visits = [(v.at, ctx.visit_ids[i], "routine") for i, v in enumerate(ctx.schedule.visits)]
    visits.append((ctx.schedule.acute_at, ctx.acute_id, "acute"))
    height_years: set[int] = set()
    for at, encounter_id, kind in sorted(visits):
        reason = problems.bronchitis if kind == "acute" else problems.hypertension
        finish = at + dt.timedelta(minutes=20)
        seen_at = ctx.record.add(
            encounter(kind, at, finish, ctx.patient, ctx.gp, [reason]), encounter_id
        )
        vitals = measure_vitals(ctx, at, with_height=at.year not in height_years)
        height_years.add(at.year)
        measured_at = at + dt.timedelta(minutes=5)
        for observation in vital_signs(vitals, ctx.patient, measured_at, seen_at, ctx.gp):
            ctx.record.add(observation)


def add_cardiology(ctx: Context, problems: Problems) -> None:
    """The yearly cardiology visit, each with an ECG."""
    ecg = Code(SNOMED, "29303009", "Electrocardiographic procedure")
    for at in ctx.schedule.cardiology:
        finish = at + dt.timedelta(minutes=30)
        seen_at = ctx.record.add(
            encounter(
                "cardiology", at, finish, ctx.patient, ctx.cardiologist, [problems.hypertension]
            )
        )
        ctx.record.add(
            procedure(
                ecg, "Électrocardiogramme", ctx.patient, at + dt.timedelta(minutes=10),
                ctx.cardiologist, seen_at, "Rythme sinusal, pas d'anomalie aiguë",
            )
        )  # fmt: skip


def add_hospital_stay(ctx: Context, problems: Problems) -> ResourceId:
    """The inpatient encounter for hyperkalaemia, with its discharge."""
    stay = ctx.schedule.stay
    inpatient = encounter(
        "hospital", stay.admitted_at, stay.discharged_at, ctx.patient, ctx.cardiologist,
        [problems.hyperkalaemia],
    )  # fmt: skip
    return ctx.record.add(hospitalization(inpatient, problems.hyperkalaemia), ctx.stay_id)


def add_retinal_exams(ctx: Context, diagnosed: dt.datetime) -> None:
    """Yearly diabetic retinopathy screening from the diagnosis on."""
    screening = Code(SNOMED, "134395001", "Diabetic retinopathy screening")
    day = diagnosed.date() + dt.timedelta(days=ctx.rng.randint(30, 90))
    while day < ctx.schedule.end:
        at = _time_of_day(ctx.rng, _not_sunday(day), "09:00", "17:00")
        ctx.record.add(
            procedure(
                screening, "Rétinographie de dépistage", ctx.patient, at,
                outcome_fr="Pas de rétinopathie diabétique",
            )
        )  # fmt: skip
        day += dt.timedelta(days=365)


def add_immunizations(ctx: Context) -> None:
    """Flu every autumn, one tetanus-diphtheria booster, COVID-19 doses of each campaign."""
    rng, start, end = ctx.rng, ctx.schedule.start, ctx.schedule.end
    doses: list[tuple[dt.date, Code, str]] = []
    for year in range(start.year, end.year + 1):
        flu_day = dt.date(year, 10, 15) + dt.timedelta(days=rng.randint(0, 45))
        vaccine = INFLUENZA_QUADRIVALENT if year < 2024 else INFLUENZA_TRIVALENT
        doses.append((flu_day, vaccine, "Vaccin grippe saisonnière"))
    doses.append(
        (_fraction(start, end, TETANUS_AT), TETANUS_DIPHTHERIA, "Rappel diphtérie-tétanos")
    )
    for campaign_day, vaccine in COVID_CAMPAIGN:
        doses.append(
            (campaign_day + dt.timedelta(days=rng.randint(0, 6)), vaccine, "Vaccin COVID-19")
        )
    for day, vaccine, label_fr in sorted(doses, key=lambda dose: dose[0]):
        day = _not_sunday(day)
        if start <= day <= end:
            at = _time_of_day(rng, day, "09:00", "18:00")
            lot = f"DEMO-{rng.randrange(16**6):06X}"
            ctx.record.add(immunization(vaccine, label_fr, ctx.patient, at, ctx.gp, lot))


def add_labs(ctx: Context, draws: list[Draw], stay: ResourceId) -> None:
    """Every result of every draw, grouped by panel into DiagnosticReports."""
    for draw in draws:
        issued = max(
            _time_of_day(ctx.rng, draw.at.date(), "11:00", "18:00"),
            draw.at + dt.timedelta(hours=3),
        )
        seen_at = stay if draw.setting == "ward" else None
        for panel_key in draw.panels:
            panel = PANELS[panel_key]
            results = []
            for member in panel.members:
                test, value = LAB_TESTS[member], draw.values[member]
                if member == "glucose" and draw.french_glucose:
                    test, value = GLUCOSE_FRENCH, round(value / 100, 2)
                observation = lab_observation(
                    test, value, ctx.patient, draw, issued, ctx.lab, seen_at
                )
                results.append(ctx.record.add(observation))
            ctx.record.add(
                diagnostic_report(panel, ctx.patient, draw, issued, ctx.lab, results, seen_at)
            )


def plan_story(rng: random.Random, start: dt.date, end: dt.date, schedule: Schedule) -> Story:
    """Anchor the result curves on the schedule; the birthday is the only other random part."""
    visits = schedule.visits
    return Story(
        birth_date=dt.date(BIRTH_YEAR, rng.randint(1, 12), rng.randint(1, 28)),
        start=_midnight(start),
        end=_midnight(end),
        ramipril_from=visits[0].at,
        statin_from=visits[schedule.statin_visit].at,
        peak_draw=visits[schedule.metformin_visit].draw_at,
        peak_visit=schedule.metformin_visit,
        stay=schedule.stay,
    )


def _build(seed: int, years: int, end: dt.date, routine_visits: int | None) -> Resource:
    """The whole record; ``routine_visits`` replaces the quarterly rhythm for large records."""
    if years < MIN_YEARS:
        raise ValueError(f"years must be at least {MIN_YEARS} for the story to unfold, got {years}")
    start = _years_before(end, years)
    if start.year - BIRTH_YEAR < 18:
        raise ValueError(f"the record must start in adulthood: years={years} reaches {start}")
    rng = random.Random(seed)
    schedule = plan_schedule(rng, start, end, routine_visits)
    story = plan_story(rng, start, end, schedule)
    draws = plan_draws(rng, schedule, story)

    ctx = start_record(seed, rng, schedule, story)
    problems = add_problems(ctx, draws)
    add_medications(ctx, problems)
    add_immunizations(ctx)
    add_gp_encounters(ctx, problems)
    add_cardiology(ctx, problems)
    stay = add_hospital_stay(ctx, problems)
    add_retinal_exams(ctx, _first_draw(draws, "hba1c", lambda value: value >= 6.5).at)
    add_labs(ctx, draws, stay)

    synthetic = {"system": DEMO_SYSTEM, "code": "synthetic", "display": "Synthetic demo data"}
    return {
        "resourceType": "Bundle",
        "id": ctx.record.new_id(),
        "meta": {"tag": [synthetic]},
        "type": "collection",
        "timestamp": fhir_datetime(dt.datetime.combine(end, dt.time(20, 0))),
        "entry": ctx.record.entries,
    }


def build_demo_bundle(
    seed: int = 2026, years: int = 6, end: dt.date = DEFAULT_END
) -> dict[str, Any]:
    """A FHIR R4 Bundle of type 'collection' for one synthetic person."""
    with collector_paused():
        return _build(seed, years, end, routine_visits=None)


def build_large_bundle(seed: int, target_resources: int, years: int = 10) -> dict[str, Any]:
    """Same kind of person, with enough encounters/labs/vitals that the bundle holds about
    target_resources entries (within 5%); used by benches (e.g. 20,000 resources)."""
    with collector_paused():
        return _build_to_size(seed, target_resources, years)


def _build_to_size(seed: int, target_resources: int, years: int) -> Resource:
    """Each routine visit adds about the same number of resources (encounter, vitals, labs):
    measure it on two small records, solve for the visit count, correct once if needed."""

    def build(visits: int) -> Resource:
        return _build(seed, years, DEFAULT_END, visits)

    small, larger = 20, 40
    base = len(build(small)["entry"])
    per_visit = (len(build(larger)["entry"]) - base) / (larger - small)
    visits = small + round((target_resources - base) / per_visit)
    if visits < small:
        raise ValueError(
            f"target_resources={target_resources} is too small: a {years}-year record "
            f"holds at least {base} resources"
        )
    bundle = build(visits)
    error = len(bundle["entry"]) - target_resources
    if abs(error) > target_resources * 0.02:
        bundle = build(visits - round(error / per_visit))
    return bundle
