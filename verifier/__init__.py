"""The independent verifier: re-reads anonymised output and checks that nothing identifying remains.

It never imports the anonymiser: it reads the output files, the originals (``--against``) and/or
the linkage store, and the shared PS3.15 Table E.1-1 data, and returns a :class:`VerifyReport`.
"""
from .engine import verify_folder
from .model import FileResult, Finding, VerifyOptions, VerifyReport
from .table import report_table

__all__ = ["FileResult", "Finding", "VerifyOptions", "VerifyReport", "report_table", "verify_folder"]
