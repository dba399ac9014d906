"""XNAT's Container Service, enough to list commands, launch wrappers and follow their workflows.

Paths and shapes after NrgXnat/container-service (``rest/CommandRestApi.java``,
``rest/LaunchRestApi.java``, ``model/command/auto/LaunchReport.java``):

* ``GET /xapi/commands`` (and ``/xapi/commands/{id}``): command JSON as installed, each with its
  ``xnat`` wrappers, the emulator assigning ``id`` to commands and wrappers;
* ``POST /xapi/wrappers/{id}/root/{root}/launch``, ``/xapi/commands/{id}/wrappers/{name}/root/{root}/launch``
  and their ``/xapi/projects/{p}/…`` forms, parameters as a JSON object body or as query/form
  parameters; ``params[root]`` names the session (``/archive/experiments/ID``, an archive path with
  project/subject/experiment, or the bare ID). The answer is a ``LaunchReport``:
  ``{"status": "success", "workflow-id", "params", "id", "command-id", "wrapper-id"}`` (200) or
  ``{"status": "failure", "message", …}`` (XNAT answers 500; the emulator 403 for a refused user);
* the workflow the launch created: ``GET /xapi/workflows/{id}`` and ``/data/workflows/{id}``
  (``wfid``, ``id`` (the session), ``externalId`` (project), ``pipelineName`` (the wrapper),
  ``status``: ``Queued`` -> ``Running`` -> ``Complete`` | ``Failed (…)``, ``details``,
  ``launchTime``, ``createUser``).

Permissions: XNAT lets a launch through with read access to the project and the command then
uploads its outputs as the launching user, which needs edit rights; every SDU wrapper writes
resources, so the emulator refuses a launch by a user who may not edit the session's project
(a collaborator) with 403 before anything runs — the server-side check the plugin relies on.

The run itself is a pluggable ``runner(wrapper_name, session_ref, inputs, env) -> (status, outputs)``
(default :func:`xnatemu.sdurunner.run`: the real SDU steps; no commands are installed until
``install()`` is called, e.g. with :func:`xnatemu.sdurunner.sdu_commands`); the session's files are laid out first in a
folder as the Container Service mounts them (``SCANS/{scan}/{resource}/…``,
``RESOURCES/{label}/…``), and each output (label -> folder or {name: bytes}) replaces the
session resource of that label when the run completes.
"""
from __future__ import annotations

import itertools
import json
import re
import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs

from . import roles
from .store import Experiment, XnatError


@dataclass(frozen=True)
class SessionRef:
    """What a runner is given about the session: XNAT names and the folder holding its files."""

    uri: str          # /archive/experiments/{id}
    id: str
    project: str
    label: str
    input: Path       # SCANS/{scan}/{resource}/files, RESOURCES/{label}/files (the Container Service's mount)
    work: Path        # kept between launches on this session (the runner's own state)


