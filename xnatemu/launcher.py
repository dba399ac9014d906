"""Launch a command image as XNAT's Container Service would, against an :class:`~xnatemu.Emulator`.

Follows NrgXnat/container-service ``docs/command-resolution.md`` and
``docs/how-the-container-service-launches-docker-containers.md`` (3.7.3):

1. The command comes from the image's ``org.nrg.commands`` label and must pass
   :func:`xnatemu.commands.check` (the schema and ``Command.validate()``).
2. External wrapper inputs: default value, then the value sent at launch; a ``Session`` value (its
   ID or URI) becomes the session object (``id``, ``label``, ``xsiType``, ``uri``, ``directory``,
   ``project-id``). Derived inputs of a basic type take ``derived-from-xnat-object-property`` of
   their parent. Command inputs: default, then the launch value, then the value a wrapper input
   provides; a required input without a value refuses the launch. Matchers are not evaluated (a
   command with one is refused here, never silently accepted).
3. Replacement keys (``#name#`` or an input's ``replacement-key``) are replaced by raw values in the
   environment, ports, working directory, output paths and handler labels; in the command line by
   the command inputs' values with their ``command-line-flag``/``-separator`` (wrapper inputs are
   not command-line values there, as in ``CommandResolutionServiceImpl.findResolvedValues``).
4. Mounts: a mount an input provides files for gets that object's ``directory`` (the session's
   archive folder, written from the emulator as XNAT lays it out: ``SCANS/<id>/DICOM/*.dcm`` +
   ``scan_<id>_catalog.xml``, ``RESOURCES/<label>/`` + catalog), read-only unless ``writable``
   (then a copy); every other mount is a fresh writable build folder.
5. The container gets the resolved environment, ``XNAT_HOST``, ``XNAT_USER``/``XNAT_PASS`` (an alias
   token issued for the launching user and invalidated when the container ends),
   ``XNAT_WORKFLOW_ID``, ``XNAT_EVENT_ID``, the command's ``secrets`` (system properties given to
   the launcher) and runs ``/bin/sh -c "<command line>"`` (entrypoint overridden when the command
   says so), here with a read-only root filesystem, no new privileges, and the command's
   ``network`` (else the launcher's).
6. Only when it exits 0 (``Complete``) the output handlers upload each output's files as a resource
   of their ``as-a-child-of`` object, over the emulator's REST API as the launching user; a
   required output without files makes it ``Failed (Upload)``.
"""
from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import quoteattr

from .commands import check, replacement_key

LABEL = "org.nrg.commands"
CATALOG_NS = "http://nrg.wustl.edu/catalog"


class LaunchError(Exception):
    """The Container Service would refuse this launch (resolution failed)."""


@dataclass(frozen=True)
class Engine:
    """How to call podman or docker here: ``argv`` before the subcommand, ``run_args`` after ``run``."""

    argv: tuple[str, ...]
    run_args: tuple[str, ...] = ()

    @classmethod
    def detect(cls) -> "Engine":
        if shutil.which("podman"):
            argv = ("podman",)
            if os.geteuid() == 0:  # rootful podman on this kind of machine: vfs, cgroupfs, runc
                argv += ("--storage-driver=vfs", "--cgroup-manager=cgroupfs", "--runtime=runc")
            return cls(argv, ("--ulimit", "nofile=1024:20000", "--ulimit", "nproc=4096:4096"))
        if shutil.which("docker"):
            return cls(("docker",))
        raise LaunchError("neither podman nor docker is installed")

    def __call__(self, *args: str, **kw) -> subprocess.CompletedProcess:
        return subprocess.run([*self.argv, *args], capture_output=True, text=True, **kw)


