"""The byte path's own value conversion (verifier/bytevalues.py) gives what pydicom gives, and the
verifier's byte path runs without importing pydicom at all.

Every text VR, explicit and implicit, in the default character set, ISO_IR 100 and ISO_IR 192,
over padded, empty, multi-valued, non-ASCII, undecodable and escaped values: the value (or the
strings the identifier collection takes from it) equals pydicom's conversion.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydicom._dicom_dict import DicomDictionary
from pydicom.dataelem import RawDataElement, convert_raw_data_element
from pydicom.tag import BaseTag

from sdu.studygen import StudySpec, generate_study
from verifier.bytevalues import converted, raw_value, values

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # pydicom warns on the odd values

VRS = ["AE", "AS", "CS", "DA", "DT", "TM", "UI", "UR", "SH", "LO", "UC", "ST", "LT", "UT", "PN", "DS", "IS", "US"]
RAW = [b"", b" ", b"\x00", b" \x00", b"abc", b"abc ", b" abc", b"abc\x00", b"a\\b", b"a\\b ", b" a \\ b \x00",
       b"\\", b"\\\\", b"Doe^John", b"Doe^John^^Dr", b"Doe^John=Dx^Jx=", b"M\xfcller^Hans", b"M\xc3\xbcller^J\xc3\xb6rg",
       b"\xe5\xbc\xa0^\xe4\xb8\x89=Zhang^San", b"\xff\xfe", b"\x1b$B x", b"1.2.840.10008.1.2\x00", b"\t1.2 ",
       b"http://a/b c ", b"=^", b"caf\xc3\xa9\\na\xc3\xafve ", b"12", b"1\\2", b"\x01\x00", b" +1.50 "]
ENCODINGS = ["iso8859", ["latin_1"], ["UTF8"]]


def _tag(vr: str) -> int:
    """A public tag whose dictionary VR is ``vr`` (so implicit VR reads it with that VR too)."""
    return next(t for t, e in DicomDictionary.items() if e[0] == vr and not e[3] and t >> 16 not in (0, 2))


def _pydicom(tag: int, vr: str, raw: bytes, implicit: bool, encoding):
    data = b"\x00" * 8 + raw
    element = (tag, vr, 8, len(raw), None)
    return convert_raw_data_element(RawDataElement(BaseTag(tag), None if implicit else vr, len(raw),
                                                   raw_value(data, element, implicit), 8, implicit, True),
                                    encoding=encoding).value


def _strings(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return [str(v) for v in value]
    return [str(value)]


@pytest.mark.parametrize("vr", VRS)
def test_values_convert_as_pydicom_converts_them(vr):
    tag = _tag(vr)
    compared = 0
    for raw in RAW:
        if vr == "US" and len(raw) % 2:
            continue
        data = b"\x00" * 8 + raw
        element = (tag, vr, 8, len(raw), None)
        for implicit in (False, True):
            for encoding in ENCODINGS:
                expected = _pydicom(tag, vr, raw, implicit, encoding)
                got = converted(data, element, implicit, encoding)
                assert (str(got), bool(got), type(got) is list) == (str(expected), bool(expected), type(expected) is list), \
                    (vr, raw, implicit, encoding)
                if type(expected).__name__ != "PersonName":
                    assert got == expected, (vr, raw, implicit, encoding)
                assert values(data, element, implicit, encoding) == _strings(expected), (vr, raw, implicit, encoding)
                compared += 1
    assert compared >= 60


def test_empty_raw_values_are_pydicoms():
    from pydicom.dataelem import empty_value_for_VR
    for vr in VRS + ["SQ", "OB", "UN", "FD", "AT"]:
        for implicit in (False, True):
            assert raw_value(b"", (0x00100010, vr, 0, 0, None), implicit) == \
                empty_value_for_VR(None if implicit else vr, raw=True), (vr, implicit)


CODE = """
import sys
from pathlib import Path
from anonymiser import AnonymiseOptions, anonymise_folder
report = anonymise_folder(Path(sys.argv[1]), Path(sys.argv[2]), AnonymiseOptions("T1", "S1", workers=1))
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("pydicom", "numpy"))
print(report.ok, report.verified, report.verification["passed"], ",".join(loaded) or "none")
"""


def test_anonymise_and_verify_of_a_study_never_import_pydicom(tmp_path):
    """The common case (a CT series and its RT objects, anonymised and verified against the
    originals) runs entirely on the byte paths: pydicom is not even imported."""
    study = generate_study(tmp_path / "src", StudySpec(slices=6, rows=32, columns=32))
    out = subprocess.run([sys.executable, "-c", CODE, str(study.root), str(tmp_path / "out")],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    ok, verified, passed, loaded = out.stdout.split()
    assert (ok, verified, loaded) == ("True", "True", "none") and int(passed) == len(study.files) + 1  # + its report
