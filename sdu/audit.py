"""An append-only, hash-chained audit log: ``<site folder>/audit.jsonl``, one JSON object per line.

Each entry has ``seq`` (1, 2, ...), ``time`` (UTC, ISO 8601), ``action``, the caller's details,
``prev`` (the previous entry's ``hash``; 64 zeros for the first) and ``hash``: the SHA-256 of the
entry's JSON without ``hash``. Editing an entry breaks its hash, deleting one leaves a gap in
``seq``, swapping two puts ``seq`` out of order, and rewriting an entry with a fresh hash breaks
the next entry's ``prev``. ``audit.head`` holds the last ``seq`` and ``hash``, so cutting entries off
the end is caught too. :func:`verify` names the line of each problem.

Appends hold an exclusive ``fcntl`` lock on the log, so concurrent writers keep the chain.
Callers must never pass identifiable values (patient names, IDs, dates, UIDs): ROI names, counts,
pseudonyms and trial IDs are fine. Only plain JSON types are accepted, so a pydicom value cannot
slip in by accident.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .site import site_dir

AUDIT_FILE = "audit.jsonl"
HEAD_FILE = "audit.head"
GENESIS = "0" * 64
_PLAIN = (str, int, float, bool, type(None))
_RESERVED = ("seq", "time", "action", "prev", "hash")


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


def entry_hash(entry: dict) -> str:
    """SHA-256 of the entry's JSON without its ``hash`` (keys in the order written)."""
    body = {k: v for k, v in entry.items() if k != "hash"}
    return hashlib.sha256(json.dumps(body, ensure_ascii=False).encode()).hexdigest()


def _last_line(f) -> bytes:
    """The last non-empty line of an open binary file, read backwards in small chunks."""
    end = f.seek(0, os.SEEK_END)
    pos, tail = end, b""
    while pos > 0:
        step = min(4096, pos)
        pos -= step
        f.seek(pos)
        tail = f.read(step) + tail
        stripped = tail.rstrip(b"\n")
        if b"\n" in stripped:
            return stripped.rsplit(b"\n", 1)[1]
    return tail.rstrip(b"\n")


