"""The emulator's default Container Service runner: each SDU wrapper runs the real ``sdu`` step.

``run(wrapper_name, session_ref, inputs, env) -> (status, outputs)`` is the runner interface of
:class:`xnatemu.containerservice.ContainerService`; this one runs the ``sdu`` command line (the
same library functions the command images call) in a subprocess with ``env`` added to the
environment, on the session's files as staged by the Container Service, and answers the output
resources named in the commands' contract (``/work/wt/CONTRACT-18-19.md`` → README):

====================  ===========================  ==========================================
wrapper               sdu step                     output resource (files)
====================  ===========================  ==========================================
sdu-validate-session  validate --trial [--arm]     SDU_VALIDATION (sdu-report.validate.json)
sdu-relabel-session   relabel --map OLD=NEW …      SDU_RELABEL (sdu-report.relabel.json),
                                                   SDU_RELABELLED (the relabelled session)
sdu-anonymise-session anonymise --trial-id …       SDU_ANONYMISE (sdu-report.anonymise.json,
                                                   the report that leaves with the data)
sdu-verify-session    verify; review --json        SDU_VERIFY (sdu-report.verify.json,
                                                   sdu-review.json)
sdu-approve-session   approve --user <XNAT user>   SDU_APPROVAL (sdu-approval.json,
                                                   sdu-review.json)
sdu-upload-session    upload --xnat --project      SDU_UPLOAD (sdu-report.upload.json)
====================  ===========================  ==========================================

Validation and relabelling read the relabelled session when there is one, else the scans. The
anonymised copy is kept in a work folder (at the site, as the command image keeps it in the
site's store), where verify, approve and upload find it. With ``SDU_ANON_PROJECT`` set (the
contract's design, as the command images do it) anonymisation also imports the anonymised session
into that project, as the launching user, and ``SDU_ANONYMISE/sdu-import.json`` names it
(``project``, ``subject``, ``session``, ``id``, ``files``); verify, approve and upload are then
launched on the anonymised session and its work folder holds the copy. Without it everything
stays on the identifiable session. The approver is the XNAT user
who launched (``SDU_XNAT_USERNAME``, set by the Container Service from the login, never from a
launch parameter). Site settings come from the command environment: ``SDU_SITE_ID``,
``SDU_REMOTE_XNAT``, ``SDU_REMOTE_PROJECT`` and the remote credentials (``SDU_XNAT_USER`` /
``SDU_XNAT_PASS`` or ``SDU_XNAT_TOKEN_FILE``), plus ``SDU_SITE_DIR`` and the site key.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

#: The commands' contract: command -> (wrapper, inputs (name, required), output resource labels).
CONTRACT = {
    "sdu-validate": ("sdu-validate-session", (("trial", True), ("arm", False)), ("SDU_VALIDATION",)),
    "sdu-relabel": ("sdu-relabel-session", (("trial", True), ("mapping", True)), ("SDU_RELABEL", "SDU_RELABELLED")),
    "sdu-anonymise": ("sdu-anonymise-session", (("trial", True), ("subject_id", False)), ("SDU_ANONYMISE",)),
    "sdu-verify": ("sdu-verify-session", (), ("SDU_VERIFY",)),
    "sdu-approve": ("sdu-approve-session", (("comment", False),), ("SDU_APPROVAL",)),
    "sdu-upload": ("sdu-upload-session", (("share", False),), ("SDU_UPLOAD",)),
}
TIMEOUT = 600


def sdu_commands() -> list[dict]:
    """Container Service command JSON for the contract (when the images' own JSON is not at hand)."""
    out = []
    for name, (wrapper, inputs, labels) in CONTRACT.items():
        out.append({
            "name": name, "type": "docker", "image": "sdu:latest", "version": "1.0",
            "inputs": [{"name": n, "type": "string", "required": req} for n, req in inputs],
            "outputs": [{"name": label.lower(), "mount": label.lower(), "required": True} for label in labels],
            "xnat": [{"name": wrapper, "contexts": ["xnat:imageSessionData"],
                      "external-inputs": [{"name": "session", "type": "Session", "required": True}],
                      "derived-inputs": [],
                      "output-handlers": [{"name": label.lower(), "accepts-command-output": label.lower(),
                                           "as-a-child-of": "session", "type": "Resource", "label": label}
                                          for label in labels]}],
        })
    return out


def run(wrapper_name: str, session, inputs: dict, env: dict):
    steps = {"sdu-validate-session": _validate, "sdu-relabel-session": _relabel, "sdu-anonymise-session": _anonymise,
             "sdu-verify-session": _verify, "sdu-approve-session": _approve, "sdu-upload-session": _upload}
    step = steps.get(wrapper_name)
    if step is None:
        return f"Failed (no SDU step for {wrapper_name})", {}
    return step(session, inputs, env)


# --- the steps --------------------------------------------------------------------------------
def _source(session) -> Path:
    relabelled = session.input / "RESOURCES" / "SDU_RELABELLED"
    return relabelled if relabelled.is_dir() else session.input / "SCANS"


def _anonymised(session) -> Path:
    return session.work / "anonymised"


def _validate(session, inputs, env):
    out = Path(tempfile.mkdtemp(dir=session.work))
    report = out / "sdu-report.validate.json"
    args = ["validate", str(_source(session)), "--trial", inputs["trial"], "--report", str(report)]
    if inputs.get("arm"):
        args += ["--arm", inputs["arm"]]
    code, _, err = _sdu(args, env)
    if code not in (0, 1) or not report.exists():
        return _failed("validate", code, err), {}
    return "Complete", {"SDU_VALIDATION": {report.name: report.read_bytes()}}


def _relabel(session, inputs, env):
    try:
        mapping = json.loads(inputs["mapping"])
    except ValueError:
        return "Failed (mapping is not a JSON object)", {}
    if not isinstance(mapping, dict) or not mapping or not all(isinstance(v, str) and v for v in mapping.values()):
        return "Failed (mapping must map ROI names to new names)", {}
    out = Path(tempfile.mkdtemp(dir=session.work)) / "relabelled"
    args = ["relabel", str(_source(session)), "--out", str(out), "--json"]
    for old, new in mapping.items():
        args += ["--map", f"{old}={new}"]
    code, stdout, err = _sdu(args, env)
    if code != 0:
        return _failed("relabel", code, err), {}
    return "Complete", {"SDU_RELABEL": {"sdu-report.relabel.json": stdout}, "SDU_RELABELLED": out}


def _anonymise(session, inputs, env):
    dest = _anonymised(session)
    shutil.rmtree(dest, ignore_errors=True)  # a new anonymisation replaces the old one (and its approval)
    args = ["anonymise", str(_source(session)), str(dest), "--trial-id", inputs["trial"],
            "--site-id", env.get("SDU_SITE_ID") or os.environ.get("SDU_SITE_ID") or "SITE"]
    args += ["--subject-id", inputs["subject_id"]] if inputs.get("subject_id") else ["--auto-id"]
    code, _, err = _sdu(args + ["--json"], env)
    report = dest / "sdu-report.anonymise.json"
    if not report.exists():
        return _failed("anonymise", code, err), {}
    out = {report.name: report.read_bytes()}
    if (dest / "sdu-report.verify.json").exists():
        out["sdu-report.verify.json"] = (dest / "sdu-report.verify.json").read_bytes()
    if env.get("SDU_ANON_PROJECT"):
        if code != 0:  # as the images: a failed anonymisation or verification is not imported
            return _failed("anonymise", code, err), {}
        try:
            imported = _import(dest, json.loads(report.read_bytes()), env)
        except (OSError, ValueError, KeyError) as exc:
            return f"Failed (import into {env['SDU_ANON_PROJECT']}: {type(exc).__name__}: {str(exc)[:200]})", {}
        moved = session.work.parent.parent / imported["id"] / "work" / "anonymised"
        shutil.rmtree(moved, ignore_errors=True)
        moved.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(dest), moved)
        out["sdu-import.json"] = json.dumps(imported, indent=2).encode()
    return "Complete", {"SDU_ANONYMISE": out}


