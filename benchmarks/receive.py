"""Receive throughput: `sdu receive` vs dcmtk `storescp`, both fed by dcmtk `storescu`.

Generates a 300-slice 512x512 CT, then sends it over one association to each SCP in turn on
loopback (TCP_NODELAY=1 in every dcmtk environment; dcmtk reads it) and prints instances/s side
by side with the ratio. Each peer gets its best settings: storescp writes bit-preserving (+B)
with the largest PDU dcmtk allows; sdu receive accepts an unlimited PDU. storescu is given the
same options in both runs.

    /tmp/venv/bin/python benchmarks/receive.py [--slices 300] [--repeat 3]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sdu.studygen import StudySpec, generate_study
from sdu.loopback import free_port, wait_port

STORESCU_ARGS = ["-aet", "BENCH", "-aec", "SDU", "+sd", "-xe", "--max-pdu", "131072"]


def send(folder: Path, port: int, env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(["storescu", *STORESCU_ARGS, "127.0.0.1", str(port), str(folder)], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def wait_log(log: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and "listening as" in log.read_text(errors="replace"):
            return
        time.sleep(0.05)
    raise RuntimeError(f"SCP did not start: {log.read_text(errors='replace')[-300:]}")


def run_scp(argv: list[str], port: int, env: dict, folder: Path, log: Path | None = None) -> float:
    """Start an SCP, send ``folder`` with storescu, return storescu's wall time.

    pynetdicom SCPs are waited for through their log line: a bare TCP probe would leave a
    half-open association behind.
    """
    if log is not None:
        log.unlink(missing_ok=True)
    err = open(log, "wb") if log is not None else subprocess.DEVNULL
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=err)
    try:
        wait_log(log) if log is not None else wait_port(port)
        return send(folder, port, env)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        if log is not None:
            err.close()


def _serve_until_sigterm(stop_server) -> None:
    import signal
    import threading

    print("listening as", flush=True, file=sys.stderr)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    stop_server()


def pynetdicom_noop_scp(port: int) -> None:
    """pynetdicom's own AE (reactor threads, queues), the receiver's contexts, a handler that stores
    nothing: the library's floor, kept visible for comparison."""
    import socket

    from pynetdicom import AE, evt
    from pynetdicom.sop_class import Verification

    from intake.identity import storage_tables

    ae = AE(ae_title="SDU")
    ae.maximum_pdu_size = 0
    syntaxes = list(storage_tables()["transfer_syntaxes"].values())
    for uid in storage_tables()["sop_classes"].values():
        ae.add_supported_context(uid, syntaxes)
    ae.add_supported_context(Verification)

    def nodelay(event):
        event.assoc.dul._run_loop_delay = 0.0001
        event.assoc.dul.socket.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    server = ae.start_server(("127.0.0.1", port), block=False, evt_handlers=[
        (evt.EVT_C_STORE, lambda event: (event.encoded_dataset(include_meta=False), 0)[1]),
        (evt.EVT_CONN_OPEN, nodelay)])
    _serve_until_sigterm(server.shutdown)


def engine_noop_scp(port: int) -> None:
    """sdu receive's engine (intake.acceptor) with a service that stores nothing: its floor."""
    import logging

    from intake.acceptor import AcceptorServer
    from intake.receiver import ReceiverOptions, acceptor_policy

    class Noop:
        def store(self, assoc, transfer_syntax, dataset):
            return 0

        def echo(self, assoc):
            return 0

    server = AcceptorServer(("127.0.0.1", port), acceptor_policy(ReceiverOptions()), Noop(),
                            logging.getLogger("noop")).start()
    _serve_until_sigterm(lambda: server.shutdown(0))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5, help="runs per peer; the median is reported")
    parser.add_argument("--noop-scp", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--noop-engine", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.noop_scp:
        pynetdicom_noop_scp(args.noop_scp)
        return 0
    if args.noop_engine:
        engine_noop_scp(args.noop_engine)
        return 0
    for tool in ("storescu", "storescp"):
        if not shutil.which(tool):
            sys.exit(f"{tool} (dcmtk) is not installed")
    env = {**os.environ, "TCP_NODELAY": "1"}
    with tempfile.TemporaryDirectory(prefix="sdu-bench-") as tmp:
        tmp = Path(tmp)
        env["SDU_SITE_DIR"] = str(tmp / "site")
        study = generate_study(tmp / "gen", StudySpec(slices=args.slices, rows=512, columns=512))
        ct = tmp / "ct"
        ct.mkdir()
        for p in study.ct:
            shutil.copy2(p, ct / p.name)
        mb = sum(p.stat().st_size for p in ct.iterdir()) / 1e6
        results: dict[str, list[float]] = {"sdu receive": [], "sdu receive --no-fsync": [],
                                           "sdu engine no-op SCP": [], "pynetdicom AE no-op SCP": [],
                                           "dcmtk storescp": []}
        sdu = [sys.executable, "-c", "from sdu.cli.main import cli; cli()", "receive"]
        for i in range(args.repeat):
            counts = {}
            for name, extra in (("sdu receive", []), ("sdu receive --no-fsync", ["--no-fsync"])):
                port, store = free_port(), tmp / f"store{i}{len(extra)}"
                results[name].append(run_scp(
                    [*sdu, "--ae-title", "SDU", "--host", "127.0.0.1", "--port", str(port), "--store", str(store),
                     "--max-pdu", "0", *extra], port, env, ct, tmp / "sdu.log"))
                counts[name] = sum(1 for _ in store.glob("*/*/*/*.dcm"))
                shutil.rmtree(store)  # every peer starts with the same amount of dirty page cache
            for name, flag in (("sdu engine no-op SCP", "--noop-engine"), ("pynetdicom AE no-op SCP", "--noop-scp")):
                port = free_port()
                results[name].append(run_scp(
                    [sys.executable, __file__, flag, str(port)], port, env, ct, tmp / "noop.log"))
            port, out = free_port(), tmp / f"storescp{i}"
            out.mkdir()
            results["dcmtk storescp"].append(run_scp(
                ["storescp", "-aet", "SDU", "+B", "--max-pdu", "131072", "-od", str(out), str(port)], port, env, ct))
            counts["dcmtk storescp"] = sum(1 for _ in out.iterdir())
            shutil.rmtree(out)
            if set(counts.values()) != {args.slices}:
                sys.exit(f"run {i}: expected {args.slices} files each, got {counts}")
    print(f"{args.slices} CT instances 512x512 ({mb:.0f} MB), storescu -> SCP on loopback, one association, "
          f"median of {args.repeat} runs (peers interleaved)")
    rate = {}
    for name, times in results.items():
        mid = statistics.median(times)
        rate[name] = args.slices / mid
        print(f"  {name:26} {rate[name]:8.1f} instances/s  {mb / mid:7.1f} MB/s  "
              f"(runs: {', '.join(f'{t:.2f}s' for t in times)})")
    for name in results:
        if name == "dcmtk storescp":
            continue
        print(f"  ratio {name} / storescp: {rate[name] / rate['dcmtk storescp']:.0%} (target >= 50%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
