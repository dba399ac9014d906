"""The plugin's session panel in headless Chromium, against the emulated XNAT running the real steps.

The page is the harness (:mod:`harness`): the jar's real template HTML, scripts and style on
XNAT-shaped globals; every REST call goes to the emulator, whose Container Service resolves each
launch from the images' command JSON and runs the image's entry point (``sdu-xnat``) as a local
process on the session's staged archive folder. Screenshots go to build/test-artefacts/plugin/ (or $SDU_ARTEFACTS).
"""
from __future__ import annotations

import json

import pytest
import requests

from plugin_site import (ADMIN, ANON_PROJECT, ARTEFACTS, BAD_ROI, CENTRAL_PROJECT, GOOD_ROI, MEMBER, OWNER,
                         PASSWORD, READER, SITE_PROJECT, TRIAL, launch_and_wait)
from plugin_harness import install_routes, jar_files, session_page, settings_page
from sdu.studygen import planted_identifiers

STEP_TIMEOUT = 180_000  # ms: a step is a subprocess running sdu-xnat


@pytest.fixture(scope="module")
def plugin_files(plugin_build):
    return jar_files(plugin_build[0])


def open_panel(browser, site, user, plugin_files):
    """The session page as ``user`` sees it: logged in by cookie, edit rights as XNAT's userHelper
    would find them (the user's project role)."""
    jsession = requests.put(f"{site.emu.url}/data/services/auth", data={"username": user, "password": PASSWORD}).text
    users = site.http(user).get(f"{site.emu.url}/data/projects/{SITE_PROJECT}/users").json()["ResultSet"]["Result"]
    role = next(u["role"] for u in users if u["login"] == user)
    html = session_page(plugin_files, site.emu.url, site.session, SITE_PROJECT, role in ("owner", "member"))
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_cookies([{"name": "JSESSIONID", "value": jsession, "url": site.emu.url}])
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    install_routes(page, site.emu.url, plugin_files, html)
    page.goto(f"{site.emu.url}/harness/session")
    page.wait_for_selector("#sdu-panel[data-ready=true]", timeout=30_000)
    assert not errors, errors
    return page


def shot(page, name):
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)


def wait_text(page, selector, text):
    page.wait_for_function("([s, t]) => { const e = document.querySelector(s); return e && e.textContent.includes(t); }",
                           arg=[selector, text], timeout=STEP_TIMEOUT)