def image_commands(engine: Engine, image: str) -> list[dict]:
    """The commands an image declares in its ``org.nrg.commands`` label (how XNAT installs them)."""
    done = engine("image", "inspect", "--format", "{{ json .Config.Labels }}", image)
    if done.returncode != 0:
        raise LaunchError(f"image {image} not found: {done.stderr.strip()[:200]}")
    labels = json.loads(done.stdout or "{}") or {}
    if LABEL not in labels:
        raise LaunchError(f"image {image} has no {LABEL} label")
    return json.loads(labels[LABEL])


@dataclass
class LaunchResult:
    command: str
    wrapper: str
    exit_code: int
    status: str
    stdout: str
    stderr: str
    command_line: str
    environment: dict[str, str]  # names and values the command resolved (no XNAT_PASS, no secrets)
    network: str
    mounts: dict[str, tuple[str, bool]]  # mount name -> (host folder, read-only)
    uploaded: dict[str, list[str]] = field(default_factory=dict)  # resource label -> files

    @property
    def complete(self) -> bool:
        return self.status == "Complete"


@dataclass(frozen=True)
class Mount:
    host: Path
    path: str  # inside the container
    read_only: bool


@dataclass(frozen=True)
class Output:
    """One output handler's upload: the files of its output, as a resource ``label`` of ``parent``."""

    parent: str  # the wrapper input whose object receives the resource
    label: str
    format: str
    content: str
    files: dict[str, Path]  # name in the resource -> file


