"""Logging that never carries identifiable values.

pydicom and pynetdicom log and warn with element values in the message ("Invalid value for VR
UI: '…'", names that fail a VR check). The ``sdu`` command line silences both libraries for
every command (worker processes inherit it); SDU's own log lines name files, tags and keys.
"""
from __future__ import annotations

import logging
import warnings


def quiet_dicom_libraries() -> None:
    """Keep pydicom/pynetdicom messages (which may quote element values) out of logs and stderr.

    Their loggers stop propagating, so nothing they log reaches a handler of ours, whenever the
    libraries are imported (pydicom resets its logger's level on import, never ``propagate``;
    a command that needs no pydicom does not import it just for this).
    """
    for name in ("pydicom", "pynetdicom"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.CRITICAL)
        logger.propagate = False
    warnings.filterwarnings("ignore", module=r"pydicom(\..*)?$")
    warnings.filterwarnings("ignore", module=r"pynetdicom(\..*)?$")
