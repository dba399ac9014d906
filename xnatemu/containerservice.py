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

Permissions, as XNAT's: a launch needs read access to the session's project (the launch routes
check no more), so a read-only member (collaborator) can launch any wrapper. The output handlers
then upload as the launching user, so a collaborator's run ends ``Failed (Upload)`` with nothing
stored; and the SDU approve and upload commands refuse by themselves, asking XNAT the launching
user's project role (``sdu.xnat.access``), before they record or send anything.

A launch is resolved and staged as the Container Service does it (:class:`xnatemu.launcher.Resolver`:
the command JSON as installed, inputs, derived inputs, command line, environment, the session's
archive folder laid out as XNAT keeps it, build folders for the other mounts), the command's
``secrets`` come from :attr:`ContainerService.system_properties` (a missing one fails the launch),
and ``XNAT_HOST``, ``XNAT_USER``/``XNAT_PASS`` (an alias token of the launching user, withdrawn
when the run ends), ``XNAT_WORKFLOW_ID`` and ``XNAT_EVENT_ID`` are added. The run itself is a
pluggable ``runner(run: ContainerRun) -> (exit code, log)``, the container engine's part: the
default, :func:`xnatemu.sdurunner.run`, runs ``sdu-xnat`` (the images' entry point) as a local
process on the staged folders. Exit 0 is ``Complete`` and the output handlers store their files as
resources (replacing a resource of the same label); anything else is ``Failed (<last log line>)``.
No commands are installed until ``install()`` is called (:func:`xnatemu.sdurunner.sdu_commands`:
the images' own JSON from ``containers/commands``).
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
from .launcher import LaunchError, Mount, Resolver
from .store import Experiment, XnatError


@dataclass(frozen=True)
class ContainerRun:
    """What the container engine is given: the resolved command line, the container's whole
    environment, and its mounts as host folders."""

    wrapper: str
    command_line: str
    working_directory: str
    environment: dict[str, str]
    mounts: dict[str, Mount]
    inputs: dict[str, str]  # the command inputs' resolved values (replacement key -> value)
    folder: Path            # the run's own scratch (the container's tmpfs)

    def host_path(self, path: str) -> Path | None:
        """The host folder or file behind a path inside the container (None when no mount holds it)."""
        best = None
        for m in self.mounts.values():
            inside = m.path.rstrip("/")
            if path == inside or path.startswith(inside + "/"):
                if best is None or len(inside) > len(best.path.rstrip("/")):
                    best = m
        if best is None:
            return None
        rest = path[len(best.path.rstrip("/")):].lstrip("/")
        return best.host / rest if rest else best.host


class ContainerService:
    def __init__(self, emu, runner=None, workdir: str | Path | None = None):
        self.emu = emu
        if runner is None:
            from .sdurunner import run as runner  # sdu-xnat as a local process (stdlib imports only until it runs)
        self.runner = runner
        self.system_properties: dict[str, str] = {}  # XNAT's -D properties the commands' secrets read
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
        wfid = str(next(self._wf_ids))
        run_dir = Path(tempfile.mkdtemp(prefix=f"wf{wfid}-", dir=_mkdir(self.workdir)))
        try:
            resolver = Resolver(self.emu, [_as_installed(cmd)], run_dir)
            known = {i["name"] for i in cmd.get("inputs", [])} | {
                i["name"] for i in wrapper.get("external-inputs", [])}  # XNAT ignores other parameters
            r = resolver.resolve(wrapper["name"], {**{k: v for k, v in params.items() if k in known},
                                                   root: f"/experiments/{experiment.id}"})
            mounts = resolver.stage(r, run_dir)
            env = {**r["environment"], **resolver.secrets(r["command"], self.system_properties)}
        except LaunchError as exc:
            shutil.rmtree(run_dir, ignore_errors=True)
            return 500, {**report, "status": "failure", "message": str(exc)}
        self.workflows[wfid] = {"wfid": int(wfid), "id": experiment.id, "externalId": experiment.project,
                                "dataType": experiment.xsi_type, "pipelineName": wrapper["name"],
                                "status": "Queued", "details": "", "percentageComplete": "",
                                "launchTime": int(time.time() * 1000), "createUser": user}
        env.update({**self._token_env(user), "XNAT_HOST": self.emu.url, "XNAT_WORKFLOW_ID": wfid,
                    "XNAT_EVENT_ID": str(secrets.randbelow(10**8))})
        run = ContainerRun(wrapper["name"], r["command_line"], r["working_directory"], env, mounts,
                           dict(r["values"]), _mkdir(run_dir / "tmp"))
        t = threading.Thread(target=self._run, args=(wfid, user, experiment, resolver, r, run), daemon=True,
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

    def _run(self, wfid: str, user: str, experiment: Experiment, resolver: Resolver, r: dict,
             run: ContainerRun) -> None:
        wf = self.workflows[wfid]
        wf["status"] = "Running"
        status, details = "Failed", ""
        try:
            code, log = self.runner(run)
            if code == 0:
                status = self._outputs(user, experiment, resolver, r, run)
            else:
                last = next((ln for ln in reversed(log.splitlines()) if ln.strip()), f"exit {code}")
                status, details = f"Failed ({last.removeprefix('sdu-xnat: ')[:300]})", f"exit code {code}"
        except Exception as exc:  # the runner's failure is the workflow's, never the emulator's
            status, details = "Failed", type(exc).__name__
        finally:
            self.emu.tokens.pop(run.environment.get("XNAT_USER"), None)
            shutil.rmtree(run.folder.parent, ignore_errors=True)
            wf["details"], wf["status"] = details, status  # published last: the run is over

    def _outputs(self, user: str, experiment: Experiment, resolver: Resolver, r: dict, run: ContainerRun) -> str:
        """The output handlers: each output's files as a resource of the session, uploaded as the
        launching user (who needs edit rights, as in XNAT)."""
        found, failures = resolver.output_files(r, run.mounts)
        if failures or (found and not roles.may_edit(self.emu, user, experiment.project)):
            return "Failed (Upload)"
        with self.emu.archive.lock:
            e = self.emu.archive.experiments[experiment.id]
            for out in found:
                res = self.emu.archive.new_resource(out.label, out.format, out.content)
                res.files.update({name: path.read_bytes() for name, path in out.files.items()})
                e.resources[out.label] = res
        return "Complete"


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


def _as_installed(cmd: dict) -> dict:
    """The command JSON without the IDs the emulator gave it at install."""
    out = {k: v for k, v in cmd.items() if k != "id"}
    out["xnat"] = [{k: v for k, v in w.items() if k != "id"} for w in cmd.get("xnat", [])]
    return out