def _import(dest: Path, report: dict, env) -> dict:
    """The anonymised DICOM into ``SDU_ANON_PROJECT`` (XNAT's import service, as the launching user)."""
    import io
    import zipfile

    import requests

    (subject,), (label,) = report["subjects"], report["sessions"]
    project, host, auth = env["SDU_ANON_PROJECT"], env["XNAT_HOST"], (env["XNAT_USER"], env["XNAT_PASS"])
    buf, count = io.BytesIO(), 0
    with zipfile.ZipFile(buf, "w") as z:
        for path in sorted(p for p in dest.rglob("*") if p.is_file() and p.parent != dest):
            z.write(path, path.relative_to(dest).as_posix())
            count += 1
    r = requests.post(f"{host}/data/services/import", auth=auth, data=buf.getvalue(), timeout=300,
                      params={"import-handler": "DICOM-zip", "project": project, "subject": subject,
                              "session": label, "overwrite": "delete", "Direct-Archive": "true"})
    if r.status_code != 200:
        raise OSError(f"the import service answered {r.status_code}")
    doc = requests.get(f"{host}/data/projects/{project}/subjects/{subject}/experiments/{label}", auth=auth,
                       params={"format": "json"}, timeout=60).json()
    return {"project": project, "subject": subject, "session": label, "id": doc["items"][0]["data_fields"]["ID"],
            "files": count}