def test_owner_validates_relabels_reviews_approves_and_uploads(browser, site, plugin_files):
    page = open_panel(browser, site, OWNER, plugin_files)
    assert page.is_disabled("button[data-step=validate]"), "no trial chosen yet"

    page.select_option("[data-sdu=trial]", TRIAL)
    wait_text(page, "[data-sdu=status]", "recorded on the session")
    assert site.emu.archive.experiments[site.session].fields["sdu_trial"] == TRIAL

    page.click("button[data-step=validate]")
    row = f'[data-sdu=report-validate] tr[data-roi-row="{BAD_ROI}"]'
    page.wait_for_selector(row, timeout=STEP_TIMEOUT)
    assert page.inner_text(f"{row} .sdu-suggestion") == GOOD_ROI
    assert "laterality" in page.inner_text(row) and "TG-263" in page.inner_text(f"{row} .sdu-explanation")
    assert page.inner_text('[data-sdu=report-validate] tr[data-check="names.nomenclature"] .sdu-status') == "fail"
    assert page.input_value(f'select[data-roi="{BAD_ROI}"]') == GOOD_ROI, "the suggestion is preselected"
    shot(page, "01-validation-failing-roi")

    page.click("button[data-step=relabel]")
    wait_text(page, "[data-sdu=report-relabel]", GOOD_ROI)
    wait_text(page, "[data-sdu=report-validate] h4", ": PASS")
    assert page.query_selector(f'[data-sdu=report-validate] tr[data-roi-row="{BAD_ROI}"]') is None
    shot(page, "02-relabelled-validation-passes")

    page.click("button[data-step=anonymise]")
    wait_text(page, "[data-sdu=report-anonymise]", "Anonymised: 8 of ")  # of the files read: XNAT's catalog too
    assert "files, 0 failed" in page.inner_text("[data-sdu=report-anonymise]")
    assert "Every file anonymised" in page.inner_text("[data-sdu=report-anonymise]")
    anonymised = site.anonymised()  # imported into the anonymised project: the next steps run there
    target = page.inner_text("[data-sdu=report-anonymise] .sdu-target")
    assert f"{ANON_PROJECT} / " in target and target.endswith(f" / {anonymised.label}")
    assert page.is_disabled("button[data-step=approve]") and page.is_disabled("button[data-step=upload]")

    page.click("button[data-step=verify]")
    wait_text(page, "[data-sdu=report-verify]", "Verification: PASSED")
    wait_text(page, "[data-sdu=report-review]", "Review: what will leave the site")
    assert GOOD_ROI in page.inner_text("[data-sdu=report-review] table.sdu-review-rois")
    assert page.is_disabled("button[data-step=upload]"), "upload waits for an approval"
    shot(page, "03-verification-and-review")

    page.fill("[data-sdu=comment]", "reviewed on the session page")
    page.click("button[data-step=approve]")
    wait_text(page, "[data-sdu=report-approve]", f"Approved by {OWNER}")
    assert "reviewed on the session page" in page.inner_text("[data-sdu=report-approve]")
    assert "HMAC-SHA256 with the site key" in page.inner_text("[data-sdu=report-approve]")
    assert "SDU_APPROVAL" not in site.emu.archive.experiments[site.session].resources
    approval = json.loads(anonymised.resources["SDU_APPROVAL"].files["sdu-approval.json"])
    assert approval["user"] == OWNER  # from the alias token of the login, not from the page
    assert approval["seal"]["alg"] == "HMAC-SHA256" and len(approval["manifest"]) >= 8
    assert page.is_enabled("button[data-step=upload]")
    shot(page, "04-approved")

    page.click("button[data-step=upload]")
    wait_text(page, "[data-sdu=report-upload]", f"Uploaded to {CENTRAL_PROJECT}")
    shot(page, "05-uploaded")
    assert set(anonymised.resources) >= {"SDU_VERIFY", "SDU_APPROVAL", "SDU_UPLOAD"}
    central = [e for e in site.central.archive.experiments.values() if e.project == CENTRAL_PROJECT]
    assert len(central) == 1 and sum(len(s.resources["DICOM"].files) for s in central[0].scans.values()) > 0

    text = page.inner_text("body")
    for kind, value in planted_identifiers(site.study.patient).items():
        assert value not in text, f"the page shows the patient's {kind}"


def test_read_only_member_sees_reports_only_and_a_forged_launch_is_refused(browser, site, plugin_files):
    """XNAT lets a read-only member launch (read access suffices); the approve and upload commands
    ask XNAT the launching user's role and refuse: no approval recorded, nothing sent."""
    assert launch_and_wait(site, MEMBER, "sdu-validate-session", trial=TRIAL)["status"] == "Complete"
    assert launch_and_wait(site, MEMBER, "sdu-anonymise-session", trial=TRIAL)["status"] == "Complete"
    anonymised = site.anonymised()
    assert launch_and_wait(site, MEMBER, "sdu-approve-session", on=anonymised, comment="ok")["status"] == "Complete"
    genuine = anonymised.resources["SDU_APPROVAL"].files["sdu-approval.json"]
    page = open_panel(browser, site, READER, plugin_files)
    page.wait_for_selector(f'[data-sdu=report-validate] tr[data-roi-row="{BAD_ROI}"]')
    wait_text(page, "[data-sdu=report-approve]", f"Approved by {MEMBER}")
    for step in ("validate", "relabel", "anonymise", "verify", "approve", "upload"):
        assert page.query_selector(f"button[data-step={step}]") is None, f"a read-only member sees {step}"
    assert page.is_disabled(f'select[data-roi="{BAD_ROI}"]')
    shot(page, "06-read-only-member")

    forged = page.evaluate("""async ([session, project]) => {
        const cmds = await (await fetch('/xapi/commands')).json();
        const out = {};
        for (const name of ['sdu-approve-session', 'sdu-upload-session']) {
            const w = cmds.flatMap(c => c.xnat).find(w => w.name === name);
            const r = await fetch(`/xapi/projects/${project}/wrappers/${w.id}/root/session/launch?XNAT_CSRF=x`, {
                method: 'POST', headers: {'Content-Type': 'application/json'},
                body: JSON.stringify({session: '/archive/experiments/' + session, comment: 'forged'})});
            const launched = await r.json();
            let wf = {status: 'Queued'};
            while (wf.status === 'Queued' || wf.status === 'Running') {
                await new Promise(done => setTimeout(done, 200));
                wf = await (await fetch('/xapi/workflows/' + launched['workflow-id'])).json();
            }
            out[name] = [r.status, launched.status, wf.status];
        }
        const put = await fetch(`/data/experiments/${session}/resources/SDU_APPROVAL/files/sdu-approval.json`,
                                {method: 'PUT', body: '{"user": "forged"}'});
        out.put = [put.status];
        return out;
    }""", [anonymised.id, ANON_PROJECT])
    refusal = "Failed (refused: {} refused: the launching user is a collaborator of the session's project; " \
              "only owners and members may {})"
    assert forged == {"sdu-approve-session": [200, "success", refusal.format("approve", "approve")],
                      "sdu-upload-session": [200, "success", refusal.format("upload", "upload")], "put": [403]}
    assert anonymised.resources["SDU_APPROVAL"].files["sdu-approval.json"] == genuine, "no approval recorded"
    assert "SDU_UPLOAD" not in anonymised.resources and site.central.requests == [], "nothing sent"


