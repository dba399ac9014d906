"""Text hidden in encapsulated pixel data leaves the anonymiser stripped, the image untouched.

pydicom's JPEG, JPEG-LS and JPEG 2000 files get the patient's name planted in every frame, in
the segments that can carry text (JPEG COM, APP1 Exif, APP13, trailing bytes after the image;
JPEG 2000 COM; JP2 xml/uuid boxes). After anonymising (both walks: the same bytes) the name's
bytes are absent, and every frame decodes to the same pixels as before the planting.
"""
from __future__ import annotations

import struct

import numpy
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.encaps import encapsulate, generate_frames

from anonymiser import AnonymiseOptions, pixeltext, single
from sdu import site

NAME = "Quintavalle^Severine"
SECRET = b"Quintavalle Severine"


def _segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">HH", marker, len(payload) + 2) + payload


def plant_jpeg(frame: bytes) -> bytes:
    """COM, APP1 (Exif) and APP13 segments right after SOI, text after EOI."""
    assert frame[:2] == b"\xff\xd8"
    end = frame.rindex(b"\xff\xd9") + 2
    segments = (_segment(0xFFFE, b"Patient " + SECRET) + _segment(0xFFE1, b"Exif\0\0" + SECRET)
                + _segment(0xFFED, b"Photoshop 3.0\0" + SECRET))
    return frame[:2] + segments + frame[2:end] + SECRET


def plant_j2k(frame: bytes) -> bytes:
    """A COM marker segment after SIZ (main header) and text after EOC."""
    assert frame[:4] == b"\xff\x4f\xff\x51"
    siz_end = 4 + struct.unpack(">H", frame[4:6])[0]
    end = frame.rindex(b"\xff\xd9") + 2
    return frame[:siz_end] + _segment(0xFF64, b"\x00\x01" + SECRET) + frame[siz_end:end]


def jp2(codestream: bytes, extra_boxes: bytes) -> bytes:
    def box(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">L", 8 + len(payload)) + kind + payload
    return (box(b"jP  ", b"\r\n\x87\n") + box(b"ftyp", b"jp2 \0\0\0\0jp2 ") + extra_boxes
            + box(b"jp2c", codestream))


CASES = {  # file -> how its frames are planted
    "JPEG-lossy.dcm": plant_jpeg,
    "SC_rgb_jpeg_dcmtk.dcm": plant_jpeg,
    "SC_rgb_jpeg_app14_dcmd.dcm": plant_jpeg,
    "MR_small_jpeg_ls_lossless.dcm": plant_jpeg,
    "examples_ybr_color.dcm": plant_jpeg,  # 30 frames
    "examples_jpeg2k.dcm": plant_j2k,
    "MR_small_jp2klossless.dcm": plant_j2k,
    "MR_small_jp2klossless.dcm x3": plant_j2k,  # made multi-frame here
    "JPEG2000.dcm": plant_j2k,
}


def _sample(name: str) -> pydicom.Dataset:
    """One of pydicom's local samples (never the ones it would download), with a Patient ID."""
    ds = pydicom.dcmread(get_testdata_file(name.split()[0]))
    if name.endswith(" x3"):
        (frame,) = _frames(ds)
        ds.PixelData, ds.NumberOfFrames = encapsulate([frame] * 3, has_bot=True), 3
    ds.PatientID = ds.get("PatientID") or "PID-1"
    return ds


def _frames(ds) -> list[bytes]:
    return list(generate_frames(ds.PixelData, number_of_frames=int(ds.get("NumberOfFrames", 1) or 1)))


def _pixels(ds):
    try:
        return ds.pixel_array.copy()
    except Exception:  # noqa: BLE001 - no decoder here for this one (12-bit JPEG-lossy)
        return None


def _anonymise_both(src_file, tmp_path):
    options = AnonymiseOptions(trial_id="T", site_id="S")
    outs = []
    for byte_path in (True, False):
        dest = tmp_path / f"out-{byte_path}"
        settings = single.Settings(options, site.load_site_key(None), str(src_file.parent), str(dest), {}, {},
                                   byte_path=byte_path)
        outcome = single.anonymise_file(str(src_file), settings)
        assert outcome.status == "written", outcome.reason
        outs.append(((dest / outcome.output).read_bytes(), outcome))
    assert outs[0][0] == outs[1][0] and outs[0][1].actions == outs[1][1].actions
    return outs[0]


