"""One exception type per failure family.

Messages name a file, a tag path, a JSON pointer or a line and column: never an element
value, so an exception can be logged or shown anywhere without leaking identifiable data.
Each class carries the exit code the command line uses for it.
"""
from __future__ import annotations

from pathlib import Path


class SDUError(Exception):
    """Root of every error SDU raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, *, path: str | Path | None = None):
        self.path = str(path) if path is not None else None
        super().__init__(f"{self.path}: {message}" if self.path else message)
        self.reason = message


class NotDicomError(SDUError):
    """A file that is not DICOM, or is too damaged to parse."""

    exit_code = 3


class ConfigError(SDUError):
    """A missing or bad setting: key file, linkage store, option name."""

    exit_code = 2


class AnonymisationError(SDUError):
    """A file that could not be anonymised (kept out of the output)."""

    exit_code = 4


class VerificationError(SDUError):
    """Output that failed verification."""

    exit_code = 5


class ScriptError(SDUError):
    """A DicomEdit script that does not parse or load; carries line and column."""

    exit_code = 6

    def __init__(self, message: str, *, path=None, line: int | None = None, column: int | None = None):
        self.line, self.column = line, column
        where = f"line {line}, column {column}: " if line is not None else ""
        super().__init__(where + message, path=path)


class ProtocolError(SDUError):
    """A trial protocol that fails its schema or semantic checks; carries a JSON pointer."""

    exit_code = 7

    def __init__(self, message: str, *, path=None, pointer: str | None = None):
        self.pointer = pointer
        super().__init__((f"{pointer}: " if pointer else "") + message, path=path)


class IntakeError(SDUError):
    """A problem receiving or importing files into the identifiable store."""

    exit_code = 8


class ApprovalError(SDUError):
    """A release that is not (or no longer) approved: nothing may leave the site."""

    exit_code = 9


class AuditError(SDUError):
    """The site's audit log chain is broken: an entry was edited, deleted or reordered."""

    exit_code = 11


class RegistryError(SDUError):
    """The research registry refused a value (not a pseudonym) or could not be reached."""

    exit_code = 12