def test_settings_panels_store_settings_the_session_panel_follows(browser, site, plugin_files):
    """Site settings (admin) and project settings (owner) through the spawner panels' forms; the
    session panel then offers only the project's trials, and a project's own protocol list in the
    config service replaces the bundled one."""
    def settings(user, project):
        jsession = requests.put(f"{site.emu.url}/data/services/auth",
                                data={"username": user, "password": PASSWORD}).text
        context = browser.new_context()
        context.add_cookies([{"name": "JSESSIONID", "value": jsession, "url": site.emu.url}])
        page = context.new_page()
        install_routes(page, site.emu.url, plugin_files, settings_page(plugin_files, site.emu.url, project))
        page.goto(f"{site.emu.url}/harness/settings")
        page.wait_for_selector("form.sdu-settings")
        return page

    page = settings(ADMIN, None)
    page.wait_for_function("document.querySelector('input[name=site_id]').value !== ''")  # the stored ones
    assert page.input_value("input[name=anon_project]") == ANON_PROJECT
    page.fill("input[name=remote_url]", "https://trials.example.org")
    page.fill("input[name=site_id]", "SITE02")
    page.click("form.sdu-settings button[type=submit]")
    page.wait_for_selector(".xnat-dialog")
    assert "Saved" in page.inner_text(".xnat-dialog")
    assert json.loads(site.emu.config.get(None, "sdu", "settings")) == \
        {"remote_url": "https://trials.example.org", "site_id": "SITE02", "anon_project": ANON_PROJECT}

    page = settings(OWNER, SITE_PROJECT)
    assert page.query_selector("input[name=remote_url]") is None, "site-only fields are not on the project page"
    assert page.query_selector("input[name=anon_project]") is None
    page.fill("input[name=trials]", "EXAMPLE-HN, EXAMPLE-PROSTATE")
    page.fill("input[name='wrappers.validate']", "sdu-validate-session")
    page.click("form.sdu-settings button[type=submit]")
    page.wait_for_selector(".xnat-dialog")
    stored = json.loads(site.emu.config.get(SITE_PROJECT, "sdu", "settings"))
    assert stored == {"trials": ["EXAMPLE-HN", "EXAMPLE-PROSTATE"], "wrappers": {"validate": "sdu-validate-session"}}
    page.reload()
    page.wait_for_function("document.querySelector('input[name=trials]').value !== ''")
    assert page.input_value("input[name=trials]") == "EXAMPLE-HN, EXAMPLE-PROSTATE"

    panel = open_panel(browser, site, MEMBER, plugin_files)
    offered = panel.eval_on_selector_all("[data-sdu=trial] option", "os => os.map(o => o.value).filter(Boolean)")
    assert offered == ["EXAMPLE-HN", "EXAMPLE-PROSTATE"]
    panel.select_option("[data-sdu=trial]", "EXAMPLE-HN")
    arms = panel.eval_on_selector_all("[data-sdu=arm] option", "os => os.map(o => o.value).filter(Boolean)")
    assert arms == ["standard", "deescalated"]

    own = {"protocols": [{"id": "EXAMPLE-PROSTATE", "title": "Prostate (this project's copy)", "version": "0.1",
                          "arms": []}]}
    assert site.http(OWNER).put(f"{site.emu.url}/data/projects/{SITE_PROJECT}/config/sdu/protocols?inbody=true",
                                data=json.dumps(own)).status_code == 201
    panel = open_panel(browser, site, MEMBER, plugin_files)
    assert panel.eval_on_selector_all("[data-sdu=trial] option", "os => os.map(o => o.textContent)")[1:] == \
        ["EXAMPLE-PROSTATE v0.1 - Prostate (this project's copy)"]
    assert panel.input_value("[data-sdu=trial]") == "", "the recorded trial is not in this list"


