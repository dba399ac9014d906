"""Keep only what the object's IOD defines (the trial default), on real DICOM.

Planted in a generated RT study and in pydicom's files: an element from another module at the top
level, an element at a position its IOD does not have it (inside a ROI Contour Sequence item), a
public element written with a wrong VR, and an unknown public tag. Each carries a marker value that
no profile rule touches: by default its bytes are gone from the output and the removal is counted
(``IOD``); under ``keep_non_iod`` (the old behaviour) they are there, so each assertion can fail.
Both anonymiser paths give the same bytes and counts, and what the IOD does define stays.
"""
from __future__ import annotations

import filecmp
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataelem import DataElement

from anonymiser import AnonymiseOptions, anonymise_folder, single
from iod_plants import MARKERS, plant_ct, plant_rtstruct
from sdu import site
from sdu.standard import iod

def _opts(**kw) -> AnonymiseOptions:
    return AnonymiseOptions(**{"trial_id": "T", "site_id": "S", "verify": False, **kw})


def _both_paths(src: Path, dest: Path, options: AnonymiseOptions) -> dict:
    """{byte_path: outcome} for one file through each anonymiser path; their bytes are equal."""
    key = site.load_site_key(None)
    out = {}
    for byte_path in (True, False):
        settings = single.Settings(options, key, str(src.parent), str(dest / str(byte_path)), {}, {}, byte_path=byte_path)
        out[byte_path] = single.anonymise_file(str(src), settings)
        assert out[byte_path].status == "written", out[byte_path].reason
    fast, slow = out[True], out[False]
    assert fast.actions == slow.actions
    assert filecmp.cmp(dest / "True" / fast.output, dest / "False" / slow.output, shallow=False)
    return out


def _planted_copy(path: Path, dest: Path, plant) -> Path:
    ds = pydicom.dcmread(path)
    plant(ds)
    dest.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(dest)
    return dest


@pytest.mark.parametrize("which", ["rtstruct", "ct"])
def test_planted_non_iod_elements_are_removed_and_counted(small_study, tmp_path, which):
    source = small_study.rtstruct if which == "rtstruct" else small_study.ct[0]
    plant = plant_rtstruct if which == "rtstruct" else plant_ct
    planted = _planted_copy(source, tmp_path / "src" / "planted.dcm", plant)
    plain = _planted_copy(source, tmp_path / "plain" / "plain.dcm", lambda ds: None)
    markers = [m for name, m in MARKERS.items() if which == "rtstruct" or name != "nested"]
    assert all(m in planted.read_bytes() for m in markers)

    taken = single.Settings(_opts(), site.load_site_key(None), str(planted.parent), str(tmp_path / "direct"), {}, {})
    assert "IOD" in single._anonymise_bytes(planted, "planted.dcm", taken).actions  # the byte walk itself removes them
    before = _both_paths(plain, tmp_path / "out-plain", _opts())[True]
    after = _both_paths(planted, tmp_path / "out", _opts())[True]
    data = (tmp_path / "out" / "True" / after.output).read_bytes()
    for m in markers:
        assert m not in data, m
    assert after.actions["IOD"] - before.actions.get("IOD", 0) == len(markers)

    kept = _both_paths(planted, tmp_path / "out-kept", _opts(keep_non_iod=True))[True]
    kept_data = (tmp_path / "out-kept" / "True" / kept.output).read_bytes()
    assert all(m in kept_data for m in markers)  # the old behaviour: only a scrub
    assert "IOD" not in kept.actions
    assert iod.keep_declaration() in pydicom.dcmread(tmp_path / "out-kept" / "True" / kept.output).DeidentificationMethod


def test_pydicom_ct_with_planted_elements(tmp_path):
    planted = _planted_copy(Path(get_testdata_file("CT_small.dcm")), tmp_path / "src" / "ct.dcm", plant_ct)
    out = _both_paths(planted, tmp_path / "out", _opts())[True]
    data = (tmp_path / "out" / "True" / out.output).read_bytes()
    for name, m in MARKERS.items():
        assert m not in data, name
    assert out.actions["IOD"] >= 3


