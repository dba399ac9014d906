"""The byte reader (verifier/elements.py) and the paths built on it agree with the pydicom paths.

For every file of the corpora (the clean set, the identifiable study, deliberately leaky, re-encoded,
truncated and garbled variants, and pydicom's own test files across transfer syntaxes) the fast path
and the pydicom path give the same FileResult, RT summary and gathered identifiers and UIDs.
"""
from __future__ import annotations

import glob
import os
import shutil
from pathlib import Path

import pydicom
import pydicom.data
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

import verifier.collect as collect
import verifier.filecheck as filecheck
from verifier import elements
from verifier.bytecheck import clean_result
from verifier.bytecollect import collect_file
from verifier.collect import Collected, gather
from verifier.walk import items, nodes
from verifier_cleanset import new_uid

PYDICOM_FILES = sorted(
    p for p in glob.glob(os.path.join(os.path.dirname(pydicom.data.get_testdata_file("CT_small.dcm")), "**", "*"),
                         recursive=True) if os.path.isfile(p))


def _code(value, meaning="option"):
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, "DCM", meaning
    return item


def _plant_private(ds):
    ds.private_block(0x0013, "SITE NOTES 1", create=True).add_new(0x10, "LO", "note for Quixtable")


def _plant_safe_private(ds):
    ds.private_block(0x0019, "SIEMENS MR HEADER", create=True).add_new(0x0C, "IS", "1000")
    ds.DeidentificationMethodCodeSequence.append(_code("113111"))


def _plant_request(ds):
    req = Dataset()
    req.RequestedProcedureDescription = "CT for Marguerite"
    ds.RequestAttributesSequence = Sequence([req])


def _plant_xz_sequence(ds):
    ref = Dataset()
    ref.ReferencedSOPClassUID = "1.2.840.10008.3.1.2.3.1"
    ref.ReferencedSOPInstanceUID = "2.25.1234"
    ds.ReferencedStudySequence = Sequence([ref])


def _plant_drop_basic(ds):
    ds.DeidentificationMethodCodeSequence = Sequence(
        [i for i in ds.DeidentificationMethodCodeSequence if i.CodeValue != "113100"])


def _plant_retain_uids(ds):
    ds.DeidentificationMethodCodeSequence.append(_code("113110"))


def _plant_option_age(ds):
    ds.PatientAge = "066Y"
    ds.DeidentificationMethodCodeSequence.append(_code("113108"))


EDITS = {
    "private name": _plant_private,
    "safe private": _plant_safe_private,
    "request sequence": _plant_request,
    "free text": lambda ds: setattr(ds, "ImageComments", "re-scan, QUIXTABLE moved"),
    "x element": lambda ds: setattr(ds, "PatientAge", "066Y"),
    "x element under option": _plant_option_age,
    "x/z sequence": _plant_xz_sequence,
    "x/z blank": lambda ds: setattr(ds, "AcquisitionDeviceProcessingDescription", " "),
    "identity not yes": lambda ds: setattr(ds, "PatientIdentityRemoved", "NO"),
    "identity missing": lambda ds: delattr(ds, "PatientIdentityRemoved"),
    "basic code missing": _plant_drop_basic,
    "retain uids": _plant_retain_uids,
    "charset latin1": lambda ds: setattr(ds, "SpecificCharacterSet", "ISO_IR 100"),
    "charset utf8 name": lambda ds: (setattr(ds, "SpecificCharacterSet", "ISO_IR 192"),
                                     setattr(ds, "ImageComments", "Quixtablé")),
    "charset other": lambda ds: setattr(ds, "SpecificCharacterSet", "ISO_IR 144"),
    "new frame of reference": lambda ds: setattr(ds, "FrameOfReferenceUID", new_uid("f")),
}


def _edited(path: Path, dest: Path, change=None, syntax=None) -> Path:
    ds = pydicom.dcmread(path)
    if change:
        change(ds)
    if syntax:
        ds.file_meta.TransferSyntaxUID = syntax
    dest.parent.mkdir(parents=True, exist_ok=True)
    big = ds.file_meta.TransferSyntaxUID == pydicom.uid.ExplicitVRBigEndian
    pydicom.dcmwrite(dest, ds, implicit_vr=ds.file_meta.TransferSyntaxUID == pydicom.uid.ImplicitVRLittleEndian,
                     little_endian=not big, enforce_file_format=not big, force_encoding=big)
    return dest


