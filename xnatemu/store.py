"""The emulated archive: projects, subjects, experiments, scans, resources, files, the prearchive.

Kept in memory (file bytes included): the emulator serves tests, the demo and benchmarks, not
data to keep. IDs follow XNAT's pattern (``XNAT_S00001``, ``XNAT_E00001``); a shared subject or
experiment keeps its ID and primary project and gains a ``sharing/share`` entry (label, project),
as ``xnat:projectParticipant`` / ``xnat:experimentData_share`` in XNAT's data model
(``src/main/resources/schemas/xnat/xnat.xsd`` in NrgXnat/xnat-web).

The import service files DICOM by series (SeriesInstanceUID, scan ID = SeriesNumber when it is
unique in the session, as XNAT's ``DICOM-zip`` handler does) into the scan's ``DICOM`` resource;
a file's checksum in catalog listings is the MD5 of its bytes, as XNAT's catalogs record it.
"""
from __future__ import annotations

import hashlib
import io
import itertools
import threading
import time
import zipfile
from dataclasses import dataclass, field

import pydicom


class XnatError(Exception):
    """An HTTP error answer: status and XNAT-style message text."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


@dataclass
class Resource:
    id: int
    label: str
    format: str = ""
    content: str = ""
    files: dict[str, bytes] = field(default_factory=dict)

    _digests: dict = field(default_factory=dict, repr=False)

    def digest(self, name: str) -> str:
        """The file's MD5, computed once per stored content (XNAT keeps it in the catalog)."""
        data = self.files[name]
        cached = self._digests.get(name)
        if cached is None or cached[0] is not data:
            cached = self._digests[name] = (data, hashlib.md5(data).hexdigest())
        return cached[1]

    def file_rows(self, uri: str) -> list[dict]:
        return [{"Name": name.rsplit("/", 1)[-1], "Size": str(len(data)), "URI": f"{uri}/files/{name}",
                 "collection": self.label, "file_tags": "", "file_format": self.format, "file_content": self.content,
                 "cat_ID": str(self.id), "digest": self.digest(name)}
                for name, data in sorted(self.files.items())]

    def row(self, element: str = "xnat:resourceCatalog") -> dict:
        return {"xnat_abstractresource_id": str(self.id), "label": self.label, "element_name": element,
                "category": "resources", "cat_id": "", "cat_desc": "", "format": self.format, "content": self.content,
                "tags": "", "file_count": str(len(self.files)),
                "file_size": str(sum(len(d) for d in self.files.values()))}


@dataclass
class Scan:
    id: str
    type: str = ""
    series_description: str = ""
    xsi_type: str = "xnat:otherDicomScanData"
    uid: str = ""
    modality: str = ""
    resources: dict[str, Resource] = field(default_factory=dict)


@dataclass
class Subject:
    id: str
    project: str
    label: str
    shares: dict[str, str] = field(default_factory=dict)  # project -> label
    resources: dict[str, Resource] = field(default_factory=dict)
    insert_date: str = ""


@dataclass
class Experiment:
    id: str
    project: str
    label: str
    subject_id: str
    xsi_type: str = "xnat:otherDicomSessionData"
    date: str = ""
    modality: str = ""
    uid: str = ""
    shares: dict[str, str] = field(default_factory=dict)
    scans: dict[str, Scan] = field(default_factory=dict)
    resources: dict[str, Resource] = field(default_factory=dict)
    insert_date: str = ""
    fields: dict[str, str] = field(default_factory=dict)  # custom fields (xnat:experimentData/fields/field)


@dataclass
class PrearchiveEntry:
    project: str
    timestamp: str
    folder: str
    subject: str
    session: str
    files: dict[str, bytes]
    uploaded: str
    status: str = "READY"


#: Modality -> (session xsiType, scan xsiType), from the element names in xnat.xsd.
MODALITY_TYPES = {
    "CT": ("xnat:ctSessionData", "xnat:ctScanData"), "MR": ("xnat:mrSessionData", "xnat:mrScanData"),
    "PT": ("xnat:petSessionData", "xnat:petScanData"), "RTSTRUCT": (None, "xnat:otherDicomScanData"),
    "RTPLAN": (None, "xnat:otherDicomScanData"), "RTDOSE": (None, "xnat:otherDicomScanData"),
    "RTIMAGE": (None, "xnat:rtImageScanData"), "SEG": (None, "xnat:segScanData"),
}


def _now() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S")