def test_what_the_iod_defines_is_kept(small_study, tmp_path):
    """RT ROI contours and their image references, ROI observations (a repaired parse), the dose
    grid and beam sequences survive; removed are only elements the IOD does not have."""
    anonymise_folder(small_study.root, tmp_path / "out", _opts())
    outputs = {pydicom.dcmread(p).Modality: pydicom.dcmread(p) for p in (tmp_path / "out").rglob("*.dcm")}
    sources = {pydicom.dcmread(p).Modality: pydicom.dcmread(p) for p in small_study.files}
    rs = outputs["RTSTRUCT"]
    contour = rs.ROIContourSequence[0].ContourSequence[0]
    assert contour.ContourData and contour.ContourImageSequence[0].ReferencedSOPInstanceUID
    assert len(rs.ROIContourSequence) == len(sources["RTSTRUCT"].ROIContourSequence)
    obs = rs.RTROIObservationsSequence[0]
    assert "RTROIInterpretedType" in obs and obs.RTROIInterpretedType == \
        sources["RTSTRUCT"].RTROIObservationsSequence[0].RTROIInterpretedType
    dose = outputs["RTDOSE"]
    assert dose.GridFrameOffsetVector == sources["RTDOSE"].GridFrameOffsetVector
    assert dose.DoseGridScaling == sources["RTDOSE"].DoseGridScaling and dose.PixelData == sources["RTDOSE"].PixelData
    plan = outputs["RTPLAN"]
    src_plan = sources["RTPLAN"]
    assert len(plan.BeamSequence) == len(src_plan.BeamSequence)
    beam, src_beam = plan.BeamSequence[0], src_plan.BeamSequence[0]
    assert len(beam.ControlPointSequence) == len(src_beam.ControlPointSequence)
    assert beam.ControlPointSequence[0].GantryAngle == src_beam.ControlPointSequence[0].GantryAngle
    assert beam.BeamLimitingDeviceSequence[0].RTBeamLimitingDeviceType == \
        src_beam.BeamLimitingDeviceSequence[0].RTBeamLimitingDeviceType
    assert plan.FractionGroupSequence[0].ReferencedBeamSequence
    ct = outputs["CT"]
    src_ct = next(d for d in map(pydicom.dcmread, small_study.ct) if d.ImagePositionPatient == ct.ImagePositionPatient)
    assert ct.PixelData == src_ct.PixelData and ct.PixelSpacing == src_ct.PixelSpacing


def test_public_element_encoded_as_un_is_read_with_its_dictionary_vr(tmp_path):
    """UN on the wire for a public element the IOD has is not a wrong VR: pydicom re-reads it with
    the dictionary's VR and both paths write it so."""
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    ds._dict[0x00180060] = DataElement(0x00180060, "UN", b"120 ")  # KVP
    (tmp_path / "src").mkdir()
    ds.save_as(tmp_path / "src" / "un.dcm")
    out = _both_paths(tmp_path / "src" / "un.dcm", tmp_path / "out", _opts())[True]
    written = pydicom.dcmread(tmp_path / "out" / "True" / out.output)
    assert written[0x00180060].VR == "DS" and float(written.KVP) == 120


def test_unknown_sop_class_is_judged_against_the_common_modules(small_study, tmp_path):
    ds = pydicom.dcmread(small_study.ct[0])
    ds.SOPClassUID = "1.2.826.0.1.3680043.9.7433.99.1"  # no IOD in the table
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    (tmp_path / "src").mkdir()
    ds.save_as(tmp_path / "src" / "odd.dcm")
    out = _both_paths(tmp_path / "src" / "odd.dcm", tmp_path / "out", _opts())[True]
    assert out.actions["IOD-fallback"] == 1
    written = pydicom.dcmread(tmp_path / "out" / "True" / out.output)
    assert "KVP" in ds and "KVP" not in written  # CT Image module: not a common module
    assert written.PixelData == ds.PixelData and written.Rows == ds.Rows and written.StudyInstanceUID
    tree, known = iod.tree_for(ds.SOPClassUID)
    assert not known and all(iod.child(tree, int(e.tag)) is not None or iod.top_level_kept(int(e.tag))
                             for e in written if not e.tag.is_private)


def test_batch_report_sums_the_iod_removals(small_study, tmp_path):
    report = anonymise_folder(small_study.root, tmp_path / "out", _opts())
    totals = report.to_dict()["actions"]
    assert totals["IOD"] == sum(f.actions.get("IOD", 0) for f in report.files) > 0