class Resolver:
    """Resolves ``commands`` (Container Service JSON) on sessions of the emulated XNAT ``xnat`` and
    stages their mounts as host folders under ``workdir``: steps 1 to 4 above, without an engine."""

    def __init__(self, xnat, commands: list[dict], workdir: str | Path, source: str = "the installed commands"):
        self.xnat, self.workdir, self.source = xnat, Path(workdir), source
        self.commands = {c["name"]: check(c) for c in commands}

    # --- resolution ------------------------------------------------------------------------
    def _wrapper(self, name: str) -> tuple[dict, dict]:
        for command in self.commands.values():
            for wrapper in command.get("xnat", []):
                if wrapper["name"] == name:
                    return command, wrapper
        raise LaunchError(f"no wrapper {name!r} in {self.source}")

    def _session(self, value: str) -> dict:
        key = value.rstrip("/").rsplit("/", 1)[-1]
        with self.xnat.archive.lock:
            try:
                e = self.xnat.archive.find_experiment(None, key)
            except Exception:  # noqa: BLE001 - the store's XnatError
                raise LaunchError(f"input session: no session {value!r}") from None
            directory = self._write_archive(e)
        return {"id": e.id, "label": e.label, "xsiType": e.xsi_type, "uri": f"/experiments/{e.id}",
                "directory": str(directory), "project-id": e.project, "_type": "Session"}

    def _write_archive(self, e) -> Path:
        """The session's archive folder as XNAT lays it out (files and catalogs)."""
        root = self.workdir / "archive" / e.project / "arc001" / e.label
        if root.exists():
            shutil.rmtree(root)
        for scan in e.scans.values():
            for res in scan.resources.values():
                folder = root / "SCANS" / scan.id / res.label
                name = f"scan_{scan.id}_catalog.xml" if res.label == "DICOM" else f"{res.label}_catalog.xml"
                _write_resource(folder, res, name, "cat:DCMCatalog" if res.label == "DICOM" else "cat:Catalog")
        for res in e.resources.values():
            _write_resource(root / "RESOURCES" / res.label, res, f"{res.label}_catalog.xml", "cat:Catalog")
        (root / "SCANS").mkdir(parents=True, exist_ok=True)
        return root

    def resolve(self, wrapper_name: str, inputs: dict[str, str]) -> dict:
        command, wrapper = self._wrapper(wrapper_name)
        for group in ("external-inputs", "derived-inputs"):
            for i in wrapper.get(group, []):
                if i.get("matcher"):
                    raise LaunchError(f"wrapper input {i['name']!r} has a matcher: not evaluated by this launcher")
        unknown = set(inputs) - {i["name"] for i in command.get("inputs", [])} - {
            i["name"] for g in ("external-inputs", "derived-inputs") for i in wrapper.get(g, [])}
        if unknown:
            raise LaunchError(f"unknown launch inputs: {', '.join(sorted(unknown))}")
        objects: dict[str, dict] = {}
        values: dict[str, str] = {}  # replacement key -> raw value
        provided: dict[str, str] = {}  # command input -> value from a wrapper input
        mounts_from: dict[str, str] = {}  # mount name -> wrapper input
        for i in wrapper.get("external-inputs", []):
            value = inputs.get(i["name"], i.get("default-value"))
            if value in (None, "") and i.get("required"):
                raise LaunchError(f"required wrapper input {i['name']!r} has no value")
            value = "" if value is None else str(value)
            if i["type"] == "Session" and value:
                objects[i["name"]] = self._session(value)
                value = objects[i["name"]]["uri"]
            elif i["type"] not in ("string", "boolean", "number"):
                raise LaunchError(f"wrapper input type {i['type']} is not emulated")
            self._bind(i, value, values, provided, mounts_from)
        for i in wrapper.get("derived-inputs", []):
            parent = objects.get(i["derived-from-wrapper-input"])
            prop = i.get("derived-from-xnat-object-property")
            if parent is None or i["type"] not in ("string", "number", "boolean") or not prop:
                raise LaunchError(f"derived input {i['name']!r}: only basic values derived from an object's "
                                  "property are emulated")
            if prop not in parent or prop.startswith("_"):
                raise LaunchError(f"derived input {i['name']!r}: a {parent['_type']} has no property {prop!r}")
            self._bind(i, str(parent[prop]), values, provided, mounts_from)
        command_line_values: dict[str, str] = {}
        for i in command.get("inputs", []):
            value = i.get("default-value")
            if i["name"] in inputs:
                value = inputs[i["name"]]
            if i["name"] in provided:
                value = provided[i["name"]]
            value = "" if value is None else str(value)
            if i.get("required") and value == "":
                raise LaunchError(f"required input {i['name']!r} has no value")
            if i.get("type") == "boolean" and value:
                truth = value.lower() == "true"
                value = (i.get("true-value") or "true") if truth else (i.get("false-value") or "false")
            key = replacement_key(i)
            values[key] = value
            flag = i.get("command-line-flag")
            sep = i.get("command-line-separator")
            command_line_values[key] = "" if value == "" else (
                f"{flag}{' ' if sep is None else sep}{value}" if flag else value)
        return {"command": command, "wrapper": wrapper, "objects": objects, "values": values,
                "command_line": _fill(command.get("command-line") or "", command_line_values),
                "environment": {_fill(k, values): _fill(v, values)
                                for k, v in (command.get("environment-variables") or {}).items()},
                "working_directory": _fill(command.get("working-directory") or "", values),
                "mounts_from": mounts_from}

    @staticmethod
    def _bind(i: dict, value: str, values: dict, provided: dict, mounts_from: dict) -> None:
        values[replacement_key(i)] = value
        if i.get("provides-value-for-command-input"):
            provided[i["provides-value-for-command-input"]] = value
        if i.get("provides-files-for-command-mount"):
            mounts_from[i["provides-files-for-command-mount"]] = i["name"]

    def stage(self, r: dict, run_dir: str | Path) -> dict[str, Mount]:
        """The resolved command's mounts as host folders: an input mount is the object's folder
        (read-only) or a copy of it (writable), every other mount a fresh build folder."""
        run_dir = Path(run_dir)
        mounts: dict[str, Mount] = {}
        for m in r["command"].get("mounts", []):
            source = r["mounts_from"].get(m["name"])
            if source is not None:
                host = Path(r["objects"][source]["directory"])
                read_only = not m.get("writable")
                if not read_only:  # a writable input mount is a copy, never the archive
                    copy = run_dir / "inputs" / m["name"]
                    shutil.copytree(host, copy)
                    _open_up(copy)
                    host = copy
            else:
                host, read_only = run_dir / "build" / m["name"], False
                host.mkdir(parents=True)
                host.chmod(0o777)  # the image runs as a non-root user
            mounts[m["name"]] = Mount(host, _fill(m["path"], r["values"]), read_only)
        return mounts

    def secrets(self, command: dict, system_properties: dict[str, str]) -> dict[str, str]:
        """The command's ``secrets`` as environment variables; a missing system property fails the launch."""
        out = {}
        for s in command.get("secrets", []):
            prop = s["source"]["identifier"]
            if prop not in system_properties:
                raise LaunchError(f"secret {prop}: no such system property (the launch fails)")
            out[s["destination"]["identifier"]] = system_properties[prop]
        return out

    def output_files(self, r: dict, mounts: dict[str, Mount]) -> tuple[list[Output], list[str]]:
        """What the output handlers would upload after a Complete run, and the failures (a required
        output without files, an unemulated handler)."""
        outputs = {o["name"]: o for o in r["command"].get("outputs", [])}
        found: list[Output] = []
        failures = []
        for h in r["wrapper"].get("output-handlers", []):
            if h["type"] != "Resource":
                failures.append(f"handler {h['name']}: only Resource outputs are emulated")
                continue
            o = outputs[h["accepts-command-output"]]
            base = mounts[o["mount"]].host / _fill(o.get("path") or "", r["values"])
            files = sorted(p for p in base.rglob("*") if p.is_file()) if base.is_dir() else (
                [base] if base.is_file() else [])
            if o.get("glob"):
                files = [p for p in files if fnmatch.fnmatch(p.relative_to(base).as_posix(), o["glob"])]
            if not files:
                if o.get("required", True):
                    failures.append(f"required output {o['name']} has no files")
                continue
            if r["objects"].get(h["as-a-child-of"]) is None:
                failures.append(f"handler {h['name']}: as-a-child-of {h['as-a-child-of']} is not an object")
                continue
            found.append(Output(h["as-a-child-of"], _fill(h["label"], r["values"]),
                                _fill(h.get("format") or "", r["values"]), _fill(h.get("content") or "", r["values"]),
                                {(p.relative_to(base).as_posix() if base.is_dir() else p.name): p for p in files}))
        return found, failures


