"""Finding and reading DICOM files in a folder tree.

Readers recurse and skip what is not DICOM: a session mounted by XNAT is
``SCANS/<id>/DICOM/*.dcm`` beside catalog XML files. Nothing here decodes pixel data.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from .errors import NotDicomError

if TYPE_CHECKING:
    from pydicom.dataset import FileDataset

#: Files that are never DICOM and are skipped without a report entry.
SKIP_SUFFIXES = {".xml", ".json", ".txt", ".log", ".md", ".csv", ".html", ".db", ".sqlite"}
SKIP_NAMES = {"DICOMDIR", ".DS_Store", "Thumbs.db"}


@dataclass(frozen=True)
class Skipped:
    """A path met while walking that could not be considered (e.g. unreadable folder)."""

    path: str
    reason: str


def iter_candidate_files(root: str | Path, errors: list[Skipped] | None = None) -> Iterator[Path]:
    """Yield every regular file below ``root`` that may be DICOM, in a stable order.

    Catalog/report files (by suffix) and DICOMDIR are passed over silently. Folders that cannot
    be read are added to ``errors`` (when given) instead of aborting the walk.
    """
    root = Path(root)
    if root.is_file():
        yield root
        return

    def onerror(exc: OSError) -> None:
        if errors is not None:
            errors.append(Skipped(str(exc.filename), f"cannot read folder: {exc.strerror}"))

    for dirpath, dirnames, filenames in os.walk(root, onerror=onerror):
        dirnames.sort()
        for name in sorted(filenames):
            if name in SKIP_NAMES or name.startswith(".") or Path(name).suffix.lower() in SKIP_SUFFIXES:
                continue
            path = Path(dirpath, name)
            if path.is_file() and not path.is_symlink():
                yield path


def has_dicom_preamble(path: str | Path) -> bool:
    """True when the file carries the 128-byte preamble and ``DICM`` marker."""
    with open(path, "rb") as f:
        head = f.read(132)
    return len(head) == 132 and head[128:132] == b"DICM"


def read_dataset(path: str | Path, *, stop_before_pixels: bool = False, force: bool = False) -> FileDataset:
    """Read one file, raising :class:`NotDicomError` (naming the file and reason) when it can't.

    Files without the Part 10 preamble/meta header are refused unless ``force`` is set: a
    file whose transfer syntax has to be guessed is not something to anonymise blindly.
    """
    import pydicom  # here, not at module level: listing files needs no pydicom
    from pydicom.errors import InvalidDicomError

    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise NotDicomError(f"cannot read file: {exc.strerror}", path=path) from None
    if size == 0:
        raise NotDicomError("empty file", path=path)
    try:
        if not force and not has_dicom_preamble(path):
            raise NotDicomError("not a DICOM Part 10 file (no preamble/'DICM' marker)", path=path)
        ds = pydicom.dcmread(path, stop_before_pixels=stop_before_pixels, force=force)
    except NotDicomError:
        raise
    except PermissionError:
        raise NotDicomError("permission denied", path=path) from None
    except InvalidDicomError as exc:
        raise NotDicomError(f"not DICOM: {exc}", path=path) from None
    except Exception as exc:  # pydicom raises many types on truncated or damaged files
        raise NotDicomError(f"damaged or truncated DICOM ({type(exc).__name__})", path=path) from None
    if "TransferSyntaxUID" not in getattr(ds, "file_meta", {}):
        raise NotDicomError("no File Meta Information (transfer syntax unknown)", path=path)
    if "SOPInstanceUID" not in ds or "SOPClassUID" not in ds:
        raise NotDicomError("no SOP Class/Instance UID: not a DICOM object", path=path)
    return ds


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
