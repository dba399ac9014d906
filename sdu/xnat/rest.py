"""The launching user's connection to XNAT: ``XNAT_HOST`` with the alias token in ``XNAT_USER``/``XNAT_PASS``.

The Container Service issues the token for the user who launched the container and invalidates it
when the container ends; every question a step asks XNAT (who am I, what is my role on this
project, the project's SDU settings, the session's recorded trial) goes through it, so XNAT
answers as it would answer that user. Errors name the path asked and the HTTP status, never a value.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from ..errors import ConfigError, SDUError


class XnatRefused(SDUError):
    """XNAT refused the launching user's token, or did not answer."""

    exit_code = 13


@dataclass(frozen=True)
class LaunchingUser:
    host: str
    alias: str
    secret: str
    verify: bool | str = True
    timeout: float = 30

    @classmethod
    def from_env(cls, verify: bool | str = True) -> "LaunchingUser":
        host, alias, secret = (os.environ.get(n) for n in ("XNAT_HOST", "XNAT_USER", "XNAT_PASS"))
        if not (host and alias and secret):
            raise ConfigError("XNAT_HOST, XNAT_USER and XNAT_PASS are not set: not launched by the Container Service")
        return cls(host.rstrip("/"), alias, secret, verify)

    def get(self, path: str, params: dict | None = None, *, missing_ok: bool = False):
        """``GET path`` as the launching user: the response (``None`` on 404 when ``missing_ok``)."""
        import requests

        try:
            answer = requests.get(self.host + path, params=params, auth=(self.alias, self.secret),
                                  verify=self.verify, timeout=self.timeout)
        except requests.RequestException as exc:
            raise XnatRefused(f"XNAT did not answer {_shape(path)} ({type(exc).__name__})") from None
        if answer.status_code in (401, 403) and not missing_ok:
            raise XnatRefused(f"XNAT refused the launching user's token for {_shape(path)} "
                              f"(HTTP {answer.status_code})")
        if answer.status_code in (401, 403, 404) and missing_ok:
            return None
        if answer.status_code != 200:
            raise XnatRefused(f"XNAT answered HTTP {answer.status_code} to {_shape(path)}")
        return answer

    def get_json(self, path: str, params: dict | None = None, *, missing_ok: bool = False):
        answer = self.get(path, params, missing_ok=missing_ok)
        if answer is None:
            return None
        try:
            return answer.json()
        except ValueError:
            raise XnatRefused(f"XNAT's answer to {_shape(path)} is not JSON") from None


def _shape(path: str) -> str:
    """The path's first two segments (``/xapi/access/…``): never a project, user or session name."""
    return "/".join(path.split("/")[:3]) + "/…"
