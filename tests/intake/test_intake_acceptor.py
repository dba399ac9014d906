"""The receiver's association engine against real peers: pynetdicom's SCU, dcmtk, raw sockets.

The receiver runs in-process (fast, short timeouts); every test checks what arrived in the
store (bit-identical data sets) or what came back on the wire, and that the server still
serves afterwards.
"""
from __future__ import annotations

import logging
import shutil
import socket
import struct
import subprocess
import time
from io import BytesIO

import pydicom
import pytest
from intake_helpers import dataset_bytes, stored_files, temp_leftovers
from pydicom.data import get_testdata_file
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEGBaseline8Bit,
)
from pynetdicom import AE
from pynetdicom.dimse_messages import C_FIND_RQ, C_STORE_RQ
from pynetdicom.dimse_primitives import C_FIND, C_STORE
from pynetdicom.dsutils import decode, encode
from pynetdicom.pdu import A_ASSOCIATE_RQ
from pynetdicom.pdu_primitives import A_ASSOCIATE, MaximumLengthNotification
from pynetdicom.presentation import build_context
from pynetdicom.sop_class import CTImageStorage, StudyRootQueryRetrieveInformationModelFind, Verification

from intake.receiver import Receiver, ReceiverOptions
from intake.store import Store
from sdu.site import load_site_key

CT = str(CTImageStorage)
LOG = logging.getLogger("test.acceptor")


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "store", load_site_key(), fsync=False)


@pytest.fixture
def serve(store):
    """Factory: an in-process receiver on a free loopback port; stopped at teardown."""
    running: list[Receiver] = []

    def start(**options) -> Receiver:
        options = {"port": 0, "host": "127.0.0.1", "shutdown_grace": 0.0, **options}
        rx = Receiver(store, ReceiverOptions(**options), LOG).start()
        running.append(rx)
        return rx

    yield start
    for rx in running:
        rx.stop()


def scu(*contexts, ae_title="PYSCU") -> AE:
    ae = AE(ae_title=ae_title)
    ae.acse_timeout = ae.network_timeout = ae.dimse_timeout = 10
    for abstract, syntaxes in contexts:
        ae.add_requested_context(abstract, syntaxes)
    return ae


def echo_ok(rx: Receiver) -> bool:
    """The server still serves: a fresh association answers C-ECHO."""
    assoc = scu((Verification, [ImplicitVRLittleEndian])).associate("127.0.0.1", rx.port, ae_title="SDU")
    try:
        return assoc.is_established and assoc.send_c_echo().Status == 0x0000
    finally:
        if assoc.is_established:
            assoc.release()


def ct_dataset(uid_suffix: str = "1") -> pydicom.Dataset:
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    ds.SOPInstanceUID = f"2.25.77{uid_suffix}"
    return ds


def encoded(ds: pydicom.Dataset) -> bytes:
    return encode(ds, False, True)  # explicit VR little endian


# -- raw-socket peer -------------------------------------------------------------------------
def associate_rq(called="SDU", calling="RAW", contexts=((1, CT, ExplicitVRLittleEndian),), max_pdu=16384) -> bytes:
    primitive = A_ASSOCIATE()
    primitive.application_context_name = "1.2.840.10008.3.1.1.1"
    primitive.calling_ae_title, primitive.called_ae_title = calling, called
    for cid, abstract, syntax in contexts:
        cx = build_context(abstract, [syntax])
        cx.context_id = cid
        primitive.presentation_context_definition_list.append(cx)
    ml = MaximumLengthNotification()
    ml.maximum_length_received = max_pdu
    primitive.user_information = [ml]
    return A_ASSOCIATE_RQ(primitive).encode()


def read_pdu(sock: socket.socket) -> tuple[int, bytes]:
    """(PDU type, body), or (0, b'') when the server closed the connection."""
    header = b""
    while len(header) < 6:
        chunk = sock.recv(6 - len(header))
        if not chunk:
            return 0, b""
        header += chunk
    pdu_type, length = struct.unpack(">BxL", header)
    body = b""
    while len(body) < length:
        chunk = sock.recv(length - len(body))
        if not chunk:
            break
        body += chunk
    return pdu_type, body


