"""May the launching user approve or upload this session? Asked of XNAT, as that user.

XNAT's Container Service lets anyone who can read a project launch a command on its sessions, so
the approve and upload steps check for themselves: the launching user's role on the session's
project must be owner or member (or the user a site administrator). XNAT 1.8 answers
``GET /xapi/access/projects`` (``DataAccessApi.getProjectRoles``, any authenticated user, about
themselves) with one row per project group the user belongs to: ``ID`` (project), ``role`` (the
group's display name: ``Owners``, ``Members``, ``Collaborators``), ``group_id``
(``{project}_owner`` …), ``secondary_ID``, ``name``, ``URI``, ``description``
(``RoleHolder.getUserProjectRoles``). Site administrators need no group: ``GET
/xapi/users/{username}/roles`` (``UsersApi``, the user themselves) lists ``Administrator``.
"""
from __future__ import annotations

from ..errors import ApprovalError
from .rest import LaunchingUser

OWNER, MEMBER, COLLABORATOR, ADMIN = "owner", "member", "collaborator", "admin"
EDITORS = (OWNER, MEMBER, ADMIN)
_DISPLAY = {"owners": OWNER, "members": MEMBER, "collaborators": COLLABORATOR}


def project_role(xnat: LaunchingUser, project: str, username: str) -> str | None:
    """owner, member or collaborator (the user's group on ``project``), admin, or None."""
    rows = xnat.get_json("/xapi/access/projects") or []
    found = set()
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict) or row.get("ID") != project:
            continue
        group = str(row.get("group_id") or "")
        suffix = group[len(project) + 1:] if group.startswith(project + "_") else ""
        role = suffix if suffix in (OWNER, MEMBER, COLLABORATOR) else _DISPLAY.get(str(row.get("role", "")).lower())
        if role:
            found.add(role)
    for role in (OWNER, MEMBER, COLLABORATOR):
        if role in found and role != COLLABORATOR:
            return role
    roles = xnat.get_json(f"/xapi/users/{username}/roles", missing_ok=True) or []
    if isinstance(roles, list) and "Administrator" in roles:
        return ADMIN
    return COLLABORATOR if COLLABORATOR in found else None


def require_editor(xnat: LaunchingUser, project: str, username: str, step: str) -> str:
    """The user's role when it may ``step`` (owner, member, admin); else :class:`ApprovalError`."""
    role = project_role(xnat, project, username)
    if role not in EDITORS:
        raise ApprovalError(f"{step} refused: the launching user is "
                            f"{'a ' + role if role else 'not a member'} of the session's project; "
                            "only owners and members may " + step)
    return role
