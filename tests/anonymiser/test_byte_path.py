"""The byte-level walk (anonymiser.fastpath) writes exactly what the Dataset walk writes.

Both paths run on the same files with the same key; every outcome (status, output name,
action counts, linkage record) and every output byte must be the same. Files the byte path
does not handle must decline (and so get the Dataset path), never be written differently.
"""
import filecmp
import shutil
from pathlib import Path

import pytest
from pydicom.data import get_testdata_file

from anonymiser import AnonymiseOptions, fastpath, single
from anonymiser.meta import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION, file_meta
from sdu import site

#: pydicom's real files the byte path must take (little endian, explicit or implicit VR,
#: native and encapsulated pixel data, RT objects with nested sequences).
TAKEN = ["CT_small.dcm", "MR_small.dcm", "MR_small_implicit.dcm", "JPEG2000.dcm", "MR_small_RLE.dcm",
         "SC_rgb_jpeg_dcmtk.dcm", "rtplan.dcm", "rtdose.dcm", "waveform_ecg.dcm"]
DECLINED = ["MR_small_bigendian.dcm", "rtstruct.dcm", "image_dfl.dcm"]
OPTION_SETS = [
    None,  # the trial default: clean descriptors, modified dates
    (),
    ("retain-uids",), ("retain-device-identity",), ("retain-institution-identity",),
    ("retain-patient-characteristics",), ("retain-full-dates",), ("clean-structured-content", "clean-graphics"),
    ("retain-modified-dates", "retain-device-identity", "retain-patient-characteristics", "clean-descriptors"),
]


def _both_paths(src: Path, tmp: Path, options: AnonymiseOptions):
    key = site.load_site_key(None)
    files = sorted(p for p in src.rglob("*") if p.is_file())
    results = {}
    for byte_path in (True, False):
        dest = tmp / f"out-{byte_path}"
        settings = single.Settings(options, key, str(src), str(dest), {}, {}, byte_path=byte_path)
        results[byte_path] = (dest, [single.anonymise_file(str(p), settings) for p in files])
    return files, results


def _assert_same(results) -> None:
    (fast_dest, fast), (slow_dest, slow) = results[True], results[False]
    for a, b in zip(fast, slow):
        assert (a.source, a.status, a.output, a.reason, a.actions, a.link) == \
               (b.source, b.status, b.output, b.reason, b.actions, b.link), a.source
        if a.output:
            assert filecmp.cmp(fast_dest / a.output, slow_dest / b.output, shallow=False), a.source


def _taken(paths, options: AnonymiseOptions, tmp: Path) -> None:
    """The byte path itself handles each of these files (no silent fallback)."""
    settings = single.Settings(options, site.load_site_key(None), str(paths[0].parent), str(tmp / "direct"), {}, {})
    for p in paths:
        single._anonymise_bytes(p, p.name, settings)


@pytest.mark.parametrize("names", OPTION_SETS, ids=lambda n: "default" if n is None else "+".join(n) or "basic")
def test_generated_rt_study_same_bytes_both_paths(small_study, tmp_path, names):
    options = AnonymiseOptions(trial_id="T", site_id="S", **({} if names is None else {"profile_options": names}))
    files, results = _both_paths(small_study.root, tmp_path, options)
    assert len(files) == 8 and all(o.status == "written" for o in results[True][1])
    _assert_same(results)
    _taken(files, options, tmp_path)


