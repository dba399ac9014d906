"""Reading a session folder for validation: what objects it holds and how they refer to each other.

Recurses and skips non-DICOM (catalog XML, reports). Image objects are read header-only.
A file without the Part 10 preamble/meta header (pydicom's ``rtstruct.dcm``, the RTPLANs in
PyPI ``pymedphys``) is read with ``force=True`` when it still carries SOP Class and Instance
UIDs, and noted as a warning: validation only reads, so a guessed transfer syntax that parses
cleanly is acceptable here (the anonymiser may decide otherwise).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydicom.dataset import Dataset

from sdu.dicomfiles import Skipped, header_note, iter_candidate_files, read_dataset
from sdu.errors import NotDicomError

RT_MODALITIES = {"RTSTRUCT", "RTPLAN", "RTDOSE", "RTIMAGE", "RTRECORD"}


@dataclass
class DicomObject:
    """One instance; ``dataset`` is kept for RT objects only (image objects keep their UIDs)."""

    path: Path
    modality: str
    sop_class_uid: str
    sop_instance_uid: str
    study_uid: str | None
    series_uid: str | None
    frame_of_reference_uid: str | None
    patient_key: tuple[str, str]  # (PatientID, PatientName) compared, never reported
    forced: bool = False
    dataset: Dataset | None = None


@dataclass
class Session:
    root: Path
    objects: list[DicomObject] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def of(self, modality: str) -> list[DicomObject]:
        return [o for o in self.objects if o.modality == modality]

    @property
    def sop_uids(self) -> dict[str, DicomObject]:
        return {o.sop_instance_uid: o for o in self.objects}

    def relative(self, path: Path) -> str:
        try:
            return str(Path(path).relative_to(self.root))
        except ValueError:
            return Path(path).name


def read_any(path: Path, *, stop_before_pixels: bool = True) -> tuple[Dataset, bool]:
    """Read a file as DICOM, Part 10 or a bare data set (older exports).

    Returns the dataset and whether it lacked the Part 10 header. Raises :class:`NotDicomError`.
    """
    ds = read_dataset(path, stop_before_pixels=stop_before_pixels)
    return ds, header_note(ds) is not None


def _text(ds: Dataset, keyword: str) -> str | None:
    value = ds.get(keyword)
    return str(value) if value not in (None, "") else None


def read_session(root: str | Path) -> Session:
    """Every DICOM object below ``root``; what cannot be read goes to ``skipped`` with its reason."""
    root = Path(root)
    session = Session(root)
    for path in iter_candidate_files(root, session.skipped):
        try:
            ds, forced = read_any(path)
            modality = str(ds.get("Modality", "")).upper()
            obj = DicomObject(
                path, modality, str(ds.SOPClassUID), str(ds.SOPInstanceUID), _text(ds, "StudyInstanceUID"),
                _text(ds, "SeriesInstanceUID"), _text(ds, "FrameOfReferenceUID"),
                (str(ds.get("PatientID", "")), str(ds.get("PatientName", ""))), forced,
                ds if modality in RT_MODALITIES else None)
        except NotDicomError as exc:
            session.skipped.append(Skipped(str(path), exc.reason))
            continue
        except Exception as exc:  # a damaged element met while reading the header
            session.skipped.append(Skipped(str(path), f"damaged DICOM ({type(exc).__name__})"))
            continue
        session.objects.append(obj)
    return session


def referenced_uids(ds: Dataset, sequence: str) -> list[str]:
    """ReferencedSOPInstanceUID of each item of a top-level reference sequence."""
    return [str(item.ReferencedSOPInstanceUID) for item in ds.get(sequence, []) if "ReferencedSOPInstanceUID" in item]


def referenced_image_uids(ds: Dataset) -> list[str]:
    """The images an RTSTRUCT lists in ReferencedFrameOfReferenceSequence > RTReferencedStudySequence >
    RTReferencedSeriesSequence > ContourImageSequence (the image set it was drawn on)."""
    return [str(img.ReferencedSOPInstanceUID)
            for fr in ds.get("ReferencedFrameOfReferenceSequence", None) or ()
            for st in fr.get("RTReferencedStudySequence", None) or ()
            for se in st.get("RTReferencedSeriesSequence", None) or ()
            for img in se.get("ContourImageSequence", None) or () if "ReferencedSOPInstanceUID" in img]


def roi_table(ds: Dataset) -> list[tuple[int, str, bool, list[str]]]:
    """For each ROI of an RTSTRUCT: number, name, has contour data, referenced image UIDs."""
    contours = {}
    for rc in ds.get("ROIContourSequence", []):
        number = rc.get("ReferencedROINumber")
        items = rc.get("ContourSequence", [])
        has_data = any(len(c.get("ContourData", []) or []) >= 3 for c in items)
        images = [str(img.ReferencedSOPInstanceUID) for c in items for img in c.get("ContourImageSequence", [])
                  if "ReferencedSOPInstanceUID" in img]
        contours[number] = (has_data, images)
    rows = []
    for roi in ds.get("StructureSetROISequence", []):
        has_data, images = contours.get(roi.get("ROINumber"), (False, []))
        rows.append((int(roi.get("ROINumber", 0)), str(roi.get("ROIName", "")), has_data, images))
    return rows
