"""The profile walk over a file's bytes: the same actions as :mod:`.engine`, no pydicom Dataset.

For the common file (little endian, no DicomEdit script, no Retain Safe Private) the walk runs
on :mod:`.elements`' positions and writes each element as bytes: untouched values are sliced
from the input, replaced ones encoded here, sequences written with undefined lengths exactly
as :mod:`.writer` writes them. The output is byte-for-byte the Dataset path's (a test runs
both on every test file). Whatever only the Dataset path does (text that needs scrubbing, an
unusual character set, a truncated file, anything :mod:`.elements` declines) raises
:class:`Decline` and the caller falls back to it.
"""
from __future__ import annotations

from . import identity, iod, pixeltext
from .context import Context
from .dates import shift_value
from .elements import Decline, Element, PartTen, read_file, text, value
from .patienttext import PATIENT_TEXT_TAGS
from .encoding import IMPLICIT, ITEM, ITEM_END, LONG, SEQ_END, UNDEFINED, header
from .plan import COMBINED, plan_for, repeating_action
from .values import ASCII_VRS, DUMMIES, TEXT_VRS, class_uid_tags, replace_uid

__all__ = ["Decline", "Walker", "read_file", "subject_values", "text"]

#: Character sets whose text the scrub pre-test and the identity read handle like pydicom.
PLAIN_CHARSETS = frozenset({"", *identity.PLAIN_CODECS})
#: Top-level elements read through pydicom for the subject's identity (a handful per file).
IDENTITY_TAGS = {  # keyword -> tag (a test holds these to pydicom's dictionary)
    "PatientName": 0x00100010, "ReferringPhysicianName": 0x00080090, "OperatorsName": 0x00081070,
    "PerformingPhysicianName": 0x00081050, "PhysiciansOfRecord": 0x00081048,
    "NameOfPhysiciansReadingStudy": 0x00081060, "ReviewerName": 0x300E0008, "RequestingPhysician": 0x00321032,
    "PatientBirthName": 0x00101005, "PatientMotherBirthName": 0x00101060, "OtherPatientNames": 0x00101001,
    "PatientID": 0x00100020, "OtherPatientIDs": 0x00101000, "AccessionNumber": 0x00080050,
    "PatientBirthDate": 0x00100030, "MedicalRecordLocator": 0x00101090, "StudyInstanceUID": 0x0020000D,
    "StudyDate": 0x00080020, "SeriesDate": 0x00080021, "AcquisitionDate": 0x00080022, "ContentDate": 0x00080023,
}
OTHER_PATIENT_IDS_SEQUENCE, PATIENT_ID = 0x00101002, 0x00100020
BINARY_VRS = frozenset({"US", "SS", "UL", "SL", "FL", "FD", "AT", "OB", "OW", "OD", "OF", "OL", "OV", "SV", "UV"})
NUMERIC_DUMMY = {"US": b"\0\0", "SS": b"\0\0", "UL": b"\0" * 4, "SL": b"\0" * 4, "FL": b"\0" * 4, "FD": b"\0" * 8}



def subject_values(buf: bytes, part: PartTen) -> tuple[dict[str, list[str]], str]:
    """The values (as text, by keyword) the subject's identity is read from, and the character
    set, decoded as pydicom decodes them for the plain character sets (others decline)."""
    top = {e.tag: e for e in part.dataset}
    charset = text(buf, top.get(0x00080005))
    if charset not in PLAIN_CHARSETS:
        raise Decline("character set")
    codec = codec_for(charset)
    values = {kw: _texts(buf, top.get(tag), codec) for kw, tag in IDENTITY_TAGS.items()}
    other = top.get(OTHER_PATIENT_IDS_SEQUENCE)
    if len(values["PatientID"]) > 1 or len(values["StudyInstanceUID"]) > 1:
        raise Decline("multi-valued Patient ID or Study Instance UID")
    values["OtherPatientIDsSequence"] = [v for item in ((other.items or ()) if other is not None else ())
                                         for e in item if e.tag == PATIENT_ID for v in _texts(buf, e, codec)]
    return values, charset


def _texts(buf: bytes, e: Element | None, codec: str) -> list[str]:
    if e is None or e.length == 0:
        return []
    try:
        return [v.rstrip("\0 ") for v in value(buf, e).decode(codec).split("\\")]
    except UnicodeError:
        raise Decline("text that does not decode") from None