def _verify(session, inputs, env):
    dest = _anonymised(session)
    if not dest.is_dir():
        return "Failed (nothing anonymised yet: run anonymise first)", {}
    # Checked against the identifiable originals when this is the identifiable session, else against
    # the site's linkage store (their identifiers and UIDs must not appear); the report goes beside,
    # not into, the anonymised folder (whose own verify report review reads).
    report = Path(tempfile.mkdtemp(dir=session.work)) / "sdu-report.verify.json"
    args = ["verify", str(dest), "--report", str(report), "--json"]
    linkage = Path(env.get("SDU_LINKAGE_DB") or os.environ.get("SDU_LINKAGE_DB")
                   or Path(env.get("SDU_SITE_DIR") or os.environ.get("SDU_SITE_DIR") or Path.home() / ".config/sdu")
                   / "linkage.sqlite")
    if (session.input / "RESOURCES" / "SDU_ANONYMISE").is_dir():  # the identifiable session itself
        args += ["--against", str(_source(session))]
    elif linkage.exists():  # the anonymised session
        args += ["--linkage-db", str(linkage)]
    code, _, err = _sdu(args, env)
    if not report.exists():
        return _failed("verify", code, err), {}
    review = _review(dest, env)
    return "Complete", {"SDU_VERIFY": {report.name: report.read_bytes(), "sdu-review.json": review}}


def _approve(session, inputs, env):
    dest = _anonymised(session)
    user = env.get("SDU_XNAT_USERNAME")
    if not dest.is_dir() or not user:
        return "Failed (nothing anonymised yet, or no launching user)", {}
    code, stdout, err = _sdu(["approve", str(dest), "--user", user, "--comment", inputs.get("comment", ""),
                              "--json"], env)
    if code != 0:
        return _failed("approve", code, err), {}
    record = json.loads(stdout)
    record.pop("folder", None)  # a path at the site: not for the page
    from approval.gate import manifest

    files = manifest(dest)
    record["manifest_sha256"] = hashlib.sha256(json.dumps(sorted(files.items())).encode()).hexdigest()
    # The verification report the reviewer saw (SDU_VERIFY), else the one anonymisation wrote.
    verify_report = session.input / "RESOURCES" / "SDU_VERIFY" / "sdu-report.verify.json"
    if not verify_report.exists():
        verify_report = dest / "sdu-report.verify.json"
    record["verify_report_sha256"] = hashlib.sha256(verify_report.read_bytes()).hexdigest() \
        if verify_report.exists() else None
    record["xnat_user"] = user
    return "Complete", {"SDU_APPROVAL": {"sdu-approval.json": json.dumps(record, indent=2).encode(),
                                         "sdu-review.json": _review(dest, env)}}


def _upload(session, inputs, env):
    dest = _anonymised(session)
    url, project = env.get("SDU_REMOTE_XNAT"), env.get("SDU_REMOTE_PROJECT")
    if not url or not project:
        return "Failed (no remote XNAT configured: SDU_REMOTE_XNAT, SDU_REMOTE_PROJECT)", {}
    if not dest.is_dir():
        return "Failed (nothing anonymised yet)", {}
    args = ["upload", str(dest), "--xnat", url, "--project", project, "--json"]
    if inputs.get("share"):
        args += ["--share", inputs["share"]]
    code, stdout, err = _sdu(args, env)
    if code != 0:
        return _failed("upload", code, err), {}
    return "Complete", {"SDU_UPLOAD": {"sdu-report.upload.json": stdout}}


# --- plumbing ---------------------------------------------------------------------------------
def _review(folder: Path, env) -> bytes:
    code, stdout, _ = _sdu(["review", str(folder), "--json"], env)
    data = json.loads(stdout) if stdout.strip() else {"error": f"sdu review exit {code}"}
    data.pop("folder", None)  # a path at the site
    return json.dumps(data, indent=2).encode()


def _sdu(args: list[str], env: dict) -> tuple[int, bytes, str]:
    proc = subprocess.run([sys.executable, "-m", "sdu.cli.main", *args], capture_output=True,
                          env={**os.environ, **env}, timeout=TIMEOUT)
    return proc.returncode, proc.stdout, proc.stderr.decode("utf-8", "replace")


def _failed(step: str, code: int, err: str) -> str:
    """``Failed (sdu STEP: exit N: first error line)``: sdu's messages name paths and kinds, never values."""
    line = next((ln for ln in err.splitlines() if ln.startswith("sdu: ")), "").removeprefix("sdu: ")
    return f"Failed (sdu {step}: exit {code}{': ' + line[:200] if line else ''})"
