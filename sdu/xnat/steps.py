"""The six steps as the command images run them: explicit arguments in, a small summary out.

Each calls the library function its ``sdu`` command calls (``validator.validate_session``,
``validator.relabel_session``, ``anonymiser.anonymise_folder``, ``verifier.verify_folder``,
``approval.approve`` and ``approval.review_folder``, ``uploader.upload``) and writes that
function's JSON report, unchanged, into the output folder the Container Service uploads.
Summaries hold counts and verdicts only: they are what the container prints.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from ..errors import AnonymisationError, ApprovalError, ConfigError, VerificationError
from .archive import VERIFY_REPORT, SessionFolder, build_release


def _write_json(folder: Path, name: str, data) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    return path


def validate(session_dir: Path, out: Path, trial: str, arm: str | None) -> dict:
    """``sdu validate`` on the session's scans; the report goes to ``out`` whatever its verdict."""
    from validator import find_protocol, validate_session

    session = SessionFolder.open(session_dir)
    report = validate_session(session.source(), find_protocol(trial), arm or None)
    data = report.to_dict()
    _write_json(out, "sdu-report.validate.json", data)
    return {"step": "validate", "ok": report.ok, "files": data.get("files"), "checks": data.get("counts")}


def relabel(session_dir: Path, out: Path, relabelled: Path, trial: str | None, mapping: dict[str, str],
            threshold: float = 90.0) -> dict:
    """``sdu relabel``: with ``mapping`` (old -> new ROI name), else the trial's suggestions scoring
    at least ``threshold``; the relabelled session (DICOM only) goes to ``relabelled``."""
    from validator import find_protocol, relabel_session, suggested_mapping

    source = SessionFolder.open(session_dir).source()
    left = []
    if not mapping:
        if not trial:
            raise ConfigError("give a mapping or a trial whose suggestions to apply")
        mapping, refused = suggested_mapping(source, find_protocol(trial), None, threshold)
        left = list(refused)
        if not mapping:
            raise ConfigError(f"no suggestion scores {threshold:g} or more: give a mapping")
    report = relabel_session(source, relabelled, mapping)
    report.left_for_person = left
    for catalog in source.rglob("*catalog.xml"):  # XNAT's catalogs of the source are not part of the copy
        copy = relabelled / catalog.relative_to(source)
        if copy.is_file():
            copy.unlink()
            report.copied -= 1
    data = report.to_dict()
    _write_json(out, "sdu-report.relabel.json", data)
    return {"step": "relabel", "renamed": len(report.renamed), "not_found": len(report.not_found),
            "rewritten": len(report.rewritten), "left_for_person": len(left)}


def anonymise(session_dir: Path, out: Path, work: Path, trial: str, site_id: str, subject_id: str | None,
              target: dict) -> dict:
    """``sdu anonymise`` (verification included) of the session's scans into ``work``, then the
    import into the anonymised XNAT (``target``: url, user, password, project, verify). ``out``
    receives the DEST reports (nothing identifiable) and ``sdu-import.json``."""
    from anonymiser import AnonymiseOptions, anonymise_folder

    from .importer import import_session

    session = SessionFolder.open(session_dir)
    dest = work / "anonymised"
    options = AnonymiseOptions(trial_id=trial, site_id=site_id, subject_id=subject_id or None,
                               workers=max(1, min(os.cpu_count() or 1, 4)), verify=True)
    report = anonymise_folder(session.source(), dest, options)
    counts = report.to_dict()["counts"]
    if not report.ok:
        if counts.get("failed") or getattr(report, "unreadable", 0):
            raise AnonymisationError(f"{counts.get('failed', 0)} file(s) could not be anonymised: nothing imported")
        raise VerificationError("verification of the anonymised output failed: nothing imported")
    imported = import_session(dest, target["url"], target["user"], target["password"], target["project"],
                              target.get("verify", True))
    for name in ("sdu-report.anonymise.json", "sdu-report.verify.json"):
        if (dest / name).is_file():
            out.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(dest / name, out / name)
    _write_json(out, "sdu-import.json", imported.to_dict())
    return {"step": "anonymise", "ok": True, "files": counts.get("out"), "skipped": counts.get("skipped"),
            "imported": imported.files}


def verify(session_dir: Path, out: Path, work: Path) -> dict:
    """``sdu verify`` on the anonymised session as it stands in XNAT, then ``sdu review --json`` of
    it: ``out`` gets ``sdu-report.verify.json`` and ``sdu-review.json`` (what the reviewer reads
    before approving)."""
    from verifier import VerifyOptions, verify_folder

    release = build_release(SessionFolder.open(session_dir), work / "release")
    report = verify_folder(release, VerifyOptions())
    data = report.to_dict()
    _write_json(out, "sdu-report.verify.json", data)
    _write_json(release, VERIFY_REPORT, data)
    _write_json(out, "sdu-review.json", _review(release))
    return {"step": "verify", "ok": report.ok, "files": data.get("files_total"), "failed": data.get("files_failed")}


def approve(session_dir: Path, out: Path, work: Path, user: str, comment: str, site_key: bytes) -> dict:
    """``sdu verify --report`` then ``sdu approve`` by the launching XNAT user, as at the site: ``out``
    gets the sealed record, the verification it is bound to and ``sdu review --json``."""
    from approval import approve as approve_folder
    from verifier import VerifyOptions, verify_folder

    from .signing import seal

    release = build_release(SessionFolder.open(session_dir), work / "release")
    verification = verify_folder(release, VerifyOptions()).to_dict()
    _write_json(release, VERIFY_REPORT, verification)
    record = approve_folder(release, user, comment)
    _write_json(out, "sdu-approval.json", seal(record, site_key))
    shutil.copyfile(release / VERIFY_REPORT, out / VERIFY_REPORT)
    _write_json(out, "sdu-review.json", _review(release))
    return {"step": "approve", "ok": True, "files": len(record["manifest"]),
            "warnings": record["verification"]["warnings"]}


def _review(release: Path) -> dict:
    """``sdu review --json`` of the release, without the folder's path (a scratch path, not for the page)."""
    from approval import review_folder

    review = review_folder(release)
    review.pop("folder", None)
    return review


def upload(session_dir: Path, out: Path, work: Path, options, site_key: bytes) -> dict:
    """``sdu upload`` of the anonymised session, refused (exit 9) unless its ``SDU_APPROVAL`` record
    is sealed with the site key and its manifest still matches the session's files exactly."""
    from approval.gate import install_record
    from uploader import upload as upload_folder

    from .signing import unseal

    session = SessionFolder.open(session_dir)
    res = session.resource("SDU_APPROVAL")
    files = {p.name: p for p in res.files()} if res else {}
    if "sdu-approval.json" not in files:
        raise ApprovalError("not approved: the session has no SDU_APPROVAL record (run sdu-approve)")
    try:
        sealed = json.loads(files["sdu-approval.json"].read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ApprovalError("the SDU_APPROVAL record is unreadable: refused") from None
    if VERIFY_REPORT not in files:
        raise ApprovalError(f"the SDU_APPROVAL resource lacks {VERIFY_REPORT}: approve again")
    release = build_release(session, work / "release", files[VERIFY_REPORT])
    install_record(release, unseal(sealed, site_key))
    result = upload_folder(release, options)
    _write_json(out, "sdu-upload.json", result.to_dict())
    return {"step": "upload", "ok": result.ok, "files": result.files, "resumed": result.resumed}