def until_closed(sock: socket.socket) -> list[int]:
    """The types of the PDUs the server sends until it closes the connection."""
    types = []
    while True:
        pdu_type, _ = read_pdu(sock)
        if pdu_type == 0:
            return types
        types.append(pdu_type)


def p_data(context_id: int, control: int, data: bytes) -> bytes:
    return struct.pack(">BxLLBB", 4, len(data) + 6, len(data) + 2, context_id, control) + data


def store_command(sop_instance: str, message_id: int = 1) -> bytes:
    primitive = C_STORE()
    primitive.MessageID, primitive.Priority = message_id, 0
    primitive.AffectedSOPClassUID, primitive.AffectedSOPInstanceUID = CT, sop_instance
    primitive.DataSet = BytesIO(b"\0\0")
    msg = C_STORE_RQ()
    msg.primitive_to_message(primitive)
    return encode(msg.command_set, True, True)


def raw_association(rx: Receiver, **kw) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", rx.port), timeout=10)
    sock.sendall(associate_rq(**kw))
    pdu_type, _ = read_pdu(sock)
    assert pdu_type == 0x02, "A-ASSOCIATE-AC expected"
    return sock


# -- pynetdicom as the peer --------------------------------------------------------------------
def test_pynetdicom_contexts_echo_stores_release(serve, store):
    rx = serve()
    syntaxes = [ImplicitVRLittleEndian, ExplicitVRLittleEndian, DeflatedExplicitVRLittleEndian, JPEGBaseline8Bit]
    ae = scu(*[(CT, [ts]) for ts in syntaxes], (StudyRootQueryRetrieveInformationModelFind, [ImplicitVRLittleEndian]),
             ("1.2.3.4.5.6.7", [ImplicitVRLittleEndian]), (Verification, [ImplicitVRLittleEndian]))
    assoc = ae.associate("127.0.0.1", rx.port, ae_title="SDU")
    assert assoc.is_established
    accepted = {(str(cx.abstract_syntax), str(cx.transfer_syntax[0])) for cx in assoc.accepted_contexts}
    assert accepted == {(CT, str(ts)) for ts in syntaxes} | {(str(Verification), str(ImplicitVRLittleEndian))}
    assert {str(cx.abstract_syntax) for cx in assoc.rejected_contexts} == {
        str(StudyRootQueryRetrieveInformationModelFind), "1.2.3.4.5.6.7"}
    assert assoc.send_c_echo().Status == 0x0000

    sent = {}
    for i, ts in enumerate([ImplicitVRLittleEndian, ExplicitVRLittleEndian, DeflatedExplicitVRLittleEndian]):
        ds = ct_dataset(str(i))
        ds.file_meta.TransferSyntaxUID = ts
        ds.set_original_encoding(ts.is_implicit_VR, ts.is_little_endian)
        assert assoc.send_c_store(ds).Status == 0x0000, ts
        sent[ds.SOPInstanceUID] = (ts, ds)
    jpeg = pydicom.dcmread(get_testdata_file("SC_rgb_jpeg_gdcm.dcm"))  # SC, not CT: no context for it
    with pytest.raises(ValueError):
        assoc.send_c_store(jpeg)
    assoc.release()
    assert assoc.is_released

    files = stored_files(store.root)
    assert len(files) == 3
    for path in files:
        got = pydicom.dcmread(path)
        ts, ds = sent[got.SOPInstanceUID]
        assert got.file_meta.TransferSyntaxUID == ts
        # exactly the bytes pynetdicom put on the wire
        assert dataset_bytes(path) == encode(ds, ts.is_implicit_VR, ts.is_little_endian, ts.is_deflated)
        assert got.PixelData == ds.PixelData
    report = rx.stop()
    assert report.stored == 3 and report.associations == 1


