"""Scenario: the generated coherent RT study through the anonymiser (verifier switched off here;
tests/test_rt_study_end_to_end.py runs both)."""
import hashlib
import os
import re
import stat

import pydicom
import pytest

from anonymiser import AnonymiseOptions, anonymise_folder
from sdu.errors import ConfigError
from sdu.linkage import LinkageStore
from sdu.studygen import PLANTED


def _opts(**kw):
    base = dict(trial_id="TRIAL1", site_id="SITE01", verify=False)
    return AnonymiseOptions(**{**base, **kw})


def _outputs(dest):
    return sorted(p for p in dest.rglob("*.dcm"))


def _digest(folder):
    return {p.relative_to(folder): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_counts_originals_untouched_and_pixels_bit_identical(rt_study, tmp_path):
    before = _digest(rt_study.root)
    report = anonymise_folder(rt_study.root, tmp_path / "out", _opts())
    assert _digest(rt_study.root) == before
    assert report.ok and report.failed == 0 and report.written == len(rt_study.files) == 53
    outs = _outputs(tmp_path / "out")
    assert len(outs) == 53
    src_pixels = {pydicom.dcmread(p).InstanceNumber: pydicom.dcmread(p)["PixelData"].value for p in rt_study.ct}
    n = 0
    for p in outs:
        ds = pydicom.dcmread(p)
        if ds.Modality == "CT":
            assert ds["PixelData"].value == src_pixels[ds.InstanceNumber]
            n += 1
    assert n == 50


def test_no_planted_identifier_in_any_output_byte(rt_study, tmp_path):
    anonymise_folder(rt_study.root, tmp_path / "out", _opts())
    blobs = [p.read_bytes().lower() for p in (tmp_path / "out").rglob("*") if p.is_file()]
    for kind, value in PLANTED.items():
        hits = sum(value.lower().encode() in b for b in blobs)
        assert hits == 0, f"{kind} found in {hits} output files"


def test_references_follow_the_new_uids_and_roi_names_are_kept(rt_study, tmp_path):
    anonymise_folder(rt_study.root, tmp_path / "out", _opts())
    by_modality = {}
    for p in _outputs(tmp_path / "out"):
        ds = pydicom.dcmread(p)
        by_modality.setdefault(ds.Modality, []).append(ds)
    cts, (rs,), (plan,), (dose,) = by_modality["CT"], by_modality["RTSTRUCT"], by_modality["RTPLAN"], by_modality["RTDOSE"]
    ct_uids = {c.SOPInstanceUID for c in cts}
    original = set(rt_study.uids.values())
    assert not ct_uids & original
    contour_refs = {img.ReferencedSOPInstanceUID for roi in rs.ROIContourSequence for c in roi.get("ContourSequence", [])
                    for img in c.ContourImageSequence}
    assert contour_refs and contour_refs <= ct_uids
    frame = rs.ReferencedFrameOfReferenceSequence[0]
    assert frame.FrameOfReferenceUID == cts[0].FrameOfReferenceUID
    series = frame.RTReferencedStudySequence[0].RTReferencedSeriesSequence[0]
    assert series.SeriesInstanceUID == cts[0].SeriesInstanceUID
    assert {i.ReferencedSOPInstanceUID for i in series.ContourImageSequence} == ct_uids
    assert plan.ReferencedStructureSetSequence[0].ReferencedSOPInstanceUID == rs.SOPInstanceUID
    assert dose.ReferencedRTPlanSequence[0].ReferencedSOPInstanceUID == plan.SOPInstanceUID
    assert len({d.StudyInstanceUID for d in (*cts, rs, plan, dose)}) == 1
    assert [r.ROIName for r in rs.StructureSetROISequence] == [
        "External", "PTV_High", "CTV_High", "GTVp", "Bladder", "Rectum", "Femur_Head_L", "Femur_Head_R"]
    assert rs.SOPClassUID == "1.2.840.10008.5.1.4.1.1.481.3"  # well-known UIDs untouched
    assert plan.ReferencedStructureSetSequence[0].ReferencedSOPClassUID == rs.SOPClassUID


def test_trial_module_and_deidentification_record(small_study, tmp_path):
    report = anonymise_folder(small_study.root, tmp_path / "out", _opts(subject_id="TR-001", sponsor="Sponsor Ltd"))
    ds = pydicom.dcmread(_outputs(tmp_path / "out")[0])
    assert ds.PatientName == "TR-001" and ds.PatientID == "TR-001" and ds.ClinicalTrialSubjectID == "TR-001"
    assert ds.ClinicalTrialProtocolID == "TRIAL1" and ds.ClinicalTrialSiteID == "SITE01"
    assert ds.ClinicalTrialSponsorName == "Sponsor Ltd"
    assert ds.PatientIdentityRemoved == "YES"
    assert [i.CodeValue for i in ds.DeidentificationMethodCodeSequence] == ["113100", "113105", "113107"]
    assert ds.LongitudinalTemporalInformationModified == "MODIFIED"
    assert report.subjects == ["TR-001"]


def test_dates_shift_consistently_per_subject(small_study, tmp_path):
    anonymise_folder(small_study.root, tmp_path / "out", _opts())
    dates = {pydicom.dcmread(p).StudyDate for p in _outputs(tmp_path / "out")}
    assert len(dates) == 1 and dates != {"20240611"}
    from datetime import date
    d = dates.pop()
    shift = (date(int(d[:4]), int(d[4:6]), int(d[6:])) - date(2024, 6, 11)).days
    assert -3650 <= shift <= -30
    # full dates option keeps them; bare basic profile replaces them with a dummy
    anonymise_folder(small_study.root, tmp_path / "full", _opts(profile_options=("retain-full-dates",)))
    assert {pydicom.dcmread(p).StudyDate for p in _outputs(tmp_path / "full")} == {"20240611"}
    anonymise_folder(small_study.root, tmp_path / "bare", _opts(profile_options=()))
    ds = pydicom.dcmread(_outputs(tmp_path / "bare")[0])
    assert ds.StudyDate in ("", "19000101") and ds.LongitudinalTemporalInformationModified == "REMOVED"


def test_same_key_same_output_across_runs_and_batches(small_study, tmp_path):
    anonymise_folder(small_study.root, tmp_path / "a", _opts())
    # a second batch with only some files, another day: the same UIDs and subject
    part = tmp_path / "part"
    part.mkdir()
    (part / "one.dcm").write_bytes(small_study.rtplan.read_bytes())
    anonymise_folder(part, tmp_path / "b", _opts())
    a = {p.name for p in _outputs(tmp_path / "a")}
    b = {p.relative_to(tmp_path / "b") for p in _outputs(tmp_path / "b")}
    assert len(b) == 1 and next(iter(b)).name in a
    assert (tmp_path / "a" / next(iter(b))).read_bytes() == (tmp_path / "b" / next(iter(b))).read_bytes()


def test_another_site_key_gives_other_pseudonyms(small_study, tmp_path, monkeypatch):
    r1 = anonymise_folder(small_study.root, tmp_path / "a", _opts())
    monkeypatch.setenv("SDU_SITE_DIR", str(tmp_path / "other-site"))
    r2 = anonymise_folder(small_study.root, tmp_path / "b", _opts())
    assert r1.subjects != r2.subjects
    assert not {p.name for p in _outputs(tmp_path / "a")} & {p.name for p in _outputs(tmp_path / "b")}


def test_site_key_and_linkage_are_private_files(small_study, tmp_path, site_dir):
    anonymise_folder(small_study.root, tmp_path / "out", _opts())
    for name in ("site.key", "linkage.sqlite"):
        mode = stat.S_IMODE(os.stat(site_dir / name).st_mode)
        assert mode == 0o600, (name, oct(mode))


def test_linkage_lets_the_site_reidentify(small_study, tmp_path, site_dir):
    report = anonymise_folder(small_study.root, tmp_path / "out", _opts())
    with LinkageStore(site_dir / "linkage.sqlite") as store:
        link = store.patient_for_subject("TRIAL1", report.subjects[0])
        assert link.patient_id == small_study.patient.patient_id
        (study_uid, session, new_study), = store.sessions("TRIAL1", report.subjects[0])
        assert study_uid == small_study.uids["study"] and session == report.sessions[0]
        assert store.original_uid(new_study) == study_uid


def test_manual_subject_id_conflicts_are_refused(small_study, tmp_path):
    anonymise_folder(small_study.root, tmp_path / "a", _opts(subject_id="TR-001"))
    with pytest.raises(ConfigError, match="already enrolled"):
        anonymise_folder(small_study.root, tmp_path / "b", _opts(subject_id="TR-002"))
    # auto mode reuses the trial-assigned ID of a known patient
    report = anonymise_folder(small_study.root, tmp_path / "c", _opts())
    assert report.subjects == ["TR-001"]


def test_destination_inside_source_is_refused(small_study):
    with pytest.raises(ConfigError, match="inside the source"):
        anonymise_folder(small_study.root, small_study.root / "out", _opts())


def test_private_elements_removed_at_every_depth(small_study, tmp_path):
    ds = pydicom.dcmread(small_study.rtstruct)
    item = ds.RTROIObservationsSequence[0]
    item.private_block(0x0013, "DEEP CREATOR", create=True).add_new(0x01, "LO", "deep private")
    ds.save_as(small_study.rtstruct)
    anonymise_folder(small_study.root, tmp_path / "out", _opts())
    for p in _outputs(tmp_path / "out"):
        out = pydicom.dcmread(p)
        assert not [e for e in out.iterall() if e.tag.is_private], p


def test_retain_safe_private_keeps_only_the_safe_list(small_study, tmp_path):
    ds = pydicom.dcmread(small_study.ct[0])
    ds.private_block(0x0043, "GEMS_PARM_01", create=True).add_new(0x27, "SH", "1.375:1")
    ds.private_block(0x0043, "GEMS_PARM_01").add_new(0x28, "LO", "unsafe")
    ds.save_as(small_study.ct[0])
    anonymise_folder(small_study.root, tmp_path / "out", _opts(profile_options=("retain-safe-private",)))
    kept = []
    for p in _outputs(tmp_path / "out"):
        kept += [(e.tag, e.value) for e in pydicom.dcmread(p).iterall() if e.tag.is_private]
    values = [v for _, v in kept]
    assert "1.375:1" in values and "unsafe" not in values
    assert not any("ALDHELM" in str(v) for v in values)


def test_a_script_cannot_steer_output_paths(small_study, tmp_path):
    script = 'version "6.6"\n(0008,0018) := "../../escaped"\n'  # every file the same bad UID
    for options, name in (((), r"2\.25\.[0-9]+(\.v[0-9]+)?\.dcm"), (("retain-uids",), r"[0-9a-f]{32}(\.v[0-9]+)?\.dcm")):
        dest = tmp_path / f"out{len(options)}"
        report = anonymise_folder(small_study.root, dest, _opts(scripts=(("evil.das", script),), profile_options=options))
        assert report.written == len(small_study.files)
        assert not list(tmp_path.rglob("escaped*"))
        assert all(re.fullmatch(name, p.name) for p in _outputs(dest)), [p.name for p in _outputs(dest)]


def test_retain_uids_keeps_uids_but_not_in_file_names(small_study, tmp_path):
    anonymise_folder(small_study.root, tmp_path / "out", _opts(profile_options=("retain-uids",)))
    outs = _outputs(tmp_path / "out")
    assert {pydicom.dcmread(p).SOPInstanceUID for p in outs} == {
        pydicom.dcmread(p).SOPInstanceUID for p in small_study.files}
    originals = set(small_study.uids.values())
    assert not any(part in originals for p in outs for part in p.relative_to(tmp_path / "out").parts)


def test_session_id_names_one_study(small_study, tmp_path):
    other = tmp_path / "two"
    other.mkdir()
    (other / "a.dcm").write_bytes(small_study.ct[0].read_bytes())
    ds = pydicom.dcmread(small_study.ct[1])
    ds.StudyInstanceUID = "1.2.3.4.999"
    ds.save_as(other / "b.dcm")
    with pytest.raises(ConfigError, match="2 studies"):
        anonymise_folder(other, tmp_path / "out", _opts(session_id="S1"))


def test_dates_the_table_does_not_list_follow_the_profile(small_study, tmp_path):
    ds = pydicom.dcmread(small_study.rtplan)
    ds.StudyUpdateDateTime = ds.StudyDate + "101500"  # (0008,041F): not in Table E.1-1 (nor in the IOD table:
    ds.save_as(small_study.rtplan)                     # kept only under --keep-non-iod)
    anonymise_folder(small_study.root, tmp_path / "mod", _opts(keep_non_iod=True))
    anonymise_folder(small_study.root, tmp_path / "bare", _opts(profile_options=(), keep_non_iod=True))
    plan = lambda d: next(pydicom.dcmread(p) for p in _outputs(d) if pydicom.dcmread(p).Modality == "RTPLAN")  # noqa: E731
    shifted, dummy = plan(tmp_path / "mod"), plan(tmp_path / "bare")
    assert shifted.StudyUpdateDateTime[8:] == "101500" and shifted.StudyUpdateDateTime[:8] == shifted.StudyDate
    assert dummy.StudyUpdateDateTime.startswith("19000101")


def test_accented_names_are_scrubbed_in_the_file_character_set(small_study, tmp_path):
    for path in small_study.files:  # ISO_IR 100 (Latin-1): "Müller" is not its UTF-8 bytes on disk
        ds = pydicom.dcmread(path)
        ds.PatientName = "Müller^Zoë"
        ds.StudyDescription = "Planning CT for Müller"
        ds.save_as(path)
    anonymise_folder(small_study.root, tmp_path / "out", _opts())
    for p in _outputs(tmp_path / "out"):
        assert "XXXX" in str(pydicom.dcmread(p).StudyDescription)
        assert "Müller".encode("latin-1") not in p.read_bytes()
