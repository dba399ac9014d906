"""Identifiers written another way or hidden where a header-only read never looks are caught by
``verify_folder``, with a named finding; clean sets of several patients still pass.

The originals are one SRC folder of six patients: the generated study and five single-file patients
with short, accented, apostrophe, Cyrillic and CJK names (the last two in ISO_IR 192).
"""
from __future__ import annotations

import shutil
import struct
import zlib
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.encaps import encapsulate, generate_frames
from pydicom.uid import (DeflatedExplicitVRLittleEndian, JPEG2000Lossless,
                         JPEGBaseline8Bit, generate_uid)

from verifier import VerifyOptions, filecheck, verify_folder
from verifier_cleanset import make_clean_set

PATIENTS = {
    "short": ("Li^Na", "00123-45", "19521104", "ISO_IR 100"),
    "umlaut": ("Müller^Jürgen", "MR-778812", "19490707", "ISO_IR 100"),
    "apostrophe": ("O'Brien^Seán", "IE5550123", "19630214", "ISO_IR 100"),
    "cyrillic": ("Иванов^Пётр", "RU0070071", "19700312", "ISO_IR 192"),
    "cjk": ("山田^太郎", "JP4443332", "19810925", "ISO_IR 192"),
}


@pytest.fixture(scope="session")
def many_patients(source_study, tmp_path_factory):
    """SRC with six patients (read-only for tests)."""
    root = tmp_path_factory.mktemp("vmany") / "src"
    shutil.copytree(source_study.root, root / "generated")
    for key, (name, pid, birth, charset) in PATIENTS.items():
        ds = pydicom.dcmread(source_study.ct[0])
        ds.SpecificCharacterSet = charset
        ds.PatientName, ds.PatientID, ds.PatientBirthDate = name, pid, birth
        ds.OtherPatientIDsSequence = []
        ds.StudyDate = ds.SeriesDate = ds.ContentDate = "20230305"
        for kw in ("SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID"):
            setattr(ds, kw, generate_uid())
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        (root / key).mkdir()
        ds.save_as(root / key / "CT.dcm", enforce_file_format=True)
    return root


def _verify(folder, src, **kw):
    """Verify; the byte path and the pydicom path must give the same results (never a clean byte
    verdict where pydicom finds something)."""
    report = verify_folder(folder, VerifyOptions(against=src, workers=1, **kw))
    filecheck.BYTE_READER = False
    try:
        slow = verify_folder(folder, VerifyOptions(against=src, workers=1, **kw))
    finally:
        filecheck.BYTE_READER = True
    assert [f.to_dict() for f in report.files] == [f.to_dict() for f in slow.files]
    return report, [f for f in report.files if not f.ok]


def _edit(path, change, **save):
    ds = pydicom.dcmread(path)
    change(ds)
    ds.save_as(path, enforce_file_format=True, **save)


def _failing(clean, src, modality="CT"):
    report, failed = _verify(clean.root, src)
    assert not report.ok and [f.path for f in failed] == [clean.rel(modality)]
    return failed[0].findings


def test_clean_set_passes_against_six_patients(clean, many_patients):
    report, failed = _verify(clean.root, many_patients)
    assert report.ok, [x.to_dict() for f in failed for x in f.findings]
    assert report.sources["source_files_read"] == len(list(many_patients.rglob("*.dcm")))


@pytest.mark.parametrize("text,kind", [
    ("born 04/11/1952", "the patient's birth date"),
    ("dob 11/04/1952", "the patient's birth date"),
    ("04-NOV-52 planning", "the patient's birth date"),
    ("Sim 5 Mar 2023", "an original date"),
    ("CT 2023-03-05", "an original date"),
    ("March 5, 2023", "an original date"),
    ("7 Jul 1949", "the patient's birth date"),  # patient "umlaut"
    ("for LI NA", "the patient's name (short parts)"),
    ("Na, Li", "the patient's name (short parts)"),
    ("MÜLLER", "the patient's family name"),
    ("Mueller", "the patient's family name"),
    ("OBRIEN", "the patient's family name"),
    ("MRN 12345", "the patient ID"),
    ("ID 0012345", "the patient ID"),
    ("RT_778812", "the patient ID"),
])
def test_free_text_spellings_are_found(clean, many_patients, text, kind):
    _edit(clean.path("CT"), lambda ds: setattr(ds, "StudyDescription", text))
    found = {(x.check, x.tag_path) for x in _failing(clean, many_patients)}
    messages = " ".join(x.message for x in _failing(clean, many_patients))
    assert ("identifiers", "(0008,1030)") in found and kind in messages