@pytest.mark.parametrize("name", sorted(CASES))
def test_text_segments_planted_in_every_frame_are_stripped(name, tmp_path):
    ds = _sample(name)
    before = _pixels(ds)
    frames = _frames(ds)
    clean = [pixeltext.strip_frame(f) or f for f in frames]  # the sample's own comments (J2K encoders write one)
    ds.PixelData = encapsulate([CASES[name](f) for f in frames], has_bot=len(frames) > 1)
    ds.PatientName = NAME
    (tmp_path / "src").mkdir()
    ds.save_as(tmp_path / "src" / "in.dcm", enforce_file_format=True)
    assert (tmp_path / "src" / "in.dcm").read_bytes().count(SECRET) >= len(frames)

    out, outcome = _anonymise_both(tmp_path / "src" / "in.dcm", tmp_path)
    assert SECRET not in out and b"Quintavalle" not in out and b"Severine" not in out
    assert outcome.actions.get(pixeltext.COUNT) == 1
    result = pydicom.dcmread(tmp_path / "out-True" / outcome.output)
    got = _frames(result)
    assert [g.rstrip(b"\0\xff") for g in got] == [c.rstrip(b"\0\xff") for c in clean]  # the image data as it was
    if before is not None:
        assert numpy.array_equal(result.pixel_array, before)


def test_a_clean_frame_keeps_its_bytes(tmp_path):
    """No text segment: the pixel data is written exactly as it came (fragments, offset table)."""
    data = pydicom.dcmread(get_testdata_file("SC_rgb_jpeg_dcmtk.dcm")).PixelData
    assert pixeltext.strip_encapsulated(data) is None


def test_jp2_text_boxes_are_stripped():
    (codestream,) = _frames(_sample("MR_small_jp2klossless.dcm"))
    xml = struct.pack(">L", 8 + 30) + b"xml " + b"<name>" + SECRET + b"</n>"
    uuid = struct.pack(">L", 8 + 16 + len(SECRET)) + b"uuid" + b"\x11" * 16 + SECRET
    frame = jp2(plant_j2k(codestream), xml + uuid)
    stripped = pixeltext.strip_frame(frame)
    assert SECRET not in stripped and b"xml " not in stripped and b"uuid" not in stripped
    assert stripped.endswith(pixeltext.strip_frame(codestream) or codestream)
    stripped_data = pixeltext.strip_encapsulated(encapsulate([frame]))
    assert SECRET not in stripped_data


def test_kept_segments_are_the_ones_decoders_need():
    frame = pydicom.dcmread(get_testdata_file("SC_rgb_jpeg_app14_dcmd.dcm")).PixelData
    (f,) = generate_frames(frame, number_of_frames=1)
    assert b"Adobe" in f and pixeltext.strip_frame(f) is None  # APP14 Adobe stays: it says RGB
    jfif = f[:2] + _segment(0xFFE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0") + f[2:]
    assert pixeltext.strip_frame(jfif) is None


def test_a_frame_that_cannot_be_read_is_refused_with_a_reason(tmp_path):
    ds = pydicom.dcmread(get_testdata_file("SC_rgb_jpeg_dcmtk.dcm"))
    (f,) = _frames(ds)
    broken = f[:2] + b"\xff\xfe\x40\x00" + SECRET  # a comment claiming more bytes than the frame holds
    ds.PixelData = encapsulate([broken])
    (tmp_path / "src").mkdir()
    ds.save_as(tmp_path / "src" / "in.dcm", enforce_file_format=True)
    settings = single.Settings(AnonymiseOptions(trial_id="T", site_id="S"), site.load_site_key(None),
                               str(tmp_path / "src"), str(tmp_path / "out"), {}, {})
    outcome = single.anonymise_file(str(tmp_path / "src" / "in.dcm"), settings)
    assert outcome.status == "failed" and "pixel data" in outcome.reason and "JPEG" in outcome.reason
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").rglob("*.dcm"))
