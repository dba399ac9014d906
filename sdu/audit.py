"""An append-only audit log: ``<site folder>/audit.jsonl``, one JSON object per line.

Each entry has ``time`` (UTC, ISO 8601), ``action`` and the caller's details. Callers must never
pass identifiable values (patient names, IDs, dates, UIDs): ROI names, counts and trial IDs are
fine. Only plain JSON types are accepted, so a pydicom value cannot slip in by accident.
"""
from __future__ import annotations

import json
import os
from datetime import datetime, timezone

from .site import site_dir

AUDIT_FILE = "audit.jsonl"
_PLAIN = (str, int, float, bool, type(None))


def _check_plain(value, where: str) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"audit detail {where}: keys must be str")
            _check_plain(v, f"{where}.{k}")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_plain(v, f"{where}[{i}]")
    elif type(value) not in _PLAIN:  # exact types: pydicom's str/float subclasses are refused
        raise TypeError(f"audit detail {where}: {type(value).__name__} is not a plain JSON value")


def record(action: str, **details) -> None:
    """Append one entry; the file is created mode 0600 in a 0700 site folder."""
    _check_plain(details, "details")
    entry = {"time": datetime.now(timezone.utc).isoformat(timespec="seconds"), "action": action, **details}
    line = json.dumps(entry, sort_keys=False, ensure_ascii=False) + "\n"
    folder = site_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(folder / AUDIT_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as f:
        f.write(line)
