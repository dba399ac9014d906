"""Secure DICOM Uploader: the shared core used by every step.

Steps (``anonymiser``, ``verifier``, ``validator``, ``intake``) are folder-in, folder-out
functions that return report objects; the ``sdu`` command line only parses arguments and
calls them.
"""
import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
