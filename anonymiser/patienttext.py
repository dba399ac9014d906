"""Free text about the patient rather than the imaging: removed, never cleaned.

PS3.15 Table E.1-1 gives these X in the basic profile and C under Clean Descriptors (or Retain
Patient Characteristics). Cleaning keeps the words that are not the subject's identifiers, but
a clinical history or a comment about the patient ("lives with her daughter in Ely, allergic
to ...") identifies through its content, which no word list catches. So wherever the table
would clean one of these, both walks remove it (the basic profile's own action): study and
series descriptions, protocol names, ROI names and plan labels, which name the imaging, stay
and are cleaned. No pydicom here: the byte path uses it.
"""
from __future__ import annotations

#: keyword -> tag (a test holds these to pydicom's dictionary and to the Annex E table).
PATIENT_TEXT = {
    "IdentifyingComments": 0x00084000,
    "AdmittingDiagnosesDescription": 0x00081080,
    "MedicalAlerts": 0x00102000,
    "Allergies": 0x00102110,
    "Occupation": 0x00102180,
    "AdditionalPatientHistory": 0x001021B0,
    "PatientComments": 0x00104000,
    "ReasonForStudy": 0x00321030,
    "SpecialNeeds": 0x00380050,
    "PatientState": 0x00380500,
    "DischargeDiagnosisDescription": 0x00380040,
    "VisitComments": 0x00384000,
    "ReasonForTheRequestedProcedure": 0x00401002,
}
PATIENT_TEXT_TAGS = frozenset(PATIENT_TEXT.values())
