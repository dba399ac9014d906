"""Each built-in function on real files (CT_small.dcm, MR_small_RLE.dcm, the generated study)."""
from __future__ import annotations

import hashlib
import io
import uuid

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.uid import ExplicitVRLittleEndian

from anonymiser.dicomedit import ScriptContext, load_script
from anonymiser.dicomedit.functions import REGISTRY
from sdu.errors import ScriptError


def echo(run, ds, expr, **variables):
    return run(f"echo {expr}", ds, **variables).echoes[0]


@pytest.mark.parametrize("expr, expected", [
    ('format["{0}_{1}_{0}", "a", (0008,0060)]', "a_CT_a"),
    ("format[\"'{0}' is {0}, it''s\", \"x\"]", "{0} is x, it's"),
    ("lowercase[(0008,0060)]", "ct"),
    ('uppercase["ab"]', "AB"),
    ('replace[substring["0123456789", 0, 8], "3", "0"]', "01204567"),
    ('substring["0123456789", 4]', "456789"),
    ('concatenate["10", "20", (0008,0060)]', "1020CT"),
    ('match["id: abc-123!", "([a-z]+)-([0-9]+)", 2]', "123"),  # match finds (Matcher.find), unlike ~
])
def test_string_functions(ct_small, run, expr, expected):
    assert echo(run, ct_small, expr) == expected


@pytest.mark.parametrize("name", ["urlEncode", "getURLParam", "shiftTimeByIncrement"])
def test_functions_xnat_1_8_10_lacks_are_refused_at_load(name):
    with pytest.raises(ScriptError) as info:
        load_script(f'version "6.6"\n(0010,4000) := {name}["a", "1"]\n', "f.das")
    assert info.value.line == 2 and "6.6.0" in str(info.value)


def test_string_function_errors_name_the_line(ct_small, run):
    with pytest.raises(ScriptError) as info:
        run('\n\necho substring["abc", 2, 9]', ct_small)
    assert info.value.line == 4 and "out of range" in str(info.value)


def test_hash_uid_is_xnats_name_based_uuid(ct_small, run):
    study = ct_small.StudyInstanceUID
    run("(0020,000D) := hashUID[(0020,000D)]", ct_small)
    # XNAT: SHA-1 of the bytes with no namespace, stamped as a version-5 UUID, written under 2.25
    as_uuid = uuid.UUID(bytes=hashlib.sha1(study.encode()).digest()[:16], version=5)
    assert ct_small.StudyInstanceUID == f"2.25.{as_uuid.int}"
    assert len(ct_small.StudyInstanceUID) <= 64
    again = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    run("(0020,000D) := hashUID[(0020,000D)]", again)
    assert again.StudyInstanceUID == ct_small.StudyInstanceUID


def test_hash_uid_list_hashes_every_value_in_place(rtstruct, run):
    def refs_now():
        return [c.ContourImageSequence[0].ReferencedSOPInstanceUID for c in rtstruct.ROIContourSequence[0].ContourSequence]
    refs = refs_now()
    changes = run("hashUIDList[*/(0008,1155), (0020,000D)]", rtstruct)
    hashed = refs_now()
    assert all(h.startswith("2.25.") and h != r for h, r in zip(hashed, refs))
    assert len(set(hashed)) == len(set(refs))
    assert any(c.keyword == "StudyInstanceUID" for c in changes)


def test_new_uid_is_fresh_each_time(ct_small, run):
    run("(0008,1195) := newUID[]\n(0020,0052) := newUID[]", ct_small)
    a, b = ct_small[0x00081195].value, ct_small.FrameOfReferenceUID
    assert a != b and a.startswith("2.25.") and len(a) <= 64


@pytest.mark.parametrize("expr, expected", [
    # XNAT's own cases (TestShiftDateTimeByIncrementFunction): precision and digits kept
    ('shiftDateTimeByIncrement["20200101120000", "10", "seconds"]', "20200101120010"),
    ('shiftDateTimeByIncrement["20200101120000.4", "10", "seconds"]', "20200101120010.4"),
    ('shiftDateTimeByIncrement["20200101120000.050", "10"]', "20200101120010.050"),
    ('shiftDateTimeByIncrement["20200101120000.800666", 10, "seconds"]', "20200101120010.800666"),
    ('shiftDateTimeByIncrement["20240115131415", 6, "days"]', "20240121131415"),
    ('shiftDateTimeByIncrement["20220519134723-0500", -1, "hours"]', "20220519124723-0500"),
    ('shiftDateTimeByIncrement["202205", 40, "days"]', "202206"),
    ('shiftDateByIncrement[(0008,0020), "-30"]', "20031220"),  # StudyDate 20040119
])
def test_date_shifts(ct_small, run, expr, expected):
    assert echo(run, ct_small, expr) == expected


def test_date_shift_in_place_over_sequences(small_study, run):
    ds = pydicom.dcmread(small_study.rtplan)
    ds.FractionGroupSequence[0].add_new(0x00189074, "DT", "20240101000000")
    run('shiftDateTimeSequenceByIncrement["3600", "*/(0018,9074)"]', ds)
    assert ds.FractionGroupSequence[0][0x00189074].value == "20240101010000"


