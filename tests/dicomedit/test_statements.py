"""Each statement type on real files: CT_small.dcm and the generated RT study."""
from __future__ import annotations

import pydicom
import pytest
from pydicom.dataelem import RawDataElement

from anonymiser.dicomedit import ScriptContext, load_script
from sdu.errors import ScriptError


def test_assign_replaces_and_creates_with_dictionary_vr(ct_small, run):
    changes = run('(0010,0010) := "Anon^Patient"\n(0010,2000) := "none"\n(0028,0010) := "64"', ct_small)
    assert ct_small.PatientName == "Anon^Patient"
    assert ct_small["MedicalAlerts"].VR == "LO" and ct_small.MedicalAlerts == "none"
    assert ct_small.Rows == 64 and isinstance(ct_small.Rows, int)
    assert [(c.path, c.keyword) for c in changes] == [
        ("(0010,0010)", "PatientName"), ("(0010,2000)", "MedicalAlerts"), ("(0028,0010)", "Rows")]
    assert changes[0].before == "CompressedSamples^CT1" and changes[1].before is None


def test_assign_multivalued_string_and_numbers(ct_small, run):
    run(r'(0018,7026) := "2.55\\4.99"' + "\n" + r'(0028,0030) := "0.5\\0.5"', ct_small)
    assert list(ct_small[0x00187026].value) == [2.55, 4.99]
    assert [float(v) for v in ct_small.PixelSpacing] == [0.5, 0.5]


def test_assign_non_number_to_numeric_vr_is_an_error_naming_the_line(ct_small, run):
    with pytest.raises(ScriptError) as info:
        run('\n(0028,0010) := "wide"', ct_small)
    assert info.value.line == 3 and "(0028,0010)" in str(info.value) and "wide" not in str(info.value)


def test_assign_if_exists_only_touches_present_elements(ct_small, run):
    changes = run('(0010,0010) ?= "X"\n(0010,2000) ?= "Y"', ct_small)
    assert ct_small.PatientName == "X" and "MedicalAlerts" not in ct_small
    assert len(changes) == 1


def test_delete_public_wildcard_and_file_meta(ct_small, run):
    assert "PatientBirthDate" in ct_small and "PatientSex" in ct_small
    changes = run("-(0010,0030)\n-(0010,004X)\n-(0002,0016)\n-(0010,9999)", ct_small)
    assert "PatientBirthDate" not in ct_small and "PatientSex" not in ct_small
    assert "SourceApplicationEntityTitle" not in ct_small.file_meta
    assert {c.keyword for c in changes} == {"PatientBirthDate", "PatientSex", "SourceApplicationEntityTitle"}
    assert all(c.after is None for c in changes)


def test_odd_and_even_digit_wildcards(ct_small, run):
    # '#' is an odd hex digit, '@' an even one: (0028,0101) BitsStored, (0028,0103) PixelRepresentation
    run("-(0028,010#)", ct_small)
    assert "BitsStored" not in ct_small and "PixelRepresentation" not in ct_small
    assert "BitsAllocated" in ct_small and "HighBit" in ct_small
    run("-(0028,003@)", ct_small)
    assert "PixelSpacing" not in ct_small


@pytest.mark.parametrize("op, value, expect", [
    ("=", "CT", True), ("=", "C", False), ("!=", "CT", False), ("!=", "MR", True),
    ("~", "C.", True), ("~", "C", False),   # regex matching is a full match (Java String.matches)
    ("!~", "C", True), ("!~", "[CM][TR]", False),
])
def test_conditions(ct_small, run, op, value, expect):
    run(f'(0008,0060) {op} "{value}" ? (0008,103E) := "yes" : (0008,103E) := "no"', ct_small)
    assert ct_small.SeriesDescription == ("yes" if expect else "no")


def test_missing_tag_equals_nothing_and_differs_from_everything(ct_small, run):
    run('(0010,2000) = "" ? (0008,103E) := "eq"\n(0010,2000) != "x" ? (0008,1030) := "ne"\n'
        '(0010,2000) ~ ".*" ? (0008,0080) := "m"\n(0010,2000) !~ ".*" ? (0008,0081) := "nm"', ct_small)
    assert "SeriesDescription" not in ct_small and ct_small.StudyDescription == "ne"
    assert ct_small.InstitutionName == "JFK IMAGING CENTER" and ct_small.InstitutionAddress == "nm"


def test_if_elseif_else_and_variables(ct_small, run):
    text = ('describe subject hidden\nmodality := (0008,0060)\nif (modality = "MR") {\n (0008,103E) := "if"\n}\n'
            'elseif (modality = "CT") { (0008,103E) := format["{0}-{1}", modality, subject] }\n'
            'else {\n (0008,103E) := "else"\n}')
    run(text, ct_small)
    assert ct_small.SeriesDescription == "CT-SUBJ01"
    ct_small.Modality = "US"
    run(text, ct_small)
    assert ct_small.SeriesDescription == "else"


def test_unknown_variable_at_run_time_names_it(ct_small):
    script = load_script('version "6.6"\n(0010,0010) := trialSubject', "v.das")
    with pytest.raises(ScriptError) as info:
        script.apply(ct_small, ScriptContext(variables={}))
    assert "trialSubject" in str(info.value) and info.value.line == 2


