"""The end-to-end demonstration behind ``sdu demo`` (and ``./sdu-demo``).

Generates an identifiable coherent RT study (clinical-style ROI names), pushes it over DICOM to
SDU's receiver into the identifiable store (as a PACS would), validates it against a bundled trial protocol, relabels the failing ROI names
with the suggested TG-263 names, anonymises (verification included), shows that the
identifiable input fails verification, then approves the anonymised session and uploads it to a
central XNAT (the emulator, :mod:`xnatemu`, started on loopback by the demo) into the site's
project, shared into the trial's project. Each step is the same library call the CLI makes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .errors import SDUError
from .studygen import CLINICAL_ROIS, StudySpec, generate_study

DEMO_TRIAL = "EXAMPLE-PROSTATE"
DEMO_SITE_PROJECT = "SITE01"
DEMO_TRIAL_PROJECT = "EXAMPLE_PROSTATE"


@dataclass
class DemoStep:
    name: str
    ok: bool
    summary: str


@dataclass
class DemoReport:
    out: Path
    steps: list[DemoStep] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.steps)

    def add(self, name: str, ok: bool, summary: str) -> None:
        self.steps.append(DemoStep(name, ok, summary))


def run_demo(out: str | Path, slices: int = 60, size: int = 128, workers: int = 2) -> DemoReport:
    from anonymiser import AnonymiseOptions, anonymise_folder
    from verifier import VerifyOptions, verify_folder

    out = Path(out)
    report = DemoReport(out)
    study = generate_study(out / "identifiable", StudySpec(slices=slices, rows=size, columns=size,
                                                           roi_names=list(CLINICAL_ROIS)))
    report.add("generate", True, f"{len(study.files)} files: {slices} CT slices + RTSTRUCT + RTPLAN + RTDOSE, "
                                 f"identifiers planted, ROI names as a clinic types them")
    session = _intake(study.files, out / "store", report)
    ready = _validate_and_relabel(session, out, report)

    anon = anonymise_folder(ready, out / "anonymised",
                            AnonymiseOptions(trial_id=DEMO_TRIAL, site_id="SITE01", workers=workers))
    v = anon.verification or {}
    report.add("anonymise", anon.failed == 0,
               f"{anon.written} of {len(anon.files)} files, subject {', '.join(anon.subjects)}, "
               f"{anon.to_dict()['files_per_second']} files/s, profile {', '.join(anon.profile)}")
    report.add("verify output", bool(v.get("ok")),
               f"{v.get('passed', 0)} of {v.get('files', 0)} files pass the independent verifier")
    raw = verify_folder(session, VerifyOptions(workers=workers))
    failing = sum(1 for f in raw.files if not f.ok)
    report.add("verify input (must fail)", not raw.ok,
               f"{failing} of {len(raw.files)} identifiable files fail, as they must")
    _approve_and_upload(out / "anonymised", out, report)
    return report


def _approve_and_upload(folder: Path, out: Path, report: DemoReport) -> None:
    """Approve the verified session, upload it to an emulated central XNAT on loopback (with an
    alias token, as a site would), and look for it in the site and the trial project."""
    import json
    import os
    import secrets
    from collections import Counter

    import requests

    from approval import approve, review_folder
    from uploader import UploadOptions, upload
    from xnatemu import Emulator

    seen = review_folder(folder)  # what will leave, as `sdu review` shows it (new values only)
    outcomes = Counter(row["outcome"] for row in seen["tags"])
    report.add("review", seen["ready_to_approve"],
               f"verification {seen['verification']['status']}; {len(seen['series'])} series "
               f"({', '.join(sorted({s['modality'] for s in seen['series']}))}), "
               f"{sum(len(r['rois']) for r in seen['rois'])} ROIs, {len(seen['files']['other'])} other files; tags "
               + ", ".join(f"{k} {n}" for k, n in sorted(outcomes.items())))
    record = approve(folder, "demo reviewer", "demo: verified output")
    report.add("approve", True, f"{len(record['manifest'])} files bound by SHA-256 to the approval of "
                                f"{record['user']!r}; any change afterwards blocks the upload")
    password = secrets.token_urlsafe(16)
    with Emulator("admin", password) as xnat:
        for project in (DEMO_SITE_PROJECT, DEMO_TRIAL_PROJECT):
            xnat.archive.create_project(project)
        token = requests.get(xnat.url + "/data/services/tokens/issue", auth=("admin", password), timeout=30).json()
        token_file = out / "xnat-token.json"
        fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump({"alias": token["alias"], "secret": token["secret"]}, f)
        result = upload(folder, UploadOptions(xnat.url, DEMO_SITE_PROJECT, DEMO_TRIAL_PROJECT,
                                              token_file=str(token_file)))
        site_check, trial_check = result.checks
        scans = sum(len(e.scans) for e in xnat.archive.experiments.values())
        report.add("upload to central XNAT (emulated on loopback)", site_check.ok,
                   f"session {result.session} of subject {result.subject} in project {DEMO_SITE_PROJECT}: "
                   f"{site_check.files} files ({scans} scans + attachments), {site_check.checksums} MD5s "
                   "match the release")
        auth = (token["alias"], token["secret"])
        listed = requests.get(f"{xnat.url}/data/projects/{DEMO_TRIAL_PROJECT}/experiments", auth=auth,
                              params={"format": "json"}, timeout=30).json()["ResultSet"]["Result"]
        visible = [row["label"] for row in listed]
        report.add("shared into the trial project", trial_check.ok and visible == [result.session],
                   f"project {DEMO_TRIAL_PROJECT} lists session {', '.join(visible)}; the same "
                   f"{trial_check.files} files seen through it")


def _intake(files: list[Path], store_dir: Path, report: DemoReport) -> Path:
    """Push the study over DICOM (C-STORE, as a PACS would) to SDU's own receiver on loopback;
    return the study's folder in the identifiable store."""
    import logging

    from pynetdicom import AE
    from pynetdicom.sop_class import CTImageStorage, RTDoseStorage, RTPlanStorage, RTStructureSetStorage

    from intake.receiver import Receiver, ReceiverOptions
    from intake.store import Store

    from .site import load_site_key

    logger = logging.getLogger("sdu.demo")
    store = Store(store_dir, load_site_key(), fsync=False)
    receiver = Receiver(store, ReceiverOptions(ae_title="SDU", port=0, host="127.0.0.1"), logger).start()
    try:
        pacs = AE(ae_title="DEMO_PACS")
        for sop_class in (CTImageStorage, RTStructureSetStorage, RTPlanStorage, RTDoseStorage):
            pacs.add_requested_context(sop_class)
        assoc = pacs.associate("127.0.0.1", receiver.port, ae_title="SDU")
        if not assoc.is_established:
            raise SDUError("the demo could not associate with its own receiver")
        statuses = [assoc.send_c_store(str(p)) for p in files]
        assoc.release()
    finally:
        stats = receiver.stop()
    ok = all(s is not None and s.Status == 0 for s in statuses)
    (study,) = store.studies()
    report.add("intake (C-STORE to sdu receive)", ok and stats.stored == len(files),
               f"{stats.stored} instances received into the identifiable store, study {study['study_key']} "
               "(folders named by keyed hashes, never by names)")
    return store.study_dir(study["patient_key"], study["study_key"])


