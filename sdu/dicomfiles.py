"""Finding and reading DICOM files in a folder tree.

DICOM is recognised by content, never by name: a file is DICOM when it carries the Part 10
preamble and ``DICM`` marker, or when it starts with a data set (older exports write the data
set alone, without preamble or file meta). Everything else met while walking is reported as
skipped with its reason, so every input is accounted for. Symbolic links inside the tree are
followed once (loop-safe); a link leading outside it is reported, not followed. Nothing here
decodes pixel data.
"""
from __future__ import annotations

import os
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from .errors import NotDicomError
from .limits import DEFAULT_LIMITS, Limits

if TYPE_CHECKING:
    from pydicom.dataset import FileDataset

#: The Media Storage Directory SOP Class: a DICOMDIR (an index of a medium, not an object to send).
MEDIA_DIRECTORY_CLASS = re.compile(rb"1\.2\.840\.10008\.1\.3\.10(?![0-9.])")
DEFLATED = "1.2.840.10008.1.2.1.99"
#: First two bytes of a data set written without preamble: group 0002 or 0008, little or big endian.
_BARE_STARTS = (b"\x02\x00", b"\x08\x00", b"\x00\x08")


@dataclass(frozen=True)
class Skipped:
    """A path met while walking that is not processed, and why (e.g. not DICOM, unreadable folder)."""

    path: str
    reason: str


def sniff(head: bytes) -> str | None:
    """What the first bytes of a file say it is: ``"part10"``, ``"bare"`` (a data set without
    preamble/file meta), ``"dicomdir"`` or None (not DICOM)."""
    if len(head) >= 132 and head[128:132] == b"DICM":
        return "dicomdir" if MEDIA_DIRECTORY_CLASS.search(head, 132, 600) else "part10"
    if len(head) >= 8 and head[:2] in _BARE_STARTS and head[2:4] != b"\xff\xff":
        return "bare"
    return None


def _why_not(head: bytes) -> str:
    if not head:
        return "empty file"
    text = head.lstrip()[:5].lower()
    if text.startswith((b"<?xml", b"<")):
        return "not DICOM (XML or HTML)"
    if text.startswith((b"{", b"[")):
        return "not DICOM (JSON)"
    return "not DICOM (no DICM marker and no data set at the start)"


def iter_candidate_files(root: str | Path, errors: list[Skipped] | None = None) -> Iterator[Path]:
    """Yield every DICOM file below ``root`` (recognised by content), in a stable order.

    Whatever is not processed goes to ``errors`` (when given) with its reason: not DICOM, a
    DICOMDIR, an unreadable file or folder, a symbolic link leaving ``root``, a second path to a
    file already met. Links inside ``root`` are followed once.
    """
    return (path for path, _ in iter_candidate_heads(root, errors))


def iter_candidate_heads(root: str | Path, errors: list[Skipped] | None = None,
                         size: int = 600) -> Iterator[tuple[Path, bytes]]:
    """:func:`iter_candidate_files` with each file's first ``size`` bytes (read once, for the
    caller's own look at the header)."""
    skip = errors.append if errors is not None else (lambda s: None)
    root = Path(root)
    if root.is_file():
        with open(root, "rb") as f:
            yield root, f.read(size)
        return
    top = Path(os.path.realpath(root))
    seen_dirs: set[tuple[int, int]] = set()
    seen_files: set[tuple[int, int]] = set()

    def inside(real: str) -> bool:
        return real == str(top) or real.startswith(str(top) + os.sep)

    def visit(folder: Path) -> Iterator[Path]:
        try:
            st = folder.stat()
            if (st.st_dev, st.st_ino) in seen_dirs:
                skip(Skipped(str(folder), "folder already visited (a symbolic link loops back)"))
                return
            seen_dirs.add((st.st_dev, st.st_ino))
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            skip(Skipped(str(folder), f"cannot read folder: {exc.strerror}"))
            return
        for entry in entries:
            path = Path(entry.path)
            try:
                if entry.is_symlink():
                    real = os.path.realpath(path)
                    if not inside(real):
                        skip(Skipped(str(path), "symbolic link leading outside the source folder (not followed)"))
                        continue
                if entry.is_dir():  # follows a link that stays inside
                    yield from visit(path)
                    continue
                if not entry.is_file():
                    skip(Skipped(str(path), "not a regular file" if os.path.lexists(path) else "broken symbolic link"))
                    continue
                st = entry.stat()
            except OSError as exc:
                skip(Skipped(str(path), f"cannot read: {exc.strerror}"))
                continue
            if (st.st_dev, st.st_ino) in seen_files:
                skip(Skipped(str(path), "same file as another path already counted (a link)"))
                continue
            seen_files.add((st.st_dev, st.st_ino))
            try:
                with open(path, "rb") as f:
                    head = f.read(max(size, 600))
            except OSError as exc:
                skip(Skipped(str(path), f"cannot read file: {exc.strerror}"))
                continue
            kind = sniff(head)
            if kind == "dicomdir":
                skip(Skipped(str(path), "DICOMDIR: an index of a medium, not an object to send"))
            elif kind is None:
                skip(Skipped(str(path), _why_not(head)))
            else:
                yield path, head

    yield from visit(root)