def test_bad_date_and_unit_are_script_errors(ct_small, run):
    with pytest.raises(ScriptError, match="not a DICOM date"):
        run('echo shiftDateByIncrement["2020-01-01", 1]', ct_small)
    with pytest.raises(ScriptError, match="needs an element with VR DA"):  # XNAT: a PN is no date
        run('echo shiftDateByIncrement[(0010,0010), 1]', ct_small)
    with pytest.raises(ScriptError, match="unknown increment unit"):
        run('echo shiftDateTimeByIncrement[(0008,0020), 1, "fortnights"]', ct_small)


def test_lookup_uses_the_context_table_and_fails_closed(ct_small):
    table = {("pid", "1CT1"): "SUBJ-007"}
    script = load_script('version "6.6"\n(0010,0020) := lookup["pid", (0010,0020)]', "l.das")
    script.apply(ct_small, ScriptContext(lookup=lambda cat, key: table.get((cat, key))))
    assert ct_small.PatientID == "SUBJ-007"
    with pytest.raises(ScriptError, match="no entry in 'pid'") as info:
        script.apply(ct_small, ScriptContext(lookup=lambda cat, key: table.get((cat, key))))
    assert "SUBJ-007" not in str(info.value)
    with pytest.raises(ScriptError, match="linkage store"):
        script.apply(ct_small, ScriptContext())


def test_set_uses_a_path_string(rtstruct, run):
    run('describe subject hidden\nset["(0010,0010)", subject]\nset["(3006,0020)[1]/(3006,0026)", "Renamed"]', rtstruct)
    assert rtstruct.PatientName == "SUBJ01" and rtstruct.StructureSetROISequence[1].ROIName == "Renamed"


def test_blank_values_blanks_every_copy(small_study, run):
    ds = pydicom.dcmread(small_study.ct[0])
    ds.InstitutionAddress = ds.PatientAddress  # the patient's address copied into another element
    changes = run("blankValues[(0010,1040), \"F\"]", ds)
    assert ds.PatientAddress == "" and ds.InstitutionAddress == "" and ds.PatientSex == ""
    assert {c.keyword for c in changes} == {"PatientAddress", "InstitutionAddress", "PatientSex"}


def test_delete_and_is_present(ct_small, run):
    changes = run('isPresent[(0010,0030)] ? delete[(0010,0030), "(0010,0040)"]\n'
                  'isPresent[(0010,0030)] ? echo "still" : echo "gone"', ct_small)
    assert "PatientBirthDate" not in ct_small and "PatientSex" not in ct_small
    assert changes.echoes == ["gone"]


def test_retain_private_tags_keeps_named_blocks_only(ct_small, run):
    kept = ct_small.private_block(0x0019, "GEMS_ACQU_01")[0x02].value
    run('retainPrivateTags[(0019,{GEMS_ACQU_01}0X), "(0043,{GEMS_PARM_01}10)"]', ct_small)
    groups = {int(t) >> 16 for t in ct_small.keys() if int(t) >> 16 & 1}
    assert groups == {0x0019, 0x0043}
    assert ct_small.private_block(0x0019, "GEMS_ACQU_01")[0x02].value == kept
    assert 0x00191010 not in ct_small  # same block, element outside 0X
    assert [int(t) for t in ct_small.keys() if int(t) >> 16 == 0x43] == [0x00430010, 0x00431010]


def test_retain_private_tags_rejects_public_paths(ct_small, run):
    with pytest.raises(ScriptError, match="private tag paths"):
        run("retainPrivateTags[(0028,0010)]", ct_small)


def test_alter_pixels_blanks_a_rectangle_only(ct_small, run):
    before = ct_small.pixel_array.copy()
    changes = run('alterPixels["rectangle", "l=10, t=20, r=30, b=25", "solid", "v=0"]', ct_small)
    after = ct_small.pixel_array
    assert (after[20:25, 10:30] == 0).all()
    mask = np.ones_like(before, dtype=bool)
    mask[20:25, 10:30] = False
    assert (after[mask] == before[mask]).all() and (before[20:25, 10:30] != 0).any()
    assert changes[-1].keyword == "PixelData"


def test_alter_pixels_decompresses_rle_and_writes_back(run):
    ds = pydicom.dcmread(get_testdata_file("MR_small_RLE.dcm"))
    run('alterPixels["rectangle", "l=0, t=0, r=8, b=4", "solid", "v=7"]', ds)
    assert ds.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    buf = io.BytesIO()
    ds.save_as(buf)
    back = pydicom.dcmread(io.BytesIO(buf.getvalue()))
    assert (back.pixel_array[0:4, 0:8] == 7).all()


def test_alter_pixels_bad_request_is_a_script_error(ct_small, run):
    with pytest.raises(ScriptError, match="unsupported shape"):
        run('alterPixels["circle", "l=0, t=0, r=8, b=4", "solid", "v=0"]', ct_small)


def test_every_registered_function_is_exercised_here():
    import inspect
    import sys
    source = inspect.getsource(sys.modules[__name__]) + open(__file__.replace("test_functions", "test_parser")).read() \
        + open(__file__.replace("test_functions", "test_xnat_semantics")).read() \
        + open(__file__.replace("test_functions", "test_engine_order")).read()
    unused = [name for name, spec in REGISTRY.items() if spec.impl is not None and f"{name}[" not in source]
    assert unused == []
