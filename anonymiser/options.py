"""The one frozen object that says how a batch is anonymised."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from sdu.errors import ConfigError
from sdu.limits import DEFAULT_LIMITS, Limits
from sdu.standard import annex_e

#: Trial, site, subject and session IDs become folder names and DICOM values: keep them plain.
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def check_id(kind: str, value: str | None) -> None:
    if value is not None and not ID_PATTERN.match(value):
        raise ConfigError(f"{kind} must be 1-64 letters, digits, '.', '_' or '-' (starting with a letter or digit)")


#: Trial texts (sponsor, protocol and site names, ...) go into LO elements of every file, whatever
#: its character set: the default repertoire (printable ASCII), no backslash (a value separator).
TEXT_PATTERN = re.compile(r"^[ -\[\]-~]{0,64}$")


def check_text(kind: str, value: str | None) -> None:
    if value is not None and not TEXT_PATTERN.match(value):
        raise ConfigError(f"{kind} must be at most 64 printable ASCII characters without '\\' "
                          "(it is written into every file, whatever character set the file uses)")


@dataclass(frozen=True)
class AnonymiseOptions:
    trial_id: str
    site_id: str
    #: A trial-assigned subject ID; None means automatic (keyed hash of the patient ID).
    subject_id: str | None = None
    #: A trial-assigned session label; None means automatic.
    session_id: str | None = None
    #: Annex E option names (see ``sdu.standard.data/profile_options.json``).
    profile_options: tuple[str, ...] = field(default_factory=annex_e.trial_default_options)
    sponsor: str | None = None
    protocol_name: str = ""
    site_name: str = ""
    time_point: str = ""
    coordinating_center: str = ""
    #: DicomEdit scripts as (name, text), applied in order (site first, then project).
    scripts: tuple[tuple[str, str], ...] = ()
    key_file: Path | None = None
    linkage_db: Path | None = None
    workers: int = 2
    verify: bool = True
    #: Caps on inflated size and element length (one hostile file cannot exhaust memory).
    limits: Limits = DEFAULT_LIMITS
    #: Keep public elements the object's IOD does not define (and unknown tags, wrong VRs), with
    #: only the profile's scrub: the old behaviour, for non-trial use (:mod:`anonymiser.iod`).
    keep_non_iod: bool = False

    def __post_init__(self) -> None:
        for kind, value in (("trial ID", self.trial_id), ("site ID", self.site_id),
                            ("subject ID", self.subject_id), ("session ID", self.session_id)):
            check_id(kind, value)
        for kind, value in (("sponsor", self.sponsor), ("protocol name", self.protocol_name),
                            ("site name", self.site_name), ("time point", self.time_point),
                            ("coordinating center", self.coordinating_center)):
            check_text(kind, value)
        try:
            annex_e.parse_options(self.profile_options)
        except KeyError as exc:
            raise ConfigError(exc.args[0]) from None
        if {"retain-full-dates", "retain-modified-dates"} <= set(self.profile_options):
            raise ConfigError("choose one of retain-full-dates and retain-modified-dates")

    @property
    def options(self) -> frozenset[annex_e.ProfileOption]:
        return annex_e.parse_options(self.profile_options)

    @property
    def option_columns(self) -> frozenset[str]:
        return frozenset(o.column for o in self.options)