class Archive:
    """All state of one emulated XNAT; every method runs under one lock (requests are threads)."""

    def __init__(self):
        self.lock = threading.RLock()
        self.projects: dict[str, dict] = {}
        self.subjects: dict[str, Subject] = {}
        self.experiments: dict[str, Experiment] = {}
        self.prearchive: list[PrearchiveEntry] = []
        self._ids = itertools.count(1)
        self._resource_ids = itertools.count(1)
        self._ts = itertools.count(1)

    # --- projects ---------------------------------------------------------------------------
    def project(self, pid: str) -> dict:
        try:
            return self.projects[pid]
        except KeyError:
            raise XnatError(404, f"Unable to find project '{pid}'") from None

    def create_project(self, pid: str, name: str = "", description: str = "") -> bool:
        if pid in self.projects:
            return False
        self.projects[pid] = {"ID": pid, "secondary_ID": pid, "name": name or pid, "description": description,
                              "pi_firstname": "", "pi_lastname": ""}
        return True

    # --- subjects ---------------------------------------------------------------------------
    def subjects_in(self, pid: str) -> list[tuple[Subject, str]]:
        self.project(pid)
        out = []
        for s in self.subjects.values():
            if s.project == pid:
                out.append((s, s.label))
            elif pid in s.shares:
                out.append((s, s.shares[pid]))
        return out

    def find_subject(self, pid: str | None, key: str) -> Subject:
        if pid is None:
            if key in self.subjects:
                return self.subjects[key]
            raise XnatError(404, f"Unable to find subject '{key}'")
        for s, label in self.subjects_in(pid):
            if key in (s.id, label):
                return s
        raise XnatError(404, f"Unable to find subject '{key}' in project '{pid}'")

    def create_subject(self, pid: str, label: str) -> tuple[Subject, bool]:
        try:
            return self.find_subject(pid, label), False
        except XnatError:
            pass
        sid = f"XNAT_S{next(self._ids):05d}"
        s = self.subjects[sid] = Subject(sid, pid, label, insert_date=_now())
        return s, True

    # --- experiments ------------------------------------------------------------------------
    def experiments_in(self, pid: str, subject: Subject | None = None) -> list[tuple[Experiment, str]]:
        self.project(pid)
        out = []
        for e in self.experiments.values():
            if subject is not None and e.subject_id != subject.id:
                continue
            if e.project == pid:
                out.append((e, e.label))
            elif pid in e.shares:
                out.append((e, e.shares[pid]))
        return out

    def find_experiment(self, pid: str | None, key: str, subject: Subject | None = None) -> Experiment:
        if pid is None:
            if key in self.experiments:
                return self.experiments[key]
            raise XnatError(404, f"Unable to find experiment '{key}'")
        for e, label in self.experiments_in(pid, subject):
            if key in (e.id, label):
                return e
        raise XnatError(404, f"Unable to find experiment '{key}' in project '{pid}'")

    def create_experiment(self, pid: str, subject: Subject, label: str, xsi_type: str) -> tuple[Experiment, bool]:
        try:
            return self.find_experiment(pid, label), False
        except XnatError:
            pass
        eid = f"XNAT_E{next(self._ids):05d}"
        e = self.experiments[eid] = Experiment(eid, pid, label, subject.id, xsi_type or "xnat:otherDicomSessionData",
                                               insert_date=_now())
        return e, True

    def new_resource(self, label: str, fmt: str = "", content: str = "") -> Resource:
        return Resource(next(self._resource_ids), label, fmt, content)

    # --- sharing ----------------------------------------------------------------------------
    def share(self, obj: Subject | Experiment, dest: str, label: str | None, primary: bool) -> str:
        """XNAT's ``PUT …/projects/{dest}``: add the object to ``dest`` under ``label``."""
        self.project(dest)
        label = label or obj.label
        if obj.project == dest:
            raise XnatError(409, f"Already assigned to project '{dest}' as its primary project")
        if primary:
            obj.shares.pop(dest, None)
            obj.shares[obj.project] = obj.label
            obj.project, obj.label = dest, label
            return "moved"
        if dest in obj.shares:
            if obj.shares[dest] == label:
                return "exists"
            raise XnatError(409, f"Already shared into project '{dest}' with label '{obj.shares[dest]}'")
        clash = self.subjects_in(dest) if isinstance(obj, Subject) else self.experiments_in(dest)
        if any(other is not obj and other_label == label for other, other_label in clash):
            raise XnatError(409, f"Label '{label}' is already used in project '{dest}'")
        obj.shares[dest] = label
        return "shared"

    # --- import -----------------------------------------------------------------------------
    def import_zip(self, body: bytes, project: str, subject: str | None, session: str | None,
                   to_archive: bool, overwrite: str, ignore_unparsable: bool) -> str:
        """DICOM-zip import; returns the URI XNAT answers with (archive or prearchive)."""
        self.project(project)
        try:
            archive = zipfile.ZipFile(io.BytesIO(body))
        except zipfile.BadZipFile:
            raise XnatError(400, "Unable to read the uploaded file as a zip archive") from None
        instances, meta = [], {}
        for info in archive.infolist():
            if info.is_dir():
                continue
            data = archive.read(info)
            try:
                ds = pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True, force=False)
                series = str(ds.SeriesInstanceUID)
            except Exception:
                if ignore_unparsable:
                    continue
                raise XnatError(400, f"Unable to parse DICOM from '{info.filename.rsplit('/', 1)[-1]}'") from None
            instances.append((ds, data))
            meta.setdefault("modality", str(getattr(ds, "Modality", "")))
            meta.setdefault("study_uid", str(getattr(ds, "StudyInstanceUID", "")))
            meta.setdefault("date", str(getattr(ds, "StudyDate", "")))
            meta.setdefault("patient_id", str(getattr(ds, "PatientID", "")))
            meta.setdefault("patient_name", str(getattr(ds, "PatientName", "")))
        if not instances:
            raise XnatError(400, "The uploaded archive holds no DICOM files")
        subject = subject or meta["patient_name"] or meta["patient_id"]
        session = session or meta["patient_id"] or meta["study_uid"]
        if not subject or not session:
            raise XnatError(400, "No subject or session label given and none derivable from the DICOM")
        files = {}
        for ds, data in instances:
            files[self._archive_name(ds)] = data
        if not to_archive:
            ts = time.strftime("%Y%m%d_%H%M%S") + f"{next(self._ts) % 1000:03d}"
            self.prearchive.append(PrearchiveEntry(project, ts, session, subject, session, files, _now()))
            return f"/data/prearchive/projects/{project}/{ts}/{session}"
        return self._archive_files(project, subject, session, files, overwrite)

    @staticmethod
    def _archive_name(ds) -> str:
        series = str(getattr(ds, "SeriesInstanceUID", ""))
        sop = str(getattr(ds, "SOPInstanceUID", "")) or hashlib.md5(series.encode()).hexdigest()
        return f"{series}/{sop}.dcm"

    def _archive_files(self, project: str, subject_label: str, session_label: str, files: dict[str, bytes],
                       overwrite: str) -> str:
        subject, _ = self.create_subject(project, subject_label)
        existing = None
        try:
            existing = self.find_experiment(project, session_label)
        except XnatError:
            pass
        if existing is not None:
            if overwrite in ("", "none"):
                raise XnatError(409, f"Session '{session_label}' already exists in project '{project}'; "
                                     "overwrite=append or overwrite=delete to change it")
            if overwrite == "delete":
                existing.scans.clear()
        by_series: dict[str, list[tuple[str, bytes, object]]] = {}
        for name, data in files.items():
            ds = pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True)
            by_series.setdefault(str(ds.SeriesInstanceUID), []).append((name.rsplit("/", 1)[-1], data, ds))
        modalities = {str(getattr(v[0][2], "Modality", "")) for v in by_series.values()}
        imaging = next((m for m in ("MR", "PT", "CT") if m in modalities), None)
        xsi = MODALITY_TYPES.get(imaging, ("xnat:otherDicomSessionData",))[0] or "xnat:otherDicomSessionData"
        if existing is None:
            existing, _ = self.create_experiment(project, subject, session_label, xsi)
        exp = existing
        first = by_series[next(iter(by_series))][0][2]
        exp.date, exp.uid = str(getattr(first, "StudyDate", "")), str(getattr(first, "StudyInstanceUID", ""))
        exp.modality = imaging or str(getattr(first, "Modality", ""))
        numbers = [str(getattr(v[0][2], "SeriesNumber", "") or "") for v in by_series.values()]
        for index, (uid, items) in enumerate(sorted(by_series.items(), key=lambda kv: kv[0])):
            ds = items[0][2]
            scan = next((s for s in exp.scans.values() if s.uid == uid), None)
            if scan is None:
                number = str(getattr(ds, "SeriesNumber", "") or "")
                sid = number if number and numbers.count(number) == 1 and number not in exp.scans else None
                sid = sid or str(max([int(k) for k in exp.scans if k.isdigit()] + [0]) + 1)
                modality = str(getattr(ds, "Modality", ""))
                scan = exp.scans[sid] = Scan(sid, str(getattr(ds, "SeriesDescription", "") or modality),
                                             str(getattr(ds, "SeriesDescription", "")),
                                             MODALITY_TYPES.get(modality, (None, "xnat:otherDicomScanData"))[1],
                                             uid, modality)
            res = scan.resources.get("DICOM")
            if res is None:
                res = scan.resources["DICOM"] = self.new_resource("DICOM", "DICOM", "RAW")
            for name, data, _ in items:
                old = res.files.get(name)
                if old is not None and old != data and overwrite == "append":
                    raise XnatError(409, f"File '{name}' already exists with different content in scan {scan.id}")
                res.files[name] = data
                res.digest(name)
        return f"/data/archive/projects/{project}/subjects/{subject.label}/experiments/{exp.label}"

    def archive_prearchive(self, project: str, ts: str, folder: str, overwrite: str,
                           subject: str | None = None, session: str | None = None) -> str:
        entry = self.find_prearchive(project, ts, folder)
        uri = self._archive_files(project, subject or entry.subject, session or entry.session, entry.files, overwrite)
        self.prearchive.remove(entry)
        return uri

    def find_prearchive(self, project: str, ts: str, folder: str) -> PrearchiveEntry:
        for e in self.prearchive:
            if (e.project, e.timestamp, e.folder) == (project, ts, folder):
                return e
        raise XnatError(404, f"Unable to find prearchive session {project}/{ts}/{folder}")
