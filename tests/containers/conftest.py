"""The SDU command image, built once per test run by containers/build (cached by a hash of the
sources: a second run reuses it), and the Container Service launcher around it."""
from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IMAGE = "sdu:latest"


@pytest.fixture(scope="session")
def sdu_image() -> str:
    if not (shutil.which("podman") or shutil.which("docker")):
        pytest.fail("neither podman nor docker is installed (./run-tests installs podman)")
    started = time.monotonic()
    done = subprocess.run([str(ROOT / "containers" / "build"), "--tag", IMAGE], capture_output=True, text=True,
                          timeout=1800)
    assert done.returncode == 0, f"containers/build failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    print(f"\n{done.stdout.strip()} [{time.monotonic() - started:.0f} s in this run]")
    return IMAGE