def has_dicom_preamble(path: str | Path) -> bool:
    """True when the file carries the 128-byte preamble and ``DICM`` marker."""
    with open(path, "rb") as f:
        head = f.read(132)
    return len(head) == 132 and head[128:132] == b"DICM"


def check_inflated_size(path: str | Path, limits: Limits = DEFAULT_LIMITS) -> None:
    """For a deflated file: raise :class:`NotDicomError` when its data set inflates past the cap.

    Inflates in bounded chunks and counts (nothing kept), before pydicom inflates it whole.
    """
    import pydicom

    with open(path, "rb") as f:
        pydicom.filereader.read_preamble(f, False)
        pydicom.filereader._read_file_meta_info(f)
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        total = 0
        while not inflater.eof:
            pending = f.read(1 << 16)
            if not pending:
                return  # a stream cut short: pydicom names the damage
            while pending and not inflater.eof:  # at most 1 MiB of output at a time
                total += len(inflater.decompress(pending, 1 << 20))
                if total > limits.max_inflated:
                    raise NotDicomError(f"deflated data set inflates past the cap of {limits.max_inflated} bytes "
                                        "(--max-inflated-size)", path=path)
                pending = inflater.unconsumed_tail


def read_dataset(path: str | Path, *, stop_before_pixels: bool = False, force: bool = False,
                 limits: Limits = DEFAULT_LIMITS) -> FileDataset:
    """Read one file, raising :class:`NotDicomError` (naming the file and reason) when it can't.

    A data set written without preamble or file meta (older exports, often implicit VR) is read
    too, as is a file meta without transfer syntax: the encoding pydicom detects is set as the
    transfer syntax and :func:`header_note` says what was missing. ``force`` also tries content
    that does not look like DICOM at all. A deflated data set that inflates past
    ``limits.max_inflated``, or an element longer than ``limits.max_element``, is refused.
    """
    import pydicom  # here, not at module level: listing files needs no pydicom
    from pydicom.errors import InvalidDicomError

    path = Path(path)
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(600)
    except OSError as exc:
        raise NotDicomError(f"cannot read file: {exc.strerror}", path=path) from None
    if size == 0:
        raise NotDicomError("empty file", path=path)
    kind = sniff(head)
    if kind is None and not force:
        raise NotDicomError(_why_not(head), path=path)
    if kind == "dicomdir":
        raise NotDicomError("DICOMDIR: an index of a medium, not an object to send", path=path)
    try:
        if kind == "part10" and DEFLATED.encode() in head[132:]:
            check_inflated_size(path, limits)
        defer = limits.max_element if size > limits.max_element else None
        ds = pydicom.dcmread(path, stop_before_pixels=stop_before_pixels, force=True, defer_size=defer)
    except NotDicomError:
        raise
    except PermissionError:
        raise NotDicomError("permission denied", path=path) from None
    except InvalidDicomError:
        raise NotDicomError("not DICOM", path=path) from None
    except Exception as exc:  # pydicom raises many types on truncated or damaged files
        raise NotDicomError(f"damaged or truncated DICOM ({type(exc).__name__})", path=path) from None
    if "SOPInstanceUID" not in ds or "SOPClassUID" not in ds:
        raise NotDicomError("no SOP Class/Instance UID: not a DICOM object", path=path)
    if defer is not None:
        for tag, raw in ds._dict.items():
            length = getattr(raw, "length", 0)
            if getattr(raw, "value", b"") is None and length not in (None, 0xFFFFFFFF) and length > limits.max_element:
                raise NotDicomError(f"element {raw.tag} is {length} bytes, over the cap of {limits.max_element} "
                                    "(--max-element-size)", path=path)
    if "TransferSyntaxUID" not in ds.file_meta:
        _set_detected_syntax(ds)
    return ds


