"""The command images run as XNAT's Container Service runs them (xnatemu.launcher): a generated RT
study in an emulated identifiable XNAT is validated, relabelled and anonymised into an emulated
anonymised XNAT, where it is verified, approved by the launching user and uploaded to an emulated
central XNAT; a stale approval is refused. Every container runs with a read-only root filesystem
as a non-root user, verify without network; no container prints an identifier. Site settings
that are not secret come from XNAT's config service (the plugin's settings); a read-only project
member who launches approve or upload is refused by the command itself.

One scenario, steps in order (each test uses what the ones before it left in the emulators).
"""
from __future__ import annotations

import io
import json
import os
import secrets
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import requests

from sdu.studygen import CLINICAL_ROIS, StudySpec, generate_study, planted_identifiers
from xnatemu import Emulator
from xnatemu.launcher import Launcher

IMAGE_UID = 10001  # the image's user (containers/Containerfile)
RADIOGRAPHER, APPROVER = ("radiographer", "r-pw-7"), ("dr.approver", "a-pw-9")
READ_ONLY = ("ro.collaborator", "c-pw-2")  # a collaborator of the anonymised project
SITE_KEY = secrets.token_hex(32)


@pytest.fixture(scope="module")
def world(sdu_image, tmp_path_factory):
    root = tmp_path_factory.mktemp("cs")
    study = generate_study(root / "study", StudySpec(slices=6, rows=32, columns=32, roi_names=list(CLINICAL_ROIS)))
    ident = Emulator("ident-admin", secrets.token_hex(8)).start()
    anon = Emulator("anon-admin", secrets.token_hex(8)).start()
    central = Emulator("central-admin", secrets.token_hex(8)).start()
    ident.archive.create_project("IDENT")
    ident.add_user(*RADIOGRAPHER, projects={"IDENT"})
    anon.archive.create_project("ANON")
    anon.add_user("sdu-importer", "imp-pw-3", projects={"ANON"})
    anon.add_user(*APPROVER, projects={"ANON"})
    anon.add_user(*READ_ONLY)
    anon.set_role("ANON", READ_ONLY[0], "collaborator")
    for p in ("SITE01", "TRIAL-X"):
        central.archive.create_project(p)
    central.add_user("site01-uploader", "up-pw-5", projects={"SITE01", "TRIAL-X"})
    # The anonymised XNAT's address and credentials: files an administrator mounts (read by uid 10001 only).
    mounted = root / "secrets"
    mounted.mkdir(mode=0o700)
    for name, value in (("SDU_ANON_XNAT_URL", anon.url), ("SDU_ANON_XNAT_USER", "sdu-importer"),
                        ("SDU_ANON_XNAT_PASS", "imp-pw-3")):
        (mounted / name).write_text(value + "\n")
        os.chown(mounted / name, IMAGE_UID, IMAGE_UID)
        (mounted / name).chmod(0o400)
    os.chown(mounted, IMAGE_UID, IMAGE_UID)
    # What is not secret: the XNAT plugin's site settings, in each XNAT's config service.
    ident.config.put(None, "sdu", "settings", json.dumps({"site_id": "SITE01", "anon_project": "ANON"}))
    anon.config.put(None, "sdu", "settings", json.dumps({"remote_url": central.url}))
    # The rest as command secrets: XNAT's system properties.
    at_site = Launcher(ident, sdu_image, root / "ident-cs", system_properties={"sdu.site.key": SITE_KEY},
                       extra_mounts=((str(mounted), "/run/secrets/sdu"),))
    at_anon = Launcher(anon, sdu_image, root / "anon-cs", system_properties={
        "sdu.site.key": SITE_KEY, "sdu.central.project": "SITE01",
        "sdu.central.user": "site01-uploader", "sdu.central.pass": "up-pw-5"})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for i, path in enumerate(study.files):
            z.write(path, f"in/{i:03d}.dcm")
    answer = requests.post(f"{ident.url}/data/services/import", auth=RADIOGRAPHER, data=buf.getvalue(),
                           params={"import-handler": "DICOM-zip", "project": "IDENT", "subject": "PATIENT-A",
                                   "session": "RT-PLANNING", "overwrite": "none"}, timeout=60)
    assert answer.status_code == 200, answer.text
    session_id = ident.archive.find_experiment("IDENT", "RT-PLANNING").id
    yield {"root": root, "study": study, "ident": ident, "anon": anon, "central": central,
           "at_site": at_site, "at_anon": at_anon, "session": session_id, "state": {}}
    for emu in (ident, anon, central):
        emu.stop()


