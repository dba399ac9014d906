"""XNAT 6.6.0's semantics, each found by running NRG's engine (shared/oracles/dicomedit6) on the
same file: these tests pin them without Java, test_differential.py checks them against the engine."""
from __future__ import annotations

import pydicom
import pytest
from pydicom.data import get_testdata_file

from anonymiser.dicomedit import ScriptContext, load_script
from sdu.errors import ScriptError


@pytest.fixture
def mr_small():
    return pydicom.dcmread(get_testdata_file("MR_small.dcm"))


@pytest.fixture
def rtplan():
    return pydicom.dcmread(get_testdata_file("rtplan.dcm"))


def test_remove_tags_takes_paths_lists_and_wildcards(ct_small, run):
    run("removeTags[(0010,0010), {(0008,0090), (0008,00#0)}, \\\n    (0010,0020)]", ct_small)
    for keyword in ("PatientName", "PatientID", "ReferringPhysicianName", "StudyTime", "Manufacturer"):
        assert keyword not in ct_small
    assert "StudyDate" in ct_small  # (0008,0020): the last digit is even, '#' wants odd


def test_normalize_string_replaces_non_ascii(ct_small, run):
    run('(0010,4000) := normalizeString["Smith, Jöhn / 2"]\n(0010,21B0) := normalizeString["Zoë", "-"]', ct_small)
    assert ct_small.PatientComments == "Smith, J_hn / 2" and ct_small.AdditionalPatientHistory == "Zo-"


def test_collect_values_and_value_at(ct_small, run):
    run("(0010,4000) := collectValues[(0010,0020)]\n(0010,21B0) := valueAt[(0010,0010)]\n"
        "(0008,1040) := format[\"{0}/{1}\", collectValues[(0010,0020)], \"x\"]", ct_small)
    assert ct_small.PatientComments == "[1CT1]"  # a list, written as Java prints one
    assert ct_small.AdditionalPatientHistory == "CompressedSamples^CT1"
    assert ct_small.InstitutionalDepartmentName == "1CT1/x"  # format takes a list's values one by one


def test_logic_functions(ct_small, run):
    run('true[] ? (0010,4000) := "t"\nfalse[] ? (0010,4000) := "f" : (0010,21B0) := "not f"\n'
        'and[true[], ismatch[(0008,0060), "C."]] ? (0008,1040) := "and"\n'
        'or[false[], equals[(0008,0060), "MR"]] ? (0008,1030) := "or"\n'
        'equals[(0032,1060), (0032,1060)] ? (0020,0010) := "same absent path"\n'
        'equals[(0032,1060), (0032,1061)] ? (0008,0050) := "two absent paths"\n'
        'equals[(0008,0060), "CT"] ? (0008,0090) := "a path is no value"', ct_small)
    assert ct_small.PatientComments == "t" and ct_small.AdditionalPatientHistory == "not f"
    assert ct_small.InstitutionalDepartmentName == "and" and ct_small.StudyDescription != "or"
    assert ct_small.StudyID == "same absent path" and ct_small.AccessionNumber != "two absent paths"
    assert ct_small.ReferringPhysicianName != "a path is no value"  # XNAT 6.6.0 compares the path itself


def test_is_present_needs_every_argument(ct_small, run):
    run('isPresent[(0010,0010), (0032,1060)] ? (0010,4000) := "one missing"\n'
        'isPresent[(0010,0010), (0010,0020)] ? (0010,21B0) := "both"', ct_small)
    assert "PatientComments" not in ct_small and ct_small.AdditionalPatientHistory == "both"


def test_map_referenced_uids_maps_each_value_once(rtplan, run):
    before = [str(i.ReferencedSOPInstanceUID) for i in rtplan.ReferencedStructureSetSequence]
    run('mapReferencedUIDs["2.25", "*/(0008,1155)"]', rtplan)
    after = [str(i.ReferencedSOPInstanceUID) for i in rtplan.ReferencedStructureSetSequence]
    assert all(a.startswith("2.25.") and a != b for a, b in zip(after, before))


def test_scale_patient_age_and_dob(ct_small, run):
    run('(0010,0030) := "19000101"\n(0010,1010) := "095Y"\n(0008,0020) := "20200101"\n'
        "scalePatientAgeAndDobFromStudyDate[]", ct_small)
    assert ct_small.PatientAge == "089Y"
    assert "19300101" <= ct_small.PatientBirthDate <= "19310201"  # 89 years of 365.24 days before the study
    with pytest.raises(ScriptError, match="not an age string"):
        run('(0010,1010) := "95 years"\nscalePatientAgeAndDobFromStudyDate[]', ct_small)


def test_blank_values_blanks_every_element_with_a_collected_value(ct_small, run):
    # (0010,0020) and (0020,0010) hold the same value in CT_small: blanking one blanks both
    run("blankValues[(0010,0020)]", ct_small)
    assert ct_small.PatientID == "" and ct_small.StudyID == ""


