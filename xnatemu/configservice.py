"""XNAT's configuration service: tool/path documents, site-wide and per project.

Paths and answers after XNAT 1.8's ``ConfigResource`` (NrgXnat/xnat-web,
``org/nrg/xnat/restlet/resources/ConfigResource.java``) and the configuration framework page of
the XNAT wiki: ``/data/config/{tool}/{path}`` and ``/data/projects/{p}/config/{tool}/{path}``;
``PUT …?inbody=true`` stores the request body as a new version; ``GET …?contents=true`` answers
the stored text itself, a plain ``GET`` a ``ResultSet`` row (``tool``, ``path``, ``project``,
``contents``, ``status``, ``version``, ``xnatUser``, ``create_date``, ``reason``,
``unversioned``); ``PUT …?status=disabled|enabled`` switches a document off and on (a disabled
one answers 404 to ``contents=true``). Site documents need an admin to change; project ones a
project owner. Reading a project's documents needs read access to the project.
"""
from __future__ import annotations

import re
import time

from . import roles
from .store import XnatError

_PATH = re.compile(r"/data(?:/projects/(?P<project>[^/]+))?/config/(?P<tool>[^/]+)(?:/(?P<path>.+))?")


class ConfigStore:
    def __init__(self):
        self.docs: dict[tuple[str | None, str, str], list[dict]] = {}  # (project, tool, path) -> versions

    def get(self, project: str | None, tool: str, path: str) -> str | None:
        versions = self.docs.get((project, tool, path))
        if not versions or versions[-1]["status"] != "enabled":
            return None
        return versions[-1]["contents"]

    def put(self, project: str | None, tool: str, path: str, contents: str, user: str = "admin",
            reason: str = "") -> dict:
        versions = self.docs.setdefault((project, tool, path), [])
        row = {"tool": tool, "path": path, "project": project or "", "contents": contents, "status": "enabled",
               "version": len(versions) + 1, "xnatUser": user, "create_date": time.strftime("%Y-%m-%d %H:%M:%S"),
               "reason": reason, "unversioned": "false"}
        versions.append(row)
        return row


def serve(emu, user: str, method: str, path: str, query: dict, body: bytes):
    m = _PATH.fullmatch(path)
    if not m:
        return None
    project, tool, doc = m.group("project"), m.group("tool"), (m.group("path") or "").strip("/")
    store: ConfigStore = emu.config
    if project is not None:
        emu.archive.project(project)
        if roles.role_of(emu, user, project) is None:
            raise XnatError(403, f"User '{user}' has insufficient privileges for project '{project}'")
    if method == "GET":
        if not doc:  # the tool's documents
            rows = [v[-1] for (p, t, _), v in sorted(store.docs.items(), key=str) if p == project and t == tool]
            return 200, {"ResultSet": {"Result": rows, "totalRecords": str(len(rows)), "title": "Configurations"}}
        versions = store.docs.get((project, tool, doc))
        if not versions:
            raise XnatError(404, f"No configuration {tool}/{doc}")
        if query.get("contents", "").lower() == "true":
            text = store.get(project, tool, doc)
            if text is None:
                raise XnatError(404, f"Configuration {tool}/{doc} is disabled")
            return 200, text
        return 200, {"ResultSet": {"Result": [versions[-1]], "totalRecords": "1", "title": "Configurations"}}
    if method in ("PUT", "POST") and doc:
        if project is None and not emu.users[user].get("admin"):
            raise XnatError(403, "Only site administrators may change site configurations")
        if project is not None and roles.role_of(emu, user, project) != roles.OWNER:
            raise XnatError(403, f"Only owners of project '{project}' may change its configurations")
        if query.get("status") in ("enabled", "disabled") and not body:
            versions = store.docs.get((project, tool, doc))
            if not versions:
                raise XnatError(404, f"No configuration {tool}/{doc}")
            versions[-1]["status"] = query["status"]
            return 200, ""
        contents = body.decode("utf-8", "replace")
        created = (project, tool, doc) not in store.docs
        store.put(project, tool, doc, contents, user, query.get("reason", ""))
        return (201 if created else 200), ""
    return None
