"""What the importer relies on from FHIR R4: resource types, ids, dates and person ownership."""

from __future__ import annotations

import re

# Every resource type of FHIR R4 (4.0.1).
R4_RESOURCE_TYPES = frozenset(
    """
    Account ActivityDefinition AdverseEvent AllergyIntolerance Appointment AppointmentResponse
    AuditEvent Basic Binary BiologicallyDerivedProduct BodyStructure Bundle CapabilityStatement
    CarePlan CareTeam CatalogEntry ChargeItem ChargeItemDefinition Claim ClaimResponse
    ClinicalImpression CodeSystem Communication CommunicationRequest CompartmentDefinition
    Composition ConceptMap Condition Consent Contract Coverage CoverageEligibilityRequest
    CoverageEligibilityResponse DetectedIssue Device DeviceDefinition DeviceMetric DeviceRequest
    DeviceUseStatement DiagnosticReport DocumentManifest DocumentReference EffectEvidenceSynthesis
    Encounter Endpoint EnrollmentRequest EnrollmentResponse EpisodeOfCare EventDefinition Evidence
    EvidenceVariable ExampleScenario ExplanationOfBenefit FamilyMemberHistory Flag Goal
    GraphDefinition Group GuidanceResponse HealthcareService ImagingStudy Immunization
    ImmunizationEvaluation ImmunizationRecommendation ImplementationGuide InsurancePlan Invoice
    Library Linkage List Location Measure MeasureReport Media Medication MedicationAdministration
    MedicationDispense MedicationKnowledge MedicationRequest MedicationStatement MedicinalProduct
    MedicinalProductAuthorization MedicinalProductContraindication MedicinalProductIndication
    MedicinalProductIngredient MedicinalProductInteraction MedicinalProductManufactured
    MedicinalProductPackaged MedicinalProductPharmaceutical MedicinalProductUndesirableEffect
    MessageDefinition MessageHeader MolecularSequence NamingSystem NutritionOrder Observation
    ObservationDefinition OperationDefinition OperationOutcome Organization OrganizationAffiliation
    Parameters Patient PaymentNotice PaymentReconciliation Person PlanDefinition Practitioner
    PractitionerRole Procedure Provenance Questionnaire QuestionnaireResponse RelatedPerson
    RequestGroup ResearchDefinition ResearchElementDefinition ResearchStudy ResearchSubject
    RiskAssessment RiskEvidenceSynthesis Schedule SearchParameter ServiceRequest Slot Specimen
    SpecimenDefinition StructureDefinition StructureMap Subscription Substance
    SubstanceNucleicAcid SubstancePolymer SubstanceProtein SubstanceReferenceInformation
    SubstanceSourceMaterial SubstanceSpecification SupplyDelivery SupplyRequest Task
    TerminologyCapabilities TestReport TestScript ValueSet VerificationResult VisionPrescription
    """.split()
)

# Reference data that belongs to no person: clinicians, places, products and definitions.
SHARED_TYPES = frozenset(
    """
    ActivityDefinition CapabilityStatement CatalogEntry ChargeItemDefinition CodeSystem
    CompartmentDefinition ConceptMap DeviceDefinition EffectEvidenceSynthesis Endpoint
    EventDefinition Evidence EvidenceVariable ExampleScenario GraphDefinition HealthcareService
    ImplementationGuide InsurancePlan Library Location Measure Medication MedicationKnowledge
    MedicinalProduct MedicinalProductAuthorization MedicinalProductContraindication
    MedicinalProductIndication MedicinalProductIngredient MedicinalProductInteraction
    MedicinalProductManufactured MedicinalProductPackaged MedicinalProductPharmaceutical
    MedicinalProductUndesirableEffect MessageDefinition NamingSystem ObservationDefinition
    OperationDefinition Organization OrganizationAffiliation PlanDefinition Practitioner
    PractitionerRole Questionnaire ResearchDefinition ResearchElementDefinition
    RiskEvidenceSynthesis SearchParameter SpecimenDefinition StructureDefinition StructureMap
    Substance SubstanceNucleicAcid SubstancePolymer SubstanceProtein
    SubstanceReferenceInformation SubstanceSourceMaterial SubstanceSpecification
    TerminologyCapabilities TestScript ValueSet Device
    """.split()
)

# Resources that describe an exchange rather than a record: never stored.
TRANSIENT_TYPES = frozenset({"Bundle", "OperationOutcome", "Parameters", "MessageHeader"})

# Top-level elements that place a resource in a patient's compartment, in order of preference.
PERSON_ELEMENTS = ("subject", "patient", "beneficiary", "for")

ID_PATTERN = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_DATE = r"\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?"
_TIME = r"([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00))"
DATE_PATTERN = re.compile(_DATE)
DATETIME_PATTERN = re.compile(rf"{_DATE}(T{_TIME})?")
INSTANT_PATTERN = re.compile(rf"\d{{4}}-\d\d-\d\dT{_TIME}")

# Top-level date elements checked on the hot path, with the FHIR type each must follow.
DATE_ELEMENTS: dict[str, re.Pattern[str]] = {
    "birthDate": DATE_PATTERN,
    "deceasedDateTime": DATETIME_PATTERN,
    "effectiveDateTime": DATETIME_PATTERN,
    "issued": INSTANT_PATTERN,
    "onsetDateTime": DATETIME_PATTERN,
    "abatementDateTime": DATETIME_PATTERN,
    "recordedDate": DATETIME_PATTERN,
    "authoredOn": DATETIME_PATTERN,
    "occurrenceDateTime": DATETIME_PATTERN,
    "performedDateTime": DATETIME_PATTERN,
    "dateAsserted": DATETIME_PATTERN,
    "date": DATETIME_PATTERN,
}

# Elements a resource cannot be understood without (cardinality 1..1 in R4) for the types the
# record's views rely on. Other types are checked for type, id, dates and references only.
REQUIRED_ELEMENTS: dict[str, tuple[str, ...]] = {
    "Observation": ("status", "code"),
    "Condition": ("subject",),
    "Encounter": ("status", "class"),
    "MedicationRequest": ("status", "intent", "subject", "medication[x]"),
    "MedicationStatement": ("status", "subject", "medication[x]"),
    "Immunization": ("status", "vaccineCode", "patient", "occurrence[x]"),
    "AllergyIntolerance": ("patient",),
    "DiagnosticReport": ("status", "code"),
    "Procedure": ("status", "subject"),
    "Composition": ("status", "type", "date", "author", "title"),
}
