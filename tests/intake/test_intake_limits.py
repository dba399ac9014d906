"""What one peer may make `sdu receive` hold: a data set's size, a PDU's length, half-open connections.

Each test plays the abusive peer on raw sockets and checks that the server cuts it off (A-ABORT
or a closed connection), stores nothing of it, logs a line without values, and still serves a
real sender (pynetdicom or dcmtk's storescu) at once.
"""
from __future__ import annotations

import logging
import select
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from intake_helpers import stored_files, temp_leftovers
from pydicom.data import get_testdata_file
from pydicom.uid import ExplicitVRLittleEndian
from test_intake_acceptor import (  # noqa: F401 - serve and store are fixtures
    CT,
    associate_rq,
    ct_dataset,
    echo_ok,
    encoded,
    p_data,
    raw_association,
    read_pdu,
    scu,
    serve,
    store,
    store_command,
)

from sdu.cli.main import cli

dcmtk = pytest.mark.skipif(not shutil.which("storescu"), reason="dcmtk not installed")
CT_FILE = get_testdata_file("CT_small.dcm")


def pdus_until_closed(sock: socket.socket) -> list[tuple[int, bytes]]:
    """The PDUs the server sends until it closes the connection (a reset counts as closed)."""
    pdus = []
    try:
        while True:
            pdu_type, body = read_pdu(sock)
            if pdu_type == 0:
                return pdus
            pdus.append((pdu_type, body))
    except ConnectionResetError:
        return pdus


class EndlessDataSet(threading.Thread):
    """Sends a C-STORE-RQ, then data set fragments that never say 'last', until cut off."""

    def __init__(self, sock: socket.socket, total: int, fragment: int = 1 << 16):
        super().__init__(daemon=True)
        self.sock, self.total, self.fragment, self.sent = sock, total, fragment, 0

    def run(self) -> None:
        pdu = p_data(1, 0x00, b"\x5a" * self.fragment)
        try:
            self.sock.sendall(p_data(1, 0x03, store_command("2.25.4242")))
            while self.sent < self.total:
                self.sock.sendall(pdu)
                self.sent += len(pdu)
        except OSError:
            pass  # the server closed the connection: what the test expects


def closed(sock: socket.socket) -> bool:
    """The server closed ``sock`` (FIN or reset); the peer has not sent anything."""
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except BlockingIOError:
        return False


def wait_closed(socks: list[socket.socket], count: int, timeout: float) -> list[socket.socket]:
    """Wait until ``count`` of ``socks`` are closed by the server; return the closed ones."""
    done: list[socket.socket] = []
    deadline = time.monotonic() + timeout
    while len(done) < count and time.monotonic() < deadline:
        open_ = [s for s in socks if s not in done]
        readable, _, _ = select.select(open_, [], [], max(deadline - time.monotonic(), 0))
        done += [s for s in readable if closed(s)]
    return done


def half_open(port: int, source: str, partial: bool) -> socket.socket:
    """A TCP connection from ``source`` that never completes its A-ASSOCIATE-RQ.

    If the server refuses it so fast that ``connect`` itself sees the reset, a socket whose
    other end is closed stands in for it (it reads as closed, like the refused connection).
    """
    sock = socket.socket()
    sock.bind((source, 0))
    sock.settimeout(10)
    try:
        sock.connect(("127.0.0.1", port))
    except ConnectionResetError:
        sock.close()
        sock, other = socket.socketpair()
        other.close()
        sock.setblocking(False)
        return sock
    if partial:
        try:
            sock.sendall(associate_rq()[:40])  # the header and part of the body, then nothing
        except OSError:
            pass  # already refused
    sock.setblocking(False)
    return sock


