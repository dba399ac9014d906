"""The emulator's config service, project roles and Container Service, through their REST paths.

These are what the plugin's page calls; the server-side refusals hold whatever a page shows: as in
XNAT, read access launches a command, and the commands that approve or send refuse by themselves."""
from __future__ import annotations

import json

import requests

from plugin_site import (ADMIN, ANON_PROJECT, BAD_ROI, CONTRACT, GOOD_ROI, MEMBER, OWNER, PASSWORD, READER,
                         SITE_PROJECT, TRIAL, launch_and_wait)


def _wrapper_ids(site) -> dict[str, int]:
    return {w["name"]: w["id"] for c in site.http(OWNER).get(f"{site.emu.url}/xapi/commands").json() for w in c["xnat"]}


def _launch(site, user, wrapper, **params):
    wid = _wrapper_ids(site)[wrapper]
    return site.http(user).post(f"{site.emu.url}/xapi/projects/{SITE_PROJECT}/wrappers/{wid}/root/session/launch",
                                json={"session": f"/archive/experiments/{site.session}", **params})


def test_config_service_site_and_project_documents(site):
    url = site.emu.url
    settings = json.dumps({"trials": [TRIAL], "share": "TRIAL"})
    assert site.http(OWNER).put(f"{url}/data/config/sdu/settings?inbody=true", data=settings).status_code == 403
    # a new version of the document the site fixture stored
    assert site.http(ADMIN).put(f"{url}/data/config/sdu/settings?inbody=true", data=settings).status_code == 200
    assert site.http(READER).get(f"{url}/data/config/sdu/settings?contents=true").json() == json.loads(settings)

    project_doc = f"{url}/data/projects/{SITE_PROJECT}/config/sdu/protocols"
    assert site.http(MEMBER).put(f"{project_doc}?inbody=true", data="{}").status_code == 403
    assert site.http(OWNER).put(f"{project_doc}?inbody=true", data='{"protocols": []}').status_code == 201
    assert site.http(OWNER).put(f"{project_doc}?inbody=true", data='{"protocols": [{"id": "X"}]}').status_code == 200
    row = site.http(READER).get(project_doc).json()["ResultSet"]["Result"][0]
    assert (row["tool"], row["path"], row["project"], row["version"], row["xnatUser"]) == \
        ("sdu", "protocols", SITE_PROJECT, 2, OWNER)
    assert site.http(OWNER).put(f"{project_doc}?status=disabled").status_code == 200
    assert site.http(OWNER).get(f"{project_doc}?contents=true").status_code == 404
    assert site.http(OWNER).get(f"{url}/data/projects/{SITE_PROJECT}/config/sdu/none?contents=true").status_code == 404


def test_project_roles_and_read_only_collaborators(site):
    url = site.emu.url
    users = site.http(READER).get(f"{url}/data/projects/{SITE_PROJECT}/users").json()["ResultSet"]["Result"]
    assert {u["login"]: u["role"] for u in users} == {OWNER: "owner", MEMBER: "member", READER: "collaborator"}
    field = "xnat:experimentData/fields/field[name=sdu_trial]/field"
    assert site.http(READER).put(f"{url}/data/experiments/{site.session}", params={field: TRIAL}).status_code == 403
    assert site.http(READER).put(f"{url}/data/experiments/{site.session}/resources/X/files/a.json",
                                 data=b"{}").status_code == 403
    assert site.http(MEMBER).put(f"{url}/data/projects/{SITE_PROJECT}/users/Owners/{READER}").status_code == 403
    assert site.http(MEMBER).put(f"{url}/data/experiments/{site.session}", params={field: TRIAL}).status_code == 200
    doc = site.http(READER).get(f"{url}/data/experiments/{site.session}?format=json").json()
    fields = next(c for c in doc["items"][0]["children"] if c["field"] == "fields/field")["items"]
    assert [f["data_fields"] for f in fields] == [{"name": "sdu_trial", "field": TRIAL}]
    assert site.http(OWNER).put(f"{url}/data/projects/{SITE_PROJECT}/users/Members/{READER}").status_code == 200
    assert site.http(READER).put(f"{url}/data/experiments/{site.session}", params={field: TRIAL}).status_code == 200


def test_each_user_asks_xnat_for_their_own_project_roles(site):
    """XNAT 1.8's answers the commands read: /xapi/access/projects (the user's project groups) and
    /xapi/users/{user}/roles (Administrator for a site admin; only the user or an admin may ask)."""
    url = site.emu.url
    rows = site.http(READER).get(f"{url}/xapi/access/projects").json()
    assert {(r["ID"], r["role"], r["group_id"]) for r in rows} == {
        (SITE_PROJECT, "Collaborators", f"{SITE_PROJECT}_collaborator"),
        (ANON_PROJECT, "Collaborators", f"{ANON_PROJECT}_collaborator")}
    assert set(rows[0]) == {"secondary_ID", "ID", "role", "name", "URI", "group_id", "description"}
    assert {r["role"] for r in site.http(MEMBER).get(f"{url}/xapi/access/projects").json()} == {"Members"}
    assert site.http(READER).get(f"{url}/xapi/users/{READER}/roles").json() == []
    assert site.http(READER).get(f"{url}/xapi/users/{ADMIN}/roles").status_code == 403
    assert site.http(ADMIN).get(f"{url}/xapi/users/{ADMIN}/roles").json() == ["Administrator"]