@pytest.mark.parametrize("text,kind", [
    ("ИВАНОВ", "the patient's family name"),
    ("пётр", "the patient's given name"),
    ("山田 太郎", "the patient's family name"),
])
def test_non_latin_names_in_iso_ir_192(clean, many_patients, text, kind):
    def plant(ds):
        ds.SpecificCharacterSet = "ISO_IR 192"
        ds.StudyDescription = text
    _edit(clean.path("CT"), plant)
    findings = _failing(clean, many_patients)
    assert any(x.check == "identifiers" and x.tag_path == "(0008,1030)" and kind in x.message for x in findings)


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("vr", ["UN", "OB"])
def test_name_as_utf16_in_an_unknown_element(clean, many_patients, encoding, vr):
    _edit(clean.path("CT"), lambda ds: ds.add_new(0x00089990, vr, "Jürgen Müller ".encode(encoding)))
    findings = _failing(clean, many_patients)
    assert any(x.check == "identifiers" and x.tag_path == "(0008,9990)" and "the patient's family name" in x.message
               for x in findings)


def test_names_found_after_the_pixel_data_and_in_trailing_bytes(clean, many_patients):
    path = clean.path("CT")
    pad = b"Quixtable "
    path.write_bytes(path.read_bytes() + b"\xfc\xff\xfc\xffOB\x00\x00" + struct.pack("<L", len(pad)) + pad)
    [f] = _failing(clean, many_patients)
    assert f.check == "raw bytes" and "(after the pixel data)" in f.message and "family name" in f.message


def _deflated(path, change=None, trailing: bytes = b""):
    ds = pydicom.dcmread(path)
    if change:
        change(ds)
    ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    ds.save_as(path, enforce_file_format=True)
    if trailing:  # an element after the pixel data, inside the deflated stream
        data = path.read_bytes()
        fp = pydicom.filebase.DicomBytesIO(data)
        pydicom.filereader.read_preamble(fp, False)
        pydicom.filereader._read_file_meta_info(fp)
        start = fp.tell()
        body = zlib.decompress(data[start:], -15) + trailing
        c = zlib.compressobj(6, zlib.DEFLATED, -15)
        path.write_bytes(data[:start] + c.compress(body) + c.flush())


def test_deflated_file_checked_to_its_last_byte(clean, many_patients):
    _deflated(clean.path("CT"))
    assert _verify(clean.root, many_patients)[0].ok
    pad = "Sean O'Brien".encode()
    _deflated(clean.path("CT"), trailing=b"\xfc\xff\xfc\xffOB\x00\x00" + struct.pack("<L", len(pad)) + pad)
    findings = _failing(clean, many_patients)
    assert findings and all(f.check == "raw bytes" and "(after the pixel data) of the inflated data set" in f.message
                            for f in findings), [f.message for f in findings]


def test_deflated_file_named_element_inside(clean, many_patients):
    _deflated(clean.path("CT"), lambda ds: setattr(ds, "StudyDescription", "Li Na"))
    assert {(x.check, x.tag_path) for x in _failing(clean, many_patients)} == {("identifiers", "(0008,1030)")}


def test_deflate_bomb_is_capped(clean, many_patients, tmp_path):
    """A deflated file inflating past the limit fails as not fully checked; memory stays bounded."""
    path = clean.path("CT")
    _deflated(path)
    report, failed = _verify(clean.root, many_patients, max_inflated=1024)
    ct = next(f for f in failed if f.path == clean.rel("CT"))  # (the RTSTRUCT's references to it fail too)
    assert [x.message for x in ct.findings] == [
        "deflated data set inflates to more than 1024 bytes (the verifier's limit): it could not be fully checked"]


