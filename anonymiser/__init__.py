"""The anonymiser: PS3.15 Annex E Basic Profile with options, keyed UIDs and pseudonyms,
the Clinical Trial modules, and a DicomEdit 6 step before it (:mod:`anonymiser.dicomedit`).

``anonymise_folder(src, dest, AnonymiseOptions(...))`` is the whole step; everything else is
the pieces it is built from.
"""
from .batch import anonymise_folder
from .options import AnonymiseOptions
from .report import AnonymiseReport, FileOutcome

__all__ = ["AnonymiseOptions", "AnonymiseReport", "FileOutcome", "anonymise_folder"]