def test_commands_follow_the_contract(site):
    commands = site.http(READER).get(f"{site.emu.url}/xapi/commands").json()
    wrappers = {w["name"]: (c["name"], w) for c in commands for w in c["xnat"]}
    for command, (wrapper, labels) in CONTRACT.items():
        name, w = wrappers[wrapper]
        assert name == command and w["contexts"] == ["xnat:imageSessionData"]
        assert [h["label"] for h in w["output-handlers"]] == list(labels)


def test_read_access_launches_but_a_read_only_members_outputs_are_not_stored(site):
    """XNAT's launch routes check read access only; the output handlers upload as the launching
    user, which a collaborator may not."""
    launched = _launch(site, READER, "sdu-validate-session", trial=TRIAL)
    assert launched.status_code == 200 and launched.json()["status"] == "success"
    site.emu.containers.wait()
    wf = site.emu.containers.workflows[launched.json()["workflow-id"]]
    assert (wf["status"], wf["createUser"]) == ("Failed (Upload)", READER)
    assert "SDU_VALIDATION" not in site.emu.archive.experiments[site.session].resources
    site.emu.add_user("stranger", PASSWORD)
    assert _launch(site, "stranger", "sdu-approve-session").status_code == 403
    no_root = site.http(OWNER).post(f"{site.emu.url}/xapi/projects/{SITE_PROJECT}/wrappers/"
                                    f"{_wrapper_ids(site)['sdu-verify-session']}/root/session/launch", json={})
    assert no_root.status_code == 500 and "root input 'session'" in no_root.json()["message"]
    assert len(site.emu.containers.workflows) == 1


def test_anonymise_imports_the_anonymised_session_where_approve_and_upload_refuse_read_only_members(site):
    assert launch_and_wait(site, OWNER, "sdu-anonymise-session", trial=TRIAL)["status"] == "Complete"
    anonymised = site.anonymised()
    resources = site.emu.archive.experiments[site.session].resources
    imported = json.loads(resources["SDU_ANONYMISE"].files["sdu-import.json"])
    assert (imported["project"], imported["session"]) == (ANON_PROJECT, anonymised.label)
    assert sum(len(s.resources["DICOM"].files) for s in anonymised.scans.values()) == imported["files"] == 8
    wf = launch_and_wait(site, OWNER, "sdu-upload-session", on=anonymised)
    assert wf["status"].startswith("Failed") and "not approved" in wf["status"]
    assert "SDU_UPLOAD" not in anonymised.resources and site.central.archive.experiments == {}
    assert launch_and_wait(site, MEMBER, "sdu-verify-session", on=anonymised)["status"] == "Complete"
    report = json.loads(anonymised.resources["SDU_VERIFY"].files["sdu-report.verify.json"])
    assert report["ok"] and report["files_total"] >= 8  # the DICOM and the anonymisation report
    assert json.loads(anonymised.resources["SDU_VERIFY"].files["sdu-review.json"])["ready_to_approve"] is True
    # A read-only member's forged launches get through XNAT's launch check; the commands refuse.
    for wrapper in ("sdu-approve-session", "sdu-upload-session"):
        wf = launch_and_wait(site, READER, wrapper, on=anonymised, comment="forged")
        assert wf["status"].startswith("Failed (refused:") and "collaborator" in wf["status"], wrapper
        assert "only owners and members" in wf["status"]
    assert "SDU_APPROVAL" not in anonymised.resources and site.central.requests == []
    assert launch_and_wait(site, MEMBER, "sdu-approve-session", on=anonymised, comment="ok")["status"] == "Complete"
    record = json.loads(anonymised.resources["SDU_APPROVAL"].files["sdu-approval.json"])
    assert record["user"] == MEMBER and record["seal"]["alg"] == "HMAC-SHA256"
    wf = launch_and_wait(site, READER, "sdu-upload-session", on=anonymised)
    assert wf["status"].startswith("Failed (refused:") and site.central.requests == [], "approved, still refused"
    assert launch_and_wait(site, OWNER, "sdu-upload-session", on=anonymised)["status"] == "Complete"
    assert json.loads(anonymised.resources["SDU_UPLOAD"].files["sdu-upload.json"])["ok"] is True