def test_values_in_anonymised_side_reports_are_never_rendered(browser, site, plugin_files):
    """Reports of the anonymised side carrying a value where one could hide (a tag's new values,
    a folder or file path, a note) - the panel shows counts, tags and kinds, not those."""
    secret = "Quixtable^Marguerite"
    review = {"ready_to_approve": True, "values_shown": True, "folder": f"/site/{secret}",
              "verification": {"status": "passed"}, "anonymisation": {"profile": ["basic"], "actions": []},
              "series": [{"session": secret, "modality": "CT", "series_number": 1, "description": secret, "files": 5}],
              "rois": [], "tags": [{"tag": "(0010,0010)", "keyword": "PatientName", "vr": "PN", "profile_action": "Z",
                                    "outcome": "replaced", "with_value": 5, "empty": 0, "absent": 0,
                                    "distinct_values": 1, "values": [{"value": secret, "files": 5}]}]}
    reports = {
        "SDU_ANONYMISE": {"sdu-report.anonymise.json": {"ok": True, "counts": {"in": 5, "out": 5, "failed": 0},
                                                        "profile": ["basic"], "subjects": [secret],
                                                        "files": [{"source": f"/in/{secret}.dcm"}]}},
        "SDU_VERIFY": {"sdu-report.verify.json": {"ok": True, "folder": f"/out/{secret}", "files_total": 5,
                                                  "files_passed": 5, "findings_total": 0, "warnings_total": 0,
                                                  "checks": ["profile"], "notes": [secret],
                                                  "files": [{"path": f"{secret}/1.dcm", "findings": []}]},
                       "sdu-review.json": review},
        "SDU_APPROVAL": {"sdu-approval.json": {"user": OWNER, "time": "2026-01-01T00:00:00+00:00",
                                               "folder": f"/out/{secret}", "comment": "",
                                               "manifest": {f"{secret}/1.dcm": {"size": 1, "sha256": "0" * 64}},
                                               "verification": {"ok": True, "warnings": 0}}}}

    def runner(run):  # the container writes the reports into its output mount
        label = {"sdu-anonymise-session": "SDU_ANONYMISE", "sdu-verify-session": "SDU_VERIFY",
                 "sdu-approve-session": "SDU_APPROVAL"}[run.wrapper]
        out = run.host_path("/output/report")
        out.mkdir(parents=True)
        for name, doc in reports[label].items():
            (out / name).write_text(json.dumps(doc))
        return 0, ""

    site.emu.containers.runner = runner
    page = open_panel(browser, site, OWNER, plugin_files)
    page.select_option("[data-sdu=trial]", TRIAL)
    for step, section, text in (("anonymise", "anonymise", "Anonymised: 5 of 5"),
                                ("verify", "review", "PatientName"), ("approve", "approve", f"Approved by {OWNER}")):
        page.click(f"button[data-step={step}]")
        wait_text(page, f"[data-sdu=report-{section}]", text)
    files_bound = page.inner_text("[data-sdu=report-approve] tbody tr:first-child td:nth-child(2)")
    assert files_bound == "1", "a sealed record without a count: its manifest is counted"
    assert secret not in page.content()
