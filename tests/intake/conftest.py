"""Intake fixtures: `sdu receive` as a real subprocess on a free loopback port."""
from __future__ import annotations

from pathlib import Path

import pytest
from intake_helpers import ReceiverProcess


@pytest.fixture
def receiver(tmp_path):
    """Factory: start `sdu receive` on a free port; every process is stopped at teardown."""
    started: list[ReceiverProcess] = []

    def start(store: Path | None = None, *extra: str, **kw) -> ReceiverProcess:
        rx = ReceiverProcess(store or tmp_path / "store", tmp_path / f"receive{len(started)}.log", *extra, **kw)
        started.append(rx)
        return rx

    yield start
    for rx in started:
        if rx.proc.poll() is None:
            rx.proc.kill()
            rx.proc.wait(timeout=30)
