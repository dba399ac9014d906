"""The HTTP side: XNAT's REST paths, authentication and status codes on a stdlib ThreadingHTTPServer.

Paths and answers follow XNAT 1.8 (NrgXnat/xnat-web: ``org/nrg/xnat/restlet/XNATApplication.java``
routes ``/data/…`` and its ``/REST/…``, ``/data/archive/…`` aliases; ``services/ImportResource``,
``ArchiveResource``, ``prearchive/*``; ``ProjectSubjectResource``/``ProjectExperimentResource``
sharing via ``…/projects/{dest}``; ``AliasTokenRestlet`` for ``/data/services/tokens/issue``;
``JSESSION`` for ``/data/JSESSION``) and what the clients expect: xnatpy 0.8.1 (``xnat/__init__.py``
``connect``/``check_auth``/``_create_jsession``: ``PUT /data/services/auth`` answers the session
ID, ``GET /data/auth`` names the logged-in user; ``xnat/services.py`` ``import_``: the import
service answers the new session's URI as text) and pyxnat (``pyxnat/core/interfaces.py``,
``resources.py``). Status codes: 401 unauthenticated, 403 no access to the project, 404 unknown
object, 409 conflict (a session that exists with ``overwrite=none``, a label already used), 400
unreadable upload.

Emulator-only paths (``/emulator/requests``) let tests read the request log: method, path, status,
bytes in and out. Credentials never enter it.
"""
from __future__ import annotations

import base64
import json
import re
import secrets
import socket
import threading
import time
import uuid
from email.parser import BytesParser
from email.policy import HTTP
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources as package_files
from urllib.parse import parse_qs, unquote, urlsplit

from . import configservice, containerservice, roles, shapes
from .store import Archive, Scan, XnatError

XNAT_VERSION = "1.8.10"
#: Searchable data types (``GET /data/search/elements``): the session types the emulator files.
SEARCH_ELEMENTS = ("xnat:projectData", "xnat:subjectData", "xnat:ctSessionData", "xnat:mrSessionData",
                   "xnat:petSessionData", "xnat:otherDicomSessionData")


class Emulator:
    """An emulated XNAT on ``host:port`` (port 0: a free one). ``start()``/``stop()`` or ``with``."""

    def __init__(self, user: str = "admin", password: str = "admin", host: str = "127.0.0.1", port: int = 0,
                 ssl_context=None):
        self.archive = Archive()
        self.users: dict[str, dict] = {user: {"password": password, "admin": True, "projects": set()}}
        self.sessions: dict[str, str] = {}
        self.tokens: dict[str, dict] = {}
        self.requests: list[dict] = []
        self._faults: list[int] = []
        self._log_lock = threading.Lock()
        self.httpd = ThreadingHTTPServer((host, port), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.emulator = self
        self.scheme = "http"
        if ssl_context is not None:  # HTTPS, as a real central XNAT answers
            self.httpd.socket = ssl_context.wrap_socket(self.httpd.socket, server_side=True)
            self.scheme = "https"
        self._thread: threading.Thread | None = None
        self.config = configservice.ConfigStore()  # XNAT's config service
        self.containers = containerservice.ContainerService(self)  # .install(command), .runner, .env

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.httpd.server_address[0]}:{self.port}"

    def add_user(self, name: str, password: str, projects: set[str] | None = None, admin: bool = False) -> None:
        self.users[name] = {"password": password, "admin": admin, "projects": set(projects or ())}

    def set_role(self, project: str, user: str, role: str) -> None:
        """Make ``user`` an owner, member or collaborator (read-only) of ``project``."""
        roles.set_role(self, project, user, role)

    def fail_next(self, count: int = 1, status: int = 503) -> None:
        """Answer the next ``count`` API requests with ``status`` (a transient server error)."""
        self._faults.extend([status] * count)

    def clear_requests(self) -> None:
        with self._log_lock:
            self.requests.clear()

    def start(self) -> "Emulator":
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="xnatemu", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _log(self, entry: dict) -> None:
        with self._log_lock:
            self.requests.append(entry)


