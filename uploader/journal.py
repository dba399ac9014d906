"""What already reached the server, per release: ``<site>/uploads/<manifest digest>.json``.

Written (atomically, 0600) after each step the server confirmed, so a re-run after a crash or a
dropped connection resumes where it stopped; the remote check, not the journal, decides success.
Holds pseudonymous labels and relative paths only.
"""
from __future__ import annotations

import hashlib
import json
import os

from sdu import site


def manifest_digest(files: dict[str, tuple[int, str]]) -> str:
    text = "\n".join(f"{rel}\t{size}\t{sha}" for rel, (size, sha) in sorted(files.items()))
    return hashlib.sha256(text.encode()).hexdigest()


class Journal:
    def __init__(self, digest: str, target: str):
        self.path = site.site_dir() / "uploads" / f"{digest[:32]}.json"
        self.target = target
        self.state: dict = {"target": target, "steps": {}, "files": {}}
        try:
            saved = json.loads(self.path.read_text(encoding="utf-8"))
            if saved.get("target") == target:
                self.state = saved
        except (OSError, ValueError):
            pass

    def done(self, step: str) -> bool:
        return step in self.state["steps"]

    def mark(self, step: str, value=True) -> None:
        self.state["steps"][step] = value
        self.save()

    def value(self, step: str):
        return self.state["steps"].get(step)

    def file_done(self, key: str) -> bool:
        return key in self.state["files"]

    def mark_file(self, key: str) -> None:
        self.state["files"][key] = True
        self.save()

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(self.state, f, indent=1)
        os.replace(tmp, self.path)