def _jpeg_with_comment(comment: bytes | None, app: int | None = None) -> tuple[pydicom.Dataset, bytes]:
    src = pydicom.dcmread(get_testdata_file("SC_rgb_jpeg_dcmtk.dcm"))
    frame = next(generate_frames(src.PixelData, number_of_frames=1))
    if comment is not None:
        marker = b"\xff\xfe" if app is None else bytes([0xFF, 0xE0 + app])
        frame = frame[:2] + marker + struct.pack(">H", len(comment) + 2) + comment + frame[2:]
    return src, frame


def _put_pixels(path, src, frames, syntax, after: bytes = b""):
    ds = pydicom.dcmread(path)
    for kw in ("Rows", "Columns", "SamplesPerPixel", "PhotometricInterpretation", "BitsAllocated",
               "BitsStored", "HighBit", "PixelRepresentation", "PlanarConfiguration"):
        if kw in src:
            setattr(ds, kw, src[kw].value)
    for kw in ("RescaleIntercept", "RescaleSlope", "WindowCenter", "WindowWidth"):
        if kw in ds:
            del ds[kw]
    ds.PixelData = encapsulate(frames)
    ds["PixelData"].VR = "OB"
    ds.file_meta.TransferSyntaxUID = syntax
    ds.save_as(path, enforce_file_format=True)
    if after:
        path.write_bytes(path.read_bytes() + after)


@pytest.mark.parametrize("app", [None, 1, 13])
def test_name_in_a_jpeg_segment_inside_encapsulated_pixel_data(clean, many_patients, app):
    src, frame = _jpeg_with_comment(b"Patient: MUELLER, Juergen", app)
    _put_pixels(clean.path("CT"), src, [frame], JPEGBaseline8Bit)
    [f] = _failing(clean, many_patients)
    kind = "JPEG COM segment" if app is None else f"JPEG APP{app} segment"
    assert (f.check, f.tag_path, f.keyword_path) == ("identifiers", "(7FE0,0010)", "PixelData")
    assert f.message.startswith(f"{kind} in the encapsulated pixel data contains") and "family name" in f.message
    assert clean.path("CT").read_bytes()[f.offset:f.offset + 7] == b"MUELLER"


def test_clean_jpeg_and_a_comment_without_identifiers_pass(clean, many_patients):
    src, frame = _jpeg_with_comment(b"Lossy compression ratio 10:1, DCMTK 3.6")
    _put_pixels(clean.path("CT"), src, [frame, _jpeg_with_comment(None)[1]], JPEGBaseline8Bit)
    assert _verify(clean.root, many_patients)[0].ok


def test_name_after_encapsulated_pixel_data(clean, many_patients):
    src, frame = _jpeg_with_comment(None)
    pad = b"Li Na "
    _put_pixels(clean.path("CT"), src, [frame], JPEGBaseline8Bit,
                after=b"\xfc\xff\xfc\xffOB\x00\x00" + struct.pack("<L", len(pad)) + pad)
    [f] = _failing(clean, many_patients)
    assert f.check == "raw bytes" and "after the pixel data" in f.message and "short parts" in f.message


def _j2k_with_comment(comment: bytes) -> tuple[pydicom.Dataset, bytes]:
    src = pydicom.dcmread(get_testdata_file("MR_small_jp2klossless.dcm"))
    frame = next(generate_frames(src.PixelData, number_of_frames=1))
    assert frame[:4] == b"\xff\x4f\xff\x51"
    siz_end = 4 + struct.unpack(">H", frame[4:6])[0]
    com = b"\xff\x64" + struct.pack(">HH", len(comment) + 4, 1) + comment
    return src, frame[:siz_end] + com + frame[siz_end:]


