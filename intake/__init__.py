"""Intake: the C-STORE SCP and the folder watcher feeding the site's identifiable store.

``store.ingest`` is the one way in; ``receiver`` (pynetdicom) and ``watcher`` (watchdog) call it;
``completion`` announces studies that have gone quiet.
"""
from __future__ import annotations

from sdu.logs import quiet_dicom_libraries

__all__ = ["quiet_dicom_libraries"]
