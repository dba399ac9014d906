"""The emulator's config service, project roles and Container Service, through their REST paths.

These are what the plugin's page calls; the server-side refusals hold whatever a page shows."""
from __future__ import annotations

import json

import requests

from plugin_site import (ADMIN, ANON_PROJECT, BAD_ROI, GOOD_ROI, MEMBER, OWNER, PASSWORD, READER, SITE_PROJECT, TRIAL,
                      launch_and_wait)
from xnatemu.sdurunner import CONTRACT


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
    assert site.http(ADMIN).put(f"{url}/data/config/sdu/settings?inbody=true", data=settings).status_code == 201
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


def test_commands_follow_the_contract(site):
    commands = site.http(READER).get(f"{site.emu.url}/xapi/commands").json()
    wrappers = {w["name"]: (c["name"], w) for c in commands for w in c["xnat"]}
    for command, (wrapper, inputs, labels) in CONTRACT.items():
        name, w = wrappers[wrapper]
        assert name == command and w["contexts"] == ["xnat:imageSessionData"]
        assert [h["label"] for h in w["output-handlers"]] == list(labels)


def test_launch_checks_permissions_and_inputs_before_anything_runs(site):
    refused = _launch(site, READER, "sdu-validate-session", trial=TRIAL)
    assert refused.status_code == 403 and refused.json()["status"] == "failure"
    site.emu.add_user("stranger", PASSWORD)
    assert _launch(site, "stranger", "sdu-approve-session").status_code == 403
    missing = _launch(site, OWNER, "sdu-validate-session")
    assert missing.status_code == 500 and "trial" in missing.json()["message"]
    assert site.emu.containers.workflows == {}


def test_anonymise_imports_the_anonymised_session_where_upload_needs_an_approval(site):
    assert launch_and_wait(site, OWNER, "sdu-anonymise-session", trial=TRIAL)["status"] == "Complete"
    anonymised = site.anonymised()
    resources = site.emu.archive.experiments[site.session].resources
    imported = json.loads(resources["SDU_ANONYMISE"].files["sdu-import.json"])
    assert (imported["project"], imported["session"], imported["id"]) == (ANON_PROJECT, anonymised.label, anonymised.id)
    assert sum(len(s.resources["DICOM"].files) for s in anonymised.scans.values()) == imported["files"] == 8
    wf = launch_and_wait(site, OWNER, "sdu-upload-session", on=anonymised)
    assert wf["status"].startswith("Failed") and "not approved" in wf["status"]
    assert "SDU_UPLOAD" not in anonymised.resources and site.central.archive.experiments == {}
    refused = site.http(READER).post(
        f"{site.emu.url}/xapi/projects/{ANON_PROJECT}/wrappers/{_wrapper_ids(site)['sdu-approve-session']}"
        "/root/session/launch", json={"session": f"/archive/experiments/{anonymised.id}"})
    assert refused.status_code == 403
    assert launch_and_wait(site, MEMBER, "sdu-verify-session", on=anonymised)["status"] == "Complete"
    report = json.loads(anonymised.resources["SDU_VERIFY"].files["sdu-report.verify.json"])
    assert report["ok"] and "identifiers" in report["checks"], "checked against the site's linkage store"


def test_without_an_anonymised_project_every_step_stays_on_the_session(site):
    del site.emu.containers.env["SDU_ANON_PROJECT"]
    for wrapper, params in (("sdu-anonymise-session", {"trial": TRIAL}), ("sdu-verify-session", {}),
                            ("sdu-approve-session", {"comment": "ok"}), ("sdu-upload-session", {})):
        assert launch_and_wait(site, OWNER, wrapper, **params)["status"] == "Complete", wrapper
    resources = site.emu.archive.experiments[site.session].resources
    assert "sdu-import.json" not in resources["SDU_ANONYMISE"].files
    assert json.loads(resources["SDU_UPLOAD"].files["sdu-report.upload.json"])["ok"]
    assert json.loads(resources["SDU_VERIFY"].files["sdu-report.verify.json"])["sources"]["source_files_read"] == 8


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
    assert bad["status"].startswith("Failed (mapping")


def test_a_plugged_in_runner_gets_the_staged_session_and_the_users_token(site):
    seen = {}

    def runner(wrapper_name, session, inputs, env):
        seen["files"] = sorted(p.relative_to(session.input).parts[:3] for p in session.input.rglob("*.dcm"))[:1]
        seen["auth"] = requests.get(f"{env['XNAT_HOST']}/data/auth", auth=(env["XNAT_USER"], env["XNAT_PASS"])).text
        seen["inputs"], seen["user"] = inputs, env["SDU_XNAT_USERNAME"]
        return "Complete", {"SDU_VALIDATION": {"sdu-report.validate.json": b'{"result": "pass"}'}}

    site.emu.containers.runner = runner
    wf = launch_and_wait(site, MEMBER, "sdu-validate-session", trial=TRIAL, arm="prostate_only")
    assert wf["status"] == "Complete"
    assert seen["files"] == [("SCANS", "1", "DICOM")]
    assert seen["auth"] == f"User '{MEMBER}' is logged in" and seen["user"] == MEMBER
    assert seen["inputs"] == {"trial": TRIAL, "arm": "prostate_only"}
    # the token is withdrawn when the run ends
    assert all(t["user"] != MEMBER for t in site.emu.tokens.values())