def planted(study) -> list[bytes]:
    values = [v for v in planted_identifiers(study.patient).values() if len(v) >= 6]
    return [v.encode() for v in values] + [study.patient.family.upper().encode()]


def assert_nothing_identifiable(study, text: str) -> None:
    for value in planted(study):
        assert value.decode() not in text


def resource(emu, experiment_id: str, label: str) -> dict[str, bytes]:
    with emu.archive.lock:
        e = emu.archive.find_experiment(None, experiment_id)
        return dict(e.resources[label].files) if label in e.resources else {}


def test_validate_attaches_the_report(world):
    r = world["at_site"].launch("sdu-validate-session", {"session": world["session"], "trial": "EXAMPLE-PROSTATE"},
                                *RADIOGRAPHER)
    assert r.complete, r.stderr
    assert r.mounts["session"][1] is True  # archive mounted read-only
    assert r.environment["SDU_TRIAL"] == "EXAMPLE-PROSTATE" and r.environment["SDU_XNAT_SESSION_ID"] == world["session"]
    assert r.environment["SDU_XNAT_PROJECT"] == "IDENT"
    report = json.loads(resource(world["ident"], world["session"], "SDU_VALIDATION")["sdu-report.validate.json"])
    assert report["result"] == "fail"  # clinical ROI names: a verdict, in the report, while the step completed
    assert report["files"] == len(world["study"].files)
    assert {n["roi_name"] for n in report["roi_names"]} == set(CLINICAL_ROIS)
    assert all(s["path"].endswith("_catalog.xml") for s in report["skipped"])  # XNAT's catalogs, not DICOM
    summary = json.loads(r.stdout)
    assert summary["step"] == "validate" and summary["ok"] is False
    assert_nothing_identifiable(world["study"], r.stdout + r.stderr)


def test_validate_unknown_trial_fails_and_attaches_nothing(world):
    r = world["at_site"].launch("sdu-validate-session", {"session": world["session"], "trial": "NO-SUCH-TRIAL"},
                                *RADIOGRAPHER)
    assert r.status == "Failed" and r.exit_code == 7  # ProtocolError's code
    assert r.uploaded == {}


def test_relabel_writes_the_relabelled_session_as_a_resource(world):
    mapping = {"BODY": "External", "Lt Femoral Head": "Femur_Head_L"}
    r = world["at_site"].launch("sdu-relabel-session", {"session": world["session"], "trial": "EXAMPLE-PROSTATE",
                                                        "mapping": json.dumps(mapping)}, *RADIOGRAPHER)
    assert r.complete, r.stderr
    report = json.loads(resource(world["ident"], world["session"], "SDU_RELABEL")["sdu-report.relabel.json"])
    assert report["renamed"] == mapping
    relabelled = resource(world["ident"], world["session"], "SDU_RELABELLED")
    assert len(relabelled) == len(world["study"].files) and not any(n.endswith(".xml") for n in relabelled)
    # A mapping with shell syntax is data, not a command: it reaches the step as an environment value.
    r = world["at_site"].launch("sdu-relabel-session", {"session": world["session"],
                                                        "mapping": '{"GTV": "x"}; touch /tmp/pwned'}, *RADIOGRAPHER)
    assert r.exit_code == 2 and "mapping is not JSON" in r.stderr


