"""XNAT 6.6.0's own ways, reproduced without the engine: HashMap order, wildcard matching, mapUID,
and element values as dcm4che 2 gives them (the differential suite checks these against the engine)."""
from __future__ import annotations

import subprocess
import sys

import pydicom
import pytest
from pydicom.data import get_testdata_file

from anonymiser.dicomedit import ScriptContext, load_script
from anonymiser.dicomedit.elements import java_float_text
from anonymiser.dicomedit.javaorder import hashmap_order, path_hash, string_hash
from sdu.errors import ScriptError


def test_java_string_hash_matches_the_jdk():
    # "".hashCode() ... "GEMS_IDEN_01".hashCode() as a JDK 17 prints them
    assert [string_hash(s) for s in ("", "a", "0010", "Zoë", "GEMS_IDEN_01")] == [0, 97, 1477663, 90166, -362718495]


@pytest.mark.parametrize("hashes, order", [
    # HashMap<K, Integer>.values() on a JDK 17, keys with these hashCodes put in this order
    ([33, 16, 1], [1, 0, 2]),                                   # bucket, then insertion order
    ([33, 1] + list(range(100, 111)), list(range(13))),          # the 13th key doubles the table
    ([7 + 64 * i for i in range(9)] + [5, 3], [10, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8]),  # 9 in a bin: resized
    ([-5, 65536, 131072, 17, -2147483648, 2147483647], [4, 5, 1, 3, 2, 0]),          # high bits spread
])
def test_hashmap_order_is_the_jdks(hashes, order):
    assert hashmap_order(hashes) == order


def test_collect_values_follows_the_engines_order_not_the_files(ct_small, run):
    # the order the engine writes (checked against NRG's engine by test_differential.py)
    changes = run("(0010,4000) := collectValues[(0020,000D), (0008,0050)]", ct_small)
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    study, accession = str(ds.StudyInstanceUID), str(ds.AccessionNumber)
    keys = [path_hash(((0x00080050, None, None),)), path_hash(((0x0020000D, None, None),))]
    expected = [[accession, study][i] for i in hashmap_order(keys)]
    assert str(ct_small[0x00104000].value) == "[" + ", ".join(expected) + "]"
    assert changes[-1].path == "(0010,4000)"


def test_collect_values_lists_strings_first_then_elements(ct_small, run):
    run('(0010,4000) := collectValues[(0008,0060), "a", {"b"}]', ct_small)
    assert str(ct_small[0x00104000].value) == "[a, b, CT]"


def test_a_private_block_pattern_names_its_creator_when_gathering_values(ct_small, run):
    run("(0010,4000) := collectValues[(0009,{GEMS_IDEN_01}XX)]", ct_small)
    assert "GEMS_IDEN_01" in str(ct_small[0x00104000].value)


def test_leading_plus_skips_a_first_sequence_that_matches_the_next_step(rtplan_ds, run):
    """'+/(300A,XXXX)' in XNAT 6.6.0: a first-level sequence in group 300A does not count as a level."""
    nested = str(rtplan_ds[0x300A0010][0][0x300A0012].value)
    run("-+/(300A,XXXX)", rtplan_ds)
    assert str(rtplan_ds[0x300A0010][0][0x300A0012].value) == nested  # under (300A,0010): kept
    assert 0x300A0055 not in rtplan_ds[0x300C0002][0]  # under (300C,0002): deleted


def test_a_question_mark_step_is_a_syntax_error_as_in_xnat():
    with pytest.raises(ScriptError) as info:
        load_script('version "6.6"\n-?/(0008,1150)\n', "q.das")
    assert info.value.line == 2


def test_a_path_ending_in_a_wildcard_is_refused_with_its_position():
    with pytest.raises(ScriptError) as info:
        load_script('version "6.6"\n(0010,0010) := "A"\n-(3006,0020)/*\n', "w.das")
    assert (info.value.line, info.value.column) == (3, 2) and "wildcard" in str(info.value)


