"""An append-only, hash-chained audit log: ``<site folder>/audit.jsonl``, one JSON object per line.

Each entry has ``seq`` (1, 2, ...), ``time`` (UTC, ISO 8601), ``action``, the caller's details,
``alg`` (``hmac-sha256``), ``prev`` (the previous entry's ``hash``; 64 zeros for the first) and
``hash``: HMAC-SHA256 under the site key (:func:`sdu.site.load_site_key`, domain-separated as the
intake store keys its hashes) of the entry's JSON without ``hash``. Editing an entry breaks its
hash, deleting one leaves a gap in ``seq``, swapping two puts ``seq`` out of order, and rewriting an
entry with a fresh hash breaks the next entry's ``prev``; without the site key nobody can compute
a hash at all, so rewriting the whole file with a fresh chain is caught too. ``audit.head`` holds
the last ``seq`` and ``hash`` and where the keyed chain began, under the same key, so cutting
entries off the end is caught.

Logs written before the key was used (``hash`` a plain SHA-256, no ``alg``) are checked as before
and kept: the next entry continues their chain under the key, so its keyed hash seals everything
before it (``sdu audit migrate`` appends such an entry at once). A log with no keyed entry fails
:func:`verify` (an old log not yet sealed, or one rewritten without the key), as does an unkeyed
entry after a keyed one: the two kinds never mix. :func:`verify` names the line of each problem.

Appends hold an exclusive ``fcntl`` lock on the log, so concurrent writers keep the chain.
Callers must never pass identifiable values (patient names, IDs, dates, UIDs): ROI names, counts,
pseudonyms and trial IDs are fine. Only plain JSON types are accepted, so a pydicom value cannot
slip in by accident.
"""
from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .errors import ConfigError
from .site import load_site_key, site_dir

AUDIT_FILE = "audit.jsonl"
HEAD_FILE = "audit.head"
GENESIS = "0" * 64
ALG = "hmac-sha256"
_PLAIN = (str, int, float, bool, type(None))
_RESERVED = ("seq", "time", "action", "alg", "prev", "hash")
_UNSEALED = ("no entry is keyed with the site key: a log from before keyed hashes (seal it once with "
             "'sdu audit migrate') or one rewritten without the key")


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


def _body(entry: dict) -> bytes:
    return json.dumps({k: v for k, v in entry.items() if k != "hash"}, ensure_ascii=False).encode()


def entry_hash(entry: dict) -> str:
    """SHA-256 of the entry's JSON without its ``hash`` (keys in the order written): the unkeyed
    hash of entries written before the site key was used."""
    return hashlib.sha256(_body(entry)).hexdigest()


def entry_mac(entry: dict, key: bytes) -> str:
    """HMAC-SHA256 under the site key of the entry's JSON without its ``hash``."""
    return hmac.new(key, b"sdu-audit\x1f" + _body(entry), hashlib.sha256).hexdigest()