def _schema(name: str) -> bytes:
    return package_files.files(__package__).joinpath("schemas", f"{name}.xsd").read_bytes()


class _Reply(Exception):
    def __init__(self, status: int, body: bytes | str | dict | list = b"", ctype: str | None = None,
                 headers: dict | None = None):
        self.status, self.headers, self.obj = status, headers or {}, body
        if isinstance(body, (dict, list)):
            body, ctype = json.dumps(body).encode(), ctype or "application/json"
        elif isinstance(body, str):
            body, ctype = body.encode(), ctype or "text/plain"
        self.body, self.ctype = body, ctype or "text/plain"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "XNAT-emulator"

    def setup(self):
        super().setup()
        # Headers and body go out as separate writes: without this, Nagle's algorithm and the
        # client's delayed ACK hold each small answer for ~40 ms on a kept-alive connection.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args):  # the request log replaces stderr lines
        pass

    def do_GET(self):
        self._serve("GET")

    def do_PUT(self):
        self._serve("PUT")

    def do_POST(self):
        self._serve("POST")

    def do_DELETE(self):
        self._serve("DELETE")

    def do_HEAD(self):
        self._serve("HEAD")

    # --- plumbing ---------------------------------------------------------------------------
    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length) if length else b""
        if len(data) != length:
            raise ConnectionError("request body cut short")
        return data

    def _serve(self, method: str) -> None:
        emu: Emulator = self.server.emulator
        split = urlsplit(self.path)
        path = unquote(split.path)
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        try:
            body = self._read_body() if method in ("PUT", "POST", "DELETE") else b""
        except (ConnectionError, ValueError, OSError):
            self.close_connection = True
            emu._log({"method": method, "path": path, "status": 0, "bytes_in": 0, "bytes_out": 0})
            return
        headers = {}
        try:
            if path.startswith("/emulator/"):
                self._emulator_api(emu, method, path)
            if emu._faults and path != "/":
                raise _Reply(emu._faults.pop(0), "Service temporarily unavailable")
            with emu.archive.lock:
                self._route(emu, method, path, query, body, headers)
            raise _Reply(404, "Not found")
        except _Reply as reply:
            status, out, ctype = reply.status, reply.body, reply.ctype
            if query.get("format") == "csv" and isinstance(reply.obj, dict) and "ResultSet" in reply.obj:
                out, ctype = shapes.result_csv(reply.obj), "text/csv"
            headers.update(reply.headers)
        except XnatError as exc:
            status, out, ctype = exc.status, exc.message.encode(), "text/plain"
        except Exception as exc:  # an emulator bug: answer 500 as XNAT would, keep serving
            status, out, ctype = 500, f"Internal server error ({type(exc).__name__})".encode(), "text/plain"
        if status == 401:
            headers.setdefault("WWW-Authenticate", 'Basic realm="XNAT"')
        if not path.startswith("/emulator/"):  # logged before answering: the log's order is the clients'
            emu._log({"method": method, "path": path, "status": status, "bytes_in": len(body), "bytes_out": len(out)})
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(out)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(out)

    def _emulator_api(self, emu: Emulator, method: str, path: str) -> None:
        if path == "/emulator/requests":
            if method == "DELETE":
                emu.clear_requests()
                raise _Reply(200, [])
            with emu._log_lock:
                raise _Reply(200, list(emu.requests))
        raise _Reply(404, "Not found")

    def _user(self, emu: Emulator, headers: dict) -> str | None:
        """The authenticated user: basic auth (password or alias token) or a JSESSIONID cookie."""
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            try:
                name, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            except ValueError:
                raise _Reply(401, "Bad authorization header") from None
            user = self._check_password(emu, name, password)
            if user is None:
                raise _Reply(401, "Login attempt failed. Please try again.")
            if not self._cookie_user(emu):
                jsession = secrets.token_hex(16).upper()
                emu.sessions[jsession] = user
                headers["Set-Cookie"] = f"JSESSIONID={jsession}; Path=/; HttpOnly"
            return user
        return self._cookie_user(emu)

    @staticmethod
    def _check_password(emu: Emulator, name: str, password: str) -> str | None:
        entry = emu.users.get(name)
        if entry and secrets.compare_digest(entry["password"], password):
            return name
        token = emu.tokens.get(name)
        if token and secrets.compare_digest(token["secret"], password) and token["expires"] > time.time():
            return token["user"]
        return None

    def _cookie_user(self, emu: Emulator) -> str | None:
        cookie = SimpleCookie(self.headers.get("Cookie", ""))
        morsel = cookie.get("JSESSIONID")
        return emu.sessions.get(morsel.value) if morsel else None

    # --- routes -----------------------------------------------------------------------------
    def _route(self, emu: Emulator, method: str, path: str, query: dict, body: bytes, headers: dict) -> None:
        if path in ("/", "/app/template/Login.vm"):
            raise _Reply(200, "<html><head><title>XNAT</title></head><body>XNAT emulator</body></html>", "text/html")
        path = re.sub(r"^/REST(/|$)", r"/data\1", path)
        path = re.sub(r"^/data/archive(/|$)", r"/data\1", path)
        if path == "/data/services/auth" and method in ("PUT", "POST"):
            form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
            user = self._check_password(emu, form.get("username", ""), form.get("password", ""))
            if user is None:
                raise _Reply(401, "<html><body><h3>Login attempt failed. Please try again.</h3></body></html>",
                             "text/html")
            jsession = secrets.token_hex(16).upper()
            emu.sessions[jsession] = user
            raise _Reply(200, jsession, headers={"Set-Cookie": f"JSESSIONID={jsession}; Path=/; HttpOnly"})
        user = self._user(emu, headers)
        if user is None:
            raise _Reply(401, "Authentication required")
        if path == "/data/JSESSION":
            cookie = self._cookie_user(emu) and SimpleCookie(self.headers.get("Cookie", ""))["JSESSIONID"].value
            if method == "DELETE":
                if cookie:
                    emu.sessions.pop(cookie, None)
                raise _Reply(200, "")
            jsession = cookie or re.sub(r"JSESSIONID=([^;]+).*", r"\1", headers.get("Set-Cookie", ""))
            raise _Reply(200, jsession)
        if path == "/data/auth":
            raise _Reply(200, f"User '{user}' is logged in")
        if path == "/data/version":
            raise _Reply(200, XNAT_VERSION)
        if path in ("/xapi/siteConfig/buildInfo", "/data/buildInfo"):
            raise _Reply(200, {"version": XNAT_VERSION, "buildNumber": "emulator", "commit": "emulator",
                               "isDirty": "false"})
        if path == "/xapi/siteConfig/uptime":
            raise _Reply(200, {"days": 0, "hours": 0, "minutes": 0, "seconds": 1})
        if path == "/xapi/schemas":
            raise _Reply(200, ["xnat", "xdat"])
        m = re.fullmatch(r"/xapi/schemas/(\w+)|/schemas/(\w+)/\w+\.xsd", path)
        if m:
            try:
                raise _Reply(200, _schema(m.group(1) or m.group(2)), "application/xml")
            except FileNotFoundError:
                raise _Reply(404, "No such schema") from None
        if path == "/data/search/elements":
            rows = [{"ELEMENT_NAME": name, "PLURAL": name.split(":")[1], "SINGULAR": name.split(":")[1],
                     "COUNT": "0", "SECURED": "true", "SEARCHABLE": "true"} for name in SEARCH_ELEMENTS]
            raise _Reply(200, shapes.result_set(rows, "Elements"))
        m = re.fullmatch(r"/data/search/elements/([\w:]+)", path)
        if m:
            if m.group(1) not in SEARCH_ELEMENTS:
                raise _Reply(404, "Unknown element")
            rows = [{"FIELD_ID": f, "HEADER": f, "SUMMARY": "", "TYPE": "string", "REQUIRES_VALUE": "false",
                     "DESC": "", "ELEMENT_NAME": m.group(1), "SRC": "0"} for f in ("ID", "LABEL", "PROJECT")]
            raise _Reply(200, shapes.result_set(rows, "Fields"))
        for extension in (configservice.serve, roles.serve):  # /data/…/config/…, /data/projects/{p}/users…
            answer = extension(emu, user, method, path, query, body)
            if answer is not None:
                raise _Reply(*answer)
        answer = emu.containers.serve(user, method, path, query, body, self.headers.get("Content-Type", ""))
        if answer is not None:  # /xapi/commands, …/launch, /xapi/workflows/{id}
            raise _Reply(*answer)
        if path == "/data/services/tokens/issue":
            alias, secret = str(uuid.uuid4()), secrets.token_urlsafe(32)
            expires = time.time() + 48 * 3600
            emu.tokens[alias] = {"secret": secret, "user": user, "expires": expires}
            raise _Reply(200, {"alias": alias, "secret": secret, "xdatUserId": user, "singleUse": False,
                               "estimatedExpirationTime": int(expires * 1000), "enabled": True})
        m = re.fullmatch(r"/data/services/tokens/invalidate/([^/]+)/([^/]+)", path)
        if m:
            emu.tokens.pop(m.group(1), None)
            raise _Reply(200, "")
        if path == "/data/services/import" and method == "POST":
            self._import(emu, user, query, body)
        if path == "/data/services/archive" and method == "POST":
            self._archive(emu, user, query)
        if path.startswith("/data/prearchive"):
            self._prearchive(emu, user, method, path)
        if path == "/data/experiments" and method == "GET":
            rows = [shapes.experiment_row(e, e.project, e.label) for e in emu.archive.experiments.values()
                    if self._may(emu, user, e.project)]
            raise _Reply(200, shapes.result_set(rows, "Experiments"))
        if path.startswith("/data/"):
            self._objects(emu, user, method, path[len("/data/"):].split("/"), query, body)

    @staticmethod
    def _may(emu: Emulator, user: str, project: str) -> bool:
        entry = emu.users.get(user, {})
        return bool(entry.get("admin")) or project in entry.get("projects", ())

    def _need(self, emu: Emulator, user: str, project: str) -> None:
        emu.archive.project(project)
        if not self._may(emu, user, project):
            raise _Reply(403, f"User '{user}' has insufficient privileges for project '{project}'")

    def _import(self, emu: Emulator, user: str, query: dict, body: bytes) -> None:
        handler = query.get("import-handler", "")
        if handler not in ("DICOM-zip", "gradual-DICOM", ""):
            raise _Reply(400, f"Unsupported import-handler '{handler}'")
        body = self._multipart_file(body) if "multipart/form-data" in self.headers.get("Content-Type", "") else body
        dest = query.get("dest", "")
        project, subject, session = query.get("project"), query.get("subject"), query.get("session")
        to_archive = True
        if dest:
            m = re.fullmatch(r"/archive/projects/([^/]+)(?:/subjects/([^/]+)(?:/experiments/([^/]+))?)?/?", dest)
            p = re.fullmatch(r"/prearchive(?:/projects/([^/]+))?/?", dest)
            if m:
                project, subject, session = m.group(1), m.group(2) or subject, m.group(3) or session
            elif p:
                project, to_archive = p.group(1) or project, False
            else:
                raise _Reply(400, f"Invalid destination '{dest}'")
        direct = (query.get("Direct-Archive") or self.headers.get("Direct-Archive") or "").lower() == "true"
        to_archive = to_archive or direct
        if not project:
            raise _Reply(400, "The import service needs a project (project= or dest=)")
        self._need(emu, user, project)
        roles.need_edit(emu, user, project)
        ignore = (query.get("Ignore-Unparsable") or "").lower() == "true"
        uri = emu.archive.import_zip(body, project, subject, session, to_archive, query.get("overwrite", "none"),
                                     ignore)
        raise _Reply(200, uri + "\r\n")

    def _archive(self, emu: Emulator, user: str, query: dict) -> None:
        m = re.fullmatch(r"(?:/data)?/prearchive/projects/([^/]+)/([^/]+)/([^/]+)/?", query.get("src", ""))
        if not m:
            raise _Reply(400, "src must name a prearchive session (/prearchive/projects/P/TIMESTAMP/SESSION)")
        project = query.get("project") or m.group(1)
        self._need(emu, user, project)
        uri = emu.archive.archive_prearchive(m.group(1), m.group(2), m.group(3), query.get("overwrite", "none"),
                                             query.get("subject"), query.get("session") or query.get("label"))
        raise _Reply(200, uri + "\r\n")

    def _prearchive(self, emu: Emulator, user: str, method: str, path: str) -> None:
        parts = path.split("/")[3:]  # after /data/prearchive
        if parts and parts[0] == "projects":
            parts = parts[1:]
        rows = []
        for e in emu.archive.prearchive:
            if parts and e.project != parts[0] or not self._may(emu, user, e.project):
                continue
            rows.append({"project": e.project, "timestamp": e.timestamp, "lastmod": e.uploaded,
                         "uploaded": e.uploaded, "scan_date": "", "scan_time": "", "subject": e.subject,
                         "folderName": e.folder, "name": e.session, "tag": "", "status": e.status,
                         "url": f"/prearchive/projects/{e.project}/{e.timestamp}/{e.folder}", "autoarchive": "Manual",
                         "prevent_anon": "false", "prevent_auto_commit": "false", "SOURCE": "", "VISIT": "",
                         "PROTOCOL": "", "TIMEZONE": ""})
        if len(parts) <= 1 and method == "GET":
            raise _Reply(200, shapes.result_set(rows, "Prearchive"))
        if len(parts) == 3:
            entry = emu.archive.find_prearchive(*parts)
            if method == "DELETE":
                emu.archive.prearchive.remove(entry)
                raise _Reply(200, "")
            raise _Reply(200, shapes.result_set([r for r in rows if r["timestamp"] == parts[1]
                                                 and r["folderName"] == parts[2]]))
        raise _Reply(404, "Not found")

    def _multipart_file(self, body: bytes) -> bytes:
        ctype = self.headers.get("Content-Type", "")
        msg = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body)
        for part in msg.iter_parts():
            if part.get_filename() is not None or part.get_param("name", header="content-disposition"):
                return part.get_payload(decode=True) or b""
        raise _Reply(400, "No file in the multipart body")

    def _objects(self, emu: Emulator, user: str, method: str, segs: list[str], query: dict, body: bytes) -> None:
        """``projects/{p}[/subjects/{s}[/experiments/{e}[/scans/{n}]]][/resources/{r}[/files/{path}]]``,
        ``subjects/{id}/…``, ``experiments/{id}/…`` and the sharing tail ``…/projects/{dest}``."""
        a = emu.archive
        fmt_json = query.get("format", "json" if method == "GET" else "") == "json"
        project = subject = experiment = scan = None
        i = 0
        if segs[:1] == ["projects"]:
            if len(segs) == 1 or segs[1] == "":
                if method == "GET":
                    rows = [shapes.project_row(p) for pid, p in a.projects.items() if self._may(emu, user, pid)]
                    raise _Reply(200, shapes.result_set(rows, "Projects"))
                raise _Reply(405, "Method not allowed")
            project = segs[1]
            i = 2
            if len(segs) == 2:
                if method == "PUT":
                    if not emu.users[user]["admin"] and project not in a.projects:
                        raise _Reply(403, "Only administrators may create projects here")
                    created = a.create_project(project, query.get("name", ""), query.get("description", ""))
                    raise _Reply(201 if created else 200, project)
                self._need(emu, user, project)
                if method == "DELETE":
                    a.projects.pop(project)
                    raise _Reply(200, "")
                p = a.project(project)
                if fmt_json:
                    raise _Reply(200, shapes.items(shapes.project_item(p)))
                raise _Reply(200, _project_xml(p), "application/xml")
            self._need(emu, user, project)
        elif segs[:1] == ["subjects"] and len(segs) >= 2:
            subject = a.find_subject(None, segs[1])
            project, i = subject.project, 2
            self._need(emu, user, project)
        elif segs[:1] == ["experiments"] and len(segs) >= 2:
            experiment = a.find_experiment(None, segs[1])
            project, i = experiment.project, 2
            self._need(emu, user, project)
        else:
            raise _Reply(404, "Not found")
        if method in ("PUT", "POST", "DELETE"):  # collaborators read only
            roles.need_edit(emu, user, project)
        while i < len(segs):
            key, val = segs[i], (segs[i + 1] if i + 1 < len(segs) else None)
            last = i + 2 >= len(segs)
            if key == "subjects" and subject is None and experiment is None:
                if val is None:
                    rows = [shapes.subject_row(s, project, label) for s, label in a.subjects_in(project)]
                    raise _Reply(200, shapes.result_set(rows, "Subjects"))
                if last and method == "PUT":
                    s, created = a.create_subject(project, val)
                    if not created and query.get("label") and query["label"] != s.label:
                        s.label = query["label"]
                    raise _Reply(201 if created else 200, s.id)
                subject = a.find_subject(project, val)
                if last and method == "DELETE":
                    if subject.project != project:
                        subject.shares.pop(project, None)
                    else:
                        for e in [e for e in a.experiments.values() if e.subject_id == subject.id]:
                            a.experiments.pop(e.id)
                        a.subjects.pop(subject.id)
                    raise _Reply(200, "")
            elif key == "experiments" and experiment is None:
                if val is None:
                    rows = [shapes.experiment_row(e, project, label) for e, label in a.experiments_in(project, subject)]
                    raise _Reply(200, shapes.result_set(rows, "Experiments"))
                if last and method == "PUT":
                    if subject is None:
                        try:
                            experiment = a.find_experiment(project, val)
                        except XnatError:
                            raise _Reply(400, "A new experiment needs a subject") from None
                        raise _Reply(200, experiment.id)
                    e, created = a.create_experiment(project, subject, val, query.get("xsiType")
                                                     or query.get("xsi:type") or "")
                    if query.get("date"):
                        e.date = query["date"].replace("-", "").replace("/", "")
                    raise _Reply(201 if created else 200, e.id)
                experiment = a.find_experiment(project, val, subject)
                if last and method == "DELETE":
                    if experiment.project != project:
                        experiment.shares.pop(project, None)
                    else:
                        a.experiments.pop(experiment.id)
                    raise _Reply(200, "")
            elif key == "scans" and experiment is not None and scan is None:
                if val is None:
                    rows = [shapes.scan_row(experiment, s) for s in experiment.scans.values()]
                    raise _Reply(200, shapes.result_set(rows, "Scans"))
                if last and method == "PUT" and val not in experiment.scans:
                    experiment.scans[val] = Scan(val, query.get("type", ""), query.get("series_description", ""),
                                                 query.get("xsiType") or "xnat:otherDicomScanData")
                    raise _Reply(201, val)
                if (val == "ALL" or "," in val) and segs[i + 2:i + 3] == ["files"] and method == "GET":
                    # XNAT's scan wildcard: the files of every (or the listed) scan's resources.
                    chosen = [s for sid, s in experiment.scans.items() if val == "ALL" or sid in val.split(",")]
                    rows = [row for s in chosen for r in s.resources.values()
                            for row in r.file_rows(f"/data/experiments/{experiment.id}/scans/{s.id}/resources/{r.label}")]
                    raise _Reply(200, shapes.result_set(rows, "Files"))
                scan = experiment.scans.get(val)
                if scan is None:
                    raise _Reply(404, f"Unable to find scan '{val}'")
            elif key == "projects" and (subject or experiment) and val is not None and last:
                obj = experiment or subject
                if method == "PUT":
                    self._need(emu, user, val)
                    outcome = a.share(obj, val, query.get("label"), query.get("primary", "false").lower() == "true")
                    raise _Reply(200, outcome)
                if method == "DELETE":
                    obj.shares.pop(val, None)
                    raise _Reply(200, "")
                raise _Reply(405, "Method not allowed")
            elif key == "resources":
                owner = scan or experiment or subject
                if owner is None:
                    raise _Reply(404, "Project resources are not emulated")
                self._resources(emu, method, owner, segs[i + 1:], query, body)
            else:
                raise _Reply(404, "Not found")
            i += 2
        obj = scan or experiment or subject
        if method == "PUT" and experiment is not None and scan is None:  # custom fields: sdu_trial, …
            for key, value in query.items():
                m = re.fullmatch(r"[\w:]+/fields/field\[name=([^\]]+)\]/field", key)
                if m:
                    experiment.fields[m.group(1).lower()] = value
        if method == "PUT":
            raise _Reply(200, getattr(obj, "id", ""))
        if method == "DELETE" and scan is not None:
            experiment.scans.pop(scan.id)
            raise _Reply(200, "")
        if scan is not None:
            raise _Reply(200, shapes.items(shapes.scan_item(experiment, scan)))
        if experiment is not None:
            raise _Reply(200, shapes.items(shapes.experiment_item(experiment)))
        raise _Reply(200, shapes.items(shapes.subject_item(subject)))

    def _resources(self, emu: Emulator, method: str, owner, rest: list[str], query: dict, body: bytes) -> None:
        a = emu.archive
        uri = "/data" + urlsplit(self.path).path.split("/resources", 1)[0].removeprefix("/data").removeprefix(
            "/REST").removeprefix("/archive") + "/resources"
        if not rest or rest == [""]:
            if method == "GET":
                raise _Reply(200, shapes.result_set([r.row() for r in owner.resources.values()], "Resources"))
            raise _Reply(405, "Method not allowed")
        label = rest[0]
        res = owner.resources.get(label) or next((r for r in owner.resources.values() if str(r.id) == label), None)
        if len(rest) == 1:
            if method == "PUT":
                if res is not None:
                    raise _Reply(409, f"Resource '{label}' already exists")
                owner.resources[label] = a.new_resource(label, query.get("format", ""), query.get("content", ""))
                raise _Reply(200, label)
            if res is None:
                raise _Reply(404, f"Unable to find resource '{label}'")
            if method == "DELETE":
                owner.resources.pop(res.label)
                raise _Reply(200, "")
            raise _Reply(200, shapes.items(shapes.resource_item(res)))
        if rest[1] != "files":
            raise _Reply(404, "Not found")
        name = "/".join(rest[2:])
        if not name:
            if method == "GET":
                if res is None:
                    raise _Reply(404, f"Unable to find resource '{label}'")
                raise _Reply(200, shapes.result_set(res.file_rows(f"{uri}/{res.label}"), "Files"))
            raise _Reply(405, "Method not allowed")
        if method in ("PUT", "POST"):
            if res is None:  # XNAT creates the resource on a file upload
                res = owner.resources[label] = a.new_resource(label, query.get("format", ""), query.get("content", ""))
            if name in res.files and query.get("overwrite", "false").lower() != "true":
                raise _Reply(409, f"File '{name}' already exists (overwrite=true to replace it)")
            data = self._multipart_file(body) if "multipart/form-data" in self.headers.get("Content-Type", "") else body
            res.files[name] = data
            raise _Reply(200, "")
        if res is None or name not in res.files:
            raise _Reply(404, f"Unable to find file '{name}'")
        if method == "DELETE":
            res.files.pop(name)
            raise _Reply(200, "")
        raise _Reply(200, res.files[name], "application/octet-stream")


def _project_xml(p: dict) -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<xnat:Project ID="{p["ID"]}" secondary_ID="{p["secondary_ID"]}" active="true" '
            'xmlns:xnat="http://nrg.wustl.edu/xnat" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xsi:schemaLocation="http://nrg.wustl.edu/xnat /xapi/schemas/xnat">'
            f'<xnat:name>{p["name"]}</xnat:name></xnat:Project>')
