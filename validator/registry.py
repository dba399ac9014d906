"""Finding trial protocols by ID: bundled ones (``protocols/``) and the site's (site overrides).

The site folder is ``sdu.site.site_dir()/protocols/``: an XNAT admin drops a JSON file there to
add or replace a trial without a new release.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

from sdu.errors import ProtocolError
from sdu.site import site_dir

from .protocol import SCHEMA_FILE, TrialProtocol


@dataclass(frozen=True)
class ProtocolEntry:
    id: str | None
    title: str
    version: str
    source: str  # "bundled" | "site"
    path: str
    illustrative: bool = False
    error: str | None = None
    overridden: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


def bundled_dir() -> Path:
    return Path(str(resources.files("protocols")))


def site_protocols_dir() -> Path:
    return site_dir() / "protocols"


def _files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.json") if p.name != SCHEMA_FILE)


def _declared_id(path: Path) -> str | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return data.get("id") if isinstance(data, dict) and isinstance(data.get("id"), str) else None


def list_protocols() -> list[ProtocolEntry]:
    """Every protocol file, site ones first; a broken file is an entry with ``error``, not a crash."""
    entries: list[ProtocolEntry] = []
    site_ids: set[str] = set()
    for source, folder in (("site", site_protocols_dir()), ("bundled", bundled_dir())):
        for path in _files(folder):
            try:
                p = TrialProtocol.from_file(path)
            except ProtocolError as exc:
                entries.append(ProtocolEntry(_declared_id(path), "", "", source, str(path), error=exc.reason))
                if source == "site" and _declared_id(path):
                    site_ids.add(_declared_id(path))
                continue
            entries.append(ProtocolEntry(p.id, p.title, p.version, source, str(path), p.illustrative,
                                         overridden=source == "bundled" and p.id in site_ids))
            if source == "site":
                site_ids.add(p.id)
    return entries


def find_protocol(trial_id: str) -> TrialProtocol:
    """The protocol whose ``id`` is ``trial_id``: the site's if it has one, else the bundled one.

    A site file that declares the ID but is invalid raises: it never falls back silently.
    """
    for folder in (site_protocols_dir(), bundled_dir()):
        for path in _files(folder):
            if _declared_id(path) == trial_id:
                return TrialProtocol.from_file(path)
    known = sorted({e.id for e in list_protocols() if e.id})
    raise ProtocolError(f"no protocol with id {trial_id!r} (known: {', '.join(known) or 'none'})")