class ContainerService:
    def __init__(self, emu, runner=None, workdir: str | Path | None = None):
        self.emu = emu
        if runner is None:
            from .sdurunner import run as runner  # the real SDU steps (stdlib imports only until it runs)
        self.runner = runner
        self.env: dict[str, str] = {}  # the site's command environment (XNAT: command configuration)
        self.commands: list[dict] = []
        self.workflows: dict[str, dict] = {}
        self._workdir = Path(workdir) if workdir else None
        self._ids = itertools.count(1)
        self._wrapper_ids = itertools.count(1)
        self._wf_ids = itertools.count(1)
        self._threads: list[threading.Thread] = []

    @property
    def workdir(self) -> Path:
        if self._workdir is None:
            self._workdir = Path(tempfile.mkdtemp(prefix="xnatemu-cs-"))
        return self._workdir

    def install(self, command: dict) -> dict:
        """Add a command (Container Service JSON); answers it with ``id`` and wrapper ``id`` set."""
        cmd = json.loads(json.dumps(command))
        cmd["id"] = next(self._ids)
        for w in cmd.get("xnat", []):
            w["id"] = next(self._wrapper_ids)
        self.commands.append(cmd)
        return cmd

    def wrapper(self, wrapper_id: int | None = None, command_id: int | None = None,
                name: str | None = None) -> tuple[dict, dict]:
        for cmd in self.commands:
            if command_id is not None and cmd["id"] != command_id:
                continue
            for w in cmd.get("xnat", []):
                if (wrapper_id is not None and w["id"] == wrapper_id) or (name is not None and w["name"] == name):
                    return cmd, w
        raise XnatError(404, "No such command wrapper")

    def wait(self, timeout: float = 120) -> None:
        """Wait for every launched run to finish (tests)."""
        for t in list(self._threads):
            t.join(timeout)

    # --- REST -------------------------------------------------------------------------------
    def serve(self, user: str, method: str, path: str, query: dict, body: bytes, ctype: str):
        if path == "/xapi/commands" and method == "GET":
            return 200, self.commands
        m = re.fullmatch(r"/xapi/commands/(\d+)", path)
        if m and method == "GET":
            cmd = next((c for c in self.commands if c["id"] == int(m.group(1))), None)
            if cmd is None:
                raise XnatError(404, "No such command")
            return 200, cmd
        m = re.fullmatch(r"/(?:xapi|data)/workflows/(\d+)", path)
        if m and method == "GET":
            wf = self.workflows.get(m.group(1))
            if wf is None or roles.role_of(self.emu, user, wf["externalId"]) is None:
                raise XnatError(404, "No such workflow")
            return 200, dict(wf)
        m = re.fullmatch(r"/xapi(?:/projects/(?P<p>[^/]+))?(?:/wrappers/(?P<wid>\d+)|/commands/(?P<cid>\d+)"
                         r"/wrappers/(?P<name>[^/]+))/root/(?P<root>[^/]+)/launch", path)
        if m and method == "POST":
            cmd, wrapper = self.wrapper(int(m["wid"]) if m["wid"] else None, int(m["cid"]) if m["cid"] else None,
                                        m["name"])
            params = _params(query, body, ctype)
            return self.launch(user, m["p"], cmd, wrapper, m["root"], params)
        return None

    def launch(self, user: str, project: str | None, cmd: dict, wrapper: dict, root: str, params: dict):
        report = {"params": params, "id": None, "command-id": cmd["id"], "wrapper-id": wrapper["id"]}
        target = params.get(root)
        if not target:
            return 500, {**report, "status": "failure", "message": f"No value for the root input '{root}'"}
        experiment = self._experiment(target)
        readable = [p for p in (experiment.project, *experiment.shares) if roles.role_of(self.emu, user, p)]
        if project is not None and (project not in readable):
            raise XnatError(403, f"User '{user}' has insufficient privileges for project '{project}'")
        if not readable:
            raise XnatError(403, f"User '{user}' has insufficient privileges for this session")
        if not roles.may_edit(self.emu, user, experiment.project):
            return 403, {**report, "status": "failure",
                         "message": f"User '{user}' may not edit session data in project '{experiment.project}': "
                                    f"'{wrapper['name']}' writes resources"}
        inputs = {}
        for spec in cmd.get("inputs", []):
            name = spec["name"]
            value = params.get(name, spec.get("default-value"))
            if spec.get("required") and value in (None, ""):
                return 500, {**report, "status": "failure", "message": f"Missing required input '{name}'"}
            if value not in (None, ""):
                inputs[name] = str(value)
        wfid = str(next(self._wf_ids))
        self.workflows[wfid] = {"wfid": int(wfid), "id": experiment.id, "externalId": experiment.project,
                                "dataType": experiment.xsi_type, "pipelineName": wrapper["name"],
                                "status": "Queued", "details": "", "percentageComplete": "",
                                "launchTime": int(time.time() * 1000), "createUser": user}
        session = self._stage(experiment)
        env = {**self.env, **self._token_env(user), "XNAT_HOST": self.emu.url, "SDU_XNAT_USERNAME": user}
        t = threading.Thread(target=self._run, args=(wfid, wrapper["name"], session, inputs, env), daemon=True,
                             name=f"xnatemu-wf-{wfid}")
        self._threads.append(t)
        t.start()
        return 200, {**report, "status": "success", "workflow-id": wfid}

    # --- running ----------------------------------------------------------------------------
    def _experiment(self, target: str) -> Experiment:
        m = re.search(r"(?:/projects/([^/]+)(?:/subjects/[^/]+)?)?/experiments/([^/]+)/?$", target)
        if m:
            return self.emu.archive.find_experiment(m.group(1), m.group(2))
        return self.emu.archive.find_experiment(None, target.strip("/"))

    def _token_env(self, user: str) -> dict:
        """An alias token of the launching user, as the Container Service gives each container."""
        alias, secret = secrets.token_hex(8), secrets.token_urlsafe(24)
        self.emu.tokens[alias] = {"secret": secret, "user": user, "expires": time.time() + 3600}
        return {"XNAT_USER": alias, "XNAT_PASS": secret}

    def _stage(self, e: Experiment) -> SessionRef:
        with self.emu.archive.lock:
            base = self.workdir / e.id
            staged = Path(tempfile.mkdtemp(prefix="input-", dir=_mkdir(base)))
            for scan in e.scans.values():
                for res in scan.resources.values():
                    _write(staged / "SCANS" / scan.id / res.label, res.files)
            for res in e.resources.values():
                _write(staged / "RESOURCES" / res.label, res.files)
            return SessionRef(f"/archive/experiments/{e.id}", e.id, e.project, e.label, staged, _mkdir(base / "work"))

    def _run(self, wfid: str, wrapper_name: str, session: SessionRef, inputs: dict, env: dict) -> None:
        wf = self.workflows[wfid]
        wf["status"] = "Running"
        status, details = "Failed", ""
        try:
            status, outputs = self.runner(wrapper_name, session, inputs, env)
            if status == "Complete":
                self._store(session.id, outputs)
        except Exception as exc:  # the runner's failure is the workflow's, never the emulator's
            status, details = "Failed", type(exc).__name__
        finally:
            shutil.rmtree(session.input, ignore_errors=True)
            self.emu.tokens.pop(env.get("XNAT_USER"), None)
            wf["details"], wf["status"] = details, status  # published last: the run is over

    def _store(self, experiment_id: str, outputs: dict) -> None:
        with self.emu.archive.lock:
            e = self.emu.archive.experiments[experiment_id]
            for label, content in outputs.items():
                files = content if isinstance(content, dict) else {
                    p.relative_to(content).as_posix(): p.read_bytes() for p in sorted(Path(content).rglob("*"))
                    if p.is_file()}
                res = self.emu.archive.new_resource(label, "JSON" if all(n.endswith(".json") for n in files) else "",
                                                    "SDU")
                res.files.update(files)
                e.resources[label] = res


def _params(query: dict, body: bytes, ctype: str) -> dict:
    query = {k: v for k, v in query.items() if k != "XNAT_CSRF"}  # XNAT's CSRF token, not a launch parameter
    if "json" in ctype and body:
        try:
            data = json.loads(body)
        except ValueError:
            raise XnatError(400, "The launch body is not JSON") from None
        if not isinstance(data, dict):
            raise XnatError(400, "The launch body must be a JSON object")
        return {**query, **{k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}}
    form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()} if body else {}
    return {k: v for k, v in {**query, **form}.items() if k != "XNAT_CSRF"}


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _write(folder: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        if name.startswith("/") or ".." in name.split("/"):
            continue  # a stored name never leaves the staging folder
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