def record(action: str, **details) -> None:
    """Append one chained entry; the file is created mode 0600 in a 0700 site folder."""
    _check_plain(details, "details")
    clash = [k for k in details if k in _RESERVED]
    if clash:
        raise TypeError(f"audit detail names a reserved field: {', '.join(clash)}")
    folder = site_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(folder / AUDIT_FILE, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "r+b") as f:
        fcntl.flock(f, fcntl.LOCK_EX)  # released when the file closes
        seq, prev = 1, GENESIS
        last = _last_line(f)
        if last:
            try:
                previous = json.loads(last)
                seq, prev = int(previous["seq"]) + 1, str(previous["hash"])
            except (ValueError, KeyError, TypeError):  # a log from before the chain: hash the line itself
                seq, prev = _count_lines(f) + 1, hashlib.sha256(last).hexdigest()
        entry = {"seq": seq, "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                 "action": action, **details, "prev": prev}
        entry["hash"] = entry_hash(entry)
        f.seek(0, os.SEEK_END)
        f.write(json.dumps(entry, ensure_ascii=False).encode() + b"\n")
        f.flush()
        os.fsync(f.fileno())
        _write_head(folder, seq, entry["hash"])


def _count_lines(f) -> int:
    f.seek(0)
    return sum(1 for line in f if line.strip())


def _write_head(folder: Path, seq: int, digest: str) -> None:
    tmp = folder / f".{HEAD_FILE}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump({"seq": seq, "hash": digest}, f)
    os.replace(tmp, folder / HEAD_FILE)


@dataclass
class AuditCheck:
    """What :func:`verify` found: ``problems`` are (line number from 1 or None, what is wrong)."""

    path: str
    entries: int = 0
    legacy: int = 0  # unchained entries written before the chain began (at the start only)
    problems: list[tuple[int | None, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict:
        return {"path": self.path, "ok": self.ok, "entries": self.entries, "legacy_entries": self.legacy,
                "problems": [{"line": n, "problem": p} for n, p in self.problems]}


def verify(path: str | Path | None = None) -> AuditCheck:
    """Check the chain of the audit log (the site's by default), naming the line of each problem."""
    path = Path(path) if path else site_dir() / AUDIT_FILE
    check = AuditCheck(str(path))
    if not path.exists():
        return check
    entries: list[tuple[int, dict, bytes]] = []  # (line number, entry, raw line)
    with open(path, "rb") as f:
        for number, raw in enumerate(f, 1):
            raw = raw.rstrip(b"\n")
            if not raw.strip():
                check.problems.append((number, "empty line (an entry was blanked)"))
                continue
            try:
                entry = json.loads(raw)
                if not isinstance(entry, dict):
                    raise ValueError
            except ValueError:
                check.problems.append((number, "not a JSON object (the entry was edited)"))
                continue
            if "seq" not in entry or "hash" not in entry:
                if entries or check.problems:
                    check.problems.append((number, "entry without seq/hash inside the chain (inserted or edited)"))
                else:
                    check.legacy += 1
                continue
            entries.append((number, entry, raw))
    check.entries = len(entries) + check.legacy
    if not entries:
        return check
    by_seq = {e["seq"]: (number, e.get("hash")) for number, e, _ in entries if isinstance(e.get("seq"), int)}
    expected = entries[0][1].get("seq") if check.legacy and isinstance(entries[0][1].get("seq"), int) else 1
    for number, entry, _ in entries:
        seq = entry.get("seq")
        if entry_hash(entry) != entry.get("hash"):
            check.problems.append((number, f"entry {seq} changed after it was written (hash mismatch)"))
        if not isinstance(seq, int):
            check.problems.append((number, "seq is not a number (the entry was edited)"))
            continue
        if seq != expected:
            if seq > expected and all(s not in by_seq for s in range(expected, seq)):
                gap = f"{expected}" if seq == expected + 1 else f"{expected}-{seq - 1}"
                check.problems.append((number, f"entry {gap} missing before this line (deleted)"))
            elif seq > expected:
                check.problems.append((number, f"entry {seq} where entry {expected} belongs (reordered)"))
            else:
                check.problems.append((number, f"entry {seq} after entry {expected - 1} (reordered)"))
        if seq - 1 in by_seq and entry.get("prev") != by_seq[seq - 1][1]:
            check.problems.append((number, f"does not follow entry {seq - 1} (line {by_seq[seq - 1][0]}): "
                                           "prev hash mismatch, an entry was rewritten"))
        elif seq == 1 and entry.get("prev") != GENESIS:
            check.problems.append((number, "first entry does not start the chain"))
        expected = max(expected, seq + 1)
    chained = [t for t in entries if isinstance(t[1].get("seq"), int)]
    if chained:
        _check_head(check, path.parent / HEAD_FILE, max(chained, key=lambda t: t[1]["seq"]), by_seq)
    return check


def _check_head(check: AuditCheck, head_path: Path, last: tuple[int, dict, bytes], by_seq: dict) -> None:
    number, entry, _ = last
    try:
        head = json.loads(head_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        check.problems.append((None, f"{HEAD_FILE} missing: cannot tell whether entries were cut off the end"))
        return
    except (OSError, ValueError):
        check.problems.append((None, f"{HEAD_FILE} unreadable"))
        return
    lagging = (isinstance(head.get("seq"), int) and head["seq"] < entry["seq"]
               and by_seq.get(head["seq"], (None, None))[1] == head.get("hash"))  # a crash between the two writes
    if not lagging and (head.get("seq") != entry.get("seq") or head.get("hash") != entry.get("hash")):
        if isinstance(head.get("seq"), int) and isinstance(entry.get("seq"), int) and head["seq"] > entry["seq"]:
            cut = entry["seq"] + 1
            gap = f"entry {cut}" if cut == head["seq"] else f"entries {cut}-{head['seq']}"
            check.problems.append((number, f"{gap} missing after this line (deleted from the end)"))
        else:
            check.problems.append((number, f"last entry does not match {HEAD_FILE} (edited or replaced)"))