def _set_detected_syntax(ds) -> None:
    from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

    implicit, little = ds.original_encoding
    if implicit is None:
        raise NotDicomError("transfer syntax could not be detected")
    ds.file_meta.TransferSyntaxUID = (ImplicitVRLittleEndian if implicit else
                                      ExplicitVRLittleEndian if little else ExplicitVRBigEndian)
    ds.sdu_header_note = ("no preamble or file meta" if ds.preamble is None
                          else "no transfer syntax in the file meta") + f" (read as {ds.file_meta.TransferSyntaxUID.name})"


def header_note(ds) -> str | None:
    """What :func:`read_dataset` had to supply for a file without a full Part 10 header, or None."""
    return getattr(ds, "sdu_header_note", None)


def check_complete(ds: FileDataset, path: str | Path) -> None:
    """Raise :class:`NotDicomError` when the file was cut short.

    pydicom reads a truncated file without complaint (a short value is simply shorter), so
    check what can be checked without decoding anything: every raw value has the length its
    header announced, and native pixel data has the size Rows x Columns x frames x samples
    x bits implies.
    """
    for raw in ds._dict.values():
        length, value = getattr(raw, "length", None), getattr(raw, "value", None)
        if isinstance(value, bytes) and length not in (None, 0xFFFFFFFF) and len(value) != length:
            raise NotDicomError(f"truncated: element {raw.tag} is {len(value)} of {length} bytes", path=path)
    if "Rows" in ds and "Columns" in ds and not any(k in ds for k in ("PixelData", "FloatPixelData", "DoubleFloatPixelData")):
        raise NotDicomError("truncated: image without pixel data", path=path)
    if "PixelData" in ds and not ds.file_meta.TransferSyntaxUID.is_compressed:
        raw = ds._dict[0x7FE00010]
        length = getattr(raw, "length", None) or len(ds._dict[0x7FE00010].value or b"")
        try:
            expected = (int(ds.Rows) * int(ds.Columns) * int(ds.get("NumberOfFrames") or 1)
                        * int(ds.get("SamplesPerPixel") or 1) * int(ds.BitsAllocated)) // 8
        except (AttributeError, TypeError, ValueError):
            return
        value = getattr(raw, "value", None)
        actual = len(value) if isinstance(value, bytes) else length
        if actual < expected:
            raise NotDicomError(f"truncated: pixel data is {actual} of {expected} bytes", path=path)


#: SOP classes under this root (RT Structure Set, Plan, Dose, ...) hold many nested items and
#: cost far more per file than an image slice.
RT_SOP_CLASS_ROOT = b"1.2.840.10008.5.1.4.1.1.481"


def heavy_first(paths: list, key=lambda p: p) -> list:
    """``paths`` with RT objects first (stable otherwise), so a process pool does not end on
    one large RTSTRUCT while the other workers idle. Peeks at the first 512 bytes only (the
    file meta's SOP class)."""
    def heavy(item) -> int:
        try:
            with open(key(item), "rb") as f:
                return 0 if RT_SOP_CLASS_ROOT in f.read(512) else 1
        except OSError:
            return 1
    return sorted(paths, key=heavy)
