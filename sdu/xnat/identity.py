"""Who launched the container: the XNAT user behind the alias token in ``XNAT_USER``/``XNAT_PASS``.

XNAT answers ``GET /data/auth`` with ``User '<name>' is logged in`` (the text xnatpy's
``check_auth`` reads); an alias token authenticates as the user it was issued to.
"""
from __future__ import annotations

import os
import re

from ..errors import ConfigError, SDUError


class IdentityError(SDUError):
    """The launching user could not be resolved (no token, refused, unreachable)."""

    exit_code = 13


def launching_user(host: str | None = None, alias: str | None = None, secret: str | None = None,
                   verify: bool | str = True, timeout: float = 30) -> str:
    import requests

    host = host or os.environ.get("XNAT_HOST")
    alias = alias or os.environ.get("XNAT_USER")
    secret = secret or os.environ.get("XNAT_PASS")
    if not (host and alias and secret):
        raise ConfigError("XNAT_HOST, XNAT_USER and XNAT_PASS are not set: not launched by the Container Service")
    try:
        answer = requests.get(host.rstrip("/") + "/data/auth", auth=(alias, secret), verify=verify, timeout=timeout)
    except requests.RequestException as exc:
        raise IdentityError(f"XNAT did not answer ({type(exc).__name__})") from None
    if answer.status_code in (401, 403):
        raise IdentityError("XNAT refused the launching user's alias token")
    match = re.search(r"User '([^'<]+)' is logged in", answer.text)
    if answer.status_code != 200 or not match:
        raise IdentityError(f"XNAT did not name the logged-in user (HTTP {answer.status_code})")
    return match.group(1)
