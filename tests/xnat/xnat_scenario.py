"""One scenario, two independent XNAT clients (xnatpy and pyxnat): connect, create a project,
subject and session, upload a resource file, list files with sizes, import a DICOM zip, share
subject and session into another project and see them there. Runs against the emulator
(test_emulator_clients.py) and against a real XNAT (test_live_xnat.py)."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

ADMIN, PASSWORD = "admin", "emulated-admin-pw"  # the emulator's admin in tests
NOTE = b"roi,volume_cc\nPTV,123.4\n"


def dicom_zip(files: list[Path]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for i, p in enumerate(files):
            z.write(p, f"series/{i:03d}.dcm")
    return buf.getvalue()


def run_xnatpy(url: str, user: str, password: str, names: dict, zipped: bytes) -> dict:
    import xnat

    with xnat.connect(url, user=user, password=password, loglevel="ERROR") as s:
        for project in (names["src"], names["dest"]):
            s.put(f"/data/projects/{project}")
        s.clearcache()
        project = s.projects[names["src"]]
        subject = s.classes.SubjectData(parent=project, label=names["subject"])
        manual = s.classes.CtSessionData(parent=subject, label=names["manual"])
        resource = manual.create_resource("NOTES")
        resource.upload_data(NOTE, "notes.csv")
        s.clearcache()
        listed = {f.name: int(f.size) for f in s.projects[names["src"]].subjects[names["subject"]]
                  .experiments[names["manual"]].resources["NOTES"].files.values()}
        imported = s.services.import_(data=zipped, project=names["src"], subject=names["subject"],
                                      experiment=names["imported"], import_handler="DICOM-zip", overwrite="none",
                                      content_type="application/zip",
                                      destination=f"/archive/projects/{names['src']}")
        scan_files = sum(len(r.files) for scan in imported.scans.values() for r in scan.resources.values())
        subject.share(names["dest"], label=names["subject"])
        imported.share(names["dest"], label=names["imported"])
        s.clearcache()
        shared = s.projects[names["dest"]].subjects[names["subject"]].experiments[names["imported"]]
        shared_files = sorted((f.name, int(f.size)) for scan in shared.scans.values()
                              for r in scan.resources.values() for f in r.files.values())
        source_files = sorted((f.name, int(f.size)) for scan in imported.scans.values()
                              for r in scan.resources.values() for f in r.files.values())
        return {"listed": listed, "scans": len(imported.scans), "scan_files": scan_files,
                "shared_same_files": shared_files == source_files, "shared_id": shared.id == imported.id}


def run_pyxnat(url: str, user: str, password: str, names: dict, zipped: bytes) -> dict:
    import tempfile

    import pyxnat

    i = pyxnat.Interface(server=url, user=user, password=password)
    try:
        for project in (names["src"], names["dest"]):
            i.select.project(project).create()
        subject = i.select.project(names["src"]).subject(names["subject"])
        subject.create()
        manual = subject.experiment(names["manual"])
        manual.create(experiments="xnat:ctSessionData")
        with tempfile.TemporaryDirectory() as tmp:
            note = Path(tmp, "notes.csv")
            note.write_bytes(NOTE)
            manual.resource("NOTES").file("notes.csv").insert(str(note))
        listed = {f.label(): int(f.size()) for f in manual.resource("NOTES").files()}
        response = i.post("/data/services/import", params={
            "import-handler": "DICOM-zip", "project": names["src"], "subject": names["subject"],
            "session": names["imported"], "overwrite": "none", "dest": f"/archive/projects/{names['src']}"},
            data=zipped, headers={"Content-Type": "application/zip"})
        assert response.status_code == 200, response.status_code
        imported = subject.experiment(names["imported"])
        scans = list(imported.scans())
        source = sorted((f.label(), int(f.size())) for scan in scans for r in scan.resources() for f in r.files())
        subject.share(names["dest"], label=names["subject"])
        imported.share(names["dest"], label=names["imported"])
        shared = i.select.project(names["dest"]).subject(names["subject"]).experiment(names["imported"])
        shared_files = sorted((f.label(), int(f.size())) for scan in shared.scans() for r in scan.resources()
                              for f in r.files())
        return {"listed": listed, "scans": len(scans), "scan_files": len(source),
                "shared_same_files": shared_files == source, "shared_id": shared.id() == imported.id()}
    finally:
        i.disconnect()
