"""Helpers for the intake tests: `sdu receive` as a real subprocess on a free loopback port, store readers."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from intake.identity import split_part10
from sdu.loopback import free_port  # noqa: F401 - the tests import it from here

SDU = [sys.executable, "-c", "from sdu.cli.main import cli; cli()"]


def dataset_bytes(path: Path) -> bytes:
    """The encoded dataset after the File Meta group: what must arrive bit-identical."""
    return split_part10(Path(path).read_bytes(), path=str(path))[1]


def stored_files(store: Path) -> list[Path]:
    return sorted(store.glob("*/*/*/*.dcm"))


def temp_leftovers(store: Path) -> list[Path]:
    return sorted(store.glob("*/*/*/.sdu-*.part"))


class ReceiverProcess:
    """`sdu receive` in a subprocess; stderr captured to a file for leak checks."""

    def __init__(self, store: Path, log: Path, *extra: str, ae_title: str = "SDU", quiet: float = 1.0):
        self.port = free_port()
        self.store, self.log = store, log
        self.argv = [*SDU, "-v", "receive", "--ae-title", ae_title, "--host", "127.0.0.1", "--port", str(self.port),
                     "--store", str(store), "--quiet-seconds", str(quiet), "--json", *extra]
        self._err = open(log, "ab")
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=self._err, env=os.environ.copy())
        self.wait_listening()

    def wait_listening(self, timeout: float = 30.0) -> None:
        """Wait for the 'listening' line (a bare TCP probe would open a half-made association)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "listening as" in self.log.read_text(errors="replace"):
                return
            if self.proc.poll() is not None:
                raise AssertionError(f"sdu receive exited early: {self.log.read_text(errors='replace')}")
            time.sleep(0.05)
        raise AssertionError("sdu receive did not start listening")

    def stop(self, sig=signal.SIGTERM, timeout: float = 60) -> tuple[int, dict | None]:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        out, _ = self.proc.communicate(timeout=timeout)
        self._err.close()
        try:
            report = json.loads(out) if out.strip() else None
        except json.JSONDecodeError:
            report = None
        return self.proc.returncode, report

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=30)
        self._err.close()