def codec_for(charset: str) -> str:
    return "utf_8" if charset == "ISO_IR 192" else "latin_1"


class Walker:
    """One file's walk: ``encode(elements)`` gives the anonymised bytes of a dataset or item."""

    def __init__(self, buf: bytes, implicit: bool, ctx: Context, charset: str = ""):
        self.buf, self.implicit, self.ctx = buf, implicit, ctx
        self.codec = codec_for(charset)
        self.plan = plan_for(ctx.option_columns)
        self.columns = ctx.option_columns
        self.class_tags = class_uid_tags()

    # -- output -----------------------------------------------------------------------------
    def header(self, e: Element, length: int) -> bytes:
        return header(e.tag, e.vr, length, self.implicit)

    def raw(self, e: Element) -> list:
        """The element as it came (pixel data included: a slice, never decoded)."""
        if e.undefined:  # encapsulated pixel data: its items, then a zero-length delimiter
            return [self.header(e, UNDEFINED), self.encapsulated(e), SEQ_END]
        data = memoryview(self.buf)[e.value:e.value + e.length]
        if e.length % 2:
            pad = b"\0" if not self.implicit and e.vr in ("UI", "OB", "UN") else b" "
            return [self.header(e, e.length + 1), data, pad]
        return [self.header(e, e.length), data]

    def encapsulated(self, e: Element):
        """Encapsulated pixel data without text-carrying segments (:mod:`.pixeltext`)."""
        data = memoryview(self.buf)[e.value:e.value + e.length]
        try:
            stripped = pixeltext.strip_encapsulated(data)
        except pixeltext.PixelTextError:
            raise Decline("encapsulated pixel data the Dataset path refuses, with its reason") from None
        if stripped is None:
            return data
        self.ctx.counts[pixeltext.COUNT] += 1
        return stripped

    def new(self, e: Element, data: bytes) -> list:
        if len(data) % 2:
            data += b"\0" if e.vr == "UI" else b" "
        return [self.header(e, len(data)), data]

    def new_text(self, e: Element, values: list[str] | str | None) -> list:
        if values is None:
            return self.new(e, b"")
        joined = "\\".join(values) if isinstance(values, list) else values
        return self.new(e, joined.encode("ascii" if e.vr in ASCII_VRS else "utf-8"))

    def sequence(self, e: Element, items) -> list:
        g, el = e.tag >> 16, e.tag & 0xFFFF
        out = [IMPLICIT(g, el, UNDEFINED) if self.implicit else LONG(g, el, b"SQ", UNDEFINED)]
        for item in items:
            out.append(ITEM)
            out += self.encode(item)
            out.append(ITEM_END)
        out.append(SEQ_END)
        return out

    # -- the walk -----------------------------------------------------------------------------
    def encode(self, elements) -> list:
        """The anonymised elements of one sequence item, in tag order, as byte chunks."""
        return [chunk for _, chunks in sorted(self.walk(elements, item=True).items()) for chunk in chunks]

    def walk(self, elements, item: bool = False) -> dict[int, list]:
        """Tag -> output chunks for one dataset or item (removed elements absent)."""
        ctx = self.ctx
        out, counts, tree = {}, ctx.counts, ctx.iod
        for e in elements:
            tag = e.tag
            group = tag >> 16
            if group == 0x0002 or item and tag == 0x00080005:
                raise Decline("file meta element in the dataset, or an item with its own character set")
            if group & 1:
                counts["private"] += 1
                continue
            if tag & 0xFFFF == 0:
                continue  # group lengths (retired) would be wrong after edits
            if tree is not None:  # as engine.walk: outside the IOD, unknown or a wrong VR: removed
                keep, ctx.iod = iod.judge(tree, tag, None if self.implicit else e.vr, tree is ctx.iod_root)
                if not keep:
                    counts[iod.CODE] += 1
                    continue
            if e.vr == "UN":
                raise Decline("VR UN on a standard element")
            code = self.plan.get(tag) or repeating_action(tag, self.columns)
            chunks = self.unlisted(e) if code is None else getattr(self, "act_" + COMBINED.get(code, code))(e)
            if chunks is not None:
                out[tag] = chunks
        ctx.iod = tree
        return out

    def unlisted(self, e: Element):
        vr, columns = e.vr, self.columns
        if vr == "SQ":
            return self.act_K(e)
        if vr == "UI" and "rtnUIDsOpt" not in columns:
            return self.act_U(e)
        if vr == "PN":
            return self.act_Z(e)
        if vr in ("DA", "DT") and "rtnLongFullDatesOpt" not in columns:
            return self.act_C(e) if self.ctx.shift_days is not None else self.act_D(e)
        if vr in TEXT_VRS and self.ctx.scrub is not None:
            return self.act_C(e)
        return self.raw(e)

    def ascii_values(self, e: Element) -> list[str]:
        s = text(self.buf, e)
        return [v.strip() for v in s.split("\\")] if s else []

    def act_X(self, e: Element):
        self.ctx.counts["X"] += 1
        return None

    def act_Z(self, e: Element):
        self.ctx.counts["Z"] += 1
        return self.sequence(e, ()) if e.vr == "SQ" else self.new(e, b"")

    def act_K(self, e: Element):
        return self.sequence(e, e.items) if e.vr == "SQ" else self.raw(e)

    def act_D(self, e: Element):
        vr, ctx = e.vr, self.ctx
        if vr in ASCII_VRS:
            values = self.ascii_values(e)
            if not values:
                return self.raw(e)
            ctx.counts["D"] += 1
            if vr in ("DA", "DT") and ctx.shift_days is not None:
                return self.new_text(e, shift_value(values, vr, ctx.shift_days))
            return self.new_text(e, str(DUMMIES.get(vr, "")))
        ctx.counts["D"] += 1
        if vr == "SQ":
            return self.sequence(e, e.items)
        data = value(self.buf, e)
        if not data.strip(b" \0") if vr in TEXT_VRS or vr in ("PN", "AE", "UR") else not data:
            return self.raw(e)  # nothing to hide, and an empty value stays valid where it was
        if vr in NUMERIC_DUMMY:
            return self.new(e, NUMERIC_DUMMY[vr])
        if vr in DUMMIES:
            return self.new(e, str(DUMMIES[vr]).encode("ascii"))
        return self.new(e, b"")

    def act_C(self, e: Element):
        vr, ctx = e.vr, self.ctx
        if vr in TEXT_VRS and e.tag in PATIENT_TEXT_TAGS:
            return self.act_X(e)  # free text about the patient: removed (:mod:`.patienttext`)
        ctx.counts["C"] += 1
        if vr in TEXT_VRS:
            scrubbed = None if ctx.scrub is None else self.scrubbed(value(self.buf, e), vr)
            return self.raw(e) if scrubbed is None else self.new(e, scrubbed)  # nothing to replace: as it came
        if vr in ("DA", "DT"):
            if ctx.shift_days is None:
                return self.raw(e)
            values = self.ascii_values(e)
            return self.new_text(e, shift_value(values, vr, ctx.shift_days) if values else None)
        if vr == "SQ":
            return self.sequence(e, e.items)
        if vr == "PN":
            return self.new(e, b"")
        if vr in BINARY_VRS:
            return self.raw(e)
        data = value(self.buf, e)
        if vr in ("TM", "CS", "AS", "AE") and _rewritten(data) == data:
            return self.raw(e)  # what the Dataset path writes back after converting it
        raise Decline("clean on a value the Dataset path re-encodes")

    def scrubbed(self, data: bytes, vr: str) -> bytes | None:
        """Text with identifiers replaced, decoded and encoded as pydicom does it (multi-valued
        VRs value by value, trailing NUL and spaces dropped); None when there is nothing to replace."""
        parts = data.split(b"\\") if vr in ("SH", "LO", "UC") else [data]
        try:
            values = [p.decode(self.codec).rstrip("\0 ") for p in parts]
        except UnicodeError:
            raise Decline("text that does not decode") from None
        new = [self.ctx.scrub.cleaned(v) for v in values]
        if new == values:
            return None
        try:
            return b"\\".join(v.encode(self.codec) for v in new)
        except UnicodeError:
            raise Decline("text that does not encode") from None

    def act_U(self, e: Element):
        if e.vr == "SQ":
            return self.sequence(e, e.items)
        if e.vr != "UI" or e.tag in self.class_tags:
            return self.raw(e)
        values = self.ascii_values(e)
        if not values:
            return self.raw(e)
        self.ctx.counts["U"] += 1
        return self.new_text(e, [replace_uid(v, self.ctx) for v in values])


def _rewritten(data: bytes) -> bytes:
    """A multi-string value as pydicom writes it back: one trailing pad dropped, then padded."""
    if data.endswith((b" ", b"\0")):
        data = data[:-1]
    return data + b" " if len(data) % 2 else data
