"""The receiver's hand-written fast paths held to the libraries they replace.

DIMSE command sets (intake.dimse) against pynetdicom's message classes; the header reader of
intake.identity against pydicom, over every bundled pydicom test file and a generated study.
"""
from __future__ import annotations

import warnings
from io import BytesIO
from pathlib import Path

import pydicom
import pydicom.data
import pytest
from pydicom.dataelem import DataElement
from pynetdicom.dimse_messages import C_ECHO_RQ, C_ECHO_RSP, C_STORE_RQ, C_STORE_RSP
from pynetdicom.dimse_primitives import C_ECHO, C_STORE
from pynetdicom.dsutils import encode

from intake import dimse
from intake.identity import _FAST_SYNTAXES, _identify_with_pydicom, _scan_header, identify, split_part10
from sdu.errors import NotDicomError

UIDS = [("1.2.840.10008.5.1.4.1.1.2", "1.2.3.4.5.6"), ("1.2.840.10008.5.1.4.1.1.481.5", "2.25.1234567890123"),
        ("", "")]


def _message(cls, primitive) -> bytes:
    msg = cls()
    msg.primitive_to_message(primitive)
    return encode(msg.command_set, True, True)


@pytest.mark.parametrize("message_id", [1, 7, 65535])
@pytest.mark.parametrize("sop_class,sop_instance", UIDS)
def test_command_sets_match_pynetdicom(message_id, sop_class, sop_instance):
    rq = C_STORE()
    rq.MessageID, rq.Priority = message_id, 2
    rq.AffectedSOPClassUID, rq.AffectedSOPInstanceUID = sop_class or None, sop_instance or None
    rq.MoveOriginatorApplicationEntityTitle, rq.MoveOriginatorMessageID = "MOVER", 9
    rq.DataSet = BytesIO(b"\0\0")
    command = dimse.read_command(_message(C_STORE_RQ, rq))
    assert command == dimse.Command(dimse.C_STORE_RQ, message_id, True, sop_class, sop_instance)
    for status in (0x0000, 0xA700, 0xC210, 0xC211):
        rsp = C_STORE()
        rsp.MessageIDBeingRespondedTo, rsp.Status = message_id, status
        rsp.AffectedSOPClassUID, rsp.AffectedSOPInstanceUID = sop_class or None, sop_instance or None
        assert dimse.store_response(command, status) == _message(C_STORE_RSP, rsp)

    echo = C_ECHO()
    echo.MessageID, echo.AffectedSOPClassUID = message_id, "1.2.840.10008.1.1"
    command = dimse.read_command(_message(C_ECHO_RQ, echo))
    assert command == dimse.Command(dimse.C_ECHO_RQ, message_id, False, "1.2.840.10008.1.1", "")
    rsp = C_ECHO()
    rsp.MessageIDBeingRespondedTo, rsp.Status, rsp.AffectedSOPClassUID = message_id, 0, "1.2.840.10008.1.1"
    assert dimse.echo_response(command, 0) == _message(C_ECHO_RSP, rsp)


def test_damaged_command_sets_are_refused():
    rq = C_STORE()
    rq.MessageID, rq.Priority, rq.AffectedSOPClassUID, rq.AffectedSOPInstanceUID = 1, 0, "1.2.3", "1.2.3.4"
    rq.DataSet = BytesIO(b"\0\0")
    good = _message(C_STORE_RQ, rq)
    for bad in (good[:5], good[:-3], b"\x08\x00" + good[2:], good[:16] + b"\xff\xff\xff\x7f" + good[20:], b""):
        with pytest.raises(dimse.BadCommand):
            dimse.read_command(bad)


def _corpus(generated):
    files = sorted((Path(pydicom.data.__file__).parent / "test_files").rglob("*.dcm")) + generated
    for path in files:
        try:
            yield path, *split_part10(path.read_bytes())
        except NotDicomError:
            continue


def test_header_reader_agrees_with_pydicom(rt_study):
    warnings.simplefilter("ignore")
    fast = []
    for path, ts, data in _corpus(rt_study.files):
        try:
            expected = _identify_with_pydicom(data, ts)
        except NotDicomError:
            expected = None
        if ts in _FAST_SYNTAXES:
            scanned = _scan_header(data, ts == "1.2.840.10008.1.2")
            if scanned is not None and expected is not None:
                assert scanned == expected, path.name
                fast.append(path)
        if expected is None:
            with pytest.raises(NotDicomError):
                identify(data, ts)
        else:
            assert identify(data, ts) == expected, path.name
    assert set(rt_study.files) <= set(fast) and len(fast) >= 90  # the fast path did most of the work


def test_header_reader_leaves_unusual_values_to_pydicom(rt_study):
    ds = pydicom.dcmread(rt_study.rtplan)
    ts = str(ds.file_meta.TransferSyntaxUID)
    cases = {
        "latin-1 name": lambda d: (setattr(d, "SpecificCharacterSet", "ISO_IR 100"),
                                   setattr(d, "PatientName", "Müller^Jürgen")),
        "ISO 2022": lambda d: (setattr(d, "SpecificCharacterSet", ["", "ISO 2022 IR 87"]),),
        "multi-valued": lambda d: setattr(d, "StudyDescription", ["A", "B"]),
        "name as UN": lambda d: d.__setitem__(0x00100010, DataElement(0x00100010, "UN", b"DOE^JOHN")),
        "leading zeros": lambda d: setattr(d, "SeriesNumber", "007"),
    }
    assert ts == "1.2.840.10008.1.2.1"  # explicit VR: the VR of each element is on the wire
    for name, change in cases.items():
        changed = ds.copy()
        change(changed)
        buf = BytesIO()
        changed.save_as(buf, enforce_file_format=True)
        _, data = split_part10(buf.getvalue())
        assert identify(data, ts) == _identify_with_pydicom(data, ts), name
        if name != "leading zeros":
            assert _scan_header(data, False) is None, name  # left to pydicom
    assert identify(data, ts).series_number == "007"