def vm_hwm(pid: int) -> int:
    """Peak resident memory of a process, bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


# -- a data set's size ---------------------------------------------------------------------------
def test_data_set_at_the_cap_is_stored_one_byte_over_aborts_and_leaves_nothing(serve, store, caplog):
    at_cap = ct_dataset("1")
    rx = serve(max_dataset_size=len(encoded(at_cap)))
    assoc = scu((CT, [ExplicitVRLittleEndian])).associate("127.0.0.1", rx.port, ae_title="SDU")
    assert assoc.send_c_store(at_cap).Status == 0x0000
    over = ct_dataset("12")  # a longer SOP Instance UID: two bytes more
    assert len(encoded(over)) == len(encoded(at_cap)) + 2
    caplog.set_level(logging.WARNING)
    assert not assoc.send_c_store(over)  # no response: the association was aborted
    deadline = time.monotonic() + 5
    while not assoc.is_aborted and time.monotonic() < deadline:
        time.sleep(0.01)
    assert assoc.is_aborted
    assert len(stored_files(store.root)) == 1 and temp_leftovers(store.root) == []
    (line,) = [r.getMessage() for r in caplog.records if "limit" in r.getMessage()]
    assert "PYSCU" in line and "127.0.0.1" in line and "2.25.7712" not in line
    assert echo_ok(rx)


def test_unterminated_p_data_stream_is_aborted_at_the_cap_server_keeps_serving(serve, store, caplog):
    cap = 1 << 20
    rx = serve(max_dataset_size=cap)
    sock = raw_association(rx)
    sender = EndlessDataSet(sock, total=256 << 20)
    caplog.set_level(logging.WARNING)
    sender.start()
    pdus = pdus_until_closed(sock)
    sender.join(timeout=20)
    sock.close()
    assert [t for t, _ in pdus] == [0x07]  # A-ABORT, then the connection was closed
    assert not sender.is_alive() and sender.sent < 64 << 20  # cut off near the cap, not fed to the end
    assert stored_files(store.root) == [] and temp_leftovers(store.root) == []
    (line,) = [r.getMessage() for r in caplog.records if "limit" in r.getMessage()]
    assert f"the {cap}-byte limit" in line and "RAW" in line and "2.25.4242" not in line
    assoc = scu((CT, [ExplicitVRLittleEndian])).associate("127.0.0.1", rx.port, ae_title="SDU")
    assert assoc.send_c_store(ct_dataset("5")).Status == 0x0000
    assoc.release()
    assert len(stored_files(store.root)) == 1


def test_pdu_longer_than_our_max_pdu_aborts(serve, store):
    rx = serve(max_pdu=4096)
    sock = raw_association(rx)
    fits = p_data(1, 0x00, b"\0" * (4096 - 6))  # variable field of exactly 4096 bytes (PS3.7 D.3.3.1)
    too_long = p_data(1, 0x00, b"\0" * (4096 + 64))
    sock.sendall(p_data(1, 0x03, store_command("2.25.4243")) + fits + too_long)
    pdus = pdus_until_closed(sock)
    sock.close()
    assert [t for t, _ in pdus] == [0x07]
    assert pdus[0][1][2:4] == b"\x02\x06"  # service provider, invalid PDU parameter value
    assert stored_files(store.root) == []
    assert echo_ok(rx)


# -- half-open connections ---------------------------------------------------------------------
@dcmtk
def test_half_open_flood_does_not_lock_out_storescu_and_is_closed_after_artim(serve, store):
    artim = 4.0
    rx = serve(acse_timeout=artim, max_half_open=8)
    start = time.monotonic()
    # one address opens 40 (TCP connect only, or a partial A-ASSOCIATE-RQ); three others 8 each:
    # 64 connections, more than the 32 associations the server takes
    flood = [half_open(rx.port, "127.0.0.2", partial=i % 2 == 1) for i in range(40)]
    others = [half_open(rx.port, f"127.0.0.{n}", partial=False) for n in (3, 4, 5) for _ in range(8)]
    refused = wait_closed(flood, 32, timeout=2)
    assert len(refused) == 32  # beyond its 8, the flooding address is refused at once
    held = [s for s in flood if s not in refused] + others
    assert select.select(held, [], [], 0)[0] == []  # 32 half-open connections held (none closed yet)

    done = subprocess.run(["storescu", "-aet", "STORESCU", "-aec", "SDU", "127.0.0.1", str(rx.port), CT_FILE],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - start < artim  # served while all 32 were still held, not after ARTIM
    assert len(stored_files(store.root)) == 1

    assert len(wait_closed(held, len(held), timeout=artim + 5)) == 32  # all closed by ARTIM...
    assert time.monotonic() - start >= artim  # ...each counted from its own connection
    for s in flood + others:
        s.close()
    assert echo_ok(rx)


def test_half_open_connections_do_not_count_towards_the_association_limit(serve, store):
    rx = serve(max_half_open=8)
    idle = [half_open(rx.port, f"127.0.0.{n}", partial=False) for n in range(2, 7) for _ in range(8)]
    try:
        deadline = time.monotonic() + 5
        while rx._server.active() < 40 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert rx._server.active() == 40
        assoc = scu((CT, [ExplicitVRLittleEndian])).associate("127.0.0.1", rx.port, ae_title="SDU")
        assert assoc.is_established and assoc.send_c_store(ct_dataset("6")).Status == 0x0000
        assoc.release()
    finally:
        for s in idle:
            s.close()
    assert len(stored_files(store.root)) == 1


# -- `sdu receive` as a process: options reach the server, memory stays bounded ----------------------
def test_receive_help_lists_the_limits():
    out = CliRunner().invoke(cli, ["receive", "--help"]).output
    for option, default in (("--max-dataset-size", "1GiB"), ("--max-half-open", "8"), ("--acse-timeout", "5.0")):
        assert option in out
        assert f"default: {default}" in " ".join(out[out.index(option):].split())[:400]
    bad = CliRunner().invoke(cli, ["receive", "--store", "x", "--max-dataset-size", "lots"])
    assert bad.exit_code == 2 and "--max-dataset-size" in bad.output


@dcmtk
def test_sdu_receive_process_memory_stays_bounded_and_half_open_limit_applies(receiver, tmp_path):
    store = tmp_path / "store"
    rx = receiver(store, "--max-dataset-size", "4MiB", "--max-half-open", "2", "--acse-timeout", "1")
    before = vm_hwm(rx.proc.pid)
    sock = socket.create_connection(("127.0.0.1", rx.port), timeout=10)
    sock.sendall(associate_rq())
    assert read_pdu(sock)[0] == 0x02
    sender = EndlessDataSet(sock, total=512 << 20, fragment=1 << 20)
    sender.start()
    pdus = pdus_until_closed(sock)
    sender.join(timeout=30)
    sock.close()
    assert [t for t, _ in pdus] == [0x07]
    growth = vm_hwm(rx.proc.pid) - before
    assert growth < 40 << 20, f"peak memory grew by {growth >> 20} MiB for a 4 MiB cap"
    assert sender.sent < 128 << 20

    start = time.monotonic()
    conns = [half_open(rx.port, "127.0.0.2", partial=False) for _ in range(5)]
    assert len(wait_closed(conns, 3, timeout=0.8)) == 3  # beyond 2: refused at once
    assert len(wait_closed(conns, 5, timeout=10)) == 5 and time.monotonic() - start >= 0.8  # the 2: after ARTIM
    for s in conns:
        s.close()

    done = subprocess.run(["storescu", "-aec", "SDU", "127.0.0.1", str(rx.port), CT_FILE],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    code, report = rx.stop()
    assert code == 0 and report["stored"] == 1
    assert len(stored_files(store)) == 1 and temp_leftovers(store) == []
    log = rx.log.read_text()
    assert "the 4194304-byte limit" in log and "2.25.4242" not in log
    assert "connection from 127.0.0.2 refused" in log
