"""Gather one original file's identifiers and UIDs from its bytes (:mod:`verifier.elements`).

Same walk, same rules and same results as :func:`verifier.collect.collect_dataset` on the pydicom
data set, without building one (nor importing pydicom): only the collected values are converted
(:mod:`.bytevalues`, with the file's character set). Returns False, having changed nothing,
when the file is left to the pydicom path.
"""
from __future__ import annotations

import os

from sdu.dicomfiles import read_dataset

from . import rules
from .bytesummary import summarise
from .bytevalues import CHARSET, encodings, raw_value, text_values, values
from .elements import Declined, Parsed, Short, parse
from .identifiers import from_element, manufacturer_tokens
from .matcher import encoding_name
from .references import summarise as summarise_dataset
from .walk import _keyword, is_private

HEAD = 32768
_COLLECT_VRS = {"PN", "DA", "DT"}
SOP_CLASS, SOP_INSTANCE = 0x00080016, 0x00080018


def read_head(path) -> tuple[bytes, Parsed]:
    """The file's bytes up to its pixel data (or all of it) and their parse; raises Declined/OSError."""
    with open(path, "rb") as f:
        data = f.read(HEAD)
        size = os.fstat(f.fileno()).st_size
        if size > len(data):
            try:
                return data, parse(data, size)
            except Short:
                data += f.read()
    return data, parse(data)


class _Walk:
    def __init__(self, data: bytes, implicit: bool, encoding, seen: set):
        cfg = rules.identifier_rules()
        self.elements = cfg["elements"]
        self.phone = cfg["phone_keyword_contains"]
        self.makers = set(cfg["manufacturer_keywords"])
        self.data, self.implicit, self.encoding, self.seen = data, implicit, encoding, seen
        self.keys: set = set()
        self.identifiers: list = []
        self.uids: set = set()
        self.manufacturer: set = set()
        self.well_known = cfg["well_known_uid_root"]
        self.not_identifying = rules.non_identifying_uid_keywords()

    def level(self, level: list, other_ids: bool, nested: bool, source: str) -> None:
        for element in level:
            tag, vr, start, length, items = element
            if is_private(tag):
                continue
            if nested and tag == CHARSET:
                raise Declined  # a character set of its own inside an item
            kw = _keyword(tag)
            if vr == "SQ":
                for item in items:
                    self.level(item, other_ids or kw == "OtherPatientIDsSequence", True, source)
                continue
            collectible = vr in _COLLECT_VRS or kw in self.elements or self.phone in kw
            if vr != "UI" and kw not in self.makers and not collectible:
                continue
            raw = raw_value(self.data, element, self.implicit)
            if raw is not None and len(raw) <= 512:
                key = (tag, other_ids, raw)
                if key in self.seen or key in self.keys:
                    continue
                self.keys.add(key)
            if vr == "UI":
                self.uids.update(u for u in text_values(raw) if u and not u.startswith(self.well_known)
                                 and kw not in self.not_identifying)
            elif kw in self.makers:
                self.manufacturer |= manufacturer_tokens(text_values(raw))
            else:
                texts = values(self.data, element, self.implicit, self.encoding)
                self.identifiers += from_element(kw, vr, texts, source, other_ids=other_ids)


def collect_file(path, out, seen: set) -> bool:
    """Add one original file's identifiers and UIDs to ``out`` (a Collected); False when declined."""
    try:
        data, parsed = read_head(path)
        if not any(e[0] == SOP_INSTANCE for e in parsed.dataset) or \
                not any(e[0] == SOP_CLASS for e in parsed.dataset):
            return False
        if any(e[1] == "UI" and not data[e[2]:e[2] + e[3]].isascii() for e in parsed.meta):
            return False  # pydicom converts some meta UIDs before they are collected
        declared = encodings(data, parsed)
        walk = _Walk(data, parsed.implicit, declared, seen)
        walk.level(parsed.dataset, False, False, "source")
        walk.level(parsed.meta, False, False, "source")
    except Exception:  # declined, unreadable or unconvertible: the pydicom path decides
        return False
    out.identifiers += walk.identifiers
    out.uids |= walk.uids
    out.manufacturer |= walk.manufacturer
    out.encodings.update(n for n in map(encoding_name, [declared] if isinstance(declared, str) else declared) if n)
    out.files_read += 1
    seen |= walk.keys
    try:
        out.summaries.append(summarise(str(path), data, parsed.dataset, parsed.implicit, declared))
    except Exception:  # noqa: BLE001 - the byte summary declined: pydicom reads the references
        try:
            out.summaries.append(summarise_dataset(str(path), read_dataset(path, stop_before_pixels=True)))
        except Exception:  # noqa: BLE001 - unreadable references: the file's identifiers still count
            pass
    return True
