"""Intake: the C-STORE SCP and the folder watcher feeding the site's identifiable store.

``store.ingest`` is the one way in; ``receiver`` (the C-STORE SCP: ``acceptor`` engine on
``upperlayer``/``dimse`` with pynetdicom's PDU codecs) and ``watcher`` (watchdog) call it;
``completion`` announces studies that have gone quiet.
"""
from __future__ import annotations

from sdu.logs import quiet_dicom_libraries

__all__ = ["quiet_dicom_libraries"]