def test_pynetdicom_abort_mid_association_keeps_what_was_acknowledged(serve, store):
    rx = serve()
    assoc = scu((CT, [ExplicitVRLittleEndian])).associate("127.0.0.1", rx.port, ae_title="SDU")
    assert assoc.send_c_store(ct_dataset("1")).Status == 0x0000
    assoc.abort()
    assert assoc.is_aborted
    assert len(stored_files(store.root)) == 1
    assert echo_ok(rx)


def test_calling_ae_allow_list_and_called_ae_check(serve, store):
    rx = serve(allow_ae=("PACS1",), require_called_ae=True, ae_title="SDU")
    refused = scu((CT, [ExplicitVRLittleEndian]), ae_title="INTRUDER").associate("127.0.0.1", rx.port, ae_title="SDU")
    assert refused.is_rejected
    rj = refused.acceptor.primitive
    assert (rj.result, rj.result_source, rj.diagnostic) == (0x01, 0x01, 0x03)  # permanent, calling AE

    wrong = scu((CT, [ExplicitVRLittleEndian]), ae_title="PACS1").associate("127.0.0.1", rx.port, ae_title="NOTSDU")
    assert wrong.is_rejected
    rj = wrong.acceptor.primitive
    assert (rj.result, rj.result_source, rj.diagnostic) == (0x01, 0x01, 0x07)  # permanent, called AE

    ok = scu((CT, [ExplicitVRLittleEndian]), ae_title="PACS1").associate("127.0.0.1", rx.port, ae_title="SDU")
    assert ok.is_established and ok.send_c_store(ct_dataset()).Status == 0x0000
    ok.release()
    assert len(stored_files(store.root)) == 1


def test_called_ae_not_checked_unless_asked(serve, store):
    rx = serve(ae_title="SDU")  # as before the engine change: any called AE title is accepted
    assoc = scu((CT, [ExplicitVRLittleEndian])).associate("127.0.0.1", rx.port, ae_title="ELSEWHERE")
    assert assoc.is_established and assoc.send_c_store(ct_dataset()).Status == 0x0000
    assert assoc.acceptor.maximum_length == 0  # unlimited by default
    assoc.release()
    assert len(stored_files(store.root)) == 1


def test_configured_max_pdu_is_advertised_and_a_peer_using_it_is_reassembled(serve, store):
    rx = serve(max_pdu=4096)
    assoc = scu((CT, [ExplicitVRLittleEndian])).associate("127.0.0.1", rx.port, ae_title="SDU")
    assert assoc.acceptor.maximum_length == 4096  # so pynetdicom cuts the ~40 kB data set into ~10 PDUs
    ds = ct_dataset("4")
    assert assoc.send_c_store(ds).Status == 0x0000
    assoc.release()
    (path,) = stored_files(store.root)
    assert dataset_bytes(path) == encoded(ds)


