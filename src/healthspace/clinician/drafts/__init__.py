"""Draft documents a clinician signs: SOAP note, discharge summary, referral letter,
after-visit summary and prior-authorization request.

Composed offline from the person's record (``kinds`` registers one composer per kind), every
statement with its sources or marked ``needs_check``; stored as a FHIR R4 Composition in the
person's vault (``model``); signed, edited and versioned by ``service``.

No DocumentReference is written: the Composition is the document itself and lives in the
same record; a DocumentReference would be a second resource whose ``docStatus`` must follow
every edit and signature, with nothing gained inside one record. A FHIR document Bundle can be
built from the Composition when a document leaves the record.
"""
