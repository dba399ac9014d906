"""Tables from the DICOM standard, kept as data files in ``data/`` and read once.

Shared by the anonymiser and the verifier: reading the standard is not the anonymiser's code
path, so the verifier may use it and stay independent.
"""