def test_name_in_a_jpeg2000_comment(clean, many_patients):
    src, frame = _j2k_with_comment("Иванов".encode("utf-8") + b" 1970-03-12")
    _put_pixels(clean.path("CT"), src, [frame], JPEG2000Lossless)
    [f] = _failing(clean, many_patients)
    assert f.message.startswith("JPEG 2000 COM marker segment in the encapsulated pixel data contains")
    assert "family name" in f.message and "birth date" in f.message


def test_jpeg2000_without_comment_passes(clean, many_patients):
    src = pydicom.dcmread(get_testdata_file("MR_small_jp2klossless.dcm"))
    _put_pixels(clean.path("CT"), src, list(generate_frames(src.PixelData, number_of_frames=1)), JPEG2000Lossless)
    assert _verify(clean.root, many_patients)[0].ok


def test_pydicom_test_files_cleaned_pass_against_themselves(tmp_path):
    """False-positive guard: pydicom's test files, cleaned by the test helper, verified against the
    originals (every descriptor, contour, dose grid and compressed frame they hold)."""
    src = tmp_path / "src"
    src.mkdir()
    names = ["CT_small.dcm", "MR_small.dcm", "rtplan.dcm", "rtdose.dcm", "JPEG2000.dcm",
             "SC_rgb_jpeg_dcmtk.dcm", "MR_small_jp2klossless.dcm", "SC_rgb_rle.dcm", "693_J2KI.dcm",
             "JPEG-lossy.dcm", "image_dfl.dcm", "MR_small_jpeg_ls_lossless.dcm",
             "JPGExtended.dcm", "examples_jpeg2k.dcm", "SC_rgb_jpeg_gdcm.dcm", "liver_1frame.dcm",
             "waveform_ecg.dcm", "MR_small_RLE.dcm",
             "rtdose_rle.dcm"]
    for name in names:
        shutil.copy(get_testdata_file(name), src / name)
    out = tmp_path / "out"
    make_clean_set(src, out)
    report, failed = _verify(out, src)
    found = [(f.path, x.to_dict()) for f in failed for x in f.findings if x.check != "references"]
    assert found == []  # (the files reference objects that are not among them: those findings are not ours)
    assert len(report.files) == len(list(out.rglob("*.dcm"))) >= 12  # (some share a SOP Instance UID)


def _local_test_files() -> list[Path]:
    """pydicom's test files shipped with the package (no download)."""
    folder = Path(pydicom.__file__).parent / "data" / "test_files"
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in ("", ".dcm"))


def test_other_peoples_files_raise_no_hit(many_patients):
    """False-positive measure: every byte of every pydicom test file (descriptors, contours, dose grids,
    UIDs, compressed frames' text) searched for the six patients' identifiers, every spelling: no hit."""
    from verifier.collect import gather
    from verifier.rawscan import pixel_payloads, pixel_value_range, scan

    orig = gather(many_patients, None, None, 1)
    matcher = orig.identifiers.matcher((), ["utf-8", "iso8859-5"])
    assert matcher.patterns > 2000
    files = _local_test_files()
    assert len(files) > 60
    hits = {}
    for path in files:
        data = path.read_bytes()
        pos = data.find(b"\xe0\x7f\x10\x00")
        pixels = pixel_value_range(data, pos) if pos > 0 else None
        parts = [(0, len(data))] if pixels is None else [(0, pixels[0]), (pixels[1], len(data))]
        found = [h.identifier.kind for h in scan(data, parts, matcher, None)]
        found += [i.kind for p in (pixel_payloads(data, pos) if pos > 0 else []) for _, i in matcher.find(p.data)]
        if found:
            hits[path.name] = found
    # the one hit: the number in "Hospital Name 12345" of pydicom's two JPEG 2000 files is exactly patient
    # "short"'s ID 00123-45 without its zeros and separator, which that spelling exists to find
    assert hits == {"JPEG2000.dcm": ["the patient ID"], "JPEG2000-embedded-sequence-delimiter.dcm": ["the patient ID"]}