class Launcher(Resolver):
    """Resolves and runs commands of ``image`` on sessions of the emulated XNAT ``xnat``."""

    def __init__(self, xnat, image: str, workdir: str | Path, engine: Engine | None = None,
                 system_properties: dict[str, str] | None = None, network: str = "host",
                 extra_mounts: tuple[tuple[str, str], ...] = (), timeout: float = 900):
        self.image = image
        self.engine = engine or Engine.detect()
        self.system_properties = dict(system_properties or {})
        self.network, self.extra_mounts, self.timeout = network, tuple(extra_mounts), timeout
        super().__init__(xnat, image_commands(self.engine, image), workdir, f"image {image}")

    # --- the run -----------------------------------------------------------------------------
    def launch(self, wrapper_name: str, inputs: dict[str, str], user: str, password: str) -> LaunchResult:
        r = self.resolve(wrapper_name, inputs)
        command, wrapper = r["command"], r["wrapper"]
        run_dir = self.workdir / "containers" / uuid.uuid4().hex[:12]
        staged = self.stage(r, run_dir)
        mounts = {name: (str(m.host), m.read_only) for name, m in staged.items()}
        args: list[str] = []
        for m in staged.values():
            args += ["-v", f"{m.host}:{m.path}:{'ro' if m.read_only else 'rw'}"]
        for host, path in self.extra_mounts:
            args += ["-v", f"{host}:{path}:ro"]
        token = self._token(user, password)
        env = dict(r["environment"])
        secret_env = self.secrets(command, self.system_properties)
        xnat_env = {"XNAT_HOST": self.xnat.url, "XNAT_USER": token["alias"], "XNAT_PASS": token["secret"],
                    "XNAT_WORKFLOW_ID": str(uuid.uuid4().int % 10**8), "XNAT_EVENT_ID": str(uuid.uuid4().int % 10**8)}
        all_env = {**env, **secret_env, **xnat_env}
        for name in all_env:  # values travel in the engine's environment, never on its command line
            args += ["-e", name]
        network = command.get("network") or self.network
        argv = ["run", "--rm", "--read-only", "--tmpfs", "/tmp:rw,mode=1777", "--security-opt", "no-new-privileges",
                "--network", network, *self.engine.run_args, *args]
        if r["working_directory"]:
            argv += ["-w", r["working_directory"]]
        if command.get("override-entrypoint"):
            argv += ["--entrypoint", ""]
        argv += [self.image, "/bin/sh", "-c", r["command_line"]]
        try:
            done = self.engine(*argv, env={**os.environ, **all_env}, timeout=self.timeout)
        finally:
            self._invalidate(token)
        result = LaunchResult(command["name"], wrapper["name"], done.returncode,
                              "Complete" if done.returncode == 0 else "Failed", done.stdout, done.stderr,
                              r["command_line"], env, network, mounts)
        if result.exit_code == 0:
            self._outputs(r, staged, result, user, password)
        return result

    def _token(self, user: str, password: str) -> dict:
        import requests

        answer = requests.get(f"{self.xnat.url}/data/services/tokens/issue", auth=(user, password), timeout=30)
        if answer.status_code != 200:
            raise LaunchError(f"the XNAT refused to issue an alias token (HTTP {answer.status_code})")
        return answer.json()

    def _invalidate(self, token: dict) -> None:
        import requests

        requests.get(f"{self.xnat.url}/data/services/tokens/invalidate/{token['alias']}/{token['secret']}",
                     auth=(token["alias"], token["secret"]), timeout=30)

    def _outputs(self, r: dict, mounts: dict[str, Mount], result: LaunchResult, user: str, password: str) -> None:
        import requests

        found, failures = self.output_files(r, mounts)
        for out in found:
            for rel, path in out.files.items():
                with open(path, "rb") as f:
                    answer = requests.put(f"{self.xnat.url}/data{r['objects'][out.parent]['uri']}/resources/"
                                          f"{out.label}/files/{rel}",
                                          params={"overwrite": "true", "format": out.format, "content": out.content},
                                          data=f, auth=(user, password), timeout=600)
                if answer.status_code >= 300:
                    failures.append(f"output {out.label}: upload answered HTTP {answer.status_code}")
                    break
                result.uploaded.setdefault(out.label, []).append(rel)
        if failures:
            result.status = "Failed (Upload)"
            result.stderr += "".join(f"\n[launcher] {f}" for f in failures)


def _fill(template: str, values: dict[str, str]) -> str:
    """Replace every replacement key (longest first, so ``#a#`` never eats part of ``#ab#``)."""
    if not values:
        return template
    pattern = re.compile("|".join(re.escape(k) for k in sorted(values, key=len, reverse=True)))
    return pattern.sub(lambda m: values[m.group(0)], template)


def _open_up(folder: Path) -> None:
    for dirpath, dirnames, filenames in os.walk(folder):
        os.chmod(dirpath, 0o777)
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), 0o666)


def _write_resource(folder: Path, res, catalog_name: str, element: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    for name, data in sorted(res.files.items()):
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        entries.append(f'    <cat:entry URI={quoteattr(name)} ID={quoteattr(name)} digest="{res.digest(name)}"'
                       f' format={quoteattr(res.format or "")} content={quoteattr(res.content or "")}/>')
    (folder / catalog_name).write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<{element} xmlns:cat="{CATALOG_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'ID={quoteattr(res.label)}>\n  <cat:entries>\n' + "\n".join(entries) + "\n  </cat:entries>\n"
        f"</{element}>\n", encoding="utf-8")
