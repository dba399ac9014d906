"""Dataset-level steps after the walk: trial identity and the record of de-identification.

PS3.3 C.7.1.3 (Clinical Trial Subject), C.7.2.3 (Clinical Trial Study), C.7.3.2 (Clinical Trial
Series); PS3.3 C.12.1 (SOP Common: PatientIdentityRemoved, DeidentificationMethod and its
code sequence, CID 7050) and LongitudinalTemporalInformationModified.
"""
from __future__ import annotations

from functools import lru_cache

from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_data_element
from pydicom.sequence import Sequence

from sdu.standard import annex_e

from .trialblock import TrialIdentity, method_values

__all__ = ["TrialIdentity", "apply_trial_block", "record_deidentification", "set_identity", "trial_elements"]


def set_identity(ds: Dataset, t: TrialIdentity) -> None:
    ds.PatientName = t.subject_id
    ds.PatientID = t.subject_id
    ds.StudyID = t.session_id if len(t.session_id) <= 16 else t.session_id.rsplit("-", 1)[-1][-16:]
    ds.ClinicalTrialSponsorName = t.sponsor
    ds.ClinicalTrialProtocolID = t.trial_id
    ds.ClinicalTrialProtocolName = t.protocol_name
    ds.ClinicalTrialSiteID = t.site_id
    ds.ClinicalTrialSiteName = t.site_name
    ds.ClinicalTrialSubjectID = t.subject_id
    if t.coordinating_center:
        ds.ClinicalTrialCoordinatingCenterName = t.coordinating_center
    if t.time_point:
        ds.ClinicalTrialTimePointID = t.time_point


def record_deidentification(ds: Dataset, options: frozenset[annex_e.ProfileOption], dates: str,
                            t: TrialIdentity | None = None) -> None:
    """``dates`` is the LongitudinalTemporalInformationModified value: MODIFIED, UNMODIFIED or REMOVED."""
    basic_code, basic_meaning = annex_e.basic_profile_code()
    chosen = sorted(options, key=lambda o: o.code)
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = method_values(t or TrialIdentity("", "", "", "", ""), basic_meaning, chosen)
    items = []
    for code, meaning in [(basic_code, basic_meaning), *((o.code, o.meaning) for o in chosen)]:
        item = Dataset()
        item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = code, "DCM", meaning
        items.append(item)
    ds.DeidentificationMethodCodeSequence = Sequence(items)
    ds.LongitudinalTemporalInformationModified = dates


@lru_cache(maxsize=64)
def _encoded_block(t: TrialIdentity, options: frozenset[annex_e.ProfileOption], dates: str,
                   implicit: bool) -> tuple[RawDataElement, ...]:
    """The trial and de-identification elements, encoded once per subject/session and reused
    as raw elements for every file (they are the same in each)."""
    block = Dataset()
    set_identity(block, t)
    record_deidentification(block, options, dates, t)
    out = []
    for elem in block:
        fp = DicomBytesIO()
        fp.is_little_endian, fp.is_implicit_VR = True, implicit
        write_data_element(fp, elem, ["iso8859"])
        data = fp.getvalue()
        header = 8 if implicit or elem.VR not in ("SQ", "OB", "OW", "UN", "UT", "UC", "UR") else 12
        out.append(RawDataElement(elem.tag, None if implicit else elem.VR, len(data) - header,
                                  data[header:], 0, implicit, True))
    return tuple(out)


def apply_trial_block(ds: Dataset, t: TrialIdentity, options, dates: str) -> None:
    """:func:`set_identity` and :func:`record_deidentification` in one step, for little-endian
    files (the raw elements carry little-endian bytes); other files get the slow path."""
    syntax = ds.file_meta.TransferSyntaxUID
    if not syntax.is_little_endian or syntax.is_deflated:
        set_identity(ds, t)
        record_deidentification(ds, options, dates, t)
        return
    for raw in _encoded_block(t, options, dates, syntax.is_implicit_VR):
        ds._dict[raw.tag] = raw


def trial_elements(t: TrialIdentity, options, dates: str, implicit: bool) -> tuple[RawDataElement, ...]:
    """The trial and de-identification elements as little-endian raw elements (cached)."""
    return _encoded_block(t, options, dates, implicit)
