"""The site's configuration folder and its secret key.

The site folder holds what never leaves the hospital: ``site.key`` (the HMAC key behind
pseudonyms, UIDs and date shifts), ``linkage.sqlite`` (pseudonym <-> original), and the
site's own ``scripts/`` (DicomEdit) and ``protocols/``. It is ``$SDU_SITE_DIR`` or
``~/.config/sdu``. The key comes from a file (``--key-file`` or ``$SDU_SITE_KEY_FILE``) or from
``$SDU_SITE_KEY`` (hex): never from a command-line value.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from .errors import ConfigError

KEY_BYTES = 32


def site_dir() -> Path:
    return Path(os.environ.get("SDU_SITE_DIR") or Path.home() / ".config" / "sdu")


def default_key_file() -> Path:
    return Path(os.environ.get("SDU_SITE_KEY_FILE") or site_dir() / "site.key")


def default_linkage_db() -> Path:
    return Path(os.environ.get("SDU_LINKAGE_DB") or site_dir() / "linkage.sqlite")


def _private_mkdir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)


def load_site_key(key_file: str | Path | None = None, *, create: bool = True) -> bytes:
    """Return the site key; create it (mode 0600) on first use when ``create`` is set.

    ``$SDU_SITE_KEY`` (64 hex digits) wins when no file is named explicitly.
    """
    if key_file is None and os.environ.get("SDU_SITE_KEY"):
        try:
            key = bytes.fromhex(os.environ["SDU_SITE_KEY"].strip())
        except ValueError:
            raise ConfigError("$SDU_SITE_KEY is not hexadecimal") from None
        if len(key) < 16:
            raise ConfigError("$SDU_SITE_KEY is shorter than 128 bits")
        return key
    path = Path(key_file) if key_file else default_key_file()
    if path.exists():
        if path.stat().st_mode & 0o077:
            raise ConfigError("site key file is readable by group/others; chmod 600 it", path=path)
        key = bytes.fromhex(path.read_text().strip())
        if len(key) < 16:
            raise ConfigError("site key is shorter than 128 bits", path=path)
        return key
    if not create:
        raise ConfigError("no site key (create one with any 'sdu anonymise' run)", path=path)
    _private_mkdir(path.parent)
    key = secrets.token_bytes(KEY_BYTES)
    # Written whole under a temporary name, then linked into place: two processes creating the key
    # at once (the audit log keys every step) both end up with the one that was linked first.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(key.hex() + "\n")
        os.link(tmp, path)
    except FileExistsError:
        return load_site_key(path, create=False)
    finally:
        tmp.unlink(missing_ok=True)
    return key