def _validate_and_relabel(session: Path, out: Path, report: DemoReport, arm: str = "prostate_only") -> Path:
    """Validate against the demo trial; relabel with the suggestions; return the folder to anonymise."""
    from validator import find_protocol, relabel_session, suggested_mapping, validate_session

    protocol = find_protocol(DEMO_TRIAL)
    first = validate_session(session, protocol, arm)
    unknown = first.unknown_names()
    report.add(f"validate against {DEMO_TRIAL} (must fail)", not first.ok,
               f"{first.counts['fail']} checks fail; {len(unknown)} ROI names not TG-263: "
               + ", ".join(f"{n.roi_name!r} -> {n.suggestions[0].name!r}" for n in unknown if n.suggestions))
    mapping, refused = suggested_mapping(session, protocol, arm)
    relabelled = relabel_session(session, out / "relabelled", mapping)
    report.add("relabel (suggestions accepted)", not refused,
               f"{len(relabelled.renamed)} ROI names changed in a new RTSTRUCT; "
               f"{len(relabelled.rewritten)} objects rewritten to keep references; originals untouched")
    second = validate_session(out / "relabelled", protocol, arm)
    report.add("validate again", second.ok, f"{second.counts['pass']} checks pass, {second.counts['warn']} warn, "
                                             f"{second.counts['fail']} fail")
    return out / "relabelled"
