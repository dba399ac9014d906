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

    pydicom sets its logger's level when it is first imported, so it is imported here first.
    """
    import pydicom.config

    del pydicom  # imported only for its import-time logger set-up, which ours must follow

    logging.getLogger("pynetdicom").setLevel(logging.CRITICAL)
    logging.getLogger("pydicom").setLevel(logging.CRITICAL)
    warnings.filterwarnings("ignore", module=r"pydicom(\..*)?$")
    warnings.filterwarnings("ignore", module=r"pynetdicom(\..*)?$")
