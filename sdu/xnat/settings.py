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
"""
from __future__ import annotations

import os
from pathlib import Path

from ..errors import ConfigError


def secrets_dir() -> Path:
    return Path(os.environ.get("SDU_SECRETS_DIR") or "/run/secrets/sdu")


def setting(name: str, default: str | None = None, *, required: bool = False) -> str | None:
    """``$name``, else the file ``<secrets dir>/name`` (stripped), else ``default``."""
    value = os.environ.get(name)
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
                          f"{secrets_dir() / name}")
    return value


def export(*names: str) -> None:
    """Put file-held settings into the environment, where the library (``sdu.site``,
    ``uploader.credentials``) reads them."""
    for name in names:
        value = setting(name)
        if value and not os.environ.get(name):
            os.environ[name] = value
