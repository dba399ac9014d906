"""Where the XNAT credentials come from: an alias token file, the environment, or ``~/.netrc``.

Never from the command line and never logged: :class:`Credentials` hides its secret in ``repr``.
An alias token file is the JSON ``GET /data/services/tokens/issue`` answers
(``{"alias": …, "secret": …}``); XNAT accepts the pair as a user name and password.
"""
from __future__ import annotations

import json
import netrc
import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from .errors import UploadAuthError


@dataclass(frozen=True)
class Credentials:
    user: str
    password: str = field(repr=False)
    source: str = ""

    def __repr__(self) -> str:
        return f"Credentials(user=<hidden>, source={self.source!r})"


def resolve(url: str, token_file: str | Path | None = None) -> Credentials:
    """Token file (argument or ``$SDU_XNAT_TOKEN_FILE``), then ``$SDU_XNAT_USER``/``$SDU_XNAT_PASS``,
    then the ``~/.netrc`` (``$NETRC``) entry for the server's host."""
    token_file = token_file or os.environ.get("SDU_XNAT_TOKEN_FILE")
    if token_file:
        try:
            data = json.loads(Path(token_file).read_text(encoding="utf-8"))
            return Credentials(str(data["alias"]), str(data["secret"]), "token file")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise UploadAuthError(f"alias token file unreadable ({type(exc).__name__}): expected JSON with "
                                  "alias and secret", path=token_file) from None
    user, password = os.environ.get("SDU_XNAT_USER"), os.environ.get("SDU_XNAT_PASS")
    if user and password:
        return Credentials(user, password, "environment")
    host = urlsplit(url).hostname or ""
    path = os.environ.get("NETRC") or Path.home() / ".netrc"
    try:
        entry = netrc.netrc(str(path)).authenticators(host)
    except FileNotFoundError:
        entry = None
    except (netrc.NetrcParseError, OSError) as exc:
        raise UploadAuthError(f"netrc unreadable ({type(exc).__name__})", path=path) from None
    if entry and entry[0] and entry[2]:
        return Credentials(entry[0], entry[2], "netrc")
    raise UploadAuthError(f"no credentials for {host}: set SDU_XNAT_USER and SDU_XNAT_PASS, add a ~/.netrc "
                          "entry, or give an alias token file (--token-file or SDU_XNAT_TOKEN_FILE)")
