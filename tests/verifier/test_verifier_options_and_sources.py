"""Options declared per file are honoured; identifiers may come from the linkage store; the pool agrees."""
from __future__ import annotations

import pydicom
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from sdu.linkage import LinkageStore
from sdu.studygen import StudySpec, generate_study
from verifier import VerifyOptions, verify_folder
from verifier_cleanset import DEFAULT_CODES, make_clean_set

INSTITUTION = ("113112",)


def _resave(paths, change):
    for path in paths:
        ds = pydicom.dcmread(path)
        change(ds)
        ds.save_as(path, enforce_file_format=True)


def test_retain_institution_identity_is_honoured(source_study, tmp_path):
    out = tmp_path / "inst"
    make_clean_set(source_study.root, out, DEFAULT_CODES + INSTITUTION)
    files = sorted(out.rglob("*.dcm"))
    assert all("Aldhelm" in str(pydicom.dcmread(p).InstitutionName) for p in files)  # kept, as the option allows
    assert verify_folder(out, VerifyOptions(against=source_study.root)).ok
    # the patient's address copied into the institution's is still an identifier under the option
    patient_address = pydicom.dcmread(source_study.ct[0]).PatientAddress
    _resave(files[:1], lambda ds: setattr(ds, "InstitutionAddress", patient_address))
    report = verify_folder(out, VerifyOptions(against=source_study.root))
    assert {(x.check, x.keyword_path, x.message) for f in report.files for x in f.findings} == {
        ("identifiers", "InstitutionAddress", "contains a word of the patient's address (from source)")}
    _resave(files[:1], lambda ds: delattr(ds, "InstitutionAddress"))
    assert verify_folder(out, VerifyOptions(against=source_study.root)).ok

    # the same file without the option declared: institution words are identifiers again
    def drop_option(ds):
        ds.DeidentificationMethodCodeSequence = Sequence(
            [i for i in ds.DeidentificationMethodCodeSequence if i.CodeValue != "113112"])
    _resave(files[:1], drop_option)
    report = verify_folder(out, VerifyOptions(against=source_study.root))
    [failed] = [f for f in report.files if not f.ok]
    found = {(x.check, x.keyword_path) for x in failed.findings}
    assert ("identifiers", "InstitutionName") in found
    assert ("profile", "InstitutionalDepartmentName") in found   # X unless the option is declared


def test_retain_device_identity_is_honoured(source_study, tmp_path):
    out = tmp_path / "dev"
    make_clean_set(source_study.root, out, DEFAULT_CODES + ("113109",))
    # StationName "ALDHELM-CT-07" and TreatmentMachineName are kept; naming the institution is allowed
    assert verify_folder(out, VerifyOptions(against=source_study.root)).ok
    # ...but a person's name in a device element is not
    [ct] = [p for p in sorted(out.rglob("*.dcm")) if pydicom.dcmread(p).Modality == "CT"][:1]
    _resave([ct], lambda ds: setattr(ds, "StationName", "BRACKENBURY-PC"))
    [failed] = [f for f in verify_folder(out, VerifyOptions(against=source_study.root)).files if not f.ok]
    [f] = failed.findings
    assert (f.check, f.keyword_path, f.message) == ("identifiers", "StationName", "contains a person's name (from source)")


def _linkage(path, source_study, uids=True):
    p = source_study.patient
    with LinkageStore(path) as store:
        store.add_identifiers("T1", "TRIAL-S001", [("PatientName", p.name), ("PatientID", p.patient_id),
                                                  ("PatientBirthDate", p.birth_date), ("AccessionNumber", p.accession)])
        if uids:
            store.add_uids("T1", "TRIAL-S001", [(u, "2.25.1") for u in source_study.uids.values()])
    return path


def test_linkage_store_supplies_identifiers_and_uids(clean, source_study, tmp_path):
    db = _linkage(tmp_path / "linkage.db", source_study)
    opts = VerifyOptions(linkage_db=db, trial="T1")
    report = verify_folder(clean.root, opts)
    assert report.ok and {"identifiers", "uids"} <= set(report.checks)

    ds = pydicom.dcmread(clean.path("CT"))
    ds.ImageComments = "accession ACC7734521"
    ds.ReferencedImageSequence[0].ReferencedSOPInstanceUID = source_study.uids["ct3"]
    ds.save_as(clean.path("CT"), enforce_file_format=True)
    [failed] = [f for f in verify_folder(clean.root, opts).files if not f.ok]
    found = {(x.check, x.keyword_path, x.message) for x in failed.findings}
    assert ("identifiers", "ImageComments", "contains an accession number (from linkage store)") in found
    assert ("uids", "ReferencedImageSequence[0].ReferencedSOPInstanceUID", "is an original UID (not replaced)") in found
    # another trial's records are not used
    assert verify_folder(clean.root, VerifyOptions(linkage_db=db, trial="OTHER")).notes


def _code(value):
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, "DCM", "option"
    return item


def test_retain_safe_private_allows_only_the_safe_list(clean, source_study):
    path = clean.path("CT")
    ds = pydicom.dcmread(path)
    ds.DeidentificationMethodCodeSequence.append(_code("113111"))
    block = ds.private_block(0x0019, "GEMS_ACQU_01", create=True)
    block.add_new(0x23, "DS", "39.375")    # Table Speed: on the safe list
    ds.save_as(path, enforce_file_format=True)
    assert verify_folder(clean.root, VerifyOptions(against=source_study.root)).ok

    block.add_new(0x99, "LO", "unknown")   # not on the list
    ds.save_as(path, enforce_file_format=True)
    [failed] = [f for f in verify_folder(clean.root, VerifyOptions(against=source_study.root)).files if not f.ok]
    [f] = failed.findings
    assert (f.check, f.tag_path) == ("private", "(0019,1099)") and "safe private list" in f.message


def test_pool_and_in_process_agree(tmp_path):
    src = generate_study(tmp_path / "src", StudySpec(slices=60, rows=16, columns=16)).root
    out = tmp_path / "out"
    by_mod = make_clean_set(src, out)
    ds = pydicom.dcmread(by_mod["RTSTRUCT"])
    ds.StructureSetROISequence[0].ROIName = "Quixtable"
    ds.save_as(by_mod["RTSTRUCT"], enforce_file_format=True)
    one = verify_folder(out, VerifyOptions(against=src, workers=1)).to_dict()
    two = verify_folder(out, VerifyOptions(against=src, workers=2)).to_dict()
    assert one == two and one["files_total"] == 63 and one["files_failed"] == 1


def test_linkage_kinds_that_are_not_keywords(clean, tmp_path):
    with LinkageStore(tmp_path / "l.db") as store:
        store.add_identifiers("T1", "S1", [("patient name", "Quixtable"), ("staff name", "Brackenbury^Ingrid"),
                                           ("hospital number", "HOSP483920")])
    opts = VerifyOptions(linkage_db=tmp_path / "l.db", trial="T1")
    assert verify_folder(clean.root, opts).ok
    ds = pydicom.dcmread(clean.path("CT"))
    ds.ImageComments = "Quixtable / ingrid / HOSP483920"
    ds.save_as(clean.path("CT"), enforce_file_format=True)
    [failed] = [f for f in verify_folder(clean.root, opts).files if not f.ok]
    [f] = failed.findings
    assert f.keyword_path == "ImageComments"
    assert f.message == ("contains a person's name (from linkage store); a recorded identifier (hospital number) "
                         "(from linkage store); the patient's name (from linkage store)")
