"""The library under the image's entry point, in-process: XNAT's archive layout, settings from
files or the environment, the approval seal, the launching user behind an alias token, and
``sdu-xnat`` itself on a session laid out as XNAT archives it."""
from __future__ import annotations

import json
import shutil

import pytest
import requests
from click.testing import CliRunner

from sdu.errors import ApprovalError, ConfigError
from sdu.studygen import StudySpec, generate_study, planted_identifiers
from sdu.xnat import settings
from sdu.xnat.archive import ArchiveError, SessionFolder, build_release
from sdu.xnat.cli import cli
from sdu.xnat.identity import IdentityError, launching_user
from sdu.xnat.signing import seal, unseal
from xnatemu import Emulator

CATALOG = ('<?xml version="1.0" encoding="UTF-8"?>\n<cat:DCMCatalog xmlns:cat="http://nrg.wustl.edu/catalog">'
           '<cat:entries>{}</cat:entries></cat:DCMCatalog>\n')


def archive_session(study, root):
    """The study as XNAT archives it: one scan per series, DICOM beside scan_<id>_catalog.xml."""
    by_series = {"1": study.ct, "2": [study.rtstruct], "3": [study.rtplan], "4": [study.rtdose]}
    for scan, files in by_series.items():
        folder = root / "SCANS" / scan / "DICOM"
        folder.mkdir(parents=True)
        for path in files:
            shutil.copyfile(path, folder / f"{path.stem}-{scan}.dcm")
        entries = "".join(f'<cat:entry URI="{p.name}"/>' for p in sorted(folder.glob("*.dcm")))
        (folder / f"scan_{scan}_catalog.xml").write_text(CATALOG.format(entries))
    return root


@pytest.fixture
def session(tmp_path):
    study = generate_study(tmp_path / "study", StudySpec(slices=3, rows=16, columns=16))
    return study, archive_session(study, tmp_path / "arc001" / "SESSION")


def test_dicom_files_are_the_catalog_entries(session):
    study, root = session
    (root / "SCANS" / "1" / "DICOM" / "stray.dcm").write_bytes(b"not catalogued")
    files = SessionFolder.open(root).dicom_files()
    assert list(files) == ["1", "2", "3", "4"]
    assert len(files["1"]) == len(study.ct) and all(p.name != "stray.dcm" for p in files["1"])


def test_a_catalog_entry_without_its_file_is_named_by_scan_and_count(session):
    study, root = session
    victim = next((root / "SCANS" / "1" / "DICOM").glob("*.dcm"))
    victim.unlink()
    with pytest.raises(ArchiveError) as caught:
        SessionFolder.open(root).dicom_files()
    assert "scan 1 resource DICOM: 1 catalog entr(y/ies) without a file" in str(caught.value)
    assert victim.name not in str(caught.value)


def test_a_catalog_entry_outside_its_resource_is_refused(session):
    _, root = session
    (root / "SCANS" / "2" / "DICOM" / "scan_2_catalog.xml").write_text(CATALOG.format('<cat:entry URI="../../1/DICOM/x"/>'))
    with pytest.raises(ArchiveError, match="points outside the resource"):
        SessionFolder.open(root).dicom_files()


def test_not_an_archive_folder(tmp_path):
    with pytest.raises(ArchiveError, match="no SCANS folder"):
        SessionFolder.open(tmp_path)


def test_release_needs_the_anonymise_report(session, tmp_path):
    _, root = session
    with pytest.raises(ConfigError, match="not a session SDU anonymised"):
        build_release(SessionFolder.open(root), tmp_path / "release")


def test_setting_from_environment_then_mounted_file(tmp_path, monkeypatch):
    monkeypatch.setenv("SDU_SECRETS_DIR", str(tmp_path))
    monkeypatch.delenv("SDU_SITE_ID", raising=False)
    with pytest.raises(ConfigError) as caught:
        settings.setting("SDU_SITE_ID", required=True)
    assert "$SDU_SITE_ID" in str(caught.value) and str(tmp_path / "SDU_SITE_ID") in str(caught.value)
    (tmp_path / "SDU_SITE_ID").write_text("SITE07\n")
    assert settings.setting("SDU_SITE_ID") == "SITE07"
    monkeypatch.setenv("SDU_SITE_ID", "SITE09")
    assert settings.setting("SDU_SITE_ID") == "SITE09"


def test_seal_binds_every_field_to_the_site_key():
    record = {"user": "dr.x", "manifest": {"a/b/c.dcm": {"size": 3, "sha256": "00"}}, "comment": ""}
    key = bytes(range(32))
    sealed = seal(record, key)
    assert unseal(sealed, key) == record
    for forged in ({**sealed, "user": "dr.y"}, {**sealed, "manifest": {}}, {k: v for k, v in sealed.items() if k != "seal"}):
        with pytest.raises(ApprovalError):
            unseal(forged, key)
    with pytest.raises(ApprovalError, match="seal does not match"):
        unseal(sealed, bytes(32))


