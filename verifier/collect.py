"""Gather what the output must not contain: identifiers and original UIDs.

From ``--against`` originals (each file read header only, in worker processes; by the verifier's
byte reader (:mod:`verifier.bytecollect`) where it can, else by pydicom) and/or from the
linkage store (``identifiers(trial)``, ``original_uids(trial)``). Values stay in memory only; the
report carries counts.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from sdu.dicomfiles import RT_SOP_CLASS_ROOT, iter_candidate_heads, read_dataset
from sdu.errors import NotDicomError
from sdu.linkage import LinkageStore

from . import rules
from .bytecollect import collect_file
from .dictionary import dictionary_vr, tag_for_keyword
from .identifiers import (Identifier, IdentifierSet, drop_manufacturer_words, drop_ordinary_words, from_element,
                          manufacturer_tokens)
from .matcher import encoding_name
from .model import DEFAULT_MAX_INFLATED
from .pool import run_batches
from .references import RtSummary, summarise
from .sourcerefs import SourceReferences, references_from
from .walk import _raw_type, is_private, nodes

if TYPE_CHECKING:  # the pydicom path's data sets; the byte path runs without importing pydicom
    from pydicom.dataset import Dataset

_COLLECT_VRS = {"PN", "DA", "DT"}
#: Read originals with the verifier's byte reader where it can (tests turn this off to compare).
BYTE_READER = True


@dataclass
class Collected:
    identifiers: list[Identifier] = field(default_factory=list)
    uids: set[str] = field(default_factory=set)
    manufacturer: set[str] = field(default_factory=set)
    files_read: int = 0
    files_unreadable: int = 0
    encodings: set[str] = field(default_factory=set)  # character sets the originals declared (codec names)
    #: Each original's SOP identity and RT references (what already dangled in the source).
    summaries: list[RtSummary] = field(default_factory=list)

    def merge(self, other: "Collected") -> None:
        self.summaries += other.summaries
        self.identifiers += other.identifiers
        self.uids |= other.uids
        self.manufacturer |= other.manufacturer
        self.encodings |= other.encodings
        self.files_read += other.files_read
        self.files_unreadable += other.files_unreadable


@dataclass(frozen=True)
class Originals:
    """What the output is checked against. ``has_*`` say whether the check can run at all."""

    identifiers: IdentifierSet
    uids: frozenset[str]
    has_identifiers: bool
    has_uids: bool
    counts: dict
    #: Largest inflated size of a deflated output data set the verifier reads (VerifyOptions.max_inflated).
    max_inflated: int = DEFAULT_MAX_INFLATED
    #: What already dangled in the originals (None without ``--against``); stays in the parent.
    references: SourceReferences | None = None

    def __getstate__(self):  # workers check files, not references: don't ship them
        return {**self.__dict__, "references": None}

    def __setstate__(self, state):
        for k, v in state.items():
            object.__setattr__(self, k, v)


def _is_identifying_uid(keyword: str, uid: str) -> bool:
    return (bool(uid) and not uid.startswith(rules.identifier_rules()["well_known_uid_root"])
            and keyword not in rules.non_identifying_uid_keywords())


def collect_dataset(ds: Dataset, out: Collected, source: str = "source", other_ids: bool = False,
                    seen: set | None = None) -> None:
    """Add the identifiers and UIDs of one original dataset (every depth, private elements skipped).

    ``seen`` (shared across the files of a batch) holds (tag, raw bytes) pairs already collected:
    a series repeats the same names and IDs in every file, so each is converted once.
    """
    elements = rules.identifier_rules()["elements"]
    phone = rules.identifier_rules()["phone_keyword_contains"]
    makers = set(rules.identifier_rules()["manufacturer_keywords"])
    raw_type = _raw_type()
    for node in nodes(ds, None):
        if is_private(node.tag):
            continue
        kw = node.keyword
        if node.vr == "SQ":
            for item in ds[node.tag].value or ():
                collect_dataset(item, out, source, other_ids or kw == "OtherPatientIDsSequence", seen)
            continue
        collectible = node.vr in _COLLECT_VRS or kw in elements or phone in kw
        if node.vr != "UI" and kw not in makers and not collectible:
            continue
        raw = ds._dict[node.tag]
        if seen is not None and type(raw) is raw_type and raw.value is not None and len(raw.value) <= 512:
            key = (node.tag, other_ids, raw.value)
            if key in seen:
                continue
            seen.add(key)
        if node.vr == "UI":
            out.uids.update(u for u in node.text_values() if _is_identifying_uid(kw, u))
        elif kw in makers:
            out.manufacturer |= manufacturer_tokens(node.text_values())
        else:
            values = _converted_values(ds, node.tag)
            out.identifiers += from_element(kw, node.vr, values, source, other_ids=other_ids)


def declared_encodings(ds: Dataset) -> set[str]:
    """The codec names of a data set's Specific Character Set (nothing when it cannot be read)."""
    try:
        declared = ds._character_set
        return {n for n in map(encoding_name, [declared] if isinstance(declared, str) else declared) if n}
    except Exception:  # an unknown or damaged character set: the base encodings still apply
        return set()


