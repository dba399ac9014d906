"""Intake: the C-STORE SCP and the folder watcher feeding the site's identifiable store.

``store.ingest`` is the one way in; ``receiver`` (pynetdicom) and ``watcher`` (watchdog) call it;
``completion`` announces studies that have gone quiet.
"""
from __future__ import annotations

import logging
import warnings


def quiet_dicom_libraries() -> None:
    """pydicom/pynetdicom log and warn with element values (names, IDs): keep them out of the log."""
    logging.getLogger("pynetdicom").setLevel(logging.CRITICAL)
    logging.getLogger("pydicom").setLevel(logging.CRITICAL)
    warnings.filterwarnings("ignore", module=r"pydicom(\..*)?$")
    warnings.filterwarnings("ignore", module=r"pynetdicom(\..*)?$")
