"""Trial protocols and radiotherapy session validation (TG-263 names, expected structures, relabelling).

Folder in, report out: :func:`validate_session` and :func:`relabel_session` read a session folder
and return report dataclasses with ``to_dict()``; protocols come from :func:`find_protocol`
(site folder over bundled) or :meth:`TrialProtocol.from_file`.
"""
from .names import NameVerdict, Suggestion, classify, suggest
from .protocol import TrialProtocol
from .registry import find_protocol, list_protocols
from .relabel import RelabelReport, relabel_session, relabel_with_suggestions, suggested_mapping
from .report import Check, ValidationReport, render
from .rules import NameCheck, check_name
from .validate import validate_session

__all__ = [
    "Check", "NameCheck", "NameVerdict", "RelabelReport", "Suggestion", "TrialProtocol", "ValidationReport",
    "check_name", "classify", "find_protocol", "list_protocols", "relabel_session", "relabel_with_suggestions", "render", "suggest",
    "suggested_mapping", "validate_session",
]
