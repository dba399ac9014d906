"""Who launched the container: the XNAT user behind the alias token in ``XNAT_USER``/``XNAT_PASS``.

XNAT answers ``GET /data/auth`` with ``User '<name>' is logged in`` (the text xnatpy's
``check_auth`` reads); an alias token authenticates as the user it was issued to.
"""
from __future__ import annotations

import re

from .rest import LaunchingUser, XnatRefused


class IdentityError(XnatRefused):
    """The launching user could not be resolved (no token, refused, unreachable)."""


def whoami(xnat: LaunchingUser) -> str:
    try:
        answer = xnat.get("/data/auth")
    except XnatRefused as exc:
        raise IdentityError(exc.reason) from None
    match = re.search(r"User '([^'<]+)' is logged in", answer.text)
    if not match:
        raise IdentityError("XNAT did not name the logged-in user")
    return match.group(1)


def launching_user(host: str | None = None, alias: str | None = None, secret: str | None = None,
                   verify: bool | str = True, timeout: float = 30) -> str:
    xnat = LaunchingUser(host.rstrip("/"), alias, secret, verify, timeout) if host and alias and secret \
        else LaunchingUser.from_env(verify)
    return whoami(xnat)
