"""Generate a coherent, *identifiable* radiotherapy study for demos, tests and benchmarks.

A CT series of N slices, an RTSTRUCT whose contours reference those CT instances and their
frame of reference, an RTPLAN referencing the RTSTRUCT and an RTDOSE referencing the RTPLAN.
Identifiers are planted where real departments put them: standard patient/staff/institution
tags, free text, nested sequences, a private block, device identity. :data:`PLANTED` lists
every planted identifier so tests can search outputs for each one.

Everything here is synthetic: the "patient" does not exist.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import (
    CTImageStorage,
    ExplicitVRLittleEndian,
    PYDICOM_IMPLEMENTATION_UID,
    RTDoseStorage,
    RTPlanStorage,
    RTStructureSetStorage,
)

#: Standard (TG-263) ROI names used unless a study asks for others.
STANDARD_ROIS = ["External", "PTV_High", "CTV_High", "GTVp", "Bladder", "Rectum", "Femur_Head_L", "Femur_Head_R"]
#: Clinical-style names as departments type them, for validation/relabelling tests.
CLINICAL_ROIS = ["BODY", "PTV 60", "CTV prostate", "GTV", "BLADDER", "RECTUM", "Lt Femoral Head", "Rt Femoral Head"]


@dataclass(frozen=True)
class Patient:
    """The planted identity. Values are deliberately distinctive so a byte search finds them."""

    family: str = "Quixtable"
    given: str = "Marguerite"
    middle: str = "Oriel"
    patient_id: str = "HOSP483920"
    other_id: str = "NHS9434765919"
    birth_date: str = "19580317"
    accession: str = "ACC7734521"
    address: str = "12 Wexcombe Lane, Basingstoke"
    institution_address: str = "Aldhelm Road, Winchester"
    phone: str = "01632960834"
    institution: str = "St Aldhelm Royal Infirmary"
    department: str = "Aldhelm Oncology Wing"
    referring: str = "Pennywhistle^Theodora"
    operator: str = "Brackenbury^Ingrid"
    physician: str = "Falconbridge^Lucius"
    reviewer: str = "Thistlewood^Ambrose"
    station: str = "ALDHELM-CT-07"
    serial: str = "SN-99817345"

    @property
    def name(self) -> str:
        return f"{self.family}^{self.given}^{self.middle}"


#: Values a leak check looks for (name parts, IDs, dates, staff, institution, device).
def planted_identifiers(p: Patient = Patient()) -> dict[str, str]:
    return {
        "family name": p.family, "given name": p.given, "middle name": p.middle,
        "patient id": p.patient_id, "other patient id": p.other_id, "birth date": p.birth_date,
        "accession": p.accession, "address": "Wexcombe", "phone": p.phone,
        "institution": "Aldhelm", "referring physician": "Pennywhistle", "operator": "Brackenbury",
        "physician": "Falconbridge", "reviewer": "Thistlewood", "station": p.station, "serial": p.serial,
    }


PLANTED = planted_identifiers()


@dataclass
class StudySpec:
    slices: int = 50
    rows: int = 128
    columns: int = 128
    patient: Patient = field(default_factory=Patient)
    roi_names: list[str] = field(default_factory=lambda: list(STANDARD_ROIS))
    study_date: str = "20240611"
    seed: str = "sdu-demo"
    #: ROI names given here get a StructureSetROI entry but no contours (an "empty" structure).
    empty_rois: tuple[str, ...] = ()
    with_private: bool = True
    #: Points per contour and the RTDOSE grid (frames, rows, columns): benchmarks raise them to get
    #: RT objects of a real size (a ~4 MB RTSTRUCT, a ~10 MB RTDOSE).
    contour_points: int = 12
    dose_grid: tuple[int, int, int] = (10, 24, 24)


@dataclass
class GeneratedStudy:
    root: Path
    ct: list[Path]
    rtstruct: Path
    rtplan: Path
    rtdose: Path
    patient: Patient
    uids: dict[str, str]

    @property
    def files(self) -> list[Path]:
        return [*self.ct, self.rtstruct, self.rtplan, self.rtdose]


def _uid(seed: str, *parts: object) -> str:
    digest = hashlib.sha256("\x1f".join([seed, *map(str, parts)]).encode()).digest()
    return "2.25." + str(int.from_bytes(digest[:15], "big"))


def _base(spec: StudySpec, uids: dict[str, str], sop_class: str, sop_uid: str, modality: str) -> Dataset:
    p = spec.patient
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.file_meta.MediaStorageSOPInstanceUID = sop_uid
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds.file_meta.SourceApplicationEntityTitle = "ALDHELM_PACS"
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, sop_uid
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = spec.study_date
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = "093015.000000"
    ds.AccessionNumber = p.accession
    ds.Modality = modality
    ds.Manufacturer = "Synthetic Systems"
    ds.InstitutionName = p.institution
    ds.InstitutionAddress = p.institution_address
    ds.InstitutionalDepartmentName = p.department
    ds.ReferringPhysicianName = p.referring
    ds.ReferringPhysicianTelephoneNumbers = p.phone
    ds.StationName = p.station
    ds.StudyDescription = f"RT planning CT pelvis {p.family}"
    ds.OperatorsName = p.operator
    ds.PhysiciansOfRecord = p.physician
    ds.ManufacturerModelName = "SynthRT 1"
    ds.PatientName = p.name
    ds.PatientID = p.patient_id
    ds.IssuerOfPatientID = "ALDHELM"
    ds.PatientBirthDate = p.birth_date
    ds.PatientSex = "F"
    ds.PatientAge = "066Y"
    ds.PatientAddress = p.address
    ds.PatientTelephoneNumbers = p.phone
    other = Dataset()
    other.PatientID = p.other_id
    other.IssuerOfPatientID = "NHS"
    other.TypeOfPatientID = "TEXT"
    ds.OtherPatientIDsSequence = Sequence([other])
    ds.DeviceSerialNumber = p.serial
    ds.SoftwareVersions = "1.0"
    ds.StudyInstanceUID = uids["study"]
    ds.StudyID = "ST" + p.patient_id[-5:]
    ds.PatientPosition = "HFS"
    req = Dataset()
    req.RequestedProcedureID = "RP" + p.accession
    req.ScheduledProcedureStepID = "SPS" + p.patient_id
    req.RequestedProcedureDescription = f"Planning CT for {p.given} {p.family}"
    ds.RequestAttributesSequence = Sequence([req])
    if spec.with_private:
        ds.private_block(0x0011, "ALDHELM RT 1.0", create=True).add_new(0x10, "LO", f"{p.family} {p.patient_id}")
    return ds


def _ct_slice(spec: StudySpec, uids: dict[str, str], i: int) -> Dataset:
    ds = _base(spec, uids, CTImageStorage, uids[f"ct{i}"], "CT")
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.SeriesInstanceUID = uids["ct_series"]
    ds.SeriesNumber = 1
    ds.SeriesDescription = "Planning CT"
    ds.Laterality = ""
    ds.InstanceNumber = i + 1
    ds.FrameOfReferenceUID = uids["for"]
    ds.PositionReferenceIndicator = ""
    ds.AcquisitionNumber = 1
    ds.ImagePositionPatient = [-250.0, -250.0, -spec.slices * 1.5 + i * 3.0]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.SliceThickness = 3.0
    ds.SliceLocation = ds.ImagePositionPatient[2]
    ds.PixelSpacing = [500.0 / spec.rows, 500.0 / spec.columns]
    ds.KVP = 120
    ds.ImageComments = f"Scanned by {spec.patient.operator.replace('^', ' ')} for {spec.patient.family}"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = spec.rows, spec.columns
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = -1024, 1, "HU"
    ds.WindowCenter, ds.WindowWidth = 40, 400
    yy, xx = np.mgrid[: spec.rows, : spec.columns]
    r = np.hypot(yy - spec.rows / 2, xx - spec.columns / 2)
    img = np.where(r < spec.rows * 0.42, 1040, 24).astype(np.int16)
    img += ((xx * 7 + yy * 3 + i * 11) % 23).astype(np.int16)  # texture: no two slices alike
    ds.PixelData = img.tobytes()
    ref = Dataset()
    ref.ReferencedSOPClassUID = CTImageStorage
    ref.ReferencedSOPInstanceUID = uids[f"ct{(i + 1) % spec.slices}"]
    ds.ReferencedImageSequence = Sequence([ref])
    return ds


def _contour(spec: StudySpec, uids, roi_index: int, slice_index: int) -> Dataset:
    z = -spec.slices * 1.5 + slice_index * 3.0
    radius = 200.0 - roi_index * 20
    k = spec.contour_points
    angles = np.linspace(0, 2 * np.pi, k, endpoint=False)
    pts = np.column_stack([radius * np.cos(angles), radius * np.sin(angles), np.full(k, z)])
    c = Dataset()
    img = Dataset()
    img.ReferencedSOPClassUID = CTImageStorage
    img.ReferencedSOPInstanceUID = uids[f"ct{slice_index}"]
    c.ContourImageSequence = Sequence([img])
    c.ContourGeometricType = "CLOSED_PLANAR"
    c.NumberOfContourPoints = k
    c.ContourData = [round(float(v), 2) for v in pts.ravel()]
    return c


def _rtstruct(spec: StudySpec, uids) -> Dataset:
    p = spec.patient
    ds = _base(spec, uids, RTStructureSetStorage, uids["rtstruct"], "RTSTRUCT")
    ds.SeriesInstanceUID = uids["rtstruct_series"]
    ds.SeriesNumber = 2
    ds.InstanceNumber = 1
    ds.FrameOfReferenceUID = uids["for"]
    ds.PositionReferenceIndicator = ""
    ds.StructureSetLabel = "Pelvis RT"
    ds.StructureSetName = f"{p.family} prostate"
    ds.StructureSetDate, ds.StructureSetTime = spec.study_date, "101500"
    series = Dataset()
    series.SeriesInstanceUID = uids["ct_series"]
    series.ContourImageSequence = Sequence([
        _image_ref(uids[f"ct{i}"]) for i in range(spec.slices)
    ])
    study = Dataset()
    study.ReferencedSOPClassUID = "1.2.840.10008.3.1.2.3.1"  # Detached Study Management (retired), as TPS write it
    study.ReferencedSOPInstanceUID = uids["study"]
    study.RTReferencedSeriesSequence = Sequence([series])
    frame = Dataset()
    frame.FrameOfReferenceUID = uids["for"]
    frame.RTReferencedStudySequence = Sequence([study])
    ds.ReferencedFrameOfReferenceSequence = Sequence([frame])
    rois, contours, observations = [], [], []
    for n, name in enumerate(spec.roi_names, start=1):
        roi = Dataset()
        roi.ROINumber = n
        roi.ReferencedFrameOfReferenceUID = uids["for"]
        roi.ROIName = name
        roi.ROIGenerationAlgorithm = "MANUAL"
        rois.append(roi)
        rc = Dataset()
        rc.ROIDisplayColor = [255, (n * 40) % 256, 0]
        rc.ReferencedROINumber = n
        if name not in spec.empty_rois:
            lo, hi = spec.slices // 4, spec.slices - spec.slices // 4
            if name.lower() in ("external", "body"):
                lo, hi = 0, spec.slices
            rc.ContourSequence = Sequence([_contour(spec, uids, n, s) for s in range(lo, max(hi, lo + 1))])
        contours.append(rc)
        obs = Dataset()
        obs.ObservationNumber = n
        obs.ReferencedROINumber = n
        kind = "EXTERNAL" if name.lower() in ("external", "body") else (
            "PTV" if name.upper().startswith("PTV") else "CTV" if name.upper().startswith("CTV")
            else "GTV" if name.upper().startswith("GTV") else "ORGAN")
        obs.RTROIInterpretedType = kind
        obs.ROIInterpreter = p.physician
        observations.append(obs)
    ds.StructureSetROISequence = Sequence(rois)
    ds.ROIContourSequence = Sequence(contours)
    ds.RTROIObservationsSequence = Sequence(observations)
    ds.ApprovalStatus = "APPROVED"
    ds.ReviewDate, ds.ReviewTime = spec.study_date, "120000"
    ds.ReviewerName = p.reviewer
    return ds


def _image_ref(sop_uid: str) -> Dataset:
    ref = Dataset()
    ref.ReferencedSOPClassUID = CTImageStorage
    ref.ReferencedSOPInstanceUID = sop_uid
    return ref


def _rtplan(spec: StudySpec, uids) -> Dataset:
    p = spec.patient
    ds = _base(spec, uids, RTPlanStorage, uids["rtplan"], "RTPLAN")
    ds.SeriesInstanceUID = uids["rtplan_series"]
    ds.SeriesNumber = 3
    ds.InstanceNumber = 1
    ds.FrameOfReferenceUID = uids["for"]
    ds.PositionReferenceIndicator = ""
    ds.RTPlanLabel = "Prostate 60Gy"
    ds.RTPlanName = f"{p.family} VMAT"
    ds.RTPlanDate, ds.RTPlanTime = spec.study_date, "140000"
    ds.RTPlanGeometry = "PATIENT"
    ds.PrescriptionDescription = "60 Gy in 20 fractions"
    ss = Dataset()
    ss.ReferencedSOPClassUID = RTStructureSetStorage
    ss.ReferencedSOPInstanceUID = uids["rtstruct"]
    ds.ReferencedStructureSetSequence = Sequence([ss])
    dose_ref = Dataset()
    dose_ref.DoseReferenceNumber = 1
    dose_ref.DoseReferenceUID = uids["dose_ref"]
    dose_ref.DoseReferenceStructureType = "SITE"
    dose_ref.DoseReferenceDescription = "PTV_High"
    dose_ref.DoseReferenceType = "TARGET"
    dose_ref.TargetPrescriptionDose = 60.0
    ds.DoseReferenceSequence = Sequence([dose_ref])
    fg = Dataset()
    fg.FractionGroupNumber = 1
    fg.NumberOfFractionsPlanned = 20
    fg.NumberOfBeams = 2
    fg.NumberOfBrachyApplicationSetups = 0
    beams = []
    refs = []
    for b in (1, 2):
        beam = Dataset()
        beam.BeamNumber = b
        beam.BeamName = f"Arc{b}"
        beam.BeamType = "DYNAMIC"
        beam.RadiationType = "PHOTON"
        beam.TreatmentMachineName = "ALDHELM_LINAC2"
        beam.Manufacturer = "Synthetic Systems"
        beam.InstitutionName = p.institution
        beam.DeviceSerialNumber = p.serial
        beam.PrimaryDosimeterUnit = "MU"
        beam.SourceAxisDistance = 1000.0
        beam.TreatmentDeliveryType = "TREATMENT"
        beam.NumberOfWedges = beam.NumberOfCompensators = beam.NumberOfBoli = beam.NumberOfBlocks = 0
        beam.FinalCumulativeMetersetWeight = 1.0
        beam.NumberOfControlPoints = 2
        bld = []
        for kind, pairs in (("ASYMX", 1), ("ASYMY", 1), ("MLCX", 10)):
            d = Dataset()
            d.RTBeamLimitingDeviceType = kind
            d.NumberOfLeafJawPairs = pairs
            if kind == "MLCX":
                d.LeafPositionBoundaries = [float(v) for v in range(-50, 51, 10)]
            bld.append(d)
        beam.BeamLimitingDeviceSequence = Sequence(bld)
        cps = []
        for k in (0, 1):
            cp = Dataset()
            cp.ControlPointIndex = k
            cp.CumulativeMetersetWeight = float(k)
            if k == 0:
                cp.NominalBeamEnergy = 6.0
                cp.GantryAngle = 181.0 if b == 1 else 179.0
                cp.GantryRotationDirection = "CW" if b == 1 else "CC"
                cp.BeamLimitingDeviceAngle = 30.0
                cp.PatientSupportAngle = 0.0
                cp.PatientSupportRotationDirection = "NONE"
                cp.TableTopEccentricAngle = 0.0
                cp.TableTopEccentricRotationDirection = "NONE"
                cp.IsocenterPosition = [0.0, 0.0, 0.0]
            cps.append(cp)
        beam.ControlPointSequence = Sequence(cps)
        beam.ReferencedPatientSetupNumber = 1
        beams.append(beam)
        ref = Dataset()
        ref.ReferencedBeamNumber = b
        ref.BeamMeterset = 250.0
        refs.append(ref)
    fg.ReferencedBeamSequence = Sequence(refs)
    ds.FractionGroupSequence = Sequence([fg])
    ds.BeamSequence = Sequence(beams)
    setup = Dataset()
    setup.PatientSetupNumber = 1
    setup.PatientPosition = "HFS"
    ds.PatientSetupSequence = Sequence([setup])
    ds.ApprovalStatus = "APPROVED"
    ds.ReviewDate, ds.ReviewTime = spec.study_date, "150000"
    ds.ReviewerName = p.reviewer
    return ds


def _rtdose(spec: StudySpec, uids) -> Dataset:
    ds = _base(spec, uids, RTDoseStorage, uids["rtdose"], "RTDOSE")
    ds.SeriesInstanceUID = uids["rtdose_series"]
    ds.SeriesNumber = 4
    ds.InstanceNumber = 1
    ds.FrameOfReferenceUID = uids["for"]
    ds.PositionReferenceIndicator = ""
    frames, rows, cols = spec.dose_grid
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 32, 32, 31, 0
    ds.Rows, ds.Columns, ds.NumberOfFrames = rows, cols, frames
    ds.FrameIncrementPointer = 0x3004000C
    ds.GridFrameOffsetVector = [float(3 * k) for k in range(frames)]
    ds.ImagePositionPatient = [-120.0, -120.0, -15.0]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [10.0, 10.0]
    ds.SliceThickness = 3.0
    ds.DoseUnits, ds.DoseType, ds.DoseSummationType = "GY", "PHYSICAL", "PLAN"
    ds.DoseGridScaling = 1e-4
    zz, yy, xx = np.mgrid[:frames, :rows, :cols]
    dose = 600000 * np.exp(-((yy - rows // 2) ** 2 + (xx - cols // 2) ** 2) / 60.0) * (1 - abs(zz - frames // 2) / frames)
    ds.PixelData = dose.astype(np.uint32).tobytes()
    plan = Dataset()
    plan.ReferencedSOPClassUID = RTPlanStorage
    plan.ReferencedSOPInstanceUID = uids["rtplan"]
    ds.ReferencedRTPlanSequence = Sequence([plan])
    return ds


def generate_study(dest: str | Path, spec: StudySpec | None = None) -> GeneratedStudy:
    """Write the study below ``dest`` (CT/, RTSTRUCT/, RTPLAN/, RTDOSE/) and describe it.

    UIDs are derived from ``spec.seed``: two calls with the same spec give the same study.
    """
    spec = spec or StudySpec()
    dest = Path(dest)
    keys = ["study", "for", "ct_series", "rtstruct", "rtstruct_series", "rtplan", "rtplan_series",
            "rtdose", "rtdose_series", "dose_ref", *[f"ct{i}" for i in range(spec.slices)]]
    uids = {k: _uid(spec.seed, spec.patient.patient_id, k) for k in keys}
    for sub in ("CT", "RTSTRUCT", "RTPLAN", "RTDOSE"):
        (dest / sub).mkdir(parents=True, exist_ok=True)
    ct_paths = []
    for i in range(spec.slices):
        path = dest / "CT" / f"CT{i + 1:04d}.dcm"
        _ct_slice(spec, uids, i).save_as(path, enforce_file_format=True)
        ct_paths.append(path)
    out = {}
    for name, build in (("RTSTRUCT", _rtstruct), ("RTPLAN", _rtplan), ("RTDOSE", _rtdose)):
        out[name] = dest / name / f"{name}.dcm"
        build(spec, uids).save_as(out[name], enforce_file_format=True)
    return GeneratedStudy(dest, ct_paths, out["RTSTRUCT"], out["RTPLAN"], out["RTDOSE"], spec.patient, uids)
