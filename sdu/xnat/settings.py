"""The site's settings and secrets inside a command container: from the environment or from files.

Never from inputs or the command line (XNAT shows both in its launch dialog and history). A
setting ``NAME`` is ``$NAME`` when set (the Container Service's command ``secrets`` put them
there, from XNAT's system properties), else the content of ``$SDU_SECRETS_DIR/NAME`` (default
``/run/secrets/sdu``: files an administrator mounts, as Docker and Kubernetes secrets do).

| setting | used by |
|---|---|
| ``SDU_SITE_KEY`` | anonymise (keyed pseudonyms and UIDs), approve and upload (approval seal) |
| ``SDU_SITE_ID`` | anonymise: this site's ID in the trial |
| ``SDU_ANON_XNAT_URL`` / ``SDU_ANON_XNAT_USER`` / ``SDU_ANON_XNAT_PASS`` | anonymise: the anonymised XNAT (default: ``XNAT_HOST`` and the launching user's alias token) |
| ``SDU_ANON_PROJECT`` | anonymise: the anonymised project there |
| ``SDU_CENTRAL_URL`` / ``SDU_CENTRAL_PROJECT`` | upload: the central XNAT and the site's project on it |
| ``SDU_XNAT_USER`` / ``SDU_XNAT_PASS`` or ``SDU_XNAT_TOKEN_FILE`` | upload: credentials for the central XNAT (as ``sdu upload``) |
| ``SDU_CA_BUNDLE`` | anonymise, upload: CA certificates of the anonymised or central XNAT |
| ``SDU_REGISTRY_DSN`` | approve: the research registry's PostgreSQL (else SQLite in the container's tmpfs) |

The non-secret ones the XNAT plugin's settings pages keep in XNAT's config service (tool ``sdu``,
path ``settings``, one JSON document site-wide and one per project, the project's keys over the
site's) come from there first, read with the launching user's alias token (:func:`from_xnat`):
``remote_url`` → ``SDU_CENTRAL_URL``, ``site_id`` → ``SDU_SITE_ID``, ``anon_project`` →
``SDU_ANON_PROJECT``; ``trials`` (the trials offered) and ``share`` (the trial project to share
into) have no environment form. Secrets (site key, credentials) never come from there.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from ..errors import ConfigError


def secrets_dir() -> Path:
    return Path(os.environ.get("SDU_SECRETS_DIR") or "/run/secrets/sdu")


#: Setting -> key of the plugin's ``sdu/settings`` document (XNAT's config service).
XNAT_KEYS = {"SDU_CENTRAL_URL": "remote_url", "SDU_SITE_ID": "site_id", "SDU_ANON_PROJECT": "anon_project"}
TOOL, PATH = "sdu", "settings"


def from_xnat(xnat, project: str | None) -> dict:
    """The plugin's settings as XNAT keeps them: the site document, the project's keys over it
    (``{}`` when neither exists). ``xnat`` is a :class:`~sdu.xnat.rest.LaunchingUser`."""
    merged: dict = {}
    paths = [f"/data/config/{TOOL}/{PATH}"] + ([f"/data/projects/{project}/config/{TOOL}/{PATH}"] if project else [])
    for where, path in zip(("site", "project"), paths):
        answer = xnat.get(path, {"contents": "true"}, missing_ok=True)
        if answer is None or not answer.text.strip():
            continue
        try:
            doc = json.loads(answer.text)
        except ValueError:
            raise ConfigError(f"XNAT's {where} {TOOL}/{PATH} configuration is not JSON") from None
        if not isinstance(doc, dict):
            raise ConfigError(f"XNAT's {where} {TOOL}/{PATH} configuration is not a JSON object")
        merged.update({k: v for k, v in doc.items() if v not in (None, "", [])})
    return merged


def setting(name: str, default: str | None = None, *, required: bool = False, xnat: dict | None = None) -> str | None:
    """The plugin's setting in XNAT (``xnat``: the :func:`from_xnat` document) for the names in
    :data:`XNAT_KEYS`, else ``$name``, else the file ``<secrets dir>/name`` (stripped), else ``default``."""
    value = (xnat or {}).get(XNAT_KEYS.get(name, ""))
    value = value.strip() if isinstance(value, str) else None
    value = value or os.environ.get(name)
    if not value:
        path = secrets_dir() / name
        try:
            value = path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            value = None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"setting {name}: file unreadable ({type(exc).__name__})") from None
    if not value:
        value = default
    if required and not value:
        raise ConfigError(f"setting {name} is missing: set ${name} (a command secret) or mount "
                          f"{secrets_dir() / name}" + (f", or {XNAT_KEYS[name]} in XNAT's SDU settings"
                                                       if name in XNAT_KEYS else ""))
    return value


def export(*names: str) -> None:
    """Put file-held settings into the environment, where the library (``sdu.site``,
    ``uploader.credentials``) reads them."""
    for name in names:
        value = setting(name)
        if value and not os.environ.get(name):
            os.environ[name] = value
