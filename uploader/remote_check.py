"""After the upload: does the session on XNAT hold exactly the release's files?

Lists the session's scans and resources through the REST API (``…/scans``, ``…/resources``,
``…/resources/{r}/files`` with ``format=json``) and compares file count, sizes and, where the
catalog gives a ``digest`` (XNAT records MD5), checksums with the plan. A missing or extra file,
a duplicate, a size or checksum mismatch fails the check.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .plan import Plan


@dataclass
class RemoteCheck:
    where: str
    ok: bool
    files: int
    expected: int
    checksums: int
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"where": self.where, "ok": self.ok, "files": self.files, "expected": self.expected,
                "checksums_compared": self.checksums, "problems": self.problems}


def _rows(session, uri: str) -> list[dict]:
    return session.get_json(uri)["ResultSet"]["Result"]


def remote_files(session, exp_uri: str) -> tuple[list[dict], dict[str, list[dict]]]:
    """(files of every scan resource, {session resource label: files}); ``scans/ALL/files`` is
    XNAT's wildcard listing of all scans' files in one answer."""
    scans = _rows(session, f"{exp_uri}/scans/ALL/files")
    resources = {res["label"]: _rows(session, f"{exp_uri}/resources/{res['label']}/files")
                 for res in _rows(session, f"{exp_uri}/resources")}
    return scans, resources


def check(session, exp_uri: str, plan: Plan, where: str) -> RemoteCheck:
    """Compare the session at ``exp_uri`` with the plan (whose MD5s :meth:`Plan.ensure_md5` filled)."""
    scans, resources = remote_files(session, exp_uri)
    problems, compared = [], 0

    def compare(label: str, remote: list[dict], items) -> None:
        nonlocal compared
        want_size = Counter(i.size for i in items)
        got_size = Counter(int(r.get("Size") or -1) for r in remote)
        if len(remote) != len(items):
            problems.append(f"{label}: {len(remote)} file(s) on the server, {len(items)} expected")
        elif got_size != want_size:
            problems.append(f"{label}: file sizes differ")
        digests = [r.get("digest") or "" for r in remote]
        if all(digests) and remote:
            compared += len(remote)
            if Counter(digests) != Counter(i.md5 for i in items):
                problems.append(f"{label}: checksums differ")

    compare("DICOM", scans, plan.dicom)
    for label, items in plan.resources.items():
        remote = resources.get(label, [])
        compare(label, remote, items)
        names = Counter(r.get("Name") for r in remote)
        if names != Counter(i.rel.rsplit("/", 1)[-1] for i in items):
            problems.append(f"{label}: file names differ")
    total = len(scans) + sum(len(resources.get(k, [])) for k in plan.resources)
    return RemoteCheck(where, not problems, total, plan.count, compared, problems)