@pytest.fixture(scope="module")
def corpus(source_study, _clean_master, tmp_path_factory):
    """(output files, originals folder): clean, identifiable, leaky, re-encoded, damaged, pydicom's."""
    root, rel = _clean_master
    out = tmp_path_factory.mktemp("corpus")
    files = sorted(root.rglob("*.dcm")) + sorted(Path(source_study.root).rglob("*.dcm"))
    for name, change in EDITS.items():
        for modality in ("CT", "RTSTRUCT"):
            files.append(_edited(root / rel[modality], out / name / f"{modality}.dcm", change))
    for syntax in (pydicom.uid.ImplicitVRLittleEndian, pydicom.uid.DeflatedExplicitVRLittleEndian,
                   pydicom.uid.ExplicitVRBigEndian):
        for path in sorted(root.rglob("*.dcm")):
            files.append(_edited(path, out / syntax.name / path.name, syntax=syntax))
    ct = (root / rel["CT"]).read_bytes()
    variants = {
        "truncated-header.dcm": ct[:400], "truncated-pixels.dcm": ct[:-100], "no-dicm.dcm": ct[:128] + ct[132:],
        "trailing-uid.dcm": ct + b"\xfc\xff\xfc\xffOB\x00\x00" + len(source_study.uids["study"]).to_bytes(4, "little")
        + source_study.uids["study"].encode(),
        "preamble-name.dcm": ct[:10] + b"Quixtable" + ct[19:],
        "garbled-length.dcm": ct[:300] + b"\xff\xff" + ct[302:],
        "empty.dcm": b"",
    }
    for name, data in variants.items():
        (out / name).write_bytes(data)
        files.append(out / name)
    return files + [Path(p) for p in PYDICOM_FILES]


def _both_checks(path: Path, orig):
    rel = path.name
    filecheck.BYTE_READER = False
    try:
        slow = filecheck.check_file(path, rel, orig)
    finally:
        filecheck.BYTE_READER = True
    return filecheck.check_file(path, rel, orig), slow


@pytest.fixture(scope="module")
def pydicom_originals(tmp_path_factory):
    """A few of pydicom's files as originals, so that its other files hit their identifiers and UIDs."""
    root = tmp_path_factory.mktemp("pydicom-originals")
    for name in ("CT_small.dcm", "MR_small.dcm", "rtplan.dcm", "rtstruct.dcm", "rtdose.dcm"):
        shutil.copy(pydicom.data.get_testdata_file(name), root / name)
    return root


def test_check_fast_and_pydicom_paths_agree(corpus, source_study, pydicom_originals, recwarn):
    for against in (source_study.root, pydicom_originals):
        orig = gather(against, None, None, 1)
        for path in corpus:
            fast, slow = _both_checks(path, orig)
            assert fast == slow, path


def test_clean_files_take_the_fast_path(_clean_master, corpus, source_study):
    root, _ = _clean_master
    orig = gather(source_study.root, None, None, 1)
    clean = sorted(root.rglob("*.dcm"))
    implicit = [p for p in corpus if p.parent.name == pydicom.uid.ImplicitVRLittleEndian.name]
    assert len(clean) == len(implicit) == 9
    for path in clean + implicit:
        result, summary = clean_result(path, path.name, orig)
        assert result.ok and summary.sop_uid
    rtstruct = next(s for _, s in (clean_result(p, p.name, orig) for p in clean) if s.sop_class.endswith(".481.3"))
    assert len(rtstruct.refs) > 5  # its contour image and frame of reference references


def test_clean_ct_takes_the_fast_path(clean, source_study):
    orig = gather(source_study.root, None, None, 1)
    result, summary = clean_result(clean.path("CT"), "ct.dcm", orig)
    assert result.ok and result.modality == "CT" and summary.sop_class == pydicom.uid.CTImageStorage


def _collected(paths, byte_reader: bool) -> Collected:
    collect.BYTE_READER = byte_reader
    try:
        [out] = collect._collect_batch(None, paths)
    finally:
        collect.BYTE_READER = True
    return out


def test_gather_fast_and_pydicom_paths_agree(corpus, recwarn):
    fast_taken = 0
    for path in corpus:
        assert _collected([path], True) == _collected([path], False), path
        fast_taken += collect_file(path, Collected(), set())
    assert fast_taken >= 40
    # one batch over everything (the series cache is shared across files)
    assert _collected(corpus, True) == _collected(corpus, False)