def test_echo_collects_and_never_prints(ct_small, run, capsys):
    changes = run('echo "start"\necho (0008,0060)\nfalse[] ? echo', ct_small)
    assert changes.echoes == ["start", "CT"]
    assert capsys.readouterr().out == ""
    with pytest.raises(ScriptError) as info:  # XNAT 6.6.0 fails every file on a bare echo: refused at load
        run('echo "start"\necho', ct_small)
    assert info.value.line == 3
    with pytest.raises(ScriptError) as info:  # in a branch: the files that take it
        run('echo "start"\ntrue[] ? echo', ct_small)
    assert info.value.line == 3


def test_nested_sequence_paths_and_depth_wildcards(rtstruct, run):
    contour_refs = [i.ReferencedSOPInstanceUID for i in
                    rtstruct.ReferencedFrameOfReferenceSequence[0].RTReferencedStudySequence[0]
                    .RTReferencedSeriesSequence[0].ContourImageSequence]
    path = "(3006,0010)[0]/(3006,0012)[0]/(3006,0014)[0]/(3006,0016)[1]/(0008,1155)"
    changes = run(f"echo {path}\n{path} := \"1.2.3\"", rtstruct)
    assert changes.echoes == [contour_refs[1]]
    assert changes[0].path == path and changes[0].keyword == "ReferencedSOPInstanceUID"
    seq = rtstruct.ReferencedFrameOfReferenceSequence[0].RTReferencedStudySequence[0]
    assert seq.RTReferencedSeriesSequence[0].ContourImageSequence[1].ReferencedSOPInstanceUID == "1.2.3"
    # '.': exactly one level; '+': one or more; '*': zero or more
    one = run('./(0008,1155) ?= "1.2.7"', rtstruct)
    assert one == []  # (0008,1155) sits three and more levels down
    deep = run('+/(0008,1155) ?= "1.2.9"', rtstruct)
    n_refs = len(deep)
    assert n_refs > len(contour_refs)  # study reference + contour images + contour-level references
    assert run('(3006,0010)[%]/+/(0008,1155) ?= "1.2.8"', rtstruct)[0].path.startswith("(3006,0010)[0]/")
    assert len(run('-*/(0020,000E)', rtstruct)) == 2  # top level and in the referenced series


def test_item_selector_and_item_deletion(rtstruct, run):
    n = len(rtstruct.StructureSetROISequence)
    changes = run("-(3006,0020)[0]\n-(3006,0020)[%]/(3006,0028)", rtstruct)
    # as XNAT does: the item is emptied and kept, so the items after it keep their numbers
    assert len(rtstruct.StructureSetROISequence) == n and len(rtstruct.StructureSetROISequence[0]) == 0
    assert changes[0].before == "<sequence item>"
    assert all("ROIDescription" not in item for item in rtstruct.StructureSetROISequence)


def test_assign_creates_sequence_items(ct_small, run):
    run('(0008,1072)[0]/(0008,0080) := "WUSTL"', ct_small)
    assert ct_small.OperatorIdentificationSequence[0].InstitutionName == "WUSTL"


def test_private_creator_block_read_assign_delete(small_study, run):
    ds = pydicom.dcmread(small_study.ct[0])
    block = ds.private_block(0x0011, "ALDHELM RT 1.0")
    original = block[0x10].value
    assert "Quixtable" in original
    changes = run('echo (0011,{ALDHELM RT 1.0}10)\n(0011,{ALDHELM RT 1.0}10) := "pseudo"\n'
                  '(0013,{SDU TEST}01) := "new block"\n(0011,{OTHER}10) = "x" ? -(0010,0010)', ds)
    assert changes.echoes == [original]
    assert ds.private_block(0x0011, "ALDHELM RT 1.0")[0x10].value == "pseudo"
    new = ds.private_block(0x0013, "SDU TEST")[0x01]  # XNAT writes a new private element as UN bytes
    assert new.VR == "UN" and new.value == b"new block\0"
    assert "PatientName" in ds  # unknown creator: the condition is false
    assert ds.private_block(0x0011, "OTHER").get_tag(0x10)  # ... and reading by it added the creator
    run("-(0011,{ALDHELM RT 1.0}XX)", ds)
    assert not any(int(t) >> 16 == 0x11 and (int(t) & 0xFFFF) > 0xFF for t in ds.keys())


def test_remove_all_private_tags_recurses_into_sequences(small_study, run):
    ds = pydicom.dcmread(small_study.ct[0])
    ds.OtherPatientIDsSequence[0].private_block(0x0029, "SEQ PRIV", create=True).add_new(0x01, "LO", "x")
    run("removeAllPrivateTags", ds)
    assert not any(int(t) >> 16 & 1 for t in ds.keys())
    assert not any(int(t) >> 16 & 1 for t in ds.OtherPatientIDsSequence[0].keys())


def test_only_addressed_elements_are_decoded(small_study, run):
    ds = pydicom.dcmread(small_study.ct[0])
    run('(0010,0010) := subject\n-(0010,1040)\n(0008,0060) = "CT" ? (0020,0010) := session', ds)
    raw = [t for t, e in ds._dict.items() if isinstance(e, RawDataElement)]
    assert 0x7FE00010 in raw and len(raw) > 30
    assert 0x00100010 not in raw