def _converted_values(ds: Dataset, tag: int) -> list[str]:
    """Values converted by pydicom (so the character set is honoured); only for the few collected elements."""
    value = ds[tag].value
    if value is None:
        return []
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return [str(v) for v in value]
    return [str(value)]


def _collect_batch(_context, paths: list[Path]) -> list[Collected]:
    out = Collected()
    seen: set = set()
    for path in paths:
        if BYTE_READER and collect_file(path, out, seen):
            continue
        try:
            ds = read_dataset(path, stop_before_pixels=True)
            out.encodings.update(declared_encodings(ds))
            collect_dataset(ds, out, seen=seen)
            if getattr(ds, "file_meta", None) is not None:
                collect_dataset(ds.file_meta, out, seen=seen)
            out.files_read += 1
            out.summaries.append(summarise(str(path), ds))
        except NotDicomError:
            out.files_unreadable += 1
        except Exception:  # a damaged source must not stop verification of the output
            out.files_unreadable += 1
    return [out]


def collect_folder(folder: Path, workers: int) -> Collected:
    rt, other = [], []  # RT objects first (a pool should not end on one); one read of each head
    for path, head in iter_candidate_heads(folder):
        (rt if RT_SOP_CLASS_ROOT in head[:512] else other).append(path)
    paths = rt + other
    total = Collected()
    for batch in run_batches(_collect_batch, None, paths, workers):
        for part in batch:
            total.merge(part)
    return total


def collect_linkage(db: Path, trial: str | None) -> Collected:
    out = Collected()
    with LinkageStore(db, create=False) as store:
        for kind, value in store.identifiers(trial):
            out.identifiers += _from_linkage(kind, value)
        out.uids |= {u for u in store.original_uids(trial) if _is_identifying_uid("", u)}
    return out


def _from_linkage(kind: str, value: str) -> list[Identifier]:
    """A linkage (kind, value): a DICOM keyword is treated like the element; other kinds by their name."""
    src = "linkage store"
    tag = tag_for_keyword(kind)
    if tag is not None:
        try:
            return from_element(kind, dictionary_vr(tag), [value], src)
        except KeyError:
            pass
    low = kind.lower()
    if "name" in low and "patient" in low:
        return [replace(i, kind="the patient's name", category="patient")
                for i in from_element("PersonName", "PN", [value], src)]
    if "name" in low and "institution" not in low:
        return from_element("PersonName", "PN", [value], src)
    if "birth" in low:
        return from_element("PatientBirthDate", "DA", [value], src)
    if "date" in low:
        return from_element(kind, "DA", [value], src)
    if "address" in low:
        return from_element("PatientAddress", "LO", [value], src)
    if "institution" in low:
        return from_element("InstitutionName", "LO", [value], src)
    if "phone" in low:
        return from_element("PatientTelephoneNumbers", "SH", [value], src)
    value = value.strip()
    lim = rules.identifier_rules()["min_length"]["exact"]
    return [Identifier(f"a recorded identifier ({kind})", value, "exact", "patient", src)] if len(value) >= lim else []


def gather(against: Path | None, linkage_db: Path | None, trial: str | None, workers: int,
           against_collected: Collected | None = None, max_inflated: int = DEFAULT_MAX_INFLATED) -> Originals:
    total = Collected()
    if against is not None:
        total.merge(against_collected if against_collected is not None else collect_folder(Path(against), workers))
    if linkage_db is not None:
        total.merge(collect_linkage(Path(linkage_db), trial))
    idents = IdentifierSet(drop_ordinary_words(drop_manufacturer_words(total.identifiers, total.manufacturer)),
                           total.encodings)
    have = against is not None or linkage_db is not None
    counts = {"identifiers": len(idents), "original_uids": len(total.uids),
              "source_files_read": total.files_read, "source_files_unreadable": total.files_unreadable}
    references = references_from(total.summaries) if against is not None else None
    return Originals(idents, frozenset(total.uids), have and len(idents) > 0, have and len(total.uids) > 0, counts,
                     max_inflated, references)
