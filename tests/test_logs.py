"""pydicom's messages (which quote element values) never reach SDU's logs or stderr, whether
pydicom is imported before or after ``sdu`` silences it (the byte paths import it late, or not
at all)."""
import subprocess
import sys

import pytest

SCRIPT = """
import logging
from sdu.logs import quiet_dicom_libraries
logging.basicConfig(level=logging.DEBUG)
{before}
quiet_dicom_libraries()
{after}
from pydicom.dataset import Dataset
from pydicom import config
config.settings.writing_validation_mode = config.WARN
ds = Dataset()
ds.SOPInstanceUID = "SECRET.Name^Value"          # invalid UI: pydicom warns and logs the value
logging.getLogger("pydicom").warning("pydicom says SECRET")
logging.getLogger("pydicom.valuerep").error("child says SECRET")
logging.getLogger("sdu").warning("sdu line")
"""


@pytest.mark.parametrize("order", ["before", "after"])
def test_pydicom_messages_are_silenced_whatever_the_import_order(order):
    script = SCRIPT.format(before="import pydicom" if order == "before" else "",
                           after="import pydicom" if order == "after" else "")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert "sdu line" in out.stderr  # our own logging still works
    assert "SECRET" not in out.stderr + out.stdout