def test_settings_and_the_recorded_trial_come_from_xnat(site):
    """The plugin's settings (config service, project over site) and the session's sdu_trial field
    are what the commands read when a launch gives no trial."""
    url, field = site.emu.url, "xnat:experimentData/fields/field[name=sdu_trial]/field"
    wf = launch_and_wait(site, OWNER, "sdu-validate-session")
    assert wf["status"].startswith("Failed (refused: no trial")
    assert site.http(OWNER).put(f"{url}/data/experiments/{site.session}", params={field: TRIAL}).status_code == 200
    assert launch_and_wait(site, OWNER, "sdu-validate-session")["status"] == "Complete"
    report = json.loads(site.emu.archive.experiments[site.session].resources["SDU_VALIDATION"]
                        .files["sdu-report.validate.json"])
    assert report["protocol"]["id"] == TRIAL
    project_doc = f"{url}/data/projects/{SITE_PROJECT}/config/sdu/settings?inbody=true"
    assert site.http(OWNER).put(project_doc, data=json.dumps({"trials": ["EXAMPLE-HN"]})).status_code == 201
    wf = launch_and_wait(site, OWNER, "sdu-validate-session")
    assert wf["status"].startswith("Failed (refused:") and "not among the trials this project offers" in wf["status"]
    site.emu.config.put(None, "sdu", "settings", json.dumps({"site_id": "SITE01"}))  # no anonymised project now
    wf = launch_and_wait(site, OWNER, "sdu-anonymise-session", trial="EXAMPLE-HN")
    assert "setting SDU_ANON_PROJECT is missing" in wf["status"] and "anon_project in XNAT's SDU settings" in wf["status"]
    assert not [e for e in site.emu.archive.experiments.values() if e.project == ANON_PROJECT]


def test_relabel_writes_the_relabelled_session_which_validation_then_reads(site):
    wf = launch_and_wait(site, MEMBER, "sdu-relabel-session", trial=TRIAL, mapping=json.dumps({BAD_ROI: GOOD_ROI}))
    assert wf["status"] == "Complete" and wf["createUser"] == MEMBER and wf["pipelineName"] == "sdu-relabel-session"
    resources = site.emu.archive.experiments[site.session].resources
    assert json.loads(resources["SDU_RELABEL"].files["sdu-report.relabel.json"])["renamed"] == {BAD_ROI: GOOD_ROI}
    assert sum(name.endswith(".dcm") for name in resources["SDU_RELABELLED"].files) == 8
    assert launch_and_wait(site, OWNER, "sdu-validate-session", trial=TRIAL)["status"] == "Complete"
    report = json.loads(resources["SDU_VALIDATION"].files["sdu-report.validate.json"])
    assert report["result"] == "pass" and GOOD_ROI in [n["roi_name"] for n in report["roi_names"]]
    bad = launch_and_wait(site, OWNER, "sdu-relabel-session", trial=TRIAL, mapping="[1, 2]")
    assert bad["status"].startswith("Failed (refused: mapping must be a JSON object")


def test_a_plugged_in_runner_gets_the_resolved_command_the_staged_mounts_and_the_users_token(site):
    seen = {}

    def runner(run):
        session = run.host_path("/input")
        seen["files"] = sorted(p.relative_to(session).parts[:3] for p in session.rglob("*.dcm"))[:1]
        seen["catalog"] = (session / "SCANS" / "1" / "DICOM" / "scan_1_catalog.xml").is_file()
        env = run.environment
        seen["auth"] = requests.get(f"{env['XNAT_HOST']}/data/auth", auth=(env["XNAT_USER"], env["XNAT_PASS"])).text
        seen["env"] = {k: env[k] for k in ("SDU_TRIAL", "SDU_ARM", "SDU_XNAT_SESSION_ID", "SDU_XNAT_PROJECT")}
        seen["line"], seen["workflow"] = run.command_line, env["XNAT_WORKFLOW_ID"]
        out = run.host_path("/output/report")
        out.mkdir(parents=True)
        (out / "sdu-report.validate.json").write_text('{"result": "pass"}')
        return 0, ""

    site.emu.containers.runner = runner
    wf = launch_and_wait(site, MEMBER, "sdu-validate-session", trial=TRIAL, arm="prostate_only")
    assert wf["status"] == "Complete" and seen["workflow"] == str(wf["wfid"])
    assert seen["files"] == [("SCANS", "1", "DICOM")] and seen["catalog"]
    assert seen["auth"] == f"User '{MEMBER}' is logged in" and seen["line"] == "sdu-xnat validate"
    assert seen["env"] == {"SDU_TRIAL": TRIAL, "SDU_ARM": "prostate_only", "SDU_XNAT_SESSION_ID": site.session,
                           "SDU_XNAT_PROJECT": SITE_PROJECT}
    resource = site.emu.archive.experiments[site.session].resources["SDU_VALIDATION"]
    assert resource.files == {"sdu-report.validate.json": b'{"result": "pass"}'} and resource.format == "JSON"
    # the token is withdrawn when the run ends
    assert all(t["user"] != MEMBER for t in site.emu.tokens.values())
