"""The shipped site-wide script over the generated 50-slice RT study, and site+project layering."""
from __future__ import annotations

import hashlib
import io

import pydicom
import pytest

from anonymiser.dicomedit import ScriptContext, default_site_script, load_script, load_scripts
from sdu.studygen import PLANTED

CONTEXT = ScriptContext(variables={"project": "TRIAL1", "subject": "SUBJ01", "session": "SUBJ01_RT"})


def _values(ds, out):
    for elem in ds:
        if elem.VR == "SQ":
            for item in elem.value:
                _values(item, out)
        elif elem.tag != 0x7FE00010:
            out.append(str(elem.value))
    return out


@pytest.fixture
def anonymised(rt_study):
    """Every file of the study after the site script, saved and read back (in memory)."""
    script = load_script(default_site_script(), "xnat-default-site.das")
    assert script.statement_count >= 40
    digests = {p: hashlib.sha256(p.read_bytes()).digest() for p in rt_study.files}
    out = {}
    for path in rt_study.files:
        ds = pydicom.dcmread(path)
        script.apply(ds, CONTEXT)
        buf = io.BytesIO()
        ds.save_as(buf, enforce_file_format=True)
        out[path] = pydicom.dcmread(io.BytesIO(buf.getvalue()))
    assert all(hashlib.sha256(p.read_bytes()).digest() == d for p, d in digests.items())  # originals untouched
    return rt_study, out


def test_identifiers_are_gone(anonymised):
    study, out = anonymised
    for path, ds in out.items():
        text = "\n".join(_values(ds, []) + _values(ds.file_meta, [])).lower()
        leaked = [what for what, value in PLANTED.items() if value.lower() in text]
        assert leaked == [], f"{path.name}: {leaked}"
        assert not any(int(t) >> 16 & 1 for t in ds.keys()), "private tags remain"
        assert ds.PatientName == "SUBJ01" and ds.PatientID == "SUBJ01"
        assert ds.PatientBirthDate == "" and ds.StudyID == "SUBJ01_RT" and ds.PatientIdentityRemoved == "YES"


def test_rt_references_stay_consistent(anonymised):
    study, out = anonymised
    cts = [out[p] for p in study.ct]
    rs, plan, dose = out[study.rtstruct], out[study.rtplan], out[study.rtdose]
    ct_uids = {ds.SOPInstanceUID for ds in cts}
    assert study.uids["study"] not in {ds.StudyInstanceUID for ds in out.values()}
    assert len({ds.StudyInstanceUID for ds in out.values()}) == 1
    assert all(ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID for ds in out.values())
    assert len(ct_uids) == len(cts) and not ct_uids & set(study.uids.values())
    frame = rs.ReferencedFrameOfReferenceSequence[0]
    assert frame.FrameOfReferenceUID == cts[0].FrameOfReferenceUID
    series = frame.RTReferencedStudySequence[0].RTReferencedSeriesSequence[0]
    assert series.SeriesInstanceUID == cts[0].SeriesInstanceUID
    assert {i.ReferencedSOPInstanceUID for i in series.ContourImageSequence} == ct_uids
    contour_refs = {c.ContourImageSequence[0].ReferencedSOPInstanceUID
                    for roi in rs.ROIContourSequence for c in roi.ContourSequence}
    assert contour_refs <= ct_uids
    assert all(roi.ReferencedFrameOfReferenceUID == frame.FrameOfReferenceUID for roi in rs.StructureSetROISequence)
    assert plan.ReferencedStructureSetSequence[0].ReferencedSOPInstanceUID == rs.SOPInstanceUID
    assert dose.ReferencedRTPlanSequence[0].ReferencedSOPInstanceUID == plan.SOPInstanceUID
    assert all(ds.SOPClassUID.startswith("1.2.840.10008.") for ds in out.values())  # class UIDs untouched


def test_site_then_project_script(small_study):
    # XNAT fills in 'project' for a function argument only when the script declares it
    project = ('version "6.6"\ndescribe project hidden\n(0010,0010) := format["{0}_{1}", project, (0010,0010)]\n'
               '(0008,1030) := "project"')
    chain = load_scripts([("site.das", default_site_script()), ("project.das", project)])
    ds = pydicom.dcmread(small_study.ct[0])
    changes = chain.apply(ds, CONTEXT)
    assert ds.PatientName == "TRIAL1_SUBJ01"  # project script saw the site script's result
    assert ds.StudyDescription == "project"
    names = [c.keyword for c in changes]
    assert names.index("PatientName") < len(names) - 2 and names[-1] == "StudyDescription"


def test_site_script_leaves_pixel_data_and_untouched_elements_undecoded(small_study):
    from pydicom.dataelem import RawDataElement
    ds = pydicom.dcmread(small_study.ct[0])
    load_script(default_site_script(), "site.das").apply(ds, CONTEXT)
    assert isinstance(ds._dict[0x7FE00010], RawDataElement)
    assert isinstance(ds._dict[0x00280010], RawDataElement)  # Rows: never addressed