def test_format_writes_null_and_absent_sources_leave_the_target(ct_small, run):
    before = ct_small.StudyDescription
    run('(0010,4000) := format["{0}-{1}", (0010,0020), (0032,1060)]\n(0008,1030) := (0032,1060)', ct_small)
    assert ct_small.PatientComments == "1CT1-null" and ct_small.StudyDescription == before


def test_assign_if_exists_from_an_absent_element_empties(ct_small, run):
    run("(0010,0020) ?= (0032,1060)", ct_small)
    assert ct_small.PatientID == ""
    with pytest.raises(ScriptError, match="absent value"):  # a binary element: XNAT fails
        run("(0028,0010) ?= (0032,1060)", ct_small)


def test_string_functions_on_an_absent_element_fail(ct_small, run):
    for function in ('lowercase[(0032,1060)]', 'concatenate[(0032,1060), "x"]', 'substring[(0032,1060), 0, 1]',
                     'replace[(0032,1060), "a", "b"]', 'match[(0032,1060), "a", 0]'):
        with pytest.raises(ScriptError) as info:
            run(f"\n(0010,4000) := {function}", ct_small)
        assert info.value.line == 3


def test_at_values_and_us_truncation(ct_small, run):
    run('(0028,0009) := "00209056"\n(0028,0010) := "70000"\n(0028,0011) := "-1"', ct_small)
    assert ct_small.FrameIncrementPointer == 0x00209056  # AT: eight hex digits
    assert ct_small.Rows == 70000 - 65536 and ct_small.Columns == 65535
    with pytest.raises(ScriptError):  # beyond Java's int: XNAT fails
        run('(0028,0010) := "17830612120000"', ct_small)


def test_deleting_items(ct_small, run):
    run("-(0010,1002)[0]", ct_small)
    assert len(ct_small.OtherPatientIDsSequence) == 2 and len(ct_small.OtherPatientIDsSequence[0]) == 0
    run("-(0010,1002)[%]", ct_small)
    assert "OtherPatientIDsSequence" not in ct_small


def test_backslash_newline_joins_and_strings_stay_on_one_line(ct_small, run):
    run('(0010,4000) := "first \\\nsecond"\n(0010,21B0) := "a\\\\b\\n"', ct_small)
    assert ct_small.PatientComments == "first second"
    assert ct_small.AdditionalPatientHistory == "a\\b\\n"  # only \\\\ is an escape
    with pytest.raises(ScriptError):
        load_script('version "6.6"\n(0010,4000) := "two\nlines"')
    with pytest.raises(ScriptError):
        load_script('version "6.6"\n(0010,4000) := "a\\"b"')


def test_reading_a_private_tag_by_an_absent_creator_adds_the_creator(mr_small, run):
    run('(0019,{NOBODY}02) = "x" ? (0010,4000) := "never"', mr_small)
    assert mr_small[0x00190010].value == "NOBODY" and "PatientComments" not in mr_small


def test_reading_through_an_absent_sequence_creates_one_item(mr_small, run):
    run("(0010,21B0) := (0010,1002)[1]/(0010,0020)", mr_small)
    assert len(mr_small.OtherPatientIDsSequence) == 1 and "AdditionalPatientHistory" not in mr_small


def test_private_tags_need_a_creator_and_string_paths_are_plain(ct_small, run):
    with pytest.raises(ScriptError, match="creator"):
        load_script('version "6.6"\n-(0019,1002)')
    with pytest.raises(ScriptError, match="tag path"):
        run('delete["(0010,00X0)"]', ct_small)
    run('delete["(0009,1002)"]\nset["(0010,1002)[1]/(0010,0020)", "new"]', ct_small)
    assert 0x00091002 not in ct_small and ct_small.OtherPatientIDsSequence[1].PatientID == "new"


def test_assigning_to_a_wildcard_path_fails_each_file_that_reaches_it(ct_small):
    """XNAT 6.6.0 fails every file on it: refused at load; in a branch, it fails the files that take it."""
    for target in ("(0010,00X0)", "*/(0010,0020)", "(0010,1002)[%]/(0010,0020)", "(0010,1002)/(0010,0020)"):
        with pytest.raises(ScriptError) as info:
            load_script(f'version "6.6"\n\n{target} := "x"')
        assert info.value.line == 3
        script = load_script(f'version "6.6"\n\ntrue[] ? {target} := "x"')
        assert [(line, reason[:14]) for line, _, reason in script.program.reached_errors] == [(3, "':=' assigns o")]
        with pytest.raises(ScriptError) as info:
            script.apply(ct_small, ScriptContext())
        assert info.value.line == 3
        load_script(f'version "6.6"\nfalse[] ? {target} := "x"').apply(ct_small, ScriptContext())  # not reached
    load_script('version "6.6"\n*/(0010,0020) ?= "x"')  # '?=' changes every element it names
    assert not load_script('version "6.6"\n*/(0010,0020) ?= "x"').program.reached_errors