@pytest.mark.parametrize("name", TAKEN + DECLINED)
def test_pydicom_files_same_bytes_both_paths(name, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(get_testdata_file(name), src / name)
    options = AnonymiseOptions(trial_id="T", site_id="S")
    _, results = _both_paths(src, tmp_path, options)
    _assert_same(results)
    if name in TAKEN:
        assert results[True][1][0].status == "written"
        _taken([src / name], options, tmp_path)
    else:
        with pytest.raises(fastpath.Decline):
            _taken([src / name], options, tmp_path)


@pytest.mark.parametrize("names", [None, ("retain-uids", "retain-full-dates")], ids=["default", "retain"])
def test_every_pydicom_test_file_same_bytes_both_paths(names, tmp_path):
    """All of pydicom's bundled test files (odd encodings, private sequences, damaged files
    included): whichever path each takes, the results are the same."""
    import pydicom
    src = tmp_path / "src"
    src.mkdir()
    files = sorted(Path(pydicom.__file__).parent.joinpath("data", "test_files").rglob("*.dcm"))
    for i, p in enumerate(files):
        shutil.copy(p, src / f"{i:03d}_{p.name}")
    assert len(files) > 50
    options = AnonymiseOptions(trial_id="T", site_id="S", **({} if names is None else {"profile_options": names}))
    _, results = _both_paths(src, tmp_path, options)
    assert sum(o.status != "failed" for o in results[True][1]) > 40
    _assert_same(results)


def test_damaged_files_decline_and_get_the_dataset_paths_reason(small_study, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    ct = small_study.ct[0].read_bytes()
    (src / "truncated.dcm").write_bytes(ct[:len(ct) - 100])
    (src / "header-cut.dcm").write_bytes(ct[:700])
    (src / "empty.dcm").write_bytes(b"")
    (src / "text.dcm").write_bytes(b"not dicom at all" * 20)
    _, results = _both_paths(src, tmp_path, AnonymiseOptions(trial_id="T", site_id="S"))
    assert [o.status for o in results[True][1]] == ["failed"] * 4
    assert all("truncated" in o.reason or "empty" in o.reason or "DICOM" in o.reason for o in results[True][1])
    _assert_same(results)


def test_free_text_naming_the_patient_is_scrubbed_on_the_byte_path(small_study, tmp_path):
    """The generated study plants the patient's names in free text: the byte path scrubs them
    itself (it does not fall back), and the words are gone from the output bytes."""
    options = AnonymiseOptions(trial_id="T", site_id="S")
    settings = single.Settings(options, site.load_site_key(None), str(small_study.root), str(tmp_path / "o"), {}, {})
    outcome = single._anonymise_bytes(small_study.ct[0], "ct", settings)
    data = (tmp_path / "o" / outcome.output).read_bytes()
    source = small_study.ct[0].read_bytes()
    words = [w for _, w in outcome.link["identifiers"] if w.encode() in source]
    assert words, "the generated slice should carry identifiers"
    assert small_study.patient.family.encode() in source
    for w in [*words, small_study.patient.family]:
        assert w.upper().encode() not in data.upper(), w


def test_file_meta_is_what_pydicom_writes():
    from io import BytesIO

    from pydicom.dataset import FileMetaDataset
    from pydicom.filebase import DicomFileLike
    from pydicom.filewriter import write_file_meta_info
    for sop in ("1.2.3", "2.25.123456789012345678901234567890123456789"):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
        meta.MediaStorageSOPInstanceUID = sop
        meta.TransferSyntaxUID = "1.2.840.10008.1.2.1"
        meta.ImplementationClassUID = IMPLEMENTATION_CLASS_UID
        meta.ImplementationVersionName = IMPLEMENTATION_VERSION
        out = BytesIO()
        fp = DicomFileLike(out)
        fp.is_little_endian, fp.is_implicit_VR = True, False
        write_file_meta_info(fp, meta, enforce_standard=True)
        assert file_meta("1.2.840.10008.5.1.4.1.1.2", sop, "1.2.840.10008.1.2.1") == out.getvalue()


@pytest.mark.parametrize("charset", ["ISO_IR 192", "ISO_IR 100", None])
def test_accented_names_and_padded_ids_same_both_paths(small_study, tmp_path, charset):
    """Names with accents in the file's character set, in standard tags and in free text, and
    values padded with NULs or multi-valued: the identity read and the scrub match pydicom's."""
    import pydicom
    src = tmp_path / "src"
    src.mkdir()
    for i, p in enumerate(small_study.files):
        ds = pydicom.dcmread(p)
        if charset:
            ds.SpecificCharacterSet = charset
        else:
            del ds.SpecificCharacterSet
        ds.PatientName = "Müller^Zoë" if charset else "Muller^Zoe"
        ds.OtherPatientNames = ["Zoë Müller" if charset else "Zoe Muller", "ZM"]
        ds.StudyDescription = "CT for Zoë Müller" if charset else "CT for Zoe Muller"
        ds.AccessionNumber = "ACC12345"
        ds.save_as(src / f"{i}.dcm", enforce_file_format=True)
        raw = (src / f"{i}.dcm").read_bytes().replace(b"ACC12345", b"ACC123\0\0")
        (src / f"{i}.dcm").write_bytes(raw)
    options = AnonymiseOptions(trial_id="T", site_id="S")
    files, results = _both_paths(src, tmp_path, options)
    assert all(o.status == "written" for o in results[True][1])
    _assert_same(results)
    _taken(files, options, tmp_path)
    out = b"".join(p.read_bytes() for p in (tmp_path / "out-True").rglob("*.dcm"))
    for word in ("Müller", "Muller", "ACC123"):
        for enc in ("utf-8", "latin-1"):
            assert word.encode(enc) not in out, word


@pytest.mark.parametrize("implicit", [False, True])
@pytest.mark.parametrize("names", [(), ("clean-descriptors", "retain-modified-dates"), ("retain-uids", "retain-device-identity")])
def test_trial_block_bytes_are_pydicoms(names, implicit):
    """The byte path's trial and de-identification elements equal pydicom's encoding of
    ``set_identity`` + ``record_deidentification`` (the Dataset path's)."""
    import struct

    from anonymiser.trial import _encoded_block
    from anonymiser.trialblock import TrialIdentity, trial_block
    from sdu.standard import annex_e
    options = annex_e.parse_options(names)
    for t in (TrialIdentity("TRIAL-1", "SITE01", "SITE01-K7Q2M4XA", "SITE01-K7Q2M4XA-ABCDEF", "Sponsor Ltd"),
              TrialIdentity("T", "S", "S-A", "S-A-B" * 6, "Spon", "Protocol", "Hôpital Saint-Éloi", "TP2", "Coord")):
        expected = []
        for raw in _encoded_block(t, options, "MODIFIED", implicit):
            g, e = raw.tag >> 16, raw.tag & 0xFFFF
            if implicit:
                head = struct.pack("<HHL", g, e, raw.length)
            elif raw.VR in ("SQ", "OB", "OW", "UN", "UT", "UC", "UR"):
                head = struct.pack("<HH2s2xL", g, e, raw.VR.encode(), raw.length)
            else:
                head = struct.pack("<HH2sH", g, e, raw.VR.encode(), raw.length)
            expected.append((int(raw.tag), head + raw.value))
        assert list(trial_block(t, options, "MODIFIED", implicit)) == sorted(expected)
    with pytest.raises(UnicodeEncodeError):  # the byte path then declines: pydicom encodes it
        trial_block(TrialIdentity("T", "S", "S-A", "S-A-B", "Спонсор"), options, "MODIFIED", implicit)


@pytest.mark.parametrize("field,value", [("sponsor", "Спонсор"), ("site_name", "Hôpital Saint-Éloi"),
                                         ("protocol_name", "A\\B"), ("time_point", "x" * 65)])
def test_trial_texts_outside_the_default_repertoire_are_refused(field, value):
    """They would be written into files whose character set may not hold them (a Latin-1 site
    name in a UTF-8 file reads as garbage); a backslash would split the value in two."""
    from sdu.errors import ConfigError
    with pytest.raises(ConfigError, match="printable ASCII"):
        AnonymiseOptions(trial_id="T", site_id="S", **{field: value})
    AnonymiseOptions(trial_id="T", site_id="S", **{field: "Hopital Saint-Eloi (Lyon) #2"})


def test_literals_the_byte_path_keeps_instead_of_importing_pydicom():
    from pydicom.charset import convert_encodings
    from pydicom.datadict import tag_for_keyword
    from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, UID

    from anonymiser import elements, identity, values
    from anonymiser.meta import IMPLEMENTATION_CLASS_UID
    assert IMPLEMENTATION_CLASS_UID == PYDICOM_IMPLEMENTATION_UID
    assert all(tag_for_keyword(k) == t for k, t in fastpath.IDENTITY_TAGS.items())
    assert set(fastpath.IDENTITY_TAGS) == {*identity.NAME_KEYWORDS, *identity.ID_KEYWORDS, *identity.DATE_KEYWORDS,
                                           "StudyInstanceUID"}
    import json
    from importlib.resources import files
    doc = json.loads(files("anonymiser").joinpath("data/class_uid_tags.json").read_text())
    assert values.class_uid_tags() == frozenset(tag_for_keyword(k) for k in doc["keywords"])
    assert all(convert_encodings([c]) == codecs for c, codecs in identity.PLAIN_CODECS.items())
    for syntax, implicit in elements.NATIVE.items():
        assert UID(syntax).is_implicit_VR == implicit and UID(syntax).is_little_endian and not UID(syntax).is_compressed


def test_the_byte_path_runs_without_importing_pydicom(small_study, tmp_path):
    """The point of the byte path: a worker that only meets common files never pays for
    importing pydicom (and numpy behind it). Checked in a fresh interpreter."""
    import subprocess
    import sys
    code = ("import sys; from anonymiser import anonymise_folder, AnonymiseOptions; "
            f"r = anonymise_folder({str(small_study.root)!r}, {str(tmp_path / 'out')!r}, "
            "AnonymiseOptions(trial_id='T', site_id='S', workers=1, verify=False)); "
            "assert r.written == 8 and r.failed == 0, r.files; "
            "print('pydicom' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stderr


def test_file_meta_with_a_long_vr_element_is_read_right(small_study, tmp_path):
    """(0002,0026) Source Presentation Address is UR: a 4-byte length in the file meta."""
    import pydicom
    src = tmp_path / "src"
    src.mkdir()
    ds = pydicom.dcmread(small_study.ct[0])
    ds.file_meta.SourcePresentationAddress = "https://pacs.example.org/wado"
    ds.save_as(src / "ct.dcm", enforce_file_format=True)
    options = AnonymiseOptions(trial_id="T", site_id="S")
    files, results = _both_paths(src, tmp_path, options)
    _assert_same(results)
    _taken(files, options, tmp_path)
