"""The verifier never imports the anonymiser (checked in a fresh interpreter)."""
from __future__ import annotations

import subprocess
import sys

CODE = """
import sys
import verifier, verifier.engine, verifier.filecheck, verifier.collect, verifier.table
import sdu.cli.verify
bad = sorted(m for m in sys.modules if m == "anonymiser" or m.startswith("anonymiser."))
print(",".join(bad) or "clean")
"""


def test_verifier_does_not_import_the_anonymiser():
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "clean"
