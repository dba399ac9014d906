"""Project roles: owner, member, collaborator, as XNAT's project access groups.

XNAT gives each project three groups (``{project}_owner``, ``{project}_member``,
``{project}_collaborator``; ``ProjectMemberResource`` at ``/data/projects/{p}/users/{group}/{login}``
with group ``Owners``, ``Members`` or ``Collaborators``). Owners and members may edit
(create and change data, launch containers that write resources); collaborators only read.
A user given a project without a role (``Emulator.add_user(projects=...)``) is an owner, as the
emulator always treated them. Site admins may do everything.

What a user may ask about themselves (the questions ``sdu.xnat.access`` puts to XNAT, with XNAT 1.8's
answers): ``GET /xapi/access/projects`` (``DataAccessApi.getProjectRoles``: one row per project
group of the user, ``RoleHolder.getUserProjectRoles``: ``ID``, ``secondary_ID``, ``name``, ``URI``,
``description``, ``role`` (the group's display name, ``Owners`` …) and ``group_id``
(``{project}_owner`` …); site admins get rows only for groups they are in) and
``GET /xapi/users/{username}/roles`` (``UsersApi``, restricted to the user and admins:
``["Administrator"]`` for a site admin).
"""
from __future__ import annotations

from .store import XnatError

OWNER, MEMBER, COLLABORATOR = "owner", "member", "collaborator"
#: The group name in XNAT's REST paths -> role.
GROUPS = {"Owners": OWNER, "Members": MEMBER, "Collaborators": COLLABORATOR}
EDITORS = (OWNER, MEMBER)


def set_role(emu, project: str, user: str, role: str) -> None:
    if role not in (OWNER, MEMBER, COLLABORATOR):
        raise XnatError(400, f"Unknown project role '{role}'")
    emu.users[user]["projects"].add(project)
    emu.users[user].setdefault("roles", {})[project] = role


def role_of(emu, user: str, project: str) -> str | None:
    entry = emu.users.get(user, {})
    if entry.get("admin"):
        return OWNER
    if project not in entry.get("projects", ()):
        return None
    return entry.get("roles", {}).get(project, OWNER)


def may_edit(emu, user: str, project: str) -> bool:
    return role_of(emu, user, project) in EDITORS


def need_edit(emu, user: str, project: str) -> None:
    if not may_edit(emu, user, project):
        raise XnatError(403, f"User '{user}' may not edit data in project '{project}'")


def project_roles(emu, user: str) -> list[dict]:
    """``/xapi/access/projects`` as XNAT answers it for ``user``."""
    entry = emu.users.get(user, {})
    rows = []
    for project in sorted(entry.get("projects", ())):
        if project not in emu.archive.projects:
            continue
        role = entry.get("roles", {}).get(project, OWNER)
        group = next(g for g, r in GROUPS.items() if r == role)
        rows.append({"secondary_ID": project, "ID": project, "role": group,
                     "name": emu.archive.projects[project].get("name", project), "URI": f"/data/projects/{project}",
                     "group_id": f"{project}_{role}", "description": ""})
    return rows


def serve(emu, user: str, method: str, path: str, query: dict, body: bytes):
    """``GET /xapi/access/projects``, ``GET /xapi/users/{u}/roles``, ``GET /data/projects/{p}/users``;
    ``PUT|DELETE /data/projects/{p}/users/{group}/{login}`` (owners)."""
    if path == "/xapi/access/projects" and method == "GET":
        return 200, project_roles(emu, user)
    parts = path.split("/")
    if len(parts) == 5 and parts[1:3] == ["xapi", "users"] and parts[4] == "roles" and method == "GET":
        if parts[3] != user and not emu.users.get(user, {}).get("admin"):
            raise XnatError(403, f"User '{user}' may not view user '{parts[3]}'")
        if parts[3] not in emu.users:
            raise XnatError(404, f"Unknown user '{parts[3]}'")
        return 200, ["Administrator"] if emu.users[parts[3]].get("admin") else []
    if len(parts) < 5 or parts[1:3] != ["data", "projects"] or parts[4] != "users":
        return None
    project = parts[3]
    emu.archive.project(project)
    me = role_of(emu, user, project)
    if me is None:
        raise XnatError(403, f"User '{user}' has insufficient privileges for project '{project}'")
    if len(parts) == 5 and method == "GET":
        rows = []
        for login, entry in sorted(emu.users.items()):
            role = role_of(emu, login, project) if not entry.get("admin") else None
            if role:
                group = next(g for g, r in GROUPS.items() if r == role)
                rows.append({"login": login, "displayname": login, "GROUP_ID": f"{project}_{role}",
                             "displayName": group, "role": role})
        return 200, {"ResultSet": {"Result": rows, "totalRecords": str(len(rows)), "title": "Users"}}
    if len(parts) == 7 and method in ("PUT", "DELETE"):
        if me != OWNER:
            raise XnatError(403, "Only project owners may change project users")
        group, login = parts[5], parts[6]
        if login not in emu.users:
            raise XnatError(404, f"Unknown user '{login}'")
        if method == "DELETE":
            emu.users[login]["projects"].discard(project)
            emu.users[login].get("roles", {}).pop(project, None)
            return 200, ""
        if group not in GROUPS:
            raise XnatError(400, f"Unknown group '{group}' (Owners, Members or Collaborators)")
        set_role(emu, project, login, GROUPS[group])
        return 200, ""
    return None