def test_variables_in_function_arguments_need_to_be_filled_in(ct_small):
    context = ScriptContext(variables={"subject": "S01"})
    bare = load_script('version "6.6"\n(0010,4000) := lowercase[subject]', "v.das")
    with pytest.raises(ScriptError) as info:
        bare.apply(ct_small, context)
    assert info.value.line == 2 and "subject" in str(info.value)
    for declared in ("describe subject hidden", "(0010,21B0) := subject"):
        load_script(f'version "6.6"\n{declared}\n(0010,4000) := lowercase[subject]').apply(ct_small, context)
        assert ct_small.PatientComments == "s01"


def test_described_variables_must_be_supplied(ct_small):
    script = load_script('version "6.6"\ndescribe trialArm "Arm"\n(0010,4000) := "x"', "d.das")
    with pytest.raises(ScriptError, match="trialArm") as info:
        script.apply(ct_small, ScriptContext(variables={}))
    assert info.value.line == 2


def test_dates_shift_from_the_middle_of_their_span(ct_small, run):
    run('(0010,4000) := shiftDateTimeByIncrement["20200101", "43200"]\n'
        '(0010,21B0) := shiftDateTimeByIncrement["20200101", "43199"]\n'
        '(0008,1040) := shiftDateByIncrement["202001", "1"]', ct_small)
    assert ct_small.PatientComments == "20200102" and ct_small.AdditionalPatientHistory == "20200101"
    assert ct_small.InstitutionalDepartmentName == "202001"
    with pytest.raises(ScriptError):
        run('(0010,4000) := shiftDateByIncrement["", "1"]', ct_small)


def test_new_private_elements_hold_the_text_bytes(ct_small, run):
    run('(0009,{NEWCREATOR}27) := "123"', ct_small)
    elem = ct_small.private_block(0x0009, "NEWCREATOR")[0x27]
    assert elem.VR == "UN" and elem.value == b"123\0"


def test_a_new_line_inside_function_arguments_is_refused_but_lists_may_span_lines(ct_small, run):
    with pytest.raises(ScriptError) as info:
        load_script('version "6.6"\nremoveTags[(0010,0010),\n  (0010,0020)]')
    assert info.value.line == 2
    run("removeTags[{\n  (0010,0010),  // name\n  (0010,0020)\n}, \\\n  (0008,0090)]", ct_small)
    assert not {"PatientName", "PatientID", "ReferringPhysicianName"} & set(ct_small.dir())


def test_reject_refuses_the_file_when_true(ct_small, run):
    run('reject[false[]]\nreject["x"]', ct_small)
    for statement in ("reject[]", "reject[true[]]", 'reject[isPresent[(0010,0010)]]'):
        with pytest.raises(ScriptError, match="rejects") as info:
            run(statement, ct_small)
        assert info.value.line == 2 and "1.3.6" not in str(info.value)  # no UID in the message


def test_shift_date_time_list_takes_a_list_and_units(ct_small, run):
    run('shiftDateTimeListByIncrement[{(0008,0020), "(0008,0021)"}, "2", "days"]', ct_small)
    assert ct_small.StudyDate == "20040121" and ct_small.SeriesDate == "19970502"
    for bad in ('shiftDateTimeListByIncrement[(0008,0020), "2", "days"]',
                'shiftDateTimeListByIncrement[{(0008,0020)}, "2"]'):
        with pytest.raises(ScriptError):
            run(bad, ct_small)


def test_non_ascii_text_is_written_as_xnat_writes_it(mr_small, ct_small, run):
    # MR_small declares no character set: XNAT writes UTF-8 bytes; so does a DA in any file
    run('(0010,4000) := "Zoë"', mr_small)
    assert mr_small.get_item(0x00104000).value == "Zoë".encode("utf-8")
    run('(0008,0020) := "Zoë"\n(0010,4000) := "Zoë"', ct_small)  # CT_small: ISO_IR 100
    assert ct_small.get_item(0x00080020).value == "Zoë".encode("utf-8")
    assert ct_small.PatientComments == "Zoë"  # an LT follows the declared character set


def test_retain_private_tags_keeps_a_creator_its_own_digits_name(rtplan, run):
    run("echo (0009,{NOBODY}10)\necho (0029,{GEMS_IMPS_01}04)\n"
        "retainPrivateTags[(0009,{NOBODY}1X), (0029,{GEMS_IMPS_01}04)]", rtplan)
    assert rtplan[0x00090010].value == "NOBODY" and 0x00290010 not in rtplan


def test_versions_six_zero_to_six_six():
    load_script('version "6.0"\n-(0010,0010)')
    for version in ("6.7", "6.10", "7.0"):
        with pytest.raises(ScriptError, match="version"):
            load_script(f'version "{version}"\n-(0010,0010)')