def test_anonymise_imports_into_the_anonymised_project(world):
    r = world["at_site"].launch("sdu-anonymise-session", {"session": world["session"], "trial": "TRIAL-X",
                                                          "subject_id": "TX-0042"}, *RADIOGRAPHER)
    assert r.complete, r.stderr
    assert r.network != "none"
    assert "SDU_SITE_KEY" not in r.environment and SITE_KEY not in " ".join(r.environment.values())
    reports = resource(world["ident"], world["session"], "SDU_ANONYMISE")
    assert set(reports) == {"sdu-report.anonymise.json", "sdu-report.verify.json", "sdu-import.json"}
    imported = json.loads(reports["sdu-import.json"])
    assert imported["project"] == "ANON" and imported["subject"] == "TX-0042"
    assert imported["files"] == len(world["study"].files)
    for name, data in reports.items():  # the site-side reports hold nothing identifiable
        assert_nothing_identifiable(world["study"], data.decode("utf-8"))
    anon = world["anon"]
    with anon.archive.lock:
        (e,) = [e for e in anon.archive.experiments.values() if e.project == "ANON"]
        files = {n: d for s in e.scans.values() for n, d in s.resources["DICOM"].files.items()}
        assert set(e.resources["SDU_REPORTS"].files) == {"sdu-report.anonymise.json", "sdu-report.verify.json"}
    assert e.label == imported["session"] and len(files) == len(world["study"].files)
    for data in files.values():
        for value in planted(world["study"]):
            assert value not in data
    assert_nothing_identifiable(world["study"], r.stdout + r.stderr)
    world["state"]["anon_session"] = e.id