def _pydicom_walk(ds, prefix=""):
    out = []
    for node in nodes(ds, None, prefix):
        out.append((node.tag_path, node.tag, node.vr))
        if node.vr == "SQ":
            for item, _, tp, _ in items(ds, node):
                out += _pydicom_walk(item, tp)
    return out


def test_element_list_matches_pydicom(corpus, recwarn):
    compared = 0
    for path in corpus:
        data = path.read_bytes()
        try:
            parsed = elements.parse(data)
        except elements.Declined:
            continue
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        mine = [(tp, tag, vr) for tp, tag, vr, _, _ in elements.walk(parsed.dataset)]
        assert mine == _pydicom_walk(ds), path
        assert [e[0] for e in parsed.meta] == [int(t) for t in ds.file_meta.keys()]
        raw = {int(t): e for t, e in ds._dict.items()}
        for tag, _, start, length, _ in parsed.dataset:
            if hasattr(raw[tag], "value_tell") and raw[tag].value_tell is not None:
                assert (start, length) == (raw[tag].value_tell, raw[tag].length), (path, hex(tag))
        with open(path, "rb") as f:
            pydicom.dcmread(f, stop_before_pixels=True)
            assert (parsed.pixel_pos if parsed.pixel_pos is not None else len(data)) == f.tell(), path
        compared += 1
    assert compared >= 40


@pytest.mark.parametrize("cut", [140, 400, 1000, -100])
def test_truncated_file_is_declined_and_reported_as_before(clean, source_study, cut):
    path = clean.path("RTSTRUCT") if cut != -100 else clean.path("CT")
    data = path.read_bytes()
    path.write_bytes(data[:cut])
    if cut != -100:
        with pytest.raises(elements.Declined):
            elements.parse(data[:cut])
    orig = gather(source_study.root, None, None, 1)
    fast, slow = _both_checks(path, orig)
    assert fast == slow


def test_garbled_length_is_declined(clean):
    data = bytearray(clean.path("RTSTRUCT").read_bytes())
    parsed = elements.parse(bytes(data))
    seq = next(e for e in parsed.dataset if e[1] == "SQ" and e[3] != 0xFFFFFFFF)
    data[seq[2] - 4:seq[2]] = (seq[3] + 2).to_bytes(4, "little")  # one sequence now ends inside the next element
    with pytest.raises(elements.Declined):
        elements.parse(bytes(data))


def test_verify_report_is_the_same_without_the_byte_reader(clean, source_study, tmp_path):
    """The whole verify report is the same with and without the byte reader."""
    from verifier import VerifyOptions, verify_folder
    dest = tmp_path / "set"
    shutil.copytree(clean.root, dest)
    _edited(dest / clean.rel("RTPLAN"), dest / clean.rel("RTPLAN"), lambda ds: setattr(ds, "RTPlanLabel", "Quixtable"))
    fast = verify_folder(dest, VerifyOptions(against=source_study.root)).to_dict()
    collect.BYTE_READER = filecheck.BYTE_READER = False
    try:
        slow = verify_folder(dest, VerifyOptions(against=source_study.root)).to_dict()
    finally:
        collect.BYTE_READER = filecheck.BYTE_READER = True
    assert fast == slow and not fast["ok"]


@pytest.mark.parametrize("vr", ["UI", "CS", "SH", "LO"])
@pytest.mark.parametrize("raw", [b"1.2.3\x00", b" 1.2.3 ", b"\t1.2 \x00", b"CT ", b"\x00CT", b"YES\x00 ",
                                 b"a\\b ", b"113100", b"caf\xc3\xa9", b"\x1b$B x"])
def test_value_conversion_matches_pydicom(vr, raw):
    from pydicom.dataelem import RawDataElement, convert_raw_data_element
    from pydicom.tag import BaseTag

    from verifier.bytevalues import converted
    tag = {"UI": 0x00080018, "CS": 0x00080060, "SH": 0x00080100, "LO": 0x00100020}[vr]  # dictionary VR = vr
    data = b"\x00" * 8 + raw
    element = (tag, vr, 8, len(raw), None)
    for implicit in (False, True):
        expected = convert_raw_data_element(RawDataElement(
            BaseTag(tag), None if implicit else vr, len(raw), raw, 8, implicit, True), encoding=["latin_1"]).value
        got = converted(data, element, implicit, ["latin_1"])
        assert (got, str(got), type(got) is list) == (expected, str(expected), type(expected) is list)