def head_mac(head: dict, key: bytes) -> str:
    """HMAC-SHA256 under the site key of what ``audit.head`` states."""
    text = f"sdu-audit-head\x1f{head.get('seq')}\x1f{head.get('hash')}\x1f{head.get('keyed_from')}"
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


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
    key = load_site_key()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(folder / AUDIT_FILE, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "r+b") as f:
        fcntl.flock(f, fcntl.LOCK_EX)  # released when the file closes
        seq, prev, keyed_from = 1, GENESIS, None
        last = _last_line(f)
        if last:
            try:
                previous = json.loads(last)
                seq, prev = int(previous["seq"]) + 1, str(previous["hash"])
                if previous.get("alg") == ALG:
                    keyed_from = _read_head(folder).get("keyed_from")
                    if not isinstance(keyed_from, int):  # no usable head: find where the keyed chain began
                        keyed_from = _first_keyed_seq(f)
            except (ValueError, KeyError, TypeError, AttributeError):  # a log from before the chain: hash the line
                seq, prev = _count_lines(f) + 1, hashlib.sha256(last).hexdigest()
        if not isinstance(keyed_from, int):
            keyed_from = seq  # this entry begins the keyed chain (sealing any unkeyed entries before it)
        entry = {"seq": seq, "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                 "action": action, **details, "alg": ALG, "prev": prev}
        entry["hash"] = entry_mac(entry, key)
        f.seek(0, os.SEEK_END)
        f.write(json.dumps(entry, ensure_ascii=False).encode() + b"\n")
        f.flush()
        os.fsync(f.fileno())
        _write_head(folder, seq, entry["hash"], keyed_from, key)


def _first_keyed_seq(f) -> int | None:
    f.seek(0)
    for line in f:
        try:
            entry = json.loads(line)
            if isinstance(entry, dict) and entry.get("alg") == ALG and isinstance(entry.get("seq"), int):
                return entry["seq"]
        except ValueError:
            continue
    return None


def _count_lines(f) -> int:
    f.seek(0)
    return sum(1 for line in f if line.strip())


def _read_head(folder: Path) -> dict:
    try:
        head = json.loads((folder / HEAD_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return head if isinstance(head, dict) else {}


def _write_head(folder: Path, seq: int, digest: str, keyed_from: int, key: bytes) -> None:
    head = {"seq": seq, "hash": digest, "keyed_from": keyed_from}
    head["mac"] = head_mac(head, key)
    tmp = folder / f".{HEAD_FILE}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(head, f)
    os.replace(tmp, folder / HEAD_FILE)


@dataclass
class AuditCheck:
    """What :func:`verify` found: ``problems`` are (line number from 1 or None, what is wrong)."""

    path: str
    entries: int = 0
    legacy: int = 0  # unchained entries written before the chain began (at the start only)
    unkeyed: int = 0  # chained entries hashed without the key, before the keyed chain began
    keyed: int = 0
    problems: list[tuple[int | None, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict:
        return {"path": self.path, "ok": self.ok, "entries": self.entries, "legacy_entries": self.legacy,
                "unkeyed_entries": self.unkeyed, "keyed_entries": self.keyed,
                "problems": [{"line": n, "problem": p} for n, p in self.problems]}


def verify(path: str | Path | None = None, key: bytes | None = None) -> AuditCheck:
    """Check the chain of the audit log (the site's by default) under the site key (``key``, or
    the site's), naming the line of each problem."""
    path = Path(path) if path else site_dir() / AUDIT_FILE
    check = AuditCheck(str(path))
    if not path.exists():
        return check
    entries: list[tuple[int, dict, bytes]] = []  # (line number, entry, raw line)
    last_legacy = b""
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
                    last_legacy = raw
                continue
            entries.append((number, entry, raw))
    check.entries = len(entries) + check.legacy
    if not entries:
        if check.legacy:
            check.problems.append((None, _UNSEALED))
        return check
    if key is None:
        try:
            key = load_site_key(create=False)
        except ConfigError:
            if any(e.get("alg") == ALG for _, e, _ in entries):
                check.problems.append((None, "no site key here: the keyed entries cannot be checked"))
    by_seq = {e["seq"]: (number, e.get("hash")) for number, e, _ in entries if isinstance(e.get("seq"), int)}
    expected = entries[0][1].get("seq") if check.legacy and isinstance(entries[0][1].get("seq"), int) else 1
    first_keyed: tuple[int, int | None] | None = None  # (line, seq) of the first keyed entry
    for number, entry, _ in entries:
        seq = entry.get("seq")
        if entry.get("alg") == ALG:
            check.keyed += 1
            first_keyed = first_keyed or (number, seq)
            if key is not None and not hmac.compare_digest(entry_mac(entry, key), str(entry.get("hash"))):
                check.problems.append((number, f"entry {seq} changed after it was written (keyed hash mismatch)"))
        elif "alg" in entry:
            check.problems.append((number, f"entry {seq} names an unknown hash algorithm (edited)"))
        elif first_keyed is not None:
            check.problems.append((number, f"entry {seq} is not keyed, after the keyed chain began (line "
                                           f"{first_keyed[0]}): written without the site key"))
        else:
            check.unkeyed += 1
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
        elif (number == check.legacy + 1 and check.legacy
              and entry.get("prev") != hashlib.sha256(last_legacy).hexdigest()):
            check.problems.append((number, f"does not follow line {check.legacy} (from before the chain): "
                                           "that line was edited"))
        expected = max(expected, seq + 1)
    if not check.keyed:
        check.problems.append((None, _UNSEALED))
    chained = [t for t in entries if isinstance(t[1].get("seq"), int)]
    if chained:
        last = max(chained, key=lambda t: t[1]["seq"])
        _check_head(check, path.parent / HEAD_FILE, last, by_seq, key, first_keyed[1] if first_keyed else None)
    return check


def _check_head(check: AuditCheck, head_path: Path, last: tuple[int, dict, bytes], by_seq: dict,
                key: bytes | None, keyed_from: int | None) -> None:
    number, entry, _ = last
    try:
        head = json.loads(head_path.read_text(encoding="utf-8"))
        if not isinstance(head, dict):
            raise ValueError
    except FileNotFoundError:
        check.problems.append((None, f"{HEAD_FILE} missing: cannot tell whether entries were cut off the end"))
        return
    except (OSError, ValueError):
        check.problems.append((None, f"{HEAD_FILE} unreadable"))
        return
    if "mac" in head:
        if key is not None and not hmac.compare_digest(head_mac(head, key), str(head["mac"])):
            check.problems.append((None, f"{HEAD_FILE} changed (keyed hash mismatch): written without the site key"))
            return
        if head.get("keyed_from") != keyed_from:
            where = f"at entry {keyed_from}" if keyed_from is not None else "nowhere"
            check.problems.append((None, f"{HEAD_FILE} says the keyed chain begins at entry {head.get('keyed_from')}, "
                                         f"the log {where}: entries rewritten without the site key"))
    elif keyed_from is not None and head.get("seq") != keyed_from - 1:  # not a crash just before the first keyed head
        check.problems.append((None, f"{HEAD_FILE} is not keyed while the log is (replaced)"))
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