def test_the_anonymised_session_passes_sdu_verify_against_the_originals(world, tmp_path):
    anon_id = world["state"]["anon_session"]
    r = world["at_anon"].launch("sdu-verify-session", {"session": anon_id}, *APPROVER)
    assert r.complete and r.network == "none", r.stderr
    report = json.loads(resource(world["anon"], anon_id, "SDU_VERIFY")["sdu-report.verify.json"])
    assert report["ok"] is True and report["files_failed"] == 0
    # The real `sdu verify`, outside any container, on the files as the anonymised XNAT holds them.
    out = tmp_path / "anon"
    with world["anon"].archive.lock:
        e = world["anon"].archive.find_experiment(None, anon_id)
        for s in e.scans.values():
            for name, data in s.resources["DICOM"].files.items():
                (out / s.id).mkdir(parents=True, exist_ok=True)
                (out / s.id / name).write_bytes(data)
    sdu = Path(sys.executable).with_name("sdu")
    done = subprocess.run([str(sdu), "verify", str(out), "--against", str(world["study"].root), "--json"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert json.loads(done.stdout)["files_total"] == len(world["study"].files)


def test_upload_without_approval_is_refused(world):
    r = world["at_anon"].launch("sdu-upload-session", {"session": world["state"]["anon_session"], "share": "TRIAL-X"},
                                *APPROVER)
    assert r.status == "Failed" and r.exit_code == 9 and "not approved" in r.stderr
    assert not world["central"].archive.experiments


def test_approve_records_the_launching_user(world):
    anon_id = world["state"]["anon_session"]
    r = world["at_anon"].launch("sdu-approve-session", {"session": anon_id, "comment": "checked; ok"}, *APPROVER)
    assert r.complete, r.stderr
    files = resource(world["anon"], anon_id, "SDU_APPROVAL")
    record = json.loads(files["sdu-approval.json"])
    assert record["user"] == APPROVER[0]  # resolved from the alias token, not typed by anyone
    assert record["comment"] == "checked; ok" and record["seal"]["alg"] == "HMAC-SHA256"
    assert len(record["manifest"]) == len(world["study"].files) + 2  # DICOM + the two reports
    assert set(files) == {"sdu-approval.json", "sdu-review.json", "sdu-report.verify.json"}
    review = json.loads(files["sdu-review.json"])
    assert review["ready_to_approve"] is True and review["verification"]["status"] == "passed"
    assert world["anon"].tokens == {}  # the alias token died with the container


def test_a_read_only_member_launches_approve_and_upload_and_the_commands_refuse(world):
    """The Container Service launches for anyone who may read the project; the commands ask XNAT
    the launching user's role (/xapi/access/projects) and refuse a collaborator: nothing recorded,
    nothing sent."""
    anon_id, anon, central = world["state"]["anon_session"], world["anon"], world["central"]
    approval = resource(anon, anon_id, "SDU_APPROVAL")
    for wrapper, step in (("sdu-approve-session", "approve"), ("sdu-upload-session", "upload")):
        r = world["at_anon"].launch(wrapper, {"session": anon_id, "comment": "forged"} if step == "approve"
                                    else {"session": anon_id}, *READ_ONLY)
        assert (r.status, r.exit_code) == ("Failed", 9), r.stderr
        assert f"{step} refused: the launching user is a collaborator of the session's project" in r.stderr
        assert r.uploaded == {}
    assert resource(anon, anon_id, "SDU_APPROVAL") == approval and "SDU_UPLOAD" not in _labels(anon, anon_id)
    assert not central.archive.experiments and not central.requests


def _labels(emu, experiment_id: str) -> set[str]:
    with emu.archive.lock:
        return set(emu.archive.find_experiment(None, experiment_id).resources)


def test_stale_or_forged_approval_is_refused_then_upload_reaches_the_central_xnat(world):
    anon_id, anon, central = world["state"]["anon_session"], world["anon"], world["central"]
    with anon.archive.lock:
        e = anon.archive.find_experiment(None, anon_id)
        scan = next(iter(e.scans.values()))
        name, original = next(iter(scan.resources["DICOM"].files.items()))
        scan.resources["DICOM"].files[name] = original[:-1] + bytes([original[-1] ^ 1])  # one bit, after approval
    r = world["at_anon"].launch("sdu-upload-session", {"session": anon_id, "share": "TRIAL-X"}, *APPROVER)
    assert r.status == "Failed" and r.exit_code == 9 and "files changed since approval (1 changed" in r.stderr
    assert not central.archive.experiments and not central.requests  # refused before any connection
    with anon.archive.lock:
        scan.resources["DICOM"].files[name] = original
        record_files = e.resources["SDU_APPROVAL"].files
        genuine = record_files["sdu-approval.json"]
        forged = json.loads(genuine)
        forged["user"] = "someone-else"
        record_files["sdu-approval.json"] = json.dumps(forged).encode()
    r = world["at_anon"].launch("sdu-upload-session", {"session": anon_id, "share": "TRIAL-X"}, *APPROVER)
    assert r.exit_code == 9 and "seal does not match" in r.stderr and not central.requests
    with anon.archive.lock:
        record_files["sdu-approval.json"] = genuine
    r = world["at_anon"].launch("sdu-upload-session", {"session": anon_id, "share": "TRIAL-X"}, *APPROVER)
    assert r.complete, r.stderr
    result = json.loads(resource(anon, anon_id, "SDU_UPLOAD")["sdu-upload.json"])
    assert result["ok"] is True and result["project"] == "SITE01" and result["share"] == "TRIAL-X"
    with central.archive.lock:
        (got,) = central.archive.experiments.values()
        sent = {n: d for s in got.scans.values() for n, d in s.resources["DICOM"].files.items()}
        shared = dict(got.shares)
    assert got.project == "SITE01" and shared.get("TRIAL-X") == got.label
    with anon.archive.lock:
        kept = sorted(d for s in e.scans.values() for d in s.resources["DICOM"].files.values())
    assert sorted(sent.values()) == kept  # byte for byte what was approved
    assert_nothing_identifiable(world["study"], r.stdout + r.stderr)


def test_image_runs_as_a_non_root_user_on_a_read_only_root(sdu_image):
    from xnatemu.launcher import Engine, image_commands

    engine = Engine.detect()
    done = engine("run", "--rm", "--read-only", "--network", "none", *engine.run_args, sdu_image, "/bin/sh", "-c",
                  "id -u; touch /opt/sdu/x 2>/dev/null && echo wrote-root || echo read-only; "
                  "touch /tmp/x && echo tmp-writable")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(IMAGE_UID), "read-only", "tmp-writable"]
    # The label is the command JSON files, one source of truth.
    here = Path(__file__).resolve().parents[2] / "containers" / "commands"
    assert image_commands(engine, sdu_image) == [json.loads(p.read_text()) for p in sorted(here.glob("*.json"))]