@pytest.mark.parametrize("value, single, text", [
    (-75.69999694824219, True, "-75.7"), (-63.199996948242188, True, "-63.199997"), (0.0, True, "0.0"),
    (2.0, False, "2.0"), (1e7, False, "1.0E7"), (0.00015, False, "1.5E-4"), (0.001, False, "0.001"),
])
def test_floats_read_as_java_prints_them(value, single, text):
    assert java_float_text(value, single) == text


def test_binary_and_at_values_read_as_dcm4che_gives_them(ct_small, run):
    run("(0010,4000) := (0002,0001)\n(0010,21B0) := (0043,{GEMS_PARM_01}28)", ct_small)
    assert str(ct_small[0x00104000].value) == "00\\01"  # file meta is readable, OB as hex bytes
    assert str(ct_small[0x001021B0].value).startswith("43\\54\\30\\31")
    ds = pydicom.dcmread(get_testdata_file("rtdose.dcm"))
    run("(0010,4000) := (0028,0009)", ds)
    assert str(ds[0x00104000].value) == "3004000C"


MAP = 'version "6.6"\nv := (0020,000D)\n(0020,000D) := mapUID[v, "1.2.840.99"]\n'


def _mapped(key: bytes | None, name: str = "CT_small.dcm") -> str:
    ds = pydicom.dcmread(get_testdata_file(name))
    load_script(MAP, "map.das").apply(ds, ScriptContext(hash_key=key))
    return str(ds.StudyInstanceUID)


def test_map_uid_is_one_uid_per_value_under_the_prefix_across_files():
    first, again, other = _mapped(b"k" * 32), _mapped(b"k" * 32), _mapped(b"k" * 32, "rtdose.dcm")
    assert first == again and first != other
    assert first.startswith("1.2.840.99.") and len(first) <= 64
    assert _mapped(b"j" * 32) != first  # another run key, another UID


def test_map_uid_agrees_across_worker_processes():
    """Workers of one run share no memory: the UID comes from the run key, not from a map."""
    code = ("import pydicom; from pydicom.data import get_testdata_file as g; "
            "from anonymiser.dicomedit import ScriptContext, load_script; "
            "ds = pydicom.dcmread(g('CT_small.dcm')); "
            f"load_script({MAP!r}, 'map.das').apply(ds, ScriptContext(hash_key=b'k' * 32)); "
            "print(ds.StudyInstanceUID)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == _mapped(b"k" * 32)


def test_map_uid_refuses_a_prefix_that_is_no_uid_root(ct_small):
    script = load_script('version "6.6"\n(0010,4000) := mapUID["x", "1.02"]\n', "bad.das")
    with pytest.raises(ScriptError) as info:
        script.apply(ct_small, ScriptContext(hash_key=b"q" * 32))
    assert info.value.line == 2 and "UID root" in str(info.value)


@pytest.fixture
def rtplan_ds():
    return pydicom.dcmread(get_testdata_file("rtplan.dcm"), force=True)


def test_is_present_ignores_the_creator_and_looks_at_block_10(ct_small, run):
    """Seen in NRG's engine on a file whose only group-0009 creator sits at (0009,0012): isPresent
    [(0009,{ONLY}01)] is false although (0009,1201) is there, and a block created by the script is
    not looked at either."""
    for tag in [t for t in ct_small.keys() if t.group == 0x0009]:
        del ct_small[tag]
    ct_small.add_new(0x00090012, "LO", "ONLY")
    ct_small.add_new(0x00091201, "LO", "x")
    run('isPresent[(0009,{ONLY}01)] ? (0010,4000) := "yes" : (0010,4000) := "no"', ct_small)
    assert ct_small[0x00104000].value == "no"
    ct_small.add_new(0x00091001, "LO", "y")  # (0009,1001): block 10, no creator at all
    run('isPresent[(0009,{ONLY}01)] ? (0010,4000) := "yes" : (0010,4000) := "no"', ct_small)
    assert ct_small[0x00104000].value == "yes"