def test_large_data_set_in_one_pdu_then_small_ones_on_the_same_association(serve, store):
    rx = serve()  # unlimited max PDU: pynetdicom sends each data set as a single PDV
    assoc = scu((CT, [ExplicitVRLittleEndian])).associate("127.0.0.1", rx.port, ae_title="SDU")
    big = ct_dataset("100")
    big.Rows = big.Columns = 2300
    big.PixelData = bytes(range(256)) * (2300 * 2300 * 2 // 256) + b"\1" * (2300 * 2300 * 2 % 256)
    sent = [big, ct_dataset("101"), ct_dataset("102")]
    for ds in sent:
        assert assoc.send_c_store(ds).Status == 0x0000
    assoc.release()
    assert sorted(dataset_bytes(p) for p in stored_files(store.root)) == sorted(encoded(ds) for ds in sent)
    assert len(encoded(big)) > 10 << 20  # more than one read piece


def test_association_limit_rejects_transient_local_limit(serve):
    rx = serve()
    established = [raw_association(rx, calling=f"RAW{i}") for i in range(32)]
    try:
        over = scu((CT, [ExplicitVRLittleEndian])).associate("127.0.0.1", rx.port, ae_title="SDU")
        assert over.is_rejected
        rj = over.acceptor.primitive
        assert (rj.result, rj.result_source, rj.diagnostic) == (0x02, 0x03, 0x02)  # transient, local limit
    finally:
        for s in established:
            s.close()
    deadline = time.monotonic() + 10
    while rx._server.active() > 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert echo_ok(rx)


def test_stop_lets_the_grace_period_run_then_aborts(serve, store):
    rx = serve(shutdown_grace=0.5)
    assoc = scu((CT, [ExplicitVRLittleEndian])).associate("127.0.0.1", rx.port, ae_title="SDU")
    assert assoc.send_c_store(ct_dataset()).Status == 0x0000
    start = time.monotonic()
    report = rx.stop()  # the association stays open (idle): waited for, then aborted
    assert 0.4 <= time.monotonic() - start < 5
    deadline = time.monotonic() + 5
    while assoc.is_established and time.monotonic() < deadline:
        time.sleep(0.02)
    assert assoc.is_aborted
    assert report.stored == 1 and len(stored_files(store.root)) == 1
    with pytest.raises(ConnectionRefusedError):  # no longer listening
        socket.create_connection(("127.0.0.1", rx.port), timeout=2)


# -- raw sockets: protocol errors --------------------------------------------------------------
def test_partial_dataset_then_abort_or_hangup_stores_nothing(serve, store):
    rx = serve()
    data = encoded(ct_dataset("9"))
    for ending in ("abort", "hangup"):
        sock = raw_association(rx)
        sock.sendall(p_data(1, 0x03, store_command("2.25.779")) + p_data(1, 0x00, data[: len(data) // 2]))
        if ending == "abort":
            sock.sendall(struct.pack(">BxLBBBB", 7, 4, 0, 0, 0, 0))
        sock.close()
    deadline = time.monotonic() + 5
    while rx._server.active() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert stored_files(store.root) == [] and temp_leftovers(store.root) == []
    # the same instance, whole and in fragments, on a raw association: stored, acknowledged
    sock = raw_association(rx)
    half = len(data) // 2
    sock.sendall(p_data(1, 0x03, store_command("2.25.779", 5)) + p_data(1, 0x00, data[:half])
                 + p_data(1, 0x02, data[half:]))
    pdu_type, body = read_pdu(sock)
    assert pdu_type == 0x04 and body[4:6] == b"\x01\x03"  # one PDV on context 1: last command fragment
    rsp = decode(BytesIO(body[6:]), True, True)
    assert (rsp.CommandField, rsp.MessageIDBeingRespondedTo, rsp.Status) == (0x8001, 5, 0x0000)
    assert (rsp.AffectedSOPClassUID, rsp.AffectedSOPInstanceUID, rsp.CommandDataSetType) == (CT, "2.25.779", 0x0101)
    sock.sendall(struct.pack(">BxLL", 5, 4, 0))  # A-RELEASE-RQ
    assert read_pdu(sock)[0] == 0x06 and read_pdu(sock)[0] == 0
    sock.close()
    (path,) = stored_files(store.root)
    assert dataset_bytes(path) == data


@pytest.mark.parametrize("case", ["bad-type", "huge-rq", "garbage-rq", "pdv-overruns-pdu", "unknown-context",
                                  "data-before-command", "c-find", "associate-again"])
def test_malformed_or_unexpected_pdus_abort_and_server_keeps_serving(serve, store, case):
    rx = serve()
    if case in ("bad-type", "huge-rq", "garbage-rq"):
        sock = socket.create_connection(("127.0.0.1", rx.port), timeout=10)
        sock.sendall({"bad-type": b"\x55\x00\x00\x00\x00\x04abcd",
                      "huge-rq": b"\x01\x00\xff\xff\xff\xf0" + b"\0" * 100,
                      "garbage-rq": b"\x01\x00\x00\x00\x00\x10" + b"\x00\x01" + b"\xff" * 14}[case])
    else:
        sock = raw_association(rx)
        if case == "pdv-overruns-pdu":
            sock.sendall(struct.pack(">BxLLBB", 4, 10, 500, 1, 0x03) + b"\0" * 4)
        elif case == "unknown-context":
            sock.sendall(p_data(7, 0x03, store_command("2.25.1")))
        elif case == "data-before-command":
            sock.sendall(p_data(1, 0x02, b"\0" * 16))
        elif case == "c-find":
            primitive = C_FIND()
            primitive.MessageID, primitive.Priority = 1, 0
            primitive.AffectedSOPClassUID = CT
            primitive.Identifier = BytesIO(b"\x08\x00\x52\x00\x06\x00\x00\x00STUDY ")
            msg = C_FIND_RQ()
            msg.primitive_to_message(primitive)
            sock.sendall(p_data(1, 0x03, encode(msg.command_set, True, True)))
        elif case == "associate-again":
            sock.sendall(associate_rq())
    assert until_closed(sock) == [0x07]  # A-ABORT, then the connection is closed
    sock.close()
    assert echo_ok(rx)
    assert stored_files(store.root) == []


def test_idle_peer_is_closed_after_artim_and_idle_association_after_network_timeout(serve):
    rx = serve(acse_timeout=0.5, network_timeout=0.5)
    silent = socket.create_connection(("127.0.0.1", rx.port), timeout=10)
    start = time.monotonic()
    assert silent.recv(16) == b""  # closed without a word: no association to abort
    assert 0.4 <= time.monotonic() - start < 5
    silent.close()

    sock = raw_association(rx)
    start = time.monotonic()
    assert read_pdu(sock)[0] == 0x07  # established, then nothing: A-ABORT
    assert read_pdu(sock)[0] == 0
    assert 0.4 <= time.monotonic() - start < 5
    sock.close()
    assert echo_ok(rx)


def test_responses_respect_a_small_peer_max_pdu(serve, store):
    rx = serve()
    sock = raw_association(rx, max_pdu=32)  # every C-STORE-RSP must come in PDUs of at most 32 bytes
    data = encoded(ct_dataset("3"))
    sock.sendall(p_data(1, 0x03, store_command("2.25.773")) + p_data(1, 0x02, data))
    command = b""
    while True:
        pdu_type, body = read_pdu(sock)
        assert pdu_type == 0x04 and len(body) <= 32
        command += body[6:]
        if body[5] & 0x02:
            break
    rsp = decode(BytesIO(command), True, True)
    assert (rsp.CommandField, rsp.MessageIDBeingRespondedTo, rsp.Status) == (0x8001, 1, 0x0000)
    sock.close()
    assert len(stored_files(store.root)) == 1


# -- dcmtk as the peer ---------------------------------------------------------------------------
dcmtk = pytest.mark.skipif(not shutil.which("storescu"), reason="dcmtk not installed")


@dcmtk
@pytest.mark.parametrize("ours,theirs", [(4096, None), (0, 4096)])
def test_storescu_small_pdus_recursive_folder_arrives_bit_identical(serve, store, rt_study, ours, theirs):
    rx = serve(max_pdu=ours)
    extra = ["--max-send-pdu", str(theirs)] if theirs else []
    done = subprocess.run(["storescu", "-aet", "STORESCU", "-aec", "SDU", "+sd", "+r", *extra, "127.0.0.1",
                           str(rx.port), str(rt_study.root)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    files = stored_files(store.root)
    assert sorted(dataset_bytes(p) for p in files) == sorted(dataset_bytes(p) for p in rt_study.files)
    assert rx.stop().stored == len(rt_study.files) == 53


@dcmtk
def test_echoscu_and_storescu_refused_by_called_ae_check(serve, store, rt_study):
    rx = serve(require_called_ae=True)
    assert subprocess.run(["echoscu", "-aec", "SDU", "127.0.0.1", str(rx.port)], capture_output=True,
                          timeout=30).returncode == 0
    wrong = subprocess.run(["storescu", "-aec", "OTHER", "127.0.0.1", str(rx.port), str(rt_study.rtplan)],
                           capture_output=True, text=True, timeout=30)
    assert wrong.returncode != 0 and "Called AE Title Not Recognized" in wrong.stderr + wrong.stdout
    assert stored_files(store.root) == []
