"""The end-to-end demonstration behind ``sdu demo`` (and ``./sdu-demo``).

Generates an identifiable coherent RT study (clinical-style ROI names), pushes it over DICOM to
SDU's receiver into the identifiable store (as a PACS would), validates it against a bundled trial protocol, relabels the failing ROI names
with the suggested TG-263 names, anonymises (verification included), and shows that the
identifiable input fails verification. Each step is the same library call the CLI makes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .errors import SDUError
from .studygen import CLINICAL_ROIS, StudySpec, generate_study

DEMO_TRIAL = "EXAMPLE-PROSTATE"


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
    return report


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