def test_launching_user_is_the_owner_of_the_alias_token():
    with Emulator("admin", "admin-pw") as emu:
        emu.add_user("dr.approver", "pw")
        token = requests.get(f"{emu.url}/data/services/tokens/issue", auth=("dr.approver", "pw"), timeout=10).json()
        assert launching_user(emu.url, token["alias"], token["secret"]) == "dr.approver"
        with pytest.raises(IdentityError, match="refused") as caught:
            launching_user(emu.url, token["alias"], "wrong")
        assert caught.value.exit_code == 13


def test_entry_point_validates_an_archived_session_quietly(session, tmp_path):
    study, root = session
    out = tmp_path / "out"
    done = CliRunner().invoke(cli, ["validate", "--session", str(root), "--out", str(out)],
                              env={"SDU_TRIAL": "EXAMPLE-PROSTATE", "SDU_ARM": ""})
    assert done.exit_code == 0, done.output
    summary = json.loads(done.stdout)
    assert summary["step"] == "validate" and summary["files"] == len(study.files)
    assert json.loads((out / "sdu-report.validate.json").read_text())["files"] == len(study.files)
    for value in planted_identifiers(study.patient).values():
        assert value not in done.output


def test_entry_point_refuses_without_a_site_key(session, tmp_path, monkeypatch):
    _, root = session
    monkeypatch.setenv("SDU_SECRETS_DIR", str(tmp_path / "none"))
    done = CliRunner().invoke(cli, ["approve", "--session", str(root), "--out", str(tmp_path / "o"),
                                    "--work", str(tmp_path / "w")])
    assert done.exit_code == 2 and "no site key" in done.output


def test_entry_point_relabels_with_the_trials_suggestions_without_catalogs(tmp_path):
    from sdu.studygen import CLINICAL_ROIS

    study = generate_study(tmp_path / "study", StudySpec(slices=3, rows=16, columns=16, roi_names=list(CLINICAL_ROIS)))
    root = archive_session(study, tmp_path / "arc001" / "S")
    out, relabelled = tmp_path / "out", tmp_path / "relabelled"
    done = CliRunner().invoke(cli, ["relabel", "--session", str(root), "--out", str(out), "--relabelled", str(relabelled)],
                              env={"SDU_TRIAL": "EXAMPLE-PROSTATE", "SDU_MAPPING": ""})
    assert done.exit_code == 0, done.output
    report = json.loads((out / "sdu-report.relabel.json").read_text())
    assert report["renamed"] and set(report["renamed"]) <= set(CLINICAL_ROIS)
    assert json.loads(done.stdout)["renamed"] == len(report["renamed"])
    copied = [p for p in relabelled.rglob("*") if p.is_file()]
    assert len(copied) == len(study.files) == report["copied"] and not any(p.suffix == ".xml" for p in copied)


# --- what the steps ask XNAT, as the launching user ---------------------------------------------
def _token(emu, user, password="pw") -> dict:
    return requests.get(f"{emu.url}/data/services/tokens/issue", auth=(user, password), timeout=10).json()


@pytest.fixture
def xnat():
    """An XNAT with project P (owner, member, collaborator), an admin outside it, and a session E1."""
    with Emulator("site-admin", "pw") as emu:
        emu.archive.create_project("P")
        for user, role in (("olivia", "owner"), ("mateo", "member"), ("rhea", "collaborator")):
            emu.add_user(user, "pw")
            emu.set_role("P", user, role)
        emu.add_user("outsider", "pw")
        subject, _ = emu.archive.create_subject("P", "S1")
        e, _ = emu.archive.create_experiment("P", subject, "E1", "xnat:ctSessionData")
        yield emu, e.id


def _launch_env(emu, user, session_id, project="P"):
    token = _token(emu, user)
    return {"XNAT_HOST": emu.url, "XNAT_USER": token["alias"], "XNAT_PASS": token["secret"],
            "SDU_XNAT_SESSION_ID": session_id, "SDU_XNAT_PROJECT": project}


def test_project_role_is_what_xnat_says_about_the_launching_user(xnat):
    from sdu.xnat.access import project_role, require_editor
    from sdu.xnat.rest import LaunchingUser

    emu, _ = xnat
    expected = {"olivia": "owner", "mateo": "member", "rhea": "collaborator", "outsider": None, "site-admin": "admin"}
    for user, role in expected.items():
        token = _token(emu, user)
        who = LaunchingUser(emu.url, token["alias"], token["secret"])
        assert project_role(who, "P", user) == role, user
        if role in ("collaborator", None):
            with pytest.raises(ApprovalError, match="only owners and members may approve") as caught:
                require_editor(who, "P", user, "approve")
            assert caught.value.exit_code == 9 and "P" not in caught.value.reason.split()


def test_approve_by_a_collaborator_is_refused_before_anything_is_read_or_recorded(xnat, tmp_path, monkeypatch):
    emu, session_id = xnat
    monkeypatch.setenv("SDU_SITE_KEY", "ab" * 32)
    out, work = tmp_path / "out", tmp_path / "work"
    for user in ("rhea", "outsider"):
        done = CliRunner().invoke(cli, ["approve", "--session", str(tmp_path / "no-session"), "--out", str(out),
                                        "--work", str(work)], env=_launch_env(emu, user, session_id))
        assert done.exit_code == 9, done.output
        assert "approve refused: the launching user is" in done.output and "rhea" not in done.output
        done = CliRunner().invoke(cli, ["upload", "--session", str(tmp_path / "no-session"), "--out", str(out),
                                        "--work", str(work)], env={**_launch_env(emu, user, session_id),
                                                                    "SDU_CENTRAL_PROJECT": "C"})
        assert done.exit_code == 9 and "upload refused" in done.output, done.output
    assert not out.exists() and not work.exists()


def test_settings_from_xnat_project_over_site_then_environment_then_files(xnat, tmp_path, monkeypatch):
    from sdu.xnat.context import Launch

    emu, session_id = xnat
    monkeypatch.setenv("SDU_SECRETS_DIR", str(tmp_path))
    (tmp_path / "SDU_SITE_ID").write_text("FROM-FILE\n")
    monkeypatch.setenv("SDU_CENTRAL_URL", "https://from-env.example")
    for name, value in _launch_env(emu, "mateo", session_id).items():
        monkeypatch.setenv(name, value)
    launch = Launch.from_env()
    assert launch.settings == {}
    assert (launch.setting("SDU_SITE_ID"), launch.setting("SDU_CENTRAL_URL")) == ("FROM-FILE", "https://from-env.example")
    emu.config.put(None, "sdu", "settings", json.dumps({"site_id": "SITE-A", "remote_url": "https://site.example",
                                                        "trials": ["EXAMPLE-HN"]}))
    emu.config.put("P", "sdu", "settings", json.dumps({"remote_url": "https://project.example", "share": "T1",
                                                       "trials": ["EXAMPLE-PROSTATE", "EXAMPLE-HN"]}))
    launch = Launch.from_env()
    assert launch.setting("SDU_SITE_ID") == "SITE-A"
    assert launch.setting("SDU_CENTRAL_URL") == "https://project.example"
    assert launch.offered_trials() == ["EXAMPLE-PROSTATE", "EXAMPLE-HN"] and launch.settings["share"] == "T1"
    emu.config.put("P", "sdu", "settings", "not json")
    with pytest.raises(ConfigError, match="project sdu/settings configuration is not JSON"):
        Launch.from_env()


def test_the_trial_recorded_on_the_session_is_the_default(xnat, session, tmp_path, monkeypatch):
    from sdu.errors import ProtocolError
    from sdu.xnat.context import Launch

    emu, session_id = xnat
    for name, value in _launch_env(emu, "mateo", session_id).items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match="no trial"):
        Launch.from_env().trial("")
    assert Launch.from_env().trial("", required=False) is None
    field = "xnat:experimentData/fields/field[name=sdu_trial]/field"
    assert requests.put(f"{emu.url}/data/experiments/{session_id}", params={field: "EXAMPLE-PROSTATE"},
                        auth=("mateo", "pw"), timeout=10).status_code == 200
    assert Launch.from_env().trial("") == "EXAMPLE-PROSTATE"
    assert Launch.from_env().trial("EXAMPLE-HN") == "EXAMPLE-HN"  # the launch's own wins
    emu.config.put("P", "sdu", "settings", json.dumps({"trials": ["EXAMPLE-HN"]}))
    with pytest.raises(ProtocolError, match="not among the trials"):
        Launch.from_env().trial("")
    # and the entry point validates with it when the launch names none
    emu.config.put("P", "sdu", "settings", json.dumps({}))
    study, root = session
    done = CliRunner().invoke(cli, ["validate", "--session", str(root), "--out", str(tmp_path / "out")],
                              env={"SDU_TRIAL": "", "SDU_ARM": ""})
    assert done.exit_code == 0, done.output
    report = json.loads((tmp_path / "out" / "sdu-report.validate.json").read_text())
    assert report["protocol"]["id"] == "EXAMPLE-PROSTATE"


def test_validate_reads_the_relabelled_session_when_there_is_one(session, tmp_path):
    study, root = session
    relabelled = root / "RESOURCES" / "SDU_RELABELLED"
    shutil.copytree(root / "SCANS", relabelled)
    shutil.rmtree(relabelled / "3")  # the copy without scan 3: what validation reads is the copy
    assert SessionFolder.open(root).source() == relabelled
    done = CliRunner().invoke(cli, ["validate", "--session", str(root), "--out", str(tmp_path / "out")],
                              env={"SDU_TRIAL": "EXAMPLE-PROSTATE", "SDU_ARM": ""})
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["files"] == len(study.files) - 1  # the RTPLAN (scan 3) is not in the copy
